//! One training step (forward + backward + our GD update) per CPU backend compiled in, at
//! the shapes that decide the default backend. Median of repeated steps, after a warm-up.
//!
//! ```text
//! cargo bench --bench backend_step --features ndarray      # flex and ndarray side by side
//! ```

use std::time::{Duration, Instant};

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Int, Tensor, TensorData};
use sgdlab::batch::{Batch, BatchTargets};
use sgdlab::config::{Activation, Head, Init, ModelConfig, ModelKind};
use sgdlab::model::{Model, Problem};
use sgdlab::optim::GradientDescent;
use sgdlab::rng::Rng;

struct Shape {
    name: &'static str,
    batch: usize,
    input: usize,
    hidden: Option<usize>,
    classes: usize,
}

const SHAPES: [Shape; 3] = [
    Shape {
        name: "logistic 10 × 30 → 1",
        batch: 10,
        input: 30,
        hidden: None,
        classes: 2,
    },
    Shape {
        name: "mlp 128 × 784 → 128 → 10",
        batch: 128,
        input: 784,
        hidden: Some(128),
        classes: 10,
    },
    Shape {
        name: "mlp 128 × 784 → 512 → 10",
        batch: 128,
        input: 784,
        hidden: Some(512),
        classes: 10,
    },
];

fn batch(shape: &Shape, rng: &mut Rng, device: &Device) -> Batch {
    let features: Vec<f32> = (0..shape.batch * shape.input)
        .map(|_| rng.normal() as f32)
        .collect();
    let labels: Vec<i64> = (0..shape.batch)
        .map(|_| rng.below(shape.classes) as i64)
        .collect();
    Batch {
        features: Tensor::from_data(
            TensorData::new(features, [shape.batch, shape.input]),
            device,
        ),
        targets: BatchTargets::Classes(Tensor::<1, Int>::from_data(
            TensorData::new(labels, [shape.batch]),
            device,
        )),
    }
}

/// Median seconds of one full step.
fn time_step(shape: &Shape, device: &Device) -> f64 {
    let config = ModelConfig {
        kind: if shape.hidden.is_some() {
            ModelKind::Mlp
        } else {
            ModelKind::Logistic
        },
        hidden: shape.hidden.into_iter().collect(),
        activation: Activation::Relu,
        head: Head::Auto,
        init: Init::Default,
    };
    let problem = Problem {
        dim: shape.input,
        classes: Some(shape.classes),
    };
    let device = device.clone().autodiff();
    let mut model = Model::new(&config, problem, 1, &device).unwrap();
    let mut rng = Rng::new(2);
    let batch = batch(shape, &mut rng, &device);
    let mut optimizer = ModuleOptimizer::from(GradientDescent::default());
    let mut step = |model: Model| -> Model {
        let outputs = model.forward(batch.features.clone());
        let loss = model.loss(outputs, &batch.targets);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let model = optimizer.step(0.01, model, grads);
        // Wait for the update, so lazy backends are timed for the work they do.
        device.sync().unwrap();
        model
    };
    let warm_up = Instant::now();
    while warm_up.elapsed() < Duration::from_millis(300) {
        model = step(model);
    }
    let mut samples = Vec::new();
    let timing = Instant::now();
    while samples.len() < 30 || (timing.elapsed() < Duration::from_secs(2) && samples.len() < 2000)
    {
        let start = Instant::now();
        model = step(model);
        samples.push(start.elapsed().as_secs_f64());
    }
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() {
    let mut backends: Vec<(&str, Device)> = Vec::new();
    if let Ok(device) = sgdlab::device::resolve("flex") {
        backends.push(("flex", device));
    }
    if let Ok(device) = sgdlab::device::resolve("ndarray") {
        backends.push(("ndarray", device));
    }
    println!("median time of one SGD step (forward + backward + update), after warm-up");
    print!("{:<28}", "shape");
    for (name, _) in &backends {
        print!("{name:>14}");
    }
    println!();
    for shape in &SHAPES {
        print!("{:<28}", shape.name);
        for (_, device) in &backends {
            print!("{:>11.1} µs", time_step(shape, device) * 1e6);
        }
        println!();
    }
}
