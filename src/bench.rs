//! Performance measurements of the real training path, shared by `sgdlab bench` (a quick
//! Markdown table, medians of repeated runs) and the criterion suite (`cargo bench`, which
//! drives the same workloads through [`LearnerWorkload`], [`BareLoop`], [`FullBatch`] and
//! [`OptimizerStep`]).
//!
//! Everything runs on the default CPU backend, through the code `sgdlab train` uses: the
//! batcher, the models and losses, burn's autodiff, sgdlab's optimizers and, for the learner
//! figures, `train::train` itself writing a run directory into a scratch folder.
//!
//! FLOP counts, for the GFLOP/s columns (multiply-add = 2 flop; biases and activations left
//! out): an MLP with weight matrices `W_l` costs `2 Σ |W_l|` per example forward and twice that
//! backward (the gradients of the weights and of the hidden activations), `6 Σ |W_l|` in all;
//! a full-batch gradient descent iteration of logistic regression on `n × d` data costs `2nd`
//! forward (`X w`) and `2nd` backward (`Xᵀ r`), the lecture's O(nd).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::batch::{Batch, BatchTargets, gather, permutation};
use crate::config::{Activation, Config, Head, Init, ModelConfig, ModelKind};
use crate::data::idx::write_idx;
use crate::data::{Dataset, Targets};
use crate::eval::{SplitChoice, evaluate_run};
use crate::model::{Model, Problem};
use crate::optim::{AdaGrad, Adam, GradientDescent, Momentum, MomentumForm, RmsProp};
use crate::rng::Rng;
use crate::run_dir::RunDir;
use crate::train::CheckpointChoice;
use crate::train::{Progress, TrainRequest, train};
use crate::{Error, Result};

/// Floating-point operations per cycle and core: two AVX2 FMA units × 8 f32 lanes × 2.
const FLOP_PER_CYCLE: f64 = 32.0;

/// The machine the figures were measured on, and its fp32 peak.
#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    pub cpu: String,
    pub ghz: f64,
    pub cores: usize,
}

impl Machine {
    /// Reads the CPU model and clock from `/proc/cpuinfo` (unknown elsewhere) and the cores
    /// this process may use.
    pub fn detect() -> Self {
        let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let field = |name: &str| {
            info.lines()
                .find(|line| line.starts_with(name))
                .and_then(|line| line.split(':').nth(1))
                .map(|value| value.trim().to_string())
        };
        let cpu = field("model name").unwrap_or_else(|| "unknown CPU".into());
        let ghz = field("cpu MHz")
            .and_then(|mhz| mhz.parse::<f64>().ok())
            .map_or(0.0, |mhz| mhz / 1e3);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self { cpu, ghz, cores }
    }

    /// cores × GHz × 32 flop/cycle (AVX2 + FMA, fp32); 0 when the clock is unknown.
    pub fn peak_gflops(&self) -> f64 {
        self.cores as f64 * self.ghz * FLOP_PER_CYCLE
    }
}

/// How large and how often: [`Sizes::quick`] for `sgdlab bench --quick`, [`Sizes::full`] for
/// `sgdlab bench` and the README, [`Sizes::tiny`] for the test suite.
#[derive(Debug, Clone, PartialEq)]
pub struct Sizes {
    /// Runs per figure; the table shows the median.
    pub repeats: usize,
    /// Epochs of the learner run on breast cancer (40 steps of m = 10 each).
    pub logistic_epochs: usize,
    /// Examples of the synthetic d = 30 CSV whose single epoch times the learner's step
    /// without the per-epoch work (validation, checkpoint) of breast cancer's short epochs.
    pub logistic_csv_n: usize,
    /// Training and test images of the synthetic MNIST (one learner epoch over the former).
    pub mnist_train: usize,
    pub mnist_test: usize,
    /// Hidden widths of the MNIST-shaped MLPs.
    pub mlp_hidden: Vec<usize>,
    /// Learner epochs and bare-loop epochs, alternating, per MNIST-shaped MLP: the overhead is
    /// a ratio of two noisy times, so it gets more pairs than the other figures get repeats.
    pub overhead_pairs: usize,
    /// n of the full-batch runs, per d.
    pub full_batch_n: Vec<(usize, Vec<usize>)>,
    /// Steps timed per figure of the bare step and the optimizer step.
    pub steps: usize,
}

impl Sizes {
    pub fn full() -> Self {
        Self {
            repeats: 5,
            logistic_epochs: 25,
            logistic_csv_n: 30_000,
            mnist_train: 60_000,
            mnist_test: 10_000,
            mlp_hidden: vec![128, 512],
            overhead_pairs: 9,
            // 10⁶ × 784 f32 is 3.1 GB, twice that while it becomes a tensor: d = 784 stops at
            // 3 × 10⁵ (0.9 GB) to stay clear of the memory of a shared 2-core machine.
            full_batch_n: vec![
                (30, vec![10_000, 100_000, 1_000_000]),
                (784, vec![10_000, 30_000, 100_000, 300_000]),
            ],
            steps: 60,
        }
    }

