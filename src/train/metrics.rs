//! Metrics on disk: `metrics.csv` (one row per epoch, train and validation side by side),
//! `steps.csv` (one row per optimizer step: the batch loss and the learning rate in force)
//! and, when stdout is not a terminal, one plain progress line per epoch.
//!
//! Plugged into burn-train as a [`MetricLogger`]: the learner reports every batch's running
//! epoch mean and an end-of-epoch summary per split; the row is written at each summary, so a
//! run interrupted mid-way still has every finished epoch on disk.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use burn::train::logger::MetricLogger;
use burn::train::metric::store::{EpochSummary, MetricsUpdate, Split};
use burn::train::metric::{MetricDefinition, MetricId, NumericEntry};

use super::data_parallel::DataParallelLayout;
use super::monitor::{RunMonitor, Validation};
use crate::files::{append_durably, write_atomically};
use crate::run_dir::{
    EpochRow, METRICS_COLUMNS, STEPS_COLUMNS, read_metrics_csv, write_metrics_csv,
};
use crate::{Error, Result};

/// One row of `steps.csv` (the step number and epoch are the log's own).
#[derive(Debug, Clone, Copy, Default)]
pub struct StepRow {
    /// The batch loss at the step's starting point.
    pub loss: Option<f64>,
    /// The α the step took.
    pub learning_rate: Option<f64>,
    /// ‖g‖ of the step's gradient (penalty included): the step length is α‖g‖.
    pub gradient_norm: Option<f64>,
    /// `ℓ(f_Θ) − ℓ(f*)` after the step.
    pub suboptimality: Option<f64>,
    /// How many times a line search evaluated the loss for this step.
    pub loss_evaluations: Option<usize>,
}

/// Where the plain progress line of each epoch goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressLines {
    Off,
    Stdout,
    /// Standard error: standard output carries a JSON document (`--json`).
    Stderr,
}

/// A run's metric files, `metrics.csv` and `steps.csv`, as both training paths write them
/// (burn-train's learner through [`EpochLog`], the full-batch line-search loop directly).
pub struct RunLog {
    path: PathBuf,
    steps_path: PathBuf,
    /// Optimizer steps taken so far, over the whole run (resumes included).
    step: usize,
    /// `steps.csv` rows not yet on disk; flushed at every epoch's end.
    pending_steps: String,
    rows: BTreeMap<usize, EpochRow>,
    print: ProgressLines,
    total_epochs: usize,
    started: Instant,
    elapsed_before: f64,
}

impl RunLog {
    /// The log at `path` and `steps_path`; when resuming after `resume_from` epochs, the
    /// earlier rows are kept (and any later, unfinished ones dropped).
    pub fn open(
        path: PathBuf,
        steps_path: PathBuf,
        resume_from: Option<usize>,
        print: ProgressLines,
        total_epochs: usize,
    ) -> Result<Self> {
        let mut rows = BTreeMap::new();
        if let Some(last) = resume_from
            && path.exists()
        {
            rows = read_metrics_csv(&path)?;
            rows.retain(|&epoch, _| epoch <= last);
        }
        let step = start_steps_file(&steps_path, resume_from)?;
        let elapsed_before = rows
            .values()
            .last()
            .and_then(|row| row.get("elapsed_seconds").copied())
            .unwrap_or(0.0);
        Ok(Self {
            path,
            steps_path,
            step,
            pending_steps: String::new(),
            rows,
            print,
            total_epochs,
            started: Instant::now(),
            elapsed_before,
        })
    }

    /// Optimizer steps taken so far (those of the epochs kept on resume included).
    pub fn steps_taken(&self) -> usize {
        self.step
    }

    /// Seconds of training so far, over the whole run (resumes included).
    pub fn elapsed_seconds(&self) -> f64 {
        self.elapsed_before + self.started.elapsed().as_secs_f64()
    }

    /// Appends the row of the step just taken in `epoch` (on disk at the epoch's end).
    pub fn push_step(&mut self, epoch: usize, row: StepRow) {
        self.step += 1;
        let cell = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
        self.pending_steps.push_str(&format!(
            "{},{epoch},{},{},{},{},{}\n",
            self.step,
            cell(row.loss),
            cell(row.learning_rate),
            cell(row.gradient_norm),
            cell(row.suboptimality),
            row.loss_evaluations
                .map(|n| n.to_string())
                .unwrap_or_default(),
        ));
    }

