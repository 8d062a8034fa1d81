//! Our optimizers against their formulas (computed here in f64), against Burn's built-ins
//! where the mathematics coincide, and against the lecture's claims about momentum.

mod common;

use burn::module::{Module, Param};
use burn::optim::{GradientsParams, LearningRate, ModuleOptimizer, Optimizer};
use burn::tensor::{Device, Tensor, TensorData};
use sgdlab::batch::gather;
use sgdlab::config::{Activation, Head, Init, ModelConfig, ModelKind};
use sgdlab::model::{Model, Problem};
use sgdlab::optim::{
    AdaGrad, Adam, AdamW, GradientDescent, Momentum, MomentumForm, Nesterov, RmsProp,
};

fn cpu() -> Device {
    sgdlab::device::resolve("cpu").unwrap()
}

fn tensor(values: &[f32], device: &Device) -> Tensor<1> {
    Tensor::from_data(TensorData::new(values.to_vec(), [values.len()]), device)
}

fn values(t: Tensor<1>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().unwrap()
}

#[test]
fn gd_step_is_theta_minus_alpha_g_exactly() {
    let device = cpu();
    let theta = [0.5f32, -1.25, 3.0, 1e-3];
    let gradient = [0.1f32, 2.0, -0.75, 1e3];
    let alpha = 0.3f64;
    let (updated, state) = GradientDescent::default().step(
        alpha,
        tensor(&theta, &device),
        tensor(&gradient, &device),
        None,
    );
    assert!(state.is_none(), "plain GD keeps no state");
    let expected: Vec<f32> = theta
        .iter()
        .zip(gradient)
        .map(|(t, g)| t - g * alpha as f32)
        .collect();
    assert_eq!(values(updated), expected);
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
        w: Param::from_tensor(tensor(&w0, &device)),
    };
    let loss = (model.w.val() * tensor(&x, &device)).sum();
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    let mut optimizer = ModuleOptimizer::from(GradientDescent::default());
    let alpha = 0.1;
    let model = optimizer.step(alpha, model, grads);
    let expected: Vec<f32> = w0
        .iter()
        .zip(x)
        .map(|(w, x)| w - x * alpha as f32)
        .collect();
    assert_eq!(values(model.w.val()), expected);
}

// ---------------------------------------------------------------------------------------
// Each update rule against an f64 transcription of its formula, on two parameters, driven by
// the same prescribed gradients (signs and magnitudes varied) and a changing α.

const THETA0: [f64; 2] = [0.8, -1.5];
const GRADIENTS: [[f64; 2]; 6] = [
    [0.5, -2.0],
    [0.3, -1.0],
    [-0.2, 0.5],
    [1.5, 0.25],
    [0.01, -0.7],
    [-0.9, 3.0],
];
const RATES: [f64; 6] = [0.1, 0.1, 0.05, 0.08, 0.02, 0.04];

/// Runs `optimizer` through the prescribed steps; returns θ after each step.
fn run_ours<O: Optimizer>(optimizer: &O) -> Vec<[f64; 2]> {
    let device = cpu();
    let mut theta = tensor(&THETA0.map(|v| v as f32), &device);
    let mut state = None;
    let mut trajectory = Vec::new();
    for (gradient, rate) in GRADIENTS.iter().zip(RATES) {
        let (next, next_state) = optimizer.step(
            rate,
            theta,
            tensor(&gradient.map(|v| v as f32), &device),
            state,
        );
        theta = next;
        state = next_state;
        let v = values(theta.clone());
        trajectory.push([f64::from(v[0]), f64::from(v[1])]);
    }
    trajectory
}

/// A reference rule: (θ, g, α, t ≥ 1) → θ', with its own state in the closure.
fn run_reference(mut rule: impl FnMut(&mut [f64; 2], [f64; 2], f64, usize)) -> Vec<[f64; 2]> {
    let mut theta = THETA0;
    GRADIENTS
        .iter()
        .zip(RATES)
        .enumerate()
        .map(|(i, (g, rate))| {
            rule(&mut theta, *g, rate, i + 1);
            theta
        })
        .collect()
}

fn assert_close(ours: &[[f64; 2]], reference: &[[f64; 2]], what: &str) {
    for (step, (a, b)) in ours.iter().zip(reference).enumerate() {
        for j in 0..2 {
            let tolerance = 1e-6 * b[j].abs().max(1.0);
            assert!(
                (a[j] - b[j]).abs() <= tolerance,
                "{what}: step {} θ[{j}] = {} vs formula {}",
                step + 1,
                a[j],
                b[j]
            );
        }
    }
}

#[test]
fn sgd_with_weight_decay_follows_its_formula() {
    let ours = run_ours(&GradientDescent { weight_decay: 0.1 });
    let reference = run_reference(|theta, g, rate, _| {
        for j in 0..2 {
            theta[j] -= rate * (g[j] + 0.1 * theta[j]);
        }
    });
    assert_close(&ours, &reference, "sgd");
}

