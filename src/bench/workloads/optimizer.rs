//! The "optimizer step" rows: one step of each optimizer family alone, ours against Burn's
//! built-in with the same mathematics.

use std::time::Instant;

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};

use super::step::reference_momentum;
use crate::batch::{Batch, BatchTargets, gather};
use crate::bench::report::thousands;
use crate::bench::{Row, Session, Table};
use crate::config::{Activation, Head, Init, ModelConfig, ModelKind};
use crate::data::synthetic_classes;
use crate::model::{Model, Problem};
use crate::optim::{AdaGrad, Adam, GradientDescent, RmsProp};
use crate::{Result, stats};

/// One optimizer step per family, ours against Burn's.
pub(in crate::bench) fn optimizer_steps(
    session: &Session<'_>,
    table: &mut Table<'_>,
) -> Result<()> {
    let Session { sizes, device, .. } = session;
    let autodiff = device.clone().autodiff();
    let mut step = OptimizerStep::new(&autodiff);
    for pair in optimizer_pairs() {
        let (mut ours, mut burns) = (pair.ours, pair.burn);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..sizes.repeats.max(2) {
            a.extend(step.samples(&mut ours, sizes.steps));
            b.extend(step.samples(&mut burns, sizes.steps));
        }
        let (ours, burn) = (stats::median(&mut a), stats::median(&mut b));
        let case = format!(
            "{}, {} parameters",
            pair.name,
            thousands(step.parameters as f64)
        );
        // The bytes the formula must move, each of its arrays of P f32 read or written once,
        // at the large copy's bandwidth: the step's floor.
        let bytes = (pair.arrays * 4 * step.parameters) as f64;
        let bound = bytes / (session.copy_gbps * 1e9);
        table.push(
            Row::new("optimizer step", case, ours, "step")
                .bytes(bytes)
                .note(format!(
                    "{} arrays of P moved: {:.2}× the copy bound {:.3} ms; Burn's built-in {:.3} ms: ours/Burn {:.2}×",
                    pair.arrays,
                    ours / bound,
                    bound * 1e3,
                    burn * 1e3,
                    ours / burn
                )),
        );
    }
    Ok(())
}

/// One optimizer family, ours and Burn's built-in with the same mathematics.
pub struct OptimizerPair {
    pub name: &'static str,
    /// The arrays of P floats its formula must read or write once per step: θ and g read, θ
    /// written, and each state array read and written.
    pub arrays: usize,
    pub ours: ModuleOptimizer,
    pub burn: ModuleOptimizer,
}

impl OptimizerPair {
    fn new(
        name: &'static str,
        arrays: usize,
        ours: impl Into<ModuleOptimizer>,
        burn: ModuleOptimizer,
    ) -> Self {
        Self {
            name,
            arrays,
            ours: ours.into(),
            burn,
        }
    }
}

/// SGD, momentum, AdaGrad, RMSProp and Adam, each with Burn's counterpart at its defaults,
/// which ours spell out.
pub fn optimizer_pairs() -> Vec<OptimizerPair> {
    let momentum = burn::optim::momentum::MomentumConfig {
        momentum: 0.9,
        dampening: 0.0,
        nesterov: false,
    };
    // Burn's default ε of AdaGrad, RMSProp and Adam alike.
    let epsilon = 1e-5;
    vec![
        OptimizerPair::new(
            "sgd",
            3,
            GradientDescent::default(),
            burn::optim::SgdConfig::new().init(),
        ),
        OptimizerPair::new(
            "momentum (pytorch form)",
            5,
            reference_momentum(),
            burn::optim::SgdConfig::new()
                .with_momentum(Some(momentum))
                .init(),
        ),
        OptimizerPair::new(
            "adagrad",
            5,
            AdaGrad {
                epsilon,
                initial_accumulator: 0.0,
                lr_decay: 0.0,
                weight_decay: 0.0,
            },
            burn::optim::AdaGradConfig::new().init(),
        ),
        OptimizerPair::new(
            "rmsprop (momentum 0.9)",
            7,
            RmsProp {
                beta: 0.99,
                epsilon,
                momentum: 0.9,
                centered: false,
                weight_decay: 0.0,
            },
            burn::optim::RmsPropConfig::new().init(),
        ),
        OptimizerPair::new(
            "adam",
            7,
            Adam {
                beta_1: 0.9,
                beta_2: 0.999,
                epsilon,
                amsgrad: false,
                weight_decay: 0.0,
            },
            burn::optim::AdamConfig::new().init(),
        ),
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
