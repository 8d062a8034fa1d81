//! An independent f64 reference for ℓ* of logistic and linear regression, for the tests that
//! check sgdlab's exact optimum and what is measured against it: its own loss, gradient and
//! Hessian (per-example terms summed pairwise, not sgdlab's compensated sum), Newton's method
//! with Gaussian elimination (not Cholesky) and step halving.

use sgdlab::data::{Dataset, Targets};

/// ℓ(Θ) = (1/n) Σ ℓ̂ + (λ₂/2)‖Θ‖² on `data`, Θ = (w, b). Newton stops when its step is below
/// 10⁻¹⁴ relative.
pub struct Reference<'a> {
    pub data: &'a Dataset,
    pub l2: f64,
}

/// Where the reference's Newton ended.
pub enum ReferenceOutcome {
    Minimum {
        theta: Vec<f64>,
        loss: f64,
    },
    /// An iterate classified every example strictly right: no minimizer without a penalty.
    Separated,
}

pub fn pairwise_sum(values: &[f64]) -> f64 {
    if values.len() <= 16 {
        return values.iter().sum();
    }
    let (left, right) = values.split_at(values.len() / 2);
    pairwise_sum(left) + pairwise_sum(right)
}

impl Reference<'_> {
    fn width(&self) -> usize {
        self.data.dim + 1
    }

    /// x̃_i = (x_i, 1).
    fn row(&self, i: usize) -> Vec<f64> {
        let mut x: Vec<f64> = self.data.row(i).iter().map(|&v| f64::from(v)).collect();
        x.push(1.0);
        x
    }

    /// (ℓ, ∇ℓ, ∇²ℓ) at θ.
    pub fn derivatives(&self, theta: &[f64]) -> (f64, Vec<f64>, Vec<Vec<f64>>) {
        let p = self.width();
        let n = self.data.len();
        let mut losses = Vec::with_capacity(n);
        let mut gradient_terms = vec![Vec::with_capacity(n); p];
        let mut hessian_terms = vec![vec![Vec::with_capacity(n); p]; p];
        for i in 0..n {
            let x = self.row(i);
            let z: f64 = x.iter().zip(theta).map(|(a, b)| a * b).sum();
            let (loss, first, second) = match &self.data.targets {
                Targets::Classes { labels, .. } => {
                    // ℓ̂ = ln(1 + e^{−s z}), s = ±1.
                    let s = if labels[i] == 1 { 1.0 } else { -1.0 };
                    let m = s * z;
                    let loss = if m > 0.0 {
                        (-m).exp().ln_1p()
                    } else {
                        -m + m.exp().ln_1p()
                    };
                    let q = 1.0 / (1.0 + m.exp()); // σ(−m)
                    (loss, -s * q, q * (1.0 - q))
                }
                Targets::Values(values) => {
                    let r = z - f64::from(values[i]);
                    (r * r, 2.0 * r, 2.0)
                }
            };
            losses.push(loss);
            for a in 0..p {
                gradient_terms[a].push(first * x[a]);
                for b in 0..=a {
                    hessian_terms[a][b].push(second * x[a] * x[b]);
                }
            }
        }
        let n = n as f64;
        let penalty =
            0.5 * self.l2 * pairwise_sum(&theta.iter().map(|t| t * t).collect::<Vec<_>>());
        let loss = pairwise_sum(&losses) / n + penalty;
        let gradient = (0..p)
            .map(|a| pairwise_sum(&gradient_terms[a]) / n + self.l2 * theta[a])
            .collect();
        let mut hessian = vec![vec![0.0; p]; p];
        for a in 0..p {
            for b in 0..=a {
                let h = pairwise_sum(&hessian_terms[a][b]) / n + if a == b { self.l2 } else { 0.0 };
                hessian[a][b] = h;
                hessian[b][a] = h;
            }
        }
        (loss, gradient, hessian)
    }

    pub fn loss(&self, theta: &[f64]) -> f64 {
        self.derivatives(theta).0
    }

    pub fn separates(&self, theta: &[f64]) -> bool {
        let Targets::Classes { labels, .. } = &self.data.targets else {
            return false;
        };
        (0..self.data.len()).all(|i| {
            let z: f64 = self.row(i).iter().zip(theta).map(|(a, b)| a * b).sum();
            if labels[i] == 1 { z > 0.0 } else { z < 0.0 }
        })
    }

    pub fn solve(&self) -> ReferenceOutcome {
        let p = self.width();
        let mut theta = vec![0.0; p];
        for _ in 0..100 {
            let (loss, gradient, hessian) = self.derivatives(&theta);
            if self.l2 == 0.0 && self.separates(&theta) {
                return ReferenceOutcome::Separated;
            }
            let step = gaussian_elimination(hessian, gradient.iter().map(|g| -g).collect());
            let scale = theta.iter().fold(1.0f64, |m, t| m.max(t.abs()));
            if step.iter().all(|s| s.abs() <= 1e-14 * scale) {
                return ReferenceOutcome::Minimum { theta, loss };
            }
            let mut t = 1.0;
            let mut next: Vec<f64> = theta.iter().zip(&step).map(|(a, s)| a + s).collect();
            // Halve while the step raises ℓ beyond its rounding.
            while self.loss(&next) > loss * (1.0 + 1e-14) && t > 1e-6 {
                t *= 0.5;
                next = theta.iter().zip(&step).map(|(a, s)| a + t * s).collect();
            }
            theta = next;
        }
        panic!("the reference Newton did not converge in 100 steps");
    }
}

/// Solves A x = b by Gaussian elimination with partial pivoting.
pub fn gaussian_elimination(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for column in 0..n {
        let pivot = (column..n)
            .max_by(|&i, &j| a[i][column].abs().total_cmp(&a[j][column].abs()))
            .unwrap();
        a.swap(column, pivot);
        b.swap(column, pivot);
        let (upper, lower) = a.split_at_mut(column + 1);
        let pivot_row = &upper[column];
        for (offset, row) in lower.iter_mut().enumerate() {
            let factor = row[column] / pivot_row[column];
            for (entry, &above) in row[column..].iter_mut().zip(&pivot_row[column..]) {
                *entry -= factor * above;
            }
            b[column + 1 + offset] -= factor * b[column];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let rest: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - rest) / a[row][row];
    }
    x
}

/// The diagonal of `matrix`⁻¹ (column by column, by [`gaussian_elimination`]).
pub fn inverse_diagonal(matrix: &[Vec<f64>]) -> Vec<f64> {
    let n = matrix.len();
    (0..n)
        .map(|i| {
            let unit: Vec<f64> = (0..n).map(|j| f64::from(u8::from(i == j))).collect();
            gaussian_elimination(matrix.to_vec(), unit)[i]
        })
        .collect()
}

/// The maximum-likelihood estimate's standard errors, √(diag(∇²ℓ(Θ̂)⁻¹)/n): ℓ is the mean
/// negative log-likelihood, so n ∇²ℓ is the observed Fisher information.
pub fn standard_errors(reference: &Reference, theta: &[f64]) -> Vec<f64> {
    let n = reference.data.len() as f64;
    let hessian = reference.derivatives(theta).2;
    inverse_diagonal(&hessian)
        .iter()
        .map(|v| (v / n).sqrt())
        .collect()
}
