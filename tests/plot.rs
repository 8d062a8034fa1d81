//! `sgdlab plot` and the figures `sgdlab train` writes: files, their SVG and PNG contents,
//! overlays, the suboptimality figure, and errors.

mod common;

use std::path::{Path, PathBuf};

use common::{assert_one_line_error, assert_png, load, run_sgdlab, train_into};

/// The figures every quickstart run gives (a classifier with validation, no suboptimality).
const QUICKSTART_FIGURES: [&str; 6] = [
    "loss-epoch",
    "loss-examples",
    "loss-time",
    "accuracy-epoch",
    "batch-loss-step",
    "learning-rate-step",
];
/// The chart's first two palette colours: series 0 (train, or run 0) and 1.
const FIRST_COLOR: &str = "#1F77B4";
const SECOND_COLOR: &str = "#FF7F0E";

/// A quickstart run of `epochs` epochs in `dir/name`, with extra `--set` overrides.
fn quickstart(dir: &Path, name: &str, epochs: usize, overrides: &[&str]) -> PathBuf {
    let epochs = format!("training.epochs={epochs}");
    let mut all = vec![epochs.as_str()];
    all.extend_from_slice(overrides);
    let path = dir.join(name);
    train_into(load("quickstart", &all), &path);
    path
}

fn plot(cwd: &Path, args: &[&str]) -> Vec<PathBuf> {
    let mut all = vec!["plot"];
    all.extend_from_slice(args);
    let output = run_sgdlab(cwd, &all);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let path = line.strip_prefix("wrote ").expect("`wrote PATH` lines");
            PathBuf::from(path)
        })
        .collect()
}

/// An SVG's root size, its text nodes (trimmed) and the stroke colours of its polylines.
struct Svg {
    size: (String, String),
    texts: Vec<String>,
    line_colors: Vec<String>,
}

fn read_svg(path: &Path) -> Svg {
    let text = std::fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse(&text)
        .unwrap_or_else(|e| panic!("{} is not XML: {e}", path.display()));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    let named = |name: &'static str| {
        doc.descendants()
            .filter(move |n| n.is_element() && n.tag_name().name() == name)
    };
    Svg {
        size: (
            root.attribute("width").unwrap().to_string(),
            root.attribute("height").unwrap().to_string(),
        ),
        texts: named("text")
            .map(|n| n.text().unwrap_or_default().trim().to_string())
            .collect(),
        line_colors: named("polyline")
            .filter_map(|n| n.attribute("stroke").map(str::to_string))
            .collect(),
    }
}

impl Svg {
    fn count_text(&self, text: &str) -> usize {
        self.texts.iter().filter(|t| *t == text).count()
    }
    fn has_line(&self, color: &str) -> bool {
        self.line_colors.iter().any(|c| c == color)
    }
}

