//! AdamW, [`AdamW`]: Adam with decoupled weight decay.

use burn::optim::{LearningRate, Optimizer};
use burn::tensor::{Device, Tensor};

use super::adam::{Adam, AdamState};
use crate::config::AdamwConfig;

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
