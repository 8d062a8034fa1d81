//! Nesterov accelerated gradient, [`Nesterov`], in the same two forms as
//! [`Momentum`](super::Momentum).

use burn::optim::{LearningRate, ModuleOptimizer, Optimizer};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::OptimizerSettings;
use super::momentum::{MomentumForm, VelocityState};
use super::{fused, with_weight_decay};
use crate::checks::{Check, in_unit_interval, non_negative};

/// Nesterov accelerated gradient, `[optimizer] name = "nesterov"`, in the same two forms as
/// [`Momentum`](super::Momentum).
///
/// **Lecture form** (`form = "lecture"`, the default): the lecture's heavy ball (§3), with
/// the gradient taken at the look-ahead point `θ + λ v`:
///
/// ```text
/// v^(t+1) = λ v^(t) − α ∇ℓ(θ^(t) + λ v^(t))
/// θ^(t+1) = θ^(t) + v^(t+1)
/// ```
///
/// computed, as is usual, in the variable φ = θ + λ v, so that the gradient is the one at
/// the parameters the model holds (φ; with v^(0) = 0, φ^(0) = θ^(0)):
///
/// ```text
/// input: φ^(0), α^(t) (the schedule's), λ (momentum), μ (weight_decay)
/// v^(0) = 0
/// for t = 0, 1, 2, …:
///     g^(t) ← ∇ℓ(φ^(t)) + μ φ^(t)
///     v^(t+1) ← λ v^(t) − α^(t) g^(t)
///     φ^(t+1) ← φ^(t) + λ v^(t+1) − α^(t) g^(t)
/// ```
///
/// So the model's parameters are always the look-ahead point φ, the trained model included.
///
/// **PyTorch form** (`form = "pytorch"`), as `torch.optim.SGD(momentum=λ, nesterov=True)`
/// (which requires dampening 0; this optimizer has no `dampening` key):
///
/// ```text
/// for t = 0, 1, 2, …:
///     g^(t) ← ∇ℓ(φ^(t)) + μ φ^(t)
///     b^(t+1) ← g^(0)                    if t = 0
///     b^(t+1) ← λ b^(t) + g^(t)          if t ≥ 1
///     φ^(t+1) ← φ^(t) − α^(t) (g^(t) + λ b^(t+1))
/// ```
///
/// As for heavy ball, the two forms coincide under a constant α (v = −α b).
///
/// | symbol | `[optimizer]` key | default | PyTorch |
/// |---|---|---|---|
/// | α^(0) | `learning_rate` | required | `SGD(lr=…)` |
/// | λ | `momentum` | 0.9, in [0, 1) | `SGD(momentum=…, nesterov=True)` |
/// | | `form` | `"lecture"` | — (`"pytorch"` follows `torch.optim.SGD`) |
/// | μ | `weight_decay` | 0 | `SGD(weight_decay=…)` |
///
/// References: Nesterov, "A method for solving the convex programming problem with
/// convergence rate O(1/k²)", Soviet Mathematics Doklady 1983; Sutskever, Martens, Dahl &
/// Hinton, ICML 2013 (the momentum form above); Bengio, Boulanger-Lewandowski & Pascanu,
/// "Advances in optimizing recurrent networks", ICASSP 2013 (the change of variable φ).
#[derive(Debug, Clone)]
pub struct Nesterov {
    /// λ, the momentum coefficient, in [0, 1) (the same key in both forms).
    pub momentum: f64,
    /// The convention: α inside the velocity (lecture) or scaling the buffer (PyTorch).
    pub form: MomentumForm,
    /// μ, the L2 (Tikhonov) weight: the gradient becomes `g + μ φ` first.
    pub weight_decay: f64,
}

