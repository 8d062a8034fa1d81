//! The lecture's experiments as commands: `sgdlab experiment NAME [--quick] [--out DIR]`.
//!
//! Each experiment tests one claim of the lecture on real computations and writes, into its
//! own directory, the figures (SVG and PNG), a CSV of the numbers behind them and a short
//! Markdown summary (`summary.md`). `--quick` shrinks the problem sizes so that the whole set
//! runs inside `cargo test`; the claims must still show.
//!
//! An experiment is a function from [`ExperimentOptions`] to an [`Outcome`]; adding one is one
//! file and one entry in [`EXPERIMENTS`].

mod adaptive;
mod learning_rate;
mod momentum;
pub mod problems;
mod stationary;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::files::write_atomically;
use crate::plot::Written;
use crate::run_dir::fresh_run_path;
use crate::{Error, Result};

pub mod batch_size;
pub mod gd_vs_sgd;
pub mod report;
pub mod schedules;

/// What an experiment is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExperimentOptions {
    /// Small problem sizes, for tests and a first look.
    pub quick: bool,
    /// The experiment's own directory (exists, may already hold files of an earlier run of
    /// the same experiment); everything it writes goes here.
    pub out_dir: PathBuf,
}

/// One claim of the lecture and what was measured about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The lecture's claim, in one sentence, e.g. "A GD iteration costs O(nd)".
    pub claim: String,
    /// The measured evidence, in one sentence with the numbers.
    pub evidence: String,
    /// Whether the measurement supports the claim.
    pub holds: bool,
}

/// What an experiment produced.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    /// The section title, e.g. "Momentum: paths and the limit step length".
    pub title: String,
    /// Where in the lecture the claim is, e.g. "§3.2".
    pub lecture: String,
    /// Figures written into the experiment's directory, in reading order.
    pub figures: Vec<Written>,
    /// CSV files written into the experiment's directory.
    pub tables: Vec<PathBuf>,
    pub findings: Vec<Finding>,
    /// Free Markdown shown below the findings (a small table of numbers, a caveat).
    pub notes: String,
    /// Named measured values, for tests and the report (e.g. `"gd_slope_in_n" → 0.98`).
    pub numbers: BTreeMap<String, f64>,
}

/// One experiment: its command-line name and the function that runs it.
#[derive(Debug, Clone, Copy)]
pub struct Experiment {
    /// The name given to `sgdlab experiment`, e.g. `gd-vs-sgd`.
    pub name: &'static str,
    /// One line for `--help` and the report.
    pub about: &'static str,
    pub run: fn(&ExperimentOptions) -> Result<Outcome>,
}

/// Every experiment, in the order `experiment all` runs them and the report shows them.
pub const EXPERIMENTS: &[Experiment] = &[
    Experiment {
        name: "gd-vs-sgd",
        about: "cost per iteration of GD and SGD as n and d grow, the cost of reaching ρ, and the MNIST ratio n/m",
        run: gd_vs_sgd::run,
    },
    Experiment {
        name: "momentum",
        about: "paths of GD, momentum (several λ) and Nesterov over the contours of the 1-D logistic loss and an ill-conditioned quadratic; the step length against α‖∇f‖/(1 − λ)",
        run: momentum::run,
    },
    Experiment {
        name: "learning-rate",
        about: "GD with too small, good, overshooting and too large α, and with Armijo line search, on an ill-conditioned quadratic: paths and loss curves",
        run: learning_rate::run,
    },
    Experiment {
        name: "schedules",
        about: "α(t) of every learning-rate schedule, and the suboptimality SGD reaches with each on breast cancer",
        run: schedules::run,
    },
    Experiment {
        name: "batch-size",
        about: "SGD with m = 1, 10, 100 and n on breast cancer: progress per example and per second, and the oscillation around the minimum against m",
        run: batch_size::run,
    },
    Experiment {
        name: "adaptive",
        about: "GD, momentum, AdaGrad, RMSProp and Adam (the lecture's diagonal Γ) on an ill-conditioned quadratic and on breast cancer",
        run: adaptive::run,
    },
    Experiment {
        name: "stationary",
        about: "GD started on a saddle or a minimum stays there exactly; from nearby it leaves, and the start decides which minimum it reaches",
        run: stationary::run,
    },
];

/// The experiment called `name`, or an error listing the names there are.
pub fn find(name: &str) -> Result<&'static Experiment> {
    EXPERIMENTS
        .iter()
        .find(|experiment| experiment.name == name)
        .ok_or_else(|| {
            let names: Vec<&str> = EXPERIMENTS.iter().map(|e| e.name).collect();
            Error::new(format!(
                "unknown experiment {name:?}: expected one of {}, or all",
                names.join(", ")
            ))
        })
}

