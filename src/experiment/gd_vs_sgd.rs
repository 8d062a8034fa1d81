//! `gd-vs-sgd`: the cost of an iteration and of reaching ρ, lecture §5–§6.
//!
//! ```text
//!        cost per iteration   iterations to reach ρ = |ℓ(f_Θ) − ℓ(f*)|
//! GD     O(n d)               O(κ log 1/ρ)
//! SGD    O(d)                 ν κ² / ρ + o(1/ρ)
//! ```
//!
//! and the MNIST example: n = 60,000, m = 10, "a 6,000× cheaper gradient".
//!
//! Everything runs on the real code path: binary logistic regression ([`Model`]) on the
//! default CPU device, its batch-mean loss from logits, Burn's autodiff for the gradient and
//! our [`GradientDescent`] optimizer (full batch for GD, m = 10 uniform examples for SGD), on
//! synthetic data `x ~ N(0, I_d)`, `y ~ Bernoulli(σ(w*·x))` ([`synthetic_logistic`]): the
//! label noise (and a small L2 term) makes the minimizer f* exist, computed by
//! [`crate::solve`].
//!
//! Work is counted from the shapes of the tensors each step multiplies (a multiply-add is two
//! floating-point operations): the forward `X w` and the backward `Xᵀ δ` are `2md` each, the
//! rest O(m + d); and per-example gradients ∇ℓ̂ are counted as the rows of the batch. Time is
//! measured around whole steps (median of several), so it includes Burn's fixed per-step
//! overhead, which the counted work does not.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Instant;

use burn::lr_scheduler::LrScheduler;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::Device;

use super::{ExperimentOptions, Finding, Outcome, write_csv};
use crate::batch::{Batch, gather};
use crate::config::{Activation, Head, Init, ModelConfig, ModelKind};
use crate::data::{Dataset, synthetic_classes, synthetic_logistic};
use crate::model::{Model, Problem};
use crate::optim::GradientDescent;
use crate::optim::schedule::{Constant, InverseTime, Schedule};
use crate::plot::{LineChart, Scale};
use crate::rng::Rng;
use crate::solve::{Objective, ObjectiveKind, solve};
use crate::stats::{loglog_slope, median};
use crate::train::trace::flat_parameters;
use crate::{Result, device};

/// SGD's mini-batch size m, the lecture's.
pub const BATCH_SIZE: usize = 10;
/// μ, the L2 weight of the objective whose f* the ρ table measures against.
const WEIGHT_DECAY: f64 = 1e-4;
const SEED: u64 = 6;
/// α^(0) of SGD in the ρ comparison.
const SGD_INITIAL_LEARNING_RATE: f64 = 0.5;

/// Problem sizes; `--quick` shrinks them.
struct Sizes {
    /// n of the cost-per-iteration sweep in n (d = `fixed_d`).
    n_sweep: Vec<usize>,
    fixed_d: usize,
    /// d of the sweep in d (n = `fixed_n`).
    d_sweep: Vec<usize>,
    fixed_n: usize,
    /// Steps timed per point (the median is reported), after two warm-up steps.
    repeats: usize,
    /// n of the time-to-ρ comparison (d = `fixed_d`).
    rho_n: usize,
    rhos: Vec<f64>,
    /// SGD's step budget in the ρ comparison; GD's is far below it.
    sgd_max_steps: usize,
    gd_max_steps: usize,
    /// n of the MNIST-shaped problem (784 features, 10 classes).
    mnist_n: usize,
}

impl Sizes {
    fn new(quick: bool) -> Self {
        if quick {
            Sizes {
                n_sweep: vec![100, 1_000, 10_000],
                fixed_d: 20,
                d_sweep: vec![10, 100, 1_000],
                fixed_n: 1_000,
                repeats: 5,
                rho_n: 2_000,
                rhos: vec![1e-1, 1e-2, 1e-3],
                sgd_max_steps: 20_000,
                gd_max_steps: 2_000,
                mnist_n: 6_000,
            }
        } else {
            Sizes {
                n_sweep: vec![100, 300, 1_000, 3_000, 10_000, 30_000, 100_000],
                fixed_d: 20,
                d_sweep: vec![10, 30, 100, 300, 1_000],
                fixed_n: 10_000,
                repeats: 21,
                rho_n: 10_000,
                rhos: vec![1e-1, 1e-2, 1e-3, 1e-4],
                sgd_max_steps: 300_000,
                gd_max_steps: 10_000,
                mnist_n: 60_000,
            }
        }
    }
}