    pub fn quick() -> Self {
        Self {
            repeats: 3,
            logistic_epochs: 10,
            logistic_csv_n: 10_000,
            mnist_train: 6_400,
            mnist_test: 2_000,
            mlp_hidden: vec![128, 512],
            overhead_pairs: 3,
            full_batch_n: vec![(30, vec![10_000, 100_000]), (784, vec![3_000, 30_000])],
            steps: 20,
        }
    }

    /// Seconds in all, for tests: every row, at sizes too small to mean anything.
    pub fn tiny() -> Self {
        Self {
            repeats: 1,
            logistic_epochs: 1,
            logistic_csv_n: 200,
            mnist_train: 256,
            mnist_test: 128,
            mlp_hidden: vec![16],
            overhead_pairs: 1,
            full_batch_n: vec![(30, vec![500, 1_000])],
            steps: 2,
        }
    }
}

/// One line of the table: the median time of one `unit`, and what follows from it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub group: &'static str,
    pub case: String,
    /// Median seconds per unit.
    pub seconds: f64,
    pub unit: &'static str,
    /// Units per second of something: (value, "steps/s" | "examples/s").
    pub throughput: Option<(f64, &'static str)>,
    /// Achieved GFLOP/s, where the flop count is known.
    pub gflops: Option<f64>,
    pub note: String,
}

/// A fitted log-log slope: time ∝ n^slope.
#[derive(Debug, Clone, PartialEq)]
pub struct Slope {
    pub what: String,
    pub slope: f64,
}

/// The table `sgdlab bench` prints.
#[derive(Debug, Clone)]
pub struct Report {
    pub machine: Machine,
    pub rows: Vec<Row>,
    pub slopes: Vec<Slope>,
}