/// The coupled L2 weights each formula test runs with: none, and μ = 0.05 (`g ← g + μθ`, with
/// θ the parameter before the step, for every optimizer but adamw).
const WEIGHT_DECAYS: [f64; 2] = [0.0, 0.05];

/// g + μθ, the gradient the coupled decay hands the rule.
fn decayed(g: [f64; 2], theta: &[f64; 2], mu: f64) -> [f64; 2] {
    [g[0] + mu * theta[0], g[1] + mu * theta[1]]
}

#[test]
fn lecture_momentum_follows_its_formula() {
    let lambda = 0.9;
    for mu in WEIGHT_DECAYS {
        let ours = run_ours(&Momentum {
            momentum: lambda,
            form: MomentumForm::Lecture,
            dampening: 0.0,
            weight_decay: mu,
        });
        let mut v = [0.0; 2];
        let reference = run_reference(|theta, g, rate, _| {
            let g = decayed(g, theta, mu);
            for j in 0..2 {
                v[j] = lambda * v[j] - rate * g[j];
                theta[j] += v[j];
            }
        });
        assert_close(&ours, &reference, &format!("momentum (lecture), μ = {mu}"));
    }
}

#[test]
fn pytorch_momentum_follows_its_formula() {
    let (lambda, d) = (0.8, 0.25);
    for mu in WEIGHT_DECAYS {
        let ours = run_ours(&Momentum {
            momentum: lambda,
            form: MomentumForm::Pytorch,
            dampening: d,
            weight_decay: mu,
        });
        let mut b = [0.0; 2];
        let reference = run_reference(|theta, g, rate, t| {
            let g = decayed(g, theta, mu);
            for j in 0..2 {
                b[j] = if t == 1 {
                    g[j]
                } else {
                    lambda * b[j] + (1.0 - d) * g[j]
                };
                theta[j] -= rate * b[j];
            }
        });
        assert_close(&ours, &reference, &format!("momentum (pytorch), μ = {mu}"));
    }
}

#[test]
fn nesterov_follows_its_formula_in_both_forms() {
    let lambda = 0.9;
    for mu in WEIGHT_DECAYS {
        let ours = run_ours(&Nesterov {
            momentum: lambda,
            form: MomentumForm::Lecture,
            weight_decay: mu,
        });
        let mut v = [0.0; 2];
        let reference = run_reference(|theta, g, rate, _| {
            let g = decayed(g, theta, mu);
            for j in 0..2 {
                v[j] = lambda * v[j] - rate * g[j];
                theta[j] += lambda * v[j] - rate * g[j];
            }
        });
        assert_close(&ours, &reference, &format!("nesterov (lecture), μ = {mu}"));

        let ours = run_ours(&Nesterov {
            momentum: lambda,
            form: MomentumForm::Pytorch,
            weight_decay: mu,
        });
        let mut b = [0.0; 2];
        let reference = run_reference(|theta, g, rate, t| {
            let g = decayed(g, theta, mu);
            for j in 0..2 {
                b[j] = if t == 1 { g[j] } else { lambda * b[j] + g[j] };
                theta[j] -= rate * (g[j] + lambda * b[j]);
            }
        });
        assert_close(&ours, &reference, &format!("nesterov (pytorch), μ = {mu}"));
    }
}

#[test]
fn adagrad_follows_its_formula() {
    let (epsilon, initial, decay) = (1e-10, 0.1, 0.05);
    for mu in WEIGHT_DECAYS {
        let ours = run_ours(&AdaGrad {
            epsilon,
            initial_accumulator: initial,
            lr_decay: decay,
            weight_decay: mu,
        });
        let mut sum = [initial; 2];
        let reference = run_reference(|theta, g, rate, t| {
            let g = decayed(g, theta, mu);
            let rate = rate / (1.0 + (t as f64 - 1.0) * decay);
            for j in 0..2 {
                sum[j] += g[j] * g[j];
                theta[j] -= rate * g[j] / (sum[j].sqrt() + epsilon);
            }
        });
        assert_close(&ours, &reference, &format!("adagrad, μ = {mu}"));
    }
}

#[test]
fn rmsprop_follows_its_formula_plain_centered_and_with_momentum() {
    for (centered, momentum) in [(false, 0.0), (true, 0.0), (false, 0.5), (true, 0.5)] {
        for mu in WEIGHT_DECAYS {
            let (beta, epsilon) = (0.9, 1e-8);
            let ours = run_ours(&RmsProp {
                beta,
                epsilon,
                momentum,
                centered,
                weight_decay: mu,
            });
            let (mut s, mut mean, mut buffer) = ([0.0; 2], [0.0; 2], [0.0; 2]);
            let reference = run_reference(|theta, g, rate, _| {
                let g = decayed(g, theta, mu);
                for j in 0..2 {
                    s[j] = beta * s[j] + (1.0 - beta) * g[j] * g[j];
                    let variance = if centered {
                        mean[j] = beta * mean[j] + (1.0 - beta) * g[j];
                        s[j] - mean[j] * mean[j]
                    } else {
                        s[j]
                    };
                    let scaled = g[j] / (variance.sqrt() + epsilon);
                    if momentum > 0.0 {
                        buffer[j] = momentum * buffer[j] + scaled;
                        theta[j] -= rate * buffer[j];
                    } else {
                        theta[j] -= rate * scaled;
                    }
                }
            });
            assert_close(
                &ours,
                &reference,
                &format!("rmsprop centered={centered} momentum={momentum} μ = {mu}"),
            );
        }
    }
}

