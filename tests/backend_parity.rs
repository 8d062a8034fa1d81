//! The GPU path against the CPU one (`--features wgpu`; in CI on Mesa's software Vulkan
//! driver, lavapipe): the same config and seed train to the same loss curve on `cpu` (flex)
//! and on `wgpu`, for logistic and MLP models and every optimizer family, for every other
//! operation a run can use (the schedules, AdamW, weight decay, both clippings, softmax and
//! linear regression, the line-search loop), and a checkpoint written on one backend
//! evaluates identically on the other.
//!
//! Both runs start from the same parameters without any hand-over: sgdlab draws the
//! initialization from its own seeded generator (`model::init`), not the backend's, and the
//! shuffling likewise. What differs is only floating-point summation order inside the
//! backends' kernels, hence the tolerance.
#![cfg(feature = "wgpu")]

mod common;

use std::path::Path;

use sgdlab::eval::{SplitChoice, evaluate_run};
use sgdlab::run_dir::read_metrics_csv;
use sgdlab::train::CheckpointChoice;

/// |cpu − wgpu| ≤ RELATIVE_TOLERANCE · max(|cpu|, FLOOR) for every loss compared. f32 kernels
/// that sum in another order differ by a few ulps per step (~1e-7 relative); 1e-4 leaves room
/// for that to compound over a few epochs while still catching any real difference (a wrong
/// update rule changes the loss in the 2nd or 3rd digit after one step).
const RELATIVE_TOLERANCE: f64 = 1e-4;
/// Below this the comparison is absolute: losses near 0 have no meaningful relative error.
const FLOOR: f64 = 1e-3;

/// The optimizer families, each with a learning rate that makes visible progress in a few
/// epochs.
const OPTIMIZERS: [(&str, &str); 6] = [
    ("sgd", "0.1"),
    ("momentum", "0.05"),
    ("nesterov", "0.05"),
    ("adagrad", "0.05"),
    ("rmsprop", "0.005"),
    ("adam", "0.005"),
];

fn close(cpu: f64, gpu: f64) -> bool {
    (cpu - gpu).abs() <= RELATIVE_TOLERANCE * cpu.abs().max(FLOOR)
}

/// Every batch loss of `steps.csv` and every loss of `metrics.csv`, in order, with labels.
fn loss_curve(run: &Path) -> Vec<(String, f64)> {
    let mut curve: Vec<(String, f64)> = common::steps_csv(run)
        .iter()
        .map(|row| (format!("step {}", row[0]), row[2].parse().unwrap()))
        .collect();
    for (epoch, row) in read_metrics_csv(&run.join("metrics.csv")).unwrap() {
        // valid_loss is absent without a validation split (the lecture's 1-D configs).
        for column in ["train_loss", "valid_loss"] {
            if let Some(&loss) = row.get(column) {
                curve.push((format!("epoch {epoch} {column}"), loss));
            }
        }
    }
    curve
}

/// Trains `config` (with `overrides`) on cpu and on wgpu; asserts equal loss curves.
fn assert_parity(config: &str, overrides: &[&str], expected_steps: usize) {
    let dir = tempfile::tempdir().unwrap();
    let mut curves = Vec::new();
    for device in ["cpu", "wgpu"] {
        let mut all: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
        all.push(format!("training.device={device}"));
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        let run = dir.path().join(device);
        common::train_into(common::load(config, &all), &run);
        curves.push(loss_curve(&run));
    }
    let (cpu, gpu) = (&curves[0], &curves[1]);
    assert_eq!(cpu.len(), gpu.len());
    let steps = cpu.iter().filter(|(l, _)| l.starts_with("step")).count();
    assert_eq!(steps, expected_steps, "{config} {overrides:?}");
    // The runs must learn something, or equal curves would prove little.
    assert!(
        cpu.last().unwrap().1 < 0.9 * cpu[0].1,
        "{config} {overrides:?} did not train: {cpu:?}"
    );
    let mut worst = 0.0f64;
    for ((label, c), (_, g)) in cpu.iter().zip(gpu) {
        assert!(
            close(*c, *g),
            "{config} {overrides:?}: {label}: cpu {c} vs wgpu {g}"
        );
        worst = worst.max((c - g).abs() / c.abs().max(FLOOR));
    }
    eprintln!("{config} {overrides:?}: worst relative difference {worst:.2e}");
}

