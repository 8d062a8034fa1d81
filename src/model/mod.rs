//! The models, as Burn modules, and what every model shares: a forward pass to raw outputs,
//! and a loss computed from those outputs (logits for classifiers, never probabilities); their
//! evaluation (`evaluate.rs`) and the figures it reports (`metrics.rs`).

mod evaluate;
mod init;
mod linear;
mod logistic;
pub mod loss;
pub mod metrics;
mod mlp;
mod softmax;

pub(crate) use evaluate::host_values;
pub use evaluate::{EVAL_BATCH_SIZE, Evaluation, Metrics, Report, evaluate};
pub use linear::LinearRegression;
pub use logistic::LogisticRegression;
pub use mlp::Mlp;
pub use softmax::SoftmaxRegression;

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor};

use crate::batch::BatchTargets;
use crate::config::{Head, ModelConfig, ModelKind};
use crate::rng::Rng;
use crate::{Result, bail};

/// Any sgdlab model.
#[derive(Module, Debug)]
pub enum Model {
    Logistic(LogisticRegression),
    Softmax(SoftmaxRegression),
    Mlp(Mlp),
    Linear(LinearRegression),
}

/// What a model's raw output means, and so which loss applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// One logit z per example; `p(y = 1) = σ(z)`; logistic loss.
    BinaryLogit,
    /// k logits per example; softmax; cross-entropy.
    ClassLogits(usize),
    /// One real prediction per example; squared error.
    Regression,
}

/// The most parameters a model may have (400 MB of `f32`, before gradients and optimizer
/// state): a bigger one is refused before any allocation. The config's own bounds
/// (`MAX_HIDDEN_WIDTH`, ...) still allow absurd products with a wide input or many classes.
pub const MAX_PARAMETERS: usize = 100_000_000;

/// Refuses a model whose dense layers `(inputs, outputs)` (each with a bias) hold more than
/// [`MAX_PARAMETERS`] parameters, naming the key that sized it.
fn check_parameter_count(key: &str, layers: &[(usize, usize)]) -> Result<()> {
    let count = layers.iter().try_fold(0usize, |total, &(inputs, outputs)| {
        inputs
            .checked_add(1)?
            .checked_mul(outputs)
            .and_then(|layer| total.checked_add(layer))
    });
    match count {
        Some(count) if count <= MAX_PARAMETERS => Ok(()),
        _ => bail!(
            "{key}: the model would have {} parameters, more than the {MAX_PARAMETERS} allowed (layers (inputs, outputs): {layers:?})",
            count.map_or_else(|| "too many".to_string(), |c| c.to_string())
        ),
    }
}

/// The shape of the problem a model is built for: input dimension and number of classes
/// (`None` for regression).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Problem {
    pub dim: usize,
    pub classes: Option<usize>,
}