    /// Merges `values` into `epoch`'s row of `metrics.csv` and stamps the elapsed time; once
    /// the row is `complete` (training and validation both in), rewrites the file, prints
    /// the progress line and returns the row's validation figures. A row is on disk only
    /// whole: `--resume` trusts the rows it finds.
    pub fn record_epoch(
        &mut self,
        epoch: usize,
        values: impl IntoIterator<Item = (String, f64)>,
        complete: bool,
    ) -> Result<Option<Validation>> {
        self.flush_steps()?;
        let elapsed = self.elapsed_seconds();
        let row = self.rows.entry(epoch).or_default();
        row.insert("epoch".into(), epoch as f64);
        row.extend(values);
        row.insert("elapsed_seconds".into(), elapsed);
        if !complete {
            return Ok(None);
        }
        write_metrics_csv(&self.path, &self.rows)?;
        if self.print != ProgressLines::Off {
            self.print_row(epoch, &self.rows[&epoch]);
        }
        Ok(Some(Validation::of_row(&self.rows[&epoch])))
    }

    /// Writes the steps taken so far to `steps.csv`.
    pub fn flush_steps(&mut self) -> Result<()> {
        if self.pending_steps.is_empty() {
            return Ok(());
        }
        // On disk before the epoch's metrics row: `--resume` counts the steps of the epochs
        // whose rows it finds.
        let appended = append_durably(&self.steps_path, self.pending_steps.as_bytes());
        self.pending_steps.clear();
        appended
    }

    fn print_row(&self, epoch: usize, row: &EpochRow) {
        let mut line = format!("epoch {epoch}/{}", self.total_epochs);
        for column in &METRICS_COLUMNS[1..] {
            if let Some(value) = row.get(*column) {
                let value = if *column == "elapsed_seconds" {
                    format!("{value:.2}s")
                } else if *column == "suboptimality" {
                    format!("{value:.3e}")
                } else {
                    format!("{value:.6}")
                };
                line.push_str(&format!("  {column}={value}"));
            }
        }
        match self.print {
            ProgressLines::Off => {}
            ProgressLines::Stdout => println!("{line}"),
            ProgressLines::Stderr => eprintln!("{line}"),
        }
    }
}

/// Starts `steps.csv`: a fresh header, or on resume the rows of the epochs kept. Returns the
/// number of steps already taken.
fn start_steps_file(path: &Path, resume_from: Option<usize>) -> Result<usize> {
    let mut text = STEPS_COLUMNS.join(",");
    text.push('\n');
    let mut steps = 0;
    if let Some(last) = resume_from
        && path.exists()
    {
        let old = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
        let columns = old
            .lines()
            .next()
            .map_or(0, |header| header.split(',').count());
        for line in old.split_inclusive('\n').skip(1) {
            // A run killed mid-append can leave a cut-off last line (no newline yet): keep
            // whole rows only.
            let Some(line) = line.strip_suffix('\n') else {
                break;
            };
            let complete = line.split(',').count() == columns;
            let epoch: Option<usize> = line.split(',').nth(1).and_then(|e| e.parse().ok());
            if complete && epoch.is_some_and(|epoch| epoch <= last) {
                text.push_str(line);
                text.push('\n');
                steps += 1;
            }
        }
    }
    write_atomically(path, text.as_bytes())?;
    Ok(steps)
}

/// burn-train metric logger: turns the learner's metric updates into [`RunLog`] rows, and
/// stops the run at the first non-finite batch loss.
pub struct EpochLog {
    log: RunLog,
    names: HashMap<MetricId, String>,
    running: HashMap<String, f64>,
    has_valid: bool,
    monitor: RunMonitor,
    /// With several devices, burn-train logs one item per device and step: they are
    /// gathered into one row per optimizer step.
    devices: Option<DeviceItems>,
}

/// The items of the optimizer step being gathered.
struct DeviceItems {
    layout: Arc<DataParallelLayout>,
    epoch: usize,
    /// The step within the epoch (0-based).
    step: usize,
    losses: Vec<f64>,
}

impl EpochLog {
    pub fn new(
        log: RunLog,
        has_valid: bool,
        monitor: RunMonitor,
        layout: Option<Arc<DataParallelLayout>>,
    ) -> Self {
        Self {
            log,
            names: HashMap::new(),
            running: HashMap::new(),
            has_valid,
            monitor,
            devices: layout.map(|layout| DeviceItems {
                layout,
                epoch: 0,
                step: 0,
                losses: Vec::new(),
            }),
        }
    }

    /// With several devices: the step's batch loss once its last device item arrived (the
    /// mean of the items, which the training step weighted to make it the whole batch's
    /// loss), else `None`. With one device, every item is a step.
    fn gather(&mut self, epoch: usize, loss: Option<f64>) -> Option<Option<f64>> {
        let Some(items) = &mut self.devices else {
            return Some(loss);
        };
        if items.epoch != epoch {
            *items = DeviceItems {
                layout: items.layout.clone(),
                epoch,
                step: 0,
                losses: Vec::new(),
            };
        }
        items.losses.push(loss.unwrap_or(f64::NAN));
        if items.losses.len() < items.layout.devices_in_step(items.step) {
            return None;
        }
        let mean = items.losses.iter().sum::<f64>() / items.losses.len() as f64;
        items.losses.clear();
        items.step += 1;
        Some(loss.map(|_| mean))
    }

