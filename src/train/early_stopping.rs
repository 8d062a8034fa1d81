//! Early stopping, `[training] early_stopping_patience = P`: the run stops after the first
//! epoch that ends P epochs in a row none of which improved the watched validation figure
//! (`early_stopping_metric`) by more than `early_stopping_min_delta` δ over its best value so
//! far:
//!
//! ```text
//! improved(e)  ⇔  v_e < best − δ   (valid_loss; valid_accuracy: v_e > best + δ)
//! stale(e)     =  0 if improved(e), else stale(e − 1) + 1;   stop after e when stale(e) ≥ P
//! ```
//!
//! The best epoch is the one with the best value (the first of equal ones), whatever δ: it is
//! the epoch `--checkpoint best` names.
//!
//! Why not burn-train's `MetricEarlyStoppingStrategy` (`burn-train-0.22.1/src/learner/
//! early_stopping.rs`): it has no δ (an improvement is any `current < best`), and its state
//! (best epoch and value) starts afresh at every launch, from `f64::MAX` and epoch 1 with no
//! way to seed it, so a resumed run would count patience from the resume instead of from its
//! best epoch. Here the state is a fold over `metrics.csv`'s rows: a resumed run replays the
//! rows it keeps and continues exactly as an uninterrupted run would. Resuming a run that
//! stopped early (raising `training.epochs`, or not) continues it with a fresh count: patience
//! restarts after the epoch it stopped at, its best epoch stays.

use std::collections::BTreeMap;

use crate::config::{EarlyStoppingMetric, TrainingConfig};
use crate::run_dir::{EpochRow, RunInfo};

/// The outcome `run.json` gives a session that stopped early.
pub const EARLY_STOPPED: &str = "early_stopped";

/// The state of early stopping after some epochs.
#[derive(Debug, Clone, PartialEq)]
pub struct EarlyStopping {
    pub patience: usize,
    pub min_delta: f64,
    pub metric: EarlyStoppingMetric,
    /// The best epoch so far and its value.
    best: Option<(usize, f64)>,
    /// Epochs in a row without an improvement by more than δ.
    stale: usize,
    /// The last epoch seen.
    last: Option<usize>,
}

/// Where a run stopped early, for its report and `run.json`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct EarlyStop {
    /// The epoch the run stopped after.
    pub stopped_epoch: usize,
    pub best_epoch: usize,
    pub metric: EarlyStoppingMetric,
    /// The metric at the best epoch.
    pub best_value: f64,
    pub patience: usize,
    pub min_delta: f64,
}

impl EarlyStopping {
    /// Early stopping as `[training]` configures it, if it does.
    pub fn from_config(training: &TrainingConfig) -> Option<Self> {
        training.early_stopping_patience.map(|patience| Self {
            patience,
            min_delta: training.early_stopping_min_delta,
            metric: training.early_stopping_metric,
            best: None,
            stale: 0,
            last: None,
        })
    }

    /// The state after `rows` (a run's `metrics.csv` rows, up to the epoch it resumes after),
    /// patience restarting after each epoch where one of `info`'s sessions stopped early.
    pub fn replay(mut self, rows: &BTreeMap<usize, EpochRow>, info: &RunInfo) -> Self {
        let restarts: Vec<usize> = info
            .sessions
            .iter()
            .filter(|session| session.outcome == EARLY_STOPPED)
            .filter_map(|session| session.last_epoch)
            .collect();
        for (&epoch, row) in rows {
            self.observe(epoch, row.get(self.metric.column()).copied());
            if restarts.contains(&epoch) {
                self.stale = 0;
            }
        }
        self
    }

    /// Takes epoch `epoch`'s value of the metric (`None`: not measured, no improvement) and
    /// returns whether the run stops after it.
    pub fn observe(&mut self, epoch: usize, value: Option<f64>) -> bool {
        self.last = Some(epoch);
        let value = value.filter(|v| v.is_finite());
        let improved = match (value, self.best) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(v), Some((_, best))) => self.metric.improves(v, best, self.min_delta),
        };
        if let Some(v) = value
            && self
                .best
                .is_none_or(|(_, best)| self.metric.improves(v, best, 0.0))
        {
            self.best = Some((epoch, v));
        }
        self.stale = if improved { 0 } else { self.stale + 1 };
        self.should_stop()
    }

    /// Whether the epochs seen end in `patience` without improvement.
    pub fn should_stop(&self) -> bool {
        self.stale >= self.patience
    }

    /// The best epoch so far and its value.
    pub fn best(&self) -> Option<(usize, f64)> {
        self.best
    }

    /// Where the run stopped, if the epochs seen say it stops.
    pub fn stop(&self) -> Option<EarlyStop> {
        let (best_epoch, best_value) = self.best?;
        (self.should_stop()).then(|| EarlyStop {
            stopped_epoch: self.last.unwrap_or(best_epoch),
            best_epoch,
            metric: self.metric,
            best_value,
            patience: self.patience,
            min_delta: self.min_delta,
        })
    }
}

