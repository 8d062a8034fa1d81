//! `sgdlab runs [DIR]`: the run directories under a folder, with what tells them apart
//! (model, optimizer, α, m, epochs, schedule, device, outcome) and their final figures; and
//! [`RunSummary`], one run read back from its files, which `sgdlab sweep` builds its table
//! from.
//!
//! Everything here is read from what training wrote: `config.toml`, `metrics.csv` (through
//! [`read_metrics_csv`]), the last row of `steps.csv`, `run.json` and, when it evaluated the
//! test split, `eval.json`. Nothing is recomputed.

use std::cmp::Ordering;
use std::fmt;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::{Config, ModelKind};
use crate::run_dir::{EpochRow, RunDir, read_metrics_csv};
use crate::train::device_label;
use crate::{Error, Result};

/// One run, as its files tell it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    pub path: PathBuf,
    /// The directory's name.
    pub name: String,
    /// `logistic`, `softmax`, `linear`, or `mlp[64,32]` with the hidden widths.
    pub model: String,
    /// The optimizer's `name`.
    pub optimizer: String,
    /// α^(0), `optimizer.learning_rate`.
    pub learning_rate: f64,
    /// m, `training.batch_size`.
    pub batch_size: usize,
    /// `training.epochs`, as configured.
    pub epochs: usize,
    /// The last epoch in `metrics.csv` (0 when none finished).
    pub epochs_trained: usize,
    /// The schedule's `name`.
    pub schedule: String,
    /// The device of the last session (`training.device` when the run has no `run.json`).
    pub device: String,
    pub seed: u64,
    /// The last session's outcome in `run.json`: `finished`, `target_reached`, `diverged`,
    /// `failed`, `running` (also what a killed run shows), or `unknown` without `run.json`.
    pub outcome: String,
    /// The optimizer step whose loss diverged, when the run diverged.
    pub divergence_step: Option<usize>,
    /// Optimizer steps taken, the last row of `steps.csv` (0 when it has none).
    pub steps: usize,
    /// `elapsed_seconds` of the last epoch: training and validation time over every session.
    pub elapsed_seconds: Option<f64>,
    /// The last epoch's row of `metrics.csv` (`train_loss`, `valid_loss`, `valid_accuracy`,
    /// `suboptimality`, ...), empty when no epoch finished.
    pub last: EpochRow,
    /// The lowest `valid_loss` over the epochs.
    pub best_valid_loss: Option<f64>,
    /// The highest `valid_accuracy` over the epochs.
    pub best_valid_accuracy: Option<f64>,
    /// `eval.json`'s figures, when it evaluated the test split.
    pub test: Option<TestFigures>,
}

/// A checkpoint's loss and accuracy on the test split, from `eval.json`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TestFigures {
    pub checkpoint_epoch: usize,
    pub loss: f64,
    pub accuracy: Option<f64>,
}

impl RunSummary {
    /// Reads `run`'s files; errors name the file at fault (`run` is not a run directory when
    /// it has no `config.toml`).
    pub fn read(run: &RunDir) -> Result<Self> {
        let config = run.load_config()?;
        let rows = if run.metrics_path().exists() {
            read_metrics_csv(&run.metrics_path())?
        } else {
            Default::default()
        };
        let info = if run.run_info_path().exists() {
            Some(run.load_run_info(config.training.seed)?)
        } else {
            None
        };
        let session = info.as_ref().and_then(|info| info.sessions.last());
        let last = rows.values().next_back().cloned().unwrap_or_default();
        let column =
            |name: &'static str| rows.values().filter_map(move |row| row.get(name).copied());
        let divergence_step = session
            .and_then(|session| session.divergence.as_ref()?.get("step")?.as_u64())
            .map(|step| step as usize);
        Ok(Self {
            path: run.path.clone(),
            name: dir_name(&run.path),
            model: model_name(&config),
            optimizer: config.optimizer.name().to_string(),
            learning_rate: config.optimizer.learning_rate(),
            batch_size: config.training.batch_size,
            epochs: config.training.epochs,
            epochs_trained: rows.keys().next_back().copied().unwrap_or(0),
            schedule: config.schedule.name().to_string(),
            device: session.map_or_else(|| device_label(&config), |s| s.device.clone()),
            seed: config.training.seed,
            outcome: session.map_or_else(|| "unknown".to_string(), |s| s.outcome.clone()),
            divergence_step,
            steps: last_step(&run.steps_path())?,
            elapsed_seconds: last.get("elapsed_seconds").copied(),
            best_valid_loss: column("valid_loss").min_by(f64::total_cmp),
            best_valid_accuracy: column("valid_accuracy").max_by(f64::total_cmp),
            last,
            test: read_test_figures(run)?,
        })
    }

