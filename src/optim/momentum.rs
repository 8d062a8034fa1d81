//! Heavy-ball momentum, [`Momentum`], in the lecture's form and PyTorch's, and the velocity
//! state [`VelocityState`] it shares with Nesterov.

use burn::optim::{LearningRate, ModuleOptimizer, Optimizer, RecordState, StateSink, StateSource};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::{OptimizerSettings, fused, with_weight_decay};
use crate::checks::{Check, in_unit_interval, non_negative};

/// Heavy-ball momentum (Polyak), `[optimizer] name = "momentum"`, in two forms.
///
/// **Lecture form** (`form = "lecture"`, the default), the lecture's §3
/// `v^(t+1) = λ v^(t) − α ∇f(x^(t))`, `x^(t+1) = x^(t) + v^(t+1)` with x = θ and f = ℓ:
///
/// ```text
/// input: θ^(0), α^(t) (the schedule's), λ (momentum), μ (weight_decay)
/// v^(0) = 0
/// for t = 0, 1, 2, …:
///     g^(t) ← ∇ℓ(θ^(t)) + μ θ^(t)
///     v^(t+1) ← λ v^(t) − α^(t) g^(t)
///     θ^(t+1) ← θ^(t) + v^(t+1)
/// ```
///
/// The learning rate lives inside the velocity: when a schedule changes α, past steps keep
/// the α they were taken with. For a constant α and gradient g the step length tends to
/// `α‖g‖/(1 − λ)`, and unrolled, `θ^(t) = θ^(0) − α Σ_{i<t} (1 − λ^{t−i})/(1 − λ) g^(i)`.
///
/// **PyTorch form** (`form = "pytorch"`), as `torch.optim.SGD(momentum=λ, dampening=d)`:
///
/// ```text
/// for t = 0, 1, 2, …:
///     g^(t) ← ∇ℓ(θ^(t)) + μ θ^(t)
///     b^(t+1) ← g^(0)                          if t = 0
///     b^(t+1) ← λ b^(t) + (1 − d) g^(t)        if t ≥ 1
///     θ^(t+1) ← θ^(t) − α^(t) b^(t+1)
/// ```
///
/// With d = 0 and a constant α the two forms are the same trajectory (v = −α b); when α
/// changes they differ, because here α^(t) scales the whole accumulated buffer at every step.
/// λ is PyTorch's `momentum` argument in both forms (see the notation in
/// [`optim`](crate::optim)). Burn's built-in `Sgd` with `MomentumConfig` is the PyTorch form,
/// but with a default dampening of 0.1, not 0.
///
/// | symbol | `[optimizer]` key | default | PyTorch |
/// |---|---|---|---|
/// | α^(0) | `learning_rate` | required | `SGD(lr=…)` |
/// | λ | `momentum` | 0.9, in [0, 1) | `SGD(momentum=…)` (default 0 there) |
/// | | `form` | `"lecture"` | — (`"pytorch"` follows `torch.optim.SGD`) |
/// | d | `dampening` | 0, in [0, 1); `"pytorch"` form only | `SGD(dampening=…)` |
/// | μ | `weight_decay` | 0 | `SGD(weight_decay=…)` |
///
/// References: Polyak, "Some methods of speeding up the convergence of iteration methods",
/// USSR Computational Mathematics and Mathematical Physics 1964; Goh, "Why momentum really
/// works", Distill 2017 (the lecture's reference); Sutskever, Martens, Dahl & Hinton, "On the
/// importance of initialization and momentum in deep learning", ICML 2013.
#[derive(Debug, Clone)]
pub struct Momentum {
    /// λ, the momentum coefficient, in [0, 1) (the same key in both forms).
    pub momentum: f64,
    /// The convention: α inside the velocity (lecture) or scaling the buffer (PyTorch).
    pub form: MomentumForm,
    /// d, the dampening of the buffer's new gradient, PyTorch form only.
    pub dampening: f64,
    /// μ, the L2 (Tikhonov) weight: the gradient becomes `g + μ θ` first.
    pub weight_decay: f64,
}

