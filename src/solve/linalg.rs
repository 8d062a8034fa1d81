//! The little dense linear algebra the exact solvers need: a Cholesky factorization
//! `A = L Lᵀ` of a symmetric positive-definite matrix and the two triangular solves with it.
//! Plain f64, row-major `n × n` slices; the matrices here have at most a few hundred rows.

use std::fmt;

/// Why a matrix has no Cholesky factor: at `column`, the pivot `a_jj − Σ_{k<j} L_jk²` was not
/// safely positive (`pivot` ≤ `threshold`, a tiny multiple of the largest diagonal entry), so
/// the matrix is singular or indefinite to working precision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NotPositiveDefinite {
    pub column: usize,
    pub pivot: f64,
    pub threshold: f64,
}

impl fmt::Display for NotPositiveDefinite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the matrix is not positive definite (Cholesky pivot {:.3e} ≤ {:.3e} at column {})",
            self.pivot, self.threshold, self.column
        )
    }
}

/// Pivots at or below this fraction of the largest diagonal entry count as zero: a matrix that
/// close to singular would give a solution dominated by rounding error.
const RELATIVE_PIVOT_FLOOR: f64 = 1e-13;

/// The lower-triangular factor L of `A = L Lᵀ`.
#[derive(Debug, Clone)]
pub struct Cholesky {
    n: usize,
    /// Row-major `n × n`, zero above the diagonal.
    lower: Vec<f64>,
}

impl Cholesky {
    /// Factors the symmetric `n × n` matrix `a` (row-major; only its lower triangle is read).
    ///
    /// `L_jj = √(a_jj − Σ_{k<j} L_jk²)`, `L_ij = (a_ij − Σ_{k<j} L_ik L_jk) / L_jj` for i > j.
    pub fn factor(a: &[f64], n: usize) -> Result<Self, NotPositiveDefinite> {
        assert_eq!(a.len(), n * n, "Cholesky::factor: a is not n × n");
        let largest_diagonal = (0..n).map(|j| a[j * n + j].abs()).fold(0.0, f64::max);
        let threshold = RELATIVE_PIVOT_FLOOR * largest_diagonal.max(f64::MIN_POSITIVE);
        let mut lower = vec![0.0; n * n];
        for j in 0..n {
            let row_j = &lower[j * n..j * n + j];
            let pivot = a[j * n + j] - dot(row_j, row_j);
            // NaN (from NaN entries) fails too.
            if pivot.is_nan() || pivot <= threshold {
                return Err(NotPositiveDefinite {
                    column: j,
                    pivot,
                    threshold,
                });
            }
            let diagonal = pivot.sqrt();
            lower[j * n + j] = diagonal;
            for i in j + 1..n {
                let (head, tail) = lower.split_at_mut(i * n);
                let row_j = &head[j * n..j * n + j];
                let row_i = &mut tail[..=j];
                row_i[j] = (a[i * n + j] - dot(&row_i[..j], row_j)) / diagonal;
            }
        }
        Ok(Self { n, lower })
    }

    /// x with `A x = b`: forward substitution `L z = b`, then back substitution `Lᵀ x = z`.
    pub fn solve(&self, b: &[f64]) -> Vec<f64> {
        let n = self.n;
        assert_eq!(b.len(), n, "Cholesky::solve: b has the wrong length");
        let mut z = vec![0.0; n];
        for i in 0..n {
            let row = &self.lower[i * n..i * n + i];
            z[i] = (b[i] - dot(row, &z[..i])) / self.lower[i * n + i];
        }
        let mut x = z;
        for i in (0..n).rev() {
            // Column i of L below the diagonal is row i of Lᵀ.
            let mut sum = x[i];
            for (k, &xk) in x.iter().enumerate().skip(i + 1) {
                sum -= self.lower[k * n + i] * xk;
            }
            x[i] = sum / self.lower[i * n + i];
        }
        x
    }
}

/// `Σ_k a_k b_k`.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let len = a.len().min(b.len());
    let (a, b) = (&a[..len], &b[..len]);
    // Four partial sums: independent additions pipeline, and the plain index loop stays
    // fast in the unoptimized test build, where iterator adapters are not inlined.
    let mut sums = [0.0; 4];
    let whole = len - len % 4;
    let mut t = 0;
    while t < whole {
        sums[0] += a[t] * b[t];
        sums[1] += a[t + 1] * b[t + 1];
        sums[2] += a[t + 2] * b[t + 2];
        sums[3] += a[t + 3] * b[t + 3];
        t += 4;
    }
    while t < len {
        sums[0] += a[t] * b[t];
        t += 1;
    }
    (sums[0] + sums[1]) + (sums[2] + sums[3])
}

/// The Euclidean norm `‖v‖`.
pub fn norm(v: &[f64]) -> f64 {
    dot(v, v).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_a_known_system() {
        // A = [[4, 2, 0], [2, 5, 1], [0, 1, 3]] (positive definite), x = (1, −2, 3).
        let a = [4.0, 2.0, 0.0, 2.0, 5.0, 1.0, 0.0, 1.0, 3.0];
        let x_true = [1.0, -2.0, 3.0];
        let b: Vec<f64> = (0..3).map(|i| dot(&a[i * 3..i * 3 + 3], &x_true)).collect();
        let x = Cholesky::factor(&a, 3).unwrap().solve(&b);
        for (got, want) in x.iter().zip(x_true) {
            assert!((got - want).abs() < 1e-14, "{x:?}");
        }
    }

    #[test]
    fn refuses_singular_and_indefinite_matrices() {
        // Rank one: [[1, 2], [2, 4]].
        let singular = Cholesky::factor(&[1.0, 2.0, 2.0, 4.0], 2).unwrap_err();
        assert_eq!(singular.column, 1);
        assert!(singular.to_string().contains("not positive definite"));
        // Eigenvalues 3 and −1.
        let indefinite = Cholesky::factor(&[1.0, 2.0, 2.0, 1.0], 2).unwrap_err();
        assert_eq!(indefinite.column, 1);
        assert!(indefinite.pivot < 0.0);
        assert!(Cholesky::factor(&[f64::NAN], 1).is_err());
    }
}
