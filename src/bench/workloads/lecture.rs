//! The "lecture SGD" rows: logistic regression d = 30, m = 10, through the learner (breast
//! cancer's short epochs, then one long epoch of a synthetic CSV) and a bare loop.

use std::sync::Arc;

use super::{BareLoop, LearnerWorkload, StepShape, median_of_repeats, seconds_per_call};
use crate::Result;
use crate::bench::report::thousands;
use crate::bench::{Row, Session, Table};
use crate::data::{synthetic_classes, write_synthetic_csv};

/// The rows' group.
const GROUP: &str = "lecture SGD";

/// Lecture-sized SGD through the learner, and the same step in a bare loop.
pub(in crate::bench) fn lecture_sgd(session: &Session<'_>, table: &mut Table<'_>) -> Result<()> {
    let sizes = session.sizes;
    let workload = LearnerWorkload::logistic(sizes.logistic_epochs)?;
    let (seconds, row) = learner_steps(session, &workload, "logistic d = 30, m = 10, learner")?;
    table.push(row.note(format!(
        "{} epoch(s) of {} steps, validation and checkpoint every epoch; {} examples/s",
        sizes.logistic_epochs,
        workload.steps / sizes.logistic_epochs,
        thousands(workload.steps as f64 * 10.0 / seconds)
    )));
    let csv = session.scratch.path().join("logistic.csv");
    write_synthetic_csv(&csv, sizes.logistic_csv_n, 30, 3)?;
    let workload = LearnerWorkload::logistic_csv(&csv, sizes.logistic_csv_n)?;
    let case = "logistic d = 30, m = 10, learner, long epoch";
    let (_, row) = learner_steps(session, &workload, case)?;
    table.push(row.note(format!(
        "one epoch of {} steps on {} synthetic examples (CSV), no validation",
        workload.steps, sizes.logistic_csv_n
    )));
    let logistic = StepShape {
        batch: 10,
        input: 30,
        hidden: None,
        classes: 2,
    };
    let data = Arc::new(synthetic_classes(569, 30, 2, 3));
    let mut bare = BareLoop::on_data(logistic, data, &session.device);
    let seconds = seconds_per_call(sizes.repeats, sizes.steps * 10, || bare.step());
    table.push(
        Row::new(GROUP, "logistic d = 30, m = 10, bare loop", seconds, "step")
            .per_second(1.0, "steps/s")
            .note("batcher + forward + backward + momentum step"),
    );
    Ok(())
}

/// The median learner seconds of a whole run of `workload`, and its row: seconds per step,
/// steps/s (no note yet).
fn learner_steps(
    session: &Session<'_>,
    workload: &LearnerWorkload,
    case: &str,
) -> Result<(f64, Row)> {
    let seconds = median_of_repeats(session.sizes.repeats, || {
        workload.run(&session.scratch).map(|t| t.learner_seconds)
    })?;
    let row =
        Row::new(GROUP, case, seconds / workload.steps as f64, "step").per_second(1.0, "steps/s");
    Ok((seconds, row))
}
