//! Line search along the steepest-descent ray, lecture §2:
//!
//! ```text
//! α* = argmin_α φ(α),   φ(α) = ℓ(θ − α g),   g = ∇ℓ(θ)
//! ```
//!
//! The searches see only φ (one loss evaluation per call) and two facts about the ray at
//! α = 0: `φ(0) = ℓ(θ)` and the slope `φ'(0) = −‖g‖²`.
//!
//! - **Armijo** (backtracking): start from α₀ and shrink `α ← τ α` until the sufficient
//!   decrease `φ(α) ≤ φ(0) − c α ‖g‖²` holds.
//! - **Exact, quadratic ℓ** (linear regression, with or without Tikhonov): φ is a parabola
//!   `φ(α) = φ(0) − α ‖g‖² + ½ α² gᵀHg`, so one evaluation φ(α₀) gives its curvature
//!   `gᵀHg = 2 (φ(α₀) − φ(0) + α₀ ‖g‖²) / α₀²` and the minimizer `α* = ‖g‖² / gᵀHg`.
//! - **Exact, otherwise**: bracket the minimizer by growing α₀ by the golden ratio while φ
//!   decreases (or shrinking it until φ(α) < φ(0)), then golden-section search in the bracket.

use crate::{Result, bail};

/// The outcome of one search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Accepted {
    /// The step α taken.
    pub step: f64,
    /// φ(α), the loss at the new point.
    pub loss: f64,
    /// How many times φ was evaluated (φ(0) not counted: the gradient pass computes it).
    pub evaluations: usize,
}

/// At most this many evaluations of φ per search before giving up.
pub const MAX_EVALUATIONS: usize = 60;

/// Backtracking from `initial_step`: the first `α = τ^k α₀` with
/// `φ(α) ≤ φ(0) − c α ‖g‖²` (and φ(α) < φ(0)). An error when none of [`MAX_EVALUATIONS`] is:
/// at the optimum to the precision of ℓ, or along a direction that does not descend.
pub fn armijo(
    mut phi: impl FnMut(f64) -> f64,
    loss: f64,
    gradient_norm_squared: f64,
    initial_step: f64,
    sufficient_decrease: f64,
    backtracking_factor: f64,
) -> Result<Accepted> {
    let mut step = initial_step;
    for evaluations in 1..=MAX_EVALUATIONS {
        let trial = phi(step);
        // `trial < loss` too: once α‖g‖² is below the resolution of ℓ both sides round to ℓ,
        // and accepting that would be a step that provably did nothing.
        if trial <= loss - sufficient_decrease * step * gradient_norm_squared && trial < loss {
            return Ok(Accepted {
                step,
                loss: trial,
                evaluations,
            });
        }
        step *= backtracking_factor;
    }
    bail!(
        "armijo line search: no step down to {step:e} decreases the loss ℓ = {loss} enough (‖∇ℓ‖² = {gradient_norm_squared:e}); the gradient may be wrong or ℓ not finite"
    )
}

/// The minimizer of a parabola φ from φ(0), φ'(0) = −‖g‖² and one evaluation at α₀.
pub fn exact_quadratic(
    mut phi: impl FnMut(f64) -> f64,
    loss: f64,
    gradient_norm_squared: f64,
    initial_step: f64,
) -> Result<Accepted> {
    let at_initial = phi(initial_step);
    let curvature =
        2.0 * (at_initial - loss + initial_step * gradient_norm_squared) / initial_step.powi(2);
    if !(curvature.is_finite() && curvature > 0.0) {
        // Flat or rounding-dominated (‖g‖ ≈ 0): fall back to the safe general search.
        return golden_section(phi, loss, initial_step).map(|mut accepted| {
            accepted.evaluations += 1;
            accepted
        });
    }
    let step = gradient_norm_squared / curvature;
    Ok(Accepted {
        step,
        loss: phi(step),
        evaluations: 2,
    })
}

