//! Polynomial decay to a floor, [`Polynomial`].

use burn::optim::LearningRate;

use super::{Schedule, ScheduleSettings};
use crate::checks::{Check, at_least_one, non_negative, positive};

/// Polynomial decay, `[schedule] name = "polynomial"`:
///
/// ```text
/// α^(t) = (α^(0) − α_end) (1 − min(t, T)/T)^p + α_end
/// ```
///
/// for t = 0, 1, 2, … in the schedule's unit (`unit`: optimizer steps, or epochs through
/// [`PerEpoch`](super::PerEpoch)), counted from the end of the warmup if there is one
/// ([`Warmup`](super::Warmup)): from α^(0) at t = 0 to α_end at t = T, and α_end afterwards.
/// p = 1 is a linear decay to α_end over T units (the lecture's linear rule with ρ = T and
/// α^(ρ) = α_end, up to rounding); p > 1 drops fast at first and flattens near the end,
/// p < 1 the other way round.
///
/// | symbol | `[schedule]` key | default | PyTorch |
/// |---|---|---|---|
/// | α^(0) | `[optimizer] learning_rate` | required | the optimizer's `lr` |
/// | T | `period` | required, ≥ 1 | `PolynomialLR(total_iters=…)` |
/// | p | `power` | 1 | `PolynomialLR(power=…)` |
/// | α_end | `final_learning_rate` | 0 | — (PyTorch decays to 0) |
///
/// PyTorch: `torch.optim.lr_scheduler.PolynomialLR(total_iters=T, power=p)`, which is this
/// rule with α_end = 0, applied multiplicatively at each `step()`; Keras' `PolynomialDecay`
/// has the floor α_end.
#[derive(Debug, Clone)]
pub struct Polynomial {
    /// α^(0).
    initial: LearningRate,
    /// α_end, reached at t = T.
    last: LearningRate,
    /// T ≥ 1, the decay's length in units.
    period: u64,
    /// p > 0.
    power: f64,
    /// The t the next step yields.
    t: u64,
}

impl Polynomial {
    /// From α^(0) = `initial` to α_end = `last` over T = `period` units, with power p.
    pub fn new(initial: LearningRate, last: LearningRate, period: u64, power: f64) -> Self {
        Self {
            initial,
            last,
            period,
            power,
            t: 0,
        }
    }

    /// α^(t).
    pub fn at(&self, t: u64) -> LearningRate {
        let remaining = 1.0 - t.min(self.period) as f64 / self.period as f64;
        (self.initial - self.last) * remaining.powf(self.power) + self.last
    }
}

closed_form_lr_scheduler!(Polynomial);

schedule_config! {
    /// The `[schedule]` settings of `name = "polynomial"`: see [`Polynomial`] for the formula
    /// and each key's symbol.
    PolynomialScheduleConfig {
        /// T ≥ 1, the decay's length in units.
        pub period: u64,
        /// p > 0, the polynomial's power.
        #[serde(default = "default_power")]
        pub power: f64,
        /// α_end, the rate reached at t = T and kept afterwards, in [0, α^(0)].
        #[serde(default)]
        pub final_learning_rate: f64,
    }
}

fn default_power() -> f64 {
    1.0
}

impl ScheduleSettings for PolynomialScheduleConfig {
    fn validate(&self, initial: f64) -> Check {
        at_least_one("schedule.period", self.period)?;
        positive("schedule.power", self.power)?;
        non_negative("schedule.final_learning_rate", self.final_learning_rate)?;
        if self.final_learning_rate > initial {
            return Err((
                "schedule.final_learning_rate",
                format!(
                    "must be in [0, optimizer.learning_rate = {initial}], got {}",
                    self.final_learning_rate
                ),
            ));
        }
        Ok(())
    }

    fn family(&self, initial: f64) -> Schedule {
        Schedule::Polynomial(Polynomial::new(
            initial,
            self.final_learning_rate,
            self.period,
            self.power,
        ))
    }
}

#[cfg(test)]
mod tests {
    use burn::lr_scheduler::LrScheduler;

    use super::super::test_support::{assert_close, assert_record_round_trip};
    use super::*;

    #[test]
    fn values_by_hand() {
        // p = 2 from 0.1 to 0.02 over T = 4: (0.08)(1 − t/4)² + 0.02.
        let mut schedule = Polynomial::new(0.1, 0.02, 4, 2.0);
        assert_eq!(schedule.step(), 0.1, "t = 0");
        assert_close(schedule.step(), 0.08 * 0.5625 + 0.02, "t = 1");
        assert_close(schedule.step(), 0.08 * 0.25 + 0.02, "t = 2");
        assert_close(schedule.step(), 0.08 * 0.0625 + 0.02, "t = 3");
        assert_eq!(schedule.step(), 0.02, "t = T");
        assert_eq!(schedule.at(100), 0.02, "after T");
        // p = 1 to 0 is a straight line.
        assert_close(Polynomial::new(0.1, 0.0, 10, 1.0).at(3), 0.07, "linear");
    }

    #[test]
    fn record_round_trip() {
        let make = || Polynomial::new(0.1, 0.01, 8, 0.5);
        assert_record_round_trip(make(), make(), 5, 10);
    }
}