/// The velocity v (lecture form) or momentum buffer b (PyTorch form) of one parameter tensor.
#[derive(Clone)]
pub struct VelocityState<const D: usize> {
    /// v^(t) (lecture form) or b^(t) (PyTorch form); absent before the first step (v^(0) = 0).
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

/// Which convention momentum follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MomentumForm {
    /// `v ← λ v − α g ; θ ← θ + v`: α inside the velocity (the lecture's).
    #[default]
    Lecture,
    /// `b ← λ b + (1 − d) g ; θ ← θ − α b`: α scales the buffer (torch.optim.SGD).
    Pytorch,
}

/// The `[optimizer]` settings of `name = "momentum"`: see [`Momentum`] for the formula and each
/// key's symbol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MomentumConfig {
    /// α^(0), the learning rate the schedule starts from (`learning_rate`).
    pub learning_rate: f64,
    /// λ, the momentum coefficient (either form), in [0, 1).
    #[serde(default = "super::default_momentum")]
    pub momentum: f64,
    /// The momentum convention: the lecture's (default) or PyTorch's (`form`).
    #[serde(default)]
    pub form: MomentumForm,
    /// d, PyTorch form only, in [0, 1).
    #[serde(default)]
    pub dampening: f64,
    /// μ, the coupled L2 (Tikhonov) penalty, added to the gradient (`weight_decay`).
    #[serde(default)]
    pub weight_decay: f64,
}

impl MomentumConfig {
    /// Lecture-form heavy-ball momentum, λ = 0.9, at α^(0) = `learning_rate`.
    pub fn new(learning_rate: f64) -> Self {
        Self {
            learning_rate,
            momentum: super::default_momentum(),
            form: MomentumForm::Lecture,
            dampening: 0.0,
            weight_decay: 0.0,
        }
    }
}

impl OptimizerSettings for MomentumConfig {
    fn learning_rate(&self) -> f64 {
        self.learning_rate
    }

    fn validate(&self) -> Check {
        in_unit_interval("optimizer.momentum", self.momentum)?;
        in_unit_interval("optimizer.dampening", self.dampening)?;
        if self.form == MomentumForm::Lecture && self.dampening != 0.0 {
            return Err((
                "optimizer.dampening",
                "applies to form = \"pytorch\" only".into(),
            ));
        }
        non_negative("optimizer.weight_decay", self.weight_decay)
    }

    fn build(&self) -> ModuleOptimizer {
        ModuleOptimizer::from(Momentum::from(self))
    }
}

impl From<&MomentumConfig> for Momentum {
    /// The `[optimizer]` settings of `name = "momentum"`.
    fn from(c: &MomentumConfig) -> Self {
        Momentum {
            momentum: c.momentum,
            form: c.form,
            dampening: c.dampening,
            weight_decay: c.weight_decay,
        }
    }
}

impl Momentum {
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
                // v ← λ v − α g ; θ ← θ + v
                let step = gradient.mul_scalar(-learning_rate);
                let velocity = match previous {
                    Some(v) => v.mul_scalar(self.momentum) + step,
                    None => step,
                };
                (theta + velocity.clone(), Some(VelocityState { velocity }))
            }
            MomentumForm::Pytorch => {
                // b ← λ b + (1 − d) g (b ← g on the first step) ; θ ← θ − α b
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
                    *v = *v * lambda + g * minus_alpha;
                    *theta += *v;
                })
            }
            MomentumForm::Pytorch => {
                let (alpha, dampening) = (learning_rate as f32, self.dampening != 0.0);
                let keep = (1.0 - self.dampening) as f32;
                fused::update([theta, velocity], gradient, |[theta, b], g| {
                    let g = fused::coupled(g, *theta, mu);
                    *b = *b * lambda + if dampening { g * keep } else { g };
                    *theta -= *b * alpha;
                })
            }
        }
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
        for (form, dampening) in [
            (MomentumForm::Lecture, 0.0),
            (MomentumForm::Pytorch, 0.0),
            (MomentumForm::Pytorch, 0.3),
        ] {
            for weight_decay in [0.0, 0.01] {
                let momentum = Momentum {
                    momentum: 0.9,
                    form,
                    dampening,
                    weight_decay,
                };
                fused::assert_same_bits(
                    |alpha, theta, g, state| momentum.step(alpha, theta, g, state),
                    |alpha, theta, g, state| momentum.tensor_form(alpha, theta, g, state),
                );
            }
        }
    }
}
