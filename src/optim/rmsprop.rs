//! RMSProp, [`RmsProp`], and its per-tensor state [`RmsPropState`].

use burn::optim::{LearningRate, ModuleOptimizer, Optimizer, RecordState, StateSink, StateSource};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::{OptimizerSettings, fused, with_weight_decay};
use crate::checks::{Check, in_unit_interval, non_negative, positive};

/// RMSProp, `[optimizer] name = "rmsprop"`, as `torch.optim.RMSprop` (whose `alpha` argument
/// is β here, and whose `momentum` is λ):
///
/// ```text
/// input: θ^(0), α^(t) (the schedule's), β, ε, λ (momentum), centered, μ (weight_decay)
/// s^(0) = 0, ḡ^(0) = 0, b^(0) = 0
/// for t = 0, 1, 2, …:
///     g ← ∇ℓ(θ) + μ θ
///     s ← β s + (1 − β) g ⊙ g
///     if centered:  ḡ ← β ḡ + (1 − β) g ;   r ← √(s − ḡ ⊙ ḡ) + ε
///     else:         r ← √s + ε
///     if λ > 0:     b ← λ b + g / r ;        θ ← θ − α^(t) b
///     else:         θ ← θ − α^(t) g / r
/// ```
///
/// (⊙, the square root and the division are per coordinate.) Γ is diagonal with entries
/// −1/r_j: like AdaGrad, but the squared gradients are averaged with exponentially decaying
/// weights, so the step sizes recover when gradients shrink. The momentum buffer is in
/// PyTorch's form: α^(t) scales it whole at every step. Burn's built-in `RmsProp` adds ε
/// inside the square root of the centered form and has defaults momentum 0.9, ε = 1e-5.
///
/// | symbol | `[optimizer]` key | default | PyTorch |
/// |---|---|---|---|
/// | α^(0) | `learning_rate` | required | `RMSprop(lr=…)` |
/// | β | `beta` | 0.99, in [0, 1) | `RMSprop(alpha=…)` |
/// | ε | `epsilon` | 1e-8 | `RMSprop(eps=…)` |
/// | λ | `momentum` | 0, in [0, 1) | `RMSprop(momentum=…)` |
/// | | `centered` | false | `RMSprop(centered=…)` |
/// | μ | `weight_decay` | 0 | `RMSprop(weight_decay=…)` |
///
/// References: Tieleman & Hinton, "Lecture 6.5 — RMSProp", COURSERA: Neural Networks for
/// Machine Learning, 2012; Graves, "Generating sequences with recurrent neural networks",
/// arXiv:1308.0850, 2013 (the centered form).
#[derive(Debug, Clone)]
pub struct RmsProp {
    /// β, the decay of the squared-gradient average.
    pub beta: f64,
    /// ε > 0, added to the square root.
    pub epsilon: f64,
    /// λ, the momentum coefficient of the buffer b; 0 = no buffer.
    pub momentum: f64,
    /// Whether to divide by the centered estimate √(s − ḡ ⊙ ḡ) (a variance) instead of √s.
    pub centered: bool,
    /// μ, the L2 (Tikhonov) weight: the gradient becomes `g + μ θ` first.
    pub weight_decay: f64,
}

/// The running averages (and momentum buffer) of one parameter tensor.
#[derive(Clone)]
pub struct RmsPropState<const D: usize> {
    /// s, the running mean of g ⊙ g.
    pub square_average: Tensor<D>,
    /// ḡ, the running mean of g (centered only).
    pub gradient_average: Option<Tensor<D>>,
    /// b, the momentum buffer (momentum > 0 only).
    pub buffer: Option<Tensor<D>>,
}

impl<const D: usize> RecordState for RmsPropState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        super::state::put(out, prefix, "square_average", &self.square_average);
        super::state::put_optional(out, prefix, "gradient_average", &self.gradient_average);
        super::state::put_optional(out, prefix, "buffer", &self.buffer);
    }

    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        Some(Self {
            square_average: super::state::take(src, prefix, "square_average", device)?,
            gradient_average: super::state::take(src, prefix, "gradient_average", device),
            buffer: super::state::take(src, prefix, "buffer", device),
        })
    }
}

