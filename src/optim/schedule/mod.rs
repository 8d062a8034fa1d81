//! Learning-rate schedules α^(t), the lecture's §3 and the common ones, one file per family.
//!
//! Each family is a Burn [`LrScheduler`] whose `step()` yields α^(t) for t = 0, 1, 2, … (the
//! first call yields α^(0)) and keeps its state (t, and α^(t) where the rule is recursive) in
//! Burn's scheduler record, so a checkpoint carries it and `--resume` continues the sequence
//! bit for bit. Two wrappers compose with any family:
//!
//! - [`Warmup`]: k units rising linearly from a start value to α^(0), after which the wrapped
//!   schedule starts at its own t = 0;
//! - [`PerEpoch`]: the learner steps the schedule once per optimizer step; with
//!   `unit = "epoch"` this wrapper advances the wrapped schedule's t only at the first step of
//!   each epoch, so t = ⌊steps taken / steps per epoch⌋.
//!
//! [`compose`] nests them as `PerEpoch(Warmup(family))`:
//! the warmup is counted in the schedule's unit.

/// `LrScheduler` for a schedule whose α^(t) is a closed form `at(t)` in the unit counter
/// `t`: each step yields α^(t) and advances t, and t is all its record holds.
macro_rules! closed_form_lr_scheduler {
    ($schedule:ty) => {
        impl burn::lr_scheduler::LrScheduler for $schedule {
            fn step(&mut self) -> burn::optim::LearningRate {
                let alpha = self.at(self.t);
                self.t += 1;
                alpha
            }

            fn to_record(&self) -> burn::lr_scheduler::LrSchedulerRecord {
                super::t_record(self.t)
            }

            fn load_record(&mut self, record: burn::lr_scheduler::LrSchedulerRecord) {
                self.t = super::t_from_record(&record, self.t);
            }
        }
    };
}

