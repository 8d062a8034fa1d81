//! Bad input at `eval`, `train --resume` and `train --dry-run`, through the binary: broken
//! checkpoints and run dirs, bad data files, run names that would leave `artifacts/`. Each is
//! one line naming the file at fault and a non-zero exit, never a panic, and nothing a user
//! had is changed.

mod common;

use std::path::Path;

use common::{assert_one_line_error, run_sgdlab as sgdlab};

/// Trains `run` in `dir`: quickstart for two epochs, plus `overrides`.
fn train_tiny(dir: &Path, run: &str, overrides: &[&str]) {
    let config = common::config_path("quickstart");
    let mut args = vec![
        "train",
        config.to_str().unwrap(),
        "--run-dir",
        run,
        "--set",
        "training.epochs=2",
    ];
    for o in overrides {
        args.extend(["--set", o]);
    }
    let output = sgdlab(dir, &args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `eval RUN` and `train RUN/config.toml --resume` (and its dry run) fail with one line
/// containing every fragment, and leave the run as it was.
fn assert_refused(dir: &Path, run: &str, fragments: &[&str]) {
    let before = common::snapshot(&dir.join(run));
    assert_one_line_error(&sgdlab(dir, &["eval", run]), fragments);
    // The run's own config if it has one, else the one it was trained with.
    let own = format!("{run}/config.toml");
    let config = if dir.join(&own).exists() {
        own
    } else {
        common::config_path("quickstart").display().to_string()
    };
    let resume = [
        "train",
        config.as_str(),
        "--run-dir",
        run,
        "--resume",
        "--set",
        "training.epochs=3",
    ];
    assert_one_line_error(&sgdlab(dir, &resume), fragments);
    let mut dry = resume.to_vec();
    dry.push("--dry-run");
    assert_one_line_error(&sgdlab(dir, &dry), fragments);
    assert!(
        common::snapshot(&dir.join(run)) == before,
        "{run}: a refused command changed the run"
    );
}

#[test]
fn broken_checkpoints_and_run_dirs_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    train_tiny(d, "good", &[]);
    let model = std::fs::read(d.join("good/checkpoint/model-2.bpk")).unwrap();

    common::copy_dir(&d.join("good"), &d.join("garbage"));
    std::fs::write(
        d.join("garbage/checkpoint/model-2.bpk"),
        b"not a checkpoint",
    )
    .unwrap();
    assert_refused(
        d,
        "garbage",
        &["garbage/checkpoint/model-2.bpk", "cannot load"],
    );

    common::copy_dir(&d.join("good"), &d.join("half"));
    std::fs::write(
        d.join("half/checkpoint/model-2.bpk"),
        &model[..model.len() / 2],
    )
    .unwrap();
    assert_refused(d, "half", &["half/checkpoint/model-2.bpk", "truncated"]);

    common::copy_dir(&d.join("good"), &d.join("empty"));
    std::fs::write(d.join("empty/checkpoint/model-2.bpk"), b"").unwrap();
    assert_refused(d, "empty", &["empty/checkpoint/model-2.bpk"]);

    common::copy_dir(&d.join("good"), &d.join("no_checkpoints"));
    std::fs::remove_dir_all(d.join("no_checkpoints/checkpoint")).unwrap();
    assert_refused(d, "no_checkpoints", &["no_checkpoints", "checkpoint"]);

    common::copy_dir(&d.join("good"), &d.join("no_config"));
    std::fs::remove_file(d.join("no_config/config.toml")).unwrap();
    assert_refused(d, "no_config", &["no_config", "not a run directory"]);

    common::copy_dir(&d.join("good"), &d.join("bad_config"));
    std::fs::write(d.join("bad_config/config.toml"), "[data\n").unwrap();
    assert_one_line_error(
        &sgdlab(d, &["eval", "bad_config"]),
        &["bad_config/config.toml:1:"],
    );

    // The optimizer and scheduler state matter to --resume only.
    common::copy_dir(&d.join("good"), &d.join("bad_optim"));
    std::fs::write(d.join("bad_optim/checkpoint/optim-2.bpk"), b"\0\0\0\0").unwrap();
    let output = sgdlab(
        d,
        &[
            "train",
            "bad_optim/config.toml",
            "--run-dir",
            "bad_optim",
            "--resume",
            "--set",
            "training.epochs=3",
        ],
    );
    assert_one_line_error(&output, &["bad_optim/checkpoint/optim-2.bpk"]);
    common::copy_dir(&d.join("good"), &d.join("bad_scheduler"));
    std::fs::write(
        d.join("bad_scheduler/checkpoint/scheduler-2.bpk"),
        &model[..10],
    )
    .unwrap();
    let output = sgdlab(
        d,
        &[
            "train",
            "bad_scheduler/config.toml",
            "--run-dir",
            "bad_scheduler",
            "--resume",
            "--set",
            "training.epochs=3",
        ],
    );
    assert_one_line_error(&output, &["bad_scheduler/checkpoint/scheduler-2.bpk"]);

    // The intact run still evaluates.
    assert!(sgdlab(d, &["eval", "good"]).status.success());
    assert!(!d.join("artifacts").exists());
}

#[test]
fn a_config_edited_to_another_model_shape_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    train_tiny(d, "mlp", &["model.kind=mlp", "model.hidden=[4]"]);
    let config = std::fs::read_to_string(d.join("mlp/config.toml")).unwrap();
    assert!(config.contains("hidden = [4]"), "{config}");
    std::fs::write(
        d.join("mlp/config.toml"),
        config.replace("hidden = [4]", "hidden = [8]"),
    )
    .unwrap();
    assert_refused(d, "mlp", &["mlp/checkpoint/model-2.bpk", "does not fit"]);

    std::fs::write(
        d.join("mlp/config.toml"),
        config.replace("kind = \"mlp\"", "kind = \"logistic\""),
    )
    .unwrap();
    assert_refused(d, "mlp", &["mlp/checkpoint/model-2.bpk", "does not fit"]);
}

