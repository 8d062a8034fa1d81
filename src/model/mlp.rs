//! Multi-layer perceptron: `h_0 = x`, `h_l = act(h_{l−1} W_l + b_l)`, logits `h_L W_out + b_out`.

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::activation::{relu, sigmoid, tanh};
use burn::tensor::{Device, Tensor};

use crate::config::{Activation, Init};
use crate::rng::Rng;

#[derive(Module, Debug)]
pub struct Mlp {
    pub hidden: Vec<Linear>,
    pub output: Linear,
    #[module(skip)]
    pub activation: Activation,
}

impl Mlp {
    /// `outputs` is 1 for a sigmoid head, k for a softmax head.
    pub fn new(
        dim: usize,
        hidden: &[usize],
        outputs: usize,
        activation: Activation,
        init: Init,
        rng: &mut Rng,
        device: &Device,
    ) -> Self {
        let mut layers = Vec::with_capacity(hidden.len());
        let mut d_in = dim;
        for &width in hidden {
            layers.push(super::init::linear(d_in, width, init, rng, device));
            d_in = width;
        }
        Self {
            hidden: layers,
            output: super::init::linear(d_in, outputs, init, rng, device),
            activation,
        }
    }

    /// The head's logits, `[m, outputs]`.
    pub fn forward(&self, features: Tensor<2>) -> Tensor<2> {
        let mut h = features;
        for layer in &self.hidden {
            h = layer.forward(h);
            h = match self.activation {
                Activation::Relu => relu(h),
                Activation::Tanh => tanh(h),
                Activation::Sigmoid => sigmoid(h),
            };
        }
        self.output.forward(h)
    }
}
