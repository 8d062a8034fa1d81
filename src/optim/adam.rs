//! Adam with optional AMSGrad, [`Adam`], and its per-tensor state [`AdamState`] (shared with
//! AdamW).

use burn::optim::{LearningRate, ModuleOptimizer, Optimizer, RecordState, StateSink, StateSource};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::{OptimizerSettings, fused, with_weight_decay};
use crate::checks::{Check, in_unit_interval, non_negative, positive};

/// Adam, `[optimizer] name = "adam"`, with optional AMSGrad, as `torch.optim.Adam`:
///
/// ```text
/// input: θ^(0), α^(t) (the schedule's), β₁, β₂, ε, amsgrad, μ (weight_decay)
/// M^(0) = 0, V^(0) = 0, V_max^(0) = 0
/// for each update k = 1, 2, … of a parameter tensor (at optimizer step t):
///     g ← ∇ℓ(θ) + μ θ                          (coupled L2: before the moments)
///     M ← β₁ M + (1 − β₁) g
///     V ← β₂ V + (1 − β₂) g ⊙ g
///     M̂ ← M / (1 − β₁^k)
///     if amsgrad:  V_max ← max(V_max, V) ;  V̂ ← V_max / (1 − β₂^k)
///     else:        V̂ ← V / (1 − β₂^k)
///     θ ← θ − α^(t) M̂ / (√V̂ + ε)
/// ```
///
/// (⊙, max, the square root and the division are per coordinate; k is this tensor's own
/// update count, t + 1 when every step updates it. The paper's m_t and v_t are M and V here:
/// m is the batch size and v the momentum velocity.) The last line is computed with the bias
/// corrections folded into two scalars, one tensor operation fewer per parameter:
///
/// ```text
/// θ ← θ − [α^(t) √(1 − β₂^k) / (1 − β₁^k)] · M / (√V + ε √(1 − β₂^k))    (V_max under amsgrad)
/// ```
///
/// equal to the form above in exact arithmetic (it is the reordering at the end of the
/// paper's §2, with its ε̂ = ε √(1 − β₂^k)), so it differs from PyTorch only in rounding.
/// Γ is diagonal with entries −1/(√V̂_j + ε), applied to a momentum average of the gradients
/// rather than to the gradient itself. Burn's built-in `Adam` is the same update with a
/// default ε = 1e-5.
///
/// | symbol | `[optimizer]` key | default | PyTorch |
/// |---|---|---|---|
/// | α^(0) | `learning_rate` | required | `Adam(lr=…)` |
/// | β₁ | `beta_1` | 0.9, in [0, 1) | `Adam(betas=(β₁, β₂))` |
/// | β₂ | `beta_2` | 0.999, in [0, 1) | `Adam(betas=(β₁, β₂))` |
/// | ε | `epsilon` | 1e-8 | `Adam(eps=…)` |
/// | | `amsgrad` | false | `Adam(amsgrad=…)` |
/// | μ | `weight_decay` | 0 | `Adam(weight_decay=…)` |
///
/// References: Kingma & Ba, "Adam: a method for stochastic optimization", ICLR 2015; Reddi,
/// Kale & Kumar, "On the convergence of Adam and beyond", ICLR 2018 (AMSGrad, which the paper
/// states without bias correction; PyTorch, and this type, divide V_max by 1 − β₂^k).
#[derive(Debug, Clone)]
pub struct Adam {
    /// β₁, the decay of the first-moment (gradient) average M.
    pub beta_1: f64,
    /// β₂, the decay of the second-moment (squared-gradient) average V.
    pub beta_2: f64,
    /// ε > 0, added to √V̂.
    pub epsilon: f64,
    /// AMSGrad: divide by the running maximum V_max of V instead of V.
    pub amsgrad: bool,
    /// μ, the coupled L2 (Tikhonov) weight: `g + μ θ` before the moments.
    pub weight_decay: f64,
}

/// The moments of one parameter tensor and its update count k.
#[derive(Clone)]
pub struct AdamState<const D: usize> {
    /// M, the average of g with weights (1 − β₁) β₁^j (not bias-corrected).
    pub first_moment: Tensor<D>,
    /// V, the average of g ⊙ g with weights (1 − β₂) β₂^j (not bias-corrected).
    pub second_moment: Tensor<D>,
    /// V_max, AMSGrad's running maximum of V (amsgrad only).
    pub max_second_moment: Option<Tensor<D>>,
    /// k, the number of updates this tensor has had (1 after the first).
    pub time: usize,
}

impl<const D: usize> RecordState for AdamState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        super::state::put(out, prefix, "first_moment", &self.first_moment);
        super::state::put(out, prefix, "second_moment", &self.second_moment);
        super::state::put_optional(out, prefix, "max_second_moment", &self.max_second_moment);
        super::state::put_count(out, prefix, "time", self.time);
    }

    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        Some(Self {
            first_moment: super::state::take(src, prefix, "first_moment", device)?,
            second_moment: super::state::take(src, prefix, "second_moment", device)?,
            max_second_moment: super::state::take(src, prefix, "max_second_moment", device),
            time: super::state::take_count(src, prefix, "time")?,
        })
    }
}

