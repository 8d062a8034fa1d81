//! Gradient descent, full-batch or stochastic: [`GradientDescent`], the lecture's §2 and §5.

use burn::optim::{LearningRate, Optimizer};
use burn::tensor::{Device, Tensor};

use super::with_weight_decay;
use crate::config::SgdConfig;

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

impl From<&SgdConfig> for GradientDescent {
    /// The `[optimizer]` settings of `name = "sgd"`.
    fn from(c: &SgdConfig) -> Self {
        GradientDescent {
            weight_decay: c.weight_decay,
        }
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
        let gradient = with_weight_decay(gradient, &theta, self.weight_decay);
        (theta - gradient.mul_scalar(learning_rate), None)
    }

    fn to_device<const D: usize>(state: Self::State<D>, _device: &Device) -> Self::State<D> {
        state
    }
}