impl Sizes {
    /// ρ_α = α^(0) m / n in SGD's α^(0)/(1 + ρ_α t) (chosen by hand for these data): α
    /// falls as 1/t after the first epochs, the decay under which SGD converges to f*.
    fn sgd_decay(&self) -> f64 {
        SGD_INITIAL_LEARNING_RATE / (self.rho_n as f64 / BATCH_SIZE as f64)
    }

    /// SGD's ℓ − ℓ* is evaluated every this many steps (a tenth of an epoch), GD's every step.
    fn sgd_check_every(&self) -> usize {
        (self.rho_n / BATCH_SIZE / 10).max(1)
    }
}

/// Floating-point operations of one gradient of a linear model with `outputs` logits on a
/// batch of `m` examples in `d` dimensions, counted from the shapes: forward `X W + b`
/// (2mdk + mk), loss from logits and its derivative δ (about 8 per logit), backward `Xᵀ δ`
/// and the bias sum (2mdk + mk).
pub fn gradient_flops(m: usize, d: usize, outputs: usize) -> f64 {
    let (m, d, k) = (m as f64, d as f64, outputs as f64);
    4.0 * m * d * k + 10.0 * m * k
}

/// [`gradient_flops`] plus the update `θ ← θ − α (g + μ θ)`: 4 per parameter.
pub fn step_flops(m: usize, d: usize, outputs: usize) -> f64 {
    gradient_flops(m, d, outputs) + 4.0 * (d as f64 + 1.0) * outputs as f64
}

/// What one iteration cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IterationCost {
    /// Per-example gradients computed: the batch's rows.
    pub gradient_evaluations: usize,
    pub flops: f64,
    /// Median wall time of a step.
    pub seconds: f64,
}

/// A zero-initialized logistic (two classes) or softmax model for `data` on `device`.
fn zero_model(data: &Dataset, device: &Device) -> Result<Model> {
    let classes = data.classes();
    let config = ModelConfig {
        kind: if classes == Some(2) {
            ModelKind::Logistic
        } else {
            ModelKind::Softmax
        },
        hidden: Vec::new(),
        activation: Activation::default(),
        head: Head::default(),
        init: Init::Zeros,
    };
    let problem = Problem {
        dim: data.dim,
        classes,
    };
    Model::new(&config, problem, SEED, device)
}

/// The gradient of the batch-mean loss, by Burn's autodiff; also returns the loss.
fn gradient(model: &Model, batch: Batch) -> (GradientsParams, f32) {
    let outputs = model.forward(batch.features);
    let loss = model.loss(outputs, &batch.targets);
    let value = loss.clone().into_scalar::<f32>();
    (GradientsParams::from_grads(loss.backward(), model), value)
}

/// One step `θ ← θ − α (∇ℓ(B) + μ θ)` with our optimizer.
fn step(model: Model, batch: Batch, optimizer: &mut ModuleOptimizer, alpha: f64) -> Model {
    let (grads, _) = gradient(&model, batch);
    optimizer.step(alpha, model, grads)
}

/// m uniform indices in 0..n (with replacement), the lecture's "drawn uniformly".
fn uniform_batch(rng: &mut Rng, n: usize, m: usize) -> Vec<usize> {
    (0..m).map(|_| rng.below(n)).collect()
}

/// Where each step's batch comes from.
enum Batches {
    /// GD: every example, gathered once, as a full-batch loop does.
    Full(Box<Batch>),
    /// SGD: m uniform examples, gathered every step, as the learner does.
    Sampled { m: usize, rng: Rng },
}

impl Batches {
    /// `batch_size = None`: full batch.
    fn new(data: &Dataset, batch_size: Option<usize>, device: &Device) -> Self {
        match batch_size {
            None => Batches::Full(Box::new(gather(
                data,
                &(0..data.len()).collect::<Vec<_>>(),
                device,
            ))),
            Some(m) => Batches::Sampled {
                m,
                rng: Rng::new(SEED),
            },
        }
    }

