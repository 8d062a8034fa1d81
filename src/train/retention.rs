//! Checkpoint retention, `[training] keep_checkpoints = N`: of the epochs whose checkpoint is
//! complete (every part on disk) and whose `metrics.csv` row is written, the last N stay, and
//! the best one (by `--checkpoint best`'s metric: the lowest validation loss, or early
//! stopping's metric); every other epoch's files are deleted. A checkpoint still being written
//! is never counted, nor deleted, so at every moment the last N resumable epochs and the best
//! one are on disk: a run killed at any point resumes, and `eval --checkpoint best` loads the
//! best epoch.
//!
//! Why not burn-train's `KeepLastNCheckpoints` composed with `MetricCheckpointingStrategy`
//! (`burn-train-0.22.1/src/checkpoint/strategy/{lastn,metric,composed}.rs`):
//!
//! - `KeepLastNCheckpoints` deletes epoch e − N in the same breath as it saves epoch e, and the
//!   learner writes the model, optimizer and scheduler records on three threads of their own
//!   (`AsyncCheckpointer`, `checkpoint/async_checkpoint.rs`), so with small N, or epochs
//!   shorter than a checkpoint's write, a SIGKILL can leave no complete epoch on disk.
//! - `MetricCheckpointingStrategy` ranks epochs by the event store's mean of the per-batch
//!   validation logs, while `--checkpoint best` ranks `metrics.csv`, and it only ranks the
//!   loss; its `current` best starts as `None` at every launch, so after a `--resume` the
//!   earlier best is never deleted.
//! - `ComposedCheckpointingStrategy` deletes an epoch once every strategy flagged it, flags
//!   held in memory: an epoch flagged before a `--resume`, or left by a SIGKILL between a save
//!   and a delete, stays on disk for good.
//!
//! Here every decision is taken from what is on disk and in `metrics.csv`, so it holds across
//! resumes and kills.

use std::collections::BTreeMap;

use burn::train::checkpoint::{CheckpointingAction, CheckpointingStrategy};
use burn::train::metric::store::EventStoreClient;

use super::checkpoint::{best_epoch, checkpoint_parts, delete_checkpoint};
use super::monitor::{RunMonitor, wait_for_epoch_logs};
use crate::config::EarlyStoppingMetric;
use crate::run_dir::{EpochRow, RunDir};

/// What retention knows of a run: which epochs have their `metrics.csv` row, and their
/// value of the ranking metric.
#[derive(Debug, Clone)]
pub struct Retention {
    run: RunDir,
    keep: usize,
    metric: EarlyStoppingMetric,
    /// The record files an epoch's checkpoint consists of (`model` only for line search).
    parts: &'static [&'static str],
    /// Epochs whose row is on disk, and their metric (`None`: not measured).
    recorded: BTreeMap<usize, Option<f64>>,
}

impl Retention {
    /// Retention of the last `keep` epochs of `run`, ranked by `metric`, its checkpoints made
    /// of `parts`; `rows` are the `metrics.csv` rows the run continues after.
    pub fn new(
        run: &RunDir,
        keep: usize,
        metric: EarlyStoppingMetric,
        parts: &'static [&'static str],
        rows: &BTreeMap<usize, EpochRow>,
    ) -> Self {
        Self {
            run: run.clone(),
            keep,
            metric,
            parts,
            recorded: rows
                .iter()
                .map(|(&epoch, row)| (epoch, row.get(metric.column()).copied()))
                .collect(),
        }
    }

    /// Notes that `epoch`'s row is on disk, with this value of the metric.
    pub fn record(&mut self, epoch: usize, value: Option<f64>) {
        self.recorded.insert(epoch, value);
    }

    /// The epochs with files in `checkpoint/` that are no longer needed: all but the last
    /// `keep` complete, recorded ones and the best of those, and (unless `writing`: a save may
    /// be under way) the incomplete ones.
    pub fn obsolete(&mut self, writing: bool) -> Vec<usize> {
        let on_disk = checkpoint_parts(&self.run);
        let complete: Vec<usize> = on_disk
            .iter()
            .filter(|(epoch, parts)| {
                self.recorded.contains_key(epoch) && self.parts.iter().all(|p| parts.contains(p))
            })
            .map(|(&epoch, _)| epoch)
            .collect();
        let mut kept: Vec<usize> = complete.iter().rev().take(self.keep).copied().collect();
        let ranked = complete
            .iter()
            .filter_map(|epoch| self.recorded[epoch].map(|value| (*epoch, value)));
        kept.extend(best_epoch(ranked, self.metric));
        // Rows of epochs gone from disk are no longer needed.
        self.recorded.retain(|epoch, _| {
            on_disk.contains_key(epoch) || *epoch > *complete.last().unwrap_or(&0)
        });
        on_disk
            .into_keys()
            .filter(|epoch| !kept.contains(epoch) && (!writing || complete.contains(epoch)))
            .collect()
    }

    /// Deletes every obsolete epoch's files now (no save under way).
    pub fn prune(&mut self) -> crate::Result<()> {
        for epoch in self.obsolete(false) {
            delete_checkpoint(&self.run, epoch)?;
        }
        Ok(())
    }
}

/// burn-train's checkpointing with retention: saves every epoch, and deletes what
/// [`Retention::obsolete`] names (through the learner's checkpointers, after the saves they
/// already queued).
pub struct KeepRecent {
    pub retention: std::sync::Arc<std::sync::Mutex<Retention>>,
    pub monitor: RunMonitor,
}

impl CheckpointingStrategy for KeepRecent {
    fn checkpointing(
        &mut self,
        epoch: usize,
        store: &EventStoreClient,
    ) -> Vec<CheckpointingAction> {
        wait_for_epoch_logs(store, epoch);
        let mut retention = self
            .retention
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(validation) = self.monitor.validation(epoch) {
            let metric = retention.metric;
            retention.record(epoch, validation.value(metric));
        }
        std::iter::once(CheckpointingAction::Save)
            .chain(
                retention
                    .obsolete(true)
                    .into_iter()
                    .map(CheckpointingAction::Delete),
            )
            .collect()
    }
}
