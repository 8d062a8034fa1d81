//! Figures of one or more runs, as SVG and PNG: what `sgdlab plot` and the end of
//! `sgdlab train` write.
//!
//! [`chart`] is the reusable part, a line chart of labelled series written as `NAME.svg` and
//! `NAME.png`; this module picks the figures a run directory's CSVs give (see [`figures`]) and
//! overlays several runs in each, one colour per run, so two optimizers compare at a glance.

pub mod chart;
pub mod contour;
pub mod run;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use chart::{LineChart, Scale, Series, Written};
pub use contour::{ContourChart, Grid, geometric_levels, level_segments};
pub use run::{RunData, Table};

use crate::run_dir::{RunDir, fresh_run_path};
use crate::{Error, Result};

/// The y scale of the loss figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LossScale {
    /// Logarithmic when the values drawn span two decades or more, else linear.
    #[default]
    Auto,
    Linear,
    Log,
}

/// Choices that change what is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlotOptions {
    /// The scale of the loss axes (per-epoch loss and batch loss).
    pub loss_scale: LossScale,
}

/// One figure: a chart and the file stem it is written under.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub stem: String,
    pub chart: LineChart,
}

/// The `metrics.csv` column holding ℓ(f_Θ) − ℓ(f*), empty where not known; also looked for in
/// `steps.csv`.
pub const SUBOPTIMALITY: &str = "suboptimality";

/// Reads `runs` and writes every figure they give into `out` (created if need be). Returns
/// the files written, in the order of [`figures`].
pub fn plot_runs(runs: &[RunDir], out: &Path, options: &PlotOptions) -> Result<Vec<Written>> {
    if runs.is_empty() {
        return Err(Error::new("plot: no run directory given"));
    }
    let data = runs.iter().map(RunData::load).collect::<Result<Vec<_>>>()?;
    std::fs::create_dir_all(out).map_err(|e| Error::io("create", out, e))?;
    figures(&data, options)
        .iter()
        .map(|figure| figure.chart.write(out, &figure.stem))
        .collect()
}

/// One run's figures, written into its own directory (what `sgdlab train` does at the end).
pub fn plot_run(run: &RunDir, options: &PlotOptions) -> Result<Vec<Written>> {
    plot_runs(std::slice::from_ref(run), &run.path, options)
}

/// Where `sgdlab plot` writes by default: the run dir itself for one run; for several, a
/// fresh `artifacts/compare-<UTC timestamp>`.
pub fn default_out_dir(runs: &[RunDir], artifacts: &Path) -> Result<PathBuf> {
    match runs {
        [run] => Ok(run.path.clone()),
        _ => fresh_run_path(artifacts, "compare"),
    }
}

/// What the x axis counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum XAxis {
    Epoch,
    Step,
    /// Optimizer steps × `training.batch_size` (over-counts a full-batch run's steps, whose
    /// batch is the whole training split, by at most batch size − n_train per step).
    Examples,
    /// `elapsed_seconds` of `metrics.csv`: training and validation time, checkpoints included.
    Seconds,
}

impl XAxis {
    fn label(self) -> &'static str {
        match self {
            XAxis::Epoch => "epoch",
            XAxis::Step => "optimizer step",
            XAxis::Examples => "examples seen (steps × batch size)",
            XAxis::Seconds => "wall time (s)",
        }
    }
    fn stem(self) -> &'static str {
        match self {
            XAxis::Epoch => "epoch",
            XAxis::Step => "step",
            XAxis::Examples => "examples",
            XAxis::Seconds => "time",
        }
    }
    fn title(self) -> &'static str {
        match self {
            XAxis::Epoch => "per epoch",
            XAxis::Step => "per optimizer step",
            XAxis::Examples => "by examples seen",
            XAxis::Seconds => "by wall time",
        }
    }
}

/// A column drawn as one series per run.
struct Column {
    name: &'static str,
    /// Its part of the legend entry, e.g. `train`; empty for a figure of one column.
    legend: &'static str,
    dashed: bool,
}

const LOSS: [Column; 2] = [
    Column {
        name: "train_loss",
        legend: "train",
        dashed: false,
    },
    Column {
        name: "valid_loss",
        legend: "valid",
        dashed: true,
    },
];
const ACCURACY: [Column; 2] = [
    Column {
        name: "train_accuracy",
        legend: "train",
        dashed: false,
    },
    Column {
        name: "valid_accuracy",
        legend: "valid",
        dashed: true,
    },
];
const SUBOPTIMALITY_COLUMN: [Column; 1] = [Column {
    name: SUBOPTIMALITY,
    legend: "",
    dashed: false,
}];
/// `steps.csv`'s columns.
const BATCH_LOSS: [Column; 1] = [Column {
    name: "loss",
    legend: "",
    dashed: false,
}];
const LEARNING_RATE: [Column; 1] = [Column {
    name: "learning_rate",
    legend: "",
    dashed: false,
}];