/// Every measurement at `sizes`, in the order of the README's table. `progress` hears each
/// row as it is measured (the full run takes minutes).
pub fn run(sizes: &Sizes, mut progress: impl FnMut(&Row)) -> Result<Report> {
    let machine = Machine::detect();
    let scratch = Scratch::new()?;
    let device = crate::device::resolve("cpu")?;
    let mut rows = Vec::new();
    let mut push = |row: Row, rows: &mut Vec<Row>| {
        progress(&row);
        rows.push(row);
    };

    // 0: the step PyTorch's reference script times, SGD + momentum, bare loop.
    for shape in StepShape::REFERENCE {
        let mut bare = BareLoop::new(shape, &device);
        let seconds = median(sizes.repeats, || {
            let start = Instant::now();
            for _ in 0..sizes.steps {
                bare.step();
            }
            start.elapsed().as_secs_f64() / sizes.steps as f64
        });
        push(
            Row {
                group: "step",
                case: shape.name(),
                seconds,
                unit: "step",
                throughput: Some((shape.batch as f64 / seconds, "examples/s")),
                gflops: Some(shape.flop_per_step() / seconds / 1e9),
                note: "bare loop, SGD + momentum 0.9".into(),
            },
            &mut rows,
        );
    }

    // 1: lecture-sized SGD through the learner.
    let workload = LearnerWorkload::logistic(sizes.logistic_epochs)?;
    let seconds = median(sizes.repeats, || {
        workload.run(&scratch).map(|t| t.learner_seconds)
    })?;
    let steps = workload.steps as f64;
    push(
        Row {
            group: "lecture SGD",
            case: "logistic d = 30, m = 10, learner".into(),
            seconds: seconds / steps,
            unit: "step",
            throughput: Some((steps / seconds, "steps/s")),
            gflops: None,
            note: format!(
                "{} epoch(s) of {} steps, validation and checkpoint every epoch; {} examples/s",
                sizes.logistic_epochs,
                workload.steps / sizes.logistic_epochs,
                thousands(steps * 10.0 / seconds)
            ),
        },
        &mut rows,
    );
    let csv = scratch.path.join("logistic.csv");
    write_synthetic_csv(&csv, sizes.logistic_csv_n, 30, 3)?;
    let workload = LearnerWorkload::logistic_csv(&csv, sizes.logistic_csv_n)?;
    let seconds = median(sizes.repeats, || {
        workload.run(&scratch).map(|t| t.learner_seconds)
    })?;
    let steps = workload.steps as f64;
    push(
        Row {
            group: "lecture SGD",
            case: "logistic d = 30, m = 10, learner, long epoch".into(),
            seconds: seconds / steps,
            unit: "step",
            throughput: Some((steps / seconds, "steps/s")),
            gflops: None,
            note: format!(
                "one epoch of {} steps on {} synthetic examples (CSV), no validation",
                workload.steps, sizes.logistic_csv_n
            ),
        },
        &mut rows,
    );
    let logistic = StepShape {
        batch: 10,
        input: 30,
        hidden: None,
        classes: 2,
    };
    let data = Arc::new(synthetic_classes(569, 30, 2, 3));
    let mut bare = BareLoop::on_data(logistic, data, &device);
    let seconds = median(sizes.repeats, || {
        let start = Instant::now();
        for _ in 0..sizes.steps * 10 {
            bare.step();
        }
        start.elapsed().as_secs_f64() / (sizes.steps * 10) as f64
    });
    push(
        Row {
            group: "lecture SGD",
            case: "logistic d = 30, m = 10, bare loop".into(),
            seconds,
            unit: "step",
            throughput: Some((1.0 / seconds, "steps/s")),
            gflops: None,
            note: "batcher + forward + backward + momentum step".into(),
        },
        &mut rows,
    );

    // 2: MNIST-shaped MLPs, one epoch, learner against bare loop; 5: evaluation.
    let mnist = scratch.path.join("mnist");
    write_synthetic_mnist(&mnist, sizes.mnist_train, sizes.mnist_test, 11)?;
    for &hidden in &sizes.mlp_hidden {
        let shape = StepShape {
            batch: 128,
            input: 784,
            hidden: Some(hidden),
            classes: 10,
        };
        let workload = LearnerWorkload::mnist_mlp(&mnist, hidden, sizes.mnist_train)?;
        let data = Arc::new(synthetic_classes(sizes.mnist_train, 784, 10, 11));
        let mut bare = BareLoop::on_data(shape, data, &device);
        // Learner and bare loop alternate, so that drift in the machine's load (other jobs)
        // affects both alike and their ratio stays meaningful.
        let (mut learner_times, mut bare_times) = (Vec::new(), Vec::new());
        let mut last_run = None;
        for _ in 0..sizes.overhead_pairs.max(1) {
            let timing = workload.run(&scratch)?;
            learner_times.push(timing.learner_seconds);
            last_run = Some(timing.run_dir);
            bare_times.push(bare.epoch());
        }
        // Other jobs only ever add time, so the fastest runs of each are the least disturbed
        // estimate of the overhead; each pair, measured back to back, sees the same load, so
        // the median of the pairs' ratios is robust to drift; the medians are shown beside.
        let fastest = |times: &[f64]| times.iter().copied().fold(f64::INFINITY, f64::min);
        let fastest_overhead = fastest(&learner_times) / fastest(&bare_times) - 1.0;
        let paired_overhead = median_of(
            learner_times
                .iter()
                .zip(&bare_times)
                .map(|(learner, bare)| learner / bare)
                .collect(),
        ) - 1.0;
        let pairs = bare_times.len();
        let (learner, bare_seconds) = (median_of(learner_times), median_of(bare_times));
        let examples = sizes.mnist_train as f64;
        let flop = shape.flop_per_example() * examples;
        push(
            Row {
                group: "MNIST MLP epoch",
                case: format!("{}, learner", shape.name()),
                seconds: learner,
                unit: "epoch",
                throughput: Some((examples / learner, "examples/s")),
                gflops: Some(flop / learner / 1e9),
                note: format!("{} examples", sizes.mnist_train),
            },
            &mut rows,
        );
        let seconds = bare_seconds;
        push(
            Row {
                group: "MNIST MLP epoch",
                case: format!("{}, bare loop", shape.name()),
                seconds,
                unit: "epoch",
                throughput: Some((examples / seconds, "examples/s")),
                gflops: Some(flop / seconds / 1e9),
                note: format!(
                    "learner overhead {:+.1} % (median of {} pairs), {:+.1} % (fastest runs), {:+.1} % (medians)",
                    paired_overhead * 100.0,
                    pairs,
                    fastest_overhead * 100.0,
                    (learner / seconds - 1.0) * 100.0
                ),
            },
            &mut rows,
        );
        let run_dir = last_run.ok_or_else(|| Error::new("bench: no learner run to evaluate"))?;
        let seconds = median(sizes.repeats, || time_evaluation(&run_dir))?;
        let examples = sizes.mnist_test as f64;
        push(
            Row {
                group: "evaluation",
                case: format!("{}, test split", shape.name()),
                seconds,
                unit: "evaluation",
                throughput: Some((examples / seconds, "examples/s")),
                gflops: Some(shape.flop_per_example() / 3.0 * examples / seconds / 1e9),
                note: format!(
                    "sgdlab eval of the last checkpoint, {} examples, loading included",
                    sizes.mnist_test
                ),
            },
            &mut rows,
        );
    }

    // 3: full-batch GD against SGD on the same resident data.
    let mut slopes = Vec::new();
    for (dim, ns) in &sizes.full_batch_n {
        let (mut gd_points, mut sgd_points) = (Vec::new(), Vec::new());
        for &n in ns {
            let mut full = FullBatch::new(n, *dim, &device);
            let gd = median(sizes.repeats, || full.time(|full| full.gd_iteration()));
            let sgd = median(sizes.repeats, || {
                let start = Instant::now();
                for _ in 0..sizes.steps {
                    full.sgd_step(10);
                }
                start.elapsed().as_secs_f64() / sizes.steps as f64
            });
            gd_points.push((n as f64, gd));
            sgd_points.push((n as f64, sgd));
            push(
                Row {
                    group: "full batch vs SGD",
                    case: format!("GD iteration, n = {n}, d = {dim}"),
                    seconds: gd,
                    unit: "iteration",
                    throughput: Some((n as f64 / gd, "examples/s")),
                    gflops: Some(4.0 * (n * dim) as f64 / gd / 1e9),
                    note: String::new(),
                },
                &mut rows,
            );
            push(
                Row {
                    group: "full batch vs SGD",
                    case: format!("SGD step m = 10, n = {n}, d = {dim}"),
                    seconds: sgd,
                    unit: "step",
                    throughput: Some((1.0 / sgd, "steps/s")),
                    gflops: None,
                    note: "batch gathered by index from the resident tensor".into(),
                },
                &mut rows,
            );
        }
        if ns.len() >= 2 {
            slopes.push(Slope {
                what: format!("GD iteration time vs n, d = {dim}"),
                slope: log_log_slope(&gd_points),
            });
            slopes.push(Slope {
                what: format!("SGD step time vs n, d = {dim}"),
                slope: log_log_slope(&sgd_points),
            });
        }
    }

    // 4: one optimizer step per family, ours against Burn's.
    let autodiff = device.clone().autodiff();
    let mut step = OptimizerStep::new(&autodiff);
    for pair in optimizer_pairs() {
        let (mut ours, mut burns) = (pair.ours, pair.burn);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..sizes.repeats.max(2) {
            a.extend(step.samples(&mut ours, sizes.steps));
            b.extend(step.samples(&mut burns, sizes.steps));
        }
        let (ours, burn) = (median_of(a), median_of(b));
        push(
            Row {
                group: "optimizer step",
                case: format!(
                    "{}, {} parameters",
                    pair.name,
                    thousands(step.parameters as f64)
                ),
                seconds: ours,
                unit: "step",
                throughput: None,
                gflops: None,
                note: format!(
                    "Burn's built-in {:.3} ms: ours/Burn {:.2}×",
                    burn * 1e3,
                    ours / burn
                ),
            },
            &mut rows,
        );
    }

    Ok(Report {
        machine,
        rows,
        slopes,
    })
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let machine = &self.machine;
        writeln!(
            f,
            "{}, {} cores at {:.2} GHz: fp32 peak {:.0} GFLOP/s (cores × GHz × 32 flop/cycle)\n",
            machine.cpu,
            machine.cores,
            machine.ghz,
            machine.peak_gflops()
        )?;
        writeln!(
            f,
            "| group | case | median | per | throughput | GFLOP/s | % of peak | note |"
        )?;
        writeln!(f, "|---|---|---:|---|---:|---:|---:|---|")?;
        for row in &self.rows {
            let throughput = row
                .throughput
                .map(|(value, unit)| format!("{} {unit}", thousands(value)))
                .unwrap_or_default();
            let (gflops, share) = match row.gflops {
                Some(g) if machine.peak_gflops() > 0.0 => (
                    gflops_text(g),
                    format!("{:.1} %", g / machine.peak_gflops() * 100.0),
                ),
                Some(g) => (gflops_text(g), String::new()),
                None => Default::default(),
            };
            writeln!(
                f,
                "| {} | {} | {} | {} | {throughput} | {gflops} | {share} | {} |",
                row.group,
                row.case,
                duration(row.seconds),
                row.unit,
                row.note
            )?;
        }
        if !self.slopes.is_empty() {
            writeln!(f, "\n| log-log slope of | slope |\n|---|---:|")?;
            for slope in &self.slopes {
                writeln!(f, "| {} | {:.2} |", slope.what, slope.slope)?;
            }
        }
        Ok(())
    }
}