/// What `sgdlab experiment` ran and wrote.
#[derive(Debug, Clone)]
pub struct Ran {
    /// The directory holding one sub-directory per experiment.
    pub root: PathBuf,
    /// `report.html` and `report.md`, for `all`.
    pub report: Option<report::ReportFiles>,
}

/// `sgdlab experiment NAME [--quick] [--out DIR]`: runs the experiment called `name`, or every
/// one for `all` and then writes the report, into `out` (may exist; only the experiments'
/// own sub-directories and the report are written) or a fresh
/// `artifacts/experiments-<UTC timestamp>`. `on_done` sees each experiment as it finishes.
/// An unknown name is refused before anything is created.
pub fn run_named(
    name: &str,
    quick: bool,
    out: Option<&Path>,
    artifacts: &Path,
    mut on_done: impl FnMut(&Experiment, &Outcome, &Path),
) -> Result<Ran> {
    let selected: Vec<&'static Experiment> = if name == "all" {
        EXPERIMENTS.iter().collect()
    } else {
        vec![find(name)?]
    };
    let root = match out {
        Some(out) => {
            if out.exists() && !out.is_dir() {
                return Err(Error::new(format!(
                    "--out {}: exists and is not a directory",
                    out.display()
                )));
            }
            out.to_path_buf()
        }
        None => fresh_run_path(artifacts, "experiments")?,
    };
    std::fs::create_dir_all(&root).map_err(|e| Error::io("create", &root, e))?;
    let mut done = Vec::with_capacity(selected.len());
    for experiment in selected {
        let outcome = run_experiment(experiment, quick, &root)?;
        on_done(experiment, &outcome, &root.join(experiment.name));
        done.push((experiment, outcome));
    }
    let report = if name == "all" {
        Some(report::write_report(&root, &done, quick)?)
    } else {
        None
    };
    Ok(Ran { root, report })
}

/// Runs `experiment` into `root/<name>/` (created if need be) and writes its `summary.md`.
pub fn run_experiment(experiment: &Experiment, quick: bool, root: &Path) -> Result<Outcome> {
    let out_dir = root.join(experiment.name);
    std::fs::create_dir_all(&out_dir).map_err(|e| Error::io("create", &out_dir, e))?;
    let options = ExperimentOptions { quick, out_dir };
    let outcome = (experiment.run)(&options)?;
    let summary = summary_markdown(experiment, &outcome, &options.out_dir);
    write_atomically(&options.out_dir.join("summary.md"), summary.as_bytes())?;
    Ok(outcome)
}

/// The Markdown summary of one experiment; file links are relative to `dir`.
pub fn summary_markdown(experiment: &Experiment, outcome: &Outcome, dir: &Path) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "# {} ({})\n", outcome.title, outcome.lecture);
    let _ = writeln!(
        text,
        "`sgdlab experiment {}`: {}\n",
        experiment.name, experiment.about
    );
    for finding in &outcome.findings {
        let verdict = if finding.holds {
            "holds"
        } else {
            "does NOT hold"
        };
        let _ = writeln!(
            text,
            "- **{}** — {verdict}: {}",
            finding.claim, finding.evidence
        );
    }
    if !outcome.notes.is_empty() {
        let _ = writeln!(text, "\n{}", outcome.notes.trim_end());
    }
    for figure in &outcome.figures {
        let svg = relative(&figure.svg, dir);
        let _ = writeln!(text, "\n![{svg}]({svg})");
    }
    if !outcome.tables.is_empty() {
        let _ = writeln!(text, "\nNumbers behind the figures:");
        for table in &outcome.tables {
            let csv = relative(table, dir);
            let _ = writeln!(text, "- [{csv}]({csv})");
        }
    }
    text
}

/// `path` relative to `dir` when it lies inside it, else as given.
fn relative(path: &Path, dir: &Path) -> String {
    path.strip_prefix(dir).unwrap_or(path).display().to_string()
}

/// Writes a CSV with `header` and `rows` (numbers in shortest round-trip form) to `path`.
pub fn write_csv(path: &Path, header: &[&str], rows: &[Vec<f64>]) -> Result<PathBuf> {
    let mut text = header.join(",");
    text.push('\n');
    for row in rows {
        let cells: Vec<String> = row.iter().map(|value| format!("{value}")).collect();
        text.push_str(&cells.join(","));
        text.push('\n');
    }
    write_atomically(path, text.as_bytes())?;
    Ok(path.to_path_buf())
}

