//! The criterion suite (`cargo bench`): the training path timed piece by piece, on the
//! default CPU backend, with the workloads of `sgdlab::bench` (which `sgdlab bench` prints as
//! one table of medians, with the GFLOP/s and the fitted slopes).
//!
//! ```text
//! cargo bench --bench training                          # everything, a few minutes
//! cargo bench --bench training -- optimizer_step        # one group
//! cargo bench --bench training --features ndarray -- backend   # flex against ndarray
//! ```
//!
//! Throughputs are examples (or steps) per second; multiply by `StepShape::flop_per_example`
//! (6 × the weight count) for flop/s.

use std::sync::Arc;
use std::time::Duration;

use burn::tensor::Device;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use sgdlab::bench::{
    BareLoop, FullBatch, LearnerWorkload, OptimizerStep, Scratch, StepShape, optimizer_pairs,
    time_evaluation,
};
use sgdlab::data::{synthetic_classes, write_synthetic_mnist};

/// The allocator `sgdlab` itself runs on (src/main.rs), so these figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Training images of the synthetic MNIST: 100 batches of 128, enough for a steady epoch
/// without a minute per sample.
const MNIST_TRAIN: usize = 12_800;
const MNIST_TEST: usize = 10_000;

fn cpu() -> Device {
    sgdlab::device::resolve("cpu").expect("the default CPU backend is compiled in")
}

fn seconds(total: f64) -> Duration {
    Duration::from_secs_f64(total)
}

/// The learner's own time over `runs` runs of `workload`.
fn learner_time(workload: &LearnerWorkload, scratch: &Scratch, runs: u64) -> Duration {
    seconds(
        (0..runs)
            .map(|_| {
                workload
                    .run(scratch)
                    .expect("training runs")
                    .learner_seconds
            })
            .sum(),
    )
}

/// 0: one training step (batcher, forward, backward, SGD + momentum) at the shapes of the
/// PyTorch reference script, benches/reference/.
fn reference_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("step");
    for shape in StepShape::REFERENCE {
        let mut bare = BareLoop::new(shape, &cpu());
        group.throughput(Throughput::Elements(shape.batch as u64));
        group.bench_function(shape.name(), |b| b.iter(|| bare.step()));
    }
    group.finish();
}

/// 1: lecture-sized SGD, logistic regression d = 30, m = 10: through burn-train's learner
/// (a whole run of 5 epochs, 200 steps, timed by the learner's own clock) and a bare loop.
fn lecture_sgd(c: &mut Criterion) {
    let mut group = c.benchmark_group("lecture_sgd");
    group.sample_size(10);
    let scratch = Scratch::new().expect("a scratch folder");
    let workload = LearnerWorkload::logistic(5).expect("the bench config is valid");
    group.throughput(Throughput::Elements(workload.steps as u64));
    group.bench_function("learner, 200 steps (elements = steps)", |b| {
        b.iter_custom(|runs| learner_time(&workload, &scratch, runs))
    });
    let shape = StepShape::REFERENCE[2];
    let data = Arc::new(synthetic_classes(569, 30, 2, 3));
    let mut bare = BareLoop::on_data(shape, data, &cpu());
    group.throughput(Throughput::Elements(1));
    group.bench_function("bare loop, 1 step (elements = steps)", |b| {
        b.iter(|| bare.step())
    });
    group.finish();
}

/// 2: one epoch of an MNIST-shaped MLP, batch 128, through the learner and a bare loop.
fn mnist_mlp(c: &mut Criterion) {
    let mut group = c.benchmark_group("mnist_mlp_epoch");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(MNIST_TRAIN as u64));
    let scratch = Scratch::new().expect("a scratch folder");
    let mnist = scratch.path().join("mnist");
    write_synthetic_mnist(&mnist, MNIST_TRAIN, MNIST_TEST, 11).expect("IDX files written");
    for hidden in [128, 512] {
        let workload =
            LearnerWorkload::mnist_mlp(&mnist, hidden, MNIST_TRAIN).expect("valid config");
        group.bench_function(BenchmarkId::new("learner", hidden), |b| {
            b.iter_custom(|runs| learner_time(&workload, &scratch, runs))
        });
        let shape = StepShape {
            batch: 128,
            input: 784,
            hidden: Some(hidden),
            classes: 10,
        };
        let data = Arc::new(synthetic_classes(MNIST_TRAIN, 784, 10, 11));
        let mut bare = BareLoop::on_data(shape, data, &cpu());
        group.bench_function(BenchmarkId::new("bare", hidden), |b| {
            b.iter_custom(|epochs| seconds((0..epochs).map(|_| bare.epoch()).sum()))
        });
    }
    group.finish();
}

