//! The sweep's table: one row per combination, each figure the mean and the spread over the
//! seeds of the runs' own figures ([`RunSummary`]), written as `sweep.csv` and `sweep.md`.

use std::collections::BTreeMap;
use std::fmt;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{Best, Plan, SweepReport, finished};
use crate::Result;
use crate::files::write_atomically;
use crate::plot::Written;
use crate::runs::{RunSummary, aligned_table};

/// The figures of the table, in column order: the name, and what it is read from.
pub const METRICS: [(&str, &str); 10] = [
    ("valid_loss_final", "valid_loss of the last epoch"),
    ("valid_loss_best", "the lowest valid_loss over the epochs"),
    ("valid_accuracy_final", "valid_accuracy of the last epoch"),
    (
        "valid_accuracy_best",
        "the highest valid_accuracy over the epochs",
    ),
    ("train_loss_final", "train_loss of the last epoch"),
    (
        "test_loss",
        "the last checkpoint's loss on the test split (eval.json)",
    ),
    (
        "test_accuracy",
        "the last checkpoint's accuracy on the test split",
    ),
    ("suboptimality_final", "suboptimality of the last epoch"),
    ("seconds", "elapsed_seconds of the last epoch"),
    ("steps", "optimizer steps, the last row of steps.csv"),
];

/// The mean and the sample standard deviation (n − 1; none for one value) of `n` runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stat {
    pub mean: f64,
    pub std: Option<f64>,
    pub n: usize,
}

impl Stat {
    /// The statistics of `values` in their order; `None` when there are none.
    pub fn of(values: &[f64]) -> Option<Stat> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let std = (n > 1).then(|| {
            let squares: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
            (squares / (n - 1) as f64).sqrt()
        });
        Some(Stat { mean, std, n })
    }
}

/// One run of a combination, as the table lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepRun {
    pub path: PathBuf,
    pub seed: u64,
    pub outcome: String,
    pub divergence_step: Option<usize>,
}

/// A row of the table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Combination {
    /// `KEY=VALUE,...`, the runs' directory name less the seed.
    pub name: String,
    /// Each grid's key and the value as given.
    pub overrides: BTreeMap<String, String>,
    /// `finished` (every seed trained to its end), `diverged` (every seed diverged) or
    /// `partly_diverged`.
    pub outcome: String,
    pub runs: Vec<SweepRun>,
    /// Finished runs (the statistics are over these).
    pub finished: usize,
    pub diverged: usize,
    /// Per figure of [`METRICS`], over the finished runs that have it.
    pub metrics: BTreeMap<String, Stat>,
}

/// The rows of `plan`, from the runs' summaries (`summaries[i]` is run `i` of the plan).
pub(crate) fn combinations(plan: &Plan, summaries: &[RunSummary]) -> Vec<Combination> {
    (0..plan.combinations.len())
        .map(|index| {
            let assignments = plan.assignments(index);
            let parts: Vec<(&str, &str)> = assignments
                .iter()
                .map(|(key, value)| (*key, value.text.as_str()))
                .collect();
            let members: Vec<(&super::PlannedRun, &RunSummary)> = plan
                .runs
                .iter()
                .zip(summaries)
                .filter(|(planned, _)| planned.combination == index)
                .collect();
            let done: Vec<&RunSummary> = members
                .iter()
                .map(|(_, summary)| *summary)
                .filter(|summary| finished(summary))
                .collect();
            let diverged = members
                .iter()
                .filter(|(_, summary)| summary.divergence_step.is_some())
                .count();
            let outcome = if diverged == 0 && done.len() == members.len() {
                "finished"
            } else if diverged == members.len() {
                "diverged"
            } else if diverged > 0 {
                "partly_diverged"
            } else {
                "incomplete"
            };
            let mut metrics = BTreeMap::new();
            for (metric, _) in METRICS {
                let values: Vec<f64> = done.iter().filter_map(|run| figure(run, metric)).collect();
                if let Some(stat) = Stat::of(&values) {
                    metrics.insert(metric.to_string(), stat);
                }
            }
            Combination {
                name: super::grid::run_name(&parts),
                overrides: parts
                    .iter()
                    .map(|(key, text)| (key.to_string(), text.to_string()))
                    .collect(),
                outcome: outcome.to_string(),
                runs: members
                    .iter()
                    .map(|(planned, summary)| SweepRun {
                        path: planned.run.path.clone(),
                        seed: planned.seed,
                        outcome: summary.outcome.clone(),
                        divergence_step: summary.divergence_step,
                    })
                    .collect(),
                finished: done.len(),
                diverged,
                metrics,
            }
        })
        .collect()
}