/// A training step's shape: batch × input → hidden → classes (no hidden: a linear model,
/// logistic for two classes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepShape {
    pub batch: usize,
    pub input: usize,
    pub hidden: Option<usize>,
    pub classes: usize,
}

impl StepShape {
    /// The shapes of the issue's PyTorch reference figures (benches/reference/).
    pub const REFERENCE: [StepShape; 3] = [
        StepShape {
            batch: 128,
            input: 784,
            hidden: Some(128),
            classes: 10,
        },
        StepShape {
            batch: 128,
            input: 784,
            hidden: Some(512),
            classes: 10,
        },
        StepShape {
            batch: 10,
            input: 30,
            hidden: None,
            classes: 2,
        },
    ];

    /// `128 × 784 → 128 → 10`, as the PyTorch script prints it.
    pub fn name(&self) -> String {
        match self.hidden {
            Some(h) => format!(
                "mlp {} × {} → {h} → {}",
                self.batch, self.input, self.classes
            ),
            None => format!("logistic {} × {} → 1", self.batch, self.input),
        }
    }

    fn model_config(&self) -> ModelConfig {
        ModelConfig {
            kind: if self.hidden.is_some() {
                ModelKind::Mlp
            } else {
                ModelKind::Logistic
            },
            hidden: self.hidden.into_iter().collect(),
            activation: Activation::Relu,
            head: Head::Auto,
            init: Init::Default,
        }
    }

    fn weights(&self) -> usize {
        let outputs = if self.classes == 2 { 1 } else { self.classes };
        match self.hidden {
            Some(h) => self.input * h + h * outputs,
            None => self.input * outputs,
        }
    }

    /// Forward and backward, `6 Σ |W|` per example.
    pub fn flop_per_example(&self) -> f64 {
        6.0 * self.weights() as f64
    }

    pub fn flop_per_step(&self) -> f64 {
        self.flop_per_example() * self.batch as f64
    }
}

/// The training loop without the learner: batcher → forward → loss → backward → SGD with
/// PyTorch-form momentum 0.9, over shuffled batches of resident data.
pub struct BareLoop {
    stepper: Stepper,
    data: Arc<Dataset>,
    batch: usize,
    order: Vec<usize>,
    position: usize,
    epoch: usize,
}

