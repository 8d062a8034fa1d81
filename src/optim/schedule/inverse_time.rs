//! Inverse-time decay in its common closed form (scikit-learn's `invscaling` with power 1,
//! Keras' `InverseTimeDecay`):
//!
//! ```text
//! α^(t) = α^(0) / (1 + ρ t)
//! ```
//!
//! Named apart from the lecture's recursive rule
//! ([`InverseTimeRecursive`](super::InverseTimeRecursive)), which decays much faster.

use burn::optim::LearningRate;

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
    pub fn new(initial: LearningRate, rho: f64) -> Self {
        Self { initial, rho, t: 0 }
    }

    /// α^(t).
    pub fn at(&self, t: u64) -> LearningRate {
        self.initial / (1.0 + self.rho * t as f64)
    }
}

closed_form_lr_scheduler!(InverseTime);

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