/// Adam's formula with coupled L2 `coupled` (in the gradient) and decoupled decay
/// `decoupled` (adamw's θ ← θ(1 − αω) first).
fn adam_reference(amsgrad: bool, coupled: f64, decoupled: f64) -> Vec<[f64; 2]> {
    let (b1, b2, epsilon) = (0.9, 0.999, 1e-8);
    let (mut m, mut v, mut v_max) = ([0.0; 2], [0.0; 2], [0.0f64; 2]);
    run_reference(|theta, g, rate, t| {
        let g = decayed(g, theta, coupled);
        for j in 0..2 {
            theta[j] *= 1.0 - rate * decoupled;
            m[j] = b1 * m[j] + (1.0 - b1) * g[j];
            v[j] = b2 * v[j] + (1.0 - b2) * g[j] * g[j];
            v_max[j] = v_max[j].max(v[j]);
            let m_hat = m[j] / (1.0 - b1.powi(t as i32));
            let second = if amsgrad { v_max[j] } else { v[j] };
            let v_hat = second / (1.0 - b2.powi(t as i32));
            theta[j] -= rate * m_hat / (v_hat.sqrt() + epsilon);
        }
    })
}

#[test]
fn adam_amsgrad_and_adamw_follow_their_formulas() {
    let adam = |amsgrad, weight_decay| Adam {
        beta_1: 0.9,
        beta_2: 0.999,
        epsilon: 1e-8,
        amsgrad,
        weight_decay,
    };
    for mu in WEIGHT_DECAYS {
        assert_close(
            &run_ours(&adam(false, mu)),
            &adam_reference(false, mu, 0.0),
            &format!("adam, μ = {mu}"),
        );
        assert_close(
            &run_ours(&adam(true, mu)),
            &adam_reference(true, mu, 0.0),
            &format!("amsgrad, μ = {mu}"),
        );
    }
    // adamw's weight_decay is the decoupled ω, never added to the gradient.
    let adamw = AdamW {
        adam: adam(false, 0.0),
        weight_decay: 0.1,
    };
    assert_close(&run_ours(&adamw), &adam_reference(false, 0.0, 0.1), "adamw");
    // The prescribed gradients shrink then grow, so AMSGrad's maximum really differs.
    assert_ne!(run_ours(&adam(true, 0.0)), run_ours(&adam(false, 0.0)));
    // And the decay is not vacuous: μ = 0.05 changes Adam's path.
    assert_ne!(run_ours(&adam(false, 0.05)), run_ours(&adam(false, 0.0)));
}

// ---------------------------------------------------------------------------------------
// The two momentum forms.

#[test]
fn momentum_forms_agree_under_constant_alpha_and_differ_when_alpha_changes() {
    let lecture = Momentum {
        momentum: 0.9,
        form: MomentumForm::Lecture,
        dampening: 0.0,
        weight_decay: 0.0,
    };
    let pytorch = Momentum {
        form: MomentumForm::Pytorch,
        ..lecture.clone()
    };
    let device = cpu();
    let run = |optimizer: &Momentum, rates: &[f64]| -> Vec<f32> {
        let mut theta = tensor(&[1.0, -2.0], &device);
        let mut state = None;
        for (gradient, &rate) in GRADIENTS.iter().zip(rates) {
            let (t, s) = optimizer.step(
                rate,
                theta,
                tensor(&gradient.map(|v| v as f32), &device),
                state,
            );
            (theta, state) = (t, s);
        }
        values(theta)
    };
    let constant = [0.05; 6];
    let (a, b) = (run(&lecture, &constant), run(&pytorch, &constant));
    for j in 0..2 {
        assert!((a[j] - b[j]).abs() < 1e-6, "constant α: {a:?} vs {b:?}");
    }
    let (a, b) = (run(&lecture, &RATES), run(&pytorch, &RATES));
    assert!(
        (a[0] - b[0]).abs() > 1e-3 || (a[1] - b[1]).abs() > 1e-3,
        "a changing α must separate the forms: {a:?} vs {b:?}"
    );
}