/// 3: a full-batch GD iteration (O(nd)) and an SGD step on the same resident data (O(d)).
/// d = 784 stops at n = 3 × 10⁵: 10⁶ × 784 floats are 3.1 GB, twice that while loading.
fn full_batch(c: &mut Criterion) {
    let mut group = c.benchmark_group("full_batch");
    group.sample_size(10);
    let sizes: [(usize, &[usize]); 2] = [
        (30, &[10_000, 100_000, 1_000_000]),
        (784, &[10_000, 100_000, 300_000]),
    ];
    for (dim, ns) in sizes {
        for &n in ns {
            let mut full = FullBatch::new(n, dim, &cpu());
            group.throughput(Throughput::Elements(n as u64));
            group.bench_function(BenchmarkId::new(format!("gd_iteration_d{dim}"), n), |b| {
                b.iter(|| full.gd_iteration())
            });
            group.throughput(Throughput::Elements(10));
            group.bench_function(BenchmarkId::new(format!("sgd_step_m10_d{dim}"), n), |b| {
                b.iter(|| full.sgd_step(10))
            });
        }
    }
    group.finish();
}

/// 4: one optimizer step alone on a 1.33 M-parameter MLP, ours and Burn's built-in.
fn optimizer_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("optimizer_step");
    group.sample_size(20);
    let device = cpu().autodiff();
    let mut step = OptimizerStep::new(&device);
    for pair in optimizer_pairs() {
        let (mut ours, mut burn) = (pair.ours, pair.burn);
        group.bench_function(BenchmarkId::new("ours", pair.name), |b| {
            b.iter_custom(|steps| seconds(step.samples(&mut ours, steps as usize).iter().sum()))
        });
        group.bench_function(BenchmarkId::new("burn", pair.name), |b| {
            b.iter_custom(|steps| seconds(step.samples(&mut burn, steps as usize).iter().sum()))
        });
    }
    group.finish();
}

/// 5: `sgdlab eval` of a checkpoint (MLP 784 → 128 → 10) on a 10,000-image test split,
/// loading the run and the data included.
fn evaluation(c: &mut Criterion) {
    let mut group = c.benchmark_group("evaluation");
    group.sample_size(10);
    let scratch = Scratch::new().expect("a scratch folder");
    let mnist = scratch.path().join("mnist");
    write_synthetic_mnist(&mnist, 1_280, MNIST_TEST, 11).expect("IDX files written");
    let run = LearnerWorkload::mnist_mlp(&mnist, 128, 1_280)
        .and_then(|workload| workload.run(&scratch))
        .expect("a checkpoint to evaluate")
        .run_dir;
    group.throughput(Throughput::Elements(MNIST_TEST as u64));
    group.bench_function("mlp 784 → 128 → 10, test split", |b| {
        b.iter_custom(|runs| {
            seconds(
                (0..runs)
                    .map(|_| time_evaluation(&run).expect("the checkpoint evaluates"))
                    .sum(),
            )
        })
    });
    group.finish();
}

/// The training step on each CPU backend compiled in (flex always; ndarray with
/// `--features ndarray`): what chose the default backend.
fn backend(c: &mut Criterion) {
    let mut group = c.benchmark_group("backend");
    for name in ["flex", "ndarray"] {
        let Ok(device) = sgdlab::device::resolve(name) else {
            continue;
        };
        for shape in StepShape::REFERENCE {
            let mut bare = BareLoop::new(shape, &device);
            group.bench_function(BenchmarkId::new(name, shape.name()), |b| {
                b.iter(|| bare.step())
            });
        }
    }
    group.finish();
}

criterion_group!(
    benches,
    reference_step,
    lecture_sgd,
    mnist_mlp,
    full_batch,
    optimizer_step,
    evaluation,
    backend
);

/// `criterion_main!`, but on a compute pool's worker, as the `sgdlab` binary runs every command
/// (`sgdlab::device::on_compute_pool`), so these figures are the binary's.
fn main() {
    sgdlab::device::on_compute_pool(|| {
        benches();
        Criterion::default().configure_from_args().final_summary();
    });
}
