//! `[schedule]`: the learning-rate schedule, selected by `name`, and the keys every schedule
//! takes (`unit`, `warmup`, `warmup_start`).

use serde::{Deserialize, Serialize};

use super::{Check, non_negative, positive};

/// The learning-rate schedule, selected by `name`; each variant is one file in
/// `src/optim/schedule/`, whose type's doc comment holds the formula. α^(0) is
/// `optimizer.learning_rate`. Every variant also takes the keys of [`ScheduleTiming`]: `unit`,
/// `warmup` and `warmup_start`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum ScheduleConfig {
    /// α^(t) = α^(0).
    Constant(ConstantScheduleConfig),
    /// The lecture's α^(t) = (1 − t/ρ) α^(0) + (t/ρ) α^(ρ) for t ≤ ρ, then α^(ρ).
    Linear(LinearScheduleConfig),
    /// The lecture's α^(t+1) = α^(t) / (1 + ρ t), as written (recursive).
    InverseTimeRecursive(InverseTimeRecursiveScheduleConfig),
    /// The common closed form α^(t) = α^(0) / (1 + ρ t).
    InverseTime(InverseTimeScheduleConfig),
    /// The lecture's α^(t) = α^(0) e^(−ρ t).
    Exponential(ExponentialScheduleConfig),
    /// α^(t) = α^(0) γ^⌊t/k⌋.
    Step(StepScheduleConfig),
    /// Cosine annealing from α^(0) to a floor over a period, optionally with warm restarts.
    Cosine(CosineScheduleConfig),
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig::Constant(ConstantScheduleConfig::default())
    }
}

/// What the learner's step counter means to a schedule: its t counts optimizer steps, or
/// epochs (t = ⌊steps taken / steps per epoch⌋).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleUnit {
    #[default]
    Step,
    Epoch,
}

impl ScheduleUnit {
    /// The unit's name in messages, plural.
    pub fn plural(self) -> &'static str {
        match self {
            ScheduleUnit::Step => "steps",
            ScheduleUnit::Epoch => "epochs",
        }
    }

    /// `count` units in words: "1 epoch", "25 steps".
    pub fn count(self, count: u64) -> String {
        let plural = self.plural();
        let name = if count == 1 {
            &plural[..plural.len() - 1]
        } else {
            plural
        };
        format!("{count} {name}")
    }
}

/// The keys every schedule takes besides its own: in what unit t counts, and an optional
/// linear warmup of `warmup` units from `warmup_start` to α^(0) before the schedule starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScheduleTiming {
    pub unit: ScheduleUnit,
    /// k, the warmup's length in units; 0 = no warmup.
    pub warmup: u64,
    /// α_start, the rate at t = 0 of the warmup.
    pub warmup_start: f64,
}

/// Declares the config struct of each schedule: its own keys, then the keys every schedule
/// takes, declared here once: `unit`, `warmup` and `warmup_start` (see [`ScheduleTiming`]).
///
/// A macro rather than a shared struct behind `#[serde(flatten)]`: serde does not support
/// `flatten` on a struct with `deny_unknown_fields` (serde.rs, "Field attributes", flatten), and
/// a misspelt key must stay an error that names it.
macro_rules! schedule_configs {
    ($($(#[$meta:meta])* $name:ident { $($body:tt)* })*) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($body)*
            /// What t counts: optimizer steps (default) or epochs.
            #[serde(default)]
            pub unit: ScheduleUnit,
            /// k, the linear warmup's length in units; 0 = no warmup.
            #[serde(default)]
            pub warmup: u64,
            /// α_start, the rate the warmup starts from.
            #[serde(default)]
            pub warmup_start: f64,
        }

        impl $name {
            /// The keys every schedule takes.
            pub fn timing(&self) -> ScheduleTiming {
                ScheduleTiming {
                    unit: self.unit,
                    warmup: self.warmup,
                    warmup_start: self.warmup_start,
                }
            }
        }
    )*};
}

