//! The two-parameter problems the path experiments draw (momentum, learning-rate, adaptive,
//! stationary), and the loop that walks sgdlab's own optimizers over them.
//!
//! Every path comes from a real optimizer step: θ is a Burn tensor of two `f32` parameters
//! on the default CPU device, its gradient comes from Burn's autodiff of the problem's loss,
//! and the optimizer ([`crate::optim`]) updates it exactly as it updates a model's weights in
//! training. Only the contour background is evaluated in `f64` on a grid.

use std::ops::Range;

use burn::optim::Optimizer;
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::config::{
    Config, DataConfig, DataSource, ModelConfig, ModelKind, OptimizerConfig, SgdConfig,
};
use crate::data::{Dataset, Targets};
use crate::model::loss::binary_cross_entropy_with_logits;
use crate::plot::{ContourChart, Grid, Series, geometric_levels};
use crate::solve::{Objective, solve};
use crate::train::line_search::armijo;
use crate::{Error, Result};

/// The condition number of the ill-conditioned quadratic every path experiment uses.
pub const ILL_CONDITION: f64 = 50.0;
/// Grid points per axis of a contour background.
const GRID_POINTS: usize = 90;
/// A run whose parameters grow past this is stopped as diverged.
const DIVERGED_NORM: f64 = 1e6;

/// The default CPU device every path runs on (same seed, same numbers).
pub fn cpu() -> Result<Device> {
    crate::device::resolve("cpu")
}

/// What a problem is made of.
#[derive(Debug, Clone)]
pub enum Surface {
    /// `f(θ) = ½ θᵀ A θ`, A symmetric positive definite: minimum 0 at the origin, condition
    /// number the ratio of A's eigenvalues.
    Quadratic { matrix: [[f64; 2]; 2] },
    /// `f(θ) = gᵀθ`: the gradient is g everywhere, the constant-gradient case of §3.
    Linear { gradient: [f64; 2] },
    /// `f(x, y) = ¼(x² − 1)² + ½y²`: a saddle at the origin between two minima at (±1, 0).
    DoubleWell,
    /// The lecture's §1 loss in Θ = (a, b), the mean over examples
    /// `(1/n) Σ softplus(a x_i + b) − y_i (a x_i + b)`.
    Logistic(Box<LogisticData>),
}

/// The 1-D logistic data as tensors (for the path) and as a [`Dataset`] (for f64 grids).
#[derive(Debug, Clone)]
pub struct LogisticData {
    pub data: Dataset,
    /// `[n, 2]`: rows (x_i, 1), so that the logits are `X̃ θ`.
    features: Tensor<2>,
    labels: Tensor<1, Int>,
    objective: Objective,
    /// Θ* and ℓ(Θ*) by Newton's method ([`crate::solve`]).
    pub optimum: ([f64; 2], f64),
}

/// A function of two parameters with what it takes to draw it.
#[derive(Debug, Clone)]
pub struct Problem {
    /// Short name for files and legends, e.g. `quadratic`.
    pub name: String,
    /// Its formula or description, for titles.
    pub description: String,
    pub surface: Surface,
    /// The window drawn.
    pub window: (Range<f64>, Range<f64>),
    /// The axis names, e.g. `a` and `b`.
    pub axes: (String, String),
}

impl Problem {
    /// `½ θᵀ diag(1, κ) θ` on `[-4, 4] × [-1.5, 1.5]`: condition number κ.
    pub fn ill_conditioned_quadratic(condition: f64) -> Problem {
        Problem {
            name: "quadratic".into(),
            description: format!("f(θ) = ½ θᵀ diag(1, {condition}) θ"),
            surface: Surface::Quadratic {
                matrix: [[1.0, 0.0], [0.0, condition]],
            },
            window: (-4.5..4.5, -1.5..1.5),
            axes: ("θ₁".into(), "θ₂".into()),
        }
    }

    /// The same quadratic turned by `degrees`: `A = R diag(1, κ) Rᵀ`, so its valley no longer
    /// lies along a coordinate axis.
    pub fn rotated_quadratic(condition: f64, degrees: f64) -> Problem {
        let (sin, cos) = degrees.to_radians().sin_cos();
        // R diag(1, κ) Rᵀ with R = [[cos, −sin], [sin, cos]].
        let off_diagonal = (1.0 - condition) * sin * cos;
        Problem {
            name: "rotated-quadratic".into(),
            description: format!(
                "f(θ) = ½ θᵀ A θ, eigenvalues 1 and {condition}, turned {degrees}°"
            ),
            surface: Surface::Quadratic {
                matrix: [
                    [cos * cos + condition * sin * sin, off_diagonal],
                    [off_diagonal, sin * sin + condition * cos * cos],
                ],
            },
            window: (-4.5..4.5, -4.5..4.5),
            axes: ("θ₁".into(), "θ₂".into()),
        }
    }

