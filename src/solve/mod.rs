//! The exact optimum f* of the convex models, the reference the lecture's §6 measures
//! accuracy against: `|ℓ(f_Θ) − ℓ(f*)| < ρ`.
//!
//! The objective is exactly what training minimizes on the training split,
//!
//! ```text
//! ℓ(Θ) = (1/n) Σ_i ℓ̂(x_i, y_i) + (μ/2) ‖Θ‖²
//! ```
//!
//! with μ the optimizer's `weight_decay`, which our optimizers apply to every parameter,
//! biases included (`g ← g + μ θ` per tensor), and ℓ̂ one of
//!
//! - binary logistic: `softplus(z) − y z`, z = w·x + b (§1, from the logit);
//! - multinomial: `−ln softmax(z)_y = ln Σ_c e^{z_c} − z_y`, z = xW + b (log-sum-exp);
//! - squared error: `(ŷ − y)²`, ŷ = w·x + b, without a ½ (as `model::loss` computes it).
//!
//! Linear regression has a closed form (`least_squares.rs`); logistic and softmax regression
//! do not (∇ℓ = 0 is transcendental, §1) and are solved by Newton's method (`newton.rs`).
//! Plain f64 throughout, no Burn: the reference must not share the training code's f32 rounding.
//!
//! ℓ is computed to a few ulps whatever n: each ℓ̂ without cancellation (below), and the
//! sum over examples compensated (Neumaier). A plain f64 sum of 10⁵ terms near 0.43 is off by
//! ~10⁻¹⁴ (the running sum's rounding, growing like √n), which hid the last decrease of
//! Newton's steps from its line search.
//!
//! Parameters are flat, in the model's order (`train::trace::flat_parameters`): the weight
//! `[d, k]` row-major, then the bias `[k]`, with k = 1 for logistic and linear regression.
//! Writing x̃ = (x, 1), parameter `j k + c` multiplies x̃_j in output c: the bias is the
//! weight row of the constant feature, which is how the code below treats it.

mod least_squares;
pub mod linalg;
mod newton;
mod report;

pub use report::{OptimumReport, default_optimum_path, solve_config, write_optimum_json};

use crate::config::{Config, ModelKind, OptimizerConfig};
use crate::data::{Dataset, Targets};
use crate::stats::sigmoid;
use crate::{Result, bail};

/// Which loss ℓ̂ the objective averages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectiveKind {
    /// Binary logistic regression, `softplus(z) − y z`.
    Logistic,
    /// Multinomial logistic regression over `classes` classes, `−ln softmax(z)_y`. `None`: as
    /// many as the data have (a CSV with integer labels fixes its count only when loaded).
    Softmax { classes: Option<usize> },
    /// Linear regression, `(ŷ − y)²`.
    LeastSquares,
}

/// `ℓ(Θ) = (1/n) Σ ℓ̂ + (μ/2) ‖Θ‖²`, the training objective of a convex model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Objective {
    pub kind: ObjectiveKind,
    /// μ, the L2 (Tikhonov) coefficient: the optimizer's `weight_decay`.
    pub l2: f64,
}

/// The exact minimizer f* = argmin ℓ and how it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct Optimum {
    /// ℓ(f*), penalty included.
    pub loss: f64,
    /// Θ*, in the model's flat order.
    pub parameters: Vec<f64>,
    /// ‖∇ℓ(Θ*)‖, recomputed at the returned parameters.
    pub gradient_norm: f64,
    /// Newton steps taken (1 for the closed form).
    pub iterations: usize,
    pub seconds: f64,
    /// How Θ* was computed, in words.
    pub method: String,
}

/// ℓ and, when asked, ∇ℓ and ∇²ℓ at one Θ.
pub(crate) struct Evaluation {
    pub loss: f64,
    pub gradient: Vec<f64>,
    /// Row-major `P × P` (P parameters), empty unless asked for.
    pub hessian: Vec<f64>,
}

/// How much [`Objective::evaluate`] computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Order {
    Value,
    Gradient,
    Hessian,
}

