//! Binary logistic regression: `p(y = 1 | x) = σ(w·x + b)`, loss from the logit `z = w·x + b`.

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor};

use crate::config::Init;
use crate::rng::Rng;

#[derive(Module, Debug)]
pub struct LogisticRegression {
    pub linear: Linear,
}

impl LogisticRegression {
    pub fn new(dim: usize, init: Init, rng: &mut Rng, device: &Device) -> Self {
        Self {
            linear: super::init::linear(dim, 1, init, rng, device),
        }
    }

    /// The logits `z = x w + b`, `[m, 1]`.
    pub fn forward(&self, features: Tensor<2>) -> Tensor<2> {
        self.linear.forward(features)
    }
}
