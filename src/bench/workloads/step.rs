//! The training step outside the learner: a [`StepShape`], the [`BareLoop`] that steps it on
//! resident data, and the "step" rows at the PyTorch reference script's shapes.

use std::sync::Arc;
use std::time::Instant;

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::Device;

use super::seconds_per_call;
use crate::Result;
use crate::batch::{Batch, gather, permutation};
use crate::bench::{Row, Session, Table};
use crate::config::{Activation, Head, Init, ModelConfig, ModelKind};
use crate::data::{Dataset, synthetic_classes};
use crate::model::{Model, Problem};
use crate::optim::{Momentum, MomentumForm};

/// The "step" rows: the step PyTorch's reference script times, SGD + momentum, bare loop.
pub(in crate::bench) fn reference_steps(
    session: &Session<'_>,
    table: &mut Table<'_>,
) -> Result<()> {
    let Session { sizes, device, .. } = session;
    for shape in StepShape::REFERENCE {
        let mut bare = BareLoop::new(shape, device);
        let seconds = seconds_per_call(sizes.repeats, sizes.steps, || bare.step());
        table.push(
            Row::new("step", shape.name(), seconds, "step")
                .per_second(shape.batch as f64, "examples/s")
                .flop(shape.flop_per_step())
                .note("bare loop, SGD + momentum 0.9"),
        );
    }
    Ok(())
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
    /// The shapes of the PyTorch reference figures (benches/reference/).
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

    pub(super) fn model_config(&self) -> ModelConfig {
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
pub(super) struct Stepper {
    model: Option<Model>,
    optimizer: ModuleOptimizer,
    /// The autodiff device the model lives on.
    pub(super) device: Device,
}

impl Stepper {
    pub(super) fn new(model: Model, optimizer: ModuleOptimizer, device: Device) -> Self {
        Self {
            model: Some(model),
            optimizer,
            device,
        }
    }

    pub(super) fn step(&mut self, batch: Batch) {
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
pub(super) fn reference_momentum() -> Momentum {
    Momentum {
        momentum: 0.9,
        form: MomentumForm::Pytorch,
        dampening: 0.0,
        weight_decay: 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
