//! `sgdlab predict`: a trained run's predictions for new examples, as CSV.
//!
//! The input is read [`EVAL_BATCH_SIZE`] examples at a time and every batch's rows are written
//! before the next is read, so memory stays that of one batch whatever the input's length. The
//! features are found by the run's feature names (`inputs.json`) and standardized with the
//! run's stored transform, exactly as training and `eval` see them.
//!
//! One row per example: its id (the row number from 0, or the `--id` column), any
//! `--pass-through` columns, the prediction, and for classifiers the probabilities: one
//! column `p_C` for the class `C = 1` of a binary head (p(y = 1) = σ(z)), or one per class for
//! k class logits (softmax). Probabilities are computed in f64 from the logits (log-sum-exp),
//! so those of a row sum to 1 within rounding. Classes are named as `data.classes` names them,
//! else by index.

use std::io::Write;
use std::path::{Path, PathBuf};

use burn::tensor::{Tensor, TensorData};

use crate::data::csv_field;
use crate::data::input::{Input, InputBatch, InputColumns};
use crate::files::NewFile;
use crate::model::{EVAL_BATCH_SIZE, OutputKind, class_scores, predicted_classes};
use crate::run_dir::RunDir;
use crate::train::checkpoint::{CheckpointChoice, TrainedModel, load_trained};
use crate::{Error, Result, bail};

/// Where the predictions go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// This file, which must not exist.
    File(PathBuf),
    /// Standard output (`--out -`).
    Stdout,
}

/// What `sgdlab predict` asks for.
#[derive(Debug, Clone)]
pub struct PredictRequest<'a> {
    pub run: &'a RunDir,
    pub input: &'a Path,
    pub checkpoint: CheckpointChoice,
    /// `None`: a new file `<input name>-predictions.csv` in the current directory (`-2`, `-3`,
    /// ... appended if that exists).
    pub out: Option<Output>,
    pub device: Option<&'a str>,
    /// The column naming each row (default: the row number).
    pub id: Option<&'a str>,
    /// Input columns copied to the output.
    pub pass_through: &'a [String],
}

/// What a prediction wrote.
#[derive(Debug, Clone)]
pub struct PredictSummary {
    pub rows: usize,
    /// The file read (for a folder of IDX files, its images file).
    pub input: PathBuf,
    /// The file written; `None` for standard output.
    pub out: Option<PathBuf>,
    pub checkpoint_epoch: usize,
}

/// Predicts every example of the request's input and writes one CSV row each. Nothing is
/// written where the input has an error: a file appears only once complete, and for
/// standard output the whole input is checked first.
pub fn predict(request: &PredictRequest) -> Result<PredictSummary> {
    let trained = load_trained(request.run, request.checkpoint, request.device)?;
    let columns = InputColumns {
        features: &trained.inputs.features,
        label: None,
        id: request.id,
        pass_through: request.pass_through,
    };
    let mut input = Input::open(trained.config.data.source, request.input, &columns, false)?;
    let header = header(&trained, &input, &columns)?;
    let out = match &request.out {
        Some(out) => out.clone(),
        None => Output::File(default_out(request.input)),
    };
    let (rows, out) = match out {
        Output::Stdout => {
            // Standard output cannot be taken back: read the whole input once for its errors.
            let mut check =
                Input::open(trained.config.data.source, request.input, &columns, false)?;
            while check.next_batch(EVAL_BATCH_SIZE)?.is_some() {}
            let stdout = std::io::stdout();
            let mut sink = std::io::BufWriter::new(stdout.lock());
            let rows = write_predictions(&trained, &mut input, &header, |text| {
                sink.write_all(text.as_bytes())
                    .map_err(|e| Error::new(format!("cannot write to standard output: {e}")))
            })?;
            sink.flush()
                .map_err(|e| Error::new(format!("cannot write to standard output: {e}")))?;
            (rows, None)
        }
        Output::File(path) => {
            let mut file = NewFile::create(&path, "--out")?;
            let rows = write_predictions(&trained, &mut input, &header, |text| {
                file.write(text.as_bytes())
            })?;
            file.publish("--out")?;
            (rows, Some(path))
        }
    };
    Ok(PredictSummary {
        rows,
        input: input.path().to_path_buf(),
        out,
        checkpoint_epoch: trained.epoch,
    })
}

/// The output's column names: the id, the pass-through columns, `predicted`, the
/// probabilities; none twice.
fn header(trained: &TrainedModel, input: &Input, columns: &InputColumns) -> Result<Vec<String>> {
    let mut names = vec![columns.id.unwrap_or("row").to_string()];
    names.extend(columns.pass_through.iter().cloned());
    names.push("predicted".into());
    names.extend(
        probability_classes(trained)
            .into_iter()
            .map(|class| format!("p_{}", class_name(trained, class))),
    );
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            bail!(
                "{}: the output would have two columns named {name:?}: pass it through (or name the id) once, and not as the output's own `predicted` or `p_...` columns",
                input.path().display()
            );
        }
    }
    Ok(names)
}

/// The classes given a probability column: class 1 of a binary head, every class of k logits.
fn probability_classes(trained: &TrainedModel) -> Vec<usize> {
    match trained.model.output_kind() {
        OutputKind::BinaryLogit => vec![1],
        OutputKind::ClassLogits(k) => (0..k).collect(),
        OutputKind::Regression => Vec::new(),
    }
}