impl BareLoop {
    /// On `shape.batch`·8 random examples, enough batches to cycle through.
    pub fn new(shape: StepShape, device: &Device) -> Self {
        let data = Arc::new(synthetic_classes(
            shape.batch * 8,
            shape.input,
            shape.classes,
            1,
        ));
        Self::on_data(shape, data, device)
    }

    pub fn on_data(shape: StepShape, data: Arc<Dataset>, device: &Device) -> Self {
        let device = device.clone().autodiff();
        let problem = Problem {
            dim: shape.input,
            classes: Some(shape.classes),
        };
        let model = Model::new(&shape.model_config(), problem, 1, &device)
            .expect("the bench's shapes are valid models");
        Self {
            stepper: Stepper::new(model, ModuleOptimizer::from(reference_momentum()), device),
            order: permutation(data.len(), 5, 0),
            data,
            batch: shape.batch,
            position: 0,
            epoch: 0,
        }
    }

    /// One step on the next mini-batch (a new permutation after each pass).
    pub fn step(&mut self) {
        if self.position + self.batch > self.order.len() {
            self.epoch += 1;
            self.order = permutation(self.data.len(), 5, self.epoch);
            self.position = 0;
        }
        let indices = &self.order[self.position..self.position + self.batch];
        self.position += self.batch;
        let batch = gather(&self.data, indices, &self.stepper.device);
        self.stepper.step(batch);
    }

    /// Seconds of one pass over the data (full batches only, as the learner's loader would
    /// also give a last partial one: at 60,000 / 128 that is one batch in 469).
    pub fn epoch(&mut self) -> f64 {
        let steps = self.data.len() / self.batch;
        self.position = self.order.len();
        let start = Instant::now();
        for _ in 0..steps {
            self.step();
        }
        start.elapsed().as_secs_f64()
    }
}

/// A model and its optimizer on an autodiff device: the part of a training step after the
/// batch is made (forward, loss, backward, update, α = 0.01).
struct Stepper {
    model: Option<Model>,
    optimizer: ModuleOptimizer,
    device: Device,
}

impl Stepper {
    fn new(model: Model, optimizer: ModuleOptimizer, device: Device) -> Self {
        Self {
            model: Some(model),
            optimizer,
            device,
        }
    }

    fn step(&mut self, batch: Batch) {
        let model = self
            .model
            .take()
            .expect("the model is put back after each step");
        let loss = model.step_output(batch).loss;
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let model = self.optimizer.step(0.01, model, grads);
        // Lazy backends are timed for the work they do, not for queuing it.
        self.device.sync().expect("the CPU backend syncs");
        self.model = Some(model);
    }
}

/// `SGD + momentum 0.9` as PyTorch's `torch.optim.SGD(momentum=0.9)` computes it.
fn reference_momentum() -> Momentum {
    Momentum {
        momentum: 0.9,
        form: MomentumForm::Pytorch,
        dampening: 0.0,
        weight_decay: 0.0,
    }
}

/// `sgdlab train` on a config, into a fresh directory of the scratch folder.
pub struct LearnerWorkload {
    config: Config,
    /// Optimizer steps one run takes.
    pub steps: usize,
}

/// One learner run: where it went and how long it took.
pub struct LearnerTiming {
    /// All of `train`: data loading and set-up included.
    pub seconds: f64,
    /// The learner's own time, from its start to the last epoch's metrics row
    /// (`elapsed_seconds` of `metrics.csv`): the figure to set against a bare loop.
    pub learner_seconds: f64,
    pub run_dir: RunDir,
}

impl LearnerWorkload {
    /// The quickstart (breast cancer, m = 10: 398 training examples, 40 steps an epoch) for
    /// `epochs` epochs, plain SGD, without the suboptimality column (its f* solve and
    /// per-epoch full-data loss are not the step being measured).
    pub fn logistic(epochs: usize) -> Result<Self> {
        let config = Config::from_toml(
            &format!(
                r#"
[data]
source = "breast_cancer"
standardize = true
validation_fraction = 0.15
test_fraction = 0.15
[model]
kind = "logistic"
init = "zeros"
[optimizer]
name = "sgd"
learning_rate = 0.1
[training]
epochs = {epochs}
batch_size = 10
seed = 42
device = "cpu"
suboptimality = "off"
"#
            ),
            "bench (logistic)",
            &[],
        )?;
        Ok(Self {
            config,
            steps: epochs * 40,
        })
    }

    /// One epoch of logistic regression, m = 10, plain SGD, on the `examples` rows of a CSV of
    /// 30 features and a label `y` (see [`write_synthetic_csv`]), all of them training data.
    pub fn logistic_csv(csv: &Path, examples: usize) -> Result<Self> {
        let config = Config::from_toml(
            &format!(
                r#"
[data]
source = "csv"
path = {path:?}
label = "y"
standardize = true
validation_fraction = 0.0
test_fraction = 0.0
[model]
kind = "logistic"
init = "zeros"
[optimizer]
name = "sgd"
learning_rate = 0.1
[training]
epochs = 1
batch_size = 10
seed = 42
device = "cpu"
suboptimality = "off"
"#,
                path = csv.display().to_string()
            ),
            "bench (logistic csv)",
            &[],
        )?;
        Ok(Self {
            config,
            steps: examples.div_ceil(10),
        })
    }