#[test]
fn lecture_momentum_step_tends_to_alpha_g_over_one_minus_lambda() {
    let device = cpu();
    let (alpha, lambda) = (0.01, 0.8);
    let optimizer = Momentum {
        momentum: lambda,
        form: MomentumForm::Lecture,
        dampening: 0.0,
        weight_decay: 0.0,
    };
    let g = [3.0f32, -4.0]; // ‖g‖ = 5
    let mut theta = tensor(&[0.0, 0.0], &device);
    let mut state = None;
    let mut step_length = 0.0;
    for _ in 0..200 {
        let before = values(theta.clone());
        let (t, s) = optimizer.step(alpha, theta, tensor(&g, &device), state);
        (theta, state) = (t, s);
        let after = values(theta.clone());
        step_length =
            f64::from(((after[0] - before[0]).powi(2) + (after[1] - before[1]).powi(2)).sqrt());
    }
    let limit = alpha * 5.0 / (1.0 - lambda);
    assert!(
        (step_length - limit).abs() < 1e-4 * limit,
        "{step_length} vs {limit}"
    );
    // The first step is just α‖g‖: momentum builds up.
    let (first, _) = optimizer.step(
        alpha,
        tensor(&[0.0, 0.0], &device),
        tensor(&g, &device),
        None,
    );
    let first = values(first);
    assert!((f64::from(first[0].hypot(first[1])) - alpha * 5.0).abs() < 1e-7);
}

// ---------------------------------------------------------------------------------------
// The lecture's unrolled identities, on a real model with recorded gradients.

fn flat_parameters(model: &Model) -> Vec<f64> {
    let Model::Logistic(logistic) = model else {
        panic!("logistic model")
    };
    let mut v = values(logistic.linear.weight.val().reshape([-1]));
    v.extend(values(logistic.linear.bias.as_ref().unwrap().val()));
    v.into_iter().map(f64::from).collect()
}

fn flat_gradients(model: &Model, grads: &GradientsParams) -> Vec<f64> {
    let Model::Logistic(logistic) = model else {
        panic!("logistic model")
    };
    let weight: Tensor<2> = grads.get(logistic.linear.weight.id).unwrap();
    let bias: Tensor<1> = grads
        .get(logistic.linear.bias.as_ref().unwrap().id)
        .unwrap();
    let mut v = values(weight.reshape([-1]));
    v.extend(values(bias));
    v.into_iter().map(f64::from).collect()
}

/// Full-batch steps of `optimizer` on standardized breast cancer from the default init;
/// returns θ^(0), the gradients ∇f(x^(i)) and θ^(t).
fn record_trajectory(
    optimizer: impl Optimizer,
    alpha: LearningRate,
    steps: usize,
) -> (Vec<f64>, Vec<Vec<f64>>, Vec<f64>) {
    let device = cpu().autodiff();
    let mut data = sgdlab::data::breast_cancer();
    sgdlab::data::Standardizer::fit(&data).apply(&mut data);
    let all: Vec<usize> = (0..data.len()).collect();
    let config = ModelConfig {
        kind: ModelKind::Logistic,
        hidden: vec![],
        activation: Activation::Relu,
        head: Head::Auto,
        init: Init::Default,
    };
    let problem = Problem {
        dim: 30,
        classes: Some(2),
    };
    let mut model = Model::new(&config, problem, 5, &device).unwrap();
    let start = flat_parameters(&model);
    let mut optimizer = ModuleOptimizer::from(optimizer);
    let mut gradients = Vec::new();
    for _ in 0..steps {
        let batch = gather(&data, &all, &device);
        let loss = model.loss(model.forward(batch.features), &batch.targets);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        gradients.push(flat_gradients(&model, &grads));
        model = optimizer.step(alpha, model, grads);
    }
    (start, gradients, flat_parameters(&model))
}

#[test]
fn unrolled_gd_and_momentum_match_the_lecture_identities() {
    let (alpha, lambda, t) = (0.5, 0.7, 12);
    // GD: x^(t) = x^(0) − α Σ_{i<t} ∇f(x^(i))
    let (start, gradients, end) = record_trajectory(GradientDescent::default(), alpha, t);
    for j in 0..start.len() {
        let unrolled = start[j] - alpha * gradients.iter().map(|g| g[j]).sum::<f64>();
        assert!(
            (end[j] - unrolled).abs() < 1e-5,
            "GD θ[{j}]: {} vs {unrolled}",
            end[j]
        );
    }
    // Momentum (v^(0) = 0): x^(t) = x^(0) − α Σ_{i<t} (1 − λ^{t−i})/(1 − λ) ∇f(x^(i))
    let momentum = Momentum {
        momentum: lambda,
        form: MomentumForm::Lecture,
        dampening: 0.0,
        weight_decay: 0.0,
    };
    let (start, gradients, end) = record_trajectory(momentum, alpha, t);
    for j in 0..start.len() {
        let weighted: f64 = gradients
            .iter()
            .enumerate()
            .map(|(i, g)| (1.0 - lambda.powi((t - i) as i32)) / (1.0 - lambda) * g[j])
            .sum();
        let unrolled = start[j] - alpha * weighted;
        assert!(
            (end[j] - unrolled).abs() < 1e-5,
            "momentum θ[{j}]: {} vs {unrolled}",
            end[j]
        );
    }
    // And the lecture's slip (a + sign) would be far off: the identity is not vacuous.
    let j = 0;
    let wrong = start[j] + alpha * gradients.iter().map(|g| g[j]).sum::<f64>();
    assert!((end[j] - wrong).abs() > 1e-3);
}