#[test]
fn dry_run_prints_a_summary_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = common::config_path("digits_mlp");
    let config = config.to_str().unwrap();
    let output = sgdlab(d, &["train", config, "--dry-run"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    for fragment in [
        "nothing written",
        "1257 train, 270 valid, 270 test",
        "64 features; 10 classes",
        "4810 parameters",
        "40 steps of m = 32",
        "artifacts/digits_mlp-",
        "would be created",
    ] {
        assert!(stdout.contains(fragment), "`{fragment}` not in:\n{stdout}");
    }
    let output = sgdlab(d, &["train", config, "--dry-run", "--run-dir", "new/run"]);
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("new/run (would be created)"));

    // Errors are the ones training gives.
    let output = sgdlab(
        d,
        &[
            "train",
            config,
            "--dry-run",
            "--set",
            "model.hidden=[1000000]",
        ],
    );
    assert_one_line_error(&output, &["model.hidden", "65536"]);
    let output = sgdlab(
        d,
        &[
            "train",
            config,
            "--dry-run",
            "--set",
            "data.source=csv",
            "--set",
            "data.path=missing.csv",
            "--set",
            "data.label=y",
        ],
    );
    assert_one_line_error(&output, &["missing.csv", "cannot read"]);
    assert_eq!(std::fs::read_dir(d).unwrap().count(), 0, "a dry run wrote");

    // A dry resume names the checkpoint it would continue from, and changes nothing.
    train_tiny(d, "run", &[]);
    let before = common::snapshot(&d.join("run"));
    let output = sgdlab(
        d,
        &[
            "train",
            "run/config.toml",
            "--run-dir",
            "run",
            "--resume",
            "--set",
            "training.epochs=5",
            "--dry-run",
        ],
    );
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("would resume after epoch 2"));
    assert!(common::snapshot(&d.join("run")) == before);
}