    fn next(&mut self, data: &Dataset, device: &Device) -> Batch {
        match self {
            Batches::Full(batch) => (**batch).clone(),
            Batches::Sampled { m, rng } => {
                gather(data, &uniform_batch(rng, data.len(), *m), device)
            }
        }
    }
}

/// The cost of one step of GD (`batch_size = None`: all n examples, gathered once as a
/// full-batch loop does) or of SGD with `batch_size` examples (gathered every step).
fn iteration_cost(
    data: &Dataset,
    batch_size: Option<usize>,
    repeats: usize,
    device: &Device,
) -> Result<IterationCost> {
    let autodiff = device.clone().autodiff();
    let mut model = zero_model(data, &autodiff)?;
    let mut optimizer = ModuleOptimizer::from(GradientDescent {
        weight_decay: WEIGHT_DECAY,
    });
    let mut batches = Batches::new(data, batch_size, &autodiff);
    let mut seconds = Vec::with_capacity(repeats);
    let mut rows = 0;
    for repeat in 0..repeats + 2 {
        let started = Instant::now();
        let batch = batches.next(data, &autodiff);
        rows = batch.features.dims()[0];
        model = step(model, batch, &mut optimizer, 0.1);
        if repeat >= 2 {
            seconds.push(started.elapsed().as_secs_f64());
        }
    }
    Ok(IterationCost {
        gradient_evaluations: rows,
        flops: step_flops(rows, data.dim, 1),
        seconds: median(&mut seconds),
    })
}

/// When each ρ was first reached: iterations, per-example gradients and optimizer time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reach {
    pub iterations: usize,
    pub gradient_evaluations: usize,
    pub seconds: f64,
}

/// A descent run towards f*: when each ρ was reached (`None`: not within the budget) and the
/// suboptimality after every `check_every` steps (gradient evaluations, ℓ − ℓ*).
struct Descent {
    reached: Vec<Option<Reach>>,
    trajectory: Vec<(usize, usize, f64, f64)>,
}

/// How a descent takes its steps.
enum Method {
    /// Full-batch GD with a constant α.
    Gd { alpha: f64 },
    /// SGD with m examples a step and α^(0)/(1 + ρ_α t), the closed-form inverse-time decay.
    Sgd { alpha: f64, decay: f64, m: usize },
}

/// The objective a descent minimizes, on its data, and its minimum ℓ(f*).
struct Target<'a> {
    data: &'a Dataset,
    objective: Objective,
    optimum: f64,
}

/// Runs `method` from Θ = 0 until every ρ in `rhos` is reached or `max_steps`; ℓ − ℓ* is
/// evaluated exactly (f64, the objective f* minimizes) every `check_every` steps, off the
/// clock.
fn descend_to_targets(
    target: &Target,
    method: &Method,
    rhos: &[f64],
    max_steps: usize,
    check_every: usize,
    device: &Device,
) -> Result<Descent> {
    let Target {
        data,
        objective,
        optimum,
    } = target;
    let autodiff = device.clone().autodiff();
    let mut model = zero_model(data, &autodiff)?;
    let mut optimizer = ModuleOptimizer::from(GradientDescent {
        weight_decay: objective.l2,
    });
    let (batch_size, mut schedule) = match method {
        Method::Gd { alpha } => (None, Schedule::Constant(Constant::new(*alpha))),
        Method::Sgd { alpha, decay, m } => (
            Some(*m),
            Schedule::InverseTime(InverseTime::new(*alpha, *decay)),
        ),
    };
    let m = batch_size.unwrap_or(data.len());
    let mut batches = Batches::new(data, batch_size, &autodiff);
    let mut reached: Vec<Option<Reach>> = vec![None; rhos.len()];
    let suboptimality = |model: &Model| {
        let theta: Vec<f64> = flat_parameters(model).into_iter().map(f64::from).collect();
        objective.loss(data, &theta) - optimum
    };
    let mut trajectory = vec![(0, 0, 0.0, suboptimality(&model))];
    let mut seconds = 0.0;
    for iteration in 1..=max_steps {
        let started = Instant::now();
        let batch = batches.next(data, &autodiff);
        let alpha = schedule.step();
        model = step(model, batch, &mut optimizer, alpha);
        seconds += started.elapsed().as_secs_f64();
        if iteration % check_every != 0 && iteration != max_steps {
            continue;
        }
        let gap = suboptimality(&model);
        if !gap.is_finite() {
            break;
        }
        trajectory.push((iteration, iteration * m, seconds, gap));
        for (slot, &rho) in reached.iter_mut().zip(rhos) {
            if slot.is_none() && gap.abs() < rho {
                *slot = Some(Reach {
                    iterations: iteration,
                    gradient_evaluations: iteration * m,
                    seconds,
                });
            }
        }
        if reached.iter().all(Option::is_some) {
            break;
        }
    }
    Ok(Descent {
        reached,
        trajectory,
    })
}

