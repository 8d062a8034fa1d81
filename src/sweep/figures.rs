//! The figures across a sweep's runs, written into the sweep directory:
//!
//! - the run figures of [`crate::plot`] (loss, accuracy, suboptimality, batch loss and α
//!   against epochs, examples, time and steps) with every finished run overlaid, one colour
//!   per combination (its seeds alike, one legend entry);
//! - for each swept numeric key, `sweep-KEY`: the final (solid) and best (dashed) validation
//!   loss, mean over the seeds, against the key's value, one colour per combination of the
//!   other keys. A learning rate is drawn on a log axis, the lecture's §2 picture of α too
//!   small and too large; the values at which a combination diverged have no point and are
//!   named in the title.

use super::{Combination, Grid, Plan, SweepReport, finished};
use crate::Result;
use crate::plot::{
    LineChart, Overlay, PlotOptions, RunData, Scale, Series, Written, auto_scale, overlaid_figures,
};
use crate::runs::RunSummary;

/// Draws every figure of the sweep into its directory; returns the files written.
pub(crate) fn write(
    report: &SweepReport,
    plan: &Plan,
    summaries: &[RunSummary],
    options: &PlotOptions,
) -> Result<Vec<Written>> {
    let mut written = Vec::new();
    let mut runs = Vec::new();
    let mut overlays = Vec::new();
    for (planned, summary) in plan.runs.iter().zip(summaries) {
        if !finished(summary) {
            continue;
        }
        let first_of_combination = !overlays
            .iter()
            .any(|o: &Overlay| o.color == planned.combination);
        runs.push(RunData::load(&planned.run)?);
        overlays.push(Overlay {
            label: if first_of_combination {
                short_label(&report.combinations[planned.combination], &[])
            } else {
                String::new()
            },
            color: planned.combination,
        });
    }
    if !runs.is_empty() {
        for figure in overlaid_figures(&runs, &overlays, options) {
            written.push(figure.chart.write(&report.out, &figure.stem)?);
        }
    }
    for grid in plan.grids.iter().filter(|grid| grid.is_numeric()) {
        if let Some(chart) = loss_against(report, grid) {
            written.push(chart.write(&report.out, &format!("sweep-{}", grid.key))?);
        }
    }
    Ok(written)
}

