//! One optimizer step (the update of every parameter from given gradients) on an MLP of
//! 1.33 M parameters, ours against Burn's built-in optimizer with the same mathematics, on the
//! default CPU backend. Median over repeated steps; the ratio is what matters.
//!
//! ```text
//! cargo bench --bench optimizer_step
//! ```

use std::time::{Duration, Instant};

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Int, Tensor, TensorData};
use sgdlab::batch::BatchTargets;
use sgdlab::config::{Activation, Head, Init, ModelConfig, ModelKind};
use sgdlab::model::{Model, Problem};
use sgdlab::optim::{AdaGrad, Adam, GradientDescent, Momentum, MomentumForm, RmsProp};
use sgdlab::rng::Rng;

fn model(device: &Device) -> Model {
    let config = ModelConfig {
        kind: ModelKind::Mlp,
        hidden: vec![1024, 512],
        activation: Activation::Relu,
        head: Head::Auto,
        init: Init::Default,
    };
    let problem = Problem {
        dim: 784,
        classes: Some(10),
    };
    Model::new(&config, problem, 1, device).unwrap()
}

/// Seconds of `optimizer.step` alone (gradients are computed outside the timing), `count`
/// steady-state samples after a few steps that allocate the optimizer state.
fn step_samples(optimizer: &mut ModuleOptimizer, device: &Device, count: usize) -> Vec<f64> {
    let mut rng = Rng::new(4);
    let features: Vec<f32> = (0..32 * 784).map(|_| rng.normal() as f32).collect();
    let labels: Vec<i64> = (0..32).map(|_| rng.below(10) as i64).collect();
    let features = Tensor::<2>::from_data(TensorData::new(features, [32, 784]), device);
    let targets = BatchTargets::Classes(Tensor::<1, Int>::from_data(
        TensorData::new(labels, [32]),
        device,
    ));
    let mut model = model(device);
    let mut samples = Vec::new();
    for step in 0..count + 3 {
        let loss = model.loss(model.forward(features.clone()), &targets);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        device.sync().unwrap();
        let start = Instant::now();
        model = optimizer.step(1e-3, model, grads);
        device.sync().unwrap();
        if step >= 3 {
            samples.push(start.elapsed().as_secs_f64());
        }
    }
    samples
}

/// Medians of ours and Burn's, measured in alternating rounds so that drift in the machine's
/// load affects both alike.
fn compare(ours: &mut ModuleOptimizer, burn: &mut ModuleOptimizer, device: &Device) -> (f64, f64) {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let started = Instant::now();
    let mut rounds = 0;
    while rounds < 4 || (rounds < 12 && started.elapsed() < Duration::from_secs(6)) {
        a.extend(step_samples(ours, device, 15));
        b.extend(step_samples(burn, device, 15));
        rounds += 1;
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (median(a), median(b))
}

fn main() {
    let device = sgdlab::device::resolve("cpu").unwrap().autodiff();
    let parameters = burn::module::Module::num_params(&model(&device));
    println!("one optimizer step on an MLP 784 → 1024 → 512 → 10 ({parameters} parameters)");
    println!(
        "{:<34}{:>12}{:>12}{:>9}",
        "optimizer", "ours", "burn", "ratio"
    );
    let momentum = burn::optim::momentum::MomentumConfig {
        momentum: 0.9,
        dampening: 0.0,
        nesterov: false,
    };
    let pairs: Vec<(&str, ModuleOptimizer, ModuleOptimizer)> = vec![
        (
            "sgd",
            ModuleOptimizer::from(GradientDescent::default()),
            burn::optim::SgdConfig::new().init(),
        ),
        (
            "momentum (pytorch form)",
            ModuleOptimizer::from(Momentum {
                momentum: 0.9,
                form: MomentumForm::Pytorch,
                dampening: 0.0,
                weight_decay: 0.0,
            }),
            burn::optim::SgdConfig::new()
                .with_momentum(Some(momentum))
                .init(),
        ),
        (
            "adagrad",
            ModuleOptimizer::from(AdaGrad {
                epsilon: 1e-5,
                initial_accumulator: 0.0,
                lr_decay: 0.0,
                weight_decay: 0.0,
            }),
            burn::optim::AdaGradConfig::new().init(),
        ),
        (
            "rmsprop (momentum 0.9)",
            ModuleOptimizer::from(RmsProp {
                beta: 0.99,
                epsilon: 1e-5,
                momentum: 0.9,
                centered: false,
                weight_decay: 0.0,
            }),
            burn::optim::RmsPropConfig::new().init(),
        ),
        (
            "adam",
            ModuleOptimizer::from(Adam {
                beta_1: 0.9,
                beta_2: 0.999,
                epsilon: 1e-5,
                amsgrad: false,
                weight_decay: 0.0,
            }),
            burn::optim::AdamConfig::new().init(),
        ),
    ];
    for (name, mut ours, mut burn) in pairs {
        let (ours, burn) = compare(&mut ours, &mut burn, &device);
        println!(
            "{name:<34}{:>9.2} ms{:>9.2} ms{:>8.2}×",
            ours * 1e3,
            burn * 1e3,
            ours / burn
        );
    }
}
