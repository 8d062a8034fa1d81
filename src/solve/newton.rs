//! Newton's method for logistic and softmax regression, where ∇ℓ = 0 has no closed form (§1).
//!
//! ```text
//! solve  ∇²ℓ(Θ) Δ = −∇ℓ(Θ)                      (the Newton direction; Cholesky)
//! Θ ← Θ + t Δ,  t = 1, ½, ¼, ... the first with  ℓ(Θ + tΔ) ≤ ℓ(Θ) + c t ∇ℓᵀΔ,  c = 10⁻⁴ (Armijo)
//! ```
//!
//! from Θ = 0. For the logistic loss this is IRLS: ∇²ℓ = (1/n) X̃ᵀ W X̃ + μI with
//! W = diag(σ(z_i)(1 − σ(z_i))). Near the optimum the full step is taken and convergence is
//! quadratic; the line search makes the first steps from Θ = 0 safe.
//!
//! It stops when ‖∇ℓ‖ ≤ 10⁻¹⁰, or when the Newton decrement says ℓ cannot fall measurably
//! any more: λ² = −∇ℓᵀΔ = ∇ℓᵀ(∇²ℓ)⁻¹∇ℓ, and ½λ² is the decrease the full step promises (for
//! a quadratic, exactly ℓ(Θ) − ℓ*). Once ½λ² is within ℓ's rounding error (ε_ℓ, a few ulps of
//! ℓ, see the objective's compensated evaluation) no line search can tell a better Θ from a
//! worse one, so the full step is taken (unless it raises ℓ beyond ε_ℓ) and Θ returned: ℓ is
//! then within ε_ℓ of ℓ*, and the last, quadratically converging step makes ‖∇ℓ‖ small too.
//! Both tests scale with the problem (λ² is affine-invariant, ε_ℓ relative), so the same rule
//! holds at n = 10² and n = 10⁷.
//!
//! Two things can stop ∇²ℓ from being positive definite, both only without a penalty (μ = 0;
//! with μ > 0, ∇²ℓ ⪰ μI):
//!
//! - softmax logits are shift-invariant (adding the same vector to every class's weights
//!   changes no probability), so ∇²ℓ is singular in d + 1 directions and Θ* is not unique.
//!   Newton then solves in the reduced parameterization with the last class's weights and
//!   bias fixed at 0 (the usual reference-class form), which reaches the same ℓ*.
//! - collinear features, or data near separation. Then a Levenberg term δI is added, from
//!   δ = 10⁻¹² × the largest diagonal entry up by factors of 100, only as long as Cholesky
//!   fails; a damped direction is still a descent direction.
//!
//! Separable data have no minimizer at all without a penalty: ℓ > 0 everywhere but
//! ℓ(tΘ) → 0 along a separating Θ. Newton drives ℓ down until some iterate separates the
//! training examples strictly (certain once ℓ < (ln 2)/n: every ℓ̂ < ln 2 means every example
//! is on its right side), which is checked at every step and reported as such.
//!
//! The work is bounded: at most [`MAX_ITERATIONS`] steps of one Hessian evaluation and at
//! most [`MAX_HALVINGS`] loss evaluations each, and by the caller's budget of passes over
//! the data (each evaluation is one pass).

use super::linalg::{Cholesky, dot, norm};
use super::{Objective, ObjectiveKind, Order};
use crate::data::Dataset;
use crate::{Result, bail};

/// Stop when ‖∇ℓ‖ is at most this.
pub const GRADIENT_TOLERANCE: f64 = 1e-10;
/// Give up after this many Newton steps (converging problems take 5 to 30).
pub const MAX_ITERATIONS: usize = 200;
/// c in the Armijo condition.
const ARMIJO: f64 = 1e-4;
/// Halvings of t before the line search gives up (t = 2⁻³⁰ ≈ 10⁻⁹: a Newton direction that
/// short of a decrease is no descent direction to working precision).
pub const MAX_HALVINGS: usize = 30;
/// ε_ℓ = this × ε_mach × ℓ: the rounding error of ℓ as the objective computes it (each ℓ̂ ≥ 0
/// to a few ulps, their mean compensated, the penalty a sum of squares), with a margin.
const LOSS_ROUNDING_ULPS: f64 = 16.0;