impl Objective {
    /// The objective `config` trains, or why it has none: a non-convex model (mlp), or an
    /// optimizer whose weight decay is no L2 term of any objective (adamw).
    pub fn for_config(config: &Config) -> Result<Objective> {
        let kind = match config.model.kind {
            ModelKind::Logistic => ObjectiveKind::Logistic,
            ModelKind::Softmax => ObjectiveKind::Softmax {
                classes: config_classes(config),
            },
            ModelKind::Linear => ObjectiveKind::LeastSquares,
            ModelKind::Mlp => bail!(
                "model.kind = mlp is not convex: no exact optimum (solve logistic, softmax or linear models)"
            ),
        };
        let l2 = match &config.optimizer {
            OptimizerConfig::Sgd(c) => c.weight_decay,
            OptimizerConfig::Momentum(c) => c.weight_decay,
            OptimizerConfig::Nesterov(c) => c.weight_decay,
            OptimizerConfig::Adagrad(c) => c.weight_decay,
            OptimizerConfig::Rmsprop(c) => c.weight_decay,
            OptimizerConfig::Adam(c) => c.weight_decay,
            // θ ← θ(1 − αω) outside the adaptive step: its fixed points depend on α and the
            // moment estimates, so no ℓ + (ω/2)‖Θ‖² is minimized. Refusing beats a reference
            // (μ = 0) that training does not converge to.
            OptimizerConfig::Adamw(_) => bail!(
                "optimizer.name = adamw decays weights outside the gradient (decoupled): it minimizes no fixed objective, so there is no exact optimum (use adam with weight_decay for an L2 penalty)"
            ),
        };
        Ok(Objective { kind, l2 })
    }

    /// `None` for non-convex models (mlp) or optimizers without an L2 objective (adamw);
    /// [`Objective::for_config`] says why.
    pub fn from_config(config: &Config) -> Option<Objective> {
        Self::for_config(config).ok()
    }

    /// k, the number of outputs (logits or predictions) per example on `data`.
    ///
    /// # Panics
    /// If the data do not fit the objective (a classifier on real targets, a class count
    /// other than the objective's): a programming error, [`solve`] checks first.
    pub fn outputs(&self, data: &Dataset) -> usize {
        self.check_data(data)
            .unwrap_or_else(|e| panic!("Objective on the wrong data: {e}"))
    }

    /// The output count k on `data`, or why the data do not fit.
    fn check_data(&self, data: &Dataset) -> Result<usize> {
        match (self.kind, &data.targets) {
            (ObjectiveKind::LeastSquares, Targets::Values(_)) => Ok(1),
            (ObjectiveKind::Logistic, Targets::Classes { classes: 2, .. }) => Ok(1),
            (ObjectiveKind::Logistic, Targets::Classes { classes, .. }) => {
                bail!("binary logistic regression needs two classes, the data have {classes}")
            }
            (ObjectiveKind::Softmax { classes: wanted }, Targets::Classes { classes, .. }) => {
                match wanted {
                    Some(k) if k != *classes => {
                        bail!("the objective has {k} classes, the data have {classes}")
                    }
                    _ => Ok(*classes),
                }
            }
            (ObjectiveKind::LeastSquares, Targets::Classes { .. }) => {
                bail!("linear regression needs real-valued targets, the data have classes")
            }
            (_, Targets::Values(_)) => {
                bail!("a classifier needs class labels, the data have real-valued targets")
            }
        }
    }

    /// P = (d + 1) k: the weights `[d, k]` and the bias `[k]`.
    ///
    /// # Panics
    /// For a softmax objective whose class count only the data know (a CSV with integer
    /// labels): use [`Objective::with_classes_of`] first.
    pub fn parameter_count(&self, dim: usize) -> usize {
        let outputs = match self.kind {
            ObjectiveKind::Logistic | ObjectiveKind::LeastSquares => 1,
            ObjectiveKind::Softmax { classes } => classes.expect(
                "parameter_count: the class count comes from the data (Objective::with_classes_of)",
            ),
        };
        (dim + 1) * outputs
    }

    /// The same objective with a softmax class count taken from `data` when the config
    /// left it open.
    pub fn with_classes_of(mut self, data: &Dataset) -> Objective {
        if let ObjectiveKind::Softmax { classes: None } = self.kind {
            self.kind = ObjectiveKind::Softmax {
                classes: data.classes(),
            };
        }
        self
    }

