//! A linear warmup in front of any schedule, [`Warmup`].

use burn::lr_scheduler::{LrScheduler, LrSchedulerRecord};
use burn::optim::LearningRate;

use super::{INNER_PREFIX, Schedule, t_from_record, t_record};

/// A linear warmup of k units in front of any schedule (`[schedule] warmup = k`, any
/// `name`): the rate rises from a start value α_start to α^(0), then the wrapped schedule
/// runs from its own t = 0:
///
/// ```text
/// α^(t) = α_start + (t/k) (α^(0) − α_start)    for t < k
/// α^(t) = α_wrapped^(t − k)                    for t ≥ k
/// ```
///
/// So the ramp ends where the wrapped schedule starts (α_wrapped^(0) = α^(0)) and the decay
/// keeps its shape, shifted by k: a linear decay over ρ units ends at t = k + ρ. With the
/// default α_start = 0 the first step is a zero step; `warmup_start` needs `warmup` ≥ 1. k
/// counts the schedule's unit (`unit`: optimizer steps, or epochs when
/// [`PerEpoch`](super::PerEpoch) wraps this).
///
/// | symbol | `[schedule]` key | default | PyTorch |
/// |---|---|---|---|
/// | k | `warmup` | 0 (no warmup) | `LinearLR(total_iters=k)` |
/// | α_start | `warmup_start` | 0, in [0, α^(0)] | `LinearLR(start_factor=α_start/α^(0))` |
///
/// PyTorch: `torch.optim.lr_scheduler.SequentialLR([LinearLR(start_factor=α_start/α^(0),
/// end_factor=1, total_iters=k), wrapped], milestones=[k])` (PyTorch requires
/// `start_factor` > 0). Reference: Goyal et al., "Accurate, large minibatch SGD: training
/// ImageNet in 1 hour", arXiv:1706.02677, 2017 (gradual warmup).
#[derive(Debug, Clone)]
pub struct Warmup {
    /// α_start, the rate at t = 0.
    start: LearningRate,
    /// α^(0), the rate the ramp reaches at t = k.
    target: LearningRate,
    /// k, the warmup's length in units.
    length: u64,
    /// The t the next step yields while warming up; stays at k afterwards.
    t: u64,
    /// The schedule that takes over at t = k.
    wrapped: Box<Schedule>,
}

impl Warmup {
    /// `length` = k units from α_start = `start` to α^(0) = `target`, then `wrapped`.
    pub fn new(start: LearningRate, target: LearningRate, length: u64, wrapped: Schedule) -> Self {
        Self {
            start,
            target,
            length,
            t: 0,
            wrapped: Box::new(wrapped),
        }
    }
}

impl LrScheduler for Warmup {
    fn step(&mut self) -> LearningRate {
        if self.t >= self.length {
            return self.wrapped.step();
        }
        let fraction = self.t as f64 / self.length as f64;
        self.t += 1;
        self.start + fraction * (self.target - self.start)
    }

    fn to_record(&self) -> LrSchedulerRecord {
        t_record(self.t).with_record(INNER_PREFIX, self.wrapped.to_record())
    }

    fn load_record(&mut self, record: LrSchedulerRecord) {
        self.t = t_from_record(&record, self.t);
        self.wrapped.load_record(record.record(INNER_PREFIX));
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_close, assert_record_round_trip};
    use super::super::{Constant, Cosine, InverseTimeRecursive, Linear};
    use super::*;

    #[test]
    fn ramps_from_the_start_value_then_hands_over_at_alpha_zero() {
        // k = 4 from 0 to α^(0) = 0.1, then a linear decay to 0.02 over ρ = 4.
        let decay = Schedule::Linear(Linear::new(0.1, 0.02, 4.0));
        let mut schedule = Warmup::new(0.0, 0.1, 4, decay);
        let rates: Vec<f64> = (0..10).map(|_| schedule.step()).collect();
        assert_eq!(rates[0], 0.0);
        assert_close(rates[1], 0.025, "t = 1");
        assert_close(rates[2], 0.05, "t = 2");
        assert_close(rates[3], 0.075, "t = 3");
        assert_eq!(rates[4], 0.1, "t = k: the wrapped schedule's α^(0)");
        assert_close(rates[5], 0.08, "t = k + 1");
        assert_close(rates[7], 0.04, "t = k + 3");
        assert_eq!(rates[8..], [0.02, 0.02], "t ≥ k + ρ");
    }

    #[test]
    fn a_nonzero_start_and_a_constant_schedule() {
        let mut schedule = Warmup::new(0.01, 0.1, 3, Schedule::Constant(Constant::new(0.1)));
        let rates: Vec<f64> = (0..5).map(|_| schedule.step()).collect();
        assert_eq!(rates[0], 0.01);
        assert_close(rates[1], 0.04, "t = 1");
        assert_close(rates[2], 0.07, "t = 2");
        assert_eq!(rates[3..], [0.1, 0.1]);
    }

    #[test]
    fn record_round_trip_during_and_after_the_warmup() {
        let make = || {
            Warmup::new(
                0.0,
                0.1,
                5,
                Schedule::InverseTimeRecursive(InverseTimeRecursive::new(0.1, 0.1)),
            )
        };
        assert_record_round_trip(make(), make(), 2, 15);
        assert_record_round_trip(make(), make(), 9, 15);
        let make = || {
            Warmup::new(
                0.0,
                0.1,
                3,
                Schedule::Cosine(Cosine::new(0.1, 0.0, 4).with_restarts(2)),
            )
        };
        assert_record_round_trip(make(), make(), 8, 30);
    }
}
