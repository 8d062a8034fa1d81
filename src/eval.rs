//! Evaluation of a run's checkpoint: reloads the run's resolved config, its data split and
//! stored standardization, and the chosen checkpoint; reports loss, accuracy and (for
//! classifiers) the confusion matrix; writes `eval.json` into the run dir.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

use crate::files::write_atomically;
use crate::model::{Metrics, Problem, evaluate};
use crate::prepare::prepare;
use crate::run_dir::RunDir;
use crate::train::checkpoint::{CheckpointChoice, choose_checkpoint, load_model};
use crate::{Error, Result, bail, device};

/// Which split to evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum SplitChoice {
    Train,
    Valid,
    Test,
}

impl fmt::Display for SplitChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SplitChoice::Train => "train",
            SplitChoice::Valid => "valid",
            SplitChoice::Test => "test",
        })
    }
}

/// What `sgdlab eval` reports and writes to `eval.json`.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub run_dir: PathBuf,
    pub checkpoint_epoch: usize,
    pub split: SplitChoice,
    pub device: String,
    #[serde(flatten)]
    pub metrics: Metrics,
}

/// Evaluates a run's checkpoint on one split. `split = None` picks test, else valid, else train.
pub fn evaluate_run(
    run: &RunDir,
    checkpoint: CheckpointChoice,
    split: Option<SplitChoice>,
    device_name: Option<&str>,
) -> Result<EvalReport> {
    let config = run.load_config()?;
    let device_name = device_name.unwrap_or(&config.training.device).to_string();
    let device = device::resolve(&device_name)?;
    let standardizer = run.load_standardizer()?;
    if config.data.standardize && standardizer.is_none() {
        bail!(
            "{}: the run standardizes its features but standardizer.json is missing",
            run.path.display()
        );
    }
    let prepared = prepare(
        &config.data,
        config.is_regression(),
        config.training.seed,
        standardizer.as_ref(),
    )?;
    let splits = prepared.splits;

    let split = match split {
        Some(split) => split,
        None if splits.test.is_some() => SplitChoice::Test,
        None if splits.valid.is_some() => SplitChoice::Valid,
        None => SplitChoice::Train,
    };
    let data = match split {
        SplitChoice::Train => Some(&splits.train),
        SplitChoice::Valid => splits.valid.as_ref(),
        SplitChoice::Test => splits.test.as_ref(),
    }
    .ok_or_else(|| {
        Error::new(format!(
            "--split {split}: the run has no {split} split (its {split} fraction is 0)"
        ))
    })?;

    let epoch = choose_checkpoint(run, checkpoint)?;
    let problem = Problem {
        dim: splits.train.dim,
        classes: splits.train.classes(),
    };
    let model = load_model(run, epoch, &config.model, problem, &device)?;
    let metrics = evaluate(&model, data, &device);
    let report = EvalReport {
        run_dir: run.path.clone(),
        checkpoint_epoch: epoch,
        split,
        device: device_name,
        metrics,
    };
    let path = run.eval_path();
    let json = serde_json::to_string_pretty(&report).expect("serializable");
    write_atomically(&path, (json + "\n").as_bytes())?;
    Ok(report)
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = &self.metrics;
        writeln!(
            f,
            "{} split, checkpoint epoch {}, {} examples",
            self.split, self.checkpoint_epoch, m.examples
        )?;
        writeln!(f, "loss      {:.6}", m.loss)?;
        if let Some(accuracy) = m.accuracy {
            writeln!(f, "accuracy  {accuracy:.4}")?;
        }
        if let Some(confusion) = &m.confusion {
            writeln!(f, "confusion (rows: true class, columns: predicted)")?;
            let width = confusion
                .iter()
                .flatten()
                .map(|c| c.to_string().len())
                .max()
                .unwrap_or(1)
                .max(confusion.len().to_string().len());
            write!(f, "{:>width$} ", "")?;
            for predicted in 0..confusion.len() {
                write!(f, " {predicted:>width$}")?;
            }
            writeln!(f)?;
            for (truth, row) in confusion.iter().enumerate() {
                write!(f, "{truth:>width$} ")?;
                for count in row {
                    write!(f, " {count:>width$}")?;
                }
                writeln!(f)?;
            }
        }
        Ok(())
    }
}