    /// `gᵀθ`, drawn on `[-1, 1]²` (only its step lengths matter).
    pub fn linear(gradient: [f64; 2]) -> Problem {
        Problem {
            name: "linear".into(),
            description: format!("f(θ) = ({}, {})·θ", gradient[0], gradient[1]),
            surface: Surface::Linear { gradient },
            window: (-1.0..1.0, -1.0..1.0),
            axes: ("θ₁".into(), "θ₂".into()),
        }
    }

    /// `¼(x² − 1)² + ½y²` on `[-1.6, 1.6] × [-1.2, 1.2]`.
    pub fn double_well() -> Problem {
        Problem {
            name: "double-well".into(),
            description: "f(x, y) = ¼(x² − 1)² + ½y²".into(),
            surface: Surface::DoubleWell,
            window: (-1.6..1.6, -1.2..1.2),
            axes: ("x".into(), "y".into()),
        }
    }

    /// The lecture's 1-D logistic loss on `n` examples of `lecture_1d` (a* = 2, b* = −1, as
    /// configs/lecture_1d_logistic.toml), with its exact optimum.
    pub fn lecture_logistic(n: usize, seed: u64, device: &Device) -> Result<Problem> {
        let (a_star, b_star) = (2.0, -1.0);
        let data = crate::data::lecture_1d(n, a_star, b_star, seed);
        // Only the model and data kinds decide the objective: the 1-D logistic loss.
        let config = Config::new(
            DataConfig::new(DataSource::Lecture1d),
            ModelConfig::new(ModelKind::Logistic),
            OptimizerConfig::Sgd(SgdConfig::new(1.0)),
        )
        .validated("the lecture_1d objective")?;
        let objective = Objective::for_config(&config)?;
        let optimum = solve(&objective, &data)?;
        let [a, b] = optimum.parameters[..] else {
            return Err(Error::new(
                "the 1-D logistic optimum should have two parameters",
            ));
        };
        let Targets::Classes { labels, .. } = &data.targets else {
            return Err(Error::new("lecture_1d data should have classes"));
        };
        let rows: Vec<f32> = data.features.iter().flat_map(|&x| [x, 1.0]).collect();
        let features = Tensor::from_data(TensorData::new(rows, [n, 2]), device);
        let labels: Vec<i64> = labels.iter().map(|&y| i64::from(y)).collect();
        let labels = Tensor::from_data(TensorData::new(labels, [n]), device);
        Ok(Problem {
            name: "logistic".into(),
            description: format!("lecture §1 logistic loss, n = {n}"),
            surface: Surface::Logistic(Box::new(LogisticData {
                data,
                features,
                labels,
                objective,
                optimum: ([a, b], optimum.loss),
            })),
            window: (-1.0..5.0, -4.0..2.0),
            axes: ("a".into(), "b".into()),
        })
    }

    /// f at θ as a Burn expression (θ: `[2]`), differentiable when θ is.
    pub fn loss(&self, theta: Tensor<1>) -> Tensor<1> {
        let device = theta.device();
        let constant = |values: [f64; 2]| {
            Tensor::<1>::from_data(
                TensorData::new(values.map(|v| v as f32).to_vec(), [2]),
                &device,
            )
        };
        match &self.surface {
            Surface::Quadratic { matrix } => {
                let flat: Vec<f32> = matrix.iter().flatten().map(|&v| v as f32).collect();
                let a = Tensor::<2>::from_data(TensorData::new(flat, [2, 2]), &device);
                let a_theta = a.matmul(theta.clone().reshape([2, 1])).reshape([2]);
                (theta * a_theta).sum().mul_scalar(0.5)
            }
            Surface::Linear { gradient } => (theta * constant(*gradient)).sum(),
            Surface::DoubleWell => {
                // ¼x⁴ − ½x² + ½y² + ¼, by products only: the gradient at x = 0 is exactly 0.
                let squares = theta.clone() * theta;
                let quartic = (squares.clone() * squares.clone() * constant([0.25, 0.0])).sum();
                let quadratic = (squares * constant([-0.5, 0.5])).sum();
                (quartic + quadratic).add_scalar(0.25)
            }
            Surface::Logistic(logistic) => {
                let n = logistic.labels.dims()[0];
                let logits = logistic.features.clone().matmul(theta.reshape([2, 1]));
                binary_cross_entropy_with_logits(logits.reshape([n]), logistic.labels.clone())
            }
        }
    }

