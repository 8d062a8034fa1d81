//! Step decay, [`StepDecay`].

use burn::optim::LearningRate;

use super::{Schedule, ScheduleSettings};
use crate::checks::{Check, at_least_one};

/// Step decay, `[schedule] name = "step"`: the rate is multiplied by γ every k units, as
/// PyTorch's `StepLR`:
///
/// ```text
/// α^(t) = α^(0) γ^⌊t/k⌋,    0 < γ ≤ 1, k ≥ 1
/// ```
///
/// for t = 0, 1, 2, … in the schedule's unit (`unit`: optimizer steps, or epochs through
/// [`PerEpoch`](super::PerEpoch)), counted from the end of the warmup if there is one
/// ([`Warmup`](super::Warmup)).
///
/// | symbol | `[schedule]` key | default | PyTorch |
/// |---|---|---|---|
/// | α^(0) | `[optimizer] learning_rate` | required | the optimizer's `lr` |
/// | γ | `gamma` | required, in (0, 1] | `StepLR(gamma=…)` |
/// | k | `every` | required, ≥ 1 | `StepLR(step_size=…)` |
///
/// PyTorch: `torch.optim.lr_scheduler.StepLR(step_size=k, gamma=γ)`. Reference: He, Zhang,
/// Ren & Sun, "Deep residual learning for image recognition", CVPR 2016 (α divided by 10 at
/// fixed points of training).
#[derive(Debug, Clone)]
pub struct StepDecay {
    /// α^(0).
    initial: LearningRate,
    /// γ, the factor applied at each drop.
    gamma: f64,
    /// k, the units between drops.
    every: u64,
    /// The t the next step yields.
    t: u64,
}

impl StepDecay {
    /// From α^(0) = `initial`, multiplied by γ = `gamma` every k = `every` units.
    pub fn new(initial: LearningRate, gamma: f64, every: u64) -> Self {
        Self {
            initial,
            gamma,
            every: every.max(1),
            t: 0,
        }
    }

    /// α^(t).
    pub fn at(&self, t: u64) -> LearningRate {
        let drops = (t / self.every) as f64;
        self.initial * self.gamma.powf(drops)
    }
}

closed_form_lr_scheduler!(StepDecay);

schedule_config! {
    /// The `[schedule]` settings of `name = "step"`: see [`StepDecay`] for the formula and each key's
    /// symbol.
    StepScheduleConfig {
        /// γ in (0, 1], the factor applied at each drop.
        pub gamma: f64,
        /// k ≥ 1, the units between drops.
        pub every: u64,
    }
}

impl ScheduleSettings for StepScheduleConfig {
    fn validate(&self, _initial: f64) -> Check {
        if !(self.gamma > 0.0 && self.gamma <= 1.0) {
            return Err((
                "schedule.gamma",
                format!("must be in (0, 1], got {}", self.gamma),
            ));
        }
        at_least_one("schedule.every", self.every)
    }

    fn family(&self, initial: f64) -> Schedule {
        Schedule::StepDecay(StepDecay::new(initial, self.gamma, self.every))
    }
}

#[cfg(test)]
mod tests {
    use burn::lr_scheduler::LrScheduler;

    use super::super::test_support::{assert_close, assert_record_round_trip};
    use super::*;

    #[test]
    fn drops_by_gamma_every_k_units() {
        // α^(0) = 0.1, γ = 0.5, k = 3.
        let mut schedule = StepDecay::new(0.1, 0.5, 3);
        let rates: Vec<f64> = (0..10).map(|_| schedule.step()).collect();
        assert_eq!(rates[..3], [0.1, 0.1, 0.1]);
        assert_eq!(rates[3..6], [0.05, 0.05, 0.05]);
        assert_eq!(rates[6..9], [0.025, 0.025, 0.025]);
        assert_close(rates[9], 0.0125, "t = 9");
        assert_close(
            StepDecay::new(1.0, 0.1, 1).at(4),
            1e-4,
            "γ = 0.1, k = 1, t = 4",
        );
        assert_eq!(
            StepDecay::new(0.3, 1.0, 2).at(100),
            0.3,
            "γ = 1 is constant"
        );
    }

    #[test]
    fn record_round_trip() {
        let make = || StepDecay::new(0.1, 0.5, 3);
        assert_record_round_trip(make(), make(), 4, 10);
    }
}