/// `‖X̃‖₂²/(4n) + μ` (‖X̃‖₂ the spectral norm, so ‖X̃‖₂² is X̃ᵀX̃'s largest eigenvalue), the
/// logistic loss's smoothness constant L (X̃: features and a column of ones), by power
/// iteration; 1/L is a step GD can always take.
fn smoothness(data: &Dataset, l2: f64) -> f64 {
    let width = data.dim + 1;
    let mut gram = vec![0.0f64; width * width];
    for i in 0..data.len() {
        let row: Vec<f64> = data
            .row(i)
            .iter()
            .map(|&x| f64::from(x))
            .chain([1.0])
            .collect();
        for a in 0..width {
            for b in 0..width {
                gram[a * width + b] += row[a] * row[b];
            }
        }
    }
    let n = data.len() as f64;
    let mut vector = vec![1.0f64; width];
    let mut eigenvalue = 0.0;
    for _ in 0..200 {
        let next: Vec<f64> = (0..width)
            .map(|a| {
                (0..width)
                    .map(|b| gram[a * width + b] * vector[b])
                    .sum::<f64>()
                    / n
            })
            .collect();
        eigenvalue = next.iter().map(|v| v * v).sum::<f64>().sqrt();
        vector = next.iter().map(|v| v / eigenvalue).collect();
    }
    eigenvalue / 4.0 + l2
}

/// The measured cost of one full gradient (n examples) over one mini-batch gradient (m), on
/// an MNIST-shaped softmax regression: (n, time ratio, counted-work ratio, full s, batch s).
fn mnist_ratio(n: usize, repeats: usize, device: &Device) -> Result<(f64, f64, f64, f64)> {
    // Standard-normal pixels: only the cost of a gradient is measured, which does not
    // depend on the values.
    let data = synthetic_classes(n, 784, 10, SEED);
    let autodiff = device.clone().autodiff();
    let model = zero_model(&data, &autodiff)?;
    let full = gather(&data, &(0..n).collect::<Vec<_>>(), &autodiff);
    let mut rng = Rng::new(SEED);
    // Gathered beforehand, as the full batch is: both sides time the gradient alone.
    let batches: Vec<Batch> = (0..repeats * 20 + 2)
        .map(|_| gather(&data, &uniform_batch(&mut rng, n, BATCH_SIZE), &autodiff))
        .collect();
    let time = |batch: Batch| {
        let started = Instant::now();
        let _ = gradient(&model, batch);
        started.elapsed().as_secs_f64()
    };
    let _ = time(full.clone());
    let mut full_seconds: Vec<f64> = (0..repeats).map(|_| time(full.clone())).collect();
    let mut batch_seconds: Vec<f64> = batches.into_iter().map(time).skip(2).collect();
    let full_seconds = median(&mut full_seconds);
    let batch_seconds = median(&mut batch_seconds);
    let counted = gradient_flops(n, data.dim, 10) / gradient_flops(BATCH_SIZE, data.dim, 10);
    Ok((
        full_seconds / batch_seconds,
        counted,
        full_seconds,
        batch_seconds,
    ))
}

