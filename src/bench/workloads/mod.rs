//! The workloads `sgdlab bench` measures and the criterion suite drives, one file a group of
//! rows: each has the pieces it times (public, for `benches/training.rs`) and the function
//! that measures its rows, an entry of the table `run` iterates.

mod attainable;
mod full_batch;
mod learner;
mod lecture;
mod mnist;
mod optimizer;
mod step;

pub use attainable::{copy_gbps, matmul_gflops};
pub use full_batch::FullBatch;
pub use learner::{LearnerTiming, LearnerWorkload, time_evaluation};
pub use optimizer::{OptimizerPair, OptimizerStep, optimizer_pairs};
pub use step::{BareLoop, StepShape};

pub(super) use attainable::measure as measure_attainable;
pub(super) use full_batch::full_batch;
pub(super) use lecture::lecture_sgd;
pub(super) use mnist::mnist_mlp;
pub(super) use optimizer::optimizer_steps;
pub(super) use step::reference_steps;

use std::time::Instant;

use crate::{Result, stats};

/// The median ([`median_of_repeats`]) over `repeats` of the seconds per call of `calls` (at
/// least one) calls of `f` in a row.
fn seconds_per_call(repeats: usize, calls: usize, mut f: impl FnMut()) -> f64 {
    let calls = calls.max(1);
    median_of_repeats(repeats, || {
        let start = Instant::now();
        for _ in 0..calls {
            f();
        }
        start.elapsed().as_secs_f64() / calls as f64
    })
}

/// The median ([`stats::median`]) of `repeats` (at least one) values of `measure`.
fn median_of_repeats<T: Measured>(repeats: usize, mut measure: impl FnMut() -> T) -> T {
    T::median((0..repeats.max(1)).map(|_| measure()).collect())
}

/// What [`median_of_repeats`] takes the median of: seconds, or seconds that may have failed
/// (the first failure is the result).
trait Measured: Sized {
    fn median(values: Vec<Self>) -> Self;
}

impl Measured for f64 {
    fn median(mut values: Vec<f64>) -> f64 {
        stats::median(&mut values)
    }
}

impl Measured for Result<f64> {
    fn median(values: Vec<Result<f64>>) -> Result<f64> {
        Ok(stats::median(
            &mut values.into_iter().collect::<Result<Vec<f64>>>()?,
        ))
    }
}
