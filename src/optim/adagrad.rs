//! AdaGrad, [`AdaGrad`], and its per-tensor state [`AdaGradState`].

use burn::optim::{LearningRate, ModuleOptimizer, Optimizer, RecordState, StateSink, StateSource};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::{OptimizerSettings, fused, with_weight_decay};
use crate::checks::{Check, non_negative, positive};

/// AdaGrad, `[optimizer] name = "adagrad"`, as `torch.optim.Adagrad`:
///
/// ```text
/// input: θ^(0), α^(t) (the schedule's), G^(0) (initial_accumulator), η (lr_decay),
///        μ (weight_decay), ε
/// for each update k = 1, 2, … of a parameter tensor (at optimizer step t):
///     g ← ∇ℓ(θ) + μ θ
///     G ← G + g ⊙ g
///     θ ← θ − α^(t) / (1 + (k − 1) η) · g / (√G + ε)
/// ```
///
/// (⊙, the square root and the division are per coordinate; k is this tensor's own update
/// count, t + 1 when every step updates it.) η is an inverse-time decay built into the
/// optimizer, applied on top of whatever schedule gives α^(t); with the default η = 0 the
/// schedule alone sets the rate.
///
/// In the lecture's terms (§3), Γ is diagonal with entries −1/(√G_j + ε): coordinates that
/// have seen large gradients take smaller steps, forever (G only grows).
///
/// | symbol | `[optimizer]` key | default | PyTorch |
/// |---|---|---|---|
/// | α^(0) | `learning_rate` | required | `Adagrad(lr=…)` |
/// | ε | `epsilon` | 1e-10 | `Adagrad(eps=…)` |
/// | G^(0) | `initial_accumulator` | 0 | `Adagrad(initial_accumulator_value=…)` |
/// | η | `lr_decay` | 0 | `Adagrad(lr_decay=…)` |
/// | μ | `weight_decay` | 0 | `Adagrad(weight_decay=…)` |
///
/// Reference: Duchi, Hazan & Singer, "Adaptive subgradient methods for online learning and
/// stochastic optimization", JMLR 2011.
#[derive(Debug, Clone)]
pub struct AdaGrad {
    /// ε > 0, added to √G.
    pub epsilon: f64,
    /// G^(0) ≥ 0, every coordinate's starting sum of squares.
    pub initial_accumulator: f64,
    /// η ≥ 0: the k-th update's rate is α^(t) / (1 + (k − 1) η).
    pub lr_decay: f64,
    /// μ, the L2 (Tikhonov) weight: the gradient becomes `g + μ θ` first.
    pub weight_decay: f64,
}

/// The running sum of squared gradients G and the update count k of one parameter tensor.
#[derive(Clone)]
pub struct AdaGradState<const D: usize> {
    /// G, `G^(0) + Σ g ⊙ g` over this tensor's updates.
    pub sum_of_squares: Tensor<D>,
    /// k, the number of updates this tensor has had (1 after the first).
    pub time: usize,
}

impl<const D: usize> RecordState for AdaGradState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        super::state::put(out, prefix, "sum_of_squares", &self.sum_of_squares);
        super::state::put_count(out, prefix, "time", self.time);
    }

    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        Some(Self {
            sum_of_squares: super::state::take(src, prefix, "sum_of_squares", device)?,
            time: super::state::take_count(src, prefix, "time")?,
        })
    }
}

/// The `[optimizer]` settings of `name = "adagrad"`: see [`AdaGrad`] for the formula and each
/// key's symbol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdagradConfig {
    /// α^(0), the learning rate the schedule starts from (`learning_rate`).
    pub learning_rate: f64,
    /// ε, the denominator's guard (`epsilon`).
    #[serde(default = "default_adagrad_epsilon")]
    pub epsilon: f64,
    /// G^(0), the accumulator's starting value.
    #[serde(default)]
    pub initial_accumulator: f64,
    /// α_t = α / (1 + (t − 1) lr_decay).
    #[serde(default)]
    pub lr_decay: f64,
    /// μ, the coupled L2 (Tikhonov) penalty, added to the gradient (`weight_decay`).
    #[serde(default)]
    pub weight_decay: f64,
}