/// Runs the experiment; see the module docs.
pub fn run(options: &ExperimentOptions) -> Result<Outcome> {
    let sizes = Sizes::new(options.quick);
    let dir = &options.out_dir;
    let device = device::resolve("cpu")?;
    let mut numbers = BTreeMap::new();
    let mut figures = Vec::new();
    let mut tables = Vec::new();

    // Cost per iteration as n grows (d fixed), then as d grows (n fixed).
    let sweep = |sizes_n_d: Vec<(usize, usize)>| -> Result<Vec<(usize, usize, IterationCost, IterationCost)>> {
        sizes_n_d
            .into_iter()
            .map(|(n, d)| {
                let data = synthetic_logistic(n, d, SEED);
                let gd = iteration_cost(&data, None, sizes.repeats, &device)?;
                let sgd = iteration_cost(&data, Some(BATCH_SIZE), sizes.repeats, &device)?;
                Ok((n, d, gd, sgd))
            })
            .collect()
    };
    let by_n = sweep(sizes.n_sweep.iter().map(|&n| (n, sizes.fixed_d)).collect())?;
    let by_d = sweep(sizes.d_sweep.iter().map(|&d| (sizes.fixed_n, d)).collect())?;

    for (axis, rows) in [("n", &by_n), ("d", &by_d)] {
        let x = |n: usize, d: usize| if axis == "n" { n } else { d } as f64;
        let series = |pick: &dyn Fn(&IterationCost) -> f64, gd: bool| -> Vec<(f64, f64)> {
            rows.iter()
                .map(|(n, d, g, s)| (x(*n, *d), pick(if gd { g } else { s })))
                .collect()
        };
        let flops = |c: &IterationCost| c.flops;
        let seconds = |c: &IterationCost| c.seconds;
        for (what, pick) in [
            ("flops", &flops as &dyn Fn(&IterationCost) -> f64),
            ("seconds", &seconds),
        ] {
            let gd = series(pick, true);
            let sgd = series(pick, false);
            numbers.insert(format!("gd_{what}_slope_in_{axis}"), loglog_slope(&gd));
            numbers.insert(format!("sgd_{what}_slope_in_{axis}"), loglog_slope(&sgd));
            let fixed = if axis == "n" {
                format!("d = {}", sizes.fixed_d)
            } else {
                format!("n = {}", sizes.fixed_n)
            };
            let (title, y_label) = if what == "flops" {
                (
                    "Counted work per iteration",
                    "floating-point operations per iteration",
                )
            } else {
                (
                    "Measured time per iteration",
                    "seconds per iteration (median)",
                )
            };
            let mut chart = LineChart::new(format!("{title} ({fixed})"))
                .x_label(axis)
                .y_label(y_label)
                .x_scale(Scale::Log)
                .y_scale(Scale::Log);
            chart.add_series("GD (full batch)", gd);
            chart.add_series(format!("SGD (m = {BATCH_SIZE})"), sgd);
            let stem = format!(
                "{}-per-iteration-vs-{axis}",
                if what == "flops" { "work" } else { "time" }
            );
            figures.push(chart.write(dir, &stem)?);
        }
        let table: Vec<Vec<f64>> = rows
            .iter()
            .flat_map(|(n, d, gd, sgd)| {
                [gd, sgd].map(|c| {
                    vec![
                        *n as f64,
                        *d as f64,
                        c.gradient_evaluations as f64,
                        c.flops,
                        c.seconds,
                    ]
                })
            })
            .collect();
        tables.push(write_csv(
            &dir.join(format!("cost-per-iteration-vs-{axis}.csv")),
            &["n", "d", "batch_size", "flops", "seconds"],
            &table,
        )?);
    }

    // Reaching ρ: GD with α = 1/L against SGD (m = 10) with an inverse-time decay.
    let data = synthetic_logistic(sizes.rho_n, sizes.fixed_d, SEED + 1);
    let objective = Objective {
        kind: ObjectiveKind::Logistic,
        l2: WEIGHT_DECAY,
    };
    let optimum = solve(&objective, &data)?;
    let lipschitz = smoothness(&data, WEIGHT_DECAY);
    let gd_method = Method::Gd {
        alpha: 1.0 / lipschitz,
    };
    let sgd_method = Method::Sgd {
        alpha: SGD_INITIAL_LEARNING_RATE,
        decay: sizes.sgd_decay(),
        m: BATCH_SIZE,
    };
    let target = Target {
        data: &data,
        objective,
        optimum: optimum.loss,
    };
    let gd = descend_to_targets(
        &target,
        &gd_method,
        &sizes.rhos,
        sizes.gd_max_steps,
        1,
        &device,
    )?;
    let sgd = descend_to_targets(
        &target,
        &sgd_method,
        &sizes.rhos,
        sizes.sgd_max_steps,
        sizes.sgd_check_every(),
        &device,
    )?;
    let mut chart = LineChart::new(format!(
        "Suboptimality against gradient evaluations (n = {}, d = {})",
        sizes.rho_n, sizes.fixed_d
    ))
    .x_label("per-example gradients computed")
    .y_label("ℓ(f_Θ) − ℓ(f*)")
    .x_scale(Scale::Log)
    .y_scale(Scale::Log);
    let mut trajectory_rows = Vec::new();
    for (label, descent, m) in [
        ("GD (α = 1/L)", &gd, sizes.rho_n),
        ("SGD (m = 10, inverse-time α)", &sgd, BATCH_SIZE),
    ] {
        chart.add_series(
            label,
            descent
                .trajectory
                .iter()
                .map(|&(_, evaluations, _, gap)| (evaluations as f64, gap)),
        );
        trajectory_rows.extend(
            descent
                .trajectory
                .iter()
                .map(|&(i, e, s, gap)| vec![m as f64, i as f64, e as f64, s, gap]),
        );
    }
    figures.push(chart.write(dir, "suboptimality-vs-gradient-evaluations")?);
    tables.push(write_csv(
        &dir.join("suboptimality-trajectory.csv"),
        &[
            "batch_size",
            "iteration",
            "gradient_evaluations",
            "seconds",
            "suboptimality",
        ],
        &trajectory_rows,
    )?);
    let cell =
        |reach: Option<Reach>, pick: fn(&Reach) -> f64| reach.as_ref().map_or(f64::NAN, pick);
    let rho_rows: Vec<Vec<f64>> = sizes
        .rhos
        .iter()
        .zip(gd.reached.iter().zip(&sgd.reached))
        .map(|(&rho, (&g, &s))| {
            vec![
                rho,
                cell(g, |r| r.iterations as f64),
                cell(g, |r| r.gradient_evaluations as f64),
                cell(g, |r| r.seconds),
                cell(s, |r| r.iterations as f64),
                cell(s, |r| r.gradient_evaluations as f64),
                cell(s, |r| r.seconds),
            ]
        })
        .collect();
    tables.push(write_csv(
        &dir.join("time-to-rho.csv"),
        &[
            "rho",
            "gd_iterations",
            "gd_gradient_evaluations",
            "gd_seconds",
            "sgd_iterations",
            "sgd_gradient_evaluations",
            "sgd_seconds",
        ],
        &rho_rows,
    )?);

    // The MNIST example's ratio.
    let (time_ratio, work_ratio, full_seconds, batch_seconds) =
        mnist_ratio(sizes.mnist_n, if options.quick { 3 } else { 5 }, &device)?;
    let lecture_ratio = sizes.mnist_n as f64 / BATCH_SIZE as f64;
    tables.push(write_csv(
        &dir.join("mnist-gradient-ratio.csv"),
        &[
            "n",
            "d",
            "classes",
            "batch_size",
            "full_gradient_seconds",
            "batch_gradient_seconds",
            "time_ratio",
            "work_ratio",
            "n_over_m",
        ],
        &[vec![
            sizes.mnist_n as f64,
            784.0,
            10.0,
            BATCH_SIZE as f64,
            full_seconds,
            batch_seconds,
            time_ratio,
            work_ratio,
            lecture_ratio,
        ]],
    )?);
    numbers.insert("mnist_time_ratio".into(), time_ratio);
    numbers.insert("mnist_work_ratio".into(), work_ratio);
    numbers.insert("mnist_n_over_m".into(), lecture_ratio);
    numbers.insert("mnist_full_gradient_seconds".into(), full_seconds);
    numbers.insert("mnist_batch_gradient_seconds".into(), batch_seconds);
    numbers.insert("gd_alpha".into(), 1.0 / lipschitz);
    numbers.insert("optimum_loss".into(), optimum.loss);
    for (rho, (g, s)) in sizes.rhos.iter().zip(gd.reached.iter().zip(&sgd.reached)) {
        for (method, reach) in [("gd", g), ("sgd", s)] {
            if let Some(reach) = reach {
                numbers.insert(
                    format!("{method}_iterations_to_{rho:e}"),
                    reach.iterations as f64,
                );
                numbers.insert(
                    format!("{method}_gradient_evaluations_to_{rho:e}"),
                    reach.gradient_evaluations as f64,
                );
                numbers.insert(format!("{method}_seconds_to_{rho:e}"), reach.seconds);
            }
        }
    }

    let findings = findings(&numbers, &sizes, &gd, &sgd);
    let notes = notes(&sizes, &gd, &sgd, &numbers);
    Ok(Outcome {
        title: "GD against SGD: cost per iteration and cost of reaching ρ".into(),
        lecture: "§5–§6".into(),
        figures,
        tables,
        findings,
        notes,
        numbers,
    })
}

