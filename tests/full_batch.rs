//! Full-batch gradient descent with line search, and the suboptimality ℓ(f_Θ) − ℓ(f*) that
//! training logs: lecture §2 (α* = argmin_α ℓ(θ − α∇ℓ)), §5 (SGD does not stop at the
//! minimum) and §6 (GD reaches ρ in O(κ log 1/ρ) iterations).

mod common;

use common::reference::{Reference, ReferenceOutcome};

use std::path::Path;

use common::{config_path, load, run_sgdlab, steps_csv, train_into};
use sgdlab::prepare::prepare;
use sgdlab::solve::Objective;

/// Column `name` of a run's `steps.csv`, as numbers (empty cells are `None`).
fn step_column(run_dir: &Path, name: &str) -> Vec<Option<f64>> {
    let text = std::fs::read_to_string(run_dir.join("steps.csv")).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let index = header.iter().position(|c| *c == name).unwrap();
    steps_csv(run_dir)
        .iter()
        .map(|row| row[index].parse().ok())
        .collect()
}

fn required(values: Vec<Option<f64>>) -> Vec<f64> {
    values.into_iter().map(|v| v.expect("a value")).collect()
}

#[test]
fn gd_with_armijo_reaches_rho_on_the_lecture_problem_converging_linearly() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let result = train_into(load("lecture_1d_gd_armijo", &[]), &run);
    let target = result.target.expect("the config sets a target");
    assert!(target.reached, "{target:?}");
    assert!(result.last["suboptimality"] < 1e-8);

    let suboptimality = required(step_column(&run, "suboptimality"));
    assert_eq!(suboptimality.len(), target.steps);
    // Linear convergence: the error shrinks by a factor bounded below 1 at every step, so
    // reaching ρ takes O(log 1/ρ) iterations (κ of this problem is small).
    let worst_ratio = suboptimality
        .windows(2)
        .map(|pair| pair[1] / pair[0])
        .fold(0.0f64, f64::max);
    assert!(worst_ratio < 0.75, "worst per-step ratio {worst_ratio}");
    assert!(target.steps <= 30, "{} iterations", target.steps);
    // Full-batch: every iteration computes n per-example gradients.
    assert_eq!(target.gradient_evaluations, target.steps as u64 * 10_000);
}

#[test]
fn every_armijo_step_satisfies_the_sufficient_decrease_condition() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    // Start far enough that backtracking happens: α₀ = 64 overshoots at first.
    let config = load(
        "lecture_1d_gd_armijo",
        &[
            "optimizer.learning_rate=64",
            "optimizer.sufficient_decrease=0.3",
        ],
    );
    train_into(config, &run);
    let suboptimality = required(step_column(&run, "suboptimality"));
    let step = required(step_column(&run, "learning_rate"));
    let gradient_norm = required(step_column(&run, "gradient_norm"));
    let evaluations = required(step_column(&run, "loss_evaluations"));
    assert!(
        evaluations.iter().any(|&n| n > 1.0),
        "some step must backtrack: {evaluations:?}"
    );
    // ℓ(θ_t) − ℓ(θ_{t−1}) = s_t − s_{t−1} (ℓ* cancels): ≤ −c α_t ‖g_t‖².
    for t in 1..suboptimality.len() {
        let decrease = suboptimality[t - 1] - suboptimality[t];
        let required = 0.3 * step[t] * gradient_norm[t].powi(2);
        assert!(
            decrease >= required * (1.0 - 1e-9) - 1e-15,
            "step {}: decrease {decrease:e} < c α ‖g‖² = {required:e}",
            t + 1
        );
        // The backtracking factor 0.5 from α₀ = 64: α = 64 / 2^(evaluations − 1).
        assert_eq!(step[t], 64.0 / 2f64.powf(evaluations[t] - 1.0));
    }
}

#[test]
fn exact_line_search_on_logistic_loss_decreases_monotonically_to_rho() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let config = load(
        "lecture_1d_gd_armijo",
        &[
            "optimizer.line_search=\"exact\"",
            "optimizer.learning_rate=1",
        ],
    );
    let result = train_into(config, &run);
    assert!(result.target.unwrap().reached);
    let suboptimality = required(step_column(&run, "suboptimality"));
    assert!(suboptimality.windows(2).all(|pair| pair[1] < pair[0]));
    // The golden-section search takes a handful of evaluations per step, not one.
    let evaluations = required(step_column(&run, "loss_evaluations"));
    assert!(evaluations.iter().all(|&n| n >= 3.0), "{evaluations:?}");
}

