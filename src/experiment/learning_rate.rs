//! `sgdlab experiment learning-rate`: gradient descent `θ^(t+1) = θ^(t) − α ∇f(θ^(t))` with
//! a learning rate that is too small, good, too large, and chosen at every step by line
//! search, lecture §2:
//!
//! ```text
//! α* = argmin_α f(θ^(t) − α ∇f(θ^(t)))        (here its Armijo backtracking approximation:
//!                                              the first α = τ^k α₀ with
//!                                              f(θ − α g) ≤ f(θ) − c α ‖g‖²)
//! ```
//!
//! On the ill-conditioned quadratic `f(θ) = ½ θᵀ diag(1, κ) θ` (L = κ, μ = 1) GD contracts the
//! stiff coordinate by `1 − αL` per step: α ≪ 1/L crawls along the valley, α = 1/L is the
//! classic safe step, 1/L < α < 2/L overshoots (the stiff coordinate changes sign every step)
//! yet converges, fastest at α = 2/(L + μ), and α > 2/L diverges.

use std::collections::BTreeMap;

use super::problems::{
    ILL_CONDITION, Path, Problem, cpu, descend, descend_armijo, loss_curves, paths_over_contours,
    write_paths_csv,
};
use super::{ExperimentOptions, Finding, Outcome, write_csv};
use crate::Result;
use crate::optim::GradientDescent;
use crate::plot::{LineChart, Scale, Series};

/// The constant α compared, with their CSV keys and legend names, for curvatures μ ≤ L.
fn rates(mu: f64, lipschitz: f64) -> [(&'static str, f64, &'static str); 4] {
    [
        ("too_small", 0.1 / lipschitz, "too small, 0.1/L"),
        ("good", 1.0 / lipschitz, "good, 1/L"),
        ("best", 2.0 / (lipschitz + mu), "best constant, 2/(L+μ)"),
        ("too_large", 2.1 / lipschitz, "too large, 2.1/L"),
    ]
}
/// The Armijo search's first trial step: deliberately large, no tuning to the problem.
const ARMIJO_INITIAL_STEP: f64 = 1.0;

/// The fraction of consecutive steps whose second (stiff) coordinate changes sign.
fn alternation(path: &Path) -> f64 {
    let moves: Vec<f64> = path.points.windows(2).map(|w| w[1][1] - w[0][1]).collect();
    let pairs = moves.len().saturating_sub(1);
    if pairs == 0 {
        return 0.0;
    }
    let flips = moves.windows(2).filter(|m| m[0] * m[1] < 0.0).count();
    flips as f64 / pairs as f64
}

