//! Metrics on disk: `metrics.csv` (one row per epoch, train and validation side by side),
//! `steps.csv` (one row per optimizer step: the batch loss and the learning rate in force)
//! and, when stdout is not a terminal, one plain progress line per epoch.
//!
//! Plugged into burn-train as a [`MetricLogger`]: the learner reports every batch's running
//! epoch mean and an end-of-epoch summary per split; the row is written at each summary, so a
//! run interrupted mid-way still has every finished epoch on disk.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::train::logger::MetricLogger;
use burn::train::metric::store::{EpochSummary, MetricsUpdate, Split};
use burn::train::metric::{MetricDefinition, MetricId, NumericEntry};

use crate::{Error, Result};

/// Column names of `metrics.csv`, in order.
pub const COLUMNS: [&str; 7] = [
    "epoch",
    "train_loss",
    "train_accuracy",
    "valid_loss",
    "valid_accuracy",
    "learning_rate",
    "elapsed_seconds",
];

/// One epoch's figures, by column name (absent: not measured, e.g. no validation split).
pub type EpochRow = BTreeMap<String, f64>;

/// Reads a run's `metrics.csv` into rows keyed by epoch.
pub fn read_csv(path: &Path) -> Result<BTreeMap<usize, EpochRow>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let mut rows = BTreeMap::new();
    for (index, line) in lines.enumerate() {
        let line_number = index + 2;
        let mut row = EpochRow::new();
        for (name, cell) in header.iter().zip(line.split(',')) {
            if cell.is_empty() {
                continue;
            }
            let value: f64 = cell.parse().map_err(|_| {
                Error::new(format!(
                    "{}:{line_number}: column {name}: not a number: {cell:?}",
                    path.display()
                ))
            })?;
            row.insert((*name).to_string(), value);
        }
        let epoch = row
            .get("epoch")
            .copied()
            .ok_or_else(|| Error::new(format!("{}:{line_number}: no epoch", path.display())))?;
        rows.insert(epoch as usize, row);
    }
    Ok(rows)
}

fn write_csv(path: &Path, rows: &BTreeMap<usize, EpochRow>) -> std::io::Result<()> {
    let mut text = COLUMNS.join(",");
    text.push('\n');
    for row in rows.values() {
        let cells: Vec<String> = COLUMNS
            .iter()
            .map(|c| row.get(*c).map(|v| format!("{v}")).unwrap_or_default())
            .collect();
        text.push_str(&cells.join(","));
        text.push('\n');
    }
    // Write then rename, so a reader never sees half a file.
    let partial = path.with_extension("csv.partial");
    std::fs::write(&partial, text)?;
    std::fs::rename(partial, path)
}

/// Header of `steps.csv`.
pub const STEP_COLUMNS: [&str; 4] = ["step", "epoch", "loss", "learning_rate"];

/// burn-train metric logger writing `metrics.csv` and `steps.csv`.
pub struct EpochLog {
    path: PathBuf,
    steps_path: PathBuf,
    /// Optimizer steps taken so far, over the whole run (resumes included).
    step: usize,
    /// `steps.csv` rows not yet on disk; flushed at every epoch summary.
    pending_steps: String,
    rows: BTreeMap<usize, EpochRow>,
    names: HashMap<MetricId, String>,
    running: HashMap<String, f64>,
    has_valid: bool,
    print: bool,
    total_epochs: usize,
    started: Instant,
    elapsed_before: f64,
}

impl EpochLog {
    /// A log at `path`; when resuming after `resume_from` epochs, the earlier rows are kept
    /// (and any later, unfinished ones dropped).
    pub fn new(
        path: PathBuf,
        steps_path: PathBuf,
        resume_from: Option<usize>,
        has_valid: bool,
        print: bool,
        total_epochs: usize,
    ) -> Result<Self> {
        let mut rows = BTreeMap::new();
        if let Some(last) = resume_from
            && path.exists()
        {
            rows = read_csv(&path)?;
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
            names: HashMap::new(),
            running: HashMap::new(),
            has_valid,
            print,
            total_epochs,
            started: Instant::now(),
            elapsed_before,
        })
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

    fn print_row(&self, epoch: usize, row: &EpochRow) {
        let mut line = format!("epoch {epoch}/{}", self.total_epochs);
        for column in &COLUMNS[1..] {
            if let Some(value) = row.get(*column) {
                let value = if *column == "elapsed_seconds" {
                    format!("{value:.2}s")
                } else {
                    format!("{value:.6}")
                };
                line.push_str(&format!("  {column}={value}"));
            }
        }
        println!("{line}");
    }
}

/// Starts `steps.csv`: a fresh header, or on resume the rows of the epochs kept. Returns the
/// number of steps already taken.
fn start_steps_file(path: &Path, resume_from: Option<usize>) -> Result<usize> {
    let mut text = STEP_COLUMNS.join(",");
    text.push('\n');
    let mut steps = 0;
    if let Some(last) = resume_from
        && path.exists()
    {
        let old = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
        for line in old.lines().skip(1) {
            let epoch: Option<usize> = line.split(',').nth(1).and_then(|e| e.parse().ok());
            if epoch.is_some_and(|epoch| epoch <= last) {
                text.push_str(line);
                text.push('\n');
                steps += 1;
            }
        }
    }
    std::fs::write(path, text).map_err(|e| Error::io("write", path, e))?;
    Ok(steps)
}

impl EpochLog {
    /// Optimizer steps already on disk (those of the epochs kept on resume).
    pub fn steps_taken(&self) -> usize {
        self.step
    }

    fn flush_steps(&mut self) {
        if self.pending_steps.is_empty() {
            return;
        }
        let appended = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.steps_path)
            .and_then(|mut file| {
                use std::io::Write;
                file.write_all(self.pending_steps.as_bytes())
            });
        if let Err(e) = appended {
            eprintln!("warning: cannot write {}: {e}", self.steps_path.display());
        }
        self.pending_steps.clear();
    }
}

impl MetricLogger for EpochLog {
    fn log(&mut self, update: MetricsUpdate, epoch: usize, split: &Split) {
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
        if step {
            self.step += 1;
            let cell = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
            self.pending_steps.push_str(&format!(
                "{},{epoch},{},{}\n",
                self.step,
                cell(batch_loss),
                cell(learning_rate)
            ));
            if let Some(rate) = learning_rate {
                self.running.insert("learning_rate".into(), rate);
            }
        }
    }

    fn read_numeric(
        &mut self,
        _name: &str,
        _epoch: usize,
        _split: &Split,
    ) -> std::result::Result<Vec<NumericEntry>, String> {
        // The learner reads metrics back from the file logger burn-train registers beside us.
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
            Split::Valid => "valid_",
            _ => return,
        };
        self.flush_steps();
        let row = self.rows.entry(epoch).or_default();
        row.insert("epoch".into(), epoch as f64);
        for (column, value) in self.running.drain() {
            if column.starts_with(prefix) || column == "learning_rate" {
                row.insert(column, value);
            }
        }
        row.insert(
            "elapsed_seconds".into(),
            self.elapsed_before + self.started.elapsed().as_secs_f64(),
        );
        let row = row.clone();
        if let Err(e) = write_csv(&self.path, &self.rows) {
            eprintln!("warning: cannot write {}: {e}", self.path.display());
        }
        let epoch_done = matches!(summary.split, Split::Valid) || !self.has_valid;
        if self.print && epoch_done {
            self.print_row(epoch, &row);
        }
    }
}
