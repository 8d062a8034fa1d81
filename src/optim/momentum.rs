//! Heavy-ball momentum (Polyak), in two forms.
//!
//! **Lecture form** (`form = "lecture"`, the default), §3 of the lecture:
//!
//! ```text
//! v^(t+1) = λ v^(t) − α ∇f(x^(t))          v^(0) = 0
//! x^(t+1) = x^(t) + v^(t+1)
//! ```
//!
//! The learning rate lives inside the velocity: when a schedule changes α, past steps keep
//! the α they were taken with. For a constant gradient g the step tends to `α‖g‖/(1 − λ)`, and
//! unrolled, `x^(t) = x^(0) − α Σ_{i<t} (1 − λ^{t−i})/(1 − λ) ∇f(x^(i))`.
//!
//! **PyTorch form** (`form = "pytorch"`), as `torch.optim.SGD(momentum=μ, dampening=d)`:
//!
//! ```text
//! b^(1) = g^(0);   b^(t+1) = μ b^(t) + (1 − d) g^(t)
//! x^(t+1) = x^(t) − α b^(t+1)
//! ```
//!
//! With d = 0 and a constant α the two are the same trajectory (v = −α b); when α changes
//! they differ, because here α scales the whole accumulated buffer at every step.
//! Burn's built-in `Sgd` with `MomentumConfig` is the PyTorch form, but its default dampening
//! is 0.1, not PyTorch's 0.

use burn::optim::{LearningRate, Optimizer, RecordState, StateSink, StateSource};
use burn::tensor::{Device, Tensor};

use super::with_weight_decay;

/// Which convention the velocity follows: the config's `form` key, used as is.
pub use crate::config::MomentumForm;

/// Heavy-ball momentum.
#[derive(Debug, Clone)]
pub struct Momentum {
    /// λ (lecture) or μ (PyTorch), in [0, 1).
    pub momentum: f64,
    pub form: MomentumForm,
    /// d, PyTorch form only.
    pub dampening: f64,
    /// λ₂: the gradient becomes `g + λ₂ θ` first.
    pub weight_decay: f64,
}

/// The velocity v (lecture form) or momentum buffer b (PyTorch form) of one parameter tensor.
#[derive(Clone)]
pub struct VelocityState<const D: usize> {
    pub velocity: Tensor<D>,
}

impl<const D: usize> RecordState for VelocityState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        super::state::put(out, prefix, "velocity", &self.velocity);
    }

    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        Some(Self {
            velocity: super::state::take(src, prefix, "velocity", device)?,
        })
    }
}

impl Optimizer for Momentum {
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
                // v ← λ v − α g ; θ ← θ + v
                let step = gradient.mul_scalar(-learning_rate);
                let velocity = match previous {
                    Some(v) => v.mul_scalar(self.momentum) + step,
                    None => step,
                };
                (theta + velocity.clone(), Some(VelocityState { velocity }))
            }
            MomentumForm::Pytorch => {
                // b ← μ b + (1 − d) g (b ← g on the first step) ; θ ← θ − α b
                let buffer = match previous {
                    // d = 0 (the common case) needs no pass over g.
                    Some(b) if self.dampening == 0.0 => b.mul_scalar(self.momentum) + gradient,
                    Some(b) => {
                        b.mul_scalar(self.momentum) + gradient.mul_scalar(1.0 - self.dampening)
                    }
                    None => gradient,
                };
                let theta = theta - buffer.clone().mul_scalar(learning_rate);
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
