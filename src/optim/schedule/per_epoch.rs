//! The epoch unit for any schedule, [`PerEpoch`].

use burn::lr_scheduler::{LrScheduler, LrSchedulerRecord};
use burn::optim::LearningRate;

use super::{ALPHA_KEY, INNER_PREFIX, Schedule};

/// Record key of the optimizer steps taken.
const STEPS_KEY: &str = "steps";

/// The epoch unit, `[schedule] unit = "epoch"` (any `name`): the learner steps every
/// schedule once per optimizer step, and this wrapper turns those steps into epochs for the
/// schedule it wraps,
///
/// ```text
/// t = ⌊s / ⌈n_train / m⌉⌋        (s: optimizer steps taken, m: batch_size)
/// α^(s) handed to the optimizer = α_wrapped^(t)
/// ```
///
/// It steps the wrapped schedule at the first optimizer step of each epoch and hands out the
/// same α for the rest of the epoch (the last batch of an epoch may be short, and still
/// counts as a step). That α is kept in the record with the step count, so a run resumed at
/// any step continues the sequence exactly. The warmup, if any, is inside: its k counts
/// epochs too.
///
/// | `[schedule]` key | default | PyTorch |
/// |---|---|---|
/// | `unit` | `"step"` (no wrapper) | calling `scheduler.step()` once per epoch instead of once per batch |
#[derive(Debug, Clone)]
pub struct PerEpoch {
    /// ⌈n_train / m⌉.
    steps_per_epoch: u64,
    /// Optimizer steps taken so far.
    steps: u64,
    /// The α of the current epoch (NaN before the first step: never handed out).
    current: LearningRate,
    /// The schedule, stepped once per epoch.
    wrapped: Box<Schedule>,
}

impl PerEpoch {
    /// `wrapped`, stepped once every `steps_per_epoch` optimizer steps.
    pub fn new(wrapped: Schedule, steps_per_epoch: usize) -> Self {
        Self {
            steps_per_epoch: steps_per_epoch.max(1) as u64,
            steps: 0,
            current: f64::NAN,
            wrapped: Box::new(wrapped),
        }
    }
}

impl LrScheduler for PerEpoch {
    fn step(&mut self) -> LearningRate {
        if self.steps.is_multiple_of(self.steps_per_epoch) {
            self.current = self.wrapped.step();
        }
        self.steps += 1;
        self.current
    }

    fn to_record(&self) -> LrSchedulerRecord {
        LrSchedulerRecord::new()
            .with_scalar(STEPS_KEY, self.steps)
            .with_scalar(ALPHA_KEY, self.current)
            .with_record(INNER_PREFIX, self.wrapped.to_record())
    }

    fn load_record(&mut self, record: LrSchedulerRecord) {
        self.steps = record.scalar::<u64>(STEPS_KEY).unwrap_or(self.steps);
        self.current = record.scalar::<f64>(ALPHA_KEY).unwrap_or(self.current);
        self.wrapped.load_record(record.record(INNER_PREFIX));
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::assert_record_round_trip;
    use super::super::{Exponential, InverseTimeRecursive, Warmup};
    use super::*;

    #[test]
    fn t_advances_once_per_epoch() {
        // 3 steps an epoch; the wrapped schedule halves every unit.
        let halving = Exponential::new(0.8, std::f64::consts::LN_2);
        let mut schedule = PerEpoch::new(Schedule::Exponential(halving.clone()), 3);
        let rates: Vec<f64> = (0..8).map(|_| schedule.step()).collect();
        let (a0, a1, a2) = (halving.at(0), halving.at(1), halving.at(2));
        assert_eq!(rates, vec![a0, a0, a0, a1, a1, a1, a2, a2]);
        assert_eq!(a0, 0.8, "the first epoch uses α^(0)");
    }

    #[test]
    fn a_warmup_inside_counts_epochs() {
        let inner = Warmup::new(
            0.0,
            0.1,
            2,
            Schedule::Exponential(Exponential::new(0.1, 0.5)),
        );
        let mut schedule = PerEpoch::new(Schedule::Warmup(inner), 2);
        let rates: Vec<f64> = (0..8).map(|_| schedule.step()).collect();
        assert_eq!(rates[..4], [0.0, 0.0, 0.05, 0.05]);
        assert_eq!(
            rates[4..],
            [0.1, 0.1, 0.1 * (-0.5f64).exp(), 0.1 * (-0.5f64).exp()]
        );
    }

    #[test]
    fn record_round_trip_mid_epoch_and_at_a_boundary() {
        let make = || {
            PerEpoch::new(
                Schedule::InverseTimeRecursive(InverseTimeRecursive::new(0.1, 0.3)),
                4,
            )
        };
        assert_record_round_trip(make(), make(), 6, 20);
        assert_record_round_trip(make(), make(), 8, 20);
    }
}
