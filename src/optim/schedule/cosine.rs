//! Cosine annealing with optional warm restarts, [`Cosine`].

use std::f64::consts::PI;

use burn::optim::LearningRate;

use super::{Schedule, ScheduleSettings};
use crate::checks::{Check, at_least_one};

/// Cosine annealing, `[schedule] name = "cosine"`: from α^(0) down to a floor α_min over a
/// period of T units, optionally with warm restarts (SGDR):
///
/// ```text
/// α^(t) = α_min + ½ (α^(0) − α_min) (1 + cos(π t_cur / T_i))
///
/// without restarts:  t_cur = min(t, T),  T_i = T
/// with restarts:     cycle i lasts T_i = T · T_mult^i units, t_cur = units since its start
/// ```
///
/// for t = 0, 1, 2, … in the schedule's unit (`unit`: optimizer steps, or epochs through
/// [`PerEpoch`](super::PerEpoch)), counted from the end of the warmup if there is one
/// ([`Warmup`](super::Warmup)). Without restarts the rate reaches α_min at t = T and stays
/// there (PyTorch's `CosineAnnealingLR` instead follows the cosine back up after T_max).
/// With restarts the rate jumps back to α^(0) at the end of each cycle; the period
/// multiplier T_mult ≥ 1 is an integer, so cycles end on whole units.
///
/// | symbol | `[schedule]` key | default | PyTorch |
/// |---|---|---|---|
/// | α^(0) | `[optimizer] learning_rate` | required | the optimizer's `lr` |
/// | T | `period` | required, ≥ 1 | `T_max=…` (`T_0=…` with restarts) |
/// | α_min | `min_learning_rate` | 0, in [0, α^(0)] | `eta_min=…` |
/// | | `restarts` | false | `CosineAnnealingWarmRestarts` when true |
/// | T_mult | `period_multiplier` | 1, ≥ 1; restarts only | `T_mult=…` |
///
/// PyTorch: `torch.optim.lr_scheduler.CosineAnnealingLR(T_max=T, eta_min=α_min)`, with
/// restarts `CosineAnnealingWarmRestarts(T_0=T, T_mult=T_mult, eta_min=α_min)`. Reference:
/// Loshchilov & Hutter, "SGDR: stochastic gradient descent with warm restarts",
/// ICLR 2017.
#[derive(Debug, Clone)]
pub struct Cosine {
    /// α^(0).
    initial: LearningRate,
    /// α_min.
    floor: LearningRate,
    /// T, the first cycle's length in units.
    period: u64,
    /// Whether the rate restarts at α^(0) after each cycle.
    restarts: bool,
    /// T_mult, the factor by which each cycle is longer than the one before.
    period_multiplier: u64,
    /// The t the next step yields.
    t: u64,
}

impl Cosine {
    /// Annealing once over `period` units, then staying at `floor`.
    pub fn new(initial: LearningRate, floor: LearningRate, period: u64) -> Self {
        Self {
            initial,
            floor,
            period: period.max(1),
            restarts: false,
            period_multiplier: 1,
            t: 0,
        }
    }

    /// Restarting at α^(0) after each cycle, each `period_multiplier` times longer.
    pub fn with_restarts(mut self, period_multiplier: u64) -> Self {
        self.restarts = true;
        self.period_multiplier = period_multiplier.max(1);
        self
    }

    /// (t_cur, T_i): the position in the current cycle and that cycle's length.
    fn cycle_position(&self, t: u64) -> (u64, u64) {
        if !self.restarts {
            return (t.min(self.period), self.period);
        }
        if self.period_multiplier == 1 {
            return (t % self.period, self.period);
        }
        // Cycles grow geometrically, so this loop runs O(log t) times.
        let (mut start, mut length) = (0u64, self.period);
        while t - start >= length {
            start += length;
            length = length.saturating_mul(self.period_multiplier);
        }
        (t - start, length)
    }

    /// α^(t).
    pub fn at(&self, t: u64) -> LearningRate {
        let (position, length) = self.cycle_position(t);
        let phase = PI * position as f64 / length as f64;
        self.floor + 0.5 * (self.initial - self.floor) * (1.0 + phase.cos())
    }
}

closed_form_lr_scheduler!(Cosine);