/// Golden-section search for the minimizer of a unimodal φ on the ray, after bracketing it.
pub fn golden_section(
    mut phi: impl FnMut(f64) -> f64,
    loss: f64,
    initial_step: f64,
) -> Result<Accepted> {
    const GOLDEN: f64 = 1.618_033_988_749_895;
    let mut evaluations = 0;
    let mut eval = |alpha: f64, evaluations: &mut usize| {
        *evaluations += 1;
        phi(alpha)
    };

    // Bracket [low, high] around a point `middle` with φ(middle) below both ends.
    let (mut low, mut middle, mut high);
    let mut at_middle = eval(initial_step, &mut evaluations);
    if at_middle < loss {
        low = 0.0;
        middle = initial_step;
        loop {
            high = middle * GOLDEN;
            let at_high = eval(high, &mut evaluations);
            if at_high >= at_middle {
                break;
            }
            if evaluations >= MAX_EVALUATIONS / 2 {
                // Still decreasing far out: take the best point found.
                return Ok(Accepted {
                    step: high,
                    loss: at_high,
                    evaluations,
                });
            }
            (low, middle, at_middle) = (middle, high, at_high);
        }
    } else {
        high = initial_step;
        middle = initial_step;
        loop {
            middle /= GOLDEN;
            at_middle = eval(middle, &mut evaluations);
            if at_middle < loss {
                break;
            }
            if evaluations >= MAX_EVALUATIONS / 2 {
                bail!(
                    "exact line search: no step down to {middle:e} decreases the loss ℓ = {loss}; the gradient may be wrong or ℓ not finite"
                );
            }
            high = middle;
        }
        low = 0.0;
    }

    // Golden section: shrink the bracket, keeping the best point, until it is relatively small.
    let (mut best, mut at_best) = (middle, at_middle);
    let inverse = 1.0 / GOLDEN;
    let mut x1 = high - inverse * (high - low);
    let mut x2 = low + inverse * (high - low);
    let mut f1 = eval(x1, &mut evaluations);
    let mut f2 = eval(x2, &mut evaluations);
    while evaluations < MAX_EVALUATIONS && (high - low) > 1e-6 * best.max(f64::MIN_POSITIVE) {
        if f1 < f2 {
            high = x2;
            (x2, f2) = (x1, f1);
            x1 = high - inverse * (high - low);
            f1 = eval(x1, &mut evaluations);
        } else {
            low = x1;
            (x1, f1) = (x2, f2);
            x2 = low + inverse * (high - low);
            f2 = eval(x2, &mut evaluations);
        }
        for (x, f) in [(x1, f1), (x2, f2)] {
            if f < at_best {
                (best, at_best) = (x, f);
            }
        }
    }
    Ok(Accepted {
        step: best,
        loss: at_best,
        evaluations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// φ along −g of `f(x, y) = ½ (a x² + b y²)` from (x, y): a 2-D quadratic.
    fn quadratic_ray(a: f64, b: f64, x: f64, y: f64) -> (impl Fn(f64) -> f64, f64, f64) {
        let (gx, gy) = (a * x, b * y);
        let f = move |x: f64, y: f64| 0.5 * (a * x * x + b * y * y);
        let phi = move |alpha: f64| f(x - alpha * gx, y - alpha * gy);
        (phi, f(x, y), gx * gx + gy * gy)
    }

    #[test]
    fn exact_on_a_quadratic_lands_on_the_ray_minimizer() {
        let (a, b, x, y) = (1.0, 10.0, 3.0, -2.0);
        let (phi, loss, g2) = quadratic_ray(a, b, x, y);
        let accepted = exact_quadratic(&phi, loss, g2, 1.0).unwrap();
        // α* = gᵀg / gᵀHg in closed form.
        let (gx, gy) = (a * x, b * y);
        let expected = (gx * gx + gy * gy) / (a * gx * gx + b * gy * gy);
        assert!((accepted.step - expected).abs() < 1e-12 * expected);
        assert!(
            phi(accepted.step * 1.01) > accepted.loss && phi(accepted.step * 0.99) > accepted.loss
        );
        assert_eq!(accepted.evaluations, 2);
    }

    #[test]
    fn golden_section_finds_the_same_minimizer_without_knowing_phi_is_quadratic() {
        let (phi, loss, _) = quadratic_ray(1.0, 10.0, 3.0, -2.0);
        let expected = (9.0 + 400.0) / (9.0 + 4000.0);
        for start in [1e-4, 0.05, 0.1, 3.0] {
            let accepted = golden_section(&phi, loss, start).unwrap();
            assert!(
                (accepted.step - expected).abs() < 1e-4 * expected,
                "from α₀ = {start}: {} vs {expected}",
                accepted.step
            );
            assert!(accepted.evaluations <= MAX_EVALUATIONS);
        }
    }

    #[test]
    fn armijo_accepts_the_first_step_with_sufficient_decrease() {
        let (phi, loss, g2) = quadratic_ray(1.0, 10.0, 3.0, -2.0);
        let accepted = armijo(&phi, loss, g2, 1.0, 1e-4, 0.5).unwrap();
        // The accepted step satisfies the condition and its predecessor (2α) did not.
        assert!(accepted.loss <= loss - 1e-4 * accepted.step * g2);
        let previous = 2.0 * accepted.step;
        assert!(phi(previous) > loss - 1e-4 * previous * g2);
        assert_eq!(
            accepted.evaluations as i32,
            1 + (1.0 / accepted.step).log2() as i32
        );
    }

    #[test]
    fn a_direction_that_never_descends_is_an_error_not_a_hang() {
        let uphill = |alpha: f64| 1.0 + alpha;
        let error = armijo(uphill, 1.0, 1.0, 1.0, 1e-4, 0.5).unwrap_err();
        assert!(error.to_string().contains("armijo line search"), "{error}");
        let error = golden_section(uphill, 1.0, 1.0).unwrap_err();
        assert!(error.to_string().contains("exact line search"), "{error}");
    }
}
