//! Data-parallel training over several devices (`[training] devices`, `--devices`), through
//! burn-train's `ExecutionStrategy::MultiDevice`: on two CPU devices it takes the same steps
//! on the same mini-batches as training on one, and bad device lists are one-line errors.

mod common;

use std::path::{Path, PathBuf};

use sgdlab::run_dir::read_metrics_csv;

/// |one − two| ≤ TOLERANCE · max(|one|, 1e-3): the two devices' gradients are each half the
/// batch's, summed; one device sums the whole batch at once. Only f32 summation order differs
/// (~1e-7 relative a step).
const TOLERANCE: f64 = 1e-5;

fn batch_losses(run: &Path) -> Vec<f64> {
    common::steps_csv(run)
        .iter()
        .map(|row| row[2].parse().unwrap())
        .collect()
}

/// Trains the lecture's 1-D problem (400 examples, all training; m = 40: 10 steps an epoch) on
/// `cpu` and on `--devices DEVICES` (two of them, each named `device_debug` in burn-train's
/// log); asserts the same loss at every step and epoch.
fn assert_two_devices_match_one(devices: &str, device_debug: &str, extra: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let mut overrides = vec![
        "data.n=400",
        "training.batch_size=40",
        "training.epochs=3",
        "training.suboptimality=\"off\"",
    ];
    overrides.extend_from_slice(extra);
    let one = dir.path().join("one");
    common::train_into(common::load("lecture_1d_logistic", &overrides), &one);
    // Through the command line, in a process of its own: burn-train writes a process's log
    // into the first run's train.log only, and that log shows which strategy ran.
    let two = dir.path().join("two");
    let mut args = vec!["train", "configs/lecture_1d_logistic.toml", "--no-plots"];
    for assignment in &overrides {
        args.extend(["--set", assignment]);
    }
    args.extend(["--devices", devices, "--run-dir", two.to_str().unwrap()]);
    let output = common::run_sgdlab(Path::new(env!("CARGO_MANIFEST_DIR")), &args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let (one_losses, two_losses) = (batch_losses(&one), batch_losses(&two));
    // One steps.csv row per optimizer step, not one per device.
    assert_eq!(one_losses.len(), 30, "{extra:?}");
    assert_eq!(two_losses.len(), 30, "{extra:?}");
    assert!(
        one_losses[29] < 0.9 * one_losses[0],
        "{extra:?} did not train: {one_losses:?}"
    );
    for (step, (a, b)) in one_losses.iter().zip(&two_losses).enumerate() {
        assert!(
            (a - b).abs() <= TOLERANCE * a.abs().max(1e-3),
            "{extra:?} step {}: one device {a}, two devices {b}",
            step + 1
        );
    }
    let (one_rows, two_rows) = (
        read_metrics_csv(&one.join("metrics.csv")).unwrap(),
        read_metrics_csv(&two.join("metrics.csv")).unwrap(),
    );
    for epoch in 1..=3 {
        let (a, b) = (
            one_rows[&epoch]["train_loss"],
            two_rows[&epoch]["train_loss"],
        );
        assert!(
            (a - b).abs() <= TOLERANCE * a,
            "{extra:?} epoch {epoch}: {a} vs {b}"
        );
    }
    // burn-train's MultiDevice strategy trained it, on two devices, not a single-device
    // fallback.
    let log = std::fs::read_to_string(two.join("train.log")).unwrap();
    let strategy = log
        .lines()
        .find(|line| line.contains("strategies::multi"))
        .unwrap_or_else(|| panic!("no multi-device strategy in train.log: {log}"));
    assert_eq!(strategy.matches(device_debug).count(), 2, "{strategy}");
    let run_json = std::fs::read_to_string(two.join("run.json")).unwrap();
    assert!(run_json.contains(devices), "{run_json}");
}

#[test]
fn logistic_sgd_on_two_cpu_devices_matches_one_device() {
    assert_two_devices_match_one("cpu,cpu", "Flex(Cpu)", &["optimizer.learning_rate=1.0"]);
}

/// lavapipe offers one adapter; burn-train runs a worker per listed device all the same.
#[cfg(feature = "wgpu")]
#[test]
fn logistic_sgd_on_two_wgpu_devices_matches_one_cpu_device() {
    assert_two_devices_match_one("wgpu,wgpu", "Wgpu(", &["optimizer.learning_rate=1.0"]);
}

#[test]
fn mlp_adam_with_clipping_on_two_cpu_devices_matches_one_device() {
    // Clipping acts on the summed gradient, so it too must agree.
    assert_two_devices_match_one(
        "cpu,cpu",
        "Flex(Cpu)",
        &[
            "model.kind=\"mlp\"",
            "model.hidden=[8]",
            "model.init=\"default\"",
            "optimizer.name=\"adam\"",
            "optimizer.learning_rate=0.01",
            "training.clip_grad_norm=0.05",
        ],
    );
}

#[test]
fn devices_on_the_command_line_are_checked_with_one_line_errors() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let train = |devices: &str| {
        common::run_sgdlab(
            root,
            &[
                "train",
                "configs/quickstart.toml",
                "--devices",
                devices,
                "--run-dir",
                run.to_str().unwrap(),
            ],
        )
    };
    // quickstart's batch of 10 does not split over 3 devices.
    common::assert_one_line_error(&train("cpu,cpu,cpu"), &["training.batch_size", "multiple"]);
    common::assert_one_line_error(&train("cpu"), &["training.devices", "two or more"]);
    common::assert_one_line_error(&train("cpu,tpu"), &["training.devices", "tpu"]);
    assert!(!run.exists(), "a refused run wrote its directory");
}

#[test]
fn a_two_device_run_resumed_after_an_epoch_matches_one_never_interrupted() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let train = |run: &Path, epochs: &str, resume: bool| {
        let mut args = vec!["train", "configs/lecture_1d_logistic.toml", "--no-plots"];
        for assignment in [
            "data.n=400",
            "training.batch_size=40",
            "optimizer.learning_rate=1.0",
            epochs,
        ] {
            args.extend(["--set", assignment]);
        }
        args.extend(["--devices", "cpu,cpu", "--run-dir", run.to_str().unwrap()]);
        if resume {
            args.push("--resume");
        }
        let output = common::run_sgdlab(root, &args);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let (straight, resumed) = (dir.path().join("straight"), dir.path().join("resumed"));
    train(&straight, "training.epochs=3", false);
    train(&resumed, "training.epochs=1", false);
    train(&resumed, "training.epochs=3", true);
    // Every cell but the wall time: two devices' gradients are summed in either order to the
    // same bits, so the resumed run is bit-identical.
    let without_time = |path: PathBuf| -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|line| line.rsplit_once(',').unwrap().0.to_string())
            .collect()
    };
    assert_eq!(
        without_time(straight.join("metrics.csv")),
        without_time(resumed.join("metrics.csv"))
    );
    assert_eq!(
        common::steps_csv(&straight),
        common::steps_csv(&resumed),
        "steps.csv"
    );
}