    /// `ℓ(Θ) = (1/n) Σ ℓ̂ + (μ/2)‖Θ‖²` at `parameters` (the model's flat order) on `data`.
    pub fn loss(&self, data: &Dataset, parameters: &[f64]) -> f64 {
        self.evaluate(data, parameters, Order::Value).loss
    }

    /// `∇ℓ(Θ) = (1/n) Σ x̃_i ⊗ ∂ℓ̂/∂z_i + μ Θ`, in the flat order.
    pub fn gradient(&self, data: &Dataset, parameters: &[f64]) -> Vec<f64> {
        self.evaluate(data, parameters, Order::Gradient).gradient
    }

    /// A name per flat parameter: `w[feature]` and `b` for one output, `W[feature,c]` and
    /// `b[c]` for softmax.
    pub fn parameter_names(&self, data: &Dataset) -> Vec<String> {
        let k = self.outputs(data);
        let mut names = Vec::with_capacity((data.dim + 1) * k);
        for j in 0..=data.dim {
            for c in 0..k {
                let feature = data.feature_names.get(j).cloned();
                names.push(match (k, feature) {
                    (1, Some(f)) => format!("w[{f}]"),
                    (1, None) => "b".to_string(),
                    (_, Some(f)) => format!("W[{f},{c}]"),
                    (_, None) => format!("b[{c}]"),
                });
            }
        }
        names
    }

    /// ℓ, and ∇ℓ and ∇²ℓ as far as `order` asks, in one pass over the examples.
    ///
    /// Per example, with the logits (or prediction) z = x̃ᵀΘ (k of them), ℓ̂'s derivatives
    /// with respect to z are
    ///
    /// - logistic: `∂ℓ̂/∂z = σ(z) − y`, `∂²ℓ̂/∂z² = σ(z)(1 − σ(z))`;
    /// - softmax: `∂ℓ̂/∂z_c = p_c − [c = y]`, `∂²ℓ̂/∂z_c∂z_c' = p_c([c = c'] − p_c')`, p = softmax(z);
    /// - squared error: `∂ℓ̂/∂z = 2(z − y)`, `∂²ℓ̂/∂z² = 2`;
    ///
    /// and by the chain rule through z_c = Σ_j x̃_j Θ_{jk+c}:
    /// `∇ℓ = (1/n) Σ_i x̃_i ⊗ ∂ℓ̂_i/∂z + μΘ`, `∇²ℓ = (1/n) Σ_i (x̃_i x̃_iᵀ) ⊗ ∂²ℓ̂_i/∂z² + μI`.
    pub(crate) fn evaluate(&self, data: &Dataset, theta: &[f64], order: Order) -> Evaluation {
        let k = self.outputs(data);
        let d = data.dim;
        let width = d + 1;
        let count = width * k;
        assert_eq!(
            theta.len(),
            count,
            "Objective: {count} parameters expected for {d} features and {k} outputs"
        );
        let n = data.len();
        let mut loss_sum = CompensatedSum::default();
        let mut gradient = vec![0.0; if order >= Order::Gradient { count } else { 0 }];
        let mut hessian = vec![
            0.0;
            if order >= Order::Hessian {
                count * count
            } else {
                0
            }
        ];
        let mut x = vec![0.0; width];
        let mut z = vec![0.0; k];
        let mut dz = vec![0.0; k];
        let mut curvature = vec![0.0; k * k];
        // The nonzero entries of x̃: digit images are half zeros, which the Hessian's
        // O(nnz² k²) accumulation skips.
        let mut nonzero: Vec<usize> = Vec::with_capacity(width);
        for i in 0..n {
            for (xj, &v) in x.iter_mut().zip(data.row(i)) {
                *xj = f64::from(v);
            }
            x[d] = 1.0;
            z.iter_mut().for_each(|zc| *zc = 0.0);
            nonzero.clear();
            for (j, &xj) in x.iter().enumerate() {
                if xj != 0.0 {
                    nonzero.push(j);
                    let row = &theta[j * k..(j + 1) * k];
                    for (zc, &t) in z.iter_mut().zip(row) {
                        *zc += xj * t;
                    }
                }
            }
            loss_sum.add(self.example(&data.targets, i, &z, &mut dz, &mut curvature, order));
            if order >= Order::Gradient {
                for &j in &nonzero {
                    let row = &mut gradient[j * k..(j + 1) * k];
                    for (g, &dzc) in row.iter_mut().zip(&dz) {
                        *g += x[j] * dzc;
                    }
                }
            }
            if order >= Order::Hessian {
                // Blocks (j, j') with j' ≥ j only; mirrored below.
                for (position, &j) in nonzero.iter().enumerate() {
                    for &j2 in &nonzero[position..] {
                        let scale = x[j] * x[j2];
                        for c in 0..k {
                            let start = (j * k + c) * count + j2 * k;
                            let row = &mut hessian[start..start + k];
                            let weights = &curvature[c * k..(c + 1) * k];
                            // Index loops: see linalg::dot on the unoptimized build.
                            for c2 in 0..k {
                                row[c2] += scale * weights[c2];
                            }
                        }
                    }
                }
            }
        }
        let inverse_n = 1.0 / n.max(1) as f64;
        let penalty = 0.5 * self.l2 * theta.iter().map(|t| t * t).sum::<f64>();
        for (g, &t) in gradient.iter_mut().zip(theta) {
            *g = *g * inverse_n + self.l2 * t;
        }
        if order >= Order::Hessian {
            for p in 0..count {
                for q in 0..count {
                    if q / k < p / k {
                        // The lower block triangle, from its mirror image.
                        hessian[p * count + q] = hessian[q * count + p];
                    } else {
                        hessian[p * count + q] *= inverse_n;
                    }
                }
                hessian[p * count + p] += self.l2;
            }
        }
        Evaluation {
            loss: loss_sum.total() * inverse_n + penalty,
            gradient,
            hessian,
        }
    }

