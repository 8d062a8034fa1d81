//! Our gradient-descent step against its formula, θ ← θ − α g.

use burn::module::{Module, Param};
use burn::optim::{GradientsParams, ModuleOptimizer, Optimizer};
use burn::tensor::{Tensor, TensorData};
use sgdlab::optim::GradientDescent;

fn cpu() -> burn::tensor::Device {
    sgdlab::device::resolve("cpu").unwrap()
}

#[test]
fn gd_step_is_theta_minus_alpha_g_exactly() {
    let device = cpu();
    let theta = [0.5f32, -1.25, 3.0, 1e-3];
    let gradient = [0.1f32, 2.0, -0.75, 1e3];
    let alpha = 0.3f64;
    let (updated, state) = GradientDescent.step(
        alpha,
        Tensor::<1>::from_data(TensorData::from(theta), &device),
        Tensor::<1>::from_data(TensorData::from(gradient), &device),
        None,
    );
    assert!(state.is_none(), "plain GD keeps no state");
    let updated: Vec<f32> = updated.into_data().try_into_vec::<f32>().unwrap();
    let expected: Vec<f32> = theta
        .iter()
        .zip(gradient)
        .map(|(t, g)| t - g * alpha as f32)
        .collect();
    assert_eq!(updated, expected);
}

#[derive(Module, Debug)]
struct Weights {
    w: Param<Tensor<1>>,
}

#[test]
fn gd_lifted_to_a_module_steps_every_parameter() {
    // ℓ(w) = x·w has gradient x, so one step gives w − α x.
    let device = cpu().autodiff();
    let w0 = [1.0f32, 2.0, -3.0];
    let x = [0.5f32, -0.25, 4.0];
    let model = Weights {
        w: Param::from_tensor(Tensor::from_data(TensorData::from(w0), &device)),
    };
    let loss = (model.w.val() * Tensor::from_data(TensorData::from(x), &device)).sum();
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    let mut optimizer = ModuleOptimizer::from(GradientDescent);
    let alpha = 0.1;
    let model = optimizer.step(alpha, model, grads);
    let w: Vec<f32> = model.w.val().into_data().try_into_vec::<f32>().unwrap();
    let expected: Vec<f32> = w0
        .iter()
        .zip(x)
        .map(|(w, x)| w - x * alpha as f32)
        .collect();
    assert_eq!(w, expected);
}