    /// One epoch of an MLP 784 → `hidden` → 10, batch 128, SGD + momentum, on the IDX files
    /// in `mnist` (see [`write_synthetic_mnist`]) with `examples` training images; no
    /// validation split, so the epoch is all training.
    pub fn mnist_mlp(mnist: &Path, hidden: usize, examples: usize) -> Result<Self> {
        let config = Config::from_toml(
            &format!(
                r#"
[data]
source = "mnist"
path = {path:?}
standardize = false
validation_fraction = 0.0
[model]
kind = "mlp"
hidden = [{hidden}]
activation = "relu"
[optimizer]
name = "momentum"
learning_rate = 0.01
momentum = 0.9
form = "pytorch"
[training]
epochs = 1
batch_size = 128
seed = 42
device = "cpu"
"#,
                path = mnist.display().to_string()
            ),
            "bench (mnist mlp)",
            &[],
        )?;
        Ok(Self {
            config,
            steps: examples.div_ceil(128),
        })
    }

    /// Trains once into a new directory under `scratch`; the seconds are those `train` took,
    /// from loading the data to the last checkpoint.
    pub fn run(&self, scratch: &Scratch) -> Result<LearnerTiming> {
        let run_dir = scratch.fresh("run");
        let start = Instant::now();
        let result = train(TrainRequest {
            config: self.config.clone(),
            name: "bench".into(),
            run_dir: Some(run_dir),
            resume: false,
            artifacts: scratch.path.clone(),
            progress: Progress::Quiet,
        })?;
        let seconds = start.elapsed().as_secs_f64();
        let learner_seconds = result
            .last
            .get("elapsed_seconds")
            .copied()
            .ok_or_else(|| Error::new("bench: the run's metrics.csv has no elapsed_seconds"))?;
        Ok(LearnerTiming {
            seconds,
            learner_seconds,
            run_dir: result.run_dir,
        })
    }
}

/// Seconds `sgdlab eval` takes on the run's last checkpoint and test split.
pub fn time_evaluation(run: &RunDir) -> Result<f64> {
    let start = Instant::now();
    evaluate_run(run, CheckpointChoice::Last, Some(SplitChoice::Test), None)?;
    Ok(start.elapsed().as_secs_f64())
}

/// Logistic regression on `n × d` data resident on the device: a full-batch gradient descent
/// iteration over all of it, or an SGD step on `m` rows gathered by index.
pub struct FullBatch {
    stepper: Stepper,
    features: Tensor<2>,
    labels: Tensor<1, Int>,
    rng: Rng,
}

impl FullBatch {
    pub fn new(n: usize, dim: usize, device: &Device) -> Self {
        let device = device.clone().autodiff();
        let data = synthetic_classes(n, dim, 2, 7);
        let Batch { features, targets } = gather(&data, &(0..n).collect::<Vec<_>>(), &device);
        let BatchTargets::Classes(labels) = targets else {
            unreachable!("synthetic_classes has class labels")
        };
        let shape = StepShape {
            batch: n,
            input: dim,
            hidden: None,
            classes: 2,
        };
        let problem = Problem {
            dim,
            classes: Some(2),
        };
        let model = Model::new(&shape.model_config(), problem, 1, &device)
            .expect("a logistic model of the bench's size is valid");
        Self {
            stepper: Stepper::new(
                model,
                ModuleOptimizer::from(GradientDescent::default()),
                device,
            ),
            features,
            labels,
            rng: Rng::new(9),
        }
    }

    /// Seconds of one call of `f`.
    pub fn time(&mut self, f: impl FnOnce(&mut Self)) -> f64 {
        let start = Instant::now();
        f(self);
        start.elapsed().as_secs_f64()
    }

    /// `θ ← θ − α ∇ℓ(θ)` with ∇ℓ over all n examples.
    pub fn gd_iteration(&mut self) {
        let batch = Batch {
            features: self.features.clone(),
            targets: BatchTargets::Classes(self.labels.clone()),
        };
        self.stepper.step(batch);
    }

    /// One SGD step on `m` examples drawn uniformly with replacement, gathered on the device.
    pub fn sgd_step(&mut self, m: usize) {
        let n = self.features.dims()[0];
        let picks: Vec<i64> = (0..m).map(|_| self.rng.below(n) as i64).collect();
        let indices =
            Tensor::<1, Int>::from_data(TensorData::new(picks, [m]), &self.stepper.device);
        let batch = Batch {
            features: self.features.clone().select(0, indices.clone()),
            targets: BatchTargets::Classes(self.labels.clone().select(0, indices)),
        };
        self.stepper.step(batch);
    }
}

/// One optimizer family, ours and Burn's built-in with the same mathematics.
pub struct OptimizerPair {
    pub name: &'static str,
    pub ours: ModuleOptimizer,
    pub burn: ModuleOptimizer,
}