/// Declares a schedule's settings struct (`[schedule]` keys): its own keys, then the keys
/// every schedule takes, declared here once: `unit`, `warmup` and `warmup_start` (see [`ScheduleTiming`]).
///
/// A macro rather than a shared struct behind `#[serde(flatten)]`: serde does not support
/// `flatten` on a struct with `deny_unknown_fields` (serde.rs, "Field attributes", flatten), and
/// a misspelt key must stay an error that names it.
macro_rules! schedule_config {
    (
        $(#[$meta:meta])*
        $name:ident { $($(#[$field_meta:meta])* pub $field:ident: $type:ty,)* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$field_meta])* pub $field: $type,)*
            /// What t counts: optimizer steps (default) or epochs.
            #[serde(default)]
            pub unit: $crate::optim::schedule::ScheduleUnit,
            /// k, the linear warmup's length in units; 0 = no warmup.
            #[serde(default)]
            pub warmup: u64,
            /// α_start, the rate the warmup starts from.
            #[serde(default)]
            pub warmup_start: f64,
        }

        impl $name {
            /// These settings, counted in optimizer steps, without a warmup (set `unit`,
            /// `warmup` and `warmup_start` to change that).
            #[allow(clippy::new_without_default)]
            pub fn new($($field: $type),*) -> Self {
                Self {
                    $($field,)*
                    unit: $crate::optim::schedule::ScheduleUnit::Step,
                    warmup: 0,
                    warmup_start: 0.0,
                }
            }
        }

        impl $crate::optim::schedule::ScheduleKeys for $name {
            fn timing(&self) -> $crate::optim::schedule::ScheduleTiming {
                $crate::optim::schedule::ScheduleTiming {
                    unit: self.unit,
                    warmup: self.warmup,
                    warmup_start: self.warmup_start,
                }
            }
        }
    };
}

mod constant;
mod cosine;
mod exponential;
mod inverse_time;
mod inverse_time_recursive;
mod linear;
mod per_epoch;
mod polynomial;
mod step;
mod warmup;

pub use constant::{Constant, ConstantScheduleConfig};
pub use cosine::{Cosine, CosineScheduleConfig};
pub use exponential::{Exponential, ExponentialScheduleConfig};
pub use inverse_time::{InverseTime, InverseTimeScheduleConfig};
pub use inverse_time_recursive::{InverseTimeRecursive, InverseTimeRecursiveScheduleConfig};
pub use linear::{Linear, LinearScheduleConfig};
pub use per_epoch::PerEpoch;
pub use polynomial::{Polynomial, PolynomialScheduleConfig};
pub use step::{StepDecay, StepScheduleConfig};
pub use warmup::Warmup;

use burn::lr_scheduler::{LrScheduler, LrSchedulerRecord};
use burn::optim::LearningRate;
use serde::{Deserialize, Serialize};

use crate::checks::Check;

/// Declares [`Schedule`], one variant per family or wrapper, and its [`LrScheduler`] impl,
/// which hands each call to the variant: a new family is one line here.
macro_rules! schedules {
    ($($(#[$doc:meta])* $variant:ident($family:ty),)*) => {
        /// Any sgdlab schedule: a family, or a family inside the warmup / per-epoch wrappers.
        #[derive(Debug, Clone)]
        pub enum Schedule {
            $($(#[$doc])* $variant($family),)*
        }

        impl LrScheduler for Schedule {
            fn step(&mut self) -> LearningRate {
                match self {
                    $(Schedule::$variant(s) => s.step(),)*
                }
            }

            fn to_record(&self) -> LrSchedulerRecord {
                match self {
                    $(Schedule::$variant(s) => s.to_record(),)*
                }
            }

            fn load_record(&mut self, record: LrSchedulerRecord) {
                match self {
                    $(Schedule::$variant(s) => s.load_record(record),)*
                }
            }
        }
    };
}

schedules! {
    /// α^(t) = α^(0).
    Constant(Constant),
    /// The lecture's α^(t) = (1 − t/ρ) α^(0) + (t/ρ) α^(ρ) for t ≤ ρ, then α^(ρ).
    Linear(Linear),
    /// The lecture's α^(t+1) = α^(t) / (1 + ρ t), as written (recursive).
    InverseTimeRecursive(InverseTimeRecursive),
    /// The common closed form α^(t) = α^(0) / (1 + ρ t).
    InverseTime(InverseTime),
    /// The lecture's α^(t) = α^(0) e^(−ρ t).
    Exponential(Exponential),
    /// α^(t) = α^(0) γ^⌊t/k⌋.
    StepDecay(StepDecay),
    /// Cosine annealing to α_min over T units, optionally with warm restarts.
    Cosine(Cosine),
    /// (α^(0) − α_end)(1 − min(t, T)/T)^p + α_end.
    Polynomial(Polynomial),
    /// A linear warmup of k units from α_start to α^(0), then the wrapped schedule.
    Warmup(Warmup),
    /// The wrapped schedule's t counted in epochs.
    PerEpoch(PerEpoch),
}

/// What the learner's step counter means to a schedule: its t counts optimizer steps, or
/// epochs (t = ⌊steps taken / steps per epoch⌋).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleUnit {
    /// t counts optimizer steps.
    #[default]
    Step,
    /// t counts epochs.
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
    /// In what unit t counts.
    pub unit: ScheduleUnit,
    /// k, the warmup's length in units; 0 = no warmup.
    pub warmup: u64,
    /// α_start, the rate at t = 0 of the warmup.
    pub warmup_start: f64,
}

impl ScheduleTiming {
    /// Checks the warmup keys against α^(0) = `initial`.
    pub fn validate(&self, initial: f64) -> Check {
        if !(self.warmup_start >= 0.0 && self.warmup_start <= initial) {
            return Err((
                "schedule.warmup_start",
                format!(
                    "must be in [0, optimizer.learning_rate = {initial}], got {}",
                    self.warmup_start
                ),
            ));
        }
        if self.warmup == 0 && self.warmup_start != 0.0 {
            return Err((
                "schedule.warmup_start",
                "applies with a warmup only (set schedule.warmup = k ≥ 1 units)".into(),
            ));
        }
        Ok(())
    }
}

/// The keys every schedule's settings have ([`ScheduleTiming`]); implemented by the macro
/// that declares them.
pub trait ScheduleKeys {
    /// `unit`, `warmup` and `warmup_start`.
    fn timing(&self) -> ScheduleTiming;
}

/// What the settings of every `[schedule]` choice provide: each family's file declares its
/// settings struct beside the family and implements this, so
/// `config::ScheduleConfig` needs one line per family.
pub trait ScheduleSettings: ScheduleKeys {
    /// Checks the family's own keys against α^(0) = `initial`; on failure the key path and
    /// what is allowed.
    fn validate(&self, initial: f64) -> Check;
    /// The family starting from α^(0) = `initial`, unwrapped (no warmup, counting steps).
    fn family(&self, initial: f64) -> Schedule;
}

/// `family` as the learner steps it, once per optimizer step: wrapped in its warmup, if
/// any, and then (for `unit = "epoch"`) in the per-epoch clock, so warmup and schedule count
/// the same unit. `steps_per_epoch` is ⌈n_train / m⌉ ([`steps_per_epoch`]).
pub fn compose(
    family: Schedule,
    timing: ScheduleTiming,
    initial: LearningRate,
    steps_per_epoch: usize,
) -> Schedule {
    let warmed = if timing.warmup > 0 {
        Schedule::Warmup(Warmup::new(
            timing.warmup_start,
            initial,
            timing.warmup,
            family,
        ))
    } else {
        family
    };
    match timing.unit {
        ScheduleUnit::Step => warmed,
        ScheduleUnit::Epoch => Schedule::PerEpoch(PerEpoch::new(warmed, steps_per_epoch)),
    }
}

/// The α of the first `steps` optimizer steps, as the learner would receive them.
pub fn learning_rates(mut schedule: Schedule, steps: usize) -> Vec<LearningRate> {
    (0..steps).map(|_| schedule.step()).collect()
}

/// Optimizer steps in one epoch: ⌈n_train / m⌉, the last batch possibly short (the data
/// loader keeps it).
pub fn steps_per_epoch(train_examples: usize, batch_size: usize) -> usize {
    train_examples.div_ceil(batch_size.max(1)).max(1)
}

/// Record key of the number of units already stepped, i.e. the t the next step yields.
const T_KEY: &str = "t";
/// Record key of a stored learning rate (α^(t) of a recursive rule, or a cached value).
const ALPHA_KEY: &str = "alpha";
/// Record prefix under which a wrapper nests the wrapped schedule's record.
const INNER_PREFIX: &str = "inner";

/// A record holding only the unit counter t.
fn t_record(t: u64) -> LrSchedulerRecord {
    LrSchedulerRecord::new().with_scalar(T_KEY, t)
}

/// The unit counter stored in `record`; `current` when the record has none (a checkpoint
/// written before the schedule kept state), so loading never invents a position.
fn t_from_record(record: &LrSchedulerRecord, current: u64) -> u64 {
    record.scalar::<u64>(T_KEY).unwrap_or(current)
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// Steps `schedule` `before` times, round-trips its record through the on-disk byte form
    /// into `fresh` (a schedule built anew, as `--resume` does), then checks that both yield
    /// bit-identical α for `after` more steps.
    pub fn assert_record_round_trip<S: LrScheduler + Clone>(
        mut schedule: S,
        mut fresh: S,
        before: usize,
        after: usize,
    ) {
        for _ in 0..before {
            schedule.step();
        }
        let bytes = schedule
            .to_record()
            .into_bytes()
            .expect("record serializes");
        let record = LrSchedulerRecord::from_bytes(bytes).expect("record deserializes");
        fresh.load_record(record);
        for step in 0..after {
            let (expected, resumed) = (schedule.step(), fresh.step());
            assert_eq!(
                expected.to_bits(),
                resumed.to_bits(),
                "step {} after the round trip: {expected} vs {resumed}",
                before + step
            );
        }
    }

    /// Asserts `actual` equals the hand-computed `expected` to 1e-12 relative.
    pub fn assert_close(actual: f64, expected: f64, what: &str) {
        assert!(
            (actual - expected).abs() <= 1e-12 * expected.abs().max(1e-300),
            "{what}: {actual} vs expected {expected}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_per_epoch_counts_the_short_last_batch() {
        assert_eq!(steps_per_epoch(399, 16), 25);
        assert_eq!(steps_per_epoch(400, 16), 25);
        assert_eq!(steps_per_epoch(401, 16), 26);
        assert_eq!(steps_per_epoch(10, 100), 1);
    }

    #[test]
    fn learning_rates_yields_alpha_zero_first() {
        let rates = learning_rates(Schedule::InverseTime(InverseTime::new(1.0, 1.0)), 3);
        assert_eq!(rates, vec![1.0, 0.5, 1.0 / 3.0]);
    }
}
