//! The lecture's exponential decay (§3), [`Exponential`].

use burn::optim::LearningRate;

use super::{Schedule, ScheduleSettings};
use crate::checks::{Check, positive};

/// The lecture's exponential decay (§3), `[schedule] name = "exponential"`:
///
/// ```text
/// α^(t) = α^(0) e^(−ρ t)
/// ```
///
/// for t = 0, 1, 2, … in the schedule's unit (`unit`: optimizer steps, or epochs through
/// [`PerEpoch`](super::PerEpoch)), counted from the end of the warmup if there is one
/// ([`Warmup`](super::Warmup)). ρ > 0 is the decay rate per unit: the rate halves every
/// ln 2 / ρ units.
///
/// | symbol | `[schedule]` key | default | PyTorch |
/// |---|---|---|---|
/// | α^(0) | `[optimizer] learning_rate` | required | the optimizer's `lr` |
/// | ρ | `rho` | required, > 0 | `ExponentialLR(gamma=e^(−ρ))` |
///
/// PyTorch: `torch.optim.lr_scheduler.ExponentialLR(gamma=e^(−ρ))`, which multiplies the
/// rate by γ at each `step()` (the same sequence, computed here in closed form). Reference:
/// the lecture, §3.
#[derive(Debug, Clone)]
pub struct Exponential {
    /// α^(0).
    initial: LearningRate,
    /// ρ > 0.
    rho: f64,
    /// The t the next step yields.
    t: u64,
}

impl Exponential {
    /// From α^(0) = `initial`, decaying at rate ρ = `rho` per unit.
    pub fn new(initial: LearningRate, rho: f64) -> Self {
        Self { initial, rho, t: 0 }
    }

    /// α^(t).
    pub fn at(&self, t: u64) -> LearningRate {
        self.initial * (-self.rho * t as f64).exp()
    }
}

closed_form_lr_scheduler!(Exponential);

schedule_config! {
    /// The `[schedule]` settings of `name = "exponential"`: see [`Exponential`] for the formula and each key's
    /// symbol.
    ExponentialScheduleConfig {
        /// ρ > 0, the decay rate per unit.
        pub rho: f64,
    }
}

impl ScheduleSettings for ExponentialScheduleConfig {
    fn validate(&self, _initial: f64) -> Check {
        positive("schedule.rho", self.rho)
    }

    fn family(&self, initial: f64) -> Schedule {
        Schedule::Exponential(Exponential::new(initial, self.rho))
    }
}

#[cfg(test)]
mod tests {
    use burn::lr_scheduler::LrScheduler;

    use super::super::test_support::{assert_close, assert_record_round_trip};
    use super::*;

    #[test]
    fn values_by_hand() {
        // ρ = ln 2: the rate halves every unit.
        let mut schedule = Exponential::new(0.8, std::f64::consts::LN_2);
        assert_eq!(schedule.step(), 0.8, "t = 0");
        assert_close(schedule.step(), 0.4, "t = 1");
        assert_close(schedule.step(), 0.2, "t = 2");
        assert_close(schedule.at(10), 0.8 / 1024.0, "t = 10");
        // ρ = 0.01, t = 100: α^(0) / e.
        assert_close(
            Exponential::new(0.1, 0.01).at(100),
            0.1 / std::f64::consts::E,
            "ρ t = 1",
        );
    }

    #[test]
    fn record_round_trip() {
        let make = || Exponential::new(0.1, 0.05);
        assert_record_round_trip(make(), make(), 6, 10);
    }
}
