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
//!
//! Here: [`run`] and its [`Sizes`], and `WORKLOADS`, the table of what `run` measures;
//! `machine.rs` the [`Machine`]; `report.rs` the [`Report`] and its Markdown; `workloads/` one
//! file a group of rows, with the pieces it times.

mod machine;
mod report;
mod workloads;

use std::cell::Cell;
use std::path::{Path, PathBuf};

use burn::tensor::Device;

pub use machine::{Attainable, Machine, VectorUnit};
pub use report::{Report, Row, Slope};
pub use workloads::{
    BareLoop, FullBatch, LearnerTiming, LearnerWorkload, OptimizerPair, OptimizerStep, StepShape,
    copy_gbps, matmul_gflops, optimizer_pairs, time_evaluation,
};

use crate::{Error, ErrorKind, Result};

/// How large and how often: [`Sizes::quick`] for `sgdlab bench --quick`, [`Sizes::full`] for
/// `sgdlab bench` and docs/performance.md, [`Sizes::tiny`] for the test suite.
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
    /// n of the n × n × n matrix product that measures the attainable GFLOP/s.
    pub matmul_size: usize,
    /// Bytes of the copy that measures the memory bandwidth: at the full and quick sizes 1 GiB,
    /// far beyond the last-level cache (300 MiB on the Xeon of docs/performance.md).
    pub copy_bytes: usize,
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
            matmul_size: 2048,
            copy_bytes: 1 << 30,
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
            matmul_size: 1024,
            copy_bytes: 1 << 30,
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
            matmul_size: 64,
            copy_bytes: 1 << 20,
        }
    }
}

/// One entry of [`WORKLOADS`]: a group of rows (and slopes) of the table and what measures
/// them.
struct Workload {
    /// What is measured, named in the error when a measurement fails.
    name: &'static str,
    measure: fn(&Session<'_>, &mut Table<'_>) -> Result<()>,
}

/// What [`run`] measures, in the order of docs/performance.md's table.
const WORKLOADS: [Workload; 5] = [
    Workload {
        name: "the step at the PyTorch reference shapes",
        measure: workloads::reference_steps,
    },
    Workload {
        name: "lecture-sized SGD",
        measure: workloads::lecture_sgd,
    },
    Workload {
        name: "the MNIST-shaped MLP epochs and evaluations",
        measure: workloads::mnist_mlp,
    },
    Workload {
        name: "full batch against SGD",
        measure: workloads::full_batch,
    },
    Workload {
        name: "the optimizer steps",
        measure: workloads::optimizer_steps,
    },
];

/// What every workload measures with.
struct Session<'a> {
    sizes: &'a Sizes,
    /// The default CPU backend's device (not autodiff).
    device: Device,
    /// The machine's large copy, GB/s: the memory-bound rows' yardstick.
    copy_gbps: f64,
    scratch: Scratch,
}

/// The rows and slopes measured so far; `progress` hears each row as it is added.
struct Table<'a> {
    rows: Vec<Row>,
    slopes: Vec<Slope>,
    progress: &'a mut dyn FnMut(&Row),
}

impl Table<'_> {
    fn push(&mut self, row: Row) {
        (self.progress)(&row);
        self.rows.push(row);
    }
}

/// Every measurement of the workloads at `sizes`, in the order of docs/performance.md's table.
/// `progress` hears each row as it is measured (the full run takes minutes).
pub fn run(sizes: &Sizes, mut progress: impl FnMut(&Row)) -> Result<Report> {
    let machine = Machine::detect();
    let device = crate::device::resolve("cpu")?;
    let attainable =
        workloads::measure_attainable(&device, sizes.matmul_size, sizes.copy_bytes, sizes.repeats);
    let session = Session {
        scratch: Scratch::new()?,
        copy_gbps: attainable.copy_gbps,
        device,
        sizes,
    };
    let mut table = Table {
        rows: Vec::new(),
        slopes: Vec::new(),
        progress: &mut progress,
    };
    for workload in &WORKLOADS {
        (workload.measure)(&session, &mut table).map_err(|error| {
            let message = format!("bench, {}: {error}", workload.name);
            match error.kind() {
                ErrorKind::Diverged => Error::diverged(message),
                ErrorKind::Input => Error::new(message),
            }
        })?;
    }
    Ok(Report {
        machine,
        attainable,
        rows: table.rows,
        slopes: table.slopes,
    })
}

/// A folder of the system's temporary directory for one benchmark session, removed when
/// dropped: learner runs and the synthetic MNIST go there, never into `artifacts/`.
pub struct Scratch {
    dir: tempfile::TempDir,
    runs: Cell<usize>,
}

impl Scratch {
    /// A new, empty `sgdlab-bench-…` folder.
    pub fn new() -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("sgdlab-bench-")
            .tempdir()
            .map_err(|e| Error::io("create a folder in", &std::env::temp_dir(), e))?;
        Ok(Self {
            dir,
            runs: Cell::new(0),
        })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A path under the scratch folder that does not exist yet.
    pub fn fresh(&self, stem: &str) -> PathBuf {
        self.runs.set(self.runs.get() + 1);
        self.path().join(format!("{stem}-{}", self.runs.get()))
    }
}