/// Θ* by damped Newton from 0, in at most `max_passes` evaluations of the objective (passes
/// over the data). Returns (Θ*, Newton steps, the method in words).
pub(super) fn solve(
    objective: &Objective,
    data: &Dataset,
    max_passes: usize,
) -> Result<(Vec<f64>, usize, String)> {
    let k = objective.outputs(data);
    let count = (data.dim + 1) * k;
    let unpenalized = objective.l2 == 0.0;
    // Without a penalty, pin the softmax's last class at 0: see the module comment.
    let reduced = unpenalized && matches!(objective.kind, ObjectiveKind::Softmax { .. });
    let free: Vec<usize> = (0..count)
        .filter(|p| !(reduced && p % k == k - 1))
        .collect();
    let mut method = "Newton's method (Cholesky of ∇²ℓ) with Armijo backtracking".to_string();
    if reduced {
        method.push_str(", last class fixed at 0 (softmax without penalty is shift-invariant)");
    }

    let mut theta = vec![0.0; count];
    let mut damped_steps = 0;
    // ‖Θ‖ after each step, for the report when Newton does not converge.
    let mut norms = Vec::new();
    let mut passes = 0;
    let pass = |passes: &mut usize, iteration: usize| {
        *passes += 1;
        if *passes > max_passes {
            bail!(
                "Newton's method gave up at step {iteration}: its budget of {max_passes} passes over the {} examples is spent",
                data.len()
            );
        }
        Ok(())
    };
    let finish = |theta: Vec<f64>, iterations: usize, mut method: String, damped: usize| {
        if damped > 0 {
            method.push_str(&format!(
                "; {damped} step(s) Levenberg-damped (∇²ℓ singular to working precision)"
            ));
        }
        Ok((theta, iterations, method))
    };
    for iteration in 0..=MAX_ITERATIONS {
        pass(&mut passes, iteration)?;
        let evaluation = objective.evaluate(data, &theta, Order::Hessian);
        let loss = evaluation.loss;
        if !loss.is_finite() {
            bail!("Newton's method diverged: ℓ = {loss} at step {iteration}");
        }
        let gradient_norm = norm(&evaluation.gradient);
        if gradient_norm <= GRADIENT_TOLERANCE {
            return finish(theta, iteration, method, damped_steps);
        }
        if unpenalized && objective.separates(data, &theta) {
            bail!(
                "the training data are linearly separable: ℓ has no minimizer (its infimum is 0; Newton step {iteration} reached ℓ = {loss:.3e} with every example on its side); set optimizer.weight_decay > 0"
            );
        }

        let gradient: Vec<f64> = free.iter().map(|&p| evaluation.gradient[p]).collect();
        let hessian: Vec<f64> = free
            .iter()
            .flat_map(|&p| free.iter().map(move |&q| (p, q)))
            .map(|(p, q)| evaluation.hessian[p * count + q])
            .collect();
        let (cholesky, damping) = factor_damped(&hessian, free.len())?;
        damped_steps += usize::from(damping > 0.0);
        let direction: Vec<f64> = cholesky.solve(&gradient).iter().map(|v| -v).collect();
        let slope = dot(&gradient, &direction);
        if slope.is_nan() || slope >= 0.0 {
            bail!("Newton's method: no descent direction at step {iteration} (∇ℓᵀΔ = {slope:e})");
        }
        let promised = -0.5 * slope;
        let rounding = LOSS_ROUNDING_ULPS * f64::EPSILON * loss.abs();
        let step_by = |t: f64| {
            let mut trial = theta.clone();
            for (&p, &delta) in free.iter().zip(&direction) {
                trial[p] += t * delta;
            }
            trial
        };

        if promised <= rounding {
            // Converged to ℓ's precision: the full step, unless it is measurably worse.
            let trial = step_by(1.0);
            pass(&mut passes, iteration)?;
            if objective.loss(data, &trial) <= loss + rounding {
                return finish(trial, iteration + 1, method, damped_steps);
            }
            return finish(theta, iteration, method, damped_steps);
        }
        if iteration == MAX_ITERATIONS {
            bail!(
                "Newton's method did not converge in {MAX_ITERATIONS} steps: ‖∇ℓ‖ = {gradient_norm:.3e}, the full step would lower ℓ by {promised:.3e} (ℓ = {loss:.12e}, its rounding {rounding:.1e}){}",
                growth_report(&norms)
            );
        }

        let mut step = 1.0;
        let mut accepted = None;
        for _ in 0..MAX_HALVINGS {
            let trial = step_by(step);
            pass(&mut passes, iteration)?;
            let trial_loss = objective.loss(data, &trial);
            if trial_loss <= loss + ARMIJO * step * slope {
                accepted = Some(trial);
                break;
            }
            step *= 0.5;
        }
        let Some(next) = accepted else {
            bail!(
                "Newton's line search found no decrease at step {iteration} in {MAX_HALVINGS} halvings (down to t = {step:.1e}): ℓ = {loss:.12e}, ‖∇ℓ‖ = {gradient_norm:.3e}, the full step promised a decrease of {promised:.3e} against ℓ's rounding {rounding:.1e}"
            );
        };
        theta = next;
        norms.push(norm(&theta));
    }
    unreachable!("the loop returns or bails at MAX_ITERATIONS")
}

