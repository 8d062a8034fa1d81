//! burn-train's per-batch metric logs (`train/epoch-E/Loss.log`, ...; one value a line),
//! written through a buffer.
//!
//! Why not burn-train's `FileMetricLogger`, which writes the same files: it hands every value
//! to a logger thread per file, which writes it unbuffered (two `write` calls a line). At the
//! lecture's m = 10 a step is tens of microseconds, and three metrics a step cost three thread
//! wake-ups and six system calls on top of it. Here a line goes into a buffer that reaches the
//! file at the epoch's end (and whenever the learner reads a metric back). Only these logs
//! are buffered: `metrics.csv` and `steps.csv`, which `--resume` trusts, are written as before.
//! A log that cannot be written (a full disk) stops the run like any other file of it
//! ([`RunMonitor::write_failed`]).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use burn::train::logger::MetricLogger;
use burn::train::metric::store::{EpochSummary, MetricsUpdate, Split};
use burn::train::metric::{MetricDefinition, MetricId, NumericEntry};

use super::monitor::RunMonitor;
use crate::Error;

/// The per-batch logs of one run directory.
pub struct BufferedMetricLogger {
    directory: PathBuf,
    names: HashMap<MetricId, String>,
    /// Open logs of the current epoch, by metric and split (a path is built once an epoch,
    /// not once a step).
    files: HashMap<(MetricId, Split), (PathBuf, BufWriter<File>)>,
    epoch: Option<usize>,
    monitor: RunMonitor,
}

impl BufferedMetricLogger {
    pub fn new(directory: &Path, monitor: RunMonitor) -> Self {
        Self {
            directory: directory.to_path_buf(),
            names: HashMap::new(),
            files: HashMap::new(),
            epoch: None,
            monitor,
        }
    }

    /// `DIR/<split>/epoch-E/<metric name, spaces as _>.log`, as burn-train names them.
    fn path(&self, name: &str, epoch: usize, split: &Split) -> PathBuf {
        self.directory
            .join(split.to_string())
            .join(format!("epoch-{epoch}"))
            .join(format!("{}.log", name.replace(' ', "_")))
    }

    /// Writes the buffers out and closes the files.
    fn flush_all(&mut self) {
        for (_, (path, mut file)) in self.files.drain() {
            if let Err(error) = file.flush() {
                self.monitor.write_failed(Error::io("write", &path, error));
            }
        }
    }
}

impl MetricLogger for BufferedMetricLogger {
    fn log(&mut self, update: MetricsUpdate, epoch: usize, split: &Split) {
        if self.epoch != Some(epoch) {
            self.flush_all();
            self.epoch = Some(epoch);
        }
        let entries = update
            .entries
            .iter()
            .chain(update.entries_numeric.iter().map(|numeric| &numeric.entry));
        for entry in entries {
            let value = &entry.serialized_entry;
            if value.is_not_available() {
                continue;
            }
            let key = (entry.metric_id.clone(), split.clone());
            if !self.files.contains_key(&key) {
                let Some(name) = self.names.get(&entry.metric_id) else {
                    continue;
                };
                let path = self.path(name, epoch, split);
                let opened = path
                    .parent()
                    .map_or(Ok(()), std::fs::create_dir_all)
                    .and_then(|()| File::create(&path));
                match opened {
                    Ok(file) => {
                        self.files.insert(key.clone(), (path, BufWriter::new(file)));
                    }
                    Err(error) => {
                        self.monitor.write_failed(Error::io("write", &path, error));
                        continue;
                    }
                }
            }
            if let Some((path, file)) = self.files.get_mut(&key)
                && let Err(error) = writeln!(file, "{}", value.serialized)
            {
                self.monitor.write_failed(Error::io("write", path, error));
            }
        }
    }

    fn read_numeric(
        &mut self,
        name: &str,
        epoch: usize,
        split: &Split,
    ) -> Result<Vec<NumericEntry>, String> {
        let path = self.path(name, epoch, split);
        if let Some((_, file)) = self.files.values_mut().find(|(open, _)| *open == path) {
            file.flush()
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        text.lines()
            .filter(|line| !line.is_empty())
            .map(NumericEntry::deserialize)
            .collect()
    }

    fn log_metric_definition(&mut self, definition: MetricDefinition) {
        self.names
            .insert(definition.metric_id, definition.name.to_string());
    }

    fn log_epoch_summary(&mut self, _summary: EpochSummary) {
        self.flush_all();
    }
}

impl Drop for BufferedMetricLogger {
    fn drop(&mut self) {
        self.flush_all();
    }
}