/// The iterations each reached ρ took, loosest ρ first (`None` once one was not reached).
fn iterations(descent: &Descent) -> Option<Vec<f64>> {
    descent
        .reached
        .iter()
        .map(|reach| reach.map(|r| r.iterations as f64))
        .collect()
}

fn findings(
    numbers: &BTreeMap<String, f64>,
    sizes: &Sizes,
    gd: &Descent,
    sgd: &Descent,
) -> Vec<Finding> {
    let number = |key: &str| numbers.get(key).copied().unwrap_or(f64::NAN);
    let (n_low, n_high) = (sizes.n_sweep[0], sizes.n_sweep[sizes.n_sweep.len() - 1]);
    // A slope of −1e-17 reads better as 0.000 than as −0.000.
    let shown = |key: &str| {
        let value = number(key);
        if value.abs() < 5e-4 { 0.0 } else { value }
    };
    let mut findings = vec![
        Finding {
            claim: "A GD iteration costs O(nd): its work grows linearly in n".into(),
            evidence: format!(
                "log-log slope in n ({n_low}..{n_high}, d = {}) of the counted work {:.3}, of the measured time {:.2}",
                sizes.fixed_d,
                shown("gd_flops_slope_in_n"),
                number("gd_seconds_slope_in_n")
            ),
            holds: (number("gd_flops_slope_in_n") - 1.0).abs() < 0.1,
        },
        Finding {
            claim: format!("An SGD iteration (m = {BATCH_SIZE}) costs O(d), whatever n"),
            evidence: format!(
                "log-log slope in n of the counted work {:.3}, of the measured time {:.2}",
                shown("sgd_flops_slope_in_n"),
                number("sgd_seconds_slope_in_n")
            ),
            holds: number("sgd_flops_slope_in_n").abs() < 0.1,
        },
        Finding {
            claim: "Both iterations' cost grows linearly in d".into(),
            evidence: format!(
                "log-log slope in d ({}..{}, n = {}) of the counted work: GD {:.3}, SGD {:.3} (measured time: GD {:.2}, SGD {:.2})",
                sizes.d_sweep[0],
                sizes.d_sweep[sizes.d_sweep.len() - 1],
                sizes.fixed_n,
                shown("gd_flops_slope_in_d"),
                shown("sgd_flops_slope_in_d"),
                number("gd_seconds_slope_in_d"),
                number("sgd_seconds_slope_in_d")
            ),
            holds: [
                number("gd_flops_slope_in_d"),
                number("sgd_flops_slope_in_d"),
            ]
            .iter()
            .all(|slope| (0.85..=1.1).contains(slope)),
        },
    ];

    // GD: about the same number of iterations for every further decade of ρ (log 1/ρ);
    // SGD: each decade costs several times the previous one (1/ρ).
    let rhos = sizes
        .rhos
        .iter()
        .map(|r| format!("{r:e}"))
        .collect::<Vec<_>>()
        .join(", ");
    let (gd_iterations, sgd_iterations) = (iterations(gd), iterations(sgd));
    let increments = |its: &[f64]| its.windows(2).map(|w| w[1] - w[0]).collect::<Vec<f64>>();
    let show = |its: &Option<Vec<f64>>| match its {
        Some(its) => its
            .iter()
            .map(|i| format!("{i}"))
            .collect::<Vec<_>>()
            .join(", "),
        None => "not every ρ within the budget".into(),
    };
    let rates_hold = match (&gd_iterations, &sgd_iterations) {
        (Some(gd), Some(sgd)) => {
            let gd_steps = increments(gd);
            let gd_even = gd_steps
                .iter()
                .all(|&step| step <= 3.0 * gd_steps[0].max(1.0));
            let sgd_last = sgd[sgd.len() - 1] / sgd[sgd.len() - 2];
            gd_even && sgd_last >= 3.0
        }
        _ => false,
    };
    findings.push(Finding {
        claim: "Reaching ρ takes GD O(log 1/ρ) iterations and SGD O(1/ρ)".into(),
        evidence: format!(
            "for ρ = {rhos}: GD {} iterations (about as many per decade), SGD {} iterations (several times more per decade)",
            show(&gd_iterations),
            show(&sgd_iterations)
        ),
        holds: rates_hold,
    });
    if let (Some(g), Some(s)) = (gd.reached[0], sgd.reached[0]) {
        findings.push(Finding {
            claim: "SGD reaches a loose accuracy with far fewer gradient evaluations than GD"
                .into(),
            evidence: format!(
                "ρ = {:e}: SGD {} per-example gradients ({:.3} s), GD {} ({:.3} s)",
                sizes.rhos[0], s.gradient_evaluations, s.seconds, g.gradient_evaluations, g.seconds
            ),
            holds: s.gradient_evaluations < g.gradient_evaluations,
        });
    }
    let ratio = number("mnist_time_ratio");
    let lecture = number("mnist_n_over_m");
    findings.push(Finding {
        claim: format!(
            "On MNIST (n = 60,000, m = {BATCH_SIZE}) a mini-batch gradient is n/m = 6,000× cheaper"
        ),
        evidence: format!(
            "n = {}: counted work ratio {:.0} (n/m = {lecture:.0}); measured time ratio {ratio:.0} ({:.4} s against {:.6} s, median), within a factor 10 of n/m counts as holding: a tiny batch pays Burn's fixed cost per call",
            sizes.mnist_n,
            number("mnist_work_ratio"),
            number("mnist_full_gradient_seconds"),
            number("mnist_batch_gradient_seconds")
        ),
        holds: (lecture / 10.0..=lecture * 10.0).contains(&ratio)
            && (number("mnist_work_ratio") / lecture - 1.0).abs() < 0.01,
    });
    findings
}