/// A 2-feature regression CSV with correlated features (an ill-conditioned quadratic).
fn write_regression_csv(path: &Path) {
    let mut text = String::from("x1,x2,y\n");
    let mut state = 12345u64;
    let mut uniform = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) - 0.5
    };
    for _ in 0..200 {
        let x1 = uniform() * 4.0;
        let x2 = 0.8 * x1 + uniform();
        let y = 3.0 * x1 - 2.0 * x2 + 0.5 + 0.1 * uniform();
        text.push_str(&format!("{x1},{x2},{y}\n"));
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn exact_line_search_on_a_quadratic_makes_consecutive_gradients_orthogonal() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("regression.csv");
    write_regression_csv(&csv);
    let toml = format!(
        r#"
[data]
source = "csv"
path = "{}"
label = "y"
validation_fraction = 0.0
test_fraction = 0.0
[model]
kind = "linear"
init = "zeros"
[optimizer]
name = "gd"
learning_rate = 0.01
weight_decay = 0.01
line_search = "exact"
[training]
epochs = 200
batch_size = 1000
trace_parameters = true
target_suboptimality = 1e-9
"#,
        csv.display()
    );
    let config_file = dir.path().join("ridge.toml");
    std::fs::write(&config_file, toml).unwrap();
    let config = sgdlab::config::Config::load(&config_file, &[]).unwrap();
    let run = dir.path().join("run");
    let result = train_into(config.clone(), &run);
    assert!(
        result.target.clone().unwrap().reached,
        "{:?}",
        result.target
    );

    // On a quadratic the exact minimizer along −g_t is where the new gradient is orthogonal
    // to g_t: g_{t+1} · g_t = 0.
    let prepared = prepare(&config.data, true, config.training.seed, None).unwrap();
    let train = prepared.splits.train;
    let objective = Objective::from_config(&config)
        .unwrap()
        .with_classes_of(&train);
    let trace = std::fs::read_to_string(run.join("parameters.csv")).unwrap();
    let iterates: Vec<Vec<f64>> = trace
        .lines()
        .skip(1)
        .map(|line| {
            line.split(',')
                .skip(3)
                .map(|cell| cell.parse().unwrap())
                .collect()
        })
        .collect();
    assert!(iterates.len() >= 3);
    for pair in iterates.windows(3).take(5) {
        let before = objective.gradient(&train, &pair[0]);
        let after = objective.gradient(&train, &pair[1]);
        let dot: f64 = before.iter().zip(&after).map(|(a, b)| a * b).sum();
        let norms = before.iter().map(|a| a * a).sum::<f64>().sqrt()
            * after.iter().map(|b| b * b).sum::<f64>().sqrt();
        assert!(dot.abs() < 1e-3 * norms, "cos = {}", dot / norms);
    }
}

#[test]
fn sgd_with_a_constant_step_stalls_at_a_floor_that_shrinks_with_alpha() {
    // Lecture §5: SGD does not stop at the minimum, it oscillates around it; the noise floor
    // of the suboptimality scales with α.
    let floor = |learning_rate: f64| {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run");
        let config = load(
            "lecture_1d_logistic",
            &[
                "data.n=2000",
                "training.epochs=30",
                "training.batch_size=10",
                &format!("optimizer.learning_rate={learning_rate}"),
            ],
        );
        let result = train_into(config, &run);
        assert!(result.optimum_loss.is_some());
        let suboptimality: Vec<f64> = sgdlab::run_dir::read_metrics_csv(&run.join("metrics.csv"))
            .unwrap()
            .values()
            .map(|row| row["suboptimality"])
            .collect();
        let tail = &suboptimality[suboptimality.len() - 10..];
        tail.iter().sum::<f64>() / tail.len() as f64
    };
    let (large, small) = (floor(1.0), floor(0.1));
    assert!(large > 3.0 * small, "α = 1: {large:e}, α = 0.1: {small:e}");
    assert!(small > 1e-7, "SGD stopped at the minimum: {small:e}");
}

#[test]
fn line_search_needs_the_full_batch_and_a_constant_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_path("lecture_1d_gd_armijo");
    let config = config.to_str().unwrap();
    let output = run_sgdlab(
        dir.path(),
        &["train", config, "--set", "training.batch_size=100"],
    );
    common::assert_one_line_error(
        &output,
        &["optimizer.line_search needs full-batch", "batch_size = 100"],
    );
    assert!(!dir.path().join("artifacts").exists());

    let output = run_sgdlab(
        dir.path(),
        &[
            "config",
            config,
            "--set",
            "schedule.name=\"exponential\"",
            "--set",
            "schedule.rho=0.01",
        ],
    );
    common::assert_one_line_error(&output, &["schedule.name", "line_search"]);
}