impl Model {
    /// Builds the model `config` describes for `problem`, its parameters drawn from `seed`.
    pub fn new(config: &ModelConfig, problem: Problem, seed: u64, device: &Device) -> Result<Self> {
        let mut rng = Rng::new(seed);
        let rng = &mut rng;
        let Problem { dim, classes } = problem;
        let init = config.init;
        let need_classes = |kind: &str| match classes {
            Some(k) => Ok(k),
            None => Err(crate::Error::new(format!(
                "model.kind: \"{kind}\" is a classifier but the data have real-valued targets (use kind = \"linear\")"
            ))),
        };
        Ok(match config.kind {
            ModelKind::Logistic => {
                let k = need_classes("logistic")?;
                if k != 2 {
                    bail!(
                        "model.kind: \"logistic\" is binary but the data have {k} classes (use softmax or mlp)"
                    );
                }
                check_parameter_count("model.kind", &[(dim, 1)])?;
                Model::Logistic(LogisticRegression::new(dim, init, rng, device))
            }
            ModelKind::Softmax => {
                let k = need_classes("softmax")?;
                check_parameter_count("model.kind", &[(dim, k)])?;
                Model::Softmax(SoftmaxRegression::new(dim, k, init, rng, device))
            }
            ModelKind::Mlp => {
                let k = need_classes("mlp")?;
                let outputs = match (config.head, k) {
                    (Head::Auto, 2) | (Head::Sigmoid, 2) => 1,
                    (Head::Sigmoid, _) => bail!(
                        "model.head: \"sigmoid\" needs two classes, the data have {k} (use softmax)"
                    ),
                    _ => k,
                };
                let widths: Vec<usize> = std::iter::once(dim)
                    .chain(config.hidden.iter().copied())
                    .chain([outputs])
                    .collect();
                let layers: Vec<(usize, usize)> = widths.windows(2).map(|w| (w[0], w[1])).collect();
                check_parameter_count("model.hidden", &layers)?;
                Model::Mlp(Mlp::new(
                    dim,
                    &config.hidden,
                    outputs,
                    config.activation,
                    init,
                    rng,
                    device,
                ))
            }
            ModelKind::Linear => {
                if let Some(k) = classes {
                    bail!(
                        "model.kind: \"linear\" is a regression model but the data have {k} classes"
                    );
                }
                check_parameter_count("model.kind", &[(dim, 1)])?;
                Model::Linear(LinearRegression::new(dim, init, rng, device))
            }
        })
    }

    /// Raw outputs `[m, outputs]`: logits for classifiers, predictions for regression.
    pub fn forward(&self, features: Tensor<2>) -> Tensor<2> {
        match self {
            Model::Logistic(m) => m.forward(features),
            Model::Softmax(m) => m.forward(features),
            Model::Mlp(m) => m.forward(features),
            Model::Linear(m) => m.forward(features),
        }
    }

    pub fn output_kind(&self) -> OutputKind {
        match self {
            Model::Logistic(_) => OutputKind::BinaryLogit,
            Model::Softmax(m) => OutputKind::ClassLogits(m.linear.weight.dims()[1]),
            Model::Mlp(m) => match m.output.weight.dims()[1] {
                1 => OutputKind::BinaryLogit,
                k => OutputKind::ClassLogits(k),
            },
            Model::Linear(_) => OutputKind::Regression,
        }
    }

    /// The batch-mean loss `(1/m) Σ ℓ̂` of raw `outputs` against `targets`.
    pub fn loss(&self, outputs: Tensor<2>, targets: &BatchTargets) -> Tensor<1> {
        match (self.output_kind(), targets) {
            (OutputKind::BinaryLogit, BatchTargets::Classes(labels)) => {
                let [m, _] = outputs.dims();
                loss::binary_cross_entropy_with_logits(outputs.reshape([m]), labels.clone())
            }
            (OutputKind::ClassLogits(_), BatchTargets::Classes(labels)) => {
                loss::cross_entropy_with_logits(outputs, labels.clone())
            }
            (OutputKind::Regression, BatchTargets::Values(values)) => {
                loss::mean_squared_error(outputs, values.clone())
            }
            // Model::new checks the data against the model, so this is a programming error.
            (kind, _) => unreachable!("targets do not match a model with {kind:?} outputs"),
        }
    }
}

/// Class scores `[m, k]` whose argmax is the predicted class. A binary logit z becomes `[0, z]`:
/// softmax of that is `(1 − σ(z), σ(z))`, so accuracy and confusion treat both heads alike.
pub fn class_scores(kind: OutputKind, outputs: Tensor<2>) -> Tensor<2> {
    match kind {
        OutputKind::BinaryLogit => {
            let zeros = outputs.zeros_like();
            Tensor::cat(vec![zeros, outputs], 1)
        }
        _ => outputs,
    }
}

/// The predicted class of each row of `scores`, `[m]`.
pub fn predicted_classes(scores: Tensor<2>) -> Tensor<1, Int> {
    let [m, _] = scores.dims();
    scores.argmax(1).reshape([m])
}