/// The lecture's table, measured: iterations, gradient evaluations and time to each ρ.
fn notes(sizes: &Sizes, gd: &Descent, sgd: &Descent, numbers: &BTreeMap<String, f64>) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "Reaching ρ = ℓ(f_Θ) − ℓ(f*) on synthetic logistic data (n = {}, d = {}, μ = {WEIGHT_DECAY}, ℓ* = {:.6}); GD with α = 1/L = {:.3}, SGD with m = {BATCH_SIZE} and α = {SGD_INITIAL_LEARNING_RATE}/(1 + ρ_α t), ρ_α = {:.2e}. ℓ − ℓ* is evaluated after every GD step and every {} SGD steps, off the clock (\"—\": not within {} SGD steps):\n",
        sizes.rho_n,
        sizes.fixed_d,
        numbers.get("optimum_loss").copied().unwrap_or(f64::NAN),
        numbers.get("gd_alpha").copied().unwrap_or(f64::NAN),
        sizes.sgd_decay(),
        sizes.sgd_check_every(),
        sizes.sgd_max_steps
    );
    let _ = writeln!(
        text,
        "| ρ | GD iterations | GD gradient evaluations | GD time | SGD iterations | SGD gradient evaluations | SGD time |"
    );
    let _ = writeln!(text, "|---|---|---|---|---|---|---|");
    let cells = |reach: &Option<Reach>| match reach {
        Some(r) => format!(
            "{} | {} | {:.3} s",
            r.iterations, r.gradient_evaluations, r.seconds
        ),
        None => "— | — | —".into(),
    };
    for (rho, (g, s)) in sizes.rhos.iter().zip(gd.reached.iter().zip(&sgd.reached)) {
        let _ = writeln!(text, "| {rho:e} | {} | {} |", cells(g), cells(s));
    }
    text
}
