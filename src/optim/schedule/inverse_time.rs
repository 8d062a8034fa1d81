//! Inverse-time decay in its common closed form, [`InverseTime`].

use burn::optim::LearningRate;

use super::{Schedule, ScheduleSettings};
use crate::checks::{Check, positive};

/// Inverse-time decay in its common closed form, `[schedule] name = "inverse_time"`:
///
/// ```text
/// α^(t) = α^(0) / (1 + ρ t)
/// ```
///
/// for t = 0, 1, 2, … in the schedule's unit (`unit`: optimizer steps, or epochs through
/// [`PerEpoch`](super::PerEpoch)), counted from the end of the warmup if there is one
/// ([`Warmup`](super::Warmup)). Named apart from the lecture's recursive rule
/// ([`InverseTimeRecursive`](super::InverseTimeRecursive)), which decays much faster.
///
/// | symbol | `[schedule]` key | default | PyTorch |
/// |---|---|---|---|
/// | α^(0) | `[optimizer] learning_rate` | required | the optimizer's `lr` |
/// | ρ | `rho` | required, > 0 | `LambdaLR(lr_lambda=lambda t: 1 / (1 + ρ * t))` |
///
/// PyTorch has no built-in for it: `torch.optim.lr_scheduler.LambdaLR` as in the table.
/// Keras' `InverseTimeDecay(decay_steps=1, decay_rate=ρ)` is the same rule, and so is
/// scikit-learn's `learning_rate="invscaling"` with `power_t=1` for ρ = 1 (its t starts at
/// 1). Reference: Bottou, "Stochastic gradient descent tricks", Neural Networks: Tricks of the
/// Trade, 2012 (α^(0)/(1 + α^(0) μ t) for an L2 weight μ).
#[derive(Debug, Clone)]
pub struct InverseTime {
    /// α^(0).
    initial: LearningRate,
    /// ρ > 0.
    rho: f64,
    /// The t the next step yields.
    t: u64,
}

impl InverseTime {
    /// From α^(0) = `initial`, with ρ = `rho`.
    pub fn new(initial: LearningRate, rho: f64) -> Self {
        Self { initial, rho, t: 0 }
    }

    /// α^(t).
    pub fn at(&self, t: u64) -> LearningRate {
        self.initial / (1.0 + self.rho * t as f64)
    }
}

closed_form_lr_scheduler!(InverseTime);

schedule_config! {
    /// The `[schedule]` settings of `name = "inverse_time"`: see [`InverseTime`] for the formula and each key's
    /// symbol.
    InverseTimeScheduleConfig {
        /// ρ > 0.
        pub rho: f64,
    }
}

impl ScheduleSettings for InverseTimeScheduleConfig {
    fn validate(&self, _initial: f64) -> Check {
        positive("schedule.rho", self.rho)
    }

    fn family(&self, initial: f64) -> Schedule {
        Schedule::InverseTime(InverseTime::new(initial, self.rho))
    }
}

#[cfg(test)]
mod tests {
    use burn::lr_scheduler::LrScheduler;

    use super::super::test_support::{assert_close, assert_record_round_trip};
    use super::*;

    #[test]
    fn values_by_hand() {
        // α^(0) = 0.1, ρ = 0.5: α^(t) = 0.1 / (1 + t/2).
        let mut schedule = InverseTime::new(0.1, 0.5);
        assert_eq!(schedule.step(), 0.1, "t = 0");
        assert_close(schedule.step(), 0.1 / 1.5, "t = 1");
        assert_close(schedule.step(), 0.05, "t = 2");
        assert_close(schedule.at(10), 0.1 / 6.0, "t = 10");
        assert_close(schedule.at(198), 0.001, "t = 198");
    }

    #[test]
    fn record_round_trip() {
        let make = || InverseTime::new(0.1, 0.5);
        assert_record_round_trip(make(), make(), 5, 10);
    }
}