fn stems(written: &[PathBuf]) -> Vec<String> {
    written
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "svg"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn one_run_gets_every_figure_as_svg_and_png_in_its_dir() {
    let dir = tempfile::tempdir().unwrap();
    let run = quickstart(dir.path(), "run", 2, &[]);
    let written = plot(dir.path(), &[run.to_str().unwrap()]);
    assert_eq!(stems(&written), QUICKSTART_FIGURES);
    assert_eq!(written.len(), 2 * QUICKSTART_FIGURES.len());
    for stem in QUICKSTART_FIGURES {
        let svg_path = run.join(format!("{stem}.svg"));
        let png_path = run.join(format!("{stem}.png"));
        assert!(written.contains(&svg_path) && written.contains(&png_path));
        let svg = read_svg(&svg_path);
        assert_eq!(svg.size, ("800".into(), "500".into()));
        assert_png(&png_path, 800, 500);
        assert!(svg.has_line(FIRST_COLOR), "{stem}: no first series");
        assert!(
            svg.texts.iter().any(|t| t.ends_with(": run")),
            "{stem}: no title naming the run"
        );
    }
    let loss = read_svg(&run.join("loss-epoch.svg"));
    for label in ["epoch", "loss", "train", "valid"] {
        assert_eq!(loss.count_text(label), 1, "{label} in {:?}", loss.texts);
    }
    assert!(loss.has_line(SECOND_COLOR), "no valid curve");
    let axes = [
        ("loss-examples", "examples seen (steps × batch size)"),
        ("loss-time", "wall time (s)"),
        ("batch-loss-step", "optimizer step"),
        ("learning-rate-step", "learning rate α"),
        ("accuracy-epoch", "accuracy"),
    ];
    for (stem, label) in axes {
        let svg = read_svg(&run.join(format!("{stem}.svg")));
        assert_eq!(
            svg.count_text(label),
            1,
            "{label} in {stem}: {:?}",
            svg.texts
        );
    }
    // No suboptimality column, no suboptimality figure.
    assert!(!run.join("suboptimality-epoch.svg").exists());
}

#[test]
fn train_writes_the_figures_unless_no_plots() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::config_path("quickstart");
    let config = config.to_str().unwrap();
    let output = run_sgdlab(
        dir.path(),
        &[
            "train",
            config,
            "--set",
            "training.epochs=1",
            "--run-dir",
            "plotted",
        ],
    );
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("wrote 6 figures"), "{stdout}");
    for stem in QUICKSTART_FIGURES {
        assert!(
            dir.path()
                .join("plotted")
                .join(format!("{stem}.png"))
                .exists()
        );
    }
    let output = run_sgdlab(
        dir.path(),
        &[
            "train",
            config,
            "--set",
            "training.epochs=1",
            "--run-dir",
            "bare",
            "--no-plots",
        ],
    );
    assert!(output.status.success());
    let figures: Vec<_> = std::fs::read_dir(dir.path().join("bare"))
        .unwrap()
        .flatten()
        .filter(|e| {
            e.path()
                .extension()
                .is_some_and(|x| x == "svg" || x == "png")
        })
        .collect();
    assert!(figures.is_empty(), "{figures:?}");
}