/// `metric` of [`METRICS`] for one run.
fn figure(run: &RunSummary, metric: &str) -> Option<f64> {
    let last = |name: &str| run.last.get(name).copied();
    match metric {
        "valid_loss_final" => last("valid_loss"),
        "valid_loss_best" => run.best_valid_loss,
        "valid_accuracy_final" => last("valid_accuracy"),
        "valid_accuracy_best" => run.best_valid_accuracy,
        "train_loss_final" => last("train_loss"),
        "test_loss" => run.test.map(|t| t.loss),
        "test_accuracy" => run.test.and_then(|t| t.accuracy),
        "suboptimality_final" => last("suboptimality"),
        "seconds" => run.elapsed_seconds,
        "steps" => Some(run.steps as f64),
        _ => None,
    }
}

/// The combination of the lowest mean final validation loss, or training loss when no
/// combination has a validation loss.
pub(crate) fn best(combinations: &[Combination]) -> Option<Best> {
    let by = if combinations
        .iter()
        .any(|c| c.metrics.contains_key("valid_loss_final"))
    {
        "valid_loss_final"
    } else {
        "train_loss_final"
    };
    combinations
        .iter()
        .enumerate()
        .filter_map(|(index, c)| Some((index, c, *c.metrics.get(by)?)))
        .filter(|(_, _, stat)| stat.mean.is_finite())
        .min_by(|a, b| a.2.mean.total_cmp(&b.2.mean))
        .map(|(index, combination, stat)| Best {
            index,
            name: combination.name.clone(),
            by: by.to_string(),
            mean: stat.mean,
            std: stat.std,
        })
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// `sweep.csv`: a header, then a row per combination: its name, a column per grid key, the
/// counts and outcome, the divergence steps (`;` between seeds) and `<metric>_mean`,
/// `<metric>_std` for every figure of [`METRICS`] (empty when not measured). Numbers are
/// written in full (shortest round-trip form).
pub fn csv(report: &SweepReport) -> String {
    let mut header = vec!["combination".to_string()];
    header.extend(report.grids.iter().map(|grid| grid.key.clone()));
    header.extend(
        [
            "runs",
            "finished",
            "diverged",
            "outcome",
            "divergence_steps",
        ]
        .map(String::from),
    );
    for (metric, _) in METRICS {
        header.push(format!("{metric}_mean"));
        header.push(format!("{metric}_std"));
    }
    let mut text = header
        .iter()
        .map(|h| csv_field(h))
        .collect::<Vec<_>>()
        .join(",");
    text.push('\n');
    for combination in &report.combinations {
        let mut row = vec![combination.name.clone()];
        row.extend(
            report
                .grids
                .iter()
                .map(|grid| combination.overrides[&grid.key].clone()),
        );
        let steps: Vec<String> = combination
            .runs
            .iter()
            .filter_map(|run| run.divergence_step.map(|s| s.to_string()))
            .collect();
        row.extend([
            combination.runs.len().to_string(),
            combination.finished.to_string(),
            combination.diverged.to_string(),
            combination.outcome.clone(),
            steps.join(";"),
        ]);
        for (metric, _) in METRICS {
            let stat = combination.metrics.get(metric);
            row.push(stat.map(|s| s.mean.to_string()).unwrap_or_default());
            row.push(
                stat.and_then(|s| s.std)
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
            );
        }
        text.push_str(
            &row.iter()
                .map(|cell| csv_field(cell))
                .collect::<Vec<_>>()
                .join(","),
        );
        text.push('\n');
    }
    text
}

/// `mean ± std` (or the mean alone for one run), six significant figures; `-` when absent.
fn mean_and_spread(stat: Option<&Stat>, metric: &str) -> String {
    let Some(stat) = stat else {
        return "-".into();
    };
    let number = |v: f64| match metric {
        "steps" => format!("{v:.0}"),
        "seconds" => format!("{v:.2}"),
        "suboptimality_final" => format!("{v:.3e}"),
        _ => format!("{v:.6}"),
    };
    match stat.std {
        Some(std) => format!("{} ± {}", number(stat.mean), number(std)),
        None => number(stat.mean),
    }
}

/// The figures any combination has, in [`METRICS`] order.
fn measured(report: &SweepReport) -> Vec<&'static str> {
    METRICS
        .iter()
        .map(|(metric, _)| *metric)
        .filter(|metric| {
            report
                .combinations
                .iter()
                .any(|c| c.metrics.contains_key(*metric))
        })
        .collect()
}

/// The outcome cell: `diverged at step 12; 15` when a seed diverged.
fn outcome_cell(combination: &Combination) -> String {
    let steps: Vec<String> = combination
        .runs
        .iter()
        .filter_map(|run| run.divergence_step.map(|s| s.to_string()))
        .collect();
    if steps.is_empty() {
        combination.outcome.clone()
    } else {
        let word = if steps.len() == 1 { "step" } else { "steps" };
        format!("{} ({word} {})", combination.outcome, steps.join(", "))
    }
}

