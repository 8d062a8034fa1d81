//! `train.log` holds burn-train's log lines of its own run, whatever else the process
//! trained before or after, and no line per optimizer step.
//!
//! One test in a binary of its own: the log goes to the run launched last in the process, so
//! runs trained concurrently by other tests of the same binary would interleave.

mod common;

use std::path::Path;

/// The epochs whose training the run's log records, in order.
fn logged_training_epochs(run: &Path) -> Vec<usize> {
    let log = std::fs::read_to_string(run.join("train.log")).expect("train.log exists");
    assert!(
        !log.lines().any(|line| line.contains("Iteration")),
        "a per-step line in {}:\n{log}",
        run.display()
    );
    log.lines()
        .filter_map(|line| line.split("Executing training step for epoch ").nth(1))
        .map(|epoch| epoch.trim().parse().expect("an epoch number"))
        .collect()
}

#[test]
fn each_run_logs_its_own_epochs_and_no_line_per_step() {
    let dir = tempfile::tempdir().unwrap();
    let config = |epochs: &str| common::load("quickstart", &[epochs]);
    let (first, second) = (dir.path().join("first"), dir.path().join("second"));

    common::train_into(config("training.epochs=2"), &first);
    common::train_into(config("training.epochs=3"), &second);
    assert_eq!(logged_training_epochs(&first), [1, 2]);
    assert_eq!(logged_training_epochs(&second), [1, 2, 3]);
    // 40 steps an epoch, each in steps.csv though none in the log.
    assert_eq!(common::steps_csv(&second).len(), 120);

    // A resumed run appends its new epochs to its own log, and the other run's is untouched.
    common::resume(config("training.epochs=4"), &first);
    assert_eq!(logged_training_epochs(&first), [1, 2, 3, 4]);
    assert_eq!(logged_training_epochs(&second), [1, 2, 3]);
}