#[test]
fn logistic_regression_trains_alike_on_cpu_and_wgpu_for_every_optimizer() {
    for (name, rate) in OPTIMIZERS {
        // 398 training examples in batches of 64: 7 steps an epoch, 3 epochs.
        assert_parity(
            "quickstart",
            &[
                &format!("optimizer.name={name}"),
                &format!("optimizer.learning_rate={rate}"),
                "training.epochs=3",
                "training.batch_size=64",
                "model.init=default",
            ],
            21,
        );
    }
}

#[test]
fn mlp_trains_alike_on_cpu_and_wgpu_for_every_optimizer() {
    for (name, rate) in OPTIMIZERS {
        // 1,259 training digits in batches of 128: 10 steps an epoch, 2 epochs.
        assert_parity(
            "digits_mlp",
            &[
                &format!("optimizer.name={name}"),
                &format!("optimizer.learning_rate={rate}"),
                "training.epochs=2",
                "training.batch_size=128",
                "model.hidden=[32]",
            ],
            20,
        );
    }
}

/// Trains `config` on `trained_on`, then evaluates its last checkpoint on both backends.
fn assert_checkpoint_moves(config: &str, overrides: &[&str], trained_on: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut all: Vec<&str> = overrides.to_vec();
    let device = format!("training.device={trained_on}");
    all.push(&device);
    let result = common::train_into(common::load(config, &all), &dir.path().join("run"));
    let on = |device: &str| {
        evaluate_run(
            &result.run_dir,
            CheckpointChoice::Last,
            Some(SplitChoice::Test),
            Some(device),
        )
        .unwrap_or_else(|e| panic!("eval on {device}: {e}"))
        .metrics
    };
    let (cpu, gpu) = (on("cpu"), on("wgpu"));
    assert!(
        close(cpu.loss, gpu.loss),
        "{config} trained on {trained_on}: test loss cpu {} vs wgpu {}",
        cpu.loss,
        gpu.loss
    );
    assert_eq!(cpu.accuracy, gpu.accuracy, "{config} on {trained_on}");
    assert_eq!(cpu.confusion, gpu.confusion, "{config} on {trained_on}");
    // And the evaluation is of a trained model, not of the initialization.
    assert!(cpu.accuracy.unwrap() > 0.9, "{config}: {:?}", cpu.accuracy);
}

#[test]
fn a_checkpoint_written_on_wgpu_evaluates_identically_on_cpu() {
    assert_checkpoint_moves("quickstart", &["training.epochs=2"], "wgpu");
    assert_checkpoint_moves(
        "digits_mlp",
        &["training.epochs=2", "model.hidden=[32]"],
        "wgpu",
    );
}

#[test]
fn a_checkpoint_written_on_cpu_evaluates_identically_on_wgpu() {
    assert_checkpoint_moves("quickstart", &["training.epochs=2"], "cpu");
}

