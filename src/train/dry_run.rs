//! `sgdlab train --dry-run`: everything training does before its first step (config, data,
//! split, standardization, the model on the device, the run dir it would use, for `--resume`
//! the checkpoint it would continue from) and nothing it writes.
//!
//! Also home of the check `--resume` runs on the checkpoint it is about to continue: burn-train
//! panics on a checkpoint it cannot load, so a bad one is refused here first, naming the file.

use std::fmt;
use std::path::PathBuf;

use burn::module::Module;

use crate::Result;
use crate::train::data_parallel::training_steps_per_epoch;

use super::{Setup, TrainRequest, set_up};

/// What a training run would do, as `sgdlab train --dry-run` prints it.
#[derive(Debug, Clone, PartialEq)]
pub struct DryRunSummary {
    /// The run dir training would create (or, with `resume_after`, continue).
    pub run_dir: PathBuf,
    /// `--resume`: the last complete checkpoint's epoch, which training would continue after.
    pub resume_after: Option<usize>,
    /// The data source's name (`breast_cancer`, `csv`, ...).
    pub source: String,
    pub train_examples: usize,
    pub valid_examples: usize,
    pub test_examples: usize,
    /// Features per example.
    pub features: usize,
    /// `None` for regression.
    pub classes: Option<usize>,
    pub parameters: usize,
    pub device: String,
    pub epochs: usize,
    pub batch_size: usize,
    /// ⌈n_train / m⌉.
    pub steps_per_epoch: usize,
    /// What training would warn about, one line each.
    pub warnings: Vec<String>,
}

/// Prepares everything `request` would train with, on its device, and writes nothing: no run
/// dir, no config.toml, no checkpoint. Fails where training would fail before its first step,
/// with the same message (both start from the same set-up), except for the exact solve of
/// f* that suboptimality tracking runs, which a dry run skips: it can take seconds.
pub fn dry_run(request: &TrainRequest) -> Result<DryRunSummary> {
    let Setup {
        run,
        config,
        resume_from: resume_after,
        splits,
        problem,
        model,
        ..
    } = set_up(request, false)?;
    let steps_per_epoch = training_steps_per_epoch(&config.training, splits.train.len());
    Ok(DryRunSummary {
        run_dir: run.path,
        resume_after,
        source: config.data.source.name().to_string(),
        train_examples: splits.train.len(),
        valid_examples: splits.valid.as_ref().map_or(0, |d| d.len()),
        test_examples: splits.test.as_ref().map_or(0, |d| d.len()),
        features: problem.dim,
        classes: problem.classes,
        parameters: model.num_params(),
        device: config.training.device.clone(),
        epochs: config.training.epochs,
        batch_size: config.training.batch_size,
        steps_per_epoch,
        warnings: config.warnings(Some(steps_per_epoch)),
    })
}

impl fmt::Display for DryRunSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "dry run: nothing written")?;
        write!(
            f,
            "data      {}: {} train, {} valid, {} test examples; {} features",
            self.source,
            self.train_examples,
            self.valid_examples,
            self.test_examples,
            self.features
        )?;
        match self.classes {
            Some(k) => writeln!(f, "; {k} classes")?,
            None => writeln!(f, "; real-valued targets")?,
        }
        writeln!(
            f,
            "model     {} parameters, built on {}",
            self.parameters, self.device
        )?;
        writeln!(
            f,
            "training  {} epochs × {} steps of m = {} ({} optimizer steps)",
            self.epochs,
            self.steps_per_epoch,
            self.batch_size,
            self.epochs as u64 * self.steps_per_epoch as u64
        )?;
        match self.resume_after {
            Some(epoch) => writeln!(
                f,
                "run dir   {} (would resume after epoch {epoch})",
                self.run_dir.display()
            ),
            None => writeln!(f, "run dir   {} (would be created)", self.run_dir.display()),
        }
    }
}
