//! A model's loss, accuracy and confusion matrix on a data set: what validation during
//! training, the line-search loop and `sgdlab eval` all measure.

use burn::tensor::Device;
use serde::Serialize;

use super::{Model, class_scores, predicted_classes};
use crate::batch::gather;
use crate::data::{Dataset, Targets};

/// Examples per forward pass.
const EVAL_BATCH_SIZE: usize = 1024;

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
            let Targets::Classes { labels, .. } = &data.targets else {
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
