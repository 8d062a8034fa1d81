//! sgdlab's own optimizers and learning-rate schedules, on Burn's per-tensor
//! [`Optimizer`](burn::optim::Optimizer) and [`LrScheduler`](burn::lr_scheduler::LrScheduler)
//! traits. One file per optimizer and per schedule family, each with the lecture's formula.
//!
//! [`build_optimizer`] and [`build_schedule`] turn the config into the objects the learner
//! drives: each step, the schedule yields α^(t) and the optimizer applies its update rule to
//! every parameter tensor with that α.

mod gradient_descent;
pub mod schedule;

pub use gradient_descent::GradientDescent;

use burn::optim::ModuleOptimizer;

use crate::config::{OptimizerConfig, ScheduleConfig};

/// The optimizer the config names, lifted to a whole module.
pub fn build_optimizer(config: &OptimizerConfig) -> ModuleOptimizer {
    match config {
        OptimizerConfig::Sgd(_) => ModuleOptimizer::from(GradientDescent),
    }
}

/// The schedule the config names, starting from the optimizer's α^(0).
pub fn build_schedule(
    schedule: &ScheduleConfig,
    optimizer: &OptimizerConfig,
) -> schedule::Schedule {
    let initial = optimizer.learning_rate();
    match schedule {
        ScheduleConfig::Constant => schedule::Schedule::Constant(schedule::Constant::new(initial)),
    }
}
