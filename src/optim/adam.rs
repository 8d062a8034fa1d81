//! Adam (Kingma & Ba 2015), with optional AMSGrad (Reddi, Kale & Kumar 2018), as
//! `torch.optim.Adam`:
//!
//! ```text
//! g ← g + λ₂ θ                               (weight_decay: coupled L2)
//! m ← β₁ m + (1 − β₁) g                      (m^(0) = 0)
//! v ← β₂ v + (1 − β₂) g ⊙ g                  (v^(0) = 0)
//! m̂ = m / (1 − β₁^t),  v̂ = v / (1 − β₂^t)    (t = 1, 2, ... bias correction)
//! amsgrad:  v_max ← max(v_max, v),  v̂ = v_max / (1 − β₂^t)
//! θ ← θ − α m̂ / (√v̂ + ε)
//! ```
//!
//! Γ is diagonal with entries 1/(√v̂_j + ε), applied to a momentum average of the gradients
//! rather than to the gradient itself. Burn's built-in `Adam` is the same update with a
//! default ε = 1e-5 (PyTorch: 1e-8).

use burn::optim::{LearningRate, Optimizer, RecordState, StateSink, StateSource};
use burn::tensor::{Device, Tensor};

use super::with_weight_decay;

#[derive(Debug, Clone)]
pub struct Adam {
    pub beta_1: f64,
    pub beta_2: f64,
    pub epsilon: f64,
    pub amsgrad: bool,
    /// Coupled L2: added to the gradient before the moments.
    pub weight_decay: f64,
}

/// The moments of one parameter tensor and its step count t.
#[derive(Clone)]
pub struct AdamState<const D: usize> {
    pub first_moment: Tensor<D>,
    pub second_moment: Tensor<D>,
    /// AMSGrad's running maximum of the second moment.
    pub max_second_moment: Option<Tensor<D>>,
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

impl Optimizer for Adam {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        learning_rate: LearningRate,
        theta: Tensor<D>,
        gradient: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let gradient = with_weight_decay(gradient, &theta, self.weight_decay);
        let (theta, state) = self.update(learning_rate, theta, gradient, state);
        (theta, Some(state))
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
