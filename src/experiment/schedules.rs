//! `schedules`: learning-rate decay, lecture §3.
//!
//! ```text
//! constant:            α^(t) = α^(0)
//! linear:              α^(t) = (1 − t/ρ) α^(0) + (t/ρ) α^(ρ)  for t ≤ ρ, then α^(ρ)
//! inverse time:        α^(t+1) = α^(t) / (1 + ρ t)            (the lecture's recursive form)
//! inverse time (closed form): α^(t) = α^(0) / (1 + ρ t)
//! exponential:         α^(t) = α^(0) e^(−ρ t)
//! step:                α^(t) = α^(0) γ^⌊t/k⌋
//! cosine:              α^(t) = α_min + ½ (α^(0) − α_min)(1 + cos(π t / T))
//! ```
//!
//! SGD with a constant α does not stop at the minimum: it oscillates around it, the more the
//! larger α (§5). A decaying α shrinks that noise floor. Every family starts at the same
//! α^(0) and is set to end training at α^(0)/100 (the recursive rule too), so what differs is
//! how fast α falls on the way. Each is trained through [`crate::train::train`] on the
//! breast-cancer data (logistic regression, m = 10, μ = 0.01 so that f* exists) into
//! `runs/<family>/`, and the suboptimality ℓ(f_Θ) − ℓ(f*) each reaches is read from its
//! `metrics.csv` (f* from [`crate::solve`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{ExperimentOptions, Finding, Outcome, breast_cancer_sgd, train_run, write_csv};
use crate::Result;
use crate::config::{
    CosineScheduleConfig, ExponentialScheduleConfig, InverseTimeRecursiveScheduleConfig,
    InverseTimeScheduleConfig, LinearScheduleConfig, ScheduleConfig, StepScheduleConfig,
};
use crate::plot::{LineChart, RunData, Scale};
use crate::schedule_table::schedule_table;

/// α^(0) of every family.
const INITIAL_LEARNING_RATE: f64 = 0.5;
/// Every decay ends training at α^(0) / this.
const FINAL_FRACTION: f64 = 100.0;
const BATCH_SIZE: usize = 10;
/// What a suboptimality is compared on: the mean over the last epochs, SGD's noise being
/// what it is.
const LAST_EPOCHS_AVERAGED: usize = 3;

/// `[schedule]` bodies of every family, parametrized to go from α^(0) to α^(0)/100 in
/// `steps` optimizer steps.
fn families(steps: usize) -> Vec<(&'static str, ScheduleConfig)> {
    let t = steps as f64;
    let ln = FINAL_FRACTION.ln();
    let last = INITIAL_LEARNING_RATE / FINAL_FRACTION;
    vec![
        ("constant", ScheduleConfig::default()),
        (
            "linear",
            ScheduleConfig::Linear(LinearScheduleConfig::new(t, last)),
        ),
        (
            "inverse_time_recursive",
            // Π_{s<T} (1 + ρ s) ≈ e^(ρ T²/2) = 100.
            ScheduleConfig::InverseTimeRecursive(InverseTimeRecursiveScheduleConfig::new(
                2.0 * ln / (t * t),
            )),
        ),
        (
            "inverse_time",
            ScheduleConfig::InverseTime(InverseTimeScheduleConfig::new((FINAL_FRACTION - 1.0) / t)),
        ),
        (
            "exponential",
            ScheduleConfig::Exponential(ExponentialScheduleConfig::new(ln / t)),
        ),
        (
            "step",
            // Two drops by 10: at T/3 and 2T/3.
            ScheduleConfig::Step(StepScheduleConfig::new(
                0.1,
                steps.div_ceil(3).max(1) as u64,
            )),
        ),
        (
            "cosine",
            ScheduleConfig::Cosine(CosineScheduleConfig::new(steps as u64, last, false, 1)),
        ),
    ]
}