#[test]
fn sgdlab_eval_device_cpu_reads_a_wgpu_run() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let output = common::run_sgdlab(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &[
            "train",
            "configs/quickstart.toml",
            "--set",
            "training.epochs=2",
            "--device",
            "wgpu",
            "--no-plots",
            "--run-dir",
            run.to_str().unwrap(),
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let run_json = std::fs::read_to_string(run.join("run.json")).unwrap();
    assert!(run_json.contains("\"wgpu:0\""), "{run_json}");
    let output = common::run_sgdlab(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &["eval", run.to_str().unwrap(), "--device", "cpu"],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("accuracy"), "{stdout}");
}

/// The steps `config` with `overrides` takes: epochs × steps per epoch, by the dry run.
fn steps_of(config: &str, overrides: &[&str]) -> usize {
    let config = common::load(config, overrides);
    let epochs = config.training.epochs;
    let dir = tempfile::tempdir().unwrap();
    let summary = sgdlab::train::dry_run(&sgdlab::train::TrainRequest {
        config,
        name: "parity".into(),
        run_dir: None,
        resume: false,
        artifacts: dir.path().to_path_buf(),
        progress: sgdlab::train::Progress::Quiet,
    })
    .unwrap();
    epochs * summary.steps_per_epoch
}

#[test]
fn schedules_adamw_decay_clipping_softmax_linear_and_line_search_run_alike_on_wgpu() {
    let quick = [
        "training.epochs=3",
        "training.batch_size=64",
        "model.init=default",
    ];
    let with = |extra: &[&'static str]| -> Vec<&'static str> {
        quick.iter().chain(extra).copied().collect()
    };
    let cases: Vec<(&str, Vec<&str>)> = vec![
        // Every schedule family, the warmup wrapper and the epoch unit.
        (
            "quickstart",
            with(&[
                "schedule.name=\"linear\"",
                "schedule.rho=15",
                "schedule.final_learning_rate=0.01",
            ]),
        ),
        (
            "quickstart",
            with(&[
                "schedule.name=\"inverse_time_recursive\"",
                "schedule.rho=0.05",
            ]),
        ),
        (
            "quickstart",
            with(&["schedule.name=\"inverse_time\"", "schedule.rho=0.1"]),
        ),
        (
            "quickstart",
            with(&["schedule.name=\"exponential\"", "schedule.rho=0.05"]),
        ),
        (
            "quickstart",
            with(&[
                "schedule.name=\"step\"",
                "schedule.gamma=0.5",
                "schedule.every=5",
            ]),
        ),
        (
            "quickstart",
            with(&[
                "schedule.name=\"cosine\"",
                "schedule.period=4",
                "schedule.restarts=true",
                "schedule.period_multiplier=2",
            ]),
        ),
        (
            "quickstart",
            with(&["schedule.warmup=1", "schedule.unit=\"epoch\""]),
        ),
        // AdamW's decoupled decay, and the coupled L2 weight of sgd and adam.
        (
            "quickstart",
            with(&[
                "optimizer.name=\"adamw\"",
                "optimizer.learning_rate=0.005",
                "optimizer.weight_decay=0.05",
            ]),
        ),
        ("quickstart", with(&["optimizer.weight_decay=0.01"])),
        (
            "quickstart",
            with(&[
                "optimizer.name=\"adam\"",
                "optimizer.learning_rate=0.005",
                "optimizer.weight_decay=0.01",
            ]),
        ),
        // Both clippings.
        ("quickstart", with(&["training.clip_grad_norm=0.5"])),
        ("quickstart", with(&["training.clip_grad_value=0.05"])),
        // Softmax regression and linear regression.
        (
            "digits_mlp",
            vec![
                "model.kind=\"softmax\"",
                "training.epochs=2",
                "training.batch_size=128",
            ],
        ),
        (
            "linear_regression_tikhonov",
            vec![
                "training.epochs=5",
                "training.batch_size=64",
                "optimizer.learning_rate=0.05",
            ],
        ),
        // The line-search loop: Armijo on the 1-D problem, the exact search on breast cancer.
        (
            "lecture_1d_gd_armijo",
            vec!["training.epochs=5", "training.target_suboptimality=1e-30"],
        ),
        (
            "breast_cancer_gd_exact_target",
            vec!["training.epochs=5", "training.target_suboptimality=1e-30"],
        ),
    ];
    for (config, overrides) in cases {
        let steps = steps_of(config, &overrides);
        assert_parity(config, &overrides, steps);
    }
}
