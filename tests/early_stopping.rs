//! Early stopping: the run stops after `early_stopping_patience` epochs without improvement,
//! says where and records it, `--checkpoint best` is its best epoch, a resumed run counts
//! patience as an uninterrupted one does, and an early-stopped run can be continued.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::run_sgdlab as sgdlab;
use sgdlab::config::Config;
use sgdlab::run_dir::{RunDir, read_metrics_csv};
use sgdlab::train::CheckpointChoice;
use sgdlab::train::checkpoint::choose_checkpoint;

const PATIENCE: usize = 3;

fn quickstart(epochs: usize) -> Config {
    common::load(
        "quickstart",
        &[
            &format!("training.epochs={epochs}"),
            &format!("training.early_stopping_patience={PATIENCE}"),
        ],
    )
}

fn valid_losses(run: &Path) -> BTreeMap<usize, f64> {
    read_metrics_csv(&run.join("metrics.csv"))
        .unwrap()
        .into_iter()
        .map(|(epoch, row)| (epoch, row["valid_loss"]))
        .collect()
}

/// Where patience `PATIENCE` stops `losses` (from `from` on, counting afresh), and the best
/// epoch so far: recomputed here from the rows, as the rule is written in the docs.
fn stop_of(losses: &BTreeMap<usize, f64>, from: usize) -> Option<(usize, usize)> {
    let mut best: Option<(usize, f64)> = None;
    let mut stale = 0;
    for (&epoch, &loss) in losses {
        if best.is_none_or(|(_, b)| loss < b) {
            best = Some((epoch, loss));
            stale = 0;
        } else {
            stale += 1;
        }
        if epoch == from {
            stale = 0;
        }
        if epoch > from && stale >= PATIENCE {
            return Some((epoch, best.unwrap().0));
        }
    }
    None
}

fn sessions(run: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(run.join("run.json")).unwrap();
    let info: serde_json::Value = serde_json::from_str(&text).unwrap();
    info["sessions"].as_array().unwrap().clone()
}

#[test]
fn the_run_stops_after_patience_says_so_and_best_is_its_best_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let args: Vec<String> = [
        "train",
        common::config_path("quickstart").to_str().unwrap(),
        "--run-dir",
        run.to_str().unwrap(),
        "--no-plots",
        "--set",
        "training.epochs=100",
        "--set",
        &format!("training.early_stopping_patience={PATIENCE}"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = sgdlab(dir.path(), &args);
    assert!(output.status.success(), "{output:?}");
    let losses = valid_losses(&run);
    let (stopped, best) = stop_of(&losses, 0).expect("the quickstart stops early");
    assert!(stopped < 100);
    assert_eq!(
        *losses.keys().last().unwrap(),
        stopped,
        "no epoch after the stop"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!(
            "early stopping: stopped after epoch {stopped}, best epoch {best} (valid_loss = "
        )),
        "{stdout}"
    );
    assert!(stdout.contains("--checkpoint best"), "{stdout}");

    let session = &sessions(&run)[0];
    assert_eq!(session["outcome"], "early_stopped");
    assert_eq!(session["last_epoch"], stopped);
    assert_eq!(session["early_stopping"]["best_epoch"], best);
    assert_eq!(session["early_stopping"]["stopped_epoch"], stopped);
    assert_eq!(session["early_stopping"]["metric"], "valid_loss");
    assert_eq!(session["early_stopping"]["best_value"], losses[&best]);
    let run = RunDir::new(&run);
    assert_eq!(
        choose_checkpoint(&run, CheckpointChoice::Best).unwrap(),
        best
    );
}

#[test]
fn a_resumed_run_counts_patience_as_an_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    let straight = dir.path().join("straight");
    let result = common::train_into(quickstart(100), &straight);
    let stop = result.early_stop.expect("stops early");
    // Stopped short, then resumed: the epochs the first session ran count towards patience.
    let resumed = dir.path().join("resumed");
    let first = common::train_into(quickstart(stop.stopped_epoch - 2), &resumed);
    assert!(first.early_stop.is_none());
    let second = common::resume(quickstart(100), &resumed);
    assert_eq!(second.early_stop, result.early_stop);
    assert_eq!(valid_losses(&resumed), valid_losses(&straight));

    // Killed after the stopping epoch's checkpoint, before run.json said so: resuming has
    // nothing left to train and ends the run as the uninterrupted one ended.
    let killed = dir.path().join("killed");
    common::train_into(quickstart(100), &killed);
    let run_json = killed.join("run.json");
    let text = std::fs::read_to_string(&run_json).unwrap();
    std::fs::write(&run_json, text.replace("\"early_stopped\"", "\"running\"")).unwrap();
    let again = common::resume(quickstart(100), &killed);
    assert_eq!(again.early_stop, result.early_stop);
    assert_eq!(again.epochs, stop.stopped_epoch);
    assert_eq!(valid_losses(&killed), valid_losses(&straight));
    assert_eq!(
        sessions(&killed).last().unwrap()["outcome"],
        "early_stopped"
    );
}

