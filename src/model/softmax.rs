//! Multinomial (softmax) logistic regression: `p(y = c | x) = softmax(x W + b)_c`.

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor};

use crate::config::Init;
use crate::rng::Rng;

#[derive(Module, Debug)]
pub struct SoftmaxRegression {
    pub linear: Linear,
}

impl SoftmaxRegression {
    pub fn new(dim: usize, classes: usize, init: Init, rng: &mut Rng, device: &Device) -> Self {
        Self {
            linear: super::init::linear(dim, classes, init, rng, device),
        }
    }

    /// The class logits `[m, k]`.
    pub fn forward(&self, features: Tensor<2>) -> Tensor<2> {
        self.linear.forward(features)
    }
}
