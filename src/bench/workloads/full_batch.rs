//! The "full batch vs SGD" rows and slopes: a full-batch gradient descent iteration (O(nd))
//! against an SGD step (O(d)) on the same resident data, as n grows.

use burn::optim::ModuleOptimizer;
use burn::tensor::{Device, Int, Tensor, TensorData};

use super::seconds_per_call;
use super::step::{StepShape, Stepper};
use crate::batch::{Batch, BatchTargets, gather};
use crate::bench::{Row, Session, Slope, Table};
use crate::data::synthetic_classes;
use crate::model::{Model, Problem};
use crate::optim::GradientDescent;
use crate::rng::Rng;
use crate::{Result, stats};

/// The rows' group.
const GROUP: &str = "full batch vs SGD";

/// Full-batch GD against SGD on the same resident data, per d and n, and the log-log slopes
/// of their times in n.
pub(in crate::bench) fn full_batch(session: &Session<'_>, table: &mut Table<'_>) -> Result<()> {
    let Session { sizes, device, .. } = session;
    for (dim, ns) in &sizes.full_batch_n {
        let (mut gd_points, mut sgd_points) = (Vec::new(), Vec::new());
        for &n in ns {
            let mut full = FullBatch::new(n, *dim, device);
            let gd = seconds_per_call(sizes.repeats, 1, || full.gd_iteration());
            let sgd = seconds_per_call(sizes.repeats, sizes.steps, || full.sgd_step(10));
            // X, 4nd bytes, is read twice: X w, then Xᵀ r.
            let x_bytes = 4 * n * dim;
            gd_points.push((n as f64, gd));
            sgd_points.push((n as f64, sgd));
            table.push(
                Row::new(
                    GROUP,
                    format!("GD iteration, n = {n}, d = {dim}"),
                    gd,
                    "iteration",
                )
                .per_second(n as f64, "examples/s")
                .flop(4.0 * (n * dim) as f64)
                .bytes(2.0 * x_bytes as f64)
                .note("X read twice"),
            );
            let case = format!("SGD step m = 10, n = {n}, d = {dim}");
            table.push(
                Row::new(GROUP, case, sgd, "step")
                    .per_second(1.0, "steps/s")
                    .note("batch gathered by index from the resident tensor"),
            );
        }
        if ns.len() >= 2 {
            table.slopes.push(Slope {
                what: format!("GD iteration time vs n, d = {dim}"),
                slope: stats::loglog_slope(&gd_points),
            });
            table.slopes.push(Slope {
                what: format!("SGD step time vs n, d = {dim}"),
                slope: stats::loglog_slope(&sgd_points),
            });
        }
    }
    Ok(())
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