// ---------------------------------------------------------------------------------------
// Against Burn's built-in optimizers, where the mathematics coincide: 100 steps of the
// digits MLP from the same start, on the same mini-batches.

fn digits_mlp_after_100_steps(mut optimizer: ModuleOptimizer, alpha: f64) -> Vec<f64> {
    let device = cpu().autodiff();
    let mut data = sgdlab::data::digits();
    sgdlab::data::Standardizer::fit(&data).apply(&mut data);
    let config = ModelConfig {
        kind: ModelKind::Mlp,
        hidden: vec![32],
        activation: Activation::Tanh,
        head: Head::Auto,
        init: Init::Default,
    };
    let problem = Problem {
        dim: 64,
        classes: Some(10),
    };
    let mut model = Model::new(&config, problem, 11, &device).unwrap();
    let order = sgdlab::batch::permutation(data.len(), 3, 0);
    for step in 0..100 {
        let start = (step * 32) % (data.len() - 32);
        let batch = gather(&data, &order[start..start + 32], &device);
        let loss = model.loss(model.forward(batch.features), &batch.targets);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(alpha, model, grads);
    }
    let Model::Mlp(mlp) = model else {
        panic!("mlp")
    };
    let mut all = Vec::new();
    for layer in mlp.hidden.iter().chain([&mlp.output]) {
        all.extend(values(layer.weight.val().reshape([-1])));
        all.extend(values(layer.bias.as_ref().unwrap().val()));
    }
    all.into_iter().map(f64::from).collect()
}

/// Same parameters to 1e-5 relative, measured against the parameters' scale (max |θ|): Burn
/// keeps its hyper-parameters in f32 and computes Adam's and RMSProp's corrections in f32,
/// which alone moves single tiny parameters by more than 1e-5 of their own size.
fn assert_same_parameters(ours: &[f64], burn: &[f64], what: &str) {
    assert_eq!(ours.len(), burn.len());
    let scale = burn.iter().map(|v| v.abs()).fold(0.0, f64::max);
    let (worst, j) = ours
        .iter()
        .zip(burn)
        .enumerate()
        .map(|(j, (a, b))| ((a - b).abs(), j))
        .fold(
            (0.0, 0),
            |best, next| if next.0 > best.0 { next } else { best },
        );
    assert!(
        worst <= 1e-5 * scale,
        "{what}: parameter {j}: ours {} vs burn {} (scale {scale})",
        ours[j],
        burn[j]
    );
}

#[test]
fn pytorch_form_momentum_matches_burn_sgd_with_dampening_zero() {
    let ours = digits_mlp_after_100_steps(
        ModuleOptimizer::from(Momentum {
            momentum: 0.9,
            form: MomentumForm::Pytorch,
            dampening: 0.0,
            weight_decay: 0.0,
        }),
        0.05,
    );
    let burn = digits_mlp_after_100_steps(
        burn::optim::SgdConfig::new()
            .with_momentum(Some(burn::optim::momentum::MomentumConfig {
                momentum: 0.9,
                dampening: 0.0,
                nesterov: false,
            }))
            .init(),
        0.05,
    );
    assert_same_parameters(&ours, &burn, "momentum");
    let nesterov_ours = digits_mlp_after_100_steps(
        ModuleOptimizer::from(Nesterov {
            momentum: 0.9,
            form: MomentumForm::Pytorch,
            weight_decay: 0.0,
        }),
        0.05,
    );
    let nesterov_burn = digits_mlp_after_100_steps(
        burn::optim::SgdConfig::new()
            .with_momentum(Some(burn::optim::momentum::MomentumConfig {
                momentum: 0.9,
                dampening: 0.0,
                nesterov: true,
            }))
            .init(),
        0.05,
    );
    assert_same_parameters(&nesterov_ours, &nesterov_burn, "nesterov");
}

#[test]
fn adam_matches_burn_adam() {
    let ours = digits_mlp_after_100_steps(
        ModuleOptimizer::from(Adam {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-8,
            amsgrad: false,
            weight_decay: 0.0,
        }),
        1e-3,
    );
    let burn = digits_mlp_after_100_steps(
        burn::optim::AdamConfig::new().with_epsilon(1e-8).init(),
        1e-3,
    );
    assert_same_parameters(&ours, &burn, "adam");
}

