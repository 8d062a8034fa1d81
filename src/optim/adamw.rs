//! AdamW (Loshchilov & Hutter 2019), as `torch.optim.AdamW`: Adam with *decoupled* weight
//! decay, which shrinks the parameters directly instead of adding λ θ to the gradient (so
//! the decay is not rescaled by Adam's per-coordinate Γ):
//!
//! ```text
//! θ ← θ (1 − α λ)
//! θ ← Adam step of θ with the raw gradient g   (see `adam.rs`)
//! ```

use burn::optim::{LearningRate, Optimizer};
use burn::tensor::{Device, Tensor};

use super::adam::{Adam, AdamState};

#[derive(Debug, Clone)]
pub struct AdamW {
    /// The Adam part, with its own weight decay 0.
    pub adam: Adam,
    /// λ, the decoupled decay rate.
    pub weight_decay: f64,
}

impl Optimizer for AdamW {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        learning_rate: LearningRate,
        theta: Tensor<D>,
        gradient: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let theta = theta.mul_scalar(1.0 - learning_rate * self.weight_decay);
        let (theta, state) = self.adam.update(learning_rate, theta, gradient, state);
        (theta, Some(state))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        <Adam as Optimizer>::to_device(state, device)
    }
}