/// The `[optimizer]` settings of `name = "adam"`: see [`Adam`] for the formula and each
/// key's symbol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdamConfig {
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
    /// Coupled L2 penalty, added to the gradient.
    #[serde(default)]
    pub weight_decay: f64,
}

impl AdamConfig {
    /// Adam with PyTorch's defaults at α^(0) = `learning_rate`.
    pub fn new(learning_rate: f64) -> Self {
        Self {
            learning_rate,
            beta_1: super::default_beta_1(),
            beta_2: super::default_beta_2(),
            epsilon: super::default_epsilon(),
            amsgrad: false,
            weight_decay: 0.0,
        }
    }
}

impl OptimizerSettings for AdamConfig {
    fn learning_rate(&self) -> f64 {
        self.learning_rate
    }

    fn validate(&self) -> Check {
        check_adam_moments(self.beta_1, self.beta_2, self.epsilon)?;
        non_negative("optimizer.weight_decay", self.weight_decay)
    }

    fn build(&self) -> ModuleOptimizer {
        ModuleOptimizer::from(Adam::from(self))
    }
}

/// β₁, β₂ in [0, 1) and ε > 0: Adam's and AdamW's moment settings.
pub(super) fn check_adam_moments(beta_1: f64, beta_2: f64, epsilon: f64) -> Check {
    in_unit_interval("optimizer.beta_1", beta_1)?;
    in_unit_interval("optimizer.beta_2", beta_2)?;
    positive("optimizer.epsilon", epsilon)
}

impl From<&AdamConfig> for Adam {
    /// The `[optimizer]` settings of `name = "adam"`.
    fn from(c: &AdamConfig) -> Self {
        Adam {
            beta_1: c.beta_1,
            beta_2: c.beta_2,
            epsilon: c.epsilon,
            amsgrad: c.amsgrad,
            weight_decay: c.weight_decay,
        }
    }
}

impl Adam {
    /// One Adam update of `theta` with `gradient` (weight decay already applied).
    pub(super) fn update<const D: usize>(
        &self,
        learning_rate: LearningRate,
        theta: Tensor<D>,
        gradient: Tensor<D>,
        state: Option<AdamState<D>>,
    ) -> (Tensor<D>, AdamState<D>) {
        let new_first = gradient.clone().mul_scalar(1.0 - self.beta_1);
        let new_second = gradient.square().mul_scalar(1.0 - self.beta_2);
        let (first_moment, second_moment, max_second_moment, time) = match state {
            Some(s) => (
                s.first_moment.mul_scalar(self.beta_1) + new_first,
                s.second_moment.mul_scalar(self.beta_2) + new_second,
                s.max_second_moment,
                s.time + 1,
            ),
            None => (new_first, new_second, None, 1),
        };
        let max_second_moment = self.amsgrad.then(|| match max_second_moment {
            Some(max) => max.max_pair(second_moment.clone()),
            None => second_moment.clone(),
        });
        let exponent = time as i32;
        let bias_correction_1 = 1.0 - self.beta_1.powi(exponent);
        let bias_correction_2 = 1.0 - self.beta_2.powi(exponent);
        let second = max_second_moment.as_ref().unwrap_or(&second_moment).clone();
        // α m̂ / (√v̂ + ε) = [α √(1 − β₂^t) / (1 − β₁^t)] · m / (√v + ε √(1 − β₂^t)): the bias
        // corrections folded into two scalars, one tensor operation fewer per parameter.
        let correction_2_sqrt = bias_correction_2.sqrt();
        let denominator = second.sqrt().add_scalar(self.epsilon * correction_2_sqrt);
        let step_size = learning_rate * correction_2_sqrt / bias_correction_1;
        let theta = theta - first_moment.clone().div(denominator).mul_scalar(step_size);
        (
            theta,
            AdamState {
                first_moment,
                second_moment,
                max_second_moment,
                time,
            },
        )
    }
}

/// How θ enters Adam's fused update ([`Adam::fused`]) before the moments: Adam's coupled
/// L2 weight `g ← g + μ θ`, or AdamW's decoupled `θ ← θ (1 − α ω)`.
#[derive(Debug, Clone, Copy)]
pub(super) enum ThetaDecay {
    /// μ; 0 leaves the gradient as it is.
    Coupled(f64),
    /// ω: θ is multiplied by 1 − α ω, as AdamW's tensor form does, even for ω = 0.
    Decoupled(f64),
}

impl Adam {
    /// Adam's update as tensor operations, on every backend; on the CPU backends `step` makes
    /// the same operations in one pass ([`fused`]) from the second step on.
    fn tensor_form<const D: usize>(
        &self,
        learning_rate: LearningRate,
        theta: Tensor<D>,
        gradient: Tensor<D>,
        state: Option<AdamState<D>>,
    ) -> (Tensor<D>, Option<AdamState<D>>) {
        let gradient = with_weight_decay(gradient, &theta, self.weight_decay);
        let (theta, state) = self.update(learning_rate, theta, gradient, state);
        (theta, Some(state))
    }