#[test]
fn adagrad_matches_burn_adagrad() {
    let ours = digits_mlp_after_100_steps(
        ModuleOptimizer::from(AdaGrad {
            epsilon: 1e-5,
            initial_accumulator: 0.0,
            lr_decay: 0.01,
            weight_decay: 0.0,
        }),
        0.05,
    );
    let burn = digits_mlp_after_100_steps(
        burn::optim::AdaGradConfig::new()
            .with_epsilon(1e-5)
            .with_lr_decay(0.01)
            .init(),
        0.05,
    );
    assert_same_parameters(&ours, &burn, "adagrad");
}

#[test]
fn rmsprop_matches_burn_rmsprop() {
    let ours = digits_mlp_after_100_steps(
        ModuleOptimizer::from(RmsProp {
            beta: 0.99,
            epsilon: 1e-5,
            momentum: 0.9,
            centered: false,
            weight_decay: 0.0,
        }),
        1e-3,
    );
    let burn = digits_mlp_after_100_steps(
        burn::optim::RmsPropConfig::new()
            .with_alpha(0.99)
            .with_momentum(0.9)
            .with_epsilon(1e-5)
            .init(),
        1e-3,
    );
    assert_same_parameters(&ours, &burn, "rmsprop");
}

// ---------------------------------------------------------------------------------------
// Configuration and checkpoints.

#[test]
fn invalid_hyper_parameters_name_their_key() {
    let base = |optimizer: &str| {
        format!(
            "[data]\nsource = \"breast_cancer\"\n[model]\nkind = \"logistic\"\n[optimizer]\n{optimizer}\n"
        )
    };
    let cases = [
        (
            "name = \"momentum\"\nlearning_rate = 0.1\nmomentum = 1.0",
            "optimizer.momentum",
        ),
        (
            "name = \"momentum\"\nlearning_rate = 0.1\nmomentum = -0.1",
            "optimizer.momentum",
        ),
        (
            "name = \"nesterov\"\nlearning_rate = 0.1\nmomentum = 1.5",
            "optimizer.momentum",
        ),
        (
            "name = \"momentum\"\nlearning_rate = 0.1\nform = \"keras\"",
            "unknown variant `keras`",
        ),
        (
            "name = \"momentum\"\nlearning_rate = 0.1\ndampening = 0.5",
            "optimizer.dampening",
        ),
        (
            "name = \"adam\"\nlearning_rate = 0.1\nepsilon = 0",
            "optimizer.epsilon",
        ),
        (
            "name = \"adam\"\nlearning_rate = 0.1\nbeta_1 = 1",
            "optimizer.beta_1",
        ),
        (
            "name = \"adamw\"\nlearning_rate = 0.1\nbeta_2 = -0.5",
            "optimizer.beta_2",
        ),
        (
            "name = \"rmsprop\"\nlearning_rate = 0.1\nbeta = 1.2",
            "optimizer.beta",
        ),
        (
            "name = \"adagrad\"\nlearning_rate = 0.1\nepsilon = -1e-8",
            "optimizer.epsilon",
        ),
        (
            "name = \"sgd\"\nlearning_rate = 0.1\nweight_decay = -1",
            "optimizer.weight_decay",
        ),
        (
            "name = \"adamw\"\nlearning_rate = 0.1\nweight_decay = -0.01",
            "optimizer.weight_decay",
        ),
        (
            "name = \"adam\"\nlearning_rate = 0.1\nmomentum = 0.9",
            "unknown field `momentum`",
        ),
    ];
    for (optimizer, key) in cases {
        let error = sgdlab::config::Config::from_toml(&base(optimizer), "x.toml", &[])
            .expect_err(optimizer)
            .to_string();
        assert!(error.contains(key), "{optimizer}: {error}");
        assert!(error.starts_with("x.toml: "), "{error}");
        assert_eq!(error.lines().count(), 1);
    }
    // The documented defaults resolve.
    let config = sgdlab::config::Config::from_toml(
        &base("name = \"adamw\"\nlearning_rate = 1e-3"),
        "x",
        &[],
    )
    .unwrap();
    let text = config.to_toml();
    for line in [
        "beta_1 = 0.9",
        "beta_2 = 0.999",
        "epsilon = 0.00000001",
        "weight_decay = 0.01",
    ] {
        assert!(text.contains(line), "{text}");
    }
}

