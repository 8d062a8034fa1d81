//! The "MNIST MLP epoch" and "evaluation" rows: one epoch of an MNIST-shaped MLP through the
//! learner against a bare loop (the learner's overhead), and `sgdlab eval` of the run.

use std::sync::Arc;

use super::{BareLoop, LearnerWorkload, StepShape, median_of_repeats, time_evaluation};
use crate::bench::{Row, Session, Table};
use crate::data::{synthetic_classes, write_synthetic_mnist};
use crate::{Error, Result, stats};

/// MNIST-shaped MLPs, one epoch, learner against bare loop, then the evaluation of the last
/// learner run.
pub(in crate::bench) fn mnist_mlp(session: &Session<'_>, table: &mut Table<'_>) -> Result<()> {
    let (sizes, scratch) = (session.sizes, &session.scratch);
    let mnist = scratch.path().join("mnist");
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
        let mut bare = BareLoop::on_data(shape, data, &session.device);
        // Learner and bare loop alternate, so that drift in the machine's load (other jobs)
        // affects both alike and their ratio stays meaningful.
        let (mut learner_times, mut bare_times) = (Vec::new(), Vec::new());
        let mut last_run = None;
        for _ in 0..sizes.overhead_pairs.max(1) {
            let timing = workload.run(scratch)?;
            learner_times.push(timing.learner_seconds);
            last_run = Some(timing.run_dir);
            bare_times.push(bare.epoch());
        }
        // Other jobs only ever add time, so the fastest runs of each are the least disturbed
        // estimate of the overhead; each pair, measured back to back, sees the same load, so
        // the median of the pairs' ratios is robust to drift; the medians are shown beside.
        let fastest = |times: &[f64]| times.iter().copied().fold(f64::INFINITY, f64::min);
        let fastest_overhead = fastest(&learner_times) / fastest(&bare_times) - 1.0;
        let mut ratios: Vec<f64> = learner_times
            .iter()
            .zip(&bare_times)
            .map(|(learner, bare)| learner / bare)
            .collect();
        let paired_overhead = stats::median(&mut ratios) - 1.0;
        let pairs = bare_times.len();
        let (learner, bare_seconds) = (
            stats::median(&mut learner_times),
            stats::median(&mut bare_times),
        );
        let examples = sizes.mnist_train as f64;
        let flop = shape.flop_per_example() * examples;
        let epoch = |case: &str, seconds: f64| {
            Row::new(
                "MNIST MLP epoch",
                format!("{}, {case}", shape.name()),
                seconds,
                "epoch",
            )
            .per_second(examples, "examples/s")
            .flop(flop)
        };
        table.push(epoch("learner", learner).note(format!("{} examples", sizes.mnist_train)));
        table.push(epoch("bare loop", bare_seconds).note(format!(
            "learner overhead {:+.1} % (median of {pairs} pairs), {:+.1} % (fastest runs), {:+.1} % (medians)",
            paired_overhead * 100.0,
            fastest_overhead * 100.0,
            (learner / bare_seconds - 1.0) * 100.0
        )));
        let run_dir = last_run.ok_or_else(|| Error::new("no learner run to evaluate"))?;
        let seconds = median_of_repeats(sizes.repeats, || time_evaluation(&run_dir))?;
        let examples = sizes.mnist_test as f64;
        table.push(
            Row::new(
                "evaluation",
                format!("{}, test split", shape.name()),
                seconds,
                "evaluation",
            )
            .per_second(examples, "examples/s")
            .flop(shape.flop_per_example() / 3.0 * examples)
            .note(format!(
                "sgdlab eval of the last checkpoint, {} examples, loading included",
                sizes.mnist_test
            )),
        );
    }
    Ok(())
}