    /// ℓ̂ of example `i` at logits `z`; fills ∂ℓ̂/∂z and ∂²ℓ̂/∂z² (row-major k × k) as `order`
    /// asks.
    ///
    /// Each without cancellation, so that ℓ̂ and ∂ℓ̂/∂z are accurate to a few ulps of their
    /// own size even where ℓ̂ is tiny (a well-classified example, near-separable data):
    /// `softplus(z) − y z` is `softplus(−z)` for y = 1 and `softplus(z)` for y = 0, and
    /// `σ(z) − 1 = −σ(−z)`; for softmax, `ln Σ_c e^{z_c} − z_y = ln Σ_c e^{z_c − z_y}` and
    /// `p_y − 1 = −Σ_{c≠y} p_c`.
    fn example(
        &self,
        targets: &Targets,
        i: usize,
        z: &[f64],
        dz: &mut [f64],
        curvature: &mut [f64],
        order: Order,
    ) -> f64 {
        match (self.kind, targets) {
            (ObjectiveKind::LeastSquares, Targets::Values(values)) => {
                let residual = z[0] - f64::from(values[i]);
                dz[0] = 2.0 * residual;
                curvature[0] = 2.0;
                residual * residual
            }
            (ObjectiveKind::Logistic, Targets::Classes { labels, .. }) => {
                // Labels are 0 or 1: the margin m = ±z is positive when classified right.
                let sign = if labels[i] == 1 { 1.0 } else { -1.0 };
                let margin = sign * z[0];
                dz[0] = -sign * sigmoid(-margin);
                curvature[0] = sigmoid(margin) * sigmoid(-margin);
                softplus(-margin)
            }
            (ObjectiveKind::Softmax { .. }, Targets::Classes { labels, .. }) => {
                let label = labels[i] as usize;
                let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                // ℓ̂ = ln Σ_c e^{z_c − z_y}: with the true class the largest logit, ln(1 + s)
                // with s the other classes' terms; otherwise (m − z_y) + ln Σ e^{z_c − m},
                // a sum of two nonnegative numbers.
                let loss = if z[label] >= max {
                    let others: f64 = (0..z.len())
                        .filter(|&c| c != label)
                        .map(|c| (z[c] - z[label]).exp())
                        .sum();
                    others.ln_1p()
                } else {
                    let sum: f64 = z.iter().map(|zc| (zc - max).exp()).sum();
                    (max - z[label]) + sum.ln()
                };
                if order >= Order::Gradient {
                    let k = z.len();
                    // ln Σ_c e^{z_c} = z_y + ℓ̂.
                    let log_sum_exp = z[label] + loss;
                    for c in 0..k {
                        dz[c] = (z[c] - log_sum_exp).exp();
                    }
                    dz[label] = -(0..k).filter(|&c| c != label).map(|c| dz[c]).sum::<f64>();
                    if order >= Order::Hessian {
                        for c in 0..k {
                            let p = (z[c] - log_sum_exp).exp();
                            for c2 in 0..k {
                                let p2 = (z[c2] - log_sum_exp).exp();
                                curvature[c * k + c2] = p * (f64::from(u8::from(c == c2)) - p2);
                            }
                        }
                    }
                }
                loss
            }
            _ => unreachable!("outputs() checked the targets against the objective"),
        }
    }

