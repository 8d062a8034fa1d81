//! A run directory's figures, read back for plotting: `metrics.csv` (through the trainer's own
//! reader), `steps.csv` and the batch size from `config.toml`. Columns are found by name, so
//! columns added later (`suboptimality`, `loss_evaluations`, ...) are read without any change
//! here and columns a run lacks are simply not plotted.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use crate::run_dir::RunDir;
use crate::run_dir::{EpochRow, read_metrics_csv};
use crate::{Error, Result};

/// One run, as the figures need it.
#[derive(Debug, Clone)]
pub struct RunData {
    pub path: PathBuf,
    /// The run directory's name.
    pub name: String,
    /// The optimizer's name and α^(0), e.g. `sgd α=0.1`.
    pub optimizer: String,
    /// `training.batch_size`: examples per optimizer step.
    pub batch_size: usize,
    /// `metrics.csv`, by epoch.
    pub epochs: BTreeMap<usize, EpochRow>,
    /// `steps.csv`, if the run has one (runs from before it existed do not).
    pub steps: Option<Table>,
}

impl RunData {
    /// Reads `run`'s config, `metrics.csv` and `steps.csv`. Errors name the file at fault.
    pub fn load(run: &RunDir) -> Result<Self> {
        if !run.path.is_dir() {
            return Err(Error::new(format!(
                "{}: no such run directory",
                run.path.display()
            )));
        }
        let config = run.load_config()?;
        let metrics_path = run.metrics_path();
        let epochs = read_metrics_csv(&metrics_path)?;
        if epochs.is_empty() {
            return Err(Error::new(format!(
                "{}: no epochs (a header and no rows)",
                metrics_path.display()
            )));
        }
        let steps_path = run.steps_path();
        let steps = if steps_path.exists() {
            Some(Table::read(&steps_path)?)
        } else {
            None
        };
        let name = run
            .path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| run.path.display().to_string());
        Ok(Self {
            path: run.path.clone(),
            name,
            optimizer: format!(
                "{} α={}",
                config.optimizer.name(),
                config.optimizer.learning_rate()
            ),
            batch_size: config.training.batch_size,
            epochs,
            steps,
        })
    }

    /// `(epoch, column)` for every epoch that has `column`.
    pub fn per_epoch(&self, column: &str) -> Vec<(f64, f64)> {
        self.epochs
            .iter()
            .filter_map(|(&epoch, row)| Some((epoch as f64, *row.get(column)?)))
            .collect()
    }

    /// Whether any epoch has a value in `column`.
    pub fn has_epoch_column(&self, column: &str) -> bool {
        self.epochs.values().any(|row| row.contains_key(column))
    }

    /// Optimizer steps taken by the end of each epoch (the last step `steps.csv` numbers
    /// with that epoch).
    pub fn last_step_of_epochs(&self) -> BTreeMap<usize, f64> {
        let mut last = BTreeMap::new();
        if let Some(steps) = &self.steps {
            for (step, epoch) in steps.pairs("step", "epoch") {
                let entry = last.entry(epoch as usize).or_insert(step);
                *entry = f64::max(*entry, step);
            }
        }
        last
    }
}

/// A numeric CSV read by column name; an empty cell is a missing value.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub path: PathBuf,
    pub columns: Vec<String>,
    /// The cells row after row, `columns.len()` a row: one allocation for the whole file, as
    /// a long run's `steps.csv` has a row per optimizer step (a `Vec` per row cost twice the
    /// memory, and `sgdlab train` plots right after training).
    cells: Vec<Option<f64>>,
}

impl Table {
    /// A table of `rows`, each as long as `columns`.
    pub fn new(path: PathBuf, columns: Vec<String>, rows: &[Vec<Option<f64>>]) -> Self {
        assert!(
            rows.iter().all(|row| row.len() == columns.len()),
            "every row has a cell per column"
        );
        Self {
            path,
            columns,
            cells: rows.concat(),
        }
    }