    /// f at (x, y) in f64, for the contour grid and for losses along a path.
    pub fn value(&self, x: f64, y: f64) -> f64 {
        match &self.surface {
            Surface::Quadratic { matrix } => {
                0.5 * (matrix[0][0] * x * x + 2.0 * matrix[0][1] * x * y + matrix[1][1] * y * y)
            }
            Surface::Linear { gradient } => gradient[0] * x + gradient[1] * y,
            Surface::DoubleWell => 0.25 * (x * x - 1.0).powi(2) + 0.5 * y * y,
            Surface::Logistic(logistic) => logistic.objective.loss(&logistic.data, &[x, y]),
        }
    }

    /// The global minimizer and f*, where there is one.
    pub fn minimum(&self) -> Option<([f64; 2], f64)> {
        match &self.surface {
            Surface::Quadratic { .. } => Some(([0.0, 0.0], 0.0)),
            Surface::Linear { .. } => None,
            Surface::DoubleWell => Some(([1.0, 0.0], 0.0)),
            Surface::Logistic(logistic) => Some(logistic.optimum),
        }
    }

    /// The level curves of f over the window, log-spaced above its minimum (`count` of them),
    /// titled `title`, ready for paths.
    pub fn contour_chart(&self, title: impl Into<String>, count: usize) -> ContourChart {
        let (x, y) = self.window.clone();
        let grid = Grid::sample(x, y, (GRID_POINTS, GRID_POINTS), |x, y| self.value(x, y));
        let (low, high) = grid.finite_range().unwrap_or((0.0, 1.0));
        let floor = self.minimum().map_or(low, |(_, f)| f.min(low));
        let span = (high - floor).max(f64::MIN_POSITIVE);
        let levels = match self.surface {
            // A plane's level lines are evenly spaced.
            Surface::Linear { .. } => (1..=count)
                .map(|k| low + (high - low) * k as f64 / (count + 1) as f64)
                .collect(),
            _ => geometric_levels(floor, span * 1e-3, span * 0.9, count),
        };
        let mut chart = ContourChart::new(title, grid, levels)
            .x_label(self.axes.0.clone())
            .y_label(self.axes.1.clone());
        if let Some((point, _)) = self.minimum() {
            chart.add_landmark("minimum", (point[0], point[1]));
        }
        chart
    }
}

/// One optimizer's walk over a problem.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    /// Its CSV column prefix, e.g. `momentum_0.9`.
    pub key: String,
    /// Its legend entry, e.g. `momentum λ=0.9`.
    pub label: String,
    /// θ^(0), θ^(1), ...: the start and the iterate after each step.
    pub points: Vec<[f64; 2]>,
    /// f(θ^(t)) in f64 at each point.
    pub losses: Vec<f64>,
    /// The step α used at each step (a line search's accepted steps vary).
    pub steps: Vec<f64>,
    /// Stopped early because θ left every bound (‖θ‖ > 10⁶ or not finite).
    pub diverged: bool,
}

impl Path {
    fn new(steps: usize) -> Path {
        Path {
            key: String::new(),
            label: String::new(),
            points: Vec::with_capacity(steps + 1),
            losses: Vec::with_capacity(steps + 1),
            steps: Vec::with_capacity(steps),
            diverged: false,
        }
    }

    /// The same path under CSV key `key` and legend entry `label`.
    pub fn named(mut self, key: impl Into<String>, label: impl Into<String>) -> Path {
        self.key = key.into();
        self.label = label.into();
        self
    }

    /// ‖θ^(t+1) − θ^(t)‖ for each step.
    pub fn step_lengths(&self) -> Vec<f64> {
        self.points
            .windows(2)
            .map(|w| (w[1][0] - w[0][0]).hypot(w[1][1] - w[0][1]))
            .collect()
    }

