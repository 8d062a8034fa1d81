//! `sgdlab experiment momentum`: heavy-ball momentum, lecture §3,
//!
//! ```text
//! v^(t+1) = λ v^(t) − α ∇f(x^(t))        x^(t+1) = x^(t) + v^(t+1)
//! ```
//!
//! next to plain gradient descent `x^(t+1) = x^(t) − α ∇f(x^(t))` and Nesterov's look-ahead
//! `v^(t+1) = λ v^(t) − α ∇f(x^(t) + λ v^(t))`, over the contours of the lecture's 1-D
//! logistic loss in (a, b) and of an ill-conditioned quadratic; and the step length
//! ‖x^(t+1) − x^(t)‖ under a constant gradient g, which tends to the lecture's limit
//! `α‖g‖/(1 − λ)` (λ = 0 is GD, whose step is α‖g‖ from the start).

use std::collections::BTreeMap;

use burn::tensor::Device;

use super::problems::{
    ILL_CONDITION, Path, Problem, cpu, descend, loss_curves, paths_over_contours,
    write_columns_csv, write_paths_csv,
};
use super::{ExperimentOptions, Finding, Outcome};
use crate::Result;
use crate::optim::{GradientDescent, Momentum, MomentumForm, Nesterov};
use crate::plot::{LineChart, Series};

/// The momentum coefficients drawn.
const LAMBDAS: [f64; 2] = [0.5, 0.9];
/// Relative tolerance of the limit-step finding.
const LIMIT_TOLERANCE: f64 = 0.05;

/// GD, lecture-form momentum for each λ in [`LAMBDAS`], and Nesterov with the largest λ, all
/// with step α, from `start`.
fn methods(
    problem: &Problem,
    alpha: f64,
    start: [f64; 2],
    steps: usize,
    device: &Device,
) -> Result<Vec<Path>> {
    let mut paths = vec![
        descend(
            problem,
            &GradientDescent::default(),
            alpha,
            start,
            steps,
            device,
        )?
        .named("gd", format!("GD α={alpha}")),
    ];
    for lambda in LAMBDAS {
        let momentum = Momentum {
            momentum: lambda,
            form: MomentumForm::Lecture,
            dampening: 0.0,
            weight_decay: 0.0,
        };
        paths.push(
            descend(problem, &momentum, alpha, start, steps, device)?
                .named(format!("momentum_{lambda}"), format!("momentum λ={lambda}")),
        );
    }
    let lambda = LAMBDAS[LAMBDAS.len() - 1];
    let nesterov = Nesterov {
        momentum: lambda,
        form: MomentumForm::Lecture,
        weight_decay: 0.0,
    };
    paths.push(
        descend(problem, &nesterov, alpha, start, steps, device)?
            .named(format!("nesterov_{lambda}"), format!("Nesterov λ={lambda}")),
    );
    Ok(paths)
}