impl std::fmt::Display for EarlyStop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "early stopping: stopped after epoch {}, best epoch {} ({} = {:.6}): {} epochs without an improvement by more than {}",
            self.stopped_epoch,
            self.best_epoch,
            self.metric.column(),
            self.best_value,
            self.patience,
            self.min_delta
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run_dir::Session;

    fn stopping(patience: usize, min_delta: f64, metric: EarlyStoppingMetric) -> EarlyStopping {
        EarlyStopping::from_config(&TrainingConfig {
            early_stopping_patience: Some(patience),
            early_stopping_min_delta: min_delta,
            early_stopping_metric: metric,
            ..TrainingConfig::default()
        })
        .unwrap()
    }

    /// The epoch after which `values` (epochs 1, 2, ...) stop the run, if any.
    fn stops_after(mut state: EarlyStopping, values: &[f64]) -> Option<usize> {
        values
            .iter()
            .enumerate()
            .find(|&(i, &v)| state.observe(i + 1, Some(v)))
            .map(|(i, _)| i + 1)
    }

    #[test]
    fn patience_counts_epochs_without_improvement() {
        let loss = EarlyStoppingMetric::ValidLoss;
        // Best at epoch 3; epochs 4 and 5 are worse: patience 2 stops after 5.
        assert_eq!(
            stops_after(stopping(2, 0.0, loss), &[1.0, 0.8, 0.5, 0.6, 0.7, 0.1]),
            Some(5)
        );
        // An equal value is no improvement.
        assert_eq!(
            stops_after(stopping(2, 0.0, loss), &[1.0, 0.5, 0.5, 0.5]),
            Some(4)
        );
        assert_eq!(
            stops_after(stopping(3, 0.0, loss), &[1.0, 0.9, 0.8, 0.7]),
            None
        );
        // δ = 0.1: 0.95 and 0.9 improve by less than 0.1 (from 1.0), 0.85 improves 0.15 on
        // 1.0, but on the best so far 0.9 only 0.05: stale 1, 2, 3 → stop after 4.
        let mut state = stopping(3, 0.1, loss);
        assert_eq!(stops_after(state.clone(), &[1.0, 0.95, 0.9, 0.85]), Some(4));
        for (epoch, v) in [(1, 1.0), (2, 0.95), (3, 0.9), (4, 0.85)] {
            state.observe(epoch, Some(v));
        }
        // The best epoch is the lowest value's, not the last one that improved by δ.
        let stop = state.stop().unwrap();
        assert_eq!(
            (stop.stopped_epoch, stop.best_epoch, stop.best_value),
            (4, 4, 0.85)
        );
        // Accuracy: higher is better, the first of equal values is the best.
        let mut accuracy = stopping(2, 0.0, EarlyStoppingMetric::ValidAccuracy);
        assert_eq!(
            stops_after(accuracy.clone(), &[0.5, 0.9, 0.9, 0.8]),
            Some(4)
        );
        for (epoch, v) in [(1, 0.5), (2, 0.9), (3, 0.9), (4, 0.8)] {
            accuracy.observe(epoch, Some(v));
        }
        assert_eq!(accuracy.best(), Some((2, 0.9)));
        // A missing or non-finite value is never an improvement, nor a best.
        let mut state = stopping(1, 0.0, loss);
        assert!(!state.observe(1, Some(2.0)));
        assert!(state.observe(2, Some(f64::NAN)));
        assert_eq!(state.best(), Some((1, 2.0)));
        assert!(stopping(1, 0.0, loss).observe(1, None));
    }

    #[test]
    fn a_replay_continues_as_the_uninterrupted_run_and_restarts_after_an_early_stop() {
        let loss = EarlyStoppingMetric::ValidLoss;
        let values = [1.0, 0.5, 0.6, 0.7, 0.4, 0.45, 0.5, 0.55];
        let rows: BTreeMap<usize, EpochRow> = values
            .iter()
            .enumerate()
            .map(|(i, &v)| (i + 1, EpochRow::from([("valid_loss".to_string(), v)])))
            .collect();
        let upto = |n: usize| rows.range(..=n).map(|(&e, r)| (e, r.clone())).collect();
        let mut straight = stopping(3, 0.0, loss);
        let stop = (1..=8).find(|&e| straight.observe(e, Some(values[e - 1])));
        assert_eq!(stop, Some(8));
        // Resumed after epoch 6 (stale 1 since epoch 5's best): continues to the same stop.
        let info = RunInfo::default();
        let mut resumed = stopping(3, 0.0, loss).replay(&upto(6), &info);
        assert!(!resumed.observe(7, Some(0.5)));
        assert!(resumed.observe(8, Some(0.55)));
        assert_eq!(resumed, straight);
        // Resumed after it stopped early at 4 (patience 2): the count restarts after 4.
        let stopped = RunInfo {
            seed: 0,
            sessions: vec![Session {
                outcome: EARLY_STOPPED.into(),
                last_epoch: Some(4),
                ..Session::default()
            }],
        };
        let replayed = stopping(2, 0.0, loss).replay(&upto(4), &stopped);
        assert!(!replayed.should_stop());
        assert_eq!(replayed.best(), Some((2, 0.5)));
        // Without that record, the replay says the run stops there.
        assert!(stopping(2, 0.0, loss).replay(&upto(4), &info).should_stop());
    }
}
