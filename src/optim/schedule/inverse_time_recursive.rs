//! The lecture's inverse-time decay (§3) as written, recursively: [`InverseTimeRecursive`].

use burn::lr_scheduler::{LrScheduler, LrSchedulerRecord};
use burn::optim::LearningRate;

use super::{ALPHA_KEY, Schedule, ScheduleSettings, t_from_record, t_record};
use crate::checks::{Check, positive};

/// The lecture's inverse-time decay (§3) as the notes write it, recursively,
/// `[schedule] name = "inverse_time_recursive"`:
///
/// ```text
/// α^(t+1) = α^(t) / (1 + ρ t)        for t = 0, 1, 2, …
/// ```
///
/// i.e. `α^(t) = α^(0) / Π_{s<t} (1 + ρ s)`: α^(1) = α^(0) (the s = 0 factor is 1), then a
/// product whose factors keep growing, so it decays faster than any exponential, far faster
/// than the common closed form α^(0) / (1 + ρ t) ([`InverseTime`](super::InverseTime)). Kept
/// as written and named apart, as `shared/lecture.md` asks. t counts the schedule's unit
/// (`unit`: optimizer steps, or epochs through [`PerEpoch`](super::PerEpoch)) from the end
/// of the warmup if there is one ([`Warmup`](super::Warmup)).
///
/// The rate is computed by the recursion itself, one division per unit, and α^(t) is part
/// of the record, so a resumed run continues from the same floating-point value rather than
/// one recomputed along another path.
///
/// | symbol | `[schedule]` key | default | PyTorch |
/// |---|---|---|---|
/// | α^(0) | `[optimizer] learning_rate` | required | the optimizer's `lr` |
/// | ρ | `rho` | required, > 0 | `MultiplicativeLR(lr_lambda=lambda t: 1 / (1 + ρ * (t - 1)))` |
///
/// PyTorch has no built-in for it: `torch.optim.lr_scheduler.MultiplicativeLR`, whose
/// `step()` number t multiplies the rate by `lr_lambda(t)`, as in the table. Reference: the
/// lecture, §3.
#[derive(Debug, Clone)]
pub struct InverseTimeRecursive {
    /// α^(t), the rate the next step yields.
    alpha: LearningRate,
    /// ρ > 0.
    rho: f64,
    /// The t the next step yields.
    t: u64,
}

impl InverseTimeRecursive {
    /// From α^(0) = `initial`, with ρ = `rho`.
    pub fn new(initial: LearningRate, rho: f64) -> Self {
        Self {
            alpha: initial,
            rho,
            t: 0,
        }
    }
}

impl LrScheduler for InverseTimeRecursive {
    fn step(&mut self) -> LearningRate {
        let alpha = self.alpha;
        self.alpha = alpha / (1.0 + self.rho * self.t as f64);
        self.t += 1;
        alpha
    }

    fn to_record(&self) -> LrSchedulerRecord {
        t_record(self.t).with_scalar(ALPHA_KEY, self.alpha)
    }

    fn load_record(&mut self, record: LrSchedulerRecord) {
        self.t = t_from_record(&record, self.t);
        self.alpha = record.scalar::<f64>(ALPHA_KEY).unwrap_or(self.alpha);
    }
}

schedule_config! {
    /// The `[schedule]` settings of `name = "inverse_time_recursive"`: see [`InverseTimeRecursive`] for the formula and each key's
    /// symbol.
    InverseTimeRecursiveScheduleConfig {
        /// ρ > 0.
        pub rho: f64,
    }
}

impl ScheduleSettings for InverseTimeRecursiveScheduleConfig {
    fn validate(&self, _initial: f64) -> Check {
        positive("schedule.rho", self.rho)
    }

    fn family(&self, initial: f64) -> Schedule {
        Schedule::InverseTimeRecursive(InverseTimeRecursive::new(initial, self.rho))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_close, assert_record_round_trip};
    use super::*;

    #[test]
    fn equals_alpha_zero_over_the_closed_product() {
        for rho in [0.01, 0.1, 0.5, 2.0] {
            let mut schedule = InverseTimeRecursive::new(0.3, rho);
            let mut product = 1.0f64;
            for t in 0..60u64 {
                let expected = 0.3 / product;
                assert_close(schedule.step(), expected, &format!("ρ = {rho}, t = {t}"));
                product *= 1.0 + rho * t as f64;
            }
        }
    }

    #[test]
    fn first_values_by_hand() {
        // ρ = 0.5: α^(0) = 1, α^(1) = 1/1, α^(2) = 1/1.5, α^(3) = 1/(1.5·2) = 1/3,
        // α^(4) = 1/(3·2.5) = 2/15.
        let mut schedule = InverseTimeRecursive::new(1.0, 0.5);
        assert_eq!(schedule.step(), 1.0);
        assert_eq!(schedule.step(), 1.0);
        assert_close(schedule.step(), 1.0 / 1.5, "t = 2");
        assert_close(schedule.step(), 1.0 / 3.0, "t = 3");
        assert_close(schedule.step(), 2.0 / 15.0, "t = 4");
    }

    #[test]
    fn record_round_trip_keeps_alpha() {
        let make = || InverseTimeRecursive::new(0.1, 0.1);
        assert_record_round_trip(make(), make(), 7, 20);
        let mut schedule = make();
        for _ in 0..7 {
            schedule.step();
        }
        let record = schedule.to_record();
        assert_eq!(record.scalar::<u64>("t"), Some(7));
        assert_eq!(
            record.scalar::<f64>("alpha").map(f64::to_bits),
            Some(schedule.clone().step().to_bits())
        );
    }
}
