//! `[model]`: which model, and for an MLP its layers, activation and head.

use serde::{Deserialize, Serialize};

use crate::checks::Check;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    pub kind: ModelKind,
    /// mlp: hidden layer sizes.
    #[serde(default = "default_hidden")]
    pub hidden: Vec<usize>,
    /// mlp: the hidden activation.
    #[serde(default)]
    pub activation: Activation,
    /// mlp: the output head (auto: sigmoid for two classes, softmax otherwise).
    #[serde(default)]
    pub head: Head,
    #[serde(default)]
    pub init: Init,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// Binary logistic regression σ(w·x + b).
    Logistic,
    /// Multinomial (softmax) logistic regression.
    Softmax,
    /// Multi-layer perceptron.
    Mlp,
    /// Linear regression, mean squared error.
    Linear,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    #[default]
    Relu,
    Tanh,
    Sigmoid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Head {
    #[default]
    Auto,
    Sigmoid,
    Softmax,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// U(−k, k) with k = 1/√fan_in for weights and biases (Burn's and PyTorch's default).
    #[default]
    Default,
    /// All parameters zero: the lecture's setting for the convex models.
    Zeros,
}

/// Every entry of `model.hidden` ≤ this.
pub const MAX_HIDDEN_WIDTH: usize = 65_536;
/// `model.hidden` has at most this many layers.
pub const MAX_HIDDEN_LAYERS: usize = 64;

fn default_hidden() -> Vec<usize> {
    vec![64]
}

impl ModelConfig {
    /// `[model]` of `kind` with every other key at its default (an MLP: one hidden layer of 64).
    pub fn new(kind: ModelKind) -> Self {
        Self {
            kind,
            hidden: default_hidden(),
            activation: Activation::default(),
            head: Head::default(),
            init: Init::default(),
        }
    }

    /// Checks `[model]` alone; on failure the key path and what is allowed.
    pub fn validate(&self) -> Check {
        let model = self;

        if model.kind == ModelKind::Mlp {
            if model.hidden.is_empty() {
                return Err((
                    "model.hidden",
                    "an mlp needs at least one hidden layer, e.g. [64]".into(),
                ));
            }
            if model.hidden.contains(&0) {
                return Err(("model.hidden", "every hidden size must be ≥ 1".into()));
            }
            if model.hidden.len() > MAX_HIDDEN_LAYERS {
                return Err((
                    "model.hidden",
                    format!(
                        "at most {MAX_HIDDEN_LAYERS} hidden layers, got {}",
                        model.hidden.len()
                    ),
                ));
            }
            if let Some(&width) = model.hidden.iter().find(|&&w| w > MAX_HIDDEN_WIDTH) {
                return Err((
                    "model.hidden",
                    format!("every hidden size must be ≤ {MAX_HIDDEN_WIDTH}, got {width}"),
                ));
            }
        }
        Ok(())
    }
}