    /// Whether training ran to its end: `finished`, or stopped at its target suboptimality.
    pub fn completed(&self) -> bool {
        matches!(self.outcome.as_str(), "finished" | "target_reached")
    }
}

/// The test figures of `eval.json`, when it holds an evaluation of the test split.
pub fn read_test_figures(run: &RunDir) -> Result<Option<TestFigures>> {
    let path = run.eval_path();
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io("read", &path, e))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| Error::new(format!("{}: {e}", path.display())))?;
    if json.get("split").and_then(|s| s.as_str()) != Some("test") {
        return Ok(None);
    }
    let field = |name: &str| json.get(name).and_then(serde_json::Value::as_f64);
    let (Some(epoch), Some(loss)) = (
        json.get("checkpoint_epoch").and_then(|e| e.as_u64()),
        field("loss"),
    ) else {
        return Err(Error::new(format!(
            "{}: no checkpoint_epoch or loss",
            path.display()
        )));
    };
    Ok(Some(TestFigures {
        checkpoint_epoch: epoch as usize,
        loss,
        accuracy: field("accuracy"),
    }))
}

/// `mlp[64,32]` for an MLP, else the model's kind.
fn model_name(config: &Config) -> String {
    let kind = match config.model.kind {
        ModelKind::Logistic => "logistic",
        ModelKind::Softmax => "softmax",
        ModelKind::Linear => "linear",
        ModelKind::Mlp => {
            let widths: Vec<String> = config.model.hidden.iter().map(usize::to_string).collect();
            return format!("mlp[{}]", widths.join(","));
        }
    };
    kind.to_string()
}

fn dir_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// The step number of `steps.csv`'s last row, read from the file's end (a long run's file has
/// a row per step); 0 when the file is missing or has no rows.
fn last_step(path: &Path) -> Result<usize> {
    const TAIL: u64 = 4096;
    let Ok(mut file) = std::fs::File::open(path) else {
        return Ok(0);
    };
    let length = file
        .metadata()
        .map_err(|e| Error::io("read", path, e))?
        .len();
    file.seek(SeekFrom::Start(length.saturating_sub(TAIL)))
        .map_err(|e| Error::io("read", path, e))?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail)
        .map_err(|e| Error::io("read", path, e))?;
    let tail = String::from_utf8_lossy(&tail);
    let Some(line) = tail.lines().rev().find(|line| !line.trim().is_empty()) else {
        return Ok(0);
    };
    match line.split(',').next().map(str::trim) {
        Some("step") | None => Ok(0),
        Some(cell) => cell.parse().map_err(|_| {
            Error::new(format!(
                "{}: last row: not a step number: {cell:?}",
                path.display()
            ))
        }),
    }
}

/// What `sgdlab runs` can sort by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum SortKey {
    /// The directory name (the default: default run names end in their start time).
    #[default]
    Name,
    Model,
    Optimizer,
    LearningRate,
    BatchSize,
    Epochs,
    Schedule,
    Device,
    Outcome,
    TrainLoss,
    TrainAccuracy,
    ValidLoss,
    ValidAccuracy,
    TestLoss,
    TestAccuracy,
    Suboptimality,
    Steps,
    Time,
}

