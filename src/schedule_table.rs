//! `sgdlab schedule`: the learning rate a config's schedule hands to each optimizer step,
//! computed without training, so a user can see a schedule before spending a run on it. The
//! same numbers, in the same format, as the `learning_rate` column of a run's `steps.csv`.

use std::path::Path;

use crate::Result;
use crate::config::{Config, ScheduleUnit};
use crate::files::write_new_file;
use crate::optim::schedule::learning_rates;
use crate::prepare::prepare_run;
use crate::train::data_parallel::training_steps_per_epoch;

/// Columns of the schedule CSV; `step`, `epoch` and `learning_rate` as in `steps.csv`.
pub const CSV_COLUMNS: [&str; 4] = ["step", "epoch", "t", "learning_rate"];

/// Rows shown on screen at most; the CSV always has every step.
pub const SHOWN_ROWS: usize = 50;

/// α for one optimizer step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScheduleRow {
    /// The optimizer step, from 1 (as in `steps.csv`).
    pub step: usize,
    /// The epoch the step belongs to, from 1.
    pub epoch: usize,
    /// The schedule's t: the step or epoch count from 0, in the schedule's unit.
    pub t: usize,
    /// α^(t), the learning rate in force at this step.
    pub learning_rate: f64,
}

/// A schedule evaluated step by step.
#[derive(Debug, Clone)]
pub struct ScheduleTable {
    /// The schedule's `name`.
    pub name: &'static str,
    pub unit: ScheduleUnit,
    /// α^(0), `optimizer.learning_rate`.
    pub initial: f64,
    pub train_examples: usize,
    pub batch_size: usize,
    /// ⌈n_train / m⌉.
    pub steps_per_epoch: usize,
    pub rows: Vec<ScheduleRow>,
}

/// The α of the first `steps` optimizer steps of `config` (default: every step of its
/// training, `training.epochs` × steps per epoch). Loads the data only to count the training
/// split, which fixes the number of steps per epoch.
pub fn schedule_table(config: &Config, steps: Option<usize>) -> Result<ScheduleTable> {
    let prepared = prepare_run(config, None)?;
    let train_examples = prepared.splits.train.len();
    let batch_size = config.training.batch_size;
    let steps_per_epoch = training_steps_per_epoch(&config.training, train_examples);
    let steps = steps.unwrap_or(config.training.epochs * steps_per_epoch);
    let schedule = config
        .schedule
        .build(config.optimizer.learning_rate(), steps_per_epoch);
    let unit = config.schedule.timing().unit;
    let rows = learning_rates(schedule, steps)
        .into_iter()
        .enumerate()
        .map(|(index, learning_rate)| {
            let epoch = index / steps_per_epoch;
            ScheduleRow {
                step: index + 1,
                epoch: epoch + 1,
                t: match unit {
                    ScheduleUnit::Step => index,
                    ScheduleUnit::Epoch => epoch,
                },
                learning_rate,
            }
        })
        .collect();
    Ok(ScheduleTable {
        name: config.schedule.name(),
        unit,
        initial: config.optimizer.learning_rate(),
        train_examples,
        batch_size,
        steps_per_epoch,
        rows,
    })
}

impl ScheduleTable {
    /// Every row as CSV, α written as `steps.csv` writes it (shortest exact decimal).
    pub fn to_csv(&self) -> String {
        let mut text = CSV_COLUMNS.join(",");
        text.push('\n');
        for row in &self.rows {
            text.push_str(&format!(
                "{},{},{},{}\n",
                row.step, row.epoch, row.t, row.learning_rate
            ));
        }
        text
    }

    /// Writes the CSV to `path`. An existing file is an error unless `overwrite`.
    pub fn write_csv(&self, path: &Path, overwrite: bool) -> Result<()> {
        write_new_file(path, &self.to_csv(), overwrite)
    }

    /// The table as text: a header line, then at most `max_rows` rows evenly spread over the
    /// schedule (always the first and the last).
    pub fn render(&self, max_rows: usize) -> String {
        let mut text = format!(
            "schedule {} (t in {}), α^(0) = {}; {} steps per epoch ({} training examples, batch {}); {} steps\n",
            self.name,
            self.unit.plural(),
            self.initial,
            self.steps_per_epoch,
            self.train_examples,
            self.batch_size,
            self.rows.len()
        );
        let shown = shown_indices(self.rows.len(), max_rows);
        if shown.len() < self.rows.len() {
            text.push_str(&format!(
                "({} of {} steps shown, evenly spaced)\n",
                shown.len(),
                self.rows.len()
            ));
        }
        text.push_str(&format!(
            "{:>8} {:>6} {:>8}  {}\n",
            "step", "epoch", "t", "learning_rate"
        ));
        for index in shown {
            let row = &self.rows[index];
            text.push_str(&format!(
                "{:>8} {:>6} {:>8}  {}\n",
                row.step, row.epoch, row.t, row.learning_rate
            ));
        }
        text
    }
}

/// Up to `max` indices of `0..count`, evenly spaced, first and last included.
fn shown_indices(count: usize, max: usize) -> Vec<usize> {
    if count <= max {
        return (0..count).collect();
    }
    let max = max.max(2);
    let mut indices: Vec<usize> = (0..max).map(|i| i * (count - 1) / (max - 1)).collect();
    indices.dedup();
    indices
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_indices_keep_the_ends_and_spread_evenly() {
        assert_eq!(shown_indices(3, 50), vec![0, 1, 2]);
        assert_eq!(shown_indices(101, 5), vec![0, 25, 50, 75, 100]);
        let many = shown_indices(1250, 50);
        assert_eq!(many.len(), 50);
        assert_eq!((many[0], many[49]), (0, 1249));
    }
}
