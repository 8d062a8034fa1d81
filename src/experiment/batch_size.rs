//! `batch-size`: SGD with m = 1, 10, 100 and n, lecture §5 (and §7):
//!
//! ```text
//! (1/m) Σ_{i∈B} ∇ℓ̂_Θ(x_i, y_i)  ≈  (1/n) Σ_{i∈T} ∇ℓ̂_Θ(x_i, y_i),     θ ← θ − α ∇ℓ_θ(B)
//! ```
//!
//! The smaller the mini-batch, the noisier that estimate: "SGD does not stop at the minimum:
//! it oscillates around it, from the noise of random sampling". Each m is trained with the
//! same constant α through [`crate::train::train`] on breast cancer (logistic regression,
//! μ = 0.01 so that f* exists) for the same number of epochs, i.e. the same examples seen,
//! with `trace_parameters` on. The oscillation is measured on the exact training objective
//! ℓ(Θ) = (1/n) Σ ℓ̂ + (μ/2)‖Θ‖², evaluated in f64 at the parameters after every one of the
//! last K optimizer steps (K = max(steps per epoch, 10), as many as there are for full-batch
//! GD, one step an epoch). The oscillation is how far that loss climbs back up over those
//! steps, `Σ_t max(0, ℓ(Θ_{t+1}) − ℓ(Θ_t))`: zero for a descent method, whose loss only falls,
//! and positive when steps overshoot. The spread max − min and the standard deviation are
//! reported beside it, but they also count the descent still under way (GD after a few
//! epochs is far from f*, not oscillating around it).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{
    BREAST_CANCER_WEIGHT_DECAY, ExperimentOptions, Finding, Outcome, breast_cancer_sgd, train_run,
    write_csv,
};
use crate::config::ScheduleConfig;
use crate::plot::{LineChart, RunData, Scale, Table};
use crate::prepare::prepare;
use crate::solve::{Objective, solve};
use crate::{Error, Result};

/// The constant α every batch size uses.
const LEARNING_RATE: f64 = 0.1;
/// Steps judged for the oscillation: at least this many, at least an epoch's.
const MIN_WINDOW_STEPS: usize = 10;

/// The exact training loss after each traced step of `run`'s last `window` steps.
fn last_step_losses(
    run: &RunData,
    objective: &Objective,
    train: &crate::data::Dataset,
    window: usize,
) -> Result<Vec<f64>> {
    let path = run.path.join("parameters.csv");
    let table = Table::read(&path)?;
    let first_theta = table
        .columns
        .iter()
        .position(|c| c == "theta_0")
        .ok_or_else(|| Error::new(format!("{}: no theta_0 column", path.display())))?;
    let start = table.row_count().saturating_sub(window);
    table
        .rows()
        .skip(start)
        .map(|row| {
            let theta: Option<Vec<f64>> = row[first_theta..].iter().copied().collect();
            theta
                .map(|theta| objective.loss(train, &theta))
                .ok_or_else(|| Error::new(format!("{}: an empty parameter cell", path.display())))
        })
        .collect()
}