    /// Reads `path`: a header row, then rows of numbers or empty cells, as many as the header
    /// has columns. Errors name the file and line.
    pub fn read(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io("read", path, e))?;
        let mut reader = BufReader::new(file);
        let mut line = String::new();
        let mut read_line = |line: &mut String| {
            line.clear();
            reader
                .read_line(line)
                .map_err(|e| Error::io("read", path, e))
        };
        read_line(&mut line)?;
        let columns: Vec<String> = match line.trim() {
            "" => return Err(Error::new(format!("{}: empty file", path.display()))),
            header => header.split(',').map(|c| c.trim().to_string()).collect(),
        };
        // Sized from the line count, read first: grown by doubling, the table's earlier copies
        // stay with the allocator (`sgdlab plot` of a 19,900-step run peaks at 36.3 MB, 38.3
        // MB grown).
        let mut cells = Vec::with_capacity(count_lines(path)?.saturating_sub(1) * columns.len());
        let mut line_number = 1;
        while read_line(&mut line)? > 0 {
            line_number += 1;
            // Rows are appended whole, newline last: a last line without one is a row still
            // being written (a live run) or cut off by a kill, not data.
            if !line.ends_with('\n') {
                break;
            }
            let line = line.trim_end_matches(['\n', '\r']);
            if line.trim().is_empty() {
                continue;
            }
            let count = line.split(',').count();
            if count != columns.len() {
                return Err(Error::new(format!(
                    "{}:{line_number}: {count} cells, the header has {}",
                    path.display(),
                    columns.len()
                )));
            }
            for (cell, name) in line.split(',').zip(&columns) {
                let cell = cell.trim();
                if cell.is_empty() {
                    cells.push(None);
                    continue;
                }
                let value = cell.parse().map_err(|_| {
                    Error::new(format!(
                        "{}:{line_number}: column {name}: not a number: {cell:?}",
                        path.display()
                    ))
                })?;
                cells.push(Some(value));
            }
        }
        Ok(Self {
            path: path.to_path_buf(),
            columns,
            cells,
        })
    }

    pub fn has_column(&self, name: &str) -> bool {
        self.columns.iter().any(|c| c == name)
    }

    /// The rows, in file order, each a cell per column.
    pub fn rows(&self) -> std::slice::ChunksExact<'_, Option<f64>> {
        self.cells.chunks_exact(self.columns.len())
    }

    pub fn row_count(&self) -> usize {
        self.cells.len() / self.columns.len()
    }

    /// `(x, y)` from the columns named `x` and `y`, for every row that has both.
    pub fn pairs(&self, x: &str, y: &str) -> Vec<(f64, f64)> {
        let position = |name: &str| self.columns.iter().position(|c| c == name);
        let (Some(x), Some(y)) = (position(x), position(y)) else {
            return Vec::new();
        };
        self.rows()
            .filter_map(|row| Some((row[x]?, row[y]?)))
            .collect()
    }
}

/// Lines in `path` (a last line without a newline counts).
fn count_lines(path: &Path) -> Result<usize> {
    let mut reader = BufReader::new(File::open(path).map_err(|e| Error::io("read", path, e))?);
    let (mut lines, mut last) = (0, b'\n');
    loop {
        let buffer = reader.fill_buf().map_err(|e| Error::io("read", path, e))?;
        let Some(&end) = buffer.last() else {
            break;
        };
        lines += buffer.iter().filter(|&&byte| byte == b'\n').count();
        last = end;
        let length = buffer.len();
        reader.consume(length);
    }
    Ok(lines + usize::from(last != b'\n'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Result<Table> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("steps.csv");
        std::fs::write(&path, text).unwrap();
        Table::read(&path)
    }

    #[test]
    fn tables_are_read_by_column_name_with_empty_cells_missing() {
        let t =
            table("step,epoch,loss,learning_rate,suboptimality\n1,1,0.5,0.1,\n2,1,0.4,0.1,0.02\n")
                .unwrap();
        assert_eq!(t.pairs("step", "loss"), vec![(1.0, 0.5), (2.0, 0.4)]);
        assert_eq!(t.pairs("step", "suboptimality"), vec![(2.0, 0.02)]);
        assert!(t.pairs("step", "absent").is_empty());
        assert!(t.has_column("suboptimality"));
    }

    #[test]
    fn a_row_still_being_appended_is_not_read() {
        // A live run's (or a killed one's) last row before its newline: "0.3" of "0.3125".
        let t = table("step,loss\n1,0.5\n2,0.3").unwrap();
        assert_eq!(t.pairs("step", "loss"), vec![(1.0, 0.5)]);
    }

    #[test]
    fn garbled_tables_are_errors_naming_file_and_line() {
        let error = table("step,loss\n1,0.5\n2,abc\n").unwrap_err().to_string();
        assert!(error.contains("steps.csv:3: column loss"), "{error}");
        let error = table("step,loss\n1,0.5,7\n").unwrap_err().to_string();
        assert!(error.contains("steps.csv:2: 3 cells"), "{error}");
        let error = table("").unwrap_err().to_string();
        assert!(error.contains("empty file"), "{error}");
    }
}
