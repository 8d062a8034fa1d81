//! Linear regression (+ Tikhonov), the lecture's closed-form case (§1's table).
//!
//! With X̃ the n × (d + 1) design matrix (the features and a column of ones for the
//! intercept), the objective is
//!
//! ```text
//! ℓ(θ) = (1/n) ‖X̃θ − y‖² + (μ/2) ‖θ‖²
//! ∇ℓ(θ) = (2/n) X̃ᵀ(X̃θ − y) + μθ = 0   ⇔   (X̃ᵀX̃ + (nμ/2) I) θ = X̃ᵀy
//! ```
//!
//! (the squared error has no ½, so the penalty enters as nμ/2, not nμ; the intercept is
//! penalized too, as the optimizers penalize every parameter). The normal equations' matrix
//! is symmetric positive definite when μ > 0 or X̃ has full column rank: one Cholesky
//! factorization solves them.

use super::linalg::{Cholesky, dot};
use super::{Objective, ObjectiveKind};
use crate::data::{Dataset, Targets};
use crate::{Result, bail};

/// θ* from the normal equations, with one step of iterative refinement (the residual
/// `X̃ᵀy − Aθ` solved again with the same factor) to recover the digits Cholesky loses to
/// A's conditioning. Returns (θ*, 1, the method in words).
pub(super) fn solve(objective: &Objective, data: &Dataset) -> Result<(Vec<f64>, usize, String)> {
    debug_assert_eq!(objective.kind, ObjectiveKind::LeastSquares);
    let Targets::Values(values) = &data.targets else {
        bail!("linear regression needs real-valued targets");
    };
    let (matrix, right_hand_side) = normal_equations(data, values, objective.l2);
    let width = data.dim + 1;
    let cholesky = Cholesky::factor(&matrix, width).map_err(|e| {
        if objective.l2 == 0.0 {
            crate::Error::new(format!(
                "X̃ᵀX̃ is singular (collinear or constant features, or fewer examples than parameters): the least-squares minimizer is not unique; set optimizer.weight_decay > 0 ({e})"
            ))
        } else {
            crate::Error::new(format!(
                "the normal equations X̃ᵀX̃ + (nμ/2)I are numerically singular: {e}"
            ))
        }
    })?;
    let mut theta = cholesky.solve(&right_hand_side);
    let residual: Vec<f64> = (0..width)
        .map(|p| right_hand_side[p] - dot(&matrix[p * width..(p + 1) * width], &theta))
        .collect();
    for (t, correction) in theta.iter_mut().zip(cholesky.solve(&residual)) {
        *t += correction;
    }
    Ok((
        theta,
        1,
        "closed form: Cholesky of the normal equations (X̃ᵀX̃ + (nμ/2)I) θ = X̃ᵀy".to_string(),
    ))
}

/// `A = X̃ᵀX̃ + (nμ/2) I` (row-major, (d+1) × (d+1)) and `X̃ᵀy`, with x̃ = (x, 1).
pub(super) fn normal_equations(data: &Dataset, values: &[f32], l2: f64) -> (Vec<f64>, Vec<f64>) {
    let d = data.dim;
    let width = d + 1;
    let mut matrix = vec![0.0; width * width];
    let mut right_hand_side = vec![0.0; width];
    let mut x = vec![0.0; width];
    for (i, &y) in values.iter().enumerate() {
        for (xj, &v) in x.iter_mut().zip(data.row(i)) {
            *xj = f64::from(v);
        }
        x[d] = 1.0;
        for p in 0..width {
            let row = &mut matrix[p * width..(p + 1) * width];
            for (a, &xq) in row.iter_mut().zip(&x) {
                *a += x[p] * xq;
            }
            right_hand_side[p] += x[p] * f64::from(y);
        }
    }
    let ridge = data.len() as f64 * l2 / 2.0;
    for p in 0..width {
        matrix[p * width + p] += ridge;
    }
    (matrix, right_hand_side)
}