/// How a figure's y scale is chosen.
#[derive(Debug, Clone, Copy)]
enum YScale {
    Fixed(Scale),
    /// Log when every value is positive and they span two decades or more.
    Auto,
}

impl From<LossScale> for YScale {
    fn from(choice: LossScale) -> Self {
        match choice {
            LossScale::Auto => YScale::Auto,
            LossScale::Linear => YScale::Fixed(Scale::Linear),
            LossScale::Log => YScale::Fixed(Scale::Log),
        }
    }
}

/// How a run is drawn among others: its legend label (empty: no legend entry, e.g. a second
/// seed of a sweep's combination) and its palette colour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overlay {
    pub label: String,
    pub color: usize,
}

/// Every figure `runs` give, each left out when no run has data for it:
///
/// | stem | y | x |
/// |---|---|---|
/// | `loss-epoch`, `loss-examples`, `loss-time` | train (solid) and valid (dashed) loss | epoch, examples seen, wall time |
/// | `accuracy-epoch` | train and valid accuracy | epoch |
/// | `suboptimality-epoch`, `-examples`, `-time` | `suboptimality` of metrics.csv, log scale | as loss |
/// | `batch-loss-step` | each step's batch loss (steps.csv) | optimizer step |
/// | `learning-rate-step` | the α in force at each step (steps.csv) | optimizer step |
/// | `suboptimality-step` | `suboptimality` of steps.csv, log scale | optimizer step |
///
/// Several runs overlay, one colour each, labelled by optimizer and α^(0) when those tell
/// them apart, else by directory name.
pub fn figures(runs: &[RunData], options: &PlotOptions) -> Vec<Figure> {
    let overlays: Vec<Overlay> = run_labels(runs)
        .into_iter()
        .enumerate()
        .map(|(color, label)| Overlay { label, color })
        .collect();
    overlaid_figures(runs, &overlays, options)
}

/// [`figures`] with each run's legend label and colour chosen by the caller (`overlays[i]` for
/// `runs[i]`), e.g. one colour per combination of a sweep, its seeds alike.
pub fn overlaid_figures(
    runs: &[RunData],
    overlays: &[Overlay],
    options: &PlotOptions,
) -> Vec<Figure> {
    let loss_scale = YScale::from(options.loss_scale);
    let sub_y = "ℓ(f_Θ) − ℓ(f*)";
    let mut figures = Vec::new();
    for x in [XAxis::Epoch, XAxis::Examples, XAxis::Seconds] {
        figures.push(figure(runs, overlays, "loss", "loss", x, &LOSS, loss_scale));
    }
    figures.push(figure(
        runs,
        overlays,
        "accuracy",
        "accuracy",
        XAxis::Epoch,
        &ACCURACY,
        YScale::Fixed(Scale::Linear),
    ));
    for x in [XAxis::Epoch, XAxis::Examples, XAxis::Seconds] {
        figures.push(figure(
            runs,
            overlays,
            "suboptimality",
            sub_y,
            x,
            &SUBOPTIMALITY_COLUMN,
            YScale::Fixed(Scale::Log),
        ));
    }
    figures.push(figure(
        runs,
        overlays,
        "batch-loss",
        "batch loss",
        XAxis::Step,
        &BATCH_LOSS,
        loss_scale,
    ));
    figures.push(figure(
        runs,
        overlays,
        "learning-rate",
        "learning rate α",
        XAxis::Step,
        &LEARNING_RATE,
        YScale::Auto,
    ));
    let mut step_suboptimality = figure(
        runs,
        overlays,
        "suboptimality",
        sub_y,
        XAxis::Step,
        &SUBOPTIMALITY_COLUMN,
        YScale::Fixed(Scale::Log),
    );
    // Same stem family as the per-epoch figures, read from steps.csv instead.
    step_suboptimality.stem = "suboptimality-step".into();
    figures.push(step_suboptimality);
    figures.retain(|figure| !figure.chart.is_empty());
    figures
}