    /// Whether Θ classifies every training example correctly with a strict margin: the true
    /// class's logit above every other (binary: z > 0 for y = 1, z < 0 for y = 0). Such a Θ
    /// proves the data linearly separable: ℓ̂(tΘ) → 0 as t → ∞, so without a penalty ℓ has
    /// infimum 0 and, being positive everywhere, no minimizer.
    pub(crate) fn separates(&self, data: &Dataset, theta: &[f64]) -> bool {
        let Targets::Classes { labels, .. } = &data.targets else {
            return false;
        };
        let k = self.outputs(data);
        let d = data.dim;
        let mut z = vec![0.0; k];
        labels.iter().enumerate().all(|(i, &label)| {
            z.copy_from_slice(&theta[d * k..(d + 1) * k]);
            for (j, &v) in data.row(i).iter().enumerate() {
                for (zc, &t) in z.iter_mut().zip(&theta[j * k..(j + 1) * k]) {
                    *zc += f64::from(v) * t;
                }
            }
            let label = label as usize;
            if k == 1 {
                if label == 1 { z[0] > 0.0 } else { z[0] < 0.0 }
            } else {
                (0..k).all(|c| c == label || z[label] > z[c])
            }
        })
    }

    /// The model kind in words, for reports.
    pub fn describe(&self) -> String {
        let model = match self.kind {
            ObjectiveKind::Logistic => "binary logistic regression".to_string(),
            ObjectiveKind::Softmax { classes: Some(k) } => {
                format!("softmax regression ({k} classes)")
            }
            ObjectiveKind::Softmax { classes: None } => "softmax regression".to_string(),
            ObjectiveKind::LeastSquares => "linear regression (squared error)".to_string(),
        };
        format!("{model}, μ = {}", self.l2)
    }
}

/// The class count the config alone fixes, if any.
fn config_classes(config: &Config) -> Option<usize> {
    use crate::config::DataSource;
    match config.data.source {
        DataSource::BreastCancer | DataSource::Lecture1d => Some(2),
        DataSource::Digits | DataSource::Mnist => Some(10),
        DataSource::Csv => config.data.classes.as_ref().map(Vec::len),
        DataSource::Diabetes => None,
    }
}

/// A sum accurate to a few ulps of its total whatever the number of terms: Neumaier's
/// compensated summation, which carries each addition's rounding error along.
#[derive(Debug, Clone, Copy, Default)]
struct CompensatedSum {
    sum: f64,
    compensation: f64,
}

impl CompensatedSum {
    fn add(&mut self, value: f64) {
        let total = self.sum + value;
        self.compensation += if self.sum.abs() >= value.abs() {
            (self.sum - total) + value
        } else {
            (value - total) + self.sum
        };
        self.sum = total;
    }

    fn total(self) -> f64 {
        self.sum + self.compensation
    }
}

