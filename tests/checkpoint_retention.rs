//! `keep_checkpoints = N`: the last N epochs' checkpoints and the best one stay on disk,
//! `--checkpoint best` and `last` evaluate, `--resume` continues, and a run killed with
//! SIGKILL at any moment still resumes to the uninterrupted run's result.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{assert_one_line_error, run_sgdlab as sgdlab};
use sgdlab::eval::{SplitChoice, evaluate_run};
use sgdlab::run_dir::{RunDir, read_metrics_csv};
use sgdlab::train::CheckpointChoice;

const EPOCHS: usize = 60;
const KEEP: usize = 3;

/// A tiny run: the lecture's 1-D logistic problem, 300 examples, 3 steps an epoch.
fn tiny_overrides(epochs: usize) -> Vec<String> {
    [
        "data.n=300",
        "data.validation_fraction=0.2",
        "training.batch_size=80",
        "optimizer.learning_rate=2.0",
        &format!("training.epochs={epochs}"),
        &format!("training.keep_checkpoints={KEEP}"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn tiny(epochs: usize) -> sgdlab::config::Config {
    let overrides = tiny_overrides(epochs);
    let overrides: Vec<&str> = overrides.iter().map(String::as_str).collect();
    common::load("lecture_1d_logistic", &overrides)
}

/// The files of `checkpoint/`.
fn checkpoint_files(run: &Path) -> BTreeSet<String> {
    std::fs::read_dir(run.join("checkpoint"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect()
}

/// The files the last `keep` epochs up to `last` and the lowest validation loss's leave, of
/// checkpoints made of `parts`; and the best epoch.
fn expected_files(
    run: &Path,
    last: usize,
    keep: usize,
    parts: &[&str],
) -> (BTreeSet<String>, usize) {
    let rows = read_metrics_csv(&run.join("metrics.csv")).unwrap();
    let best = rows
        .iter()
        .filter(|&(&epoch, _)| epoch <= last)
        .min_by(|a, b| a.1["valid_loss"].total_cmp(&b.1["valid_loss"]))
        .map(|(&epoch, _)| epoch)
        .unwrap();
    let epochs: BTreeSet<usize> = (last + 1 - keep..=last).chain([best]).collect();
    let files = epochs
        .iter()
        .flat_map(|e| parts.iter().map(move |part| format!("{part}-{e}.bpk")))
        .collect();
    (files, best)
}

const PARTS: [&str; 3] = ["model", "optim", "scheduler"];

#[test]
fn sixty_epochs_keep_the_last_three_and_the_best() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run");
    common::train_into(tiny(EPOCHS), &path);
    let (expected, best) = expected_files(&path, EPOCHS, KEEP, &PARTS);
    assert!(
        best < EPOCHS - KEEP,
        "the best epoch {best} is among the last"
    );
    assert_eq!(checkpoint_files(&path), expected);

    let run = RunDir::new(&path);
    let last = evaluate_run(&run, CheckpointChoice::Last, Some(SplitChoice::Valid), None).unwrap();
    assert_eq!(last.checkpoint_epoch, EPOCHS);
    let rows = read_metrics_csv(&run.metrics_path()).unwrap();
    assert_eq!(last.metrics.loss, rows[&EPOCHS]["valid_loss"]);
    let best_report =
        evaluate_run(&run, CheckpointChoice::Best, Some(SplitChoice::Valid), None).unwrap();
    assert_eq!(best_report.checkpoint_epoch, best);
    assert_eq!(best_report.metrics.loss, rows[&best]["valid_loss"]);
    let gone = sgdlab(
        dir.path(),
        &["eval", path.to_str().unwrap(), "--checkpoint", "30"],
    );
    assert_one_line_error(&gone, &["--checkpoint 30: no such checkpoint"]);

    // Resumed: the window moves on, the best stays while it is the best.
    common::resume(tiny(EPOCHS + 5), &path);
    let (expected, _) = expected_files(&path, EPOCHS + 5, KEEP, &PARTS);
    assert_eq!(checkpoint_files(&path), expected);

    // The line-search loop checkpoints the model only, and keeps the same way.
    let config = common::load(
        "lecture_1d_gd_armijo",
        &[
            "data.n=300",
            "data.validation_fraction=0.2",
            "training.epochs=12",
            "training.keep_checkpoints=2",
        ],
    );
    let path = dir.path().join("line-search");
    let last = common::train_into(config, &path).epochs;
    assert!(last > 4, "{last} epochs");
    let (expected, _) = expected_files(&path, last, 2, &["model"]);
    assert_eq!(checkpoint_files(&path), expected);
}

/// What must agree between two runs: metrics.csv without its time column, steps.csv, the
/// checkpoint files and the last model's parameters.
fn outcome(run: &Path) -> (String, String, BTreeSet<String>, Vec<u32>) {
    let metrics = std::fs::read_to_string(run.join("metrics.csv"))
        .unwrap()
        .lines()
        .map(|line| line.rsplit_once(',').unwrap().0.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    let steps = std::fs::read_to_string(run.join("steps.csv")).unwrap();
    let dir = RunDir::new(run);
    let config = dir.load_config().unwrap();
    let device = sgdlab::device::resolve("cpu").unwrap();
    let problem = sgdlab::model::Problem {
        dim: 1,
        classes: Some(2),
    };
    let model = sgdlab::train::load_model(&dir, EPOCHS, &config.model, problem, &device).unwrap();
    let parameters = sgdlab::train::trace::flat_parameters(&model)
        .into_iter()
        .map(f32::to_bits)
        .collect();
    (metrics, steps, checkpoint_files(run), parameters)
}

fn train_args(run: &Path) -> Vec<String> {
    let mut args = vec![
        "train".to_string(),
        common::config_path("lecture_1d_logistic")
            .to_str()
            .unwrap()
            .into(),
        "--run-dir".into(),
        run.to_str().unwrap().into(),
        "--no-plots".into(),
    ];
    for set in tiny_overrides(EPOCHS) {
        args.push("--set".into());
        args.push(set);
    }
    args
}

/// The highest epoch with a model checkpoint on disk.
fn newest_checkpoint(run: &Path) -> usize {
    std::fs::read_dir(run.join("checkpoint"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_prefix("model-")?
                .strip_suffix(".bpk")?
                .parse()
                .ok()
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn a_sigkill_at_any_moment_leaves_a_resumable_run() {
    let dir = tempfile::tempdir().unwrap();
    let straight = dir.path().join("straight");
    let args = train_args(&straight);
    let output = sgdlab(
        dir.path(),
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert!(output.status.success(), "{output:?}");
    let expected = outcome(&straight);

    // Killed once epoch k's checkpoint appears, and a few milliseconds later: while a
    // checkpoint is written, while older ones are deleted, or between epochs.
    for (attempt, kill_after) in [2usize, 9, 21, 34, 47, 58].into_iter().enumerate() {
        let run = dir.path().join(format!("killed-{attempt}"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_sgdlab"))
            .args(train_args(&run))
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while newest_checkpoint(&run) < kill_after && started.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_micros(200));
        }
        std::thread::sleep(Duration::from_millis(attempt as u64 % 3));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();

        let mut args = train_args(&run);
        args.push("--resume".into());
        let resumed = sgdlab(
            dir.path(),
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        let (metrics, steps, files, parameters) = outcome(&run);
        assert!(
            (&metrics, &steps, &parameters) == (&expected.0, &expected.1, &expected.3),
            "killed after checkpoint {kill_after}: the resumed run differs from the straight one"
        );
        if resumed.status.success() {
            assert_eq!(files, expected.2, "killed after checkpoint {kill_after}");
        } else {
            // Killed after the last epoch, before the final clean-up: nothing to resume, and
            // what is kept is there.
            let stderr = String::from_utf8_lossy(&resumed.stderr);
            assert!(stderr.contains("already trained 60 of 60"), "{stderr}");
            assert!(
                files.is_superset(&expected.2),
                "killed after checkpoint {kill_after}"
            );
        }
    }
}

#[test]
fn keep_checkpoints_is_all_or_a_count() {
    let load = |value: &str| {
        sgdlab::config::Config::load(
            &common::config_path("quickstart"),
            &[format!("training.keep_checkpoints={value}")],
        )
    };
    for bad in ["0", "-2", "\"some\"", "2.5"] {
        let message = load(bad).unwrap_err().to_string();
        assert!(
            message.contains("training.keep_checkpoints")
                && message.contains("\"all\" or the number of recent checkpoints to keep"),
            "{bad}: {message}"
        );
    }
    let all = load("\"all\"").unwrap();
    assert!(
        !all.to_toml().contains("keep_checkpoints"),
        "the default stays implicit"
    );
    let three = load("3").unwrap();
    assert!(three.to_toml().contains("keep_checkpoints = 3"));
    let back = sgdlab::config::Config::from_toml(&three.to_toml(), "resolved", &[]).unwrap();
    assert_eq!(back, three);
}