/// What ‖Θ‖ did over the steps taken, and, if it kept growing (at least doubling over the
/// second half of the steps), what that points to: ℓ's infimum lies at infinity.
fn growth_report(norms: &[f64]) -> String {
    let (Some(&last), Some(&middle)) = (norms.last(), norms.get(norms.len() / 2)) else {
        return String::new();
    };
    let steps = norms.len() - norms.len() / 2 - 1;
    let mut report =
        format!("; ‖Θ‖ went from {middle:.3e} to {last:.3e} over the last {steps} steps");
    if last >= 2.0 * middle {
        report.push_str(
            ", growing without bound as when ℓ has no minimizer (quasi-separable data); try optimizer.weight_decay > 0",
        );
    }
    report
}

/// Cholesky of `H + δI` with the smallest δ in {0, 10⁻¹² h, 10⁻¹⁰ h, ...} (h the largest
/// diagonal entry) for which it exists.
fn factor_damped(hessian: &[f64], n: usize) -> Result<(Cholesky, f64)> {
    let largest = (0..n)
        .map(|p| hessian[p * n + p].abs())
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE);
    let mut damping = 0.0;
    loop {
        let mut shifted = hessian.to_vec();
        for p in 0..n {
            shifted[p * n + p] += damping;
        }
        match Cholesky::factor(&shifted, n) {
            Ok(cholesky) => return Ok((cholesky, damping)),
            Err(e) if damping > largest => {
                bail!("the Hessian ∇²ℓ stays indefinite even with damping μ = {damping:.3e}: {e}")
            }
            Err(_) => {
                damping = if damping == 0.0 {
                    1e-12 * largest
                } else {
                    damping * 100.0
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::growth_report;

    #[test]
    fn a_cause_is_named_only_when_the_iterates_show_it() {
        let growing: Vec<f64> = (1..=20).map(|k| k as f64).collect();
        let report = growth_report(&growing);
        assert!(report.contains("from 1.100e1 to 2.000e1"), "{report}");
        assert!(!report.contains("no minimizer"), "{report}");
        let doubling: Vec<f64> = (1..=20).map(|k| (k * k) as f64).collect();
        assert!(growth_report(&doubling).contains("no minimizer"));
        let settled = vec![2.2; 20];
        assert!(!growth_report(&settled).contains("no minimizer"));
        assert_eq!(growth_report(&[]), "");
    }
}
