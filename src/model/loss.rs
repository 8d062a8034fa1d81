//! Losses, each the batch mean `(1/m) Σ ℓ̂` of the lecture, computed from logits.
//!
//! Never `ln σ(z)`: for a saturated σ that is `ln 0 = −∞`. The logistic loss is written with
//! softplus, `−[y ln σ(z) + (1 − y) ln(1 − σ(z))] = softplus(z) − y z`, and softplus as
//! `max(z, 0) + ln(1 + e^{−|z|})`, which is exact and finite for every finite z.

use burn::tensor::activation::{log_softmax, relu};
use burn::tensor::{Int, Tensor};

/// `softplus(z) = ln(1 + e^z)`, stable for any z.
pub fn softplus<const D: usize>(z: Tensor<D>) -> Tensor<D> {
    relu(z.clone()) + z.abs().neg().exp().log1p()
}

/// Binary logistic loss from logits `z: [m]` and labels `y ∈ {0, 1}: [m]`:
/// `(1/m) Σ softplus(z_i) − y_i z_i`.
pub fn binary_cross_entropy_with_logits(z: Tensor<1>, labels: Tensor<1, Int>) -> Tensor<1> {
    let y = labels.float();
    (softplus(z.clone()) - y * z).mean()
}

/// Multinomial logistic loss from logits `[m, k]` and class indices `[m]`:
/// `(1/m) Σ −ln softmax(z_i)_{y_i}`, with log-sum-exp inside `log_softmax`.
pub fn cross_entropy_with_logits(logits: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<1> {
    let log_probabilities = log_softmax(logits, 1);
    let picked = log_probabilities.gather(1, labels.unsqueeze_dim(1));
    picked.neg().mean()
}

/// Mean squared error `(1/m) Σ (ŷ_i − y_i)²` of predictions and targets `[m, 1]`.
pub fn mean_squared_error(predictions: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    let residual = predictions - targets;
    (residual.clone() * residual).mean()
}