pub fn run(options: &ExperimentOptions) -> Result<Outcome> {
    let device = cpu()?;
    let dir = &options.out_dir;
    let steps = if options.quick { 100 } else { 300 };
    let problem = Problem::ill_conditioned_quadratic(ILL_CONDITION);
    let start = [-4.0, 1.0];
    let lipschitz = ILL_CONDITION;
    let mut paths = Vec::new();
    for (key, alpha, what) in rates(1.0, lipschitz) {
        paths.push(
            descend(
                &problem,
                &GradientDescent::default(),
                alpha,
                start,
                steps,
                &device,
            )?
            .named(key, format!("{what}: α={alpha:.4}")),
        );
    }
    let armijo = descend_armijo(&problem, ARMIJO_INITIAL_STEP, start, steps, &device)?.named(
        "armijo",
        format!("Armijo line search, α₀={ARMIJO_INITIAL_STEP}"),
    );
    paths.push(armijo.clone());

    let mut outcome = Outcome {
        title: "Learning rate: too small, good, too large, and line search".into(),
        lecture: "§2".into(),
        ..Outcome::default()
    };
    let title = format!("GD on {}, {steps} steps", problem.description);
    outcome
        .figures
        .push(paths_over_contours(&problem, title, &paths).write(dir, "learning-rate-paths")?);
    outcome.figures.push(
        loss_curves("GD: suboptimality for each α", &paths, 0.0)
            .write(dir, "learning-rate-loss")?,
    );
    let mut accepted = LineChart::new("The α the Armijo search accepts at each step")
        .x_label("step t")
        .y_label("α")
        .y_scale(Scale::Log);
    accepted.add(
        Series::new(
            "accepted α",
            armijo.steps.iter().enumerate().map(|(t, &a)| (t as f64, a)),
        )
        .color(4),
    );
    for (color, (label, value)) in [
        ("1/L", 1.0 / lipschitz),
        ("2/L (stability limit)", 2.0 / lipschitz),
    ]
    .into_iter()
    .enumerate()
    {
        let end = armijo.steps.len().max(1) as f64;
        accepted.add(
            Series::new(label, [(0.0, value), (end, value)])
                .color(color + 1)
                .dashed(),
        );
    }
    outcome
        .figures
        .push(accepted.write(dir, "learning-rate-armijo-steps")?);
    outcome.tables.push(write_paths_csv(
        &dir.join("learning-rate-paths.csv"),
        &paths,
    )?);
    let rows: Vec<Vec<f64>> = armijo
        .steps
        .iter()
        .enumerate()
        .map(|(t, &a)| vec![t as f64, a, armijo.losses[t + 1]])
        .collect();
    outcome.tables.push(write_csv(
        &dir.join("learning-rate-armijo.csv"),
        &["step", "accepted_alpha", "loss_after"],
        &rows,
    )?);

    let mut numbers = BTreeMap::new();
    for path in &paths {
        numbers.insert(format!("{}_final_loss", path.key), path.final_loss());
        numbers.insert(
            format!("{}_distance_to_minimum", path.key),
            path.last()[0].hypot(path.last()[1]),
        );
        numbers.insert(format!("{}_steps_taken", path.key), path.steps.len() as f64);
        numbers.insert(format!("{}_alternation", path.key), alternation(path));
    }
    numbers.insert("initial_loss".into(), paths[0].losses[0]);
    let get = |key: &str| numbers.get(key).copied().unwrap_or(f64::NAN);
    let (small, good) = (get("too_small_final_loss"), get("good_final_loss"));
    outcome.findings.push(Finding {
        claim: "Too small a learning rate is slow".into(),
        evidence: format!(
            "after {steps} steps f − f* is {small:.3e} with α = 0.1/L against {good:.3e} with α = 1/L ({:.0}× farther)",
            small / good
        ),
        holds: small > 10.0 * good,
    });
    let large = &paths[3];
    let (first, last) = (large.losses[0], large.final_loss());
    let flips = alternation(large);
    outcome.findings.push(Finding {
        claim: "Too large a learning rate overshoots and diverges".into(),
        evidence: format!(
            "with α = 2.1/L the stiff coordinate changes direction on {:.0} % of steps and f goes from {first:.3} to {last:.3e}{}; the best constant α = 2/(L+μ) alternates too ({:.0} %) but converges, to {:.3e}",
            100.0 * flips,
            if large.diverged {
                format!(" (‖θ‖ > 10⁶ after {} steps)", large.steps.len())
            } else {
                String::new()
            },
            100.0 * get("best_alternation"),
            get("best_final_loss"),
        ),
        holds: last > first || flips >= 0.9,
    });
    let armijo_loss = armijo.final_loss();
    let mean_alpha = armijo.steps.iter().sum::<f64>() / armijo.steps.len().max(1) as f64;
    outcome.findings.push(Finding {
        claim: "Line search finds a working α without tuning".into(),
        evidence: format!(
            "Armijo backtracking from α₀ = {ARMIJO_INITIAL_STEP} (c = 10⁻⁴, τ = ½) reaches f − f* = {armijo_loss:.3e} in {} steps (mean accepted α {mean_alpha:.4}, 1/L = {:.4}), against {good:.3e} for the hand-picked α = 1/L and {:.3e} for the best constant α = 2/(L+μ), which needs L and μ",
            armijo.steps.len(),
            1.0 / lipschitz,
            get("best_final_loss"),
        ),
        holds: armijo_loss <= good,
    });
    numbers.insert("armijo_mean_alpha".into(), mean_alpha);
    outcome.numbers = numbers;
    outcome.notes = format!(
        "Problem: f(θ) = ½ θᵀ diag(1, {ILL_CONDITION}) θ from (−4, 1); L = {ILL_CONDITION}, so GD is stable for α < 2/L = {:.3}. Paths that leave the window are cut at its frame; the diverging run stops once ‖θ‖ > 10⁶.",
        2.0 / lipschitz
    );
    Ok(outcome)
}
