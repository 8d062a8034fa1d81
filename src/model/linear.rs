//! Linear regression `ŷ = w·x + b` with the mean squared error (the lecture's closed-form case).

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor};

use crate::config::Init;
use crate::rng::Rng;

#[derive(Module, Debug)]
pub struct LinearRegression {
    pub linear: Linear,
}

impl LinearRegression {
    pub fn new(dim: usize, init: Init, rng: &mut Rng, device: &Device) -> Self {
        Self {
            linear: super::init::linear(dim, 1, init, rng, device),
        }
    }

    /// The predictions `[m, 1]`.
    pub fn forward(&self, features: Tensor<2>) -> Tensor<2> {
        self.linear.forward(features)
    }
}