    /// [`RunLog::flush_steps`], a failure stopping the run.
    fn flush_steps(&mut self) {
        if let Err(error) = self.log.flush_steps() {
            self.monitor.write_failed(error);
        }
    }

    fn column(split: &Split, metric: &str) -> Option<String> {
        let metric = match metric {
            "Loss" => "loss",
            "Accuracy" => "accuracy",
            _ => return None,
        };
        match split {
            Split::Train => Some(format!("train_{metric}")),
            Split::Valid => Some(format!("valid_{metric}")),
            _ => None,
        }
    }
}

impl MetricLogger for EpochLog {
    fn log(&mut self, update: MetricsUpdate, epoch: usize, split: &Split) {
        if matches!(split, Split::Valid) && !self.has_valid {
            // burn-train validates on the empty stand-in loader anyway: its means are NaN,
            // figures of a split that does not exist.
            return;
        }
        // burn-train sends one update per batch, then one of epoch-final values: only the
        // former is an optimizer step.
        let epoch_final = update
            .entries_numeric
            .iter()
            .any(|n| matches!(n.numeric_entry, Some(NumericEntry::Final(_))));
        let step = matches!(split, Split::Train) && !epoch_final;
        let (mut batch_loss, mut learning_rate) = (None, None);
        for numeric in update.entries_numeric {
            let Some(name) = self.names.get(&numeric.entry.metric_id) else {
                continue;
            };
            let batch_value = numeric.numeric_entry.as_ref().map(NumericEntry::current);
            match name.as_str() {
                "Loss" => batch_loss = batch_value,
                // The epoch's learning rate is the one in force at its last step.
                "Learning Rate" => {
                    if step {
                        learning_rate = batch_value;
                    }
                    continue;
                }
                _ => {}
            }
            let Some(column) = Self::column(split, name) else {
                continue;
            };
            // The running entry is the epoch mean so far, weighted by batch size: at the end
            // of the epoch it is the mean over every example of the split.
            let value = match (&numeric.numeric_entry, &numeric.running_entry) {
                (Some(NumericEntry::Final(value)), _) => *value,
                (_, Some(running)) => running.current(),
                (Some(entry), None) => entry.current(),
                (None, None) => continue,
            };
            // burn-train counts accuracy in percent; sgdlab reports fractions everywhere.
            let value = if column.ends_with("accuracy") {
                value / 100.0
            } else {
                value
            };
            self.running.insert(column, value);
        }
        let batch_loss = if step {
            self.gather(epoch, batch_loss)
        } else {
            None
        };
        if let Some(batch_loss) = batch_loss {
            self.log.push_step(
                epoch,
                StepRow {
                    loss: batch_loss,
                    learning_rate,
                    ..StepRow::default()
                },
            );
            if let Some(rate) = learning_rate {
                self.running.insert("learning_rate".into(), rate);
            }
            if self.monitor.divergence().is_some() {
                // Training stops at this step: put the steps up to it on disk now.
                self.flush_steps();
            }
        }
    }

    fn read_numeric(
        &mut self,
        _name: &str,
        _epoch: usize,
        _split: &Split,
    ) -> std::result::Result<Vec<NumericEntry>, String> {
        // The learner reads metrics back from the per-batch logs (`batch_log`) beside us.
        Ok(Vec::new())
    }

    fn log_metric_definition(&mut self, definition: MetricDefinition) {
        self.names
            .insert(definition.metric_id, definition.name.to_string());
    }

    fn log_epoch_summary(&mut self, summary: EpochSummary) {
        let epoch = summary.epoch_number;
        let prefix = match summary.split {
            Split::Train => "train_",
            Split::Valid if self.has_valid => "valid_",
            _ => return,
        };
        if self
            .monitor
            .divergence()
            .is_some_and(|divergence| epoch >= divergence.epoch)
        {
            // The epoch was cut short: its means would mix finite and diverged steps.
            self.flush_steps();
            return;
        }
        let mut values: Vec<(String, f64)> = self
            .running
            .drain()
            .filter(|(column, _)| column.starts_with(prefix) || column == "learning_rate")
            .collect();
        if matches!(summary.split, Split::Train)
            && let Some(suboptimality) = self.monitor.suboptimality(epoch)
        {
            values.push(("suboptimality".into(), suboptimality));
        }
        let complete = matches!(summary.split, Split::Valid) || !self.has_valid;
        match self.log.record_epoch(epoch, values, complete) {
            Ok(Some(validation)) => self.monitor.record_validation(epoch, validation),
            Ok(None) => {}
            Err(error) => self.monitor.write_failed(error),
        }
    }
}
