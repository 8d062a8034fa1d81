//! Parameter initialization from sgdlab's own seeded generator, not the backend's: the same
//! seed gives the same starting parameters on every backend, bit for bit.

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor, TensorData};

use crate::config::Init;
use crate::rng::Rng;

/// A dense layer `x ↦ x W + b` with `W: [d_in, d_out]`. `Init::Default` draws every weight and
/// bias from U(−k, k), k = 1/√d_in (PyTorch's and Burn's default); `Init::Zeros` sets all to 0.
pub fn linear(d_in: usize, d_out: usize, init: Init, rng: &mut Rng, device: &Device) -> Linear {
    let bound = 1.0 / (d_in as f64).sqrt();
    let mut draw = |count: usize| -> Vec<f32> {
        match init {
            Init::Zeros => vec![0.0; count],
            Init::Default => (0..count)
                .map(|_| ((2.0 * rng.next_f64() - 1.0) * bound) as f32)
                .collect(),
        }
    };
    let weight = draw(d_in * d_out);
    let bias = draw(d_out);
    Linear {
        weight: Param::from_tensor(Tensor::from_data(
            TensorData::new(weight, [d_in, d_out]),
            device,
        )),
        bias: Some(Param::from_tensor(Tensor::from_data(
            TensorData::new(bias, [d_out]),
            device,
        ))),
    }
}
