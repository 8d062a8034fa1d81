//! Learning-rate schedules α^(t), one file per family, stepped once per optimizer step.
//! Each keeps its state in Burn's scheduler record, so a resumed run continues the sequence.

mod constant;

pub use constant::Constant;

use burn::lr_scheduler::{LrScheduler, LrSchedulerRecord};
use burn::optim::LearningRate;

/// Any sgdlab schedule.
#[derive(Debug, Clone)]
pub enum Schedule {
    Constant(Constant),
}

impl LrScheduler for Schedule {
    fn step(&mut self) -> LearningRate {
        match self {
            Schedule::Constant(s) => s.step(),
        }
    }

    fn to_record(&self) -> LrSchedulerRecord {
        match self {
            Schedule::Constant(s) => s.to_record(),
        }
    }

    fn load_record(&mut self, record: LrSchedulerRecord) {
        match self {
            Schedule::Constant(s) => s.load_record(record),
        }
    }
}