/// The `[optimizer]` settings of `name = "rmsprop"`: see [`RmsProp`] for the formula and each
/// key's symbol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RmspropConfig {
    /// α^(0), the learning rate the schedule starts from (`learning_rate`).
    pub learning_rate: f64,
    /// β, the decay of the squared-gradient average (PyTorch's `alpha`), in [0, 1).
    #[serde(default = "default_rmsprop_beta")]
    pub beta: f64,
    /// ε, the denominator's guard (`epsilon`).
    #[serde(default = "super::default_epsilon")]
    pub epsilon: f64,
    /// λ, the momentum coefficient, in [0, 1) (`momentum`).
    #[serde(default)]
    pub momentum: f64,
    /// Divide by the centered second moment (`centered`).
    #[serde(default)]
    pub centered: bool,
    /// μ, the coupled L2 (Tikhonov) penalty, added to the gradient (`weight_decay`).
    #[serde(default)]
    pub weight_decay: f64,
}

impl RmspropConfig {
    /// RMSProp with PyTorch's defaults at α^(0) = `learning_rate`.
    pub fn new(learning_rate: f64) -> Self {
        Self {
            learning_rate,
            beta: default_rmsprop_beta(),
            epsilon: super::default_epsilon(),
            momentum: 0.0,
            centered: false,
            weight_decay: 0.0,
        }
    }
}

fn default_rmsprop_beta() -> f64 {
    0.99
}

impl OptimizerSettings for RmspropConfig {
    fn learning_rate(&self) -> f64 {
        self.learning_rate
    }

    fn validate(&self) -> Check {
        in_unit_interval("optimizer.beta", self.beta)?;
        positive("optimizer.epsilon", self.epsilon)?;
        in_unit_interval("optimizer.momentum", self.momentum)?;
        non_negative("optimizer.weight_decay", self.weight_decay)
    }

    fn build(&self) -> ModuleOptimizer {
        ModuleOptimizer::from(RmsProp::from(self))
    }
}

impl From<&RmspropConfig> for RmsProp {
    /// The `[optimizer]` settings of `name = "rmsprop"`.
    fn from(c: &RmspropConfig) -> Self {
        RmsProp {
            beta: c.beta,
            epsilon: c.epsilon,
            momentum: c.momentum,
            centered: c.centered,
            weight_decay: c.weight_decay,
        }
    }
}

impl RmsProp {
    /// The update as tensor operations, on every backend; on the CPU backends `step` makes
    /// the same operations in one pass ([`fused`]) from the second step on.
    fn tensor_form<const D: usize>(
        &self,
        learning_rate: LearningRate,
        theta: Tensor<D>,
        gradient: Tensor<D>,
        state: Option<RmsPropState<D>>,
    ) -> (Tensor<D>, Option<RmsPropState<D>>) {
        let gradient = with_weight_decay(gradient, &theta, self.weight_decay);
        let (square_average, gradient_average, buffer) = match state {
            Some(s) => (Some(s.square_average), s.gradient_average, s.buffer),
            None => (None, None, None),
        };
        let new_squares = gradient.clone().square().mul_scalar(1.0 - self.beta);
        let square_average = match square_average {
            Some(s) => s.mul_scalar(self.beta) + new_squares,
            None => new_squares,
        };
        let (variance, gradient_average) = if self.centered {
            let new_mean = gradient.clone().mul_scalar(1.0 - self.beta);
            let mean = match gradient_average {
                Some(mean) => mean.mul_scalar(self.beta) + new_mean,
                None => new_mean,
            };
            (square_average.clone() - mean.clone().square(), Some(mean))
        } else {
            (square_average.clone(), None)
        };
        let scaled = gradient.div(variance.sqrt().add_scalar(self.epsilon));
        let (direction, buffer) = if self.momentum > 0.0 {
            let buffer = match buffer {
                Some(b) => b.mul_scalar(self.momentum) + scaled,
                None => scaled,
            };
            (buffer.clone(), Some(buffer))
        } else {
            (scaled, None)
        };
        let theta = theta - direction.mul_scalar(learning_rate);
        (
            theta,
            Some(RmsPropState {
                square_average,
                gradient_average,
                buffer,
            }),
        )
    }

    /// Whether `state` holds every array this configuration updates, and [`fused`] applies.
    fn fusable<const D: usize>(
        &self,
        theta: &Tensor<D>,
        gradient: &Tensor<D>,
        state: &RmsPropState<D>,
    ) -> bool {
        self.centered == state.gradient_average.is_some()
            && (self.momentum > 0.0) == state.buffer.is_some()
            && fused::applies(&[theta, gradient, &state.square_average])
            && [&state.gradient_average, &state.buffer]
                .into_iter()
                .flatten()
                .all(|t| fused::applies(&[t]))
    }

