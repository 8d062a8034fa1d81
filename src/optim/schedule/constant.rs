//! The constant schedule: `α^(t) = α^(0)` for every t.

use burn::lr_scheduler::{LrScheduler, LrSchedulerRecord};
use burn::optim::LearningRate;

#[derive(Debug, Clone)]
pub struct Constant {
    learning_rate: LearningRate,
}

impl Constant {
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
