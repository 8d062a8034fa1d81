//! End to end on real data: the shipped configs train to the accuracy a user is promised, and
//! a finished run evaluates back to what training measured.

mod common;

use burn::module::Module;
use common::reference::{Reference, ReferenceOutcome};
use sgdlab::eval::{SplitChoice, evaluate_run};
use sgdlab::model::{Model, Problem};
use sgdlab::run_dir::RunDir;
use sgdlab::train::{CheckpointChoice, load_model};

#[test]
fn quickstart_logistic_regression_reaches_95_percent_test_accuracy() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("quickstart");
    let result = common::train_into(common::load("quickstart", &[]), &run);
    assert_eq!(result.epochs, 20);
    let report = evaluate_run(&result.run_dir, CheckpointChoice::Last, None, None).unwrap();
    assert_eq!(report.split, Some(SplitChoice::Test));
    let accuracy = report.metrics.accuracy.unwrap();
    assert!(accuracy >= 0.95, "test accuracy {accuracy}");
    // 569 examples, 15 % test → 85 examples; the confusion matrix counts each once.
    let confusion = report.metrics.confusion.unwrap();
    assert_eq!(confusion.iter().flatten().sum::<u64>(), 85);
    assert!(result.run_dir.eval_path().exists());
}

#[test]
fn digits_mlp_reaches_95_percent_test_accuracy() {
    let dir = tempfile::tempdir().unwrap();
    let result = common::train_into(common::load("digits_mlp", &[]), &dir.path().join("digits"));
    let report = evaluate_run(
        &result.run_dir,
        CheckpointChoice::Last,
        Some(SplitChoice::Test),
        None,
    )
    .unwrap();
    let accuracy = report.metrics.accuracy.unwrap();
    assert!(accuracy >= 0.95, "test accuracy {accuracy}");
    assert_eq!(report.metrics.confusion.unwrap().len(), 10);
}

#[test]
fn full_batch_gd_recovers_the_lecture_1d_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::load("lecture_1d_logistic", &[]);
    let result = common::train_into(config.clone(), &dir.path().join("lecture"));
    let device = sgdlab::device::resolve("cpu").unwrap();
    let problem = Problem {
        dim: 1,
        classes: Some(2),
    };
    let model = load_model(
        &result.run_dir,
        result.epochs,
        &config.model,
        problem,
        &device,
    )
    .unwrap();
    let Model::Logistic(logistic) = model else {
        panic!("lecture config builds a logistic model")
    };
    let a: f32 = logistic.linear.weight.val().into_scalar();
    let b: f32 = logistic.linear.bias.as_ref().unwrap().val().into_scalar();
    let fitted = [f64::from(a), f64::from(b)];

    // The reference's MLE Θ̂ of the training split and its standard errors (observed Fisher
    // information): Θ̂ lies within four of them of (a*, b*) = (2, −1).
    let train = common::training_split(&config);
    let reference = Reference {
        data: &train,
        l2: 0.0,
    };
    let ReferenceOutcome::Minimum {
        theta: mle,
        loss: optimum,
    } = reference.solve()
    else {
        panic!("the lecture's data are not separable");
    };
    let errors = common::reference::standard_errors(&reference, &mle);
    for ((estimate, truth), error) in mle.iter().zip([2.0, -1.0]).zip(&errors) {
        assert!(
            (estimate - truth).abs() < 4.0 * error,
            "{estimate} vs {truth} (±{error})"
        );
    }
    // GD has reached Θ̂ as closely as its suboptimality δ = ℓ(Θ) − ℓ* allows: near Θ̂,
    // δ ≈ ½(Θ − Θ̂)ᵀ∇²ℓ(Θ − Θ̂), so |Θ_i − Θ̂_i| ≤ √(2δ (∇²ℓ)⁻¹_ii) (with 20 % for the
    // cubic term). δ is the run's own last suboptimality, checked against the reference.
    let rows = sgdlab::run_dir::read_metrics_csv(&result.run_dir.metrics_path()).unwrap();
    let logged = rows[&result.epochs]["suboptimality"];
    let delta = reference.loss(&fitted) - optimum;
    assert!(
        (logged - delta).abs() < 1e-12,
        "logged {logged:e}, reference {delta:e}"
    );
    assert!(delta < 1e-6, "GD ended {delta:e} above ℓ*");
    let inverse = common::reference::inverse_diagonal(&reference.derivatives(&mle).2);
    for ((fit, estimate), inverse) in fitted.iter().zip(&mle).zip(&inverse) {
        let allowed = 1.2 * (2.0 * delta * inverse).sqrt();
        assert!(
            (fit - estimate).abs() <= allowed.max(1e-6),
            "GD's {fit} vs Θ̂ {estimate}: more than {allowed:e} apart"
        );
    }
    assert_eq!(model_parameter_count(&result.run_dir, &config), 2);
}

fn model_parameter_count(run: &RunDir, config: &sgdlab::config::Config) -> usize {
    let device = sgdlab::device::resolve("cpu").unwrap();
    let problem = Problem {
        dim: 1,
        classes: Some(2),
    };
    load_model(run, 1, &config.model, problem, &device)
        .unwrap()
        .num_params()
}

