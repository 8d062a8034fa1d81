//! The lecture's linear decay (§3), [`Linear`].

use burn::optim::LearningRate;

use super::{Schedule, ScheduleSettings};
use crate::checks::{Check, non_negative, positive};

/// The lecture's linear decay (§3), `[schedule] name = "linear"`: from α^(0) to α^(ρ) over
/// ρ units, then constant:
///
/// ```text
/// α^(t) = (1 − t/ρ) α^(0) + (t/ρ) α^(ρ)    for t ≤ ρ
/// α^(t) = α^(ρ)                             for t > ρ
/// ```
///
/// for t = 0, 1, 2, … in the schedule's unit (`unit`: optimizer steps, or epochs through
/// [`PerEpoch`](super::PerEpoch)), counted from the end of the warmup if there is one
/// ([`Warmup`](super::Warmup)). The notes write the left side as α^(t+1); the form above,
/// where the first step uses α^(0) and the rate stays at α^(ρ) after t = ρ, is the standard
/// reading (`shared/lecture.md` §3). ρ is a duration here, a number of units; it need not be
/// a whole number, and α^(ρ) may be above α^(0) (a rising rate follows the same formula).
///
/// | symbol | `[schedule]` key | default | PyTorch |
/// |---|---|---|---|
/// | α^(0) | `[optimizer] learning_rate` | required | the optimizer's `lr` |
/// | ρ | `rho` | required, > 0 | `LinearLR(total_iters=ρ)` (a whole number there) |
/// | α^(ρ) | `final_learning_rate` | required, ≥ 0 | `LinearLR(end_factor=α^(ρ)/α^(0))` |
///
/// PyTorch: `torch.optim.lr_scheduler.LinearLR(start_factor=1, end_factor=α^(ρ)/α^(0),
/// total_iters=ρ)`. Reference: the lecture, §3.
#[derive(Debug, Clone)]
pub struct Linear {
    /// α^(0).
    initial: LearningRate,
    /// α^(ρ), the rate reached at t = ρ and kept afterwards.
    last: LearningRate,
    /// ρ, the number of units the decay lasts.
    rho: f64,
    /// The t the next step yields.
    t: u64,
}

impl Linear {
    /// From α^(0) = `initial` to α^(ρ) = `last` over ρ = `rho` units.
    pub fn new(initial: LearningRate, last: LearningRate, rho: f64) -> Self {
        Self {
            initial,
            last,
            rho,
            t: 0,
        }
    }

    /// α^(t).
    pub fn at(&self, t: u64) -> LearningRate {
        let t = t as f64;
        if t >= self.rho {
            return self.last;
        }
        let fraction = t / self.rho;
        (1.0 - fraction) * self.initial + fraction * self.last
    }
}

closed_form_lr_scheduler!(Linear);

schedule_config! {
    /// The `[schedule]` settings of `name = "linear"`: see [`Linear`] for the formula and each key's
    /// symbol.
    LinearScheduleConfig {
        /// ρ, the number of units the decay lasts (> 0, need not be whole).
        pub rho: f64,
        /// α^(ρ), the rate reached at t = ρ and kept afterwards (≥ 0).
        pub final_learning_rate: f64,
    }
}

impl ScheduleSettings for LinearScheduleConfig {
    fn validate(&self, _initial: f64) -> Check {
        positive("schedule.rho", self.rho)?;
        non_negative("schedule.final_learning_rate", self.final_learning_rate)
    }

    fn family(&self, initial: f64) -> Schedule {
        Schedule::Linear(Linear::new(initial, self.final_learning_rate, self.rho))
    }
}

#[cfg(test)]
mod tests {
    use burn::lr_scheduler::LrScheduler;

    use super::super::test_support::{assert_close, assert_record_round_trip};
    use super::*;

    #[test]
    fn decays_linearly_to_alpha_rho_at_t_rho_then_stays() {
        // α^(0) = 0.1, α^(ρ) = 0.01, ρ = 10: by hand, α^(t) = 0.1 − 0.009 t for t ≤ 10.
        let mut schedule = Linear::new(0.1, 0.01, 10.0);
        let rates: Vec<f64> = (0..14).map(|_| schedule.step()).collect();
        assert_eq!(rates[0], 0.1, "t = 0 is α^(0) exactly");
        assert_close(rates[1], 0.091, "t = 1");
        assert_close(rates[5], 0.055, "t = 5");
        assert_close(rates[9], 0.019, "t = 9");
        assert_eq!(rates[10], 0.01, "t = ρ is α^(ρ) exactly");
        assert_eq!(rates[11], 0.01, "t > ρ");
        assert_eq!(rates[13], 0.01, "t > ρ");
    }

    #[test]
    fn a_fractional_rho_and_a_rising_rate_follow_the_same_formula() {
        // ρ = 2.5, from 0.2 to 0.7: α^(1) = 0.6·0.2 + 0.4·0.7 = 0.4, α^(2) = 0.2·0.2 + 0.8·0.7
        // = 0.6, then α^(ρ) = 0.7 from t = 3 (> ρ).
        let schedule = Linear::new(0.2, 0.7, 2.5);
        assert_close(schedule.at(1), 0.4, "t = 1");
        assert_close(schedule.at(2), 0.6, "t = 2");
        assert_eq!(schedule.at(3), 0.7);
    }

    #[test]
    fn record_round_trip() {
        let make = || Linear::new(0.1, 0.01, 10.0);
        assert_record_round_trip(make(), make(), 4, 10);
    }
}