/// The least-squares slope of ln y against ln x: the exponent p of y ∝ x^p. Points with a
/// non-positive coordinate are left out; NaN with fewer than two points.
pub fn loglog_slope(points: &[(f64, f64)]) -> f64 {
    let logs: Vec<(f64, f64)> = points
        .iter()
        .filter(|(x, y)| *x > 0.0 && *y > 0.0)
        .map(|(x, y)| (x.ln(), y.ln()))
        .collect();
    let count = logs.len() as f64;
    if logs.len() < 2 {
        return f64::NAN;
    }
    let mean_x = logs.iter().map(|p| p.0).sum::<f64>() / count;
    let mean_y = logs.iter().map(|p| p.1).sum::<f64>() / count;
    let covariance: f64 = logs.iter().map(|(x, y)| (x - mean_x) * (y - mean_y)).sum();
    let variance: f64 = logs.iter().map(|(x, _)| (x - mean_x).powi(2)).sum();
    covariance / variance
}

/// The median of `values` (sorted in place); NaN when empty.
pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len() % 2 == 1 {
        values[middle]
    } else {
        0.5 * (values[middle - 1] + values[middle])
    }
}

/// λ₂ of the breast-cancer experiments: the training split is linearly separable, so
/// without a penalty ℓ has no minimizer and ℓ − ℓ* no meaning.
pub const BREAST_CANCER_WEIGHT_DECAY: f64 = 0.01;

/// Logistic regression from Θ = 0 on the embedded breast-cancer data (seed 42 split), trained
/// with `optimizer` and `schedule` (the bodies of the `[optimizer]` and `[schedule]` tables,
/// e.g. `name = "constant"`), `batch_size` and `epochs`, tracking ℓ − ℓ* every epoch: a config
/// built in code and checked like a file.
pub fn breast_cancer_logistic(
    optimizer: &str,
    schedule: &str,
    batch_size: usize,
    epochs: usize,
    trace_parameters: bool,
) -> Result<crate::config::Config> {
    let text = format!(
        "[data]\nsource = \"breast_cancer\"\n\n[model]\nkind = \"logistic\"\ninit = \"zeros\"\n\n\
         [optimizer]\n{optimizer}\n\n\
         [schedule]\n{schedule}\n\n\
         [training]\nepochs = {epochs}\nbatch_size = {batch_size}\nseed = 42\ntrace_parameters = {trace_parameters}\nsuboptimality = \"on\"\n"
    );
    crate::config::Config::from_toml(&text, "the experiment's config", &[])
}

/// [`breast_cancer_logistic`] with SGD at α^(0) = `learning_rate` and
/// λ₂ = [`BREAST_CANCER_WEIGHT_DECAY`].
pub fn breast_cancer_sgd(
    learning_rate: f64,
    batch_size: usize,
    epochs: usize,
    schedule: &str,
    trace_parameters: bool,
) -> Result<crate::config::Config> {
    let optimizer = format!(
        "name = \"sgd\"\nlearning_rate = {learning_rate:?}\nweight_decay = {BREAST_CANCER_WEIGHT_DECAY:?}"
    );
    breast_cancer_logistic(&optimizer, schedule, batch_size, epochs, trace_parameters)
}

/// Trains `config` quietly into `runs/<name>`, replacing a run of that name an earlier run
/// of the same experiment left there (a directory with a `config.toml`; anything else there
/// is left alone, and training refuses the existing directory).
pub fn train_run(
    runs: &Path,
    name: &str,
    config: crate::config::Config,
) -> Result<crate::train::TrainResult> {
    let run_dir = runs.join(name);
    if run_dir.join("config.toml").is_file() {
        std::fs::remove_dir_all(&run_dir).map_err(|e| Error::io("replace", &run_dir, e))?;
    }
    std::fs::create_dir_all(runs).map_err(|e| Error::io("create", runs, e))?;
    crate::train::train(crate::train::TrainRequest {
        config,
        name: name.to_string(),
        run_dir: Some(run_dir),
        resume: false,
        artifacts: runs.to_path_buf(),
        progress: crate::train::Progress::Quiet,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loglog_slope_recovers_the_exponent() {
        let cubic: Vec<(f64, f64)> = [1.0, 3.0, 10.0, 30.0]
            .iter()
            .map(|&x| (x, 2.0 * x * x * x))
            .collect();
        assert!((loglog_slope(&cubic) - 3.0).abs() < 1e-12);
        assert!(loglog_slope(&[(1.0, 5.0), (100.0, 5.0)]).abs() < 1e-12);
        assert!(loglog_slope(&[(1.0, 1.0), (2.0, 0.0)]).is_nan());
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&mut []).is_nan());
    }
}
