//! `[schedule]`: the learning-rate schedule, selected by `name`. Each family's settings (its
//! keys, defaults and checks) are declared beside the family in `src/optim/schedule/`; this
//! enum lists them, one line each. Every family also takes `unit`, `warmup` and
//! `warmup_start` ([`ScheduleTiming`]).

use crate::checks::Check;
use crate::optim::schedule::{self, Schedule, ScheduleSettings};
pub use crate::optim::schedule::{
    ConstantScheduleConfig, CosineScheduleConfig, ExponentialScheduleConfig,
    InverseTimeRecursiveScheduleConfig, InverseTimeScheduleConfig, LinearScheduleConfig,
    PolynomialScheduleConfig, ScheduleTiming, ScheduleUnit, StepScheduleConfig,
};

named_choices! {
    /// The learning-rate schedule, selected by `name`; each variant is one file in
    /// `src/optim/schedule/`, whose type's doc comment holds the formula. α^(0) is
    /// `optimizer.learning_rate`.
    pub enum ScheduleConfig: dyn ScheduleSettings, in "schedule" {
        /// α^(t) = α^(0).
        Constant(ConstantScheduleConfig) = "constant",
        /// The lecture's α^(t) = (1 − t/ρ) α^(0) + (t/ρ) α^(ρ) for t ≤ ρ, then α^(ρ).
        Linear(LinearScheduleConfig) = "linear",
        /// The lecture's α^(t+1) = α^(t) / (1 + ρ t), as written (recursive).
        InverseTimeRecursive(InverseTimeRecursiveScheduleConfig) = "inverse_time_recursive",
        /// The common closed form α^(t) = α^(0) / (1 + ρ t).
        InverseTime(InverseTimeScheduleConfig) = "inverse_time",
        /// The lecture's α^(t) = α^(0) e^(−ρ t).
        Exponential(ExponentialScheduleConfig) = "exponential",
        /// α^(t) = α^(0) γ^⌊t/k⌋.
        Step(StepScheduleConfig) = "step",
        /// Cosine annealing from α^(0) to a floor over a period, optionally with warm restarts.
        Cosine(CosineScheduleConfig) = "cosine",
        /// Polynomial decay (α^(0) − α_end)(1 − min(t, T)/T)^p + α_end.
        Polynomial(PolynomialScheduleConfig) = "polynomial",
    }
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig::Constant(ConstantScheduleConfig::default())
    }
}

impl ScheduleConfig {
    /// The unit and warmup keys, common to every schedule.
    pub fn timing(&self) -> ScheduleTiming {
        self.settings().timing()
    }

    /// Checks every parameter against α^(0) = `initial`; on failure the key path and what is
    /// allowed.
    pub fn validate(&self, initial: f64) -> Check {
        self.settings().validate(initial)?;
        self.timing().validate(initial)
    }

    /// The schedule from α^(0) = `initial` as the learner steps it, once per optimizer step
    /// (see [`schedule::compose`]); `steps_per_epoch` is ⌈n_train / m⌉.
    pub fn build(&self, initial: f64, steps_per_epoch: usize) -> Schedule {
        schedule::compose(
            self.settings().family(initial),
            self.timing(),
            initial,
            steps_per_epoch,
        )
    }
}