/// SGD, momentum, AdaGrad, RMSProp and Adam, each with Burn's counterpart.
pub fn optimizer_pairs() -> Vec<OptimizerPair> {
    let momentum = burn::optim::momentum::MomentumConfig {
        momentum: 0.9,
        dampening: 0.0,
        nesterov: false,
    };
    vec![
        OptimizerPair {
            name: "sgd",
            ours: ModuleOptimizer::from(GradientDescent::default()),
            burn: burn::optim::SgdConfig::new().init(),
        },
        OptimizerPair {
            name: "momentum (pytorch form)",
            ours: ModuleOptimizer::from(reference_momentum()),
            burn: burn::optim::SgdConfig::new()
                .with_momentum(Some(momentum))
                .init(),
        },
        OptimizerPair {
            name: "adagrad",
            ours: ModuleOptimizer::from(AdaGrad {
                epsilon: 1e-5,
                initial_accumulator: 0.0,
                lr_decay: 0.0,
                weight_decay: 0.0,
            }),
            burn: burn::optim::AdaGradConfig::new().init(),
        },
        OptimizerPair {
            name: "rmsprop (momentum 0.9)",
            ours: ModuleOptimizer::from(RmsProp {
                beta: 0.99,
                epsilon: 1e-5,
                momentum: 0.9,
                centered: false,
                weight_decay: 0.0,
            }),
            burn: burn::optim::RmsPropConfig::new().init(),
        },
        OptimizerPair {
            name: "adam",
            ours: ModuleOptimizer::from(Adam {
                beta_1: 0.9,
                beta_2: 0.999,
                epsilon: 1e-5,
                amsgrad: false,
                weight_decay: 0.0,
            }),
            burn: burn::optim::AdamConfig::new().init(),
        },
    ]
}

/// One optimizer step alone on an MLP 784 → 1024 → 512 → 10 (1.33 M parameters), from
/// gradients of one batch of 32 computed outside the timing.
pub struct OptimizerStep {
    features: Tensor<2>,
    targets: BatchTargets,
    device: Device,
    pub parameters: usize,
}

impl OptimizerStep {
    const CONFIG_HIDDEN: [usize; 2] = [1024, 512];

    /// `device` must be an autodiff device.
    pub fn new(device: &Device) -> Self {
        let data = synthetic_classes(32, 784, 10, 4);
        let Batch { features, targets } = gather(&data, &(0..32).collect::<Vec<_>>(), device);
        let mut step = Self {
            features,
            targets,
            device: device.clone(),
            parameters: 0,
        };
        step.parameters = step.model().num_params();
        step
    }

    fn model(&self) -> Model {
        let config = ModelConfig {
            kind: ModelKind::Mlp,
            hidden: Self::CONFIG_HIDDEN.to_vec(),
            activation: Activation::Relu,
            head: Head::Auto,
            init: Init::Default,
        };
        let problem = Problem {
            dim: 784,
            classes: Some(10),
        };
        Model::new(&config, problem, 1, &self.device).expect("the bench's MLP is valid")
    }

    /// Seconds of `count` steady-state steps of `optimizer` on a fresh model, after three
    /// that allocate its state.
    pub fn samples(&mut self, optimizer: &mut ModuleOptimizer, count: usize) -> Vec<f64> {
        let mut model = self.model();
        let mut samples = Vec::with_capacity(count);
        for step in 0..count + 3 {
            let loss = model.loss(model.forward(self.features.clone()), &self.targets);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            self.device.sync().expect("the CPU backend syncs");
            let start = Instant::now();
            model = optimizer.step(1e-3, model, grads);
            self.device.sync().expect("the CPU backend syncs");
            if step >= 3 {
                samples.push(start.elapsed().as_secs_f64());
            }
        }
        samples
    }
}

/// `n` examples of `dim` standard-normal features and uniform labels in `0..classes`.
pub fn synthetic_classes(n: usize, dim: usize, classes: usize, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed);
    let features = (0..n * dim).map(|_| rng.normal() as f32).collect();
    let labels = (0..n).map(|_| rng.below(classes) as u32).collect();
    Dataset {
        features,
        dim,
        targets: Targets::Classes { labels, classes },
        feature_names: (0..dim).map(|j| format!("x{j}")).collect(),
    }
}

/// A CSV of `n` rows: `dim` standard-normal features `x0..` and a label `y` drawn from a
/// logistic model with weights 1/√dim, so the classes overlap as real data's do.
pub fn write_synthetic_csv(path: &Path, n: usize, dim: usize, seed: u64) -> Result<()> {
    let mut rng = Rng::new(seed);
    let header: Vec<String> = (0..dim)
        .map(|j| format!("x{j}"))
        .chain(["y".into()])
        .collect();
    let mut text = header.join(",");
    text.push('\n');
    let weight = 1.0 / (dim as f64).sqrt();
    for _ in 0..n {
        let x: Vec<f64> = (0..dim).map(|_| rng.normal()).collect();
        let z: f64 = x.iter().sum::<f64>() * weight;
        let y = u8::from(rng.bernoulli(1.0 / (1.0 + (-z).exp())));
        for value in x {
            text.push_str(&format!("{value:.6},"));
        }
        text.push_str(&format!("{y}\n"));
    }
    std::fs::write(path, text).map_err(|e| Error::io("write", path, e))
}

