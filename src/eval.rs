//! Evaluation of a run's checkpoint: reloads the run's resolved config, its data split and
//! stored standardization, and the chosen checkpoint; reports loss, accuracy and (for
//! classifiers) the confusion matrix; writes `eval.json` into the run dir.

use std::fmt;
use std::path::PathBuf;

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::Device;
use serde::Serialize;

use crate::batch::gather;
use crate::data::Dataset;
use crate::model::{Model, Problem, class_scores, predicted_classes};
use crate::prepare::prepare;
use crate::run_dir::RunDir;
use crate::train::Trainee;
use crate::{Error, Result, bail, device};

/// Examples per forward pass.
const EVAL_BATCH_SIZE: usize = 1024;

/// Which checkpoint to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointChoice {
    /// The last epoch on disk.
    Last,
    /// The epoch with the lowest validation loss in `metrics.csv`.
    Best,
    Epoch(usize),
}

impl std::str::FromStr for CheckpointChoice {
    type Err = String;
    fn from_str(text: &str) -> std::result::Result<Self, String> {
        match text {
            "last" => Ok(Self::Last),
            "best" => Ok(Self::Best),
            _ => text
                .parse()
                .map(Self::Epoch)
                .map_err(|_| format!("expected last, best or an epoch number, got `{text}`")),
        }
    }
}

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

/// Loss, accuracy and confusion of a model on a data set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    pub examples: usize,
    /// The mean loss over the examples, `(1/n) Σ ℓ̂`.
    pub loss: f64,
    /// Classifiers only.
    pub accuracy: Option<f64>,
    /// `confusion[true][predicted]` counts; classifiers only.
    pub confusion: Option<Vec<Vec<u64>>>,
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

/// Evaluates `model` on every example of `data`, in batches, without autodiff.
pub fn evaluate(model: &Model, data: &Dataset, device: &Device) -> Metrics {
    let kind = model.output_kind();
    let classes = data.classes();
    let mut loss_sum = 0.0f64;
    let mut correct = 0u64;
    let mut confusion = classes.map(|k| vec![vec![0u64; k]; k]);
    let indices: Vec<usize> = (0..data.len()).collect();
    for chunk in indices.chunks(EVAL_BATCH_SIZE) {
        let batch = gather(data, chunk, device);
        let outputs = model.forward(batch.features.clone());
        let batch_loss = f64::from(
            model
                .loss(outputs.clone(), &batch.targets)
                .into_scalar::<f32>(),
        );
        loss_sum += batch_loss * chunk.len() as f64;
        if let Some(confusion) = confusion.as_mut() {
            let predicted = predicted_classes(class_scores(kind, outputs));
            let predicted: Vec<i64> = predicted
                .into_data()
                .convert::<i64>()
                .try_into_vec::<i64>()
                .expect("argmax yields integers");
            let crate::data::Targets::Classes { labels, .. } = &data.targets else {
                unreachable!("a data set with classes has class labels")
            };
            for (&index, &guess) in chunk.iter().zip(&predicted) {
                let truth = labels[index] as usize;
                let guess = guess as usize;
                confusion[truth][guess] += 1;
                correct += u64::from(truth == guess);
            }
        }
    }
    let examples = data.len();
    Metrics {
        examples,
        loss: loss_sum / examples.max(1) as f64,
        accuracy: classes.map(|_| correct as f64 / examples.max(1) as f64),
        confusion,
    }
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
    std::fs::write(&path, json + "\n").map_err(|e| Error::io("write", &path, e))?;
    Ok(report)
}

/// The model of `run` at `epoch`, on `device`.
pub fn load_model(
    run: &RunDir,
    epoch: usize,
    config: &crate::config::ModelConfig,
    problem: Problem,
    device: &Device,
) -> Result<Model> {
    let path = run.model_checkpoint(epoch);
    let record = ModuleRecord::load(&path)
        .map_err(|e| Error::new(format!("{}: cannot load checkpoint: {e}", path.display())))?;
    // The skeleton's values are overwritten by the record; the seed is irrelevant. The
    // learner checkpoints the `Trainee` (model + clipping setting), so load through it.
    let skeleton = Trainee::bare(Model::new(config, problem, 0, device)?);
    skeleton
        .try_load_record(record)
        .map(|trainee| trainee.model)
        .map_err(|e| {
            Error::new(format!(
                "{}: checkpoint does not fit the run's model (was config.toml edited?): {e}",
                path.display()
            ))
        })
}

fn choose_checkpoint(run: &RunDir, choice: CheckpointChoice) -> Result<usize> {
    let epochs = run.checkpoint_epochs();
    let Some(&last) = epochs.last() else {
        bail!("{}: no checkpoint found in checkpoint/", run.path.display());
    };
    match choice {
        CheckpointChoice::Last => Ok(last),
        CheckpointChoice::Epoch(epoch) if epochs.contains(&epoch) => Ok(epoch),
        CheckpointChoice::Epoch(epoch) => bail!(
            "--checkpoint {epoch}: no such checkpoint in {} (epochs {}..={last})",
            run.path.display(),
            epochs[0]
        ),
        CheckpointChoice::Best => {
            let rows = crate::train::read_csv(&run.metrics_path())?;
            rows.iter()
                .filter(|(epoch, _)| epochs.contains(epoch))
                .filter_map(|(&epoch, row)| row.get("valid_loss").map(|&loss| (epoch, loss)))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(epoch, _)| epoch)
                .ok_or_else(|| {
                    Error::new(format!(
                        "--checkpoint best: {} has no validation loss to rank epochs by (validation_fraction = 0)",
                        run.path.display()
                    ))
                })
        }
    }
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