/// The `[optimizer]` settings of `name = "nesterov"`: see [`Nesterov`] for the formula and each
/// key's symbol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NesterovConfig {
    /// α^(0), the learning rate the schedule starts from (`learning_rate`).
    pub learning_rate: f64,
    /// λ, the momentum coefficient, in [0, 1) (`momentum`).
    #[serde(default = "super::default_momentum")]
    pub momentum: f64,
    /// The momentum convention: the lecture's (default) or PyTorch's (`form`).
    #[serde(default)]
    pub form: MomentumForm,
    /// μ, the coupled L2 (Tikhonov) penalty, added to the gradient (`weight_decay`).
    #[serde(default)]
    pub weight_decay: f64,
}

impl NesterovConfig {
    /// Lecture-form Nesterov momentum, λ = 0.9, at α^(0) = `learning_rate`.
    pub fn new(learning_rate: f64) -> Self {
        Self {
            learning_rate,
            momentum: super::default_momentum(),
            form: MomentumForm::Lecture,
            weight_decay: 0.0,
        }
    }
}

impl OptimizerSettings for NesterovConfig {
    fn learning_rate(&self) -> f64 {
        self.learning_rate
    }

    fn validate(&self) -> Check {
        in_unit_interval("optimizer.momentum", self.momentum)?;
        non_negative("optimizer.weight_decay", self.weight_decay)
    }

    fn build(&self) -> ModuleOptimizer {
        ModuleOptimizer::from(Nesterov::from(self))
    }
}

impl From<&NesterovConfig> for Nesterov {
    /// The `[optimizer]` settings of `name = "nesterov"`.
    fn from(c: &NesterovConfig) -> Self {
        Nesterov {
            momentum: c.momentum,
            form: c.form,
            weight_decay: c.weight_decay,
        }
    }
}

impl Nesterov {
    /// The update as tensor operations, on every backend.
    fn tensor_form<const D: usize>(
        &self,
        learning_rate: LearningRate,
        theta: Tensor<D>,
        gradient: Tensor<D>,
        state: Option<VelocityState<D>>,
    ) -> (Tensor<D>, Option<VelocityState<D>>) {
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
                // b ← λ b + g ; φ ← φ − α (g + λ b)
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

    /// The same update in one pass over θ, g and v ([`fused`]), on the CPU backends.
    fn fused<const D: usize>(
        &self,
        learning_rate: LearningRate,
        theta: Tensor<D>,
        gradient: Tensor<D>,
        velocity: Tensor<D>,
    ) -> [Tensor<D>; 2] {
        let (lambda, mu) = (self.momentum as f32, self.weight_decay as f32);
        match self.form {
            MomentumForm::Lecture => {
                let minus_alpha = -learning_rate as f32;
                fused::update([theta, velocity], gradient, |[theta, v], g| {
                    let g = fused::coupled(g, *theta, mu);
                    let step = g * minus_alpha;
                    *v = *v * lambda + step;
                    *theta = *theta + *v * lambda + step;
                })
            }
            MomentumForm::Pytorch => {
                let alpha = learning_rate as f32;
                fused::update([theta, velocity], gradient, |[theta, b], g| {
                    let g = fused::coupled(g, *theta, mu);
                    *b = *b * lambda + g;
                    *theta -= (g + *b * lambda) * alpha;
                })
            }
        }
    }
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
        match state {
            Some(VelocityState { velocity }) if fused::applies(&[&theta, &gradient, &velocity]) => {
                let [theta, velocity] = self.fused(learning_rate, theta, gradient, velocity);
                (theta, Some(VelocityState { velocity }))
            }
            // The first step (no velocity yet) or a GPU backend: tensor operations.
            state => self.tensor_form(learning_rate, theta, gradient, state),
        }
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        VelocityState {
            velocity: state.velocity.to_device(device),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fused_update_is_the_tensor_form_bit_for_bit() {
        for form in [MomentumForm::Lecture, MomentumForm::Pytorch] {
            for weight_decay in [0.0, 0.01] {
                let nesterov = Nesterov {
                    momentum: 0.9,
                    form,
                    weight_decay,
                };
                fused::assert_same_bits(
                    |alpha, theta, g, state| nesterov.step(alpha, theta, g, state),
                    |alpha, theta, g, state| nesterov.tensor_form(alpha, theta, g, state),
                );
            }
        }
    }
}