/// The four MNIST IDX files in `dir` (created), random pixels and labels: MNIST's shapes
/// (28 × 28, 10 classes) with `train` and `test` images.
pub fn write_synthetic_mnist(dir: &Path, train: usize, test: usize, seed: u64) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    let mut rng = Rng::new(seed);
    for (prefix, n) in [("train", train), ("t10k", test)] {
        let pixels: Vec<u8> = (0..n * 784).map(|_| rng.below(256) as u8).collect();
        let labels: Vec<u8> = (0..n).map(|_| rng.below(10) as u8).collect();
        write_idx(
            &dir.join(format!("{prefix}-images-idx3-ubyte")),
            &[n, 28, 28],
            &pixels,
            false,
        )?;
        write_idx(
            &dir.join(format!("{prefix}-labels-idx1-ubyte")),
            &[n],
            &labels,
            false,
        )?;
    }
    Ok(())
}

/// A folder of the system's temporary directory for one benchmark session, removed when
/// dropped: learner runs and the synthetic MNIST go there, never into `artifacts/`.
pub struct Scratch {
    pub path: PathBuf,
    runs: std::cell::Cell<usize>,
}

impl Scratch {
    pub fn new() -> Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path =
            std::env::temp_dir().join(format!("sgdlab-bench-{}-{nanos}", std::process::id()));
        std::fs::create_dir(&path).map_err(|e| Error::io("create", &path, e))?;
        Ok(Self {
            path,
            runs: std::cell::Cell::new(0),
        })
    }

    /// A path under the scratch folder that does not exist yet.
    pub fn fresh(&self, stem: &str) -> PathBuf {
        self.runs.set(self.runs.get() + 1);
        self.path.join(format!("{stem}-{}", self.runs.get()))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The median of `repeats` (at least one) values of `measure`.
fn median<T: Measured>(repeats: usize, mut measure: impl FnMut() -> T) -> T {
    T::median((0..repeats.max(1)).map(|_| measure()).collect())
}

/// What [`median`] takes the median of: seconds, or seconds that may have failed.
trait Measured: Sized {
    fn median(values: Vec<Self>) -> Self;
}

impl Measured for f64 {
    fn median(values: Vec<f64>) -> f64 {
        median_of(values)
    }
}

impl Measured for Result<f64> {
    fn median(values: Vec<Result<f64>>) -> Result<f64> {
        Ok(median_of(values.into_iter().collect::<Result<Vec<f64>>>()?))
    }
}

/// The median of seconds (the upper middle one of an even count).
pub fn median_of(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The least-squares slope of `ln t` against `ln n`.
pub fn log_log_slope(points: &[(f64, f64)]) -> f64 {
    let logs: Vec<(f64, f64)> = points.iter().map(|&(n, t)| (n.ln(), t.ln())).collect();
    let count = logs.len() as f64;
    let mean_x = logs.iter().map(|p| p.0).sum::<f64>() / count;
    let mean_y = logs.iter().map(|p| p.1).sum::<f64>() / count;
    let covariance: f64 = logs.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let variance: f64 = logs.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    covariance / variance
}

/// `1.23 ms`, `45.6 µs`, `2.01 s`.
fn duration(seconds: f64) -> String {
    if seconds >= 1.0 {
        format!("{seconds:.2} s")
    } else if seconds >= 1e-3 {
        format!("{:.2} ms", seconds * 1e3)
    } else {
        format!("{:.1} µs", seconds * 1e6)
    }
}

/// One decimal, two below 1 GFLOP/s (the lecture-sized problems).
fn gflops_text(gflops: f64) -> String {
    if gflops < 1.0 {
        format!("{gflops:.2}")
    } else {
        format!("{gflops:.1}")
    }
}

/// `12,345` for throughputs of 100 and more, `12.3` below.
fn thousands(value: f64) -> String {
    if value < 100.0 {
        return format!("{value:.1}");
    }
    let digits = format!("{:.0}", value);
    let mut grouped = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slopes_of_power_laws_are_their_exponents() {
        let linear: Vec<(f64, f64)> = [1e4, 1e5, 1e6].iter().map(|&n| (n, 3e-9 * n)).collect();
        assert!((log_log_slope(&linear) - 1.0).abs() < 1e-12);
        let flat: Vec<(f64, f64)> = [1e4, 1e5, 1e6].iter().map(|&n| (n, 2e-5)).collect();
        assert!(log_log_slope(&flat).abs() < 1e-12);
    }

    #[test]
    fn flop_counts_follow_the_weight_matrices() {
        let [small, large, logistic] = StepShape::REFERENCE;
        // 6 × (784·128 + 128·10) per example, 128 examples.
        assert_eq!(small.flop_per_step(), 6.0 * 101_632.0 * 128.0);
        assert_eq!(large.flop_per_example(), 6.0 * (784.0 * 512.0 + 5_120.0));
        assert_eq!(logistic.flop_per_example(), 180.0);
        assert_eq!(small.name(), "mlp 128 × 784 → 128 → 10");
        assert_eq!(logistic.name(), "logistic 10 × 30 → 1");
    }

    #[test]
    fn numbers_read_as_the_readme_writes_them() {
        assert_eq!(thousands(1_234_567.4), "1,234,567");
        assert_eq!(thousands(999.6), "1,000");
        assert_eq!(thousands(42.25), "42.2");
        assert_eq!(duration(2.014), "2.01 s");
        assert_eq!(duration(0.00123), "1.23 ms");
        assert_eq!(duration(4.56e-5), "45.6 µs");
        assert_eq!(median_of(vec![3.0, 1.0, 2.0]), 2.0);
    }
}
