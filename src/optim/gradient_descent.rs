//! Gradient descent, full-batch or stochastic: [`GradientDescent`], the lecture's §2 and §5.

use burn::optim::{LearningRate, ModuleOptimizer, Optimizer};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::{OptimizerSettings, fused, with_weight_decay};
use crate::checks::{Check, non_negative, open_unit_interval};

/// Gradient descent, the lecture's §2 and §5 (`[optimizer] name = "sgd"`, alias `"gd"`), as
/// `torch.optim.SGD(lr=α, momentum=0, weight_decay=μ)`:
///
/// ```text
/// input: θ^(0), α^(t) (the schedule's), μ (weight_decay)
/// for t = 0, 1, 2, …:
///     g^(t) ← ∇ℓ(θ^(t)) + μ θ^(t)        (∇ of ℓ + ½ μ ‖θ‖², the L2 / Tikhonov penalty)
///     θ^(t+1) ← θ^(t) − α^(t) g^(t)
/// ```
///
/// ∇ℓ is the gradient of the batch-mean loss `(1/m) Σ_{i∈B} ℓ̂`: full-batch gradient descent
/// when the batch B is the whole training set (`batch_size` ≥ n), stochastic (mini-batch)
/// gradient descent when it is a uniform sample of m ≪ n examples. The lecture writes
/// `Θ^(t+1) = Θ^(t) − α ∇ℓ(Θ^(t))` with a constant α; here α^(t) is whatever the schedule
/// hands to this step (α^(0) for every t with the default constant schedule). No state is
/// kept between steps.
///
/// | symbol | `[optimizer]` key | default | PyTorch |
/// |---|---|---|---|
/// | α^(0) | `learning_rate` | required | `SGD(lr=…)` |
/// | μ | `weight_decay` | 0 | `SGD(weight_decay=…)` |
/// | | `line_search` | `"none"` | — (`"armijo"`, `"exact"`: α chosen per step, full batch only) |
/// | c | `sufficient_decrease` | 1e-4 | — (Armijo: accept α when `ℓ(θ − α g) ≤ ℓ(θ) − c α ‖g‖²`) |
/// | τ | `backtracking_factor` | 0.5 | — (Armijo: α ← τ α until accepted) |
///
/// The line search is run by the full-batch trainer, not by this type, which always takes
/// the α it is given.
///
/// References: Cauchy, "Méthode générale pour la résolution des systèmes d'équations
/// simultanées", 1847 (gradient descent); Robbins & Monro, "A stochastic approximation
/// method", Annals of Mathematical Statistics 1951 (the stochastic version); Armijo,
/// "Minimization of functions having Lipschitz continuous first partial derivatives",
/// Pacific Journal of Mathematics 1966 (the line search).
#[derive(Debug, Clone, Default)]
pub struct GradientDescent {
    /// μ, the L2 (Tikhonov) penalty coefficient: `g ← g + μ θ`.
    pub weight_decay: f64,
}

/// How full-batch gradient descent picks its step, lecture §2:
/// `α* = argmin_α ℓ(θ − α ∇ℓ(θ))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineSearch {
    /// α from the config and its schedule.
    #[default]
    None,
    /// Backtracking from α = learning_rate until the sufficient-decrease condition holds.
    Armijo,
    /// The minimizer along the ray: closed form for a quadratic loss (linear regression),
    /// golden-section search otherwise.
    Exact,
}

/// The `[optimizer]` settings of `name = "sgd"` (alias `"gd"`): see [`GradientDescent`] for the formula and each
/// key's symbol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SgdConfig {
    /// α, the learning rate (α^(0) when a schedule changes it); with a line search, the
    /// first trial step of every search.
    pub learning_rate: f64,
    /// μ, the L2 (Tikhonov) penalty: g ← g + μ θ.
    #[serde(default)]
    pub weight_decay: f64,
    /// Choose α at every step by a line search along −∇ℓ (full-batch gradient descent only).
    #[serde(default)]
    pub line_search: LineSearch,
    /// armijo: c, accept α when `ℓ(θ − α g) ≤ ℓ(θ) − c α ‖g‖²`, in (0, 1).
    #[serde(default = "default_sufficient_decrease")]
    pub sufficient_decrease: f64,
    /// armijo: τ, the factor α shrinks by until the condition holds, in (0, 1).
    #[serde(default = "default_backtracking_factor")]
    pub backtracking_factor: f64,
}

impl SgdConfig {
    /// Plain SGD (GD when the batch is the whole set) at α^(0) = `learning_rate`.
    pub fn new(learning_rate: f64) -> Self {
        Self {
            learning_rate,
            weight_decay: 0.0,
            line_search: LineSearch::None,
            sufficient_decrease: default_sufficient_decrease(),
            backtracking_factor: default_backtracking_factor(),
        }
    }
}

fn default_sufficient_decrease() -> f64 {
    1e-4
}

fn default_backtracking_factor() -> f64 {
    0.5
}

impl OptimizerSettings for SgdConfig {
    fn learning_rate(&self) -> f64 {
        self.learning_rate
    }

    fn validate(&self) -> Check {
        // Checked even without Armijo: a value written in the config is read back by eval
        // and --resume, and NaN there would be accepted once and differ on reload.
        open_unit_interval("optimizer.sufficient_decrease", self.sufficient_decrease)?;
        open_unit_interval("optimizer.backtracking_factor", self.backtracking_factor)?;
        non_negative("optimizer.weight_decay", self.weight_decay)
    }

    fn build(&self) -> ModuleOptimizer {
        ModuleOptimizer::from(GradientDescent::from(self))
    }
}

impl From<&SgdConfig> for GradientDescent {
    /// The `[optimizer]` settings of `name = "sgd"`.
    fn from(c: &SgdConfig) -> Self {
        GradientDescent {
            weight_decay: c.weight_decay,
        }
    }
}

impl GradientDescent {
    /// `θ ← θ − α (g + μ θ)` as tensor operations, on every backend; on the CPU backends
    /// `step` makes the same operations one pass ([`fused`]).
    fn tensor_form<const D: usize>(
        &self,
        learning_rate: LearningRate,
        theta: Tensor<D>,
        gradient: Tensor<D>,
    ) -> Tensor<D> {
        let gradient = with_weight_decay(gradient, &theta, self.weight_decay);
        theta - gradient.mul_scalar(learning_rate)
    }
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
        if fused::applies(&[&theta, &gradient]) {
            let (alpha, mu) = (learning_rate as f32, self.weight_decay as f32);
            let [theta] = fused::update([theta], gradient, |[theta], g| {
                let g = fused::coupled(g, *theta, mu);
                *theta -= g * alpha;
            });
            return (theta, None);
        }
        (self.tensor_form(learning_rate, theta, gradient), None)
    }

    fn to_device<const D: usize>(state: Self::State<D>, _device: &Device) -> Self::State<D> {
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fused_update_is_the_tensor_form_bit_for_bit() {
        for weight_decay in [0.0, 0.01] {
            let gd = GradientDescent { weight_decay };
            fused::assert_same_bits(
                |alpha, theta, g, state| gd.step(alpha, theta, g, state),
                |alpha, theta, g, _: Option<()>| (gd.tensor_form(alpha, theta, g), None),
            );
        }
    }
}
