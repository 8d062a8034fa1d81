//! Gradient descent, the lecture's §2 and §5:
//!
//! ```text
//! g ← ∇ℓ(θ^(t)) + λ₂ θ^(t)        (λ₂ = weight_decay: the Tikhonov / L2 penalty ½λ₂‖θ‖²)
//! θ^(t+1) = θ^(t) − α g
//! ```
//!
//! with ∇ℓ the gradient of the batch-mean loss `(1/m) Σ_{i∈B} ℓ̂`: full-batch gradient
//! descent when the batch is the whole training set, stochastic (mini-batch) gradient
//! descent when it is a uniform sample B of m ≪ n examples. The learning rate α is the one
//! the schedule hands to this step. Plain GD keeps no state between steps.

use burn::optim::{LearningRate, Optimizer};
use burn::tensor::{Device, Tensor};

use super::with_weight_decay;

/// `θ ← θ − α (g + λ₂ θ)`.
#[derive(Debug, Clone, Default)]
pub struct GradientDescent {
    /// λ₂, the L2 (Tikhonov) penalty coefficient.
    pub weight_decay: f64,
}

impl Optimizer for GradientDescent {
    type State<const D: usize> = ();

    fn step<const D: usize>(
        &self,
        learning_rate: LearningRate,
        theta: Tensor<D>,
        gradient: Tensor<D>,
        _state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let gradient = with_weight_decay(gradient, &theta, self.weight_decay);
        (theta - gradient.mul_scalar(learning_rate), None)
    }

    fn to_device<const D: usize>(state: Self::State<D>, _device: &Device) -> Self::State<D> {
        state
    }
}