impl SortKey {
    /// Orders two runs: text alphabetically, numbers ascending except accuracies (highest
    /// first), so the best run by a figure comes first; runs without the figure go last.
    fn compare(self, a: &RunSummary, b: &RunSummary) -> Ordering {
        let text = |f: fn(&RunSummary) -> &str| f(a).cmp(f(b));
        let number = |f: fn(&RunSummary) -> Option<f64>, descending: bool| match (f(a), f(b)) {
            (Some(x), Some(y)) if descending => y.total_cmp(&x),
            (Some(x), Some(y)) => x.total_cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        fn metric(run: &RunSummary, name: &str) -> Option<f64> {
            run.last.get(name).copied()
        }
        match self {
            SortKey::Name => text(|r| &r.name),
            SortKey::Model => text(|r| &r.model),
            SortKey::Optimizer => text(|r| &r.optimizer),
            SortKey::Schedule => text(|r| &r.schedule),
            SortKey::Device => text(|r| &r.device),
            SortKey::Outcome => text(|r| &r.outcome),
            SortKey::LearningRate => number(|r| Some(r.learning_rate), false),
            SortKey::BatchSize => number(|r| Some(r.batch_size as f64), false),
            SortKey::Epochs => number(|r| Some(r.epochs_trained as f64), false),
            SortKey::Steps => number(|r| Some(r.steps as f64), false),
            SortKey::Time => number(|r| r.elapsed_seconds, false),
            SortKey::TrainLoss => number(|r| metric(r, "train_loss"), false),
            SortKey::TrainAccuracy => number(|r| metric(r, "train_accuracy"), true),
            SortKey::ValidLoss => number(|r| metric(r, "valid_loss"), false),
            SortKey::ValidAccuracy => number(|r| metric(r, "valid_accuracy"), true),
            SortKey::Suboptimality => number(|r| metric(r, "suboptimality"), false),
            SortKey::TestLoss => number(|r| r.test.map(|t| t.loss), false),
            SortKey::TestAccuracy => number(|r| r.test.and_then(|t| t.accuracy), true),
        }
        .then_with(|| a.name.cmp(&b.name))
    }
}

/// A directory `sgdlab runs` passed over, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

/// What `sgdlab runs` found under a folder.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Listing {
    pub root: PathBuf,
    pub runs: Vec<RunSummary>,
    pub skipped: Vec<Skipped>,
}

/// The run directories directly under `root`, sorted by `sort` (then by name), reversed when
/// `reverse`; `root` itself when it is a run directory. A directory that is not a run, or
/// whose files cannot be read, is skipped with the reason; only a `root` that is not a
/// readable directory is an error.
pub fn list_runs(root: &Path, sort: SortKey, reverse: bool) -> Result<Listing> {
    if !root.is_dir() {
        return Err(Error::new(format!("{}: no such directory", root.display())));
    }
    let candidates: Vec<PathBuf> = if RunDir::new(root).config_path().exists() {
        vec![root.to_path_buf()]
    } else {
        let entries = std::fs::read_dir(root).map_err(|e| Error::io("read", root, e))?;
        let mut paths: Vec<PathBuf> = entries
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.is_dir())
            .collect();
        paths.sort();
        paths
    };
    let mut runs = Vec::new();
    let mut skipped = Vec::new();
    for path in candidates {
        let run = RunDir::new(&path);
        if !run.config_path().exists() {
            let reason = if path.join("sweep.csv").exists() {
                format!(
                    "a sweep, not a run (list its runs with sgdlab runs {})",
                    path.display()
                )
            } else {
                "not a run directory (no config.toml)".to_string()
            };
            skipped.push(Skipped { path, reason });
            continue;
        }
        match RunSummary::read(&run) {
            Ok(summary) => runs.push(summary),
            Err(error) => skipped.push(Skipped {
                path,
                reason: error.to_string(),
            }),
        }
    }
    runs.sort_by(|a, b| sort.compare(a, b));
    if reverse {
        runs.reverse();
    }
    Ok(Listing {
        root: root.to_path_buf(),
        runs,
        skipped,
    })
}

/// A figure in a table cell: six significant digits, scientific for small suboptimalities.
fn cell(value: Option<f64>, scientific: bool) -> String {
    match value {
        None => "-".to_string(),
        Some(v) if scientific => format!("{v:.3e}"),
        Some(v) => format!("{v:.6}"),
    }
}

