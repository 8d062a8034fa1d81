//! What a run learns about itself as it goes, shared between the parts of the training loop
//! that measure it (the step, the metric log) and those that act on it (stopping rules,
//! checkpoint retention, the end-of-run report): the suboptimality of each epoch, whether ρ
//! was reached, whether the loss diverged, each epoch's validation figures and whether early
//! stopping ended the run.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use burn::train::Interrupter;
use burn::train::metric::store::{Aggregate, EventStoreClient, Split};
use serde::Serialize;

use super::early_stopping::{EarlyStop, EarlyStopping};
use crate::config::EarlyStoppingMetric;

/// The step at which a run diverged: its batch loss was not finite, or exceeded
/// `training.divergence_factor` times the session's first batch loss. Training stops there.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Divergence {
    pub epoch: usize,
    /// The optimizer step (1-based, over the whole run) whose batch loss was not finite.
    pub step: usize,
    /// The α in force at that step.
    pub learning_rate: f64,
    /// The loss itself: NaN, ±∞ or a huge number (written as a string in JSON).
    #[serde(serialize_with = "float_as_string")]
    pub loss: f64,
    /// The first batch loss of the session, which `loss` is compared with.
    pub first_loss: f64,
}

impl Divergence {
    /// Why this counts as divergence, for the error message.
    pub fn reason(&self) -> String {
        if self.loss.is_finite() {
            format!(
                "the batch loss {:e} is {:.0e} times the first step's {:.4}",
                self.loss,
                self.loss / self.first_loss,
                self.first_loss
            )
        } else {
            format!("the batch loss is {}", self.loss)
        }
    }
}

fn float_as_string<S: serde::Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&value.to_string())
}

/// A shared handle (the learner clones what it trains; every clone sees the same state).
#[derive(Clone, Default)]
pub struct RunMonitor {
    state: Arc<Mutex<MonitorState>>,
    steps_per_epoch: usize,
    /// A finite batch loss above this multiple of the first one counts as divergence.
    divergence_factor: f64,
    /// Stops burn-train's learner; absent in the full-batch loop, which checks itself.
    interrupter: Option<Interrupter>,
}

#[derive(Default)]
struct MonitorState {
    /// Optimizer steps taken over the whole run (resumes included).
    steps_taken: usize,
    /// The α of the last step taken: the one that moved Θ to where the next loss is measured.
    last_learning_rate: Option<f64>,
    /// The session's first batch loss, the scale divergence is judged against.
    first_loss: Option<f64>,
    suboptimality: BTreeMap<usize, f64>,
    divergence: Option<Divergence>,
    target_reached: Option<usize>,
    /// The validation figures of the last epoch whose `metrics.csv` row is on disk.
    validation: Option<(usize, Validation)>,
    early_stopping: Option<EarlyStopping>,
    /// The first file of the run that could not be written.
    write_failure: Option<crate::Error>,
}

/// An epoch's validation figures as `metrics.csv` holds them (absent: not measured).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Validation {
    pub loss: Option<f64>,
    pub accuracy: Option<f64>,
}

impl Validation {
    /// The figures of a `metrics.csv` row.
    pub fn of_row(row: &crate::run_dir::EpochRow) -> Self {
        Self {
            loss: row.get("valid_loss").copied(),
            accuracy: row.get("valid_accuracy").copied(),
        }
    }

    pub fn value(&self, metric: EarlyStoppingMetric) -> Option<f64> {
        match metric {
            EarlyStoppingMetric::ValidLoss => self.loss,
            EarlyStoppingMetric::ValidAccuracy => self.accuracy,
        }
    }
}

impl std::fmt::Debug for RunMonitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunMonitor").finish_non_exhaustive()
    }
}

impl RunMonitor {
    /// A monitor for a run of `steps_per_epoch` steps an epoch that has taken `steps_taken`
    /// (on resume); it stops the learner through `interrupter` when the run diverges.
    pub fn new(
        steps_per_epoch: usize,
        steps_taken: usize,
        divergence_factor: f64,
        interrupter: Option<Interrupter>,
    ) -> Self {
        let state = MonitorState {
            steps_taken,
            ..MonitorState::default()
        };
        Self {
            state: Arc::new(Mutex::new(state)),
            steps_per_epoch: steps_per_epoch.max(1),
            divergence_factor,
            interrupter,
        }
    }

    /// Checks the batch loss of the step about to be taken, where the previous step's α put
    /// Θ. On divergence: records it, stops the learner (before it checkpoints the epoch) and
    /// returns true. The check is synchronous, so the step named is exact.
    pub fn check_loss(&self, loss: f64) -> bool {
        let (first_loss, step, learning_rate) = {
            let mut state = self.lock();
            let first_loss = *state.first_loss.get_or_insert(loss);
            (
                first_loss,
                state.steps_taken + 1,
                state.last_learning_rate.unwrap_or(f64::NAN),
            )
        };
        let diverged = !loss.is_finite()
            || (first_loss.is_finite() && loss > self.divergence_factor * first_loss.max(1e-12));
        if diverged {
            self.diverged(Divergence {
                epoch: (step - 1) / self.steps_per_epoch + 1,
                step,
                learning_rate,
                loss,
                first_loss,
            });
        }
        diverged
    }

    /// Optimizer steps taken so far in the run (resumed runs included).
    pub fn steps_taken(&self) -> usize {
        self.lock().steps_taken
    }

    /// Counts an optimizer step taken with `learning_rate`; returns the epoch it completed,
    /// if it was an epoch's last step.
    pub fn step_taken(&self, learning_rate: f64) -> Option<usize> {
        let mut state = self.lock();
        state.steps_taken += 1;
        state.last_learning_rate = Some(learning_rate);
        let steps = state.steps_taken;
        steps
            .is_multiple_of(self.steps_per_epoch)
            .then_some(steps / self.steps_per_epoch)
    }

