//! Losses, each the batch mean `(1/m) Σ ℓ̂` of the lecture, computed from logits.
//!
//! Never `ln σ(z)`: for a saturated σ that is `ln 0 = −∞`. The logistic loss is written with
//! softplus, `−[y ln σ(z) + (1 − y) ln(1 − σ(z))] = softplus(z) − y z`, and softplus is Burn's
//! thresholded `ln(1 + e^z)` (z itself above 20), finite for every finite z.
//!
//! Not `max(z, 0) + ln(1 + e^{−|z|})`: equal in value, but autodiff takes the subgradient 0 for
//! both `max` and `|·|` at z = 0, so its derivative there is 0 instead of σ(0) = ½, which is
//! exactly where the lecture's zero initialization starts.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor};

/// Above this logit softplus(z) is z itself in f32 (`ln(1 + e^20) − 20 ≈ 2e-9`), and e^20 is
/// far from overflowing; Burn's own softplus uses the same threshold.
const SOFTPLUS_THRESHOLD: f64 = 20.0;

/// `softplus(z) = ln(1 + e^z)`, stable for any z, with derivative σ(z) everywhere.
///
/// Burn's `softplus(z, β)` computes `ln(1 + e^{βz})/β` with this thresholding; with β = 1 its
/// scaling by β before and after changes no bit of the value or the gradient, but costs two
/// more autodiff nodes every training step, so the β = 1 case is written out here.
pub fn softplus<const D: usize>(z: Tensor<D>) -> Tensor<D> {
    let saturated = z.clone().greater_elem(SOFTPLUS_THRESHOLD);
    // Saturated entries are replaced below, but still evaluated: capping their input keeps
    // exp finite, so the discarded branch adds 0 (not inf · 0 = NaN) to the gradient.
    z.clone()
        .mask_fill(saturated.clone(), SOFTPLUS_THRESHOLD)
        .exp()
        .log1p()
        .mask_where(saturated, z)
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

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    fn device() -> burn::tensor::Device {
        crate::device::resolve("cpu").unwrap().autodiff()
    }

    /// Value and dℓ/dz of the binary loss at each logit, for labels `labels`.
    fn binary(logits: &[f32], labels: &[i64]) -> (f32, Vec<f32>) {
        let device = device();
        let z = Tensor::<1>::from_data(TensorData::new(logits.to_vec(), [logits.len()]), &device)
            .require_grad();
        let y =
            Tensor::<1, Int>::from_data(TensorData::new(labels.to_vec(), [labels.len()]), &device);
        let loss = binary_cross_entropy_with_logits(z.clone(), y);
        let value = loss.clone().into_scalar::<f32>();
        let gradients = loss.backward();
        let dz = z.grad(&gradients).unwrap();
        (value, dz.into_data().try_into_vec::<f32>().unwrap())
    }

    #[test]
    fn binary_loss_gradient_is_sigma_minus_y_including_at_zero() {
        // d/dz [(1/m) Σ softplus(z) − y z] = (σ(z) − y)/m; at z = 0 that is (½ − y)/m.
        let logits = [0.0f32, 0.0, 1.5, -2.0];
        let labels = [1i64, 0, 1, 0];
        let (value, dz) = binary(&logits, &labels);
        let m = logits.len() as f64;
        let mut expected_value = 0.0;
        for (j, (&z, &y)) in logits.iter().zip(&labels).enumerate() {
            let (z, y) = (f64::from(z), y as f64);
            expected_value += ((1.0 + z.exp()).ln() - y * z) / m;
            let expected = (crate::stats::sigmoid(z) - y) / m;
            assert!(
                (f64::from(dz[j]) - expected).abs() < 1e-6,
                "z = {z}: {} vs {expected}",
                dz[j]
            );
        }
        assert!((f64::from(value) - expected_value).abs() < 1e-6);
    }

    #[test]
    fn saturated_logits_give_finite_exact_losses_and_gradients() {
        // σ(±1e4) saturates to 0/1 in f32: ln σ would be −∞; the softplus form is exact.
        let (value, dz) = binary(&[1e4, -1e4, 1e4, -1e4], &[1, 0, 0, 1]);
        // Per example: 0, 0, 1e4 (confidently wrong), 1e4; mean 5e3.
        assert!((value - 5e3).abs() < 1e-2, "{value}");
        assert_eq!(dz, vec![0.0, 0.0, 0.25, -0.25]);
    }
}