/// Lays out `rows` under `header` in columns two spaces apart: a column of figures (every
/// cell starts with a digit, a sign, a point or is `-`) right-aligned, text left-aligned.
pub fn aligned_table(header: &[String], rows: &[Vec<String>]) -> String {
    let figures: Vec<bool> = (0..header.len())
        .map(|c| {
            !rows.is_empty()
                && rows.iter().all(|row| {
                    row[c]
                        .chars()
                        .next()
                        .is_some_and(|first| first.is_ascii_digit() || "+-.".contains(first))
                })
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|row| row[c].chars().count())
                .chain([header[c].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut text = String::new();
    for row in std::iter::once(header).chain(rows.iter().map(Vec::as_slice)) {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (cell, &width))| {
                let pad = width - cell.chars().count();
                if figures[c] {
                    format!("{}{cell}", " ".repeat(pad))
                } else {
                    format!("{cell}{}", " ".repeat(pad))
                }
            })
            .collect();
        text.push_str(cells.join("  ").trim_end());
        text.push('\n');
    }
    text
}

impl fmt::Display for Listing {
    /// The table of runs; the skipped directories are the caller's to report (as notes).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.runs.is_empty() {
            return writeln!(f, "no run directories in {}", self.root.display());
        }
        let any = |name: &str| self.runs.iter().any(|r| r.last.contains_key(name));
        let has_test = self.runs.iter().any(|r| r.test.is_some());
        let mut header: Vec<String> = [
            "run",
            "model",
            "optimizer",
            "α",
            "m",
            "epochs",
            "schedule",
            "device",
            "outcome",
            "train_loss",
            "valid_loss",
            "valid_acc",
        ]
        .map(String::from)
        .to_vec();
        if has_test {
            header.extend(["test_loss".to_string(), "test_acc".to_string()]);
        }
        let suboptimality = any("suboptimality");
        if suboptimality {
            header.push("suboptimality".into());
        }
        let rows: Vec<Vec<String>> = self
            .runs
            .iter()
            .map(|run| {
                let metric = |name: &str| run.last.get(name).copied();
                let outcome = match run.divergence_step {
                    Some(step) => format!("{} at step {step}", run.outcome),
                    None => run.outcome.clone(),
                };
                let mut row = vec![
                    run.name.clone(),
                    run.model.clone(),
                    run.optimizer.clone(),
                    format!("{}", run.learning_rate),
                    run.batch_size.to_string(),
                    format!("{}/{}", run.epochs_trained, run.epochs),
                    run.schedule.clone(),
                    run.device.clone(),
                    outcome,
                    cell(metric("train_loss"), false),
                    cell(metric("valid_loss"), false),
                    cell(metric("valid_accuracy"), false),
                ];
                if has_test {
                    row.push(cell(run.test.map(|t| t.loss), false));
                    row.push(cell(run.test.and_then(|t| t.accuracy), false));
                }
                if suboptimality {
                    row.push(cell(metric("suboptimality"), true));
                }
                row
            })
            .collect();
        f.write_str(&aligned_table(&header, &rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_step_is_read_from_the_files_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("steps.csv");
        assert_eq!(last_step(&path).unwrap(), 0, "a missing file");
        std::fs::write(&path, "step,epoch,loss\n").unwrap();
        assert_eq!(last_step(&path).unwrap(), 0, "a header only");
        let mut text = "step,epoch,loss\n".to_string();
        for step in 1..=5000 {
            text.push_str(&format!("{step},{},0.5\n", step / 40 + 1));
        }
        std::fs::write(&path, &text).unwrap();
        assert_eq!(last_step(&path).unwrap(), 5000);
        std::fs::write(&path, "step,epoch\n1,1\nx,1\n").unwrap();
        let error = last_step(&path).unwrap_err().to_string();
        assert!(error.contains("steps.csv: last row"), "{error}");
    }

    #[test]
    fn tables_align_text_left_and_figures_right() {
        let header = ["run", "loss", "outcome"].map(String::from).to_vec();
        let rows = vec![
            vec!["a-long-name".into(), "0.5".into(), "finished".into()],
            vec!["b".into(), "12.25".into(), "diverged".into()],
        ];
        assert_eq!(
            aligned_table(&header, &rows),
            "run           loss  outcome\na-long-name    0.5  finished\nb            12.25  diverged\n"
        );
    }
}