impl AdagradConfig {
    /// AdaGrad with PyTorch's defaults at α^(0) = `learning_rate`.
    pub fn new(learning_rate: f64) -> Self {
        Self {
            learning_rate,
            epsilon: default_adagrad_epsilon(),
            initial_accumulator: 0.0,
            lr_decay: 0.0,
            weight_decay: 0.0,
        }
    }
}

fn default_adagrad_epsilon() -> f64 {
    1e-10
}

impl OptimizerSettings for AdagradConfig {
    fn learning_rate(&self) -> f64 {
        self.learning_rate
    }

    fn validate(&self) -> Check {
        positive("optimizer.epsilon", self.epsilon)?;
        non_negative("optimizer.initial_accumulator", self.initial_accumulator)?;
        non_negative("optimizer.lr_decay", self.lr_decay)?;
        non_negative("optimizer.weight_decay", self.weight_decay)
    }

    fn build(&self) -> ModuleOptimizer {
        ModuleOptimizer::from(AdaGrad::from(self))
    }
}

impl From<&AdagradConfig> for AdaGrad {
    /// The `[optimizer]` settings of `name = "adagrad"`.
    fn from(c: &AdagradConfig) -> Self {
        AdaGrad {
            epsilon: c.epsilon,
            initial_accumulator: c.initial_accumulator,
            lr_decay: c.lr_decay,
            weight_decay: c.weight_decay,
        }
    }
}

impl AdaGrad {
    /// α / (1 + (t − 1) η), the step size at step t (from 1).
    fn rate(&self, learning_rate: LearningRate, time: usize) -> f64 {
        learning_rate / (1.0 + (time as f64 - 1.0) * self.lr_decay)
    }

    /// The update as tensor operations, on every backend; on the CPU backends `step` makes
    /// the same operations in one pass ([`fused`]) from the second step on.
    fn tensor_form<const D: usize>(
        &self,
        learning_rate: LearningRate,
        theta: Tensor<D>,
        gradient: Tensor<D>,
        state: Option<AdaGradState<D>>,
    ) -> (Tensor<D>, Option<AdaGradState<D>>) {
        let gradient = with_weight_decay(gradient, &theta, self.weight_decay);
        let (sum, time) = match state {
            Some(s) => (s.sum_of_squares, s.time + 1),
            None => (theta.zeros_like().add_scalar(self.initial_accumulator), 1),
        };
        let sum_of_squares = sum + gradient.clone().square();
        let rate = self.rate(learning_rate, time);
        let denominator = sum_of_squares.clone().sqrt().add_scalar(self.epsilon);
        let theta = theta - gradient.div(denominator).mul_scalar(rate);
        (
            theta,
            Some(AdaGradState {
                sum_of_squares,
                time,
            }),
        )
    }
}

impl Optimizer for AdaGrad {
    type State<const D: usize> = AdaGradState<D>;

    fn step<const D: usize>(
        &self,
        learning_rate: LearningRate,
        theta: Tensor<D>,
        gradient: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        match state {
            Some(AdaGradState {
                sum_of_squares,
                time,
            }) if fused::applies(&[&theta, &gradient, &sum_of_squares]) => {
                let time = time + 1;
                let (alpha, epsilon) = (self.rate(learning_rate, time) as f32, self.epsilon as f32);
                let mu = self.weight_decay as f32;
                let [theta, sum_of_squares] =
                    fused::update([theta, sum_of_squares], gradient, |[theta, sum], g| {
                        let g = fused::coupled(g, *theta, mu);
                        *sum += g * g;
                        *theta -= g / (sum.sqrt() + epsilon) * alpha;
                    });
                let state = AdaGradState {
                    sum_of_squares,
                    time,
                };
                (theta, Some(state))
            }
            // The first step (no sum yet) or a GPU backend: tensor operations.
            state => self.tensor_form(learning_rate, theta, gradient, state),
        }
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        AdaGradState {
            sum_of_squares: state.sum_of_squares.to_device(device),
            time: state.time,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fused_update_is_the_tensor_form_bit_for_bit() {
        for (lr_decay, weight_decay) in [(0.0, 0.0), (0.1, 0.01)] {
            let adagrad = AdaGrad {
                epsilon: 1e-10,
                initial_accumulator: 0.1,
                lr_decay,
                weight_decay,
            };
            fused::assert_same_bits(
                |alpha, theta, g, state| adagrad.step(alpha, theta, g, state),
                |alpha, theta, g, state| adagrad.tensor_form(alpha, theta, g, state),
            );
        }
    }
}