/// `learning_rate=0.1 batch_size=10`: the combination's values by the last segment of each
/// key (in key order), less the keys in `except`.
fn short_label(combination: &Combination, except: &[&str]) -> String {
    combination
        .overrides
        .iter()
        .filter(|(key, _)| !except.contains(&key.as_str()))
        .map(|(key, value)| {
            let short = key.rsplit('.').next().unwrap_or(key);
            format!("{short}={value}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The final and best validation loss (training loss without a validation split) against
/// `key`; `None` when no combination has a point.
fn loss_against(report: &SweepReport, grid: &Grid) -> Option<LineChart> {
    let key = grid.key.as_str();
    let valid = report
        .combinations
        .iter()
        .any(|c| c.metrics.contains_key("valid_loss_final"));
    let (what, metrics): (&str, &[(&str, &str, bool)]) = if valid {
        (
            "validation loss",
            &[
                ("valid_loss_final", "final", false),
                ("valid_loss_best", "best", true),
            ],
        )
    } else {
        ("training loss", &[("train_loss_final", "final", false)])
    };
    let value_of = |c: &Combination| -> Option<f64> {
        let text = c.overrides.get(key)?;
        grid.values.iter().find(|v| &v.text == text)?.number()
    };
    // One group per combination of the other keys' values, in the table's order.
    let mut groups: Vec<(String, Vec<&Combination>)> = Vec::new();
    for combination in &report.combinations {
        let label = short_label(combination, &[key]);
        match groups.iter_mut().find(|(l, _)| *l == label) {
            Some((_, members)) => members.push(combination),
            None => groups.push((label, vec![combination])),
        }
    }
    let values: Vec<f64> = report.combinations.iter().filter_map(value_of).collect();
    let positive = values.iter().all(|&v| v > 0.0);
    let (min, max) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let log_x = positive && (key.ends_with("learning_rate") || max / min >= 100.0);
    // The key's values where some combination has no finished run, named in the title.
    let mut missing: Vec<&str> = Vec::new();
    for combination in report.combinations.iter().filter(|c| c.finished == 0) {
        if let Some(text) = combination.overrides.get(key)
            && !missing.contains(&text.as_str())
        {
            missing.push(text);
        }
    }
    let short = key.rsplit('.').next().unwrap_or(key);
    let mut title = format!("{what} against {short}");
    if !missing.is_empty() {
        title.push_str(&format!(" (diverged: {short} = {})", missing.join(", ")));
    }
    let mut chart = LineChart::new(title)
        .x_label(key)
        .y_label(format!("{what}, mean over seeds"))
        .x_scale(if log_x { Scale::Log } else { Scale::Linear });
    let mut drawn = false;
    for (color, (label, members)) in groups.iter().enumerate() {
        for &(metric, name, dashed) in metrics {
            let mut points: Vec<(f64, f64)> = members
                .iter()
                .filter_map(|c| Some((value_of(c)?, c.metrics.get(metric)?.mean)))
                .filter(|(_, y)| y.is_finite())
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            drawn |= !points.is_empty();
            let legend = if label.is_empty() {
                name.to_string()
            } else {
                format!("{label} {name}")
            };
            let mut series = Series::new(legend, points).color(color).markers();
            if dashed {
                series = series.dashed();
            }
            chart.add(series);
        }
    }
    chart.y_scale = auto_scale(&chart);
    drawn.then_some(chart)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::*;
    use crate::sweep::Stat;

    fn combination(alpha: &str, m: &str, loss: Option<f64>) -> Combination {
        let stat = |mean| Stat {
            mean,
            std: None,
            n: 1,
        };
        let metrics: BTreeMap<String, Stat> = loss
            .map(|loss| {
                [
                    ("valid_loss_final".to_string(), stat(loss)),
                    ("valid_loss_best".to_string(), stat(loss / 2.0)),
                ]
                .into()
            })
            .unwrap_or_default();
        Combination {
            name: format!("a={alpha},m={m}"),
            overrides: [
                ("optimizer.learning_rate".to_string(), alpha.to_string()),
                ("training.batch_size".to_string(), m.to_string()),
            ]
            .into(),
            outcome: if loss.is_some() {
                "finished"
            } else {
                "diverged"
            }
            .into(),
            runs: Vec::new(),
            finished: usize::from(loss.is_some()),
            diverged: usize::from(loss.is_none()),
            metrics,
        }
    }

    #[test]
    fn the_loss_is_drawn_against_each_key_with_alpha_on_a_log_axis() {
        let report = SweepReport {
            out: PathBuf::from("out"),
            config: PathBuf::from("c.toml"),
            seeds: 1,
            grids: Vec::new(),
            combinations: vec![
                combination("0.01", "10", Some(0.5)),
                combination("0.01", "50", Some(0.6)),
                combination("1", "10", Some(0.1)),
                combination("1", "50", Some(0.2)),
                combination("1e6", "10", None),
                combination("1e6", "50", None),
            ],
            best: None,
            files: Vec::new(),
        };
        let alpha = Grid::parse("optimizer.learning_rate=0.01,1,1e6").unwrap();
        let chart = loss_against(&report, &alpha).unwrap();
        assert_eq!(chart.x_scale, Scale::Log);
        assert!(
            chart.title.ends_with("(diverged: learning_rate = 1e6)"),
            "{}",
            chart.title
        );
        // A colour per batch size, final solid and best dashed; no point for α = 1e6.
        let series = chart.series();
        assert_eq!(series.len(), 4);
        assert_eq!(series[0].label, "batch_size=10 final");
        assert_eq!(series[0].points, vec![(0.01, 0.5), (1.0, 0.1)]);
        assert_eq!(series[1].label, "batch_size=10 best");
        assert!(series[1].dashed && !series[0].dashed);
        assert_eq!(series[1].points, vec![(0.01, 0.25), (1.0, 0.05)]);
        assert_eq!((series[0].color, series[2].color), (Some(0), Some(1)));

        let m = Grid::parse("training.batch_size=10,50").unwrap();
        let chart = loss_against(&report, &m).unwrap();
        assert_eq!(chart.x_scale, Scale::Linear);
        assert_eq!(chart.series()[0].label, "learning_rate=0.01 final");
        assert_eq!(chart.series()[0].points, vec![(10.0, 0.5), (50.0, 0.6)]);
    }
}