/// `softplus(z) = ln(1 + e^z) = max(z, 0) + ln(1 + e^{−|z|})`, finite for every finite z.
pub(crate) fn softplus(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

/// Θ* = argmin ℓ on `data` (the training split): the closed form for least squares, Newton's
/// method otherwise. Errors (one line) when there is no minimizer (linearly separable data
/// without a penalty, collinear features in unpenalized least squares) or Newton fails.
pub fn solve(objective: &Objective, data: &Dataset) -> Result<Optimum> {
    solve_within(objective, data, usize::MAX)
}

/// [`solve`] in at most `max_passes` passes over `data` (evaluations of ℓ; a converging
/// Newton solve takes about two a step, 10 to 30 in all): an error saying so once they are
/// spent. The closed form of least squares takes one.
pub fn solve_within(objective: &Objective, data: &Dataset, max_passes: usize) -> Result<Optimum> {
    objective.check_data(data)?;
    if data.is_empty() {
        bail!("the training split is empty: nothing to solve");
    }
    let objective = objective.with_classes_of(data);
    let started = std::time::Instant::now();
    let (parameters, iterations, method) = match objective.kind {
        ObjectiveKind::LeastSquares => least_squares::solve(&objective, data)?,
        ObjectiveKind::Logistic | ObjectiveKind::Softmax { .. } => {
            newton::solve(&objective, data, max_passes)?
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    let evaluation = objective.evaluate(data, &parameters, Order::Gradient);
    Ok(Optimum {
        loss: evaluation.loss,
        gradient_norm: linalg::norm(&evaluation.gradient),
        parameters,
        iterations,
        seconds,
        method,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(features: Vec<f32>, dim: usize, labels: Vec<u32>, k: usize) -> Dataset {
        Dataset {
            feature_names: (0..dim).map(|j| format!("x{j}")).collect(),
            features,
            dim,
            targets: Targets::Classes { labels, classes: k },
        }
    }

    /// Central differences of ℓ against the analytic gradient and Hessian.
    fn check_derivatives(objective: Objective, data: &Dataset, theta: &[f64]) {
        let exact = objective.evaluate(data, theta, Order::Hessian);
        let count = theta.len();
        let h = 1e-5;
        for p in 0..count {
            let mut plus = theta.to_vec();
            let mut minus = theta.to_vec();
            plus[p] += h;
            minus[p] -= h;
            let numeric = (objective.loss(data, &plus) - objective.loss(data, &minus)) / (2.0 * h);
            assert!(
                (numeric - exact.gradient[p]).abs() < 1e-7,
                "∂ℓ/∂θ_{p}: {numeric} vs {}",
                exact.gradient[p]
            );
            let g_plus = objective.gradient(data, &plus);
            let g_minus = objective.gradient(data, &minus);
            for q in 0..count {
                let numeric = (g_plus[q] - g_minus[q]) / (2.0 * h);
                let analytic = exact.hessian[q * count + p];
                assert!(
                    (numeric - analytic).abs() < 1e-7,
                    "∂²ℓ/∂θ_{q}∂θ_{p}: {numeric} vs {analytic}"
                );
            }
        }
    }

    #[test]
    fn derivatives_match_finite_differences() {
        let features = vec![0.5, -1.0, 2.0, 0.0, -0.3, 0.7, 1.1, 1.5];
        let binary = classes(features.clone(), 2, vec![1, 0, 0, 1], 2);
        let logistic = Objective {
            kind: ObjectiveKind::Logistic,
            l2: 0.1,
        };
        check_derivatives(logistic, &binary, &[0.3, -0.2, 0.1]);

        let three = classes(features.clone(), 2, vec![2, 0, 1, 2], 3);
        let softmax = Objective {
            kind: ObjectiveKind::Softmax { classes: Some(3) },
            l2: 0.05,
        };
        let theta: Vec<f64> = (0..9).map(|p| 0.1 * p as f64 - 0.4).collect();
        check_derivatives(softmax, &three, &theta);

        let regression = Dataset {
            targets: Targets::Values(vec![1.0, -2.0, 0.5, 3.0]),
            ..binary
        };
        let least_squares = Objective {
            kind: ObjectiveKind::LeastSquares,
            l2: 0.2,
        };
        check_derivatives(least_squares, &regression, &[0.4, 0.9, -0.5]);
    }

    #[test]
    fn losses_at_zero_are_the_textbook_values() {
        let data = classes(vec![1.0, -1.0, 2.0], 1, vec![1, 0, 2], 3);
        // Θ = 0: every class equally likely, ℓ̂ = ln 3 each.
        let softmax = Objective {
            kind: ObjectiveKind::Softmax { classes: None },
            l2: 1.0,
        };
        assert!((softmax.loss(&data, &[0.0; 6]) - 3f64.ln()).abs() < 1e-15);
        // ½μ‖Θ‖² with Θ = (1, ..., 1): 3 more.
        let shifted = softmax.loss(&data, &[1.0; 6]);
        assert!((shifted - (3f64.ln() + 3.0)).abs() < 1e-14, "{shifted}");
        assert_eq!(
            softmax.parameter_names(&data),
            ["W[x0,0]", "W[x0,1]", "W[x0,2]", "b[0]", "b[1]", "b[2]"]
        );
    }

    #[test]
    fn the_compensated_sum_is_exact_where_a_plain_one_is_not() {
        // 1 + 10⁶ × 10⁻¹⁶: a plain f64 sum never leaves 1 (each term is below half an ulp).
        let mut sum = CompensatedSum::default();
        sum.add(1.0);
        let mut plain = 1.0;
        for _ in 0..1_000_000 {
            sum.add(1e-16);
            plain += 1e-16;
        }
        assert_eq!(plain, 1.0);
        assert!(
            (sum.total() - (1.0 + 1e-10)).abs() < 1e-16,
            "{}",
            sum.total()
        );
    }

    #[test]
    fn tiny_losses_keep_their_digits() {
        // One example with y = 1 at z = 40: ℓ̂ = ln(1 + e^{−40}) = e^{−40} to 17 digits, which
        // softplus(z) − z (40 + 4.2e-18 − 40 = 0) loses entirely.
        let data = classes(vec![1.0], 1, vec![1], 2);
        let logistic = Objective {
            kind: ObjectiveKind::Logistic,
            l2: 0.0,
        };
        let evaluation = logistic.evaluate(&data, &[40.0, 0.0], Order::Gradient);
        let expected = (-40f64).exp();
        assert!(
            (evaluation.loss / expected - 1.0).abs() < 1e-14,
            "{}",
            evaluation.loss
        );
        assert!((evaluation.gradient[0] / -expected - 1.0).abs() < 1e-14);
        // Softmax with the true class far ahead: ℓ̂ = ln(1 + 2e^{−40}).
        let data = classes(vec![1.0], 1, vec![0], 3);
        let softmax = Objective {
            kind: ObjectiveKind::Softmax { classes: Some(3) },
            l2: 0.0,
        };
        let evaluation = softmax.evaluate(&data, &[40.0, 0.0, 0.0, 0.0, 0.0, 0.0], Order::Gradient);
        assert!(
            (evaluation.loss / (2.0 * expected) - 1.0).abs() < 1e-14,
            "{}",
            evaluation.loss
        );
        assert!((evaluation.gradient[0] / (-2.0 * expected) - 1.0).abs() < 1e-14);
    }

    #[test]
    fn newton_stops_within_its_budget_of_passes_and_says_so() {
        // Quasi-separable: x < 0 → 0, x > 0 → 1, and both labels at x = 0. No strictly
        // separating line and no minimizer: ℓ falls to its infimum 2 ln 2 / 6 as w → ∞.
        let data = classes(
            vec![-2.0, -1.0, 0.0, 0.0, 1.0, 2.0],
            1,
            vec![0, 0, 0, 1, 1, 1],
            2,
        );
        let logistic = Objective {
            kind: ObjectiveKind::Logistic,
            l2: 0.0,
        };
        let message = solve_within(&logistic, &data, 5).unwrap_err().to_string();
        assert!(
            message.contains("budget of 5 passes over the 6 examples"),
            "{message}"
        );
        // Without the budget, Newton follows ℓ down to within rounding of its infimum.
        let optimum = solve(&logistic, &data).unwrap();
        let infimum = 2.0 * 2f64.ln() / 6.0;
        assert!((optimum.loss - infimum).abs() < 1e-9, "{}", optimum.loss);
        assert!(optimum.parameters[0] > 10.0);
    }

    #[test]
    fn softplus_is_stable() {
        assert_eq!(softplus(1000.0), 1000.0);
        assert_eq!(softplus(-1000.0), 0.0);
        assert!((softplus(0.0) - 2f64.ln()).abs() < 1e-16);
    }
}