    fn lock(&self) -> MutexGuard<'_, MonitorState> {
        self.state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Records the divergence and stops the learner before it checkpoints the diverged
    /// parameters: the last checkpoint on disk stays the last finite one.
    fn diverged(&self, divergence: Divergence) {
        let mut state = self.lock();
        if state.divergence.is_none() {
            state.divergence = Some(divergence);
            if let Some(interrupter) = &self.interrupter {
                interrupter.stop(Some("the loss is not finite"));
            }
        }
    }

    pub fn divergence(&self) -> Option<Divergence> {
        self.lock().divergence
    }

    /// A file of the run could not be written (a full disk, a quota): records the first such
    /// error and stops the learner, which then checkpoints nothing more. A run that cannot
    /// write its files only wastes its time; it stops and says so, and `--resume` continues it
    /// from its last complete epoch once there is room.
    pub fn write_failed(&self, error: crate::Error) {
        let mut state = self.lock();
        if state.write_failure.is_none() {
            state.write_failure = Some(error);
            if let Some(interrupter) = &self.interrupter {
                interrupter.stop(Some("a file of the run could not be written"));
            }
        }
    }

    pub fn write_failure(&self) -> Option<crate::Error> {
        self.lock().write_failure.clone()
    }

    /// `ℓ(f_Θ) − ℓ(f*)` at the end of `epoch`.
    pub fn record_suboptimality(&self, epoch: usize, value: f64) {
        self.lock().suboptimality.insert(epoch, value);
    }

    pub fn suboptimality(&self, epoch: usize) -> Option<f64> {
        self.lock().suboptimality.get(&epoch).copied()
    }

    /// Marks ρ reached at the end of `epoch` (the first such epoch is kept).
    pub fn reach_target(&self, epoch: usize) {
        self.lock().target_reached.get_or_insert(epoch);
    }

    /// The epoch at whose end ρ was first reached.
    pub fn target_reached(&self) -> Option<usize> {
        self.lock().target_reached
    }

    /// Records `epoch`'s validation figures, once its `metrics.csv` row is on disk.
    pub fn record_validation(&self, epoch: usize, validation: Validation) {
        self.lock().validation = Some((epoch, validation));
    }

    /// `epoch`'s validation figures, if they were the last recorded.
    pub fn validation(&self, epoch: usize) -> Option<Validation> {
        self.lock()
            .validation
            .filter(|&(recorded, _)| recorded == epoch)
            .map(|(_, validation)| validation)
    }

    /// Watches the run with `early_stopping` (already fed the epochs it resumes after).
    pub fn start_early_stopping(&self, early_stopping: EarlyStopping) {
        self.lock().early_stopping = Some(early_stopping);
    }

    pub fn has_early_stopping(&self) -> bool {
        self.lock().early_stopping.is_some()
    }

    /// Feeds `epoch`'s recorded validation figure to early stopping; whether the run stops
    /// after it (false without early stopping).
    pub fn stops_early_after(&self, epoch: usize) -> bool {
        let mut state = self.lock();
        let value = state
            .validation
            .filter(|&(recorded, _)| recorded == epoch)
            .map(|(_, validation)| validation);
        match &mut state.early_stopping {
            Some(early_stopping) => {
                let value = value.and_then(|v| v.value(early_stopping.metric));
                early_stopping.observe(epoch, value)
            }
            None => false,
        }
    }

    /// Where early stopping ended the run, if it did.
    pub fn early_stop(&self) -> Option<EarlyStop> {
        self.lock().early_stopping.as_ref()?.stop()
    }
}

/// Returns once burn-train's event store has handed `epoch`'s metrics to the loggers, so that
/// its `metrics.csv` row is on disk and recorded in the [`RunMonitor`]. The learner flushes its
/// event processor before it checkpoints or asks whether to stop, which sends every event of
/// the epoch to the store's thread; the store answers queries on that same channel, in order,
/// so any query returns after them.
pub fn wait_for_epoch_logs(store: &EventStoreClient, epoch: usize) {
    let _ = store.find_metric("Loss", epoch, Aggregate::Mean, &Split::Valid);
}

/// burn-train's end-of-epoch stopping rules: ρ reached, or early stopping's patience used up.
#[derive(Clone)]
pub struct StopRules {
    /// ρ, when `target_suboptimality` is set.
    pub target: Option<f64>,
    pub monitor: RunMonitor,
}

impl burn::train::EarlyStoppingStrategy for StopRules {
    fn should_stop(&mut self, epoch: usize, store: &EventStoreClient) -> bool {
        if let Some(target) = self.target {
            let mut rule = StopAtTarget {
                target,
                monitor: self.monitor.clone(),
            };
            if rule.should_stop(epoch, store) {
                return true;
            }
        }
        if !self.monitor.has_early_stopping() {
            return false;
        }
        wait_for_epoch_logs(store, epoch);
        self.monitor.stops_early_after(epoch)
    }
}

/// burn-train early stopping at ρ: the run ends after the first epoch whose suboptimality is
/// below the target (that epoch is checkpointed first).
#[derive(Clone)]
pub struct StopAtTarget {
    pub target: f64,
    pub monitor: RunMonitor,
}

impl burn::train::EarlyStoppingStrategy for StopAtTarget {
    fn should_stop(&mut self, epoch: usize, _store: &EventStoreClient) -> bool {
        let reached = self
            .monitor
            .suboptimality(epoch)
            .is_some_and(|value| value < self.target);
        if reached {
            self.monitor.reach_target(epoch);
        }
        reached
    }
}
