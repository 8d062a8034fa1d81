//! The constant schedule, [`Constant`].

use burn::lr_scheduler::{LrScheduler, LrSchedulerRecord};
use burn::optim::LearningRate;

use super::{Schedule, ScheduleSettings};
use crate::checks::Check;

/// The constant schedule, `[schedule] name = "constant"` (the default when there is no
/// `[schedule]`):
///
/// ```text
/// α^(t) = α^(0)                   for t = 0, 1, 2, …
/// ```
///
/// with α^(0) = `[optimizer] learning_rate`; in PyTorch, no scheduler at all. Like every
/// schedule it takes the `unit`, `warmup` and `warmup_start` keys ([`Warmup`](super::Warmup),
/// [`PerEpoch`](super::PerEpoch)); only the warmup changes anything here.
#[derive(Debug, Clone)]
pub struct Constant {
    learning_rate: LearningRate,
}

impl Constant {
    /// α^(t) = `learning_rate` = α^(0).
    pub fn new(learning_rate: LearningRate) -> Self {
        Self { learning_rate }
    }
}

impl LrScheduler for Constant {
    fn step(&mut self) -> LearningRate {
        self.learning_rate
    }

    /// Stateless: α^(t) does not depend on t.
    fn to_record(&self) -> LrSchedulerRecord {
        LrSchedulerRecord::new()
    }

    fn load_record(&mut self, _record: LrSchedulerRecord) {}
}

schedule_config! {
    /// The `[schedule]` settings of `name = "constant"`: see [`Constant`] for the formula and each key's
    /// symbol.
    #[derive(Default)]
    ConstantScheduleConfig {}
}

impl ScheduleSettings for ConstantScheduleConfig {
    fn validate(&self, _initial: f64) -> Check {
        Ok(())
    }

    fn family(&self, initial: f64) -> Schedule {
        Schedule::Constant(Constant::new(initial))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::assert_record_round_trip;
    use super::*;

    #[test]
    fn every_step_is_alpha_zero() {
        let mut schedule = Constant::new(0.05);
        for _ in 0..5 {
            assert_eq!(schedule.step(), 0.05);
        }
    }

    #[test]
    fn record_round_trip() {
        assert_record_round_trip(Constant::new(0.05), Constant::new(0.05), 3, 3);
    }
}