fn best_line(report: &SweepReport) -> String {
    match &report.best {
        Some(best) => {
            let seeds = report.combinations[best.index].finished;
            let spread = best.std.map(|s| format!(" ± {s:.6}")).unwrap_or_default();
            format!(
                "best by {} (mean over {seeds} seed{}): {} = {:.6}{spread}",
                best.by,
                if seeds == 1 { "" } else { "s" },
                best.name,
                best.mean
            )
        }
        None => "best: none (no combination finished)".into(),
    }
}

/// `sweep.md`: what was swept, the table (mean ± spread), the best combination and the
/// figures, linked relative to the sweep directory.
pub fn markdown(report: &SweepReport, figures: &[Written]) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "# Sweep of {}\n", report.config.display());
    for grid in &report.grids {
        let _ = writeln!(text, "- `{}`: {}", grid.key, grid.values.join(", "));
    }
    let _ = writeln!(
        text,
        "- {} seed{} per combination, from the config's `training.seed`\n",
        report.seeds,
        if report.seeds == 1 { "" } else { "s" }
    );
    let metrics = measured(report);
    let _ = writeln!(
        text,
        "Each figure is the mean ± the sample standard deviation over the seeds that finished; a diverged run counts only in the outcome.\n"
    );
    let mut header = vec!["combination".to_string(), "outcome".to_string()];
    header.extend(metrics.iter().map(|m| m.to_string()));
    let _ = writeln!(text, "| {} |", header.join(" | "));
    let _ = writeln!(text, "|{}", "---|".repeat(header.len()));
    for combination in &report.combinations {
        let mut row = vec![format!("`{}`", combination.name), outcome_cell(combination)];
        row.extend(
            metrics
                .iter()
                .map(|m| mean_and_spread(combination.metrics.get(*m), m)),
        );
        let _ = writeln!(text, "| {} |", row.join(" | "));
    }
    let _ = writeln!(text, "\n{}\n", best_line(report));
    let _ = writeln!(text, "| figure | what |\n|---|---|");
    for (metric, what) in METRICS.iter().filter(|(m, _)| metrics.contains(m)) {
        let _ = writeln!(text, "| `{metric}` | {what} |");
    }
    if !figures.is_empty() {
        let _ = writeln!(text, "\n## Figures\n");
        for written in figures {
            let name = relative(&written.svg, &report.out);
            let _ = writeln!(text, "![{name}]({name})\n");
        }
    }
    text
}

fn relative(path: &Path, dir: &Path) -> String {
    path.strip_prefix(dir).unwrap_or(path).display().to_string()
}

/// Writes `sweep.csv` and `sweep.md` into the sweep directory (each whole or not at all) and
/// returns their paths.
pub(crate) fn write(report: &SweepReport, figures: &[Written]) -> Result<Vec<PathBuf>> {
    let csv_path = report.out.join("sweep.csv");
    write_atomically(&csv_path, csv(report).as_bytes())?;
    let md_path = report.out.join("sweep.md");
    write_atomically(&md_path, markdown(report, figures).as_bytes())?;
    Ok(vec![csv_path, md_path])
}

impl fmt::Display for SweepReport {
    /// The table as aligned text, then the best combination.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: Vec<&str> = [
            "valid_loss_final",
            "valid_loss_best",
            "valid_accuracy_final",
            "train_loss_final",
            "test_loss",
            "test_accuracy",
            "suboptimality_final",
            "seconds",
        ]
        .into_iter()
        .filter(|m| measured(self).contains(m))
        .collect();
        let mut header = vec!["combination".to_string(), "outcome".to_string()];
        header.extend(shown.iter().map(|m| m.to_string()));
        let rows: Vec<Vec<String>> = self
            .combinations
            .iter()
            .map(|combination| {
                let mut row = vec![combination.name.clone(), outcome_cell(combination)];
                row.extend(
                    shown
                        .iter()
                        .map(|m| mean_and_spread(combination.metrics.get(*m), m)),
                );
                row
            })
            .collect();
        f.write_str(&aligned_table(&header, &rows))?;
        writeln!(f, "{}", best_line(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sample_standard_deviation() {
        let stat = Stat::of(&[1.0, 2.0, 4.0]).unwrap();
        assert_eq!(stat.mean, 7.0 / 3.0);
        let expected = (((1.0f64 - 7.0 / 3.0).powi(2)
            + (2.0f64 - 7.0 / 3.0).powi(2)
            + (4.0f64 - 7.0 / 3.0).powi(2))
            / 2.0)
            .sqrt();
        assert_eq!(stat.std, Some(expected));
        assert_eq!(Stat::of(&[0.5]).unwrap().std, None);
        assert!(Stat::of(&[]).is_none());
    }

    #[test]
    fn csv_fields_with_commas_are_quoted() {
        assert_eq!(csv_field("0.1"), "0.1");
        assert_eq!(csv_field("[128,64]"), "\"[128,64]\"");
        assert_eq!(csv_field("a,\"b\""), "\"a,\"\"b\"\"\"");
    }
}
