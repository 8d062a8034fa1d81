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

use crate::plot::Written;
use crate::run_dir::write_atomically;
use crate::{Error, Result};

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