#[test]
fn two_runs_overlay_with_a_legend_entry_each() {
    let dir = tempfile::tempdir().unwrap();
    let fast = quickstart(dir.path(), "fast", 2, &[]);
    let slow = quickstart(dir.path(), "slow", 2, &["optimizer.learning_rate=0.01"]);
    let out = dir.path().join("compare");
    let written = plot(
        dir.path(),
        &[
            fast.to_str().unwrap(),
            slow.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(stems(&written), QUICKSTART_FIGURES);
    assert!(written.iter().all(|p| p.starts_with(&out)));

    // One series per run: one legend entry per run, labelled by optimizer and α^(0).
    let rate = read_svg(&out.join("learning-rate-step.svg"));
    assert_eq!(rate.count_text("sgd α=0.1"), 1, "{:?}", rate.texts);
    assert_eq!(rate.count_text("sgd α=0.01"), 1, "{:?}", rate.texts);
    assert!(rate.has_line(FIRST_COLOR) && rate.has_line(SECOND_COLOR));
    // Train and valid per run: four entries.
    let loss = read_svg(&out.join("loss-epoch.svg"));
    for label in [
        "sgd α=0.1 train",
        "sgd α=0.1 valid",
        "sgd α=0.01 train",
        "sgd α=0.01 valid",
    ] {
        assert_eq!(loss.count_text(label), 1, "{label} in {:?}", loss.texts);
    }

    // Without --out, several runs go to a fresh artifacts/compare-<timestamp>.
    let written = plot(
        dir.path(),
        &[fast.to_str().unwrap(), slow.to_str().unwrap()],
    );
    let parent = written[0].parent().unwrap();
    assert_eq!(parent.parent().unwrap(), Path::new("artifacts"));
    assert!(
        parent
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("compare-")
    );
    assert!(dir.path().join(&written[0]).exists());
}

/// Sets `column` of a CSV, adding it if absent: `cell(row index)` for each data row (empty:
/// no value).
fn add_column(path: &Path, column: &str, cell: impl Fn(usize) -> String) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let mut header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    let index = match header.iter().position(|name| name == column) {
        Some(index) => index,
        None => {
            header.push(column.to_string());
            header.len() - 1
        }
    };
    let mut out = header.join(",") + "\n";
    for (row, line) in lines.enumerate() {
        let mut cells: Vec<String> = line.split(',').map(String::from).collect();
        cells.resize(header.len(), String::new());
        cells[index] = cell(row);
        out.push_str(&(cells.join(",") + "\n"));
    }
    std::fs::write(path, out).unwrap();
}

#[test]
fn a_suboptimality_column_gives_log_axis_figures() {
    let dir = tempfile::tempdir().unwrap();
    let run = quickstart(dir.path(), "run", 3, &[]);
    let metrics = run.join("metrics.csv");
    // n/a in epoch 1, then 1e-2 and 1e-4; and a column nobody plots.
    add_column(&metrics, "suboptimality", |row| match row {
        0 => String::new(),
        1 => "0.01".into(),
        _ => "0.0001".into(),
    });
    add_column(&metrics, "loss_evaluations", |row| {
        format!("{}", 40 * (row + 1))
    });
    add_column(&run.join("steps.csv"), "suboptimality", |row| {
        format!("{}", 0.5 / (row as f64 + 1.0))
    });

    // The trainer's reader takes the extra columns by name, empty cells as absent.
    let rows = sgdlab::run_dir::read_metrics_csv(&metrics).unwrap();
    assert_eq!(rows.len(), 3);
    assert!(!rows[&1].contains_key("suboptimality"));
    assert_eq!(rows[&2]["suboptimality"], 0.01);
    assert_eq!(rows[&3]["loss_evaluations"], 120.0);
    assert!(rows[&3].contains_key("train_loss"));

    let written = stems(&plot(dir.path(), &[run.to_str().unwrap()]));
    for stem in [
        "suboptimality-epoch",
        "suboptimality-examples",
        "suboptimality-time",
        "suboptimality-step",
    ] {
        assert!(
            written.iter().any(|s| s == stem),
            "{stem} not in {written:?}"
        );
    }
    let svg = read_svg(&run.join("suboptimality-epoch.svg"));
    assert_eq!(svg.count_text("ℓ(f_Θ) − ℓ(f*)"), 1, "{:?}", svg.texts);
    // A log axis: the decades 1e-4 ... 1e-2 are the y ticks.
    for tick in ["1e-4", "0.001", "0.01"] {
        assert_eq!(svg.count_text(tick), 1, "{tick} in {:?}", svg.texts);
    }
    assert_png(&run.join("suboptimality-epoch.png"), 800, 500);
}

#[test]
fn bad_run_dirs_are_one_line_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let output = run_sgdlab(cwd, &["plot", "nowhere"]);
    assert_one_line_error(&output, &["nowhere", "no such run directory"]);

    let run = quickstart(dir.path(), "run", 1, &[]);
    let run_arg = run.to_str().unwrap();
    let metrics = run.join("metrics.csv");
    std::fs::write(&metrics, "epoch,train_loss\n1,0.5\n2,lots\n").unwrap();
    let output = run_sgdlab(cwd, &["plot", run_arg]);
    assert_one_line_error(&output, &["metrics.csv:3", "train_loss", "lots"]);

    std::fs::write(&metrics, "epoch,train_loss\n").unwrap();
    let output = run_sgdlab(cwd, &["plot", run_arg]);
    assert_one_line_error(&output, &["metrics.csv", "no epochs"]);

    std::fs::remove_file(&metrics).unwrap();
    let output = run_sgdlab(cwd, &["plot", run_arg]);
    assert_one_line_error(&output, &["metrics.csv"]);

    std::fs::write(&metrics, "epoch,train_loss\n1,0.5\n").unwrap();
    std::fs::write(run.join("steps.csv"), "step,epoch,loss\n1,1\n").unwrap();
    let output = run_sgdlab(cwd, &["plot", run_arg]);
    assert_one_line_error(&output, &["steps.csv:2"]);

    std::fs::remove_file(run.join("config.toml")).unwrap();
    let output = run_sgdlab(cwd, &["plot", run_arg]);
    assert_one_line_error(&output, &["not a run directory"]);

    // Nothing was written by the failed attempts.
    assert!(!run.join("loss-epoch.svg").exists());
    let output = run_sgdlab(cwd, &["plot"]);
    assert_eq!(output.status.code(), Some(2));
}