    /// Whether `state` holds every array this configuration updates, and [`fused`] applies.
    pub(super) fn fusable<const D: usize>(
        &self,
        theta: &Tensor<D>,
        gradient: &Tensor<D>,
        state: &AdamState<D>,
    ) -> bool {
        self.amsgrad == state.max_second_moment.is_some()
            && fused::applies(&[theta, gradient, &state.first_moment, &state.second_moment])
            && state.max_second_moment.iter().all(|t| fused::applies(&[t]))
    }

    /// [`update`](Self::update)'s operations, after `decay`, in one pass over θ, g and the
    /// moments ([`fused`]), on the CPU backends.
    pub(super) fn fused<const D: usize>(
        &self,
        learning_rate: LearningRate,
        theta: Tensor<D>,
        gradient: Tensor<D>,
        state: AdamState<D>,
        decay: ThetaDecay,
    ) -> (Tensor<D>, AdamState<D>) {
        let time = state.time + 1;
        let exponent = time as i32;
        let bias_correction_1 = 1.0 - self.beta_1.powi(exponent);
        let correction_2_sqrt = (1.0 - self.beta_2.powi(exponent)).sqrt();
        let (beta_1, keep_1) = (self.beta_1 as f32, (1.0 - self.beta_1) as f32);
        let (beta_2, keep_2) = (self.beta_2 as f32, (1.0 - self.beta_2) as f32);
        let guard = (self.epsilon * correction_2_sqrt) as f32;
        let step_size = (learning_rate * correction_2_sqrt / bias_correction_1) as f32;
        // θ before the moments: the gradient (coupled) or θ itself (decoupled).
        let (mu, shrink) = match decay {
            ThetaDecay::Coupled(mu) => (mu as f32, None),
            ThetaDecay::Decoupled(omega) => (0.0, Some((1.0 - learning_rate * omega) as f32)),
        };
        let moments = move |theta: &mut f32, m: &mut f32, v: &mut f32, g: f32| {
            let g = fused::coupled(g, *theta, mu);
            if let Some(shrink) = shrink {
                *theta *= shrink;
            }
            *m = *m * beta_1 + g * keep_1;
            *v = *v * beta_2 + g * g * keep_2;
        };
        let step = move |theta: &mut f32, m: f32, second: f32| {
            *theta -= m / (second.sqrt() + guard) * step_size;
        };
        let AdamState {
            first_moment,
            second_moment,
            max_second_moment,
            ..
        } = state;
        let (theta, first_moment, second_moment, max_second_moment) = match max_second_moment {
            None => {
                let [theta, m, v] = fused::update(
                    [theta, first_moment, second_moment],
                    gradient,
                    |[theta, m, v], g| {
                        moments(theta, m, v, g);
                        step(theta, *m, *v);
                    },
                );
                (theta, m, v, None)
            }
            Some(max) => {
                let [theta, m, v, max] = fused::update(
                    [theta, first_moment, second_moment, max],
                    gradient,
                    |[theta, m, v, max], g| {
                        moments(theta, m, v, g);
                        // max_pair: the larger, the old one on ties.
                        if *max < *v {
                            *max = *v;
                        }
                        step(theta, *m, *max);
                    },
                );
                (theta, m, v, Some(max))
            }
        };
        let state = AdamState {
            first_moment,
            second_moment,
            max_second_moment,
            time,
        };
        (theta, state)
    }
}

impl Optimizer for Adam {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        learning_rate: LearningRate,
        theta: Tensor<D>,
        gradient: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        match state {
            Some(state) if self.fusable(&theta, &gradient, &state) => {
                let decay = ThetaDecay::Coupled(self.weight_decay);
                let (theta, state) = self.fused(learning_rate, theta, gradient, state, decay);
                (theta, Some(state))
            }
            // The first step (no moments yet) or a GPU backend: tensor operations.
            state => self.tensor_form(learning_rate, theta, gradient, state),
        }
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        AdamState {
            first_moment: state.first_moment.to_device(device),
            second_moment: state.second_moment.to_device(device),
            max_second_moment: state.max_second_moment.map(|t| t.to_device(device)),
            time: state.time,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fused_update_is_the_tensor_form_bit_for_bit() {
        for amsgrad in [false, true] {
            for weight_decay in [0.0, 0.01] {
                let adam = Adam {
                    beta_1: 0.9,
                    beta_2: 0.999,
                    epsilon: 1e-8,
                    amsgrad,
                    weight_decay,
                };
                fused::assert_same_bits(
                    |alpha, theta, g, state| adam.step(alpha, theta, g, state),
                    |alpha, theta, g, state| adam.tensor_form(alpha, theta, g, state),
                );
            }
        }
    }
}