#[test]
fn every_stateful_optimizer_resumes_bit_for_bit() {
    let optimizers = [
        "optimizer={name=\"momentum\",learning_rate=0.05}",
        "optimizer={name=\"momentum\",learning_rate=0.05,form=\"pytorch\",dampening=0.1}",
        "optimizer={name=\"nesterov\",learning_rate=0.05}",
        "optimizer={name=\"adagrad\",learning_rate=0.05,lr_decay=0.01}",
        "optimizer={name=\"rmsprop\",learning_rate=0.01,momentum=0.5,centered=true}",
        "optimizer={name=\"adam\",learning_rate=0.01,amsgrad=true}",
        "optimizer={name=\"adamw\",learning_rate=0.01}",
    ];
    for optimizer in optimizers {
        let dir = tempfile::tempdir().unwrap();
        let load = |epochs: &str| common::load("breast_cancer_logistic", &[optimizer, epochs]);
        let whole = common::train_into(load("training.epochs=4"), &dir.path().join("whole"));
        let first = common::train_into(load("training.epochs=2"), &dir.path().join("resumed"));
        let resumed = common::resume(load("training.epochs=4"), &first.run_dir.path);
        let steps =
            |run: &sgdlab::run_dir::RunDir| std::fs::read_to_string(run.steps_path()).unwrap();
        assert_eq!(
            steps(&whole.run_dir),
            steps(&resumed.run_dir),
            "{optimizer}"
        );
        let device = cpu();
        let problem = Problem {
            dim: 30,
            classes: Some(2),
        };
        let config = load("training.epochs=4");
        let parameters = |run: &sgdlab::run_dir::RunDir| {
            let model = sgdlab::train::load_model(run, 4, &config.model, problem, &device).unwrap();
            flat_parameters(&model)
        };
        assert_eq!(
            parameters(&whole.run_dir),
            parameters(&resumed.run_dir),
            "{optimizer}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Gradient clipping.

fn digits_gradients() -> (Model, GradientsParams) {
    let device = cpu().autodiff();
    let data = sgdlab::data::digits();
    let config = ModelConfig {
        kind: ModelKind::Mlp,
        hidden: vec![16],
        activation: Activation::Relu,
        head: Head::Auto,
        init: Init::Default,
    };
    let problem = Problem {
        dim: 64,
        classes: Some(10),
    };
    let model = Model::new(&config, problem, 2, &device).unwrap();
    let rows: Vec<usize> = (0..64).collect();
    // Unstandardized pixels (0..16) give large gradients.
    let batch = gather(&data, &rows, &device);
    let loss = model.loss(model.forward(batch.features), &batch.targets);
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    (model, grads)
}

fn all_gradients(model: &Model, grads: &GradientsParams) -> Vec<f32> {
    let Model::Mlp(mlp) = model else {
        panic!("mlp")
    };
    let mut all = Vec::new();
    for layer in mlp.hidden.iter().chain([&mlp.output]) {
        let weight: Tensor<2> = grads.get(layer.weight.id).unwrap();
        let bias: Tensor<1> = grads.get(layer.bias.as_ref().unwrap().id).unwrap();
        all.extend(values(weight.reshape([-1])));
        all.extend(values(bias));
    }
    all
}

#[test]
fn clipping_by_global_norm_rescales_the_whole_gradient_and_keeps_its_direction() {
    use sgdlab::optim::{GradientClipping, clip_gradients, global_norm};
    let (model, grads) = digits_gradients();
    let norm = global_norm(&model, &grads);
    let original = all_gradients(&model, &grads);
    let by_hand = original
        .iter()
        .map(|g| f64::from(*g).powi(2))
        .sum::<f64>()
        .sqrt();
    assert!(
        (norm - by_hand).abs() < 1e-4 * by_hand,
        "{norm} vs {by_hand}"
    );
    assert!(
        norm > 1.0,
        "the test needs a gradient longer than the limit: {norm}"
    );

    let clipped = clip_gradients(&model, grads, GradientClipping::GlobalNorm(0.5));
    assert!((global_norm(&model, &clipped) - 0.5).abs() < 1e-5);
    let factor = 0.5 / norm;
    for (a, b) in all_gradients(&model, &clipped).iter().zip(&original) {
        assert!(
            (f64::from(*a) - factor * f64::from(*b)).abs() < 1e-6,
            "{a} vs {b}·{factor}"
        );
    }
    // A limit above the norm changes nothing (the same gradients, computed again).
    let (model, grads) = digits_gradients();
    let untouched = clip_gradients(&model, grads, GradientClipping::GlobalNorm(norm * 2.0));
    assert_eq!(all_gradients(&model, &untouched), original);
}

#[test]
fn clipping_by_value_clamps_each_component() {
    use sgdlab::optim::{GradientClipping, clip_gradients};
    let (model, grads) = digits_gradients();
    let original = all_gradients(&model, &grads);
    let limit = 0.01f32;
    assert!(original.iter().any(|g| g.abs() > limit));
    let clipped = all_gradients(
        &model,
        &clip_gradients(&model, grads, GradientClipping::Value(f64::from(limit))),
    );
    for (c, g) in clipped.iter().zip(&original) {
        assert_eq!(*c, g.clamp(-limit, limit));
    }
}

#[test]
fn clipped_training_runs_and_bad_clipping_keys_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::load(
        "digits_mlp_momentum",
        &["training.epochs=3", "training.clip_grad_norm=1.0"],
    );
    let result = common::train_into(config, &dir.path().join("clipped"));
    assert!(result.last["valid_accuracy"] > 0.8, "{:?}", result.last);

    for (set, key) in [
        ("training.clip_grad_norm=0", "training.clip_grad_norm"),
        ("training.clip_grad_value=-1", "training.clip_grad_value"),
    ] {
        let error = sgdlab::config::Config::load(&common::config_path("digits_mlp"), &[set.into()])
            .unwrap_err()
            .to_string();
        assert!(error.contains(key), "{error}");
    }
    let both = [
        "training.clip_grad_norm=1".into(),
        "training.clip_grad_value=1".into(),
    ];
    let error = sgdlab::config::Config::load(&common::config_path("digits_mlp"), &both)
        .unwrap_err()
        .to_string();
    assert!(error.contains("choose one"), "{error}");
}

#[test]
fn shipped_optimizer_configs_reach_95_percent_test_accuracy() {
    for name in [
        "digits_mlp_momentum",
        "digits_mlp_adam",
        "breast_cancer_nesterov",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let result = common::train_into(common::load(name, &[]), &dir.path().join(name));
        let report = sgdlab::eval::evaluate_run(
            &result.run_dir,
            sgdlab::train::CheckpointChoice::Last,
            Some(sgdlab::eval::SplitChoice::Test),
            None,
        )
        .unwrap();
        let accuracy = report.metrics.accuracy.unwrap();
        assert!(accuracy >= 0.95, "{name}: test accuracy {accuracy}");
    }
}

// ---------------------------------------------------------------------------------------
// Parameter traces.

#[test]
fn parameter_trace_records_every_step_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let overrides = |epochs: &'static str| {
        vec![
            "training.trace_parameters=true",
            "optimizer={name=\"momentum\",learning_rate=0.01}",
            epochs,
        ]
    };
    let whole = common::train_into(
        common::load("breast_cancer_logistic", &overrides("training.epochs=3")),
        &dir.path().join("whole"),
    );
    let read =
        |run: &sgdlab::run_dir::RunDir| std::fs::read_to_string(run.parameters_path()).unwrap();
    let trace = read(&whole.run_dir);
    let rows: Vec<Vec<&str>> = trace.lines().map(|l| l.split(',').collect()).collect();
    // Header + row 0 + 25 steps × 3 epochs; 30 weights and a bias.
    assert_eq!(rows.len(), 2 + 75);
    assert_eq!(rows[0][..4], ["step", "learning_rate", "loss", "theta_0"]);
    assert_eq!(rows[0].len(), 3 + 31);
    assert!(
        rows[1][3..].iter().all(|v| *v == "0"),
        "zero init: {:?}",
        rows[1]
    );
    assert_eq!(rows[2][1], "0.01");
    // The batch losses are steps.csv's, and the last row is the last checkpoint.
    let steps = std::fs::read_to_string(whole.run_dir.steps_path()).unwrap();
    let step_losses: Vec<&str> = steps
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap())
        .collect();
    let trace_losses: Vec<f64> = rows[2..].iter().map(|r| r[2].parse().unwrap()).collect();
    for (a, b) in trace_losses.iter().zip(&step_losses) {
        assert!(
            (a - b.parse::<f64>().unwrap()).abs() < 1e-6 * a.abs(),
            "{a} vs {b}"
        );
    }
    let config = common::load("breast_cancer_logistic", &overrides("training.epochs=3"));
    let problem = Problem {
        dim: 30,
        classes: Some(2),
    };
    let model =
        sgdlab::train::load_model(&whole.run_dir, 3, &config.model, problem, &cpu()).unwrap();
    let last: Vec<f32> = rows[76][3..].iter().map(|v| v.parse().unwrap()).collect();
    assert_eq!(sgdlab::train::trace::flat_parameters(&model), last);

    // Resumed after one epoch, the trace is the uninterrupted one.
    let first = common::train_into(
        common::load("breast_cancer_logistic", &overrides("training.epochs=1")),
        &dir.path().join("resumed"),
    );
    common::resume(
        common::load("breast_cancer_logistic", &overrides("training.epochs=3")),
        &first.run_dir.path,
    );
    assert_eq!(read(&first.run_dir), trace);
}

#[test]
fn parameter_trace_refuses_large_models() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::load(
        "digits_mlp",
        &["training.trace_parameters=true", "model.hidden=[200]"],
    );
    let error = sgdlab::train::train(sgdlab::train::TrainRequest {
        config,
        name: "test".into(),
        run_dir: Some(dir.path().join("big")),
        resume: false,
        artifacts: dir.path().to_path_buf(),
        progress: sgdlab::train::Progress::Quiet,
    })
    .unwrap_err()
    .to_string();
    assert!(error.contains("training.trace_parameters"), "{error}");
    assert!(error.contains("15010 parameters"), "{error}");
    assert!(
        !dir.path().join("big").exists(),
        "nothing written for a refused config"
    );
}