    /// The same update in one pass over θ, g and the state ([`fused`]), on the CPU backends.
    fn fused<const D: usize>(
        &self,
        learning_rate: LearningRate,
        theta: Tensor<D>,
        gradient: Tensor<D>,
        state: RmsPropState<D>,
    ) -> (Tensor<D>, Option<RmsPropState<D>>) {
        let (beta, keep) = (self.beta as f32, (1.0 - self.beta) as f32);
        let (epsilon, lambda, alpha) = (
            self.epsilon as f32,
            self.momentum as f32,
            learning_rate as f32,
        );
        let mu = self.weight_decay as f32;
        // s ← β s + (1 − β) g², the mean likewise (centered), then g / (√(s − mean²) + ε);
        // two closures, not one with an Option, so each kernel is straight-line code.
        let scaled = move |square: &mut f32, g: f32| {
            *square = *square * beta + g * g * keep;
            g / (square.sqrt() + epsilon)
        };
        let scaled_centered = move |square: &mut f32, mean: &mut f32, g: f32| {
            *square = *square * beta + g * g * keep;
            *mean = *mean * beta + g * keep;
            g / ((*square - *mean * *mean).sqrt() + epsilon)
        };
        let RmsPropState {
            square_average,
            gradient_average,
            buffer,
        } = state;
        let (theta, square_average, gradient_average, buffer) = match (gradient_average, buffer) {
            (None, None) => {
                let [theta, square] =
                    fused::update([theta, square_average], gradient, |[theta, square], g| {
                        let g = fused::coupled(g, *theta, mu);
                        *theta -= scaled(square, g) * alpha;
                    });
                (theta, square, None, None)
            }
            (None, Some(buffer)) => {
                let [theta, square, buffer] = fused::update(
                    [theta, square_average, buffer],
                    gradient,
                    |[theta, square, b], g| {
                        let g = fused::coupled(g, *theta, mu);
                        *b = *b * lambda + scaled(square, g);
                        *theta -= *b * alpha;
                    },
                );
                (theta, square, None, Some(buffer))
            }
            (Some(mean), None) => {
                let [theta, square, mean] = fused::update(
                    [theta, square_average, mean],
                    gradient,
                    |[theta, square, mean], g| {
                        let g = fused::coupled(g, *theta, mu);
                        *theta -= scaled_centered(square, mean, g) * alpha;
                    },
                );
                (theta, square, Some(mean), None)
            }
            (Some(mean), Some(buffer)) => {
                let [theta, square, mean, buffer] = fused::update(
                    [theta, square_average, mean, buffer],
                    gradient,
                    |[theta, square, mean, b], g| {
                        let g = fused::coupled(g, *theta, mu);
                        *b = *b * lambda + scaled_centered(square, mean, g);
                        *theta -= *b * alpha;
                    },
                );
                (theta, square, Some(mean), Some(buffer))
            }
        };
        let state = RmsPropState {
            square_average,
            gradient_average,
            buffer,
        };
        (theta, Some(state))
    }
}

impl Optimizer for RmsProp {
    type State<const D: usize> = RmsPropState<D>;

    fn step<const D: usize>(
        &self,
        learning_rate: LearningRate,
        theta: Tensor<D>,
        gradient: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        match state {
            Some(state) if self.fusable(&theta, &gradient, &state) => {
                self.fused(learning_rate, theta, gradient, state)
            }
            // The first step (no averages yet) or a GPU backend: tensor operations.
            state => self.tensor_form(learning_rate, theta, gradient, state),
        }
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        RmsPropState {
            square_average: state.square_average.to_device(device),
            gradient_average: state.gradient_average.map(|t| t.to_device(device)),
            buffer: state.buffer.map(|t| t.to_device(device)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fused_update_is_the_tensor_form_bit_for_bit() {
        for centered in [false, true] {
            for (momentum, weight_decay) in [(0.0, 0.0), (0.9, 0.01)] {
                let rmsprop = RmsProp {
                    beta: 0.99,
                    epsilon: 1e-8,
                    momentum,
                    centered,
                    weight_decay,
                };
                fused::assert_same_bits(
                    |alpha, theta, g, state| rmsprop.step(alpha, theta, g, state),
                    |alpha, theta, g, state| rmsprop.tensor_form(alpha, theta, g, state),
                );
            }
        }
    }
}