/// Runs the experiment; see the module docs.
pub fn run(options: &ExperimentOptions) -> Result<Outcome> {
    let epochs = if options.quick { 20 } else { 100 };
    let dir = &options.out_dir;
    let probe = breast_cancer_sgd(
        INITIAL_LEARNING_RATE,
        BATCH_SIZE,
        epochs,
        ScheduleConfig::default(),
        false,
    )?;
    let steps_per_epoch = schedule_table(&probe, Some(1))?.steps_per_epoch;
    let steps = epochs * steps_per_epoch;

    let mut alpha_chart = LineChart::new(format!(
        "Learning rate α(t) of every schedule (α(0) = {INITIAL_LEARNING_RATE}, {steps} steps)"
    ))
    .x_label("optimizer step t")
    .y_label("α(t)")
    .y_scale(Scale::Log);
    let mut gap_chart = LineChart::new(format!(
        "SGD on breast cancer (m = {BATCH_SIZE}, μ = 0.01): suboptimality per epoch"
    ))
    .x_label("epoch")
    .y_label("ℓ(f_Θ) − ℓ(f*)")
    .y_scale(Scale::Log);
    let mut alphas: Vec<Vec<f64>> = (1..=steps).map(|step| vec![step as f64]).collect();
    let mut gaps: Vec<Vec<f64>> = (1..=epochs).map(|epoch| vec![epoch as f64]).collect();
    let mut reached: Vec<(&'static str, f64, f64)> = Vec::new();
    let mut numbers = BTreeMap::new();
    let runs = dir.join("runs");

    for (name, schedule) in families(steps) {
        let config = breast_cancer_sgd(INITIAL_LEARNING_RATE, BATCH_SIZE, epochs, schedule, false)?;
        let table = schedule_table(&config, Some(steps))?;
        for (row, alpha) in alphas.iter_mut().zip(&table.rows) {
            row.push(alpha.learning_rate);
        }
        alpha_chart.add_series(
            name,
            table
                .rows
                .iter()
                .map(|row| (row.step as f64, row.learning_rate)),
        );

        let result = train_run(&runs, name, config)?;
        let run = RunData::load(&result.run_dir)?;
        let curve = run.per_epoch("suboptimality");
        for (row, (_, gap)) in gaps.iter_mut().zip(&curve) {
            row.push(*gap);
        }
        let tail: Vec<f64> = curve
            .iter()
            .rev()
            .take(LAST_EPOCHS_AVERAGED)
            .map(|&(_, gap)| gap)
            .collect();
        let mean_tail = tail.iter().sum::<f64>() / tail.len().max(1) as f64;
        let last = curve.last().map_or(f64::NAN, |&(_, gap)| gap);
        numbers.insert(format!("{name}_final_suboptimality"), last);
        numbers.insert(format!("{name}_mean_last_epochs_suboptimality"), mean_tail);
        numbers.insert(
            format!("{name}_final_learning_rate"),
            table.rows.last().map_or(f64::NAN, |row| row.learning_rate),
        );
        reached.push((name, last, mean_tail));
        gap_chart.add_series(name, curve);
    }
    numbers.insert("epochs".into(), epochs as f64);
    numbers.insert("steps".into(), steps as f64);

    let figures = vec![
        alpha_chart.write(dir, "learning-rate-schedules")?,
        gap_chart.write(dir, "suboptimality-per-schedule")?,
    ];
    let mut alpha_header = vec!["step"];
    let mut gap_header = vec!["epoch"];
    for (name, _, _) in &reached {
        alpha_header.push(name);
        gap_header.push(name);
    }
    let tables = vec![
        write_csv(&dir.join("learning-rates.csv"), &alpha_header, &alphas)?,
        write_csv(&dir.join("suboptimality.csv"), &gap_header, &gaps)?,
    ];

    let constant = reached[0].2;
    let findings = reached[1..]
        .iter()
        .map(|&(name, _, mean_tail)| Finding {
            claim: format!("SGD with the {name} decay ends closer to f* than with a constant α"),
            evidence: format!(
                "mean ℓ − ℓ* over the last {LAST_EPOCHS_AVERAGED} epochs: {mean_tail:.3e} against {constant:.3e} for constant α = {INITIAL_LEARNING_RATE} ({})",
                if mean_tail < constant {
                    format!("{:.1}× lower", constant / mean_tail)
                } else {
                    format!("{:.1}× higher", mean_tail / constant)
                }
            ),
            holds: mean_tail < constant,
        })
        .collect();

    let mut notes = format!(
        "Every decay goes from α^(0) = {INITIAL_LEARNING_RATE} to α^(0)/{FINAL_FRACTION} over the {steps} steps ({epochs} epochs of {steps_per_epoch}); suboptimality ℓ(f_Θ) − ℓ(f*) on the whole training split after each epoch:\n\n| schedule | final α | ℓ − ℓ* after the last epoch | mean of the last {LAST_EPOCHS_AVERAGED} epochs |\n|---|---|---|---|\n"
    );
    for (name, last, mean_tail) in &reached {
        let _ = writeln!(
            notes,
            "| `{name}` | {:.3e} | {last:.3e} | {mean_tail:.3e} |",
            numbers[&format!("{name}_final_learning_rate")]
        );
    }
    Ok(Outcome {
        title: "Learning-rate schedules: α(t) and the suboptimality SGD reaches".into(),
        lecture: "§3".into(),
        figures,
        tables,
        findings,
        notes,
        numbers,
    })
}
