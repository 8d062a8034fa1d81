//! AdamW, [`AdamW`]: Adam with decoupled weight decay.

use burn::optim::{LearningRate, ModuleOptimizer, Optimizer};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::OptimizerSettings;
use super::adam::{Adam, AdamState, ThetaDecay};
use crate::checks::{Check, non_negative};

/// AdamW, `[optimizer] name = "adamw"`, as `torch.optim.AdamW`: Adam with *decoupled*
/// weight decay, which shrinks the parameters directly instead of adding μ θ to the gradient,
/// so the decay is not rescaled by Adam's per-coordinate Γ:
///
/// ```text
/// input: θ^(0), α^(t) (the schedule's), β₁, β₂, ε, amsgrad, ω (weight_decay)
/// for each update k = 1, 2, … of a parameter tensor (at optimizer step t):
///     g ← ∇ℓ(θ)                                (the raw gradient, at θ before the decay)
///     θ ← θ (1 − α^(t) ω)
///     θ ← θ − α^(t) M̂ / (√V̂ + ε)              (the Adam step of [`Adam`], with μ = 0)
/// ```
///
/// As in PyTorch, the decay per step is α^(t) ω: it follows the schedule and the learning
/// rate. The paper's Algorithm 2 decays θ by η_t times its weight-decay factor, with η_t the
/// schedule's multiplier (α^(t) = η_t α^(0)) and no α, so its factor is α^(0) ω here.
/// Decoupled decay is not the gradient of any penalty, so an AdamW run minimizes no fixed
/// objective (no f* to measure suboptimality against).
///
/// | symbol | `[optimizer]` key | default | PyTorch |
/// |---|---|---|---|
/// | α^(0) | `learning_rate` | required | `AdamW(lr=…)` |
/// | β₁ | `beta_1` | 0.9, in [0, 1) | `AdamW(betas=(β₁, β₂))` |
/// | β₂ | `beta_2` | 0.999, in [0, 1) | `AdamW(betas=(β₁, β₂))` |
/// | ε | `epsilon` | 1e-8 | `AdamW(eps=…)` |
/// | | `amsgrad` | false | `AdamW(amsgrad=…)` |
/// | ω | `weight_decay` | 0.01 | `AdamW(weight_decay=…)` (default 1e-2 there too) |
///
/// Reference: Loshchilov & Hutter, "Decoupled weight decay regularization", ICLR 2019.
#[derive(Debug, Clone)]
pub struct AdamW {
    /// The Adam part, with its own (coupled) weight decay μ = 0.
    pub adam: Adam,
    /// ω, the decoupled decay rate: `θ ← θ (1 − α ω)` each step.
    pub weight_decay: f64,
}

/// The `[optimizer]` settings of `name = "adamw"`: see [`AdamW`] for the formula and each
/// key's symbol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdamwConfig {
    /// α^(0), the learning rate the schedule starts from (`learning_rate`).
    pub learning_rate: f64,
    /// β₁, the first moment's decay, in [0, 1) (`beta_1`).
    #[serde(default = "super::default_beta_1")]
    pub beta_1: f64,
    /// β₂, the second moment's decay, in [0, 1) (`beta_2`).
    #[serde(default = "super::default_beta_2")]
    pub beta_2: f64,
    /// ε, the denominator's guard (`epsilon`).
    #[serde(default = "super::default_epsilon")]
    pub epsilon: f64,
    /// Use AMSGrad's running maximum of the second moment (`amsgrad`).
    #[serde(default)]
    pub amsgrad: bool,
    /// ω, the decoupled decay: θ ← θ (1 − α ω) each step.
    #[serde(default = "default_adamw_weight_decay")]
    pub weight_decay: f64,
}

impl AdamwConfig {
    /// AdamW with PyTorch's defaults (decoupled decay 0.01) at α^(0) = `learning_rate`.
    pub fn new(learning_rate: f64) -> Self {
        Self {
            learning_rate,
            beta_1: super::default_beta_1(),
            beta_2: super::default_beta_2(),
            epsilon: super::default_epsilon(),
            amsgrad: false,
            weight_decay: default_adamw_weight_decay(),
        }
    }
}

fn default_adamw_weight_decay() -> f64 {
    0.01
}

impl OptimizerSettings for AdamwConfig {
    fn learning_rate(&self) -> f64 {
        self.learning_rate
    }

    fn validate(&self) -> Check {
        super::adam::check_adam_moments(self.beta_1, self.beta_2, self.epsilon)?;
        non_negative("optimizer.weight_decay", self.weight_decay)
    }

    fn build(&self) -> ModuleOptimizer {
        ModuleOptimizer::from(AdamW::from(self))
    }
}

impl From<&AdamwConfig> for AdamW {
    /// The `[optimizer]` settings of `name = "adamw"`.
    fn from(c: &AdamwConfig) -> Self {
        AdamW {
            adam: Adam {
                beta_1: c.beta_1,
                beta_2: c.beta_2,
                epsilon: c.epsilon,
                amsgrad: c.amsgrad,
                weight_decay: 0.0,
            },
            weight_decay: c.weight_decay,
        }
    }
}

impl AdamW {
    /// `θ ← θ (1 − α ω)`, then Adam's update, as tensor operations, on every backend; on the
    /// CPU backends `step` makes the same operations in one pass from the second step on.
    fn tensor_form<const D: usize>(
        &self,
        learning_rate: LearningRate,
        theta: Tensor<D>,
        gradient: Tensor<D>,
        state: Option<AdamState<D>>,
    ) -> (Tensor<D>, Option<AdamState<D>>) {
        let theta = theta.mul_scalar(1.0 - learning_rate * self.weight_decay);
        let (theta, state) = self.adam.update(learning_rate, theta, gradient, state);
        (theta, Some(state))
    }
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
        match state {
            Some(state) if self.adam.fusable(&theta, &gradient, &state) => {
                let decay = ThetaDecay::Decoupled(self.weight_decay);
                let (theta, state) = self
                    .adam
                    .fused(learning_rate, theta, gradient, state, decay);
                (theta, Some(state))
            }
            // The first step (no moments yet) or a GPU backend: tensor operations.
            state => self.tensor_form(learning_rate, theta, gradient, state),
        }
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        <Adam as Optimizer>::to_device(state, device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fused_update_is_the_tensor_form_bit_for_bit() {
        for amsgrad in [false, true] {
            let adamw = AdamW {
                adam: Adam {
                    beta_1: 0.9,
                    beta_2: 0.999,
                    epsilon: 1e-8,
                    amsgrad,
                    weight_decay: 0.0,
                },
                weight_decay: 0.05,
            };
            super::super::fused::assert_same_bits(
                |alpha, theta, g, state| adamw.step(alpha, theta, g, state),
                |alpha, theta, g, state| adamw.tensor_form(alpha, theta, g, state),
            );
        }
    }
}
