//! Evaluation of a run's checkpoint: reloads the run's resolved config, its data split (or a
//! labelled file) and stored standardization, and the chosen checkpoint; reports loss,
//! accuracy and the confusion matrix, scikit-learn's classification report and, for binary
//! problems, ROC AUC (classifiers), or MSE, RMSE, MAE and R² (regression); writes `eval.json`
//! into the run dir.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::data::Dataset;
use crate::data::input::{Input, InputColumns, Label};
use crate::files::write_atomically;
use crate::model::{EVAL_BATCH_SIZE, Evaluation, Metrics, Problem, Report};
use crate::prepare::prepare_run;
use crate::run_dir::RunDir;
use crate::train::checkpoint::{CheckpointChoice, choose_checkpoint, load_model, load_trained};
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
    /// The split evaluated, or (with `--input`) absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split: Option<SplitChoice>,
    /// The labelled file evaluated (`--input`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<PathBuf>,
    pub device: String,
    #[serde(flatten)]
    pub metrics: Metrics,
    /// `classification` (per class, macro and weighted averages, ROC AUC) or `regression`.
    #[serde(flatten)]
    pub report: Report,
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
    let prepared = prepare_run(&config, standardizer.as_ref())?;
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
    let mut evaluation = Evaluation::new(&model, data.classes(), true);
    evaluation.add(&model, data, &device);
    let class_names = config.data.classes.as_deref();
    let report = EvalReport {
        run_dir: run.path.clone(),
        checkpoint_epoch: epoch,
        split: Some(split),
        input: None,
        device: device_name,
        metrics: evaluation.metrics(),
        report: evaluation
            .report(class_names)
            .expect("a detailed evaluation"),
    };
    write_eval_json(run, &report)?;
    Ok(report)
}

/// Evaluates a run's checkpoint on the labelled file `input` (a CSV, or for MNIST runs IDX
/// images and labels), its label in the column `label` (default: the run's). The file is read
/// in batches and checked as `predict` checks its input.
pub fn evaluate_file(
    run: &RunDir,
    checkpoint: CheckpointChoice,
    input: &Path,
    label: Option<&str>,
    device_name: Option<&str>,
) -> Result<EvalReport> {
    let trained = load_trained(run, checkpoint, device_name)?;
    let config = &trained.config;
    let column = label.unwrap_or(config.data.label_column());
    let label = match trained.inputs.classes {
        Some(classes) => Label::Classes {
            column,
            classes,
            names: config.data.classes.as_deref(),
        },
        None => Label::Values { column },
    };
    let columns = InputColumns {
        features: &trained.inputs.features,
        label: Some(label),
        id: None,
        pass_through: &[],
    };
    let mut reader = Input::open(config.data.source, input, &columns, true)?;
    let mut evaluation = Evaluation::new(&trained.model, trained.inputs.classes, true);
    while let Some(batch) = reader.next_batch(EVAL_BATCH_SIZE)? {
        let mut data = Dataset {
            features: batch.features,
            dim: trained.inputs.features.len(),
            targets: batch.targets.expect("a labelled input yields targets"),
            feature_names: Vec::new(),
        };
        if let Some(standardizer) = &trained.standardizer {
            standardizer.apply(&mut data);
        }
        evaluation.add(&trained.model, &data, &trained.device);
    }
    let report = EvalReport {
        run_dir: run.path.clone(),
        checkpoint_epoch: trained.epoch,
        split: None,
        input: Some(reader.path().to_path_buf()),
        device: trained.device_name,
        metrics: evaluation.metrics(),
        report: evaluation
            .report(config.data.classes.as_deref())
            .expect("a detailed evaluation"),
    };
    write_eval_json(run, &report)?;
    Ok(report)
}

fn write_eval_json(run: &RunDir, report: &EvalReport) -> Result<()> {
    let path = run.eval_path();
    let json = serde_json::to_string_pretty(report).expect("serializable");
    write_atomically(&path, (json + "\n").as_bytes())
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = &self.metrics;
        let what = match (&self.split, &self.input) {
            (_, Some(input)) => input.display().to_string(),
            (Some(split), None) => format!("{split} split"),
            (None, None) => "no data".into(),
        };
        writeln!(
            f,
            "{what}, checkpoint epoch {}, {} examples",
            self.checkpoint_epoch, m.examples
        )?;
        writeln!(f, "loss      {:.6}", m.loss)?;
        if let Some(accuracy) = m.accuracy {
            writeln!(f, "accuracy  {accuracy:.4}")?;
        }
        match &self.report {
            Report::Regression(r) => {
                writeln!(f, "mse       {:.6}", r.mse)?;
                writeln!(f, "rmse      {:.6}", r.rmse)?;
                writeln!(f, "mae       {:.6}", r.mae)?;
                match r.r2 {
                    Some(r2) => writeln!(f, "r2        {r2:.6}")?,
                    None => writeln!(f, "r2        undefined (the target is constant)")?,
                }
            }
            Report::Classification(c) => {
                if let Some(auc) = c.roc_auc {
                    match auc {
                        Some(auc) => writeln!(f, "roc_auc   {auc:.6}")?,
                        None => writeln!(f, "roc_auc   undefined (the labels hold one class)")?,
                    }
                }
            }
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
        if let Report::Classification(report) = &self.report {
            write_classification_report(f, report)?;
        }
        Ok(())
    }
}

/// scikit-learn's `classification_report` layout, 4 decimals; an undefined value is
/// `undefined`, and a note says how the averages count it.
fn write_classification_report(
    f: &mut fmt::Formatter<'_>,
    report: &crate::model::metrics::ClassificationReport,
) -> fmt::Result {
    let width = report
        .per_class
        .iter()
        .map(|c| c.name.chars().count())
        .chain([12])
        .max()
        .unwrap_or(12);
    let cell = |value: Option<f64>| value.map_or_else(|| "undefined".into(), |v| format!("{v:.4}"));
    writeln!(
        f,
        "{:>width$}  {:>9}  {:>9}  {:>9}  {:>9}",
        "", "precision", "recall", "f1-score", "support"
    )?;
    for class in &report.per_class {
        writeln!(
            f,
            "{:>width$}  {:>9}  {:>9}  {:>9.4}  {:>9}",
            class.name,
            cell(class.precision),
            cell(class.recall),
            class.f1,
            class.support
        )?;
    }
    for (name, avg) in [
        ("macro avg", &report.macro_avg),
        ("weighted avg", &report.weighted_avg),
    ] {
        writeln!(
            f,
            "{name:>width$}  {:>9.4}  {:>9.4}  {:>9.4}  {:>9}",
            avg.precision, avg.recall, avg.f1, avg.support
        )?;
    }
    let undefined: Vec<String> = report
        .per_class
        .iter()
        .flat_map(|c| {
            let never_predicted = c
                .precision
                .is_none()
                .then(|| format!("precision of {} (never predicted)", c.name));
            let absent = c
                .recall
                .is_none()
                .then(|| format!("recall of {} (not in the labels)", c.name));
            never_predicted.into_iter().chain(absent)
        })
        .collect();
    if !undefined.is_empty() {
        writeln!(
            f,
            "undefined: {}; the averages count them as 0, as scikit-learn does",
            undefined.join(", ")
        )?;
    }
    Ok(())
}