/// The figure of `columns` against `x`, one series per run and column.
fn figure(
    runs: &[RunData],
    labels: &[Overlay],
    stem: &str,
    y_label: &str,
    x: XAxis,
    columns: &[Column],
    scale: YScale,
) -> Figure {
    let what = stem.replace('-', " ");
    let mut title = format!("{what} {}", x.title());
    if let [run] = runs {
        title.push_str(&format!(": {}", run.name));
    }
    let mut chart = LineChart::new(title).x_label(x.label()).y_label(y_label);
    for (run, overlay) in runs.iter().zip(labels) {
        let examples_at = run.last_step_of_epochs();
        for (position, column) in columns.iter().enumerate() {
            let points = series_points(run, column.name, x, &examples_at);
            let legend = match (runs.len(), column.legend) {
                (1, "") => what.clone(),
                (1, legend) => legend.to_string(),
                _ if overlay.label.is_empty() => String::new(),
                (_, "") => overlay.label.clone(),
                (_, legend) => format!("{} {legend}", overlay.label),
            };
            // One colour per run when overlaying runs; per column for a single run.
            let color = if runs.len() == 1 {
                position
            } else {
                overlay.color
            };
            let mut series = Series::new(legend, points).color(color);
            if column.dashed {
                series = series.dashed();
            }
            chart.add(series);
        }
    }
    chart.y_scale = match scale {
        YScale::Fixed(scale) => scale,
        YScale::Auto => auto_scale(&chart),
    };
    Figure {
        stem: format!("{stem}-{}", x.stem()),
        chart,
    }
}

/// `column` of `run` against `x`: per-epoch columns from metrics.csv, per-step ones from
/// steps.csv. Rows without a value (or without an x) are left out.
fn series_points(
    run: &RunData,
    column: &str,
    x: XAxis,
    last_step_of_epoch: &BTreeMap<usize, f64>,
) -> Vec<(f64, f64)> {
    let batch = run.batch_size as f64;
    match x {
        XAxis::Epoch => run.per_epoch(column),
        XAxis::Examples => run
            .per_epoch(column)
            .into_iter()
            .filter_map(|(epoch, y)| Some((last_step_of_epoch.get(&(epoch as usize))? * batch, y)))
            .collect(),
        XAxis::Seconds => run
            .epochs
            .values()
            .filter_map(|row| Some((*row.get("elapsed_seconds")?, *row.get(column)?)))
            .collect(),
        XAxis::Step => run
            .steps
            .as_ref()
            .map(|steps| steps.pairs("step", column))
            .unwrap_or_default(),
    }
}

/// Log when every value drawn is positive and they span at least two decades.
pub fn auto_scale(chart: &LineChart) -> Scale {
    let values: Vec<f64> = chart
        .series()
        .iter()
        .flat_map(|s| s.points.iter().map(|&(_, y)| y))
        .filter(|y| y.is_finite())
        .collect();
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if min > 0.0 && max / min >= 100.0 {
        Scale::Log
    } else {
        Scale::Linear
    }
}