    pub fn last(&self) -> [f64; 2] {
        *self.points.last().expect("a path has its start")
    }

    pub fn final_loss(&self) -> f64 {
        *self.losses.last().expect("a path has its start")
    }

    /// The first t with f(θ^(t)) ≤ `target`.
    pub fn steps_to_reach(&self, target: f64) -> Option<usize> {
        self.losses.iter().position(|&loss| loss <= target)
    }

    /// As a series for a contour chart, in palette colour `color`, up to and including the
    /// first point outside `window` (a diverging path would otherwise cover the picture).
    pub fn series(&self, color: usize, window: &(Range<f64>, Range<f64>)) -> Series {
        let inside = |p: &[f64; 2]| window.0.contains(&p[0]) && window.1.contains(&p[1]);
        let shown = self
            .points
            .iter()
            .position(|p| !inside(p))
            .map_or(self.points.len(), |first_outside| first_outside + 1);
        Series::new(
            self.label.clone(),
            self.points[..shown].iter().map(|p| (p[0], p[1])),
        )
        .color(color)
    }

    /// f(θ^(t)) − `floor` against t, for a log-scale loss curve.
    pub fn loss_curve(&self, floor: f64, color: usize) -> Series {
        Series::new(
            self.label.clone(),
            self.losses
                .iter()
                .enumerate()
                .map(|(t, loss)| (t as f64, loss - floor)),
        )
        .color(color)
    }
}

fn to_tensor(point: [f64; 2], device: &Device) -> Tensor<1> {
    Tensor::from_data(
        TensorData::new(point.map(|v| v as f32).to_vec(), [2]),
        device,
    )
}

fn to_point(theta: &Tensor<1>) -> [f64; 2] {
    let values = theta
        .clone()
        .into_data()
        .try_into_vec::<f32>()
        .unwrap_or_default();
    match values[..] {
        [x, y] => [f64::from(x), f64::from(y)],
        _ => [f64::NAN, f64::NAN],
    }
}

/// f and ∇f at θ by Burn's autodiff (θ on the plain device; the gradient comes back there).
fn loss_and_gradient(problem: &Problem, theta: &Tensor<1>) -> Result<(f64, Tensor<1>)> {
    let tracked = theta.clone().autodiff().require_grad();
    let loss = problem.loss(tracked.clone());
    let value = f64::from(loss.clone().into_scalar::<f32>());
    let gradients = loss.backward();
    let gradient = tracked
        .grad(&gradients)
        .ok_or_else(|| Error::new(format!("no gradient of the {} loss", problem.name)))?;
    Ok((value, gradient))
}

/// Records θ and f(θ); returns whether θ is still within bounds.
fn record(path: &mut Path, problem: &Problem, point: [f64; 2]) -> bool {
    path.points.push(point);
    path.losses.push(problem.value(point[0], point[1]));
    let within = point[0].hypot(point[1]) <= DIVERGED_NORM;
    path.diverged = !within;
    within
}

/// `steps` steps of `optimizer` with constant α = `alpha` from `start`, on `device`; name
/// the result with [`Path::named`].
pub fn descend<O: Optimizer>(
    problem: &Problem,
    optimizer: &O,
    alpha: f64,
    start: [f64; 2],
    steps: usize,
    device: &Device,
) -> Result<Path> {
    walk(problem, optimizer, start, steps, device, |_, _, _| {
        Some(alpha)
    })
}

/// Gradient descent whose every α is chosen by the Armijo line search of
/// [`crate::train::line_search`] (first trial `initial_step`, c = 10⁻⁴, τ = ½), then taken by
/// [`crate::optim::GradientDescent`]. Stops early once no step decreases f (the optimum to
/// f32 precision).
pub fn descend_armijo(
    problem: &Problem,
    initial_step: f64,
    start: [f64; 2],
    steps: usize,
    device: &Device,
) -> Result<Path> {
    let optimizer = crate::optim::GradientDescent::default();
    walk(
        problem,
        &optimizer,
        start,
        steps,
        device,
        |theta, loss, gradient| {
            let (here, g) = (to_point(theta), to_point(gradient));
            // φ(α) = f(θ − α g), evaluated by the same f32 Burn expression as the gradient.
            let phi = |alpha: f64| {
                let trial = to_tensor([here[0] - alpha * g[0], here[1] - alpha * g[1]], device);
                f64::from(problem.loss(trial).into_scalar::<f32>())
            };
            let norm_squared = g[0] * g[0] + g[1] * g[1];
            armijo(phi, loss, norm_squared, initial_step, 1e-4, 0.5)
                .ok()
                .map(|accepted| accepted.step)
        },
    )
}