#[test]
fn eval_reproduces_the_last_validation_loss_and_accuracy() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::load("breast_cancer_logistic", &["training.epochs=5"]);
    let result = common::train_into(config, &dir.path().join("bc"));
    let report = evaluate_run(
        &result.run_dir,
        CheckpointChoice::Last,
        Some(SplitChoice::Valid),
        None,
    )
    .unwrap();
    let valid_loss = result.last["valid_loss"];
    let valid_accuracy = result.last["valid_accuracy"];
    assert!(
        (report.metrics.loss - valid_loss).abs() <= 1e-5 * valid_loss.abs().max(1.0),
        "eval {} vs training {valid_loss}",
        report.metrics.loss
    );
    let accuracy = report.metrics.accuracy.unwrap();
    assert!(
        (accuracy - valid_accuracy).abs() < 1e-9,
        "eval {accuracy} vs training {valid_accuracy}"
    );
}

#[test]
fn best_checkpoint_is_the_epoch_with_lowest_validation_loss() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::load("breast_cancer_logistic", &["training.epochs=4"]);
    let result = common::train_into(config, &dir.path().join("bc"));
    let rows = sgdlab::run_dir::read_metrics_csv(&result.run_dir.metrics_path()).unwrap();
    let expected = rows
        .iter()
        .min_by(|a, b| a.1["valid_loss"].total_cmp(&b.1["valid_loss"]))
        .map(|(epoch, _)| *epoch)
        .unwrap();
    let report = evaluate_run(&result.run_dir, CheckpointChoice::Best, None, None).unwrap();
    assert_eq!(report.checkpoint_epoch, expected);
    assert_eq!(rows.len(), 4);
    assert_eq!(result.run_dir.checkpoint_epochs(), vec![1, 2, 3, 4]);
}

#[test]
fn resume_continues_a_shuffled_mini_batch_run_bit_for_bit() {
    // Mini-batches of 16, reshuffled every epoch: the resumed run must see the same batches
    // in the same order and reproduce the uninterrupted run bit for bit.
    let dir = tempfile::tempdir().unwrap();
    let overrides = ["training.epochs=6"];
    let whole = common::train_into(
        common::load("breast_cancer_logistic", &overrides),
        &dir.path().join("whole"),
    );

    let first = common::train_into(
        common::load("breast_cancer_logistic", &["training.epochs=3"]),
        &dir.path().join("split"),
    );
    assert_eq!(first.epochs, 3);
    let resumed = common::resume(
        common::load("breast_cancer_logistic", &overrides),
        &first.run_dir.path,
    );
    assert_eq!(resumed.epochs, 6);

    // steps.csv: 399 training examples in batches of 16 → 25 steps an epoch, numbered on
    // across the resume, each with its batch loss and learning rate.
    let steps = |run: &RunDir| -> Vec<Vec<String>> {
        std::fs::read_to_string(run.steps_path())
            .unwrap()
            .lines()
            .skip(1)
            .map(|line| line.split(',').map(str::to_string).collect())
            .collect()
    };
    let (whole_steps, resumed_steps) = (steps(&whole.run_dir), steps(&resumed.run_dir));
    assert_eq!(whole_steps.len(), 150);
    for (index, row) in whole_steps.iter().enumerate() {
        assert_eq!(row[0], (index + 1).to_string());
        assert_eq!(row[3], "0.05", "learning rate");
    }
    assert_eq!(whole_steps, resumed_steps);

    let whole_rows = sgdlab::run_dir::read_metrics_csv(&whole.run_dir.metrics_path()).unwrap();
    let resumed_rows = sgdlab::run_dir::read_metrics_csv(&resumed.run_dir.metrics_path()).unwrap();
    assert_eq!(resumed_rows.len(), 6);
    for epoch in 1..=6 {
        for column in [
            "train_loss",
            "train_accuracy",
            "valid_loss",
            "valid_accuracy",
        ] {
            assert_eq!(
                whole_rows[&epoch][column], resumed_rows[&epoch][column],
                "epoch {epoch} {column}"
            );
        }
    }
}

#[test]
fn mnist_config_trains_from_an_idx_folder() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("mnist");
    common::write_mnist_folder(&folder, 300, 100);

    let path = format!("data.path={}", folder.display());
    let config = common::load(
        "mnist_mlp",
        &[&path, "training.epochs=5", "training.batch_size=32"],
    );
    let result = common::train_into(config, &dir.path().join("run"));
    let report = evaluate_run(&result.run_dir, CheckpointChoice::Last, None, None).unwrap();
    assert_eq!(report.split, Some(SplitChoice::Test));
    assert_eq!(
        report.metrics.examples, 100,
        "the t10k files are the test split"
    );
    let accuracy = report.metrics.accuracy.unwrap();
    assert!(accuracy >= 0.9, "test accuracy {accuracy}");
}

#[test]
fn same_seed_same_numbers_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str| {
        let result = common::train_into(
            common::load("digits_mlp", &["training.epochs=2"]),
            &dir.path().join(name),
        );
        let steps = std::fs::read_to_string(result.run_dir.steps_path()).unwrap();
        let mut rows = sgdlab::run_dir::read_metrics_csv(&result.run_dir.metrics_path()).unwrap();
        for row in rows.values_mut() {
            row.remove("elapsed_seconds");
        }
        (steps, rows)
    };
    let (first, second) = (run("first"), run("second"));
    assert!(first.0.lines().count() > 60, "two epochs of 40 steps");
    assert_eq!(first, second);
    // A different seed is a different run.
    let other = common::train_into(
        common::load("digits_mlp", &["training.epochs=2", "training.seed=43"]),
        &dir.path().join("other"),
    );
    let other_steps = std::fs::read_to_string(other.run_dir.steps_path()).unwrap();
    assert_ne!(first.0, other_steps);
}