schedule_config! {
    /// The `[schedule]` settings of `name = "cosine"`: see [`Cosine`] for the formula and each key's
    /// symbol.
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

impl ScheduleSettings for CosineScheduleConfig {
    fn validate(&self, initial: f64) -> Check {
        at_least_one("schedule.period", self.period)?;
        if !(self.min_learning_rate >= 0.0 && self.min_learning_rate <= initial) {
            return Err((
                "schedule.min_learning_rate",
                format!(
                    "must be in [0, optimizer.learning_rate = {initial}], got {}",
                    self.min_learning_rate
                ),
            ));
        }
        at_least_one("schedule.period_multiplier", self.period_multiplier)?;
        if !self.restarts && self.period_multiplier != 1 {
            return Err((
                "schedule.period_multiplier",
                "applies with restarts = true only".into(),
            ));
        }
        Ok(())
    }

    fn family(&self, initial: f64) -> Schedule {
        let cosine = Cosine::new(initial, self.min_learning_rate, self.period);
        Schedule::Cosine(if self.restarts {
            cosine.with_restarts(self.period_multiplier)
        } else {
            cosine
        })
    }
}

fn default_period_multiplier() -> u64 {
    1
}

#[cfg(test)]
mod tests {
    use burn::lr_scheduler::LrScheduler;

    use super::super::test_support::{assert_close, assert_record_round_trip};
    use super::*;

    /// ½ (1 + cos(π/4)) and ½ (1 − cos(π/4)): the quarter points of a cycle of 4 from 1 to 0.
    const QUARTER: f64 = 0.5 + std::f64::consts::SQRT_2 / 4.0;
    const THREE_QUARTERS: f64 = 0.5 - std::f64::consts::SQRT_2 / 4.0;

    #[test]
    fn anneals_to_the_floor_and_stays_without_restarts() {
        let mut schedule = Cosine::new(1.0, 0.0, 4);
        let rates: Vec<f64> = (0..7).map(|_| schedule.step()).collect();
        assert_eq!(rates[0], 1.0);
        assert_close(rates[1], QUARTER, "t = 1");
        assert_close(rates[2], 0.5, "t = 2");
        assert_close(rates[3], THREE_QUARTERS, "t = 3");
        assert_eq!(rates[4..], [0.0, 0.0, 0.0], "t ≥ T: the floor");
        // With a floor: α_min + ½ (α^(0) − α_min) at mid-cycle.
        assert_close(
            Cosine::new(0.1, 0.02, 10).at(5),
            0.06,
            "mid-cycle with a floor",
        );
        assert_eq!(Cosine::new(0.1, 0.02, 10).at(50), 0.02);
    }

    #[test]
    fn warm_restarts_return_to_alpha_zero_each_cycle() {
        let schedule = Cosine::new(1.0, 0.0, 4).with_restarts(1);
        for cycle in 0..3 {
            let t = 4 * cycle;
            assert_eq!(schedule.at(t), 1.0, "restart at t = {t}");
            assert_close(schedule.at(t + 1), QUARTER, "t = {t} + 1");
            assert_close(schedule.at(t + 2), 0.5, "t = {t} + 2");
        }
    }

    #[test]
    fn the_period_multiplier_lengthens_each_cycle() {
        // T = 4, T_mult = 2: cycles [0, 4), [4, 12), [12, 28), [28, 60).
        let schedule = Cosine::new(1.0, 0.0, 4).with_restarts(2);
        for restart in [0, 4, 12, 28] {
            assert_eq!(schedule.at(restart), 1.0, "restart at t = {restart}");
        }
        assert_close(schedule.at(8), 0.5, "middle of the 8-unit cycle");
        assert_close(
            schedule.at(16),
            QUARTER,
            "t = 16: 4 units into the 16-unit cycle",
        );
        assert_close(schedule.at(20), 0.5, "middle of the 16-unit cycle");
        assert_close(
            schedule.at(11),
            0.5 * (1.0 + (PI * 7.0 / 8.0).cos()),
            "t = 11",
        );
    }

    #[test]
    fn record_round_trip_across_restarts() {
        let make = || Cosine::new(0.1, 0.001, 3).with_restarts(2);
        assert_record_round_trip(make(), make(), 5, 30);
        let make = || Cosine::new(0.1, 0.001, 7);
        assert_record_round_trip(make(), make(), 5, 10);
    }
}