/// Up to `steps` steps of `optimizer` from `start`, each with the α that
/// `alpha_at(θ, f(θ), ∇f(θ))` gives; `None` ends the walk. Stops early on divergence.
fn walk<O: Optimizer>(
    problem: &Problem,
    optimizer: &O,
    start: [f64; 2],
    steps: usize,
    device: &Device,
    mut alpha_at: impl FnMut(&Tensor<1>, f64, &Tensor<1>) -> Option<f64>,
) -> Result<Path> {
    let mut path = Path::new(steps);
    let mut theta = to_tensor(start, device);
    let mut state = None;
    if !record(&mut path, problem, start) {
        return Ok(path);
    }
    for _ in 0..steps {
        let (loss, gradient) = loss_and_gradient(problem, &theta)?;
        let Some(alpha) = alpha_at(&theta, loss, &gradient) else {
            break;
        };
        let (next, next_state) = optimizer.step(alpha, theta, gradient, state);
        theta = next;
        state = next_state;
        path.steps.push(alpha);
        if !record(&mut path, problem, to_point(&theta)) {
            break;
        }
    }
    Ok(path)
}

/// The paths side by side, one row per step t: `step`, then `KEY_x`, `KEY_y`, `KEY_loss` per
/// path (`NaN` past the end of a path that stopped early).
pub fn write_paths_csv(file: &std::path::Path, paths: &[Path]) -> Result<std::path::PathBuf> {
    let mut header = vec!["step".to_string()];
    for path in paths {
        for column in ["x", "y", "loss"] {
            header.push(format!("{}_{column}", path.key));
        }
    }
    let longest = paths.iter().map(|p| p.points.len()).max().unwrap_or(0);
    let rows: Vec<Vec<f64>> = (0..longest)
        .map(|t| {
            let mut row = vec![t as f64];
            for path in paths {
                match (path.points.get(t), path.losses.get(t)) {
                    (Some(point), Some(loss)) => row.extend([point[0], point[1], *loss]),
                    _ => row.extend([f64::NAN; 3]),
                }
            }
            row
        })
        .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    super::write_csv(file, &header, &rows)
}

/// f(θ^(t)) − `floor` of each path against t, on a log axis.
pub fn loss_curves(title: impl Into<String>, paths: &[Path], floor: f64) -> crate::plot::LineChart {
    let mut chart = crate::plot::LineChart::new(title)
        .x_label("step t")
        .y_label("f(θ^(t)) − f*")
        .y_scale(crate::plot::Scale::Log);
    for (color, path) in paths.iter().enumerate() {
        chart.add(path.loss_curve(floor, color));
    }
    chart
}

/// `problem`'s level curves with `paths` over them, in palette order, each drawn until it
/// first leaves the window.
pub fn paths_over_contours(
    problem: &Problem,
    title: impl Into<String>,
    paths: &[Path],
) -> ContourChart {
    let mut chart = problem.contour_chart(title, 14);
    for (color, path) in paths.iter().enumerate() {
        chart.add_path(path.series(color, &problem.window));
    }
    chart
}

/// Named (x, y) columns as one CSV: a row per distinct x (ascending), the column `x_name`
/// first, then each column's y at that x (`NaN` where it has none).
pub fn write_columns_csv(
    file: &std::path::Path,
    x_name: &str,
    columns: &[(String, Vec<(f64, f64)>)],
) -> Result<std::path::PathBuf> {
    let mut xs: Vec<f64> = columns
        .iter()
        .flat_map(|(_, points)| points.iter().map(|&(x, _)| x))
        .collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let rows: Vec<Vec<f64>> = xs
        .iter()
        .map(|&x| {
            std::iter::once(x)
                .chain(columns.iter().map(|(_, points)| {
                    points
                        .iter()
                        .find(|&&(px, _)| px == x)
                        .map_or(f64::NAN, |&(_, y)| y)
                }))
                .collect()
        })
        .collect();
    let header: Vec<&str> = std::iter::once(x_name)
        .chain(columns.iter().map(|(name, _)| name.as_str()))
        .collect();
    super::write_csv(file, &header, &rows)
}