schedule_configs! {
    /// `name = "constant"`: α^(t) = α^(0).
    #[derive(Default)]
    ConstantScheduleConfig {}
    /// `name = "linear"`: the lecture's linear decay to α^(ρ) over ρ units.
    LinearScheduleConfig {
        /// ρ, the number of units the decay lasts (> 0, need not be whole).
        pub rho: f64,
        /// α^(ρ), the rate reached at t = ρ and kept afterwards (≥ 0).
        pub final_learning_rate: f64,
    }
    /// `name = "inverse_time_recursive"`: the lecture's α^(t+1) = α^(t) / (1 + ρ t), as written.
    InverseTimeRecursiveScheduleConfig {
        /// ρ > 0.
        pub rho: f64,
    }
    /// `name = "inverse_time"`: the closed form α^(t) = α^(0) / (1 + ρ t).
    InverseTimeScheduleConfig {
        /// ρ > 0.
        pub rho: f64,
    }
    /// `name = "exponential"`: the lecture's α^(t) = α^(0) e^(−ρ t).
    ExponentialScheduleConfig {
        /// ρ > 0, the decay rate per unit.
        pub rho: f64,
    }
    /// `name = "step"`: α^(t) = α^(0) γ^⌊t/k⌋.
    StepScheduleConfig {
        /// γ in (0, 1], the factor applied at each drop.
        pub gamma: f64,
        /// k ≥ 1, the units between drops.
        pub every: u64,
    }
    /// `name = "cosine"`: cosine annealing to a floor, optionally with warm restarts.
    CosineScheduleConfig {
        /// T ≥ 1, the (first) cycle's length in units.
        pub period: u64,
        /// α_min, the floor, in [0, α^(0)].
        #[serde(default)]
        pub min_learning_rate: f64,
        /// Restart at α^(0) after each cycle (SGDR); otherwise stay at the floor after T units.
        #[serde(default)]
        pub restarts: bool,
        /// T_mult ≥ 1: each cycle is this many times longer than the one before (restarts only).
        #[serde(default = "default_period_multiplier")]
        pub period_multiplier: u64,
    }
}

fn default_period_multiplier() -> u64 {
    1
}

impl ScheduleConfig {
    /// The `name` the config selects it by.
    pub fn name(&self) -> &'static str {
        match self {
            ScheduleConfig::Constant(_) => "constant",
            ScheduleConfig::Linear(_) => "linear",
            ScheduleConfig::InverseTimeRecursive(_) => "inverse_time_recursive",
            ScheduleConfig::InverseTime(_) => "inverse_time",
            ScheduleConfig::Exponential(_) => "exponential",
            ScheduleConfig::Step(_) => "step",
            ScheduleConfig::Cosine(_) => "cosine",
        }
    }

    /// The unit and warmup keys, common to every schedule.
    pub fn timing(&self) -> ScheduleTiming {
        match self {
            ScheduleConfig::Constant(c) => c.timing(),
            ScheduleConfig::Linear(c) => c.timing(),
            ScheduleConfig::InverseTimeRecursive(c) => c.timing(),
            ScheduleConfig::InverseTime(c) => c.timing(),
            ScheduleConfig::Exponential(c) => c.timing(),
            ScheduleConfig::Step(c) => c.timing(),
            ScheduleConfig::Cosine(c) => c.timing(),
        }
    }

    /// Checks every parameter against α^(0) = `initial`; on failure the key path and what is
    /// allowed.
    pub fn validate(&self, initial: f64) -> Check {
        let at_least_one = |key: &'static str, value: u64| {
            if value >= 1 {
                Ok(())
            } else {
                Err((key, format!("must be ≥ 1, got {value}")))
            }
        };
        match self {
            ScheduleConfig::Constant(_) => {}
            ScheduleConfig::Linear(c) => {
                positive("schedule.rho", c.rho)?;
                non_negative("schedule.final_learning_rate", c.final_learning_rate)?;
            }
            ScheduleConfig::InverseTimeRecursive(InverseTimeRecursiveScheduleConfig {
                rho,
                ..
            })
            | ScheduleConfig::InverseTime(InverseTimeScheduleConfig { rho, .. })
            | ScheduleConfig::Exponential(ExponentialScheduleConfig { rho, .. }) => {
                positive("schedule.rho", *rho)?;
            }
            ScheduleConfig::Step(c) => {
                if !(c.gamma > 0.0 && c.gamma <= 1.0) {
                    return Err((
                        "schedule.gamma",
                        format!("must be in (0, 1], got {}", c.gamma),
                    ));
                }
                at_least_one("schedule.every", c.every)?;
            }
            ScheduleConfig::Cosine(c) => {
                at_least_one("schedule.period", c.period)?;
                if !(c.min_learning_rate >= 0.0 && c.min_learning_rate <= initial) {
                    return Err((
                        "schedule.min_learning_rate",
                        format!(
                            "must be in [0, optimizer.learning_rate = {initial}], got {}",
                            c.min_learning_rate
                        ),
                    ));
                }
                at_least_one("schedule.period_multiplier", c.period_multiplier)?;
                if !c.restarts && c.period_multiplier != 1 {
                    return Err((
                        "schedule.period_multiplier",
                        "applies with restarts = true only".into(),
                    ));
                }
            }
        }
        let timing = self.timing();
        if !(timing.warmup_start >= 0.0 && timing.warmup_start <= initial) {
            return Err((
                "schedule.warmup_start",
                format!(
                    "must be in [0, optimizer.learning_rate = {initial}], got {}",
                    timing.warmup_start
                ),
            ));
        }
        if timing.warmup == 0 && timing.warmup_start != 0.0 {
            return Err((
                "schedule.warmup_start",
                "applies with a warmup only (set schedule.warmup = k ≥ 1 units)".into(),
            ));
        }
        Ok(())
    }
}
