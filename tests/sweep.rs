//! `sgdlab sweep` and `sgdlab runs`: every row of the table is what the single `train` of its
//! combination gives, a diverging α is recorded and the sweep goes on, `--jobs 2` gives the
//! same numbers as `--jobs 1`, an interrupted sweep resumes, bad grids are refused before any
//! run starts, and `runs` lists run dirs and skips the rest with a note.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{assert_one_line_error, config_path, load, run_sgdlab, train_into};
use sgdlab::ErrorKind;
use sgdlab::eval::{SplitChoice, evaluate_run};
use sgdlab::run_dir::{EpochRow, RunDir, read_metrics_csv};
use sgdlab::train::{CheckpointChoice, Progress, TrainRequest, train};

fn quickstart() -> String {
    config_path("quickstart").to_str().unwrap().to_string()
}

/// A CSV line's fields, `"..."` quoting (with `""` inside) undone.
fn csv_fields(line: &str) -> Vec<String> {
    let (mut fields, mut field, mut quoted, mut chars) =
        (Vec::new(), String::new(), false, line.chars().peekable());
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            c => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// `sweep.csv` as rows keyed by combination, each a map from column to cell.
fn sweep_csv(dir: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let text = std::fs::read_to_string(dir.join("sweep.csv")).unwrap();
    let mut lines = text.lines();
    let header = csv_fields(lines.next().unwrap());
    lines
        .map(|line| {
            let row: BTreeMap<String, String> =
                header.iter().cloned().zip(csv_fields(line)).collect();
            (row["combination"].clone(), row)
        })
        .collect()
}

/// `metrics.csv` without the wall-clock column, which no two runs share.
fn metrics_without_time(run: &Path) -> BTreeMap<usize, EpochRow> {
    let mut rows = read_metrics_csv(&run.join("metrics.csv")).unwrap();
    for row in rows.values_mut() {
        row.remove("elapsed_seconds");
    }
    rows
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

fn number(cell: &str) -> f64 {
    cell.parse()
        .unwrap_or_else(|_| panic!("not a number: {cell:?}"))
}

const GRID_ALPHA: &str = "optimizer.learning_rate=0.1,1e6";
const GRID_M: &str = "training.batch_size=10,50";

fn sweep(cwd: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let out = out.to_str().unwrap().to_string();
    let quickstart = quickstart();
    let mut args = vec![
        "sweep",
        quickstart.as_str(),
        "--set",
        "training.epochs=2",
        "--grid",
        GRID_ALPHA,
        "--grid",
        GRID_M,
        "--seeds",
        "2",
        "--out",
        out.as_str(),
    ];
    args.extend_from_slice(extra);
    run_sgdlab(cwd, &args)
}

#[test]
fn every_row_is_what_the_single_trainings_of_its_combination_give() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    let output = sweep(dir.path(), &out, &["--json"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");

    // 2 × 2 combinations × 2 seeds, each a run dir named by its overrides.
    let names: Vec<String> = [("0.1", "10"), ("0.1", "50"), ("1e6", "10"), ("1e6", "50")]
        .iter()
        .flat_map(|(alpha, m)| {
            [42, 43].map(|seed| {
                format!(
                    "optimizer.learning_rate={alpha},training.batch_size={m},training.seed={seed}"
                )
            })
        })
        .collect();
    for name in &names {
        assert!(out.join(name).join("config.toml").exists(), "{name}");
    }

    // Each combination trained on its own, by the library's `train`, seed by seed.
    let rows = sweep_csv(&out);
    assert_eq!(rows.len(), 4);
    let singles = dir.path().join("singles");
    std::fs::create_dir(&singles).unwrap();
    let mut best: Option<(f64, String)> = None;
    for (alpha, m) in [("0.1", "10"), ("0.1", "50")] {
        let combination = format!("optimizer.learning_rate={alpha},training.batch_size={m}");
        let row = &rows[&combination];
        let (mut final_loss, mut best_loss, mut train_loss, mut test_loss, mut steps) =
            (vec![], vec![], vec![], vec![], vec![]);
        for seed in [42, 43] {
            let config = load(
                "quickstart",
                &[
                    "training.epochs=2",
                    &format!("optimizer.learning_rate={alpha}"),
                    &format!("training.batch_size={m}"),
                    &format!("training.seed={seed}"),
                ],
            );
            let single = singles.join(format!("{alpha}-{m}-{seed}"));
            train_into(config, &single);
            let metrics = read_metrics_csv(&single.join("metrics.csv")).unwrap();
            let last = metrics.values().next_back().unwrap();
            final_loss.push(last["valid_loss"]);
            best_loss.push(
                metrics
                    .values()
                    .map(|r| r["valid_loss"])
                    .fold(f64::INFINITY, f64::min),
            );
            train_loss.push(last["train_loss"]);
            steps.push(common::steps_csv(&single).len() as f64);
            let report = evaluate_run(
                &RunDir::new(&single),
                CheckpointChoice::Last,
                Some(SplitChoice::Test),
                None,
            )
            .unwrap();
            test_loss.push(report.metrics.loss);
            // The sweep's own run is that run, bit for bit.
            let swept = out.join(format!("{combination},training.seed={seed}"));
            assert_eq!(metrics_without_time(&swept), metrics_without_time(&single));
            assert_eq!(common::steps_csv(&swept), common::steps_csv(&single));
        }
        assert_eq!(row["outcome"], "finished");
        assert_eq!(
            (row["finished"].as_str(), row["diverged"].as_str()),
            ("2", "0")
        );
        assert_eq!(number(&row["valid_loss_final_mean"]), mean(&final_loss));
        assert_eq!(number(&row["valid_loss_best_mean"]), mean(&best_loss));
        assert_eq!(number(&row["train_loss_final_mean"]), mean(&train_loss));
        assert_eq!(number(&row["test_loss_mean"]), mean(&test_loss));
        assert_eq!(number(&row["steps_mean"]), mean(&steps));
        let spread = (final_loss[0] - final_loss[1]).abs() / 2f64.sqrt();
        assert!((number(&row["valid_loss_final_std"]) - spread).abs() < 1e-15);
        let value = mean(&final_loss);
        if best.as_ref().is_none_or(|(b, _)| value < *b) {
            best = Some((value, combination.clone()));
        }
    }

    // α = 10⁶ diverges at the step a single train reports; the sweep went on past it.
    let single = singles.join("diverged");
    let diverged = train(TrainRequest {
        config: load(
            "quickstart",
            &[
                "training.epochs=2",
                "optimizer.learning_rate=1e6",
                "training.batch_size=10",
            ],
        ),
        name: "test".into(),
        run_dir: Some(single.clone()),
        resume: false,
        artifacts: singles.clone(),
        progress: Progress::Quiet,
    })
    .unwrap_err();
    assert_eq!(diverged.kind(), ErrorKind::Diverged);
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(single.join("run.json")).unwrap()).unwrap();
    let step = info["sessions"][0]["divergence"]["step"].as_u64().unwrap();
    for m in ["10", "50"] {
        let row = &rows[&format!("optimizer.learning_rate=1e6,training.batch_size={m}")];
        assert_eq!(row["outcome"], "diverged");
        assert_eq!(row["diverged"], "2");
        assert_eq!(row["valid_loss_final_mean"], "");
        if m == "10" {
            assert_eq!(row["divergence_steps"], format!("{step};{step}"));
        }
    }

    // The best combination is printed, and the JSON document says the same.
    let (_, best) = best.unwrap();
    assert!(
        stderr.contains(&format!(
            "best by valid_loss_final (mean over 2 seeds): {best} ="
        )),
        "{stderr}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("one JSON document");
    let keys = |value: &serde_json::Value| {
        let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(
        keys(&json),
        [
            "best",
            "combinations",
            "config",
            "files",
            "grids",
            "out",
            "seeds"
        ]
    );
    assert_eq!(
        keys(&json["combinations"][0]),
        [
            "diverged",
            "finished",
            "metrics",
            "name",
            "outcome",
            "overrides",
            "runs"
        ]
    );
    assert_eq!(keys(&json["best"]), ["by", "index", "mean", "name", "std"]);
    assert_eq!(json["best"]["name"], best.as_str());
    assert_eq!(json["combinations"].as_array().unwrap().len(), 4);
    let first = &json["combinations"][0];
    assert_eq!(first["overrides"]["optimizer.learning_rate"], "0.1");
    assert_eq!(
        first["metrics"]["valid_loss_final"]["mean"]
            .as_f64()
            .unwrap(),
        number(&rows[first["name"].as_str().unwrap()]["valid_loss_final_mean"])
    );
    assert_eq!(json["combinations"][2]["runs"][0]["divergence_step"], step);

    // The figures across runs: the overlays and the loss against each swept number.
    for figure in [
        "loss-epoch",
        "sweep-optimizer.learning_rate",
        "sweep-training.batch_size",
    ] {
        common::assert_png(&out.join(format!("{figure}.png")), 800, 500);
        assert!(out.join(format!("{figure}.svg")).exists(), "{figure}");
    }
    let markdown = std::fs::read_to_string(out.join("sweep.md")).unwrap();
    assert!(markdown.contains("diverged (steps"), "{markdown}");
    assert!(markdown.contains("![sweep-optimizer.learning_rate.svg]"));

    // Two trainings at once, one core each: the same numbers.
    let parallel = dir.path().join("parallel");
    let output = sweep(dir.path(), &parallel, &["--jobs", "2", "--no-plots"]);
    assert!(output.status.success(), "{output:?}");
    for name in &names[..4] {
        assert_eq!(
            metrics_without_time(&parallel.join(name)),
            metrics_without_time(&out.join(name)),
            "{name}"
        );
        assert_eq!(
            common::steps_csv(&parallel.join(name)),
            common::steps_csv(&out.join(name))
        );
    }
}

/// Marks `run` as a run killed after its last epoch on disk: the config asks for `epochs`,
/// the last session is still `running`.
fn as_if_killed(run: &Path, epochs: usize) {
    let mut config = RunDir::new(run).load_config().unwrap();
    config.training.epochs = epochs;
    std::fs::write(run.join("config.toml"), config.to_toml()).unwrap();
    let path = run.join("run.json");
    let mut info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    info["sessions"][0]["outcome"] = "running".into();
    std::fs::write(&path, info.to_string()).unwrap();
}

fn sessions(run: &Path) -> usize {
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("run.json")).unwrap()).unwrap();
    info["sessions"].as_array().unwrap().len()
}

#[test]
fn the_same_command_resumes_an_interrupted_sweep_and_then_only_rewrites_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    std::fs::create_dir(&out).unwrap();
    let quickstart = quickstart();
    let out_arg = out.to_str().unwrap();
    let args = [
        "sweep",
        quickstart.as_str(),
        "--set",
        "training.epochs=3",
        "--grid",
        "training.batch_size=10,20,50",
        "--out",
        out_arg,
        "--no-plots",
    ];
    let config = |m: &str, epochs: &str| {
        load(
            "quickstart",
            &[
                &format!("training.epochs={epochs}"),
                &format!("training.batch_size={m}"),
                "training.seed=42",
            ],
        )
    };
    // m = 10 was killed after epoch 2 of 3; m = 20 before its first checkpoint.
    let killed = out.join("training.batch_size=10,training.seed=42");
    train_into(config("10", "2"), &killed);
    as_if_killed(&killed, 3);
    let early = out.join("training.batch_size=20,training.seed=42");
    std::fs::create_dir(&early).unwrap();
    std::fs::write(early.join("config.toml"), config("20", "3").to_toml()).unwrap();

    let output = run_sgdlab(dir.path(), &args);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    for line in [
        "[1/3] training.batch_size=10,training.seed=42: resumed, finished",
        "[2/3] training.batch_size=20,training.seed=42: restarted, finished",
        "[3/3] training.batch_size=50,training.seed=42: trained, finished",
    ] {
        assert!(stdout.contains(line), "`{line}` not in {stdout}");
    }
    // The resumed run is the uninterrupted one, bit for bit.
    let whole = dir.path().join("whole");
    train_into(config("10", "3"), &whole);
    assert_eq!(metrics_without_time(&killed), metrics_without_time(&whole));
    assert_eq!(common::steps_csv(&killed), common::steps_csv(&whole));
    assert_eq!(sessions(&killed), 2);

    // Once more: nothing is trained, the table is written again, the same.
    let table = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    std::fs::remove_file(out.join("sweep.csv")).unwrap();
    let output = run_sgdlab(dir.path(), &args);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        stdout.matches(": already done, finished").count(),
        3,
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("sweep.csv")).unwrap(),
        table
    );
    assert_eq!(sessions(&killed), 2);
    assert_eq!(sessions(&early), 1);

    // Raising the epochs continues every run, as `train --resume` does.
    let mut more = args.to_vec();
    more[3] = "training.epochs=4";
    let output = run_sgdlab(dir.path(), &more);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout)
            .matches(": resumed, finished")
            .count(),
        3
    );
    assert_eq!(
        read_metrics_csv(&early.join("metrics.csv")).unwrap().len(),
        4
    );
}