#[test]
fn an_early_stopped_run_resumed_continues_with_a_fresh_patience() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let stop = common::train_into(quickstart(100), &run)
        .early_stop
        .unwrap();
    let continued = common::resume(quickstart(200), &run);
    let losses = valid_losses(&run);
    let expected = stop_of(&losses, stop.stopped_epoch);
    let again = continued.early_stop.expect("stops again");
    assert_eq!(Some((again.stopped_epoch, again.best_epoch)), expected);
    assert!(again.stopped_epoch >= stop.stopped_epoch + PATIENCE);
    let sessions = sessions(&run);
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions[1]["resumed_after_epoch"], stop.stopped_epoch);
    assert_eq!(sessions[1]["outcome"], "early_stopped");
}

#[test]
fn min_delta_accuracy_and_the_line_search_loop() {
    let dir = tempfile::tempdir().unwrap();
    // δ: improvements of less than 0.01 do not count, so the quickstart stops sooner.
    let config = common::load(
        "quickstart",
        &[
            "training.epochs=100",
            "training.early_stopping_patience=2",
            "training.early_stopping_min_delta=0.01",
        ],
    );
    let stop = common::train_into(config, &dir.path().join("delta"))
        .early_stop
        .unwrap();
    let losses = valid_losses(&dir.path().join("delta"));
    let mut best = f64::INFINITY;
    let mut stale = 0;
    let expected = losses
        .iter()
        .find(|&(_, &loss)| {
            stale = if loss < best - 0.01 { 0 } else { stale + 1 };
            best = best.min(loss);
            stale >= 2
        })
        .map(|(&epoch, _)| epoch);
    assert_eq!(Some(stop.stopped_epoch), expected);
    let best_epoch = losses
        .iter()
        .min_by(|a, b| a.1.total_cmp(b.1))
        .map(|(&e, _)| e);
    assert_eq!(Some(stop.best_epoch), best_epoch);

    // Accuracy: higher is better, and `--checkpoint best` ranks by it.
    let config = common::load(
        "quickstart",
        &[
            "training.epochs=100",
            "training.early_stopping_patience=4",
            "training.early_stopping_metric=\"valid_accuracy\"",
        ],
    );
    let run = dir.path().join("accuracy");
    let stop = common::train_into(config, &run).early_stop.unwrap();
    let rows = read_metrics_csv(&run.join("metrics.csv")).unwrap();
    let top = rows
        .values()
        .map(|row| row["valid_accuracy"])
        .fold(f64::MIN, f64::max);
    let first_top = rows
        .iter()
        .find(|(_, row)| row["valid_accuracy"] == top)
        .map(|(&e, _)| e);
    assert_eq!(Some(stop.best_epoch), first_top);
    let best = choose_checkpoint(&RunDir::new(&run), CheckpointChoice::Best).unwrap();
    assert_eq!(best, stop.best_epoch);

    // The full-batch line-search loop stops by the same rule.
    let config = common::load(
        "lecture_1d_gd_armijo",
        &[
            "data.n=2000",
            "data.validation_fraction=0.2",
            "training.target_suboptimality=1e-12",
            "training.early_stopping_patience=2",
            "training.early_stopping_min_delta=1e-4",
        ],
    );
    let run = dir.path().join("line-search");
    let stop = common::train_into(config, &run).early_stop.unwrap();
    assert!(stop.stopped_epoch < 500);
    assert_eq!(
        *valid_losses(&run).keys().last().unwrap(),
        stop.stopped_epoch
    );
}

#[test]
fn early_stopping_keys_are_checked() {
    let error = |overrides: &[&str]| {
        let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
        Config::load(&common::config_path("quickstart"), &overrides)
            .unwrap_err()
            .to_string()
    };
    let message = error(&[
        "training.early_stopping_patience=3",
        "data.validation_fraction=0",
    ]);
    assert!(
        message.contains("training.early_stopping_patience")
            && message.contains("data.validation_fraction = 0"),
        "{message}"
    );
    let message = error(&["training.early_stopping_patience=0"]);
    assert!(message.contains("must be ≥ 1"), "{message}");
    let message = error(&["training.early_stopping_min_delta=0.1"]);
    assert!(
        message.contains("training.early_stopping_min_delta: has no effect without training.early_stopping_patience"),
        "{message}"
    );
    let message = error(&[
        "training.early_stopping_patience=3",
        "training.early_stopping_min_delta=-1",
    ]);
    assert!(message.contains("early_stopping_min_delta"), "{message}");
    let message = error(&[
        "training.early_stopping_patience=3",
        "training.early_stopping_metric=valid_f1",
    ]);
    assert!(
        message.contains("training.early_stopping_metric"),
        "{message}"
    );
    let message = Config::load(
        &common::config_path("linear_regression_tikhonov"),
        &[
            "training.early_stopping_patience=3".into(),
            "training.early_stopping_metric=valid_accuracy".into(),
        ],
    )
    .unwrap_err()
    .to_string();
    assert!(message.contains("needs a classifier"), "{message}");
}
