//! AdaGrad (Duchi, Hazan & Singer 2011), as `torch.optim.Adagrad`:
//!
//! ```text
//! g ← g + λ₂ θ                          (weight_decay)
//! G ← G + g ⊙ g                         (G^(0) = initial_accumulator)
//! α_t = α / (1 + (t − 1) · lr_decay)    (t = 1, 2, ... counts this tensor's steps)
//! θ ← θ − α_t g / (√G + ε)
//! ```
//!
//! In the lecture's terms, Γ is diagonal with entries 1/(√G_j + ε): coordinates that have
//! seen large gradients take smaller steps, forever (G only grows).

use burn::optim::{LearningRate, Optimizer, RecordState, StateSink, StateSource};
use burn::tensor::{Device, Tensor};

use super::with_weight_decay;

#[derive(Debug, Clone)]
pub struct AdaGrad {
    pub epsilon: f64,
    pub initial_accumulator: f64,
    pub lr_decay: f64,
    pub weight_decay: f64,
}

/// The running sum of squared gradients G and the step count t.
#[derive(Clone)]
pub struct AdaGradState<const D: usize> {
    pub sum_of_squares: Tensor<D>,
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

impl Optimizer for AdaGrad {
    type State<const D: usize> = AdaGradState<D>;

    fn step<const D: usize>(
        &self,
        learning_rate: LearningRate,
        theta: Tensor<D>,
        gradient: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let gradient = with_weight_decay(gradient, &theta, self.weight_decay);
        let (sum, time) = match state {
            Some(s) => (s.sum_of_squares, s.time + 1),
            None => (theta.zeros_like().add_scalar(self.initial_accumulator), 1),
        };
        let sum_of_squares = sum + gradient.clone().square();
        let rate = learning_rate / (1.0 + (time as f64 - 1.0) * self.lr_decay);
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

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        AdaGradState {
            sum_of_squares: state.sum_of_squares.to_device(device),
            time: state.time,
        }
    }
}
