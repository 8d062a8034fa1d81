//! The exact optimum f*: the closed form against a hand-solved system, Newton's stationarity on
//! the real data sets, the objective against the models' own Burn loss in their flat parameter
//! order, separability, and `sgdlab solve` as a user runs it.

mod common;

use burn::tensor::Tensor;
use common::reference::{Reference, ReferenceOutcome};
use common::{assert_one_line_error, config_path, load, run_sgdlab, train_into};
use sgdlab::data::{Dataset, Targets};
use sgdlab::model::{Model, Problem};
use sgdlab::solve::{Objective, ObjectiveKind, solve, solve_config};
use sgdlab::train::trace::flat_parameters;

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

#[test]
fn ridge_closed_form_matches_the_hand_solved_normal_equations() {
    // Two features, four examples; θ = (w₁, w₂, b).
    let rows = [[1.0, 2.0], [2.0, 0.0], [0.0, 1.0], [3.0, 1.0]];
    let y = [3.0, 1.0, 2.0, 5.0];
    let data = Dataset {
        features: rows.iter().flatten().map(|&v| v as f32).collect(),
        dim: 2,
        targets: Targets::Values(y.iter().map(|&v| v as f32).collect()),
        feature_names: vec!["x1".into(), "x2".into()],
    };
    let l2 = 0.5;
    // (X̃ᵀX̃ + λI) θ = X̃ᵀy with λ = n μ / 2 = 1, since ℓ = (1/n)‖X̃θ − y‖² + (μ/2)‖θ‖².
    // X̃ᵀX̃ = [[14, 5, 6], [5, 6, 4], [6, 4, 4]], X̃ᵀy = (20, 13, 11); solved by Cramer's rule.
    let a = [[15.0, 5.0, 6.0], [5.0, 7.0, 4.0], [6.0, 4.0, 5.0]];
    let b = [20.0, 13.0, 11.0];
    let det = |m: [[f64; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let whole = det(a);
    let cramer: Vec<f64> = (0..3)
        .map(|column| {
            let mut replaced = a;
            for row in 0..3 {
                replaced[row][column] = b[row];
            }
            det(replaced) / whole
        })
        .collect();
    let objective = Objective {
        kind: ObjectiveKind::LeastSquares,
        l2,
    };
    let optimum = solve(&objective, &data).unwrap();
    for (got, want) in optimum.parameters.iter().zip(&cramer) {
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    }
    assert!(optimum.gradient_norm < 1e-12, "{}", optimum.gradient_norm);
    let residual: f64 = rows
        .iter()
        .zip(y)
        .map(|(x, y)| (cramer[0] * x[0] + cramer[1] * x[1] + cramer[2] - y).powi(2))
        .sum();
    let expected_loss = residual / 4.0 + 0.5 * l2 * norm(&cramer).powi(2);
    assert!((optimum.loss - expected_loss).abs() < 1e-12);
    assert_eq!(optimum.iterations, 1);
}

#[test]
fn unpenalized_least_squares_with_collinear_features_is_refused() {
    // The second feature is twice the first: X̃ᵀX̃ is singular.
    let data = Dataset {
        features: vec![1.0, 2.0, 2.0, 4.0, 3.0, 6.0],
        dim: 2,
        targets: Targets::Values(vec![1.0, 2.0, 2.5]),
        feature_names: vec!["a".into(), "b".into()],
    };
    let mut objective = Objective {
        kind: ObjectiveKind::LeastSquares,
        l2: 0.0,
    };
    let error = solve(&objective, &data).unwrap_err().to_string();
    assert!(error.contains("singular"), "{error}");
    assert!(error.contains("weight_decay > 0"), "{error}");
    objective.l2 = 0.1;
    assert!(solve(&objective, &data).unwrap().gradient_norm < 1e-12);
}

#[test]
fn newton_reaches_a_stationary_point_on_breast_cancer_with_l2() {
    let config = load("quickstart", &["optimizer.weight_decay=0.01"]);
    let train = common::training_split(&config);
    let objective = Objective::from_config(&config).unwrap();
    assert_eq!(objective.l2, 0.01);
    let optimum = solve(&objective, &train).unwrap();
    let gradient = objective.gradient(&train, &optimum.parameters);
    assert!(norm(&gradient) <= 1e-9, "‖∇ℓ‖ = {:e}", norm(&gradient));
    assert_eq!(optimum.parameters.len(), 31);
    assert!(optimum.iterations < 30, "{} steps", optimum.iterations);
    // A minimum, not just a stationary point: ℓ grows in every coordinate direction.
    for p in 0..31 {
        for h in [-1e-3, 1e-3] {
            let mut moved = optimum.parameters.clone();
            moved[p] += h;
            assert!(objective.loss(&train, &moved) > optimum.loss);
        }
    }
    // Measured: ℓ* = 0.1064 with μ = 0.01 (the data term alone is below that).
    assert!(
        (0.09..0.12).contains(&optimum.loss),
        "ℓ* = {}",
        optimum.loss
    );
}

#[test]
fn breast_cancer_without_penalty_is_linearly_separable() {
    // The quickstart's training split (seed 42, 399 examples, 30 standardized features) can be
    // separated by a hyperplane, so the unpenalized logistic loss has no minimizer.
    let config = load("quickstart", &[]);
    let objective = Objective::from_config(&config).unwrap();
    assert_eq!(objective.l2, 0.0);
    let train = common::training_split(&config);
    let error = solve(&objective, &train).unwrap_err().to_string();
    assert!(
        error.starts_with("the training data are linearly separable"),
        "{error}"
    );
    assert!(error.contains("set optimizer.weight_decay > 0"), "{error}");
}

#[test]
fn separable_toy_data_are_detected_and_a_penalty_fixes_them() {
    // y = 1 exactly when x > 0.
    let data = Dataset {
        features: vec![-2.0, -1.0, 1.0, 2.0],
        dim: 1,
        targets: Targets::Classes {
            labels: vec![0, 0, 1, 1],
            classes: 2,
        },
        feature_names: vec!["x".into()],
    };
    let mut objective = Objective {
        kind: ObjectiveKind::Logistic,
        l2: 0.0,
    };
    let error = solve(&objective, &data).unwrap_err().to_string();
    assert!(error.contains("linearly separable"), "{error}");
    objective.l2 = 0.1;
    let optimum = solve(&objective, &data).unwrap();
    assert!(optimum.gradient_norm <= 1e-10);
    // Symmetric data: the intercept is 0, the slope positive.
    assert!(optimum.parameters[0] > 0.0 && optimum.parameters[1].abs() < 1e-12);
}

#[test]
fn newton_reaches_a_stationary_point_on_digits_softmax_with_l2() {
    let config = load(
        "digits_mlp",
        &["model.kind=softmax", "optimizer.weight_decay=0.001"],
    );
    let objective = Objective::from_config(&config).unwrap();
    assert_eq!(objective.kind, ObjectiveKind::Softmax { classes: Some(10) });
    // Every third training example: the 650 × 650 Hessian is built from n examples at every
    // Newton step, which the unoptimized test build takes seconds for on the whole split
    // (`sgdlab solve` on all 1,257 takes 2 s in release; ℓ* = 0.0783 with μ = 0.001).
    let whole = common::training_split(&config);
    let train = whole.subset(&(0..whole.len()).step_by(3).collect::<Vec<_>>());
    assert_eq!(train.len(), 419);
    let optimum = solve(&objective, &train).unwrap();
    assert_eq!(optimum.parameters.len(), 65 * 10);
    let gradient = objective.gradient(&train, &optimum.parameters);
    assert!(norm(&gradient) <= 1e-9, "‖∇ℓ‖ = {:e}", norm(&gradient));
    // With the penalty on every parameter, the class weights of each feature sum to zero at
    // the optimum (the data term's gradient does, so μ Σ_c Θ_jc = 0).
    for j in 0..65 {
        let sum: f64 = optimum.parameters[j * 10..(j + 1) * 10].iter().sum();
        assert!(sum.abs() < 1e-8, "feature {j}: Σ_c Θ = {sum}");
    }
    assert!(optimum.loss > 0.0 && optimum.loss < 0.2, "{}", optimum.loss);
}

#[test]
fn the_lecture_1d_problem_recovers_a_star_and_b_star() {
    // Unstandardized x (standardize = false in the config), so Θ* = (a, b) directly.
    let config = load("lecture_1d_logistic", &[]);
    assert!(!config.data.standardize);
    let report = solve_config(&config).unwrap();
    let optimum = &report.optimum;
    assert_eq!(report.train_examples, 10_000);
    assert!(
        optimum.gradient_norm <= 1e-10,
        "{:e}",
        optimum.gradient_norm
    );
    // The MLE of n = 10,000 draws lies within four of its standard errors of (a*, b*) =
    // (2, −1): the errors from the observed Fisher information n∇²ℓ(Θ̂), by the reference.
    let train = common::training_split(&config);
    let reference = Reference {
        data: &train,
        l2: 0.0,
    };
    let errors = common::reference::standard_errors(&reference, &optimum.parameters);
    for ((got, truth), error) in optimum.parameters.iter().zip([2.0, -1.0]).zip(&errors) {
        assert!(
            (got - truth).abs() < 4.0 * error,
            "{got} vs {truth}: more than 4 standard errors ({error:.4})"
        );
    }
    // About 1/√n: not a vacuous bound.
    assert!(
        errors.iter().all(|&e| (0.01..0.06).contains(&e)),
        "{errors:?}"
    );
    assert_eq!(report.parameter_names, ["w[x]", "b"]);
}

/// `Objective::loss` at a randomly initialized model's flat parameters equals the model's own
/// Burn loss on the same data: the flat order and the formulas are the training's.
fn assert_objective_is_the_models_loss(config: &sgdlab::config::Config) {
    let train = common::training_split(config);
    let device = sgdlab::device::resolve("cpu").unwrap();
    let model = Model::new(
        &config.model,
        Problem {
            dim: train.dim,
            classes: train.classes(),
        },
        config.training.seed,
        &device,
    )
    .unwrap();
    let parameters: Vec<f64> = flat_parameters(&model).into_iter().map(f64::from).collect();
    let objective = Objective {
        l2: 0.0,
        ..Objective::from_config(config).unwrap()
    };
    assert_eq!(
        parameters.len(),
        objective.with_classes_of(&train).parameter_count(train.dim)
    );
    let indices: Vec<usize> = (0..train.len()).collect();
    let batch = sgdlab::batch::gather(&train, &indices, &device);
    let outputs: Tensor<2> = model.forward(batch.features);
    let burn_loss = f64::from(model.loss(outputs, &batch.targets).into_scalar::<f32>());
    let ours = objective.loss(&train, &parameters);
    assert!(
        ((ours - burn_loss) / ours).abs() < 1e-5,
        "{:?}: ours {ours} vs Burn {burn_loss}",
        config.model.kind
    );
    // And the penalty is (μ/2)‖Θ‖² over every parameter, biases included.
    let penalized = Objective {
        l2: 0.3,
        ..objective
    };
    let expected = ours + 0.15 * parameters.iter().map(|t| t * t).sum::<f64>();
    assert!((penalized.loss(&train, &parameters) - expected).abs() < 1e-12);
}

#[test]
fn the_objective_is_the_models_burn_loss_in_the_flat_order() {
    assert_objective_is_the_models_loss(&load("quickstart", &["model.init=default"]));
    assert_objective_is_the_models_loss(&load(
        "digits_mlp",
        &["model.kind=softmax", "model.init=default"],
    ));
    assert_objective_is_the_models_loss(&load(
        "linear_regression_tikhonov",
        &["model.init=default"],
    ));
}

#[test]
fn no_objective_for_mlp_or_adamw() {
    assert!(Objective::from_config(&load("digits_mlp", &[])).is_none());
    let adamw = load(
        "quickstart",
        &["optimizer.name=adamw", "optimizer.learning_rate=0.01"],
    );
    assert!(Objective::from_config(&adamw).is_none());
    let adam = load(
        "quickstart",
        &[
            "optimizer.name=adam",
            "optimizer.learning_rate=0.01",
            "optimizer.weight_decay=0.02",
        ],
    );
    assert_eq!(Objective::from_config(&adam).unwrap().l2, 0.02);
}

#[test]
fn diabetes_ridge_training_approaches_the_exact_optimum() {
    let config = load(
        "linear_regression_tikhonov",
        &["training.trace_parameters=true"],
    );
    let report = solve_config(&config).unwrap();
    let optimum = &report.optimum;
    assert_eq!(report.train_examples, 310);
    assert!(optimum.gradient_norm < 1e-9, "{:e}", optimum.gradient_norm);
    // The intercept: with standardized features and μ small, close to the mean target (≈ 152).
    let intercept = optimum.parameters[10];
    assert!((140.0..165.0).contains(&intercept), "b* = {intercept}");

    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    train_into(config.clone(), &run);
    let text = std::fs::read_to_string(run.join("parameters.csv")).unwrap();
    let last: Vec<f64> = text
        .lines()
        .last()
        .unwrap()
        .split(',')
        .skip(3)
        .map(|cell| cell.parse().unwrap())
        .collect();
    let objective = Objective::from_config(&config).unwrap();
    let train = common::training_split(&config);
    let trained = objective.loss(&train, &last);
    let gap = (trained - optimum.loss) / optimum.loss;
    // Full-batch GD from zero: within 1% of ℓ*, and never below it (beyond f32 rounding).
    assert!(
        gap > -1e-6 && gap < 0.01,
        "ℓ(Θ_T) = {trained}, ℓ* = {}",
        optimum.loss
    );
}

#[test]
fn solve_cli_writes_the_optimum_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = config_path("quickstart");
    let config = config.to_str().unwrap();
    let output = run_sgdlab(
        d,
        &["solve", config, "--set", "optimizer.weight_decay=0.01"],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("ℓ(f*)"), "{stdout}");
    assert!(stdout.contains("31 parameters, 20 shown"), "{stdout}");
    let path = d.join("artifacts/quickstart-optimum.json");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(json["parameters"].as_array().unwrap().len(), 31);
    assert_eq!(json["parameter_names"][30], "b");
    assert_eq!(json["l2"], 0.01);
    assert!(json["gradient_norm"].as_f64().unwrap() <= 1e-10);
    let loss = json["loss"].as_f64().unwrap();
    assert!(
        stdout.contains(&format!("ℓ(f*)       {loss}\n")),
        "{stdout}"
    );

    // Again: refused, the file untouched; --force overwrites.
    let before = std::fs::read_to_string(&path).unwrap();
    let again = run_sgdlab(
        d,
        &["solve", config, "--set", "optimizer.weight_decay=0.02"],
    );
    assert_one_line_error(
        &again,
        &["quickstart-optimum.json", "already exists", "--force"],
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    let forced = run_sgdlab(
        d,
        &[
            "solve",
            config,
            "--set",
            "optimizer.weight_decay=0.02",
            "--force",
        ],
    );
    assert!(forced.status.success());
    assert_ne!(std::fs::read_to_string(&path).unwrap(), before);

    let out = d.join("elsewhere/ridge.json");
    let ridge = run_sgdlab(
        d,
        &[
            "solve",
            config_path("linear_regression_tikhonov").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(ridge.status.success());
    assert!(out.exists());
}

#[test]
fn solve_cli_refuses_what_has_no_optimum_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mlp = run_sgdlab(d, &["solve", config_path("digits_mlp").to_str().unwrap()]);
    assert_one_line_error(
        &mlp,
        &["model.kind = mlp is not convex", "no exact optimum"],
    );
    let separable = run_sgdlab(d, &["solve", config_path("quickstart").to_str().unwrap()]);
    assert_one_line_error(
        &separable,
        &["linearly separable", "optimizer.weight_decay > 0"],
    );
    let adamw = run_sgdlab(
        d,
        &[
            "solve",
            config_path("quickstart").to_str().unwrap(),
            "--set",
            "optimizer.name=adamw",
        ],
    );
    assert_one_line_error(&adamw, &["adamw", "no exact optimum"]);
    assert!(!d.join("artifacts").exists());
}

#[test]
fn diabetes_is_refused_for_classifiers_at_config_time() {
    let path = config_path("linear_regression_tikhonov");
    let error = sgdlab::config::Config::load(&path, &["model.kind=logistic".to_string()])
        .unwrap_err()
        .to_string();
    assert!(error.contains("model.kind"), "{error}");
    assert!(error.contains("regression set"), "{error}");
}

/// sgdlab's f* of `config` against the reference: the same ℓ* to 10⁻¹³ relative, the same Θ*,
/// and the reference's own gradient at sgdlab's Θ* tiny next to its gradient at 0. Returns
/// the Newton steps sgdlab took.
fn assert_optimum_matches_the_reference(config: &sgdlab::config::Config, label: &str) -> usize {
    let train = common::training_split(config);
    let objective = Objective::for_config(config).unwrap();
    let reference = Reference {
        data: &train,
        l2: objective.l2,
    };
    let solved = solve(&objective, &train);
    match reference.solve() {
        ReferenceOutcome::Separated => {
            let error = solved.unwrap_err().to_string();
            assert!(error.contains("linearly separable"), "{label}: {error}");
            0
        }
        ReferenceOutcome::Minimum { theta, loss } => {
            let optimum = solved.unwrap_or_else(|e| panic!("{label}: {e}"));
            let relative = (optimum.loss - loss).abs() / loss.abs().max(1.0);
            assert!(
                relative <= 1e-13,
                "{label}: ℓ* = {:.17e}, the reference {loss:.17e}",
                optimum.loss
            );
            let scale = theta.iter().fold(1.0f64, |m, t| m.max(t.abs()));
            for (got, want) in optimum.parameters.iter().zip(&theta) {
                assert!(
                    (got - want).abs() <= 1e-8 * scale,
                    "{label}: Θ* {got} vs {want}"
                );
            }
            let at_start = norm(&reference.derivatives(&vec![0.0; theta.len()]).1);
            let at_optimum = norm(&reference.derivatives(&optimum.parameters).1);
            assert!(
                at_optimum <= 1e-11 * at_start.max(1.0),
                "{label}: ‖∇ℓ(Θ*)‖ = {at_optimum:e} by the reference (at 0: {at_start:e})"
            );
            optimum.iterations
        }
    }
}

/// The lecture's 1-D problem with `n` examples (a* = 2, b* = −1), against the reference.
fn assert_lecture_problem_converges(n: usize) {
    let config = load(
        "lecture_1d_logistic",
        &[&format!("data.n={n}"), &format!("training.batch_size={n}")],
    );
    let steps = assert_optimum_matches_the_reference(&config, &format!("n = {n}"));
    assert!(steps <= 10, "n = {n}: {steps} Newton steps");
}

#[test]
fn newton_converges_on_the_lecture_problem_at_every_n() {
    // The case: at n = 10⁵ Newton used to stall at ‖∇ℓ‖ = 1.8e-10 after 200 steps.
    for n in [100, 10_000, 100_000] {
        assert_lecture_problem_converges(n);
    }
}

/// A test of its own, to run beside the others: the unoptimized test build evaluates ℓ about
/// ten times slower than release, so this one takes 10 to 25 s (`sgdlab solve` in release:
/// 1.3 s).
#[test]
fn newton_converges_on_the_lecture_problem_at_a_million_examples() {
    assert_lecture_problem_converges(1_000_000);
}

#[test]
fn every_shipped_convex_config_solves_to_the_reference() {
    let mut convex = Vec::new();
    for entry in std::fs::read_dir(config_path("quickstart").parent().unwrap()).unwrap() {
        let path = entry.unwrap().path();
        let config = sgdlab::config::Config::load(&path, &[]).unwrap();
        if Objective::for_config(&config).is_err() {
            continue;
        }
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        assert_optimum_matches_the_reference(&config, &name);
        convex.push(name);
    }
    convex.sort();
    assert_eq!(convex.len(), 10, "{convex:?}");
    // The unpenalized breast-cancer ones have no minimizer; with a penalty they have one.
    for mu in ["0.01", "0.001"] {
        let config = load("quickstart", &[&format!("optimizer.weight_decay={mu}")]);
        assert_optimum_matches_the_reference(&config, &format!("quickstart, μ = {mu}"));
    }
}

#[test]
fn train_with_auto_suboptimality_gets_f_star_at_large_n_or_says_at_once_why_not() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The case: n = 10⁵ used to spend Newton's 200 steps, then train without the column.
    let run = d.join("lecture");
    let output = run_sgdlab(
        d,
        &[
            "train",
            config_path("lecture_1d_logistic").to_str().unwrap(),
            "--run-dir",
            run.to_str().unwrap(),
            "--no-plots",
            "--set",
            "data.n=100000",
            "--set",
            "training.batch_size=100000",
            "--set",
            "training.epochs=1",
        ],
    );
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("exact optimum: ℓ(f*) = "), "{stdout}");
    let rows = sgdlab::run_dir::read_metrics_csv(&run.join("metrics.csv")).unwrap();
    assert!(rows[&1]["suboptimality"] > 0.0);

    // No minimizer (separable): one note on stderr, then training without the column.
    let run = d.join("separable");
    let output = run_sgdlab(
        d,
        &[
            "train",
            config_path("quickstart").to_str().unwrap(),
            "--run-dir",
            run.to_str().unwrap(),
            "--no-plots",
            "--set",
            "training.epochs=1",
            // The quickstart turns the column off for this very reason.
            "--set",
            "training.suboptimality=auto",
        ],
    );
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let notes: Vec<&str> = stderr.lines().filter(|l| l.starts_with("note:")).collect();
    assert_eq!(notes.len(), 1, "{stderr}");
    assert!(
        notes[0].contains("no suboptimality column") && notes[0].contains("linearly separable"),
        "{stderr}"
    );
    let rows = sgdlab::run_dir::read_metrics_csv(&run.join("metrics.csv")).unwrap();
    assert!(!rows[&1].contains_key("suboptimality"));
}
