//! Newton's method for logistic and softmax regression, where ∇ℓ = 0 has no closed form (§1).
//!
//! ```text
//! solve  ∇²ℓ(Θ) Δ = −∇ℓ(Θ)                      (the Newton direction; Cholesky)
//! Θ ← Θ + t Δ,  t = 1, ½, ¼, ... the first with  ℓ(Θ + tΔ) ≤ ℓ(Θ) + c t ∇ℓᵀΔ,  c = 10⁻⁴ (Armijo)
//! ```
//!
//! from Θ = 0 until ‖∇ℓ‖ ≤ 10⁻¹⁰. For the logistic loss this is IRLS: ∇²ℓ = (1/n) X̃ᵀ W X̃ + μI
//! with W = diag(σ(z_i)(1 − σ(z_i))). Near the optimum the full step is taken and convergence
//! is quadratic; the line search makes the first steps from Θ = 0 safe.
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
/// Halvings of t before the line search gives up.
const MAX_HALVINGS: usize = 60;

/// Θ* by damped Newton from 0. Returns (Θ*, Newton steps, the method in words).
pub(super) fn solve(objective: &Objective, data: &Dataset) -> Result<(Vec<f64>, usize, String)> {
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
    for iteration in 0..=MAX_ITERATIONS {
        let evaluation = objective.evaluate(data, &theta, Order::Hessian);
        let loss = evaluation.loss;
        if !loss.is_finite() {
            bail!("Newton's method diverged: ℓ = {loss} at step {iteration}");
        }
        let gradient_norm = norm(&evaluation.gradient);
        if gradient_norm <= GRADIENT_TOLERANCE {
            if damped_steps > 0 {
                method.push_str(&format!(
                    "; {damped_steps} step(s) Levenberg-damped (∇²ℓ singular to working precision)"
                ));
            }
            return Ok((theta, iteration, method));
        }
        if unpenalized && objective.separates(data, &theta) {
            bail!(
                "the training data are linearly separable: ℓ has no minimizer (its infimum is 0; Newton step {iteration} reached ℓ = {loss:.3e} with every example on its side); set optimizer.weight_decay > 0"
            );
        }
        if iteration == MAX_ITERATIONS {
            let hint = if unpenalized {
                " (without a penalty the data may be quasi-separable, so that no minimizer exists; try optimizer.weight_decay > 0)"
            } else {
                ""
            };
            bail!(
                "Newton's method did not converge in {MAX_ITERATIONS} steps: ‖∇ℓ‖ = {gradient_norm:.3e}, ‖Θ‖ = {:.3e}{hint}",
                norm(&theta)
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

        let mut step = 1.0;
        let mut accepted = None;
        for _ in 0..MAX_HALVINGS {
            let mut trial = theta.clone();
            for (&p, &delta) in free.iter().zip(&direction) {
                trial[p] += step * delta;
            }
            let trial_loss = objective.loss(data, &trial);
            // The second test: close to Θ* the decrease of a full step drops below ℓ's
            // rounding error, and the Newton step is then the one to trust.
            let within_rounding =
                step == 1.0 && trial_loss <= loss + 16.0 * f64::EPSILON * loss.abs();
            if trial_loss <= loss + ARMIJO * step * slope || within_rounding {
                accepted = Some(trial);
                break;
            }
            step *= 0.5;
        }
        let Some(next) = accepted else {
            bail!(
                "Newton's line search found no decrease at step {iteration} (ℓ = {loss:.12e}, ‖∇ℓ‖ = {gradient_norm:.3e})"
            );
        };
        theta = next;
    }
    unreachable!("the loop returns or bails at MAX_ITERATIONS")
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