/// The line-search keys are checked whatever `line_search` says: a NaN written there would
/// otherwise be accepted, and the run's config.toml would not read back equal (found by
/// tests/fuzz_config.rs).
#[test]
fn line_search_keys_are_checked_without_a_line_search() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_path("quickstart");
    let config = config.to_str().unwrap();
    for (key, value) in [
        ("optimizer.sufficient_decrease", "nan"),
        ("optimizer.backtracking_factor", "1.5"),
    ] {
        let set = format!("{key}={value}");
        let output = run_sgdlab(dir.path(), &["config", config, "--set", &set]);
        common::assert_one_line_error(&output, &[key, "must be in (0, 1)"]);
    }
}

#[test]
fn a_line_search_run_resumes_and_evaluates_like_a_learner_run() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    // Without suboptimality tracking the search evaluates ℓ with Burn (f32), the path MLPs use.
    let mut config = load("lecture_1d_gd_armijo", &[]);
    config.training.target_suboptimality = None;
    config.training.suboptimality = sgdlab::config::SuboptimalityTracking::Off;
    let mut config_short = config.clone();
    config_short.training.epochs = 4;
    train_into(config_short, &run);
    let mut config_long = config.clone();
    config_long.training.epochs = 8;
    common::resume(config_long.clone(), &run);
    assert!(!run.join("optimum.json").exists());

    let straight = dir.path().join("straight");
    train_into(config_long, &straight);
    let read = |dir: &Path| std::fs::read_to_string(dir.join("steps.csv")).unwrap();
    assert_eq!(read(&run), read(&straight));

    let output = run_sgdlab(dir.path(), &["eval", run.to_str().unwrap()]);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("checkpoint epoch 8"), "{stdout}");
}

#[test]
fn the_shipped_exact_search_config_reaches_its_target_on_breast_cancer() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let result = train_into(load("breast_cancer_gd_exact_target", &[]), &run);
    let target = result.target.expect("the config sets a target");
    assert!(target.reached, "{target:?}");
    assert!(target.steps < 100, "{} iterations", target.steps);
    // ℓ* is the penalized optimum (μ = 0.01) of the training split, by the reference; the
    // solver's Θ* in optimum.json is stationary by the reference's own gradient.
    let config = load("breast_cancer_gd_exact_target", &[]);
    let train = common::training_split(&config);
    let reference = Reference {
        data: &train,
        l2: 0.01,
    };
    let ReferenceOutcome::Minimum { loss: expected, .. } = reference.solve() else {
        panic!("with a penalty there is a minimizer");
    };
    let optimum = result.optimum_loss.unwrap();
    assert!(
        (optimum - expected).abs() <= 1e-13 * expected,
        "{optimum} vs {expected}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("optimum.json")).unwrap()).unwrap();
    let theta: Vec<f64> = json["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let gradient = reference.derivatives(&theta).1;
    let norm = gradient.iter().map(|g| g * g).sum::<f64>().sqrt();
    assert!(norm <= 1e-10, "‖∇ℓ(Θ*)‖ = {norm:e} by the reference");
    assert!(json["gradient_norm"].as_f64().unwrap() <= 1e-10);
    // The run stopped at the first epoch whose logged suboptimality is below ρ = 1e-6: the
    // column is ℓ − ℓ* of the epoch's parameters, which the reference recomputes.
    let rows = sgdlab::run_dir::read_metrics_csv(&run.join("metrics.csv")).unwrap();
    let last = rows[&result.epochs]["suboptimality"];
    assert!((0.0..1e-6).contains(&last), "{last:e}");
    assert!(rows[&(result.epochs - 1)]["suboptimality"] >= 1e-6);
    let model = sgdlab::train::load_model(
        &result.run_dir,
        result.epochs,
        &config.model,
        sgdlab::model::Problem {
            dim: train.dim,
            classes: Some(2),
        },
        &sgdlab::device::resolve("cpu").unwrap(),
    )
    .unwrap();
    let fitted: Vec<f64> = sgdlab::train::trace::flat_parameters(&model)
        .into_iter()
        .map(f64::from)
        .collect();
    let delta = reference.loss(&fitted) - expected;
    assert!(
        (last - delta).abs() < 1e-12,
        "logged {last:e}, reference {delta:e}"
    );
}