/// Runs the experiment; see the module docs.
pub fn run(options: &ExperimentOptions) -> Result<Outcome> {
    let epochs = if options.quick { 5 } else { 30 };
    let dir = &options.out_dir;
    let runs = dir.join("runs");
    // The training split every run sees (same seed, same standardization) and its f*.
    let probe = breast_cancer_sgd(LEARNING_RATE, 1, epochs, ScheduleConfig::default(), true)?;
    let train = prepare(&probe.data, false, probe.training.seed, None)?
        .splits
        .train;
    let n = train.len();
    let objective = Objective::for_config(&probe)?;
    let optimum = solve(&objective, &train)?;

    let mut by_examples = LineChart::new(format!(
        "SGD on breast cancer (α = {LEARNING_RATE}, μ = {BREAST_CANCER_WEIGHT_DECAY}): suboptimality against examples seen"
    ))
    .x_label("examples seen")
    .y_label("ℓ(f_Θ) − ℓ(f*)")
    .y_scale(Scale::Log);
    let mut by_time = LineChart::new("The same against training time")
        .x_label("seconds")
        .y_label("ℓ(f_Θ) − ℓ(f*)")
        .y_scale(Scale::Log);
    let mut last_steps = LineChart::new("Exact training loss after each of the last steps")
        .x_label("optimizer step, counted back from the last")
        .y_label("ℓ(Θ) − ℓ(f*)")
        .y_scale(Scale::Log);
    let mut curve_rows = Vec::new();
    let mut spread_rows = Vec::new();
    let mut spreads = Vec::new();
    let mut numbers = BTreeMap::new();

    for m in [1, 10, 100, n] {
        let label = if m == n {
            format!("m = n = {n}")
        } else {
            format!("m = {m}")
        };
        let config = breast_cancer_sgd(LEARNING_RATE, m, epochs, ScheduleConfig::default(), true)?;
        let result = train_run(&runs, &format!("m{m}"), config)?;
        let run = RunData::load(&result.run_dir)?;
        let steps_per_epoch = n.div_ceil(m);
        let window = steps_per_epoch.max(MIN_WINDOW_STEPS);
        let losses = last_step_losses(&run, &objective, &train, window)?;
        let low = losses.iter().copied().fold(f64::INFINITY, f64::min);
        let high = losses.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mean = losses.iter().sum::<f64>() / losses.len() as f64;
        let std =
            (losses.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / losses.len() as f64).sqrt();
        let spread = high - low;
        let rise: f64 = losses.windows(2).map(|w| (w[1] - w[0]).max(0.0)).sum();

        let gaps = run.per_epoch("suboptimality");
        let seconds = run.per_epoch("elapsed_seconds");
        for ((epoch, gap), (_, second)) in gaps.iter().zip(&seconds) {
            curve_rows.push(vec![m as f64, *epoch, epoch * n as f64, *second, *gap]);
        }
        by_examples.add_series(label.clone(), gaps.iter().map(|&(e, g)| (e * n as f64, g)));
        by_time.add_series(
            label.clone(),
            gaps.iter().zip(&seconds).map(|(&(_, g), &(_, s))| (s, g)),
        );
        let count = losses.len();
        last_steps.add_series(
            label,
            losses
                .iter()
                .enumerate()
                .map(|(i, l)| (i as f64 - count as f64 + 1.0, l - optimum.loss)),
        );
        let final_gap = gaps.last().map_or(f64::NAN, |&(_, g)| g);
        let total_seconds = seconds.last().map_or(f64::NAN, |&(_, s)| s);
        let first_gap = gaps.first().map_or(f64::NAN, |&(_, g)| g);
        spread_rows.push(vec![
            m as f64,
            steps_per_epoch as f64,
            count as f64,
            low - optimum.loss,
            high - optimum.loss,
            rise,
            spread,
            std,
            first_gap,
            final_gap,
            total_seconds,
        ]);
        let key = if m == n {
            "n".to_string()
        } else {
            m.to_string()
        };
        numbers.insert(format!("rise_m{key}"), rise);
        numbers.insert(format!("spread_m{key}"), spread);
        numbers.insert(format!("std_m{key}"), std);
        numbers.insert(
            format!("mean_suboptimality_last_steps_m{key}"),
            mean - optimum.loss,
        );
        numbers.insert(format!("suboptimality_after_one_epoch_m{key}"), first_gap);
        numbers.insert(format!("final_suboptimality_m{key}"), final_gap);
        numbers.insert(format!("seconds_m{key}"), total_seconds);
        spreads.push((m, rise, spread, first_gap));
    }
    numbers.insert("n".into(), n as f64);
    numbers.insert("epochs".into(), epochs as f64);
    numbers.insert("optimum_loss".into(), optimum.loss);

    // Log axes: a zero rise (a pure descent) cannot be drawn there and is left out.
    let mut spread_chart = LineChart::new("Oscillation around the minimum against the batch size")
        .x_label("batch size m")
        .y_label("rise Σ max(0, Δℓ) over the last steps")
        .x_scale(Scale::Log)
        .y_scale(Scale::Log);
    spread_chart.add_series(
        "total rise of ℓ(Θ)",
        spreads.iter().map(|&(m, rise, _, _)| (m as f64, rise)),
    );
    let figures = vec![
        by_examples.write(dir, "suboptimality-vs-examples")?,
        by_time.write(dir, "suboptimality-vs-time")?,
        last_steps.write(dir, "loss-last-steps")?,
        spread_chart.write(dir, "spread-vs-batch-size")?,
    ];
    let tables = vec![
        write_csv(
            &dir.join("suboptimality-per-epoch.csv"),
            &[
                "batch_size",
                "epoch",
                "examples_seen",
                "seconds",
                "suboptimality",
            ],
            &curve_rows,
        )?,
        write_csv(
            &dir.join("oscillation.csv"),
            &[
                "batch_size",
                "steps_per_epoch",
                "window_steps",
                "min_suboptimality",
                "max_suboptimality",
                "rise",
                "spread",
                "std",
                "suboptimality_after_one_epoch",
                "final_suboptimality",
                "seconds",
            ],
            &spread_rows,
        )?,
    ];

    let (one, full) = (spreads[0], spreads[spreads.len() - 1]);
    let decreasing = spreads.windows(2).all(|w| w[1].1 <= w[0].1);
    let list = spreads
        .iter()
        .map(|&(m, rise, _, _)| format!("m = {m}: {rise:.2e}"))
        .collect::<Vec<_>>()
        .join(", ");
    let ten = spreads[1];
    let findings = vec![
        Finding {
            claim: "SGD oscillates around the minimum: m = 1 spreads wider than m = n".into(),
            evidence: format!(
                "total rise of ℓ(Θ) over the last steps: m = 1 {:.2e} (max − min {:.2e}) against m = n = {n} {:.2e} (max − min {:.2e}, all of it descent)",
                one.1, one.2, full.1, full.2
            ),
            holds: one.1 > full.1,
        },
        Finding {
            claim: "The oscillation shrinks as m grows".into(),
            evidence: format!("total rise {list}"),
            holds: decreasing,
        },
        Finding {
            claim: "For the same examples seen, small mini-batches make faster progress (§7)"
                .into(),
            evidence: format!(
                "ℓ − ℓ* after one epoch ({n} examples): m = 10 {:.2e}, m = n {:.2e} (one GD step)",
                ten.3, full.3
            ),
            holds: ten.3 < full.3,
        },
    ];
    let mut notes = format!(
        "{epochs} epochs at α = {LEARNING_RATE} for every m (n = {n} training examples, ℓ* = {:.6}); ℓ(Θ) exact, on the whole training split, after each of the last max(steps per epoch, {MIN_WINDOW_STEPS}) steps:\n\n| m | steps per epoch | steps judged | rise Σ max(0, Δℓ) | spread (max − min) | std | ℓ − ℓ* after epoch 1 | ℓ − ℓ* at the end | training time |\n|---|---|---|---|---|---|---|---|---|\n",
        optimum.loss
    );
    for row in &spread_rows {
        let _ = writeln!(
            notes,
            "| {} | {} | {} | {:.2e} | {:.2e} | {:.2e} | {:.2e} | {:.2e} | {:.2} s |",
            row[0], row[1], row[2], row[5], row[6], row[7], row[8], row[9], row[10]
        );
    }
    Ok(Outcome {
        title: "Batch size: progress per example and the oscillation around the minimum".into(),
        lecture: "§5, §7".into(),
        figures,
        tables,
        findings,
        notes,
        numbers,
    })
}