fn class_name(trained: &TrainedModel, class: usize) -> String {
    trained
        .config
        .data
        .classes
        .as_ref()
        .and_then(|names| names.get(class).cloned())
        .unwrap_or_else(|| class.to_string())
}

/// Predicts batch by batch, handing the CSV text to `write`; returns the rows written.
fn write_predictions(
    trained: &TrainedModel,
    input: &mut Input,
    header: &[String],
    mut write: impl FnMut(&str) -> Result<()>,
) -> Result<usize> {
    let line: Vec<String> = header
        .iter()
        .map(|name| csv_field(name).into_owned())
        .collect();
    write(&(line.join(",") + "\n"))?;
    let dim = trained.inputs.features.len();
    let kind = trained.model.output_kind();
    let mut rows = 0;
    while let Some(mut batch) = input.next_batch(EVAL_BATCH_SIZE)? {
        if let Some(standardizer) = &trained.standardizer {
            standardizer.apply_rows(&mut batch.features);
        }
        let m = batch.len();
        let features = std::mem::take(&mut batch.features);
        let features = Tensor::from_data(TensorData::new(features, [m, dim]), &trained.device);
        let outputs = trained.model.forward(features);
        let values = crate::model::host_values(outputs.clone());
        let classes: Option<Vec<i64>> = (kind != OutputKind::Regression).then(|| {
            predicted_classes(class_scores(kind, outputs))
                .into_data()
                .convert::<i64>()
                .try_into_vec::<i64>()
                .expect("argmax yields integers")
        });
        write(&batch_text(
            trained,
            kind,
            &batch,
            &values,
            classes.as_deref(),
        ))?;
        rows += m;
    }
    Ok(rows)
}

/// The CSV rows of one batch.
fn batch_text(
    trained: &TrainedModel,
    kind: OutputKind,
    batch: &InputBatch,
    outputs: &[f32],
    classes: Option<&[i64]>,
) -> String {
    let width = outputs.len() / batch.len().max(1);
    let mut text = String::with_capacity(batch.len() * 16 * (width + 2));
    for (row, (id, logits)) in batch
        .ids
        .iter()
        .zip(outputs.chunks_exact(width))
        .enumerate()
    {
        text.push_str(&csv_field(id));
        for cell in batch.passed.get(row).into_iter().flatten() {
            text.push(',');
            text.push_str(&csv_field(cell));
        }
        text.push(',');
        match (kind, classes) {
            (OutputKind::Regression, _) | (_, None) => text.push_str(&logits[0].to_string()),
            (_, Some(classes)) => {
                text.push_str(&csv_field(&class_name(trained, classes[row] as usize)));
                for p in probabilities(kind, logits) {
                    text.push(',');
                    text.push_str(&number(p));
                }
            }
        }
        text.push('\n');
    }
    text
}

/// `x` in the fewest digits that read back as `x`, in exponent form below 10⁻⁴ (a
/// probability of 2.3e-8 rather than 0.000000023).
fn number(x: f64) -> String {
    if x != 0.0 && x.abs() < 1e-4 {
        format!("{x:e}")
    } else {
        x.to_string()
    }
}

/// p(y = 1) = σ(z) of a binary logit, or the softmax of k logits, in f64.
fn probabilities(kind: OutputKind, logits: &[f32]) -> Vec<f64> {
    let z: Vec<f64> = logits.iter().map(|&v| f64::from(v)).collect();
    match kind {
        OutputKind::BinaryLogit => {
            let z = z[0];
            // σ(z) without overflow on either side.
            vec![if z >= 0.0 {
                1.0 / (1.0 + (-z).exp())
            } else {
                z.exp() / (1.0 + z.exp())
            }]
        }
        _ => {
            let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let exps: Vec<f64> = z.iter().map(|v| (v - max).exp()).collect();
            let sum: f64 = exps.iter().sum();
            exps.into_iter().map(|e| e / sum).collect()
        }
    }
}

/// `<input name>-predictions.csv` in the current directory, with `-2`, `-3`, ... appended to
/// the name if that exists.
fn default_out(input: &Path) -> PathBuf {
    let stem = input
        .file_stem()
        .map(|stem| stem.to_string_lossy().to_string())
        .unwrap_or_else(|| "input".into());
    let base = format!("{stem}-predictions");
    let mut candidate = PathBuf::from(format!("{base}.csv"));
    let mut suffix = 2;
    while candidate.exists() {
        candidate = PathBuf::from(format!("{base}-{suffix}.csv"));
        suffix += 1;
    }
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilities_from_logits() {
        let p = probabilities(OutputKind::BinaryLogit, &[0.0]);
        assert_eq!(p, vec![0.5]);
        let p = probabilities(OutputKind::BinaryLogit, &[-800.0]);
        assert!(p[0] >= 0.0 && p[0] < 1e-300);
        assert_eq!(probabilities(OutputKind::BinaryLogit, &[800.0]), vec![1.0]);
        // softmax(ln 1, ln 2, ln 5) = (1, 2, 5) / 8.
        let logits = [0.0f32, 2f32.ln(), 5f32.ln()];
        let p = probabilities(OutputKind::ClassLogits(3), &logits);
        for (p, expected) in p.iter().zip([0.125, 0.25, 0.625]) {
            assert!((p - expected).abs() < 1e-7, "{p} {expected}");
        }
        let p = probabilities(OutputKind::ClassLogits(2), &[1000.0, -1000.0]);
        assert_eq!(p, vec![1.0, 0.0]);
    }
}