#[test]
fn bad_grids_and_foreign_run_dirs_are_refused_before_any_run_starts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let quickstart = quickstart();
    let refused = |grids: &[&str], fragments: &[&str]| {
        let mut args = vec!["sweep", quickstart.as_str(), "--out", "out"];
        for grid in grids {
            args.extend(["--grid", grid]);
        }
        let output = run_sgdlab(d, &args);
        assert_one_line_error(&output, fragments);
        assert_eq!(output.status.code(), Some(1));
        assert!(!d.join("out").exists(), "{grids:?} created the sweep dir");
    };
    refused(
        &["training.batch_size=10", "optimizer.learning_rate=0.1,-1"],
        &[
            "--grid optimizer.learning_rate=-1",
            "optimizer.learning_rate",
            "positive",
        ],
    );
    refused(
        &["optimizer.lr=0.1"],
        &["--grid optimizer.lr=0.1", "unknown field `lr`"],
    );
    refused(
        &["training.batch_size=10,x"],
        &["--grid training.batch_size=x", "training.batch_size"],
    );
    refused(
        &["model.hidden=[64"],
        &["--grid model.hidden=[64", "not closed"],
    );
    refused(
        &["optimizer.learning_rate=0.1,1e-1"],
        &["1e-1 is given twice"],
    );
    refused(
        &["training.batch_size=10", "training.batch_size=20"],
        &["training.batch_size", "two grids"],
    );
    // A value valid alone, invalid with the others: the combination is named.
    refused(
        &["model.kind=mlp,logistic", "training.suboptimality=\"on\""],
        &[
            "--grid combination model.kind=mlp",
            "training.suboptimality",
        ],
    );
    let output = run_sgdlab(
        d,
        &[
            "sweep",
            &quickstart,
            "--grid",
            "training.batch_size=10",
            "--jobs",
            "0",
        ],
    );
    assert_eq!(output.status.code(), Some(2), "{output:?}");

    // A run dir of another config in the way: refused, and nothing trained.
    let out = d.join("taken");
    let foreign = out.join("training.batch_size=10,training.seed=42");
    std::fs::create_dir_all(&foreign).unwrap();
    let other = load(
        "quickstart",
        &["training.batch_size=10", "optimizer.learning_rate=0.5"],
    );
    std::fs::write(foreign.join("config.toml"), other.to_toml()).unwrap();
    let output = run_sgdlab(
        d,
        &[
            "sweep",
            &quickstart,
            "--grid",
            "training.batch_size=50,10",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_one_line_error(
        &output,
        &[
            "training.batch_size=10,training.seed=42",
            "another config",
            "optimizer.learning_rate",
        ],
    );
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        1,
        "nothing trained"
    );
    // A folder of someone else's files in the way is not removed.
    std::fs::remove_file(foreign.join("config.toml")).unwrap();
    std::fs::write(foreign.join("notes.txt"), "mine").unwrap();
    let output = run_sgdlab(
        d,
        &[
            "sweep",
            &quickstart,
            "--grid",
            "training.batch_size=10",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_one_line_error(&output, &["not a run directory"]);
    assert!(foreign.join("notes.txt").exists());
}

#[test]
fn runs_lists_run_dirs_sorted_and_skips_the_rest_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let artifacts = d.join("artifacts");
    for (name, alpha) in [("a", "0.01"), ("b", "1"), ("c", "0.1")] {
        train_into(
            load(
                "quickstart",
                &[
                    "training.epochs=1",
                    &format!("optimizer.learning_rate={alpha}"),
                ],
            ),
            &artifacts.join(name),
        );
    }
    std::fs::create_dir(artifacts.join("notes")).unwrap();
    std::fs::create_dir(artifacts.join("broken")).unwrap();
    std::fs::write(artifacts.join("broken/config.toml"), "[data\n").unwrap();
    let valid_loss = |name: &str| {
        let rows = read_metrics_csv(&artifacts.join(name).join("metrics.csv")).unwrap();
        rows[&1]["valid_loss"]
    };
    let mut by_loss = ["a", "b", "c"];
    by_loss.sort_by(|x, y| valid_loss(x).total_cmp(&valid_loss(y)));

    // The default folder is the artifacts folder.
    let output = run_sgdlab(d, &["runs", "--sort", "valid_loss", "--json"]);
    assert!(output.status.success(), "{output:?}");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let names: Vec<&str> = json["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|run| run["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, by_loss);
    let run = &json["runs"][0];
    for (key, expected) in [
        ("model", serde_json::json!("logistic")),
        ("optimizer", "sgd".into()),
        ("batch_size", 10.into()),
        ("epochs_trained", 1.into()),
        ("schedule", "constant".into()),
        ("device", "cpu".into()),
        ("outcome", "finished".into()),
        ("steps", 40.into()),
    ] {
        assert_eq!(run[key], expected, "{key}");
    }
    assert_eq!(
        run["last"]["valid_loss"].as_f64().unwrap(),
        valid_loss(by_loss[0])
    );
    let skipped: Vec<&str> = json["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["reason"].as_str().unwrap())
        .collect();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert!(skipped[0].contains("config.toml:1:"), "{skipped:?}");
    assert!(skipped[1].contains("not a run directory"), "{skipped:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("note: skipped"), "{stderr}");

    // The table, by name, reversed; a folder that does not exist is an error.
    let output = run_sgdlab(d, &["runs", "artifacts", "--reverse"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let first_column: Vec<&str> = stdout
        .lines()
        .map(|line| line.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(first_column, ["run", "c", "b", "a"], "{stdout}");
    assert!(stdout.lines().next().unwrap().contains("valid_loss"));
    assert_one_line_error(
        &run_sgdlab(d, &["runs", "nowhere"]),
        &["nowhere", "no such directory"],
    );
}
