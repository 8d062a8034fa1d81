//! A model's loss, accuracy and confusion matrix on a data set: what validation during
//! training, the line-search loop and `sgdlab eval` all measure; and, for `sgdlab eval`, the
//! fuller figures of [`super::metrics`].

use burn::tensor::Device;
use serde::Serialize;

use super::metrics::{ClassificationReport, RegressionErrors, RegressionReport, roc_auc};
use super::{Model, OutputKind, class_scores, predicted_classes};
use crate::batch::gather;
use crate::data::{Dataset, Targets};

/// Examples per forward pass.
pub const EVAL_BATCH_SIZE: usize = 1024;

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

/// Evaluates `model` on every example of `data`, in batches, without autodiff.
pub fn evaluate(model: &Model, data: &Dataset, device: &Device) -> Metrics {
    let mut evaluation = Evaluation::new(model, data.classes(), false);
    evaluation.add(model, data, device);
    evaluation.metrics()
}

/// An evaluation in progress: data sets (or the batches of one read in pieces) are added one
/// after another, and the figures cover all of them.
#[derive(Debug, Clone)]
pub struct Evaluation {
    kind: OutputKind,
    examples: usize,
    loss_sum: f64,
    correct: u64,
    confusion: Option<Vec<Vec<u64>>>,
    /// With details: each example's score for class 1 and whether it is of class 1 (binary
    /// problems, for ROC AUC), or the regression's errors.
    details: Option<Details>,
}

#[derive(Debug, Clone)]
enum Details {
    Binary {
        scores: Vec<f64>,
        positive: Vec<bool>,
    },
    Regression(RegressionErrors),
    /// More than two classes: the confusion matrix holds everything.
    Classes,
}

impl Evaluation {
    /// An empty evaluation of `model` on data of `classes` classes (`None`: regression);
    /// `detailed` also collects what [`Evaluation::report`] needs beyond the confusion matrix.
    pub fn new(model: &Model, classes: Option<usize>, detailed: bool) -> Self {
        let kind = model.output_kind();
        let details = detailed.then(|| match (kind, classes) {
            (_, None) => Details::Regression(RegressionErrors::default()),
            (_, Some(2)) => Details::Binary {
                scores: Vec::new(),
                positive: Vec::new(),
            },
            _ => Details::Classes,
        });
        Self {
            kind,
            examples: 0,
            loss_sum: 0.0,
            correct: 0,
            confusion: classes.map(|k| vec![vec![0u64; k]; k]),
            details,
        }
    }

    /// Evaluates `model` on every example of `data`, [`EVAL_BATCH_SIZE`] at a time.
    pub fn add(&mut self, model: &Model, data: &Dataset, device: &Device) {
        let indices: Vec<usize> = (0..data.len()).collect();
        for chunk in indices.chunks(EVAL_BATCH_SIZE) {
            let batch = gather(data, chunk, device);
            let outputs = model.forward(batch.features.clone());
            let batch_loss = f64::from(
                model
                    .loss(outputs.clone(), &batch.targets)
                    .into_scalar::<f32>(),
            );
            self.loss_sum += batch_loss * chunk.len() as f64;
            match &data.targets {
                Targets::Classes { labels, .. } => {
                    if let Some(Details::Binary { scores, positive }) = &mut self.details {
                        scores.extend(class_one_scores(self.kind, outputs.clone()));
                        positive.extend(chunk.iter().map(|&i| labels[i] == 1));
                    }
                    let Some(confusion) = self.confusion.as_mut() else {
                        unreachable!("class labels are evaluated with a confusion matrix")
                    };
                    let predicted: Vec<i64> = predicted_classes(class_scores(self.kind, outputs))
                        .into_data()
                        .convert::<i64>()
                        .try_into_vec::<i64>()
                        .expect("argmax yields integers");
                    for (&index, &guess) in chunk.iter().zip(&predicted) {
                        let truth = labels[index] as usize;
                        let guess = guess as usize;
                        confusion[truth][guess] += 1;
                        self.correct += u64::from(truth == guess);
                    }
                }
                Targets::Values(values) => {
                    if let Some(Details::Regression(errors)) = &mut self.details {
                        let predicted = host_values(outputs);
                        for (&index, &guess) in chunk.iter().zip(&predicted) {
                            errors.add(f64::from(guess), f64::from(values[index]));
                        }
                    }
                }
            }
        }
        self.examples += data.len();
    }

    /// Loss, accuracy and confusion over everything added.
    pub fn metrics(&self) -> Metrics {
        let examples = self.examples;
        Metrics {
            examples,
            loss: self.loss_sum / examples.max(1) as f64,
            accuracy: self
                .confusion
                .as_ref()
                .map(|_| self.correct as f64 / examples.max(1) as f64),
            confusion: self.confusion.clone(),
        }
    }

    /// The classification report (with ROC AUC for two classes) or the regression's errors;
    /// `None` unless the evaluation was `detailed`.
    pub fn report(&self, class_names: Option<&[String]>) -> Option<Report> {
        let details = self.details.as_ref()?;
        Some(match (details, &self.confusion) {
            (Details::Regression(errors), _) => Report::Regression(errors.report()),
            (details, Some(confusion)) => {
                let mut report = ClassificationReport::from_confusion(confusion, class_names);
                if let Details::Binary { scores, positive } = details {
                    report.roc_auc = Some(roc_auc(scores, positive));
                }
                Report::Classification(report)
            }
            (_, None) => unreachable!("a classification evaluation has a confusion matrix"),
        })
    }
}

/// What [`Evaluation::report`] adds to loss and accuracy.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Report {
    Classification(ClassificationReport),
    Regression(RegressionReport),
}

/// Each row's score for class 1, monotone in p(y = 1): the logit z of a binary head, or
/// z₁ − z₀ of two class logits (whose softmax gives p(y = 1) = σ(z₁ − z₀)). Ranked as logits,
/// examples whose probability rounds to 1 in floating point stay apart.
fn class_one_scores(kind: OutputKind, outputs: burn::tensor::Tensor<2>) -> Vec<f64> {
    let [_, width] = outputs.dims();
    let values = host_values(outputs);
    match kind {
        OutputKind::BinaryLogit => values.iter().map(|&z| f64::from(z)).collect(),
        _ => values
            .chunks_exact(width)
            .map(|row| f64::from(row[1]) - f64::from(row[0]))
            .collect(),
    }
}

/// A tensor's values on the host, row-major.
pub(crate) fn host_values(outputs: burn::tensor::Tensor<2>) -> Vec<f32> {
    outputs
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("model outputs are floats")
}