/// Legend labels: optimizer and α^(0) (`sgd α=0.1`) when those differ between every run, else
/// the directory names, else the paths.
fn run_labels(runs: &[RunData]) -> Vec<String> {
    let distinct = |labels: &[String]| {
        let mut sorted = labels.to_vec();
        sorted.sort();
        sorted.dedup();
        sorted.len() == labels.len()
    };
    let optimizers: Vec<String> = runs.iter().map(|r| r.optimizer.clone()).collect();
    if distinct(&optimizers) {
        return optimizers;
    }
    let names: Vec<String> = runs.iter().map(|r| r.name.clone()).collect();
    if distinct(&names) {
        return names;
    }
    runs.iter().map(|r| r.path.display().to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run_dir::EpochRow;

    fn run(name: &str, optimizer: &str, rows: &[&[(&str, f64)]], steps: Option<Table>) -> RunData {
        let epochs = rows
            .iter()
            .map(|row| {
                let row: EpochRow = row.iter().map(|(k, v)| (k.to_string(), *v)).collect();
                (row["epoch"] as usize, row)
            })
            .collect();
        RunData {
            path: PathBuf::from(format!("artifacts/{name}")),
            name: name.into(),
            optimizer: optimizer.into(),
            batch_size: 10,
            epochs,
            steps,
        }
    }

    fn steps() -> Table {
        Table::new(
            "steps.csv".into(),
            ["step", "epoch", "loss", "learning_rate"]
                .map(String::from)
                .to_vec(),
            &[
                vec![Some(1.0), Some(1.0), Some(0.7), Some(0.1)],
                vec![Some(2.0), Some(1.0), Some(0.5), Some(0.1)],
                vec![Some(3.0), Some(2.0), Some(0.4), Some(0.1)],
                vec![Some(4.0), Some(2.0), Some(0.3), Some(0.1)],
            ],
        )
    }

    fn stems(figures: &[Figure]) -> Vec<&str> {
        figures.iter().map(|f| f.stem.as_str()).collect()
    }

    #[test]
    fn a_run_without_accuracy_or_suboptimality_gets_neither_figure() {
        let row1: &[(&str, f64)] = &[
            ("epoch", 1.0),
            ("train_loss", 0.5),
            ("elapsed_seconds", 0.1),
        ];
        let row2: &[(&str, f64)] = &[
            ("epoch", 2.0),
            ("train_loss", 0.3),
            ("elapsed_seconds", 0.2),
        ];
        let runs = [run("a", "sgd α=0.1", &[row1, row2], Some(steps()))];
        let figures = figures(&runs, &PlotOptions::default());
        assert_eq!(
            stems(&figures),
            [
                "loss-epoch",
                "loss-examples",
                "loss-time",
                "batch-loss-step",
                "learning-rate-step"
            ]
        );
        // Examples seen at the end of epoch 2: step 4 × batch 10.
        let examples = &figures[1].chart.series()[0].points;
        assert_eq!(examples, &vec![(20.0, 0.5), (40.0, 0.3)]);
    }

    #[test]
    fn suboptimality_is_drawn_on_a_log_axis_without_empty_cells() {
        let row1: &[(&str, f64)] = &[("epoch", 1.0), ("train_loss", 0.5)];
        let row2: &[(&str, f64)] = &[("epoch", 2.0), ("train_loss", 0.3), (SUBOPTIMALITY, 1e-3)];
        let row3: &[(&str, f64)] = &[("epoch", 3.0), ("train_loss", 0.3), (SUBOPTIMALITY, 1e-5)];
        let runs = [run("a", "sgd α=0.1", &[row1, row2, row3], None)];
        let figures = figures(&runs, &PlotOptions::default());
        let sub = figures
            .iter()
            .find(|f| f.stem == "suboptimality-epoch")
            .expect("suboptimality figure");
        assert_eq!(sub.chart.y_scale, Scale::Log);
        assert_eq!(sub.chart.series()[0].points, vec![(2.0, 1e-3), (3.0, 1e-5)]);
        // No steps.csv: nothing per step, and no examples axis.
        assert!(!stems(&figures).iter().any(|s| s.ends_with("-step")));
        assert!(!stems(&figures).contains(&"loss-examples"));
    }

    #[test]
    fn runs_are_labelled_by_optimizer_when_that_tells_them_apart() {
        let row: &[(&str, f64)] = &[("epoch", 1.0), ("train_loss", 0.5), ("valid_loss", 0.6)];
        let a = run("a", "sgd α=0.1", &[row], None);
        let b = run("b", "adam α=0.001", &[row], None);
        let figures = figures(&[a.clone(), b], &PlotOptions::default());
        let labels: Vec<&str> = figures[0]
            .chart
            .series()
            .iter()
            .map(|s| s.label.as_str())
            .collect();
        assert_eq!(
            labels,
            [
                "sgd α=0.1 train",
                "sgd α=0.1 valid",
                "adam α=0.001 train",
                "adam α=0.001 valid"
            ]
        );
        let same = run("b", "sgd α=0.1", &[row], None);
        assert_eq!(run_labels(&[a, same]), ["a", "b"]);
    }

    #[test]
    fn loss_scale_follows_the_option_and_the_data() {
        let rows: Vec<Vec<(&str, f64)>> = (1..=4)
            .map(|e| vec![("epoch", e as f64), ("train_loss", 10f64.powi(-e))])
            .collect();
        let rows: Vec<&[(&str, f64)]> = rows.iter().map(Vec::as_slice).collect();
        let runs = [run("a", "sgd α=0.1", &rows, None)];
        let scale = |choice| {
            figures(&runs, &PlotOptions { loss_scale: choice })[0]
                .chart
                .y_scale
        };
        assert_eq!(scale(LossScale::Auto), Scale::Log);
        assert_eq!(scale(LossScale::Linear), Scale::Linear);
        let flat: &[(&str, f64)] = &[("epoch", 1.0), ("train_loss", 0.5)];
        let flat2: &[(&str, f64)] = &[("epoch", 2.0), ("train_loss", 0.2)];
        let runs = [run("a", "sgd α=0.1", &[flat, flat2], None)];
        assert_eq!(
            figures(&runs, &PlotOptions::default())[0].chart.y_scale,
            Scale::Linear
        );
    }
}