#[test]
fn bad_data_files_are_named_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "one_class.csv",
            "a,y\n1,0\n2,0\n3,0\n",
            &["one_class.csv", "one class"],
        ),
        ("header.csv", "a,y\n", &["header.csv:1", "no data rows"]),
        ("empty.csv", "", &["empty.csv:1", "empty file"]),
        (
            "ragged.csv",
            "a,y\n1,0\n2\n",
            &["ragged.csv:3", "expected 2 fields"],
        ),
        ("nan.csv", "a,y\n1,0\nNaN,1\n", &["nan.csv:3", "NaN"]),
        ("dup.csv", "a,a,y\n1,2,0\n", &["dup.csv:1", "duplicate"]),
        (
            "huge_label.csv",
            "a,y\n1,0\n2,99999\n",
            &["huge_label.csv:3", "99999"],
        ),
    ];
    for (name, text, fragments) in cases {
        std::fs::write(d.join(name), text).unwrap();
        let path = format!("data.path={name}");
        let output = sgdlab(
            d,
            &[
                "train",
                common::config_path("quickstart").to_str().unwrap(),
                "--dry-run",
                "--set",
                "data.source=csv",
                "--set",
                &path,
                "--set",
                "data.label=y",
                "--set",
                "model.kind=softmax",
            ],
        );
        assert_one_line_error(&output, fragments);
    }

    // MNIST: a .gz that is not gzip, and counts that disagree.
    let mnist = d.join("mnist");
    std::fs::create_dir(&mnist).unwrap();
    sgdlab::data::idx::write_idx(
        &mnist.join("train-images-idx3-ubyte"),
        &[2, 28, 28],
        &[0; 2 * 784],
        false,
    )
    .unwrap();
    std::fs::write(mnist.join("train-labels-idx1-ubyte.gz"), b"404 not found").unwrap();
    let mnist_config = common::config_path("mnist_mlp");
    let args = [
        "train",
        mnist_config.to_str().unwrap(),
        "--dry-run",
        "--set",
        "data.path=mnist",
    ];
    assert_one_line_error(
        &sgdlab(d, &args),
        &["train-labels-idx1-ubyte.gz", "not gzip"],
    );
    std::fs::remove_file(mnist.join("train-labels-idx1-ubyte.gz")).unwrap();
    sgdlab::data::idx::write_idx(
        &mnist.join("train-labels-idx1-ubyte"),
        &[3],
        &[0, 1, 2],
        false,
    )
    .unwrap();
    assert_one_line_error(&sgdlab(d, &args), &["has 2 images", "has 3 labels"]);
    assert!(!d.join("artifacts").exists());
}

#[test]
fn run_names_cannot_leave_artifacts_but_run_dir_goes_anywhere() {
    use sgdlab::train::{Progress, TrainRequest, dry_run, train};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let artifacts = d.join("inner/artifacts");
    for name in ["../escape", "/tmp/escape", "..", "a/b", ""] {
        let request = TrainRequest {
            config: common::load("quickstart", &["training.epochs=1"]),
            name: name.into(),
            run_dir: None,
            resume: false,
            artifacts: artifacts.clone(),
            progress: Progress::Quiet,
        };
        let message = dry_run(&request).unwrap_err().to_string();
        assert!(message.contains("not a plain name"), "{message}");
        let message = train(request).unwrap_err().to_string();
        assert!(message.contains("not a plain name"), "{message}");
    }
    assert_eq!(std::fs::read_dir(d).unwrap().count(), 0);

    // A config file's stem is always a plain name; --run-dir is the user's explicit choice.
    std::fs::create_dir(d.join("work")).unwrap();
    let config = common::config_path("quickstart");
    let output = sgdlab(
        &d.join("work"),
        &[
            "train",
            config.to_str().unwrap(),
            "--set",
            "training.epochs=1",
            "--run-dir",
            "../outside",
        ],
    );
    assert!(output.status.success());
    assert!(d.join("outside/checkpoint/model-1.bpk").exists());
}