pub fn run(options: &ExperimentOptions) -> Result<Outcome> {
    let device = cpu()?;
    let dir = &options.out_dir;
    let (examples, steps) = if options.quick {
        (1000, 60)
    } else {
        (10_000, 150)
    };
    let mut outcome = Outcome {
        title: "Momentum: paths and the limit step length".into(),
        lecture: "§3".into(),
        ..Outcome::default()
    };
    let mut numbers = BTreeMap::new();

    // The lecture's problem from its zero initialization, with the α of
    // configs/lecture_1d_logistic.toml.
    let logistic = Problem::lecture_logistic(examples, 7, &device)?;
    let logistic_paths = methods(&logistic, 4.0, [0.0, 0.0], steps, &device)?;
    let quadratic = Problem::ill_conditioned_quadratic(ILL_CONDITION);
    // α = 1/L, the classic safe step for GD.
    let quadratic_alpha = 1.0 / ILL_CONDITION;
    let quadratic_paths = methods(&quadratic, quadratic_alpha, [-4.0, 1.0], steps, &device)?;
    for (problem, paths) in [(&logistic, &logistic_paths), (&quadratic, &quadratic_paths)] {
        let f_star = problem.minimum().map_or(0.0, |(_, f)| f);
        let title = format!("{}: {steps} steps", problem.description);
        outcome.figures.push(
            paths_over_contours(problem, title, paths)
                .write(dir, &format!("momentum-{}", problem.name))?,
        );
        outcome.figures.push(
            loss_curves(
                format!("{}: suboptimality", problem.description),
                paths,
                f_star,
            )
            .write(dir, &format!("momentum-loss-{}", problem.name))?,
        );
        outcome.tables.push(write_paths_csv(
            &dir.join(format!("momentum-paths-{}.csv", problem.name)),
            paths,
        )?);
        for path in paths.iter() {
            numbers.insert(
                format!("{}_{}_suboptimality", problem.name, path.key),
                path.final_loss() - f_star,
            );
        }
    }

    // The limit step under a constant gradient: f(θ) = gᵀθ, ‖g‖ = 1.
    let gradient = [0.6, 0.8];
    let linear = Problem::linear(gradient);
    let norm = gradient[0_usize].hypot(gradient[1]);
    let alpha = 0.1;
    let limit_steps = 60;
    let mut chart = LineChart::new("Step length under a constant gradient, f(θ) = gᵀθ, ‖g‖ = 1")
        .x_label("step t")
        .y_label("‖θ^(t+1) − θ^(t)‖");
    let mut columns: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    let mut worst = 0.0f64;
    let mut evidence = Vec::new();
    for (color, lambda) in [0.0].into_iter().chain(LAMBDAS).enumerate() {
        let momentum = Momentum {
            momentum: lambda,
            form: MomentumForm::Lecture,
            dampening: 0.0,
            weight_decay: 0.0,
        };
        let path = descend(&linear, &momentum, alpha, [0.0, 0.0], limit_steps, &device)?;
        let lengths = path.step_lengths();
        let limit = alpha * norm / (1.0 - lambda);
        let last = *lengths.last().unwrap_or(&f64::NAN);
        let ratio = last / limit;
        worst = worst.max((ratio - 1.0).abs());
        if !ratio.is_finite() {
            worst = f64::INFINITY;
        }
        evidence.push(format!("λ={lambda}: {last:.5} vs {limit:.5}"));
        numbers.insert(format!("limit_step_lambda_{lambda}"), limit);
        numbers.insert(format!("last_step_lambda_{lambda}"), last);
        numbers.insert(format!("limit_ratio_lambda_{lambda}"), ratio);
        let label = if lambda == 0.0 {
            "GD (λ=0)".to_string()
        } else {
            format!("momentum λ={lambda}")
        };
        let by_step: Vec<(f64, f64)> = lengths
            .iter()
            .enumerate()
            .map(|(t, &l)| (t as f64, l))
            .collect();
        chart.add(Series::new(label, by_step.clone()).color(color));
        chart.add(
            Series::new(
                format!("α‖g‖/(1−λ) = {limit:.3}"),
                [(0.0, limit), ((lengths.len() - 1) as f64, limit)],
            )
            .color(color)
            .dashed(),
        );
        let limits = by_step.iter().map(|&(t, _)| (t, limit)).collect();
        columns.push((format!("step_length_lambda_{lambda}"), by_step));
        columns.push((format!("limit_lambda_{lambda}"), limits));
    }
    outcome
        .figures
        .push(chart.write(dir, "momentum-step-length")?);
    outcome.tables.push(write_columns_csv(
        &dir.join("momentum-step-length.csv"),
        "step",
        &columns,
    )?);
    numbers.insert("limit_worst_relative_error".into(), worst);
    outcome.findings.push(Finding {
        claim: "For a constant gradient the momentum step tends to α‖∇f‖/(1 − λ)".into(),
        evidence: format!(
            "after {limit_steps} steps with α = {alpha} on f = gᵀθ, ‖g‖ = 1, the step lengths are {} (worst relative error {:.2e}, tolerance {LIMIT_TOLERANCE})",
            evidence.join(", "),
            worst
        ),
        holds: worst <= LIMIT_TOLERANCE,
    });

    let suboptimality =
        |key: &str| numbers_get(&numbers, &format!("quadratic_{key}_suboptimality"));
    let gd = suboptimality("gd");
    let heavy = suboptimality("momentum_0.9");
    let nesterov = suboptimality("nesterov_0.9");
    outcome.findings.push(Finding {
        claim: "Momentum accelerates gradient descent along an ill-conditioned valley".into(),
        evidence: format!(
            "on ½θᵀdiag(1, {ILL_CONDITION})θ with α = 1/L = {quadratic_alpha} from (−4, 1), f − f* after {steps} steps: GD {gd:.3e}, momentum λ=0.9 {heavy:.3e}, Nesterov λ=0.9 {nesterov:.3e}"
        ),
        holds: heavy < gd && nesterov < gd,
    });
    outcome.numbers = numbers;
    outcome.notes = format!(
        "Paths start at the lecture's zero initialization (logistic, α = 4 as in configs/lecture_1d_logistic.toml, n = {examples}) and at (−4, 1) (quadratic, condition number {ILL_CONDITION}); the circle marks the start, the cross the minimum. Every path is sgdlab's own optimizer stepping a two-parameter Burn tensor with autodiff gradients on the CPU."
    );
    Ok(outcome)
}

fn numbers_get(numbers: &BTreeMap<String, f64>, key: &str) -> f64 {
    numbers.get(key).copied().unwrap_or(f64::NAN)
}
