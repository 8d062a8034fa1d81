//! Nesterov accelerated gradient, in the same two forms as [`Momentum`](super::Momentum).
//!
//! **Lecture form** (default): the heavy ball, with the gradient taken at the look-ahead
//! point `x + λ v`:
//!
//! ```text
//! v^(t+1) = λ v^(t) − α ∇f(x^(t) + λ v^(t))
//! x^(t+1) = x^(t) + v^(t+1)
//! ```
//!
//! written, as is usual, in the variable φ = x + λ v so that the gradient is the one at the
//! current parameters (φ is what the model holds, g = ∇f(φ)):
//!
//! ```text
//! v ← λ v − α g
//! φ ← φ + λ v − α g
//! ```
//!
//! **PyTorch form**, as `torch.optim.SGD(momentum=μ, nesterov=True)` (dampening 0):
//!
//! ```text
//! b ← μ b + g   (b ← g on the first step)
//! φ ← φ − α (g + μ b)
//! ```
//!
//! As for heavy ball, the two coincide under a constant α (v = −α b).

use burn::optim::{LearningRate, Optimizer};
use burn::tensor::{Device, Tensor};

use super::momentum::{MomentumForm, VelocityState};
use super::with_weight_decay;

/// Nesterov momentum.
#[derive(Debug, Clone)]
pub struct Nesterov {
    /// λ (lecture) or μ (PyTorch), in [0, 1).
    pub momentum: f64,
    pub form: MomentumForm,
    /// λ₂: the gradient becomes `g + λ₂ θ` first.
    pub weight_decay: f64,
}

impl Optimizer for Nesterov {
    type State<const D: usize> = VelocityState<D>;

    fn step<const D: usize>(
        &self,
        learning_rate: LearningRate,
        theta: Tensor<D>,
        gradient: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let gradient = with_weight_decay(gradient, &theta, self.weight_decay);
        let previous = state.map(|s| s.velocity);
        match self.form {
            MomentumForm::Lecture => {
                // v ← λ v − α g ; φ ← φ + λ v − α g
                let step = gradient.mul_scalar(-learning_rate);
                let velocity = match previous {
                    Some(v) => v.mul_scalar(self.momentum) + step.clone(),
                    None => step.clone(),
                };
                let theta = theta + velocity.clone().mul_scalar(self.momentum) + step;
                (theta, Some(VelocityState { velocity }))
            }
            MomentumForm::Pytorch => {
                // b ← μ b + g ; φ ← φ − α (g + μ b)
                let buffer = match previous {
                    Some(b) => b.mul_scalar(self.momentum) + gradient.clone(),
                    None => gradient.clone(),
                };
                let direction = gradient + buffer.clone().mul_scalar(self.momentum);
                let theta = theta - direction.mul_scalar(learning_rate);
                (theta, Some(VelocityState { velocity: buffer }))
            }
        }
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        VelocityState {
            velocity: state.velocity.to_device(device),
        }
    }
}
