//! The model's training and validation steps, as burn-train's learner calls them.

use std::sync::Arc;

use burn::lr_scheduler::module_lr_scheduler::ModuleLearningRate;
use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Int, Tensor};
use burn::train::metric::{AccuracyInput, Adaptor, LossInput};
use burn::train::{InferenceStep, ItemLazy, TrainOutput, TrainStep};

use crate::batch::{Batch, BatchTargets};
use crate::model::{Model, class_scores};
use crate::optim::{GradientClipping, clip_gradients};
use crate::train::data_parallel::GradientShare;
use crate::train::monitor::RunMonitor;
use crate::train::suboptimality::SuboptimalityTracker;
use crate::train::trace::ParameterTrace;

/// What one step hands to the metrics: the batch-mean loss and, for classifiers, the class
/// scores and true classes (for accuracy).
pub struct StepOutput {
    pub loss: Tensor<1>,
    pub classes: Option<(Tensor<2>, Tensor<1, Int>)>,
}

impl Model {
    /// The forward pass and loss of one batch, as both training paths and validation use it.
    pub(crate) fn step_output(&self, batch: Batch) -> StepOutput {
        let outputs = self.forward(batch.features);
        let loss = self.loss(outputs.clone(), &batch.targets);
        let classes = match batch.targets {
            BatchTargets::Classes(labels) => {
                // Detached: the scores feed the accuracy metric only, so recording them in
                // the autodiff graph would be bookkeeping that backward never uses.
                Some((class_scores(self.output_kind(), outputs.detach()), labels))
            }
            BatchTargets::Values(_) => None,
        };
        StepOutput { loss, classes }
    }
}

/// What the learner trains: the model, how its gradients are clipped before the optimizer
/// sees them, and the optional parameter trace (training settings, kept out of the record).
#[derive(Module, Debug)]
pub struct Trainee {
    pub model: Model,
    #[module(skip)]
    pub clipping: Option<GradientClipping>,
    #[module(skip)]
    pub trace: Option<ParameterTrace>,
    /// Measures ℓ(f_Θ) − ℓ(f*) at every epoch's end (convex models).
    #[module(skip)]
    pub suboptimality: Option<Arc<SuboptimalityTracker>>,
    /// Counts steps, watches the loss for divergence, collects the suboptimality.
    #[module(skip)]
    pub monitor: Option<RunMonitor>,
    /// With several devices: how this device's batch weighs in the step's gradient.
    #[module(skip)]
    pub share: Option<GradientShare>,
}

impl Trainee {
    /// The model alone, as a checkpoint record holds it (training settings are not stored).
    pub fn bare(model: Model) -> Self {
        Trainee {
            model,
            clipping: None,
            trace: None,
            suboptimality: None,
            monitor: None,
            share: None,
        }
    }
}

impl TrainStep for Trainee {
    type Input = Batch;
    type Output = StepOutput;

    fn step(&self, batch: Batch) -> TrainOutput<StepOutput> {
        let examples = batch.features.dims()[0];
        let mut output = self.model.step_output(batch);
        if self.trace.is_some() || self.monitor.is_some() {
            // One scalar read per step: the trace records it, and divergence is caught at the
            // exact step, before the learner can checkpoint diverged parameters.
            let loss = f64::from(output.loss.clone().into_scalar::<f32>());
            if let Some(trace) = &self.trace {
                trace.set_loss(loss);
            }
            if let Some(monitor) = &self.monitor {
                monitor.check_loss(loss);
            }
        }
        let objective = match (&self.share, &self.monitor) {
            (Some(share), Some(monitor)) => {
                // burn-train sums the devices' gradients: weighting each device's batch mean by
                // m_d / m_s makes the sum the mean gradient of the step's whole batch. The
                // metric gets the weighted loss times the step's device count, so the mean of
                // a step's items is the whole batch's loss.
                let step = monitor.steps_taken() % share.layout.steps_per_epoch().max(1);
                let weight = share.weight(step, examples);
                let devices = share.layout.devices_in_step(step) as f64;
                let weighted = output.loss.clone().mul_scalar(weight);
                output.loss = weighted.clone().mul_scalar(devices).detach();
                weighted
            }
            _ => output.loss.clone(),
        };
        let grads = GradientsParams::from_grads(objective.backward(), &self.model);
        TrainOutput {
            grads,
            item: output,
        }
    }

    fn optimize(
        self,
        optimizer: &mut ModuleOptimizer,
        learning_rate: ModuleLearningRate,
        mut grads: GradientsParams,
    ) -> Self {
        // Clipped here, on the gradient the optimizer steps with: with several devices that is
        // the sum of their shares, which no single device sees.
        if let Some(clipping) = self.clipping {
            grads = clip_gradients(&self.model, grads, clipping);
        }
        let base_rate = learning_rate.base();
        let trainee = optimizer.step(learning_rate, self, grads);
        if let Some(trace) = &trainee.trace {
            trace.record(base_rate, &trainee.model);
        }
        if let Some(monitor) = &trainee.monitor
            && let Some(epoch) = monitor.step_taken(base_rate)
            && let Some(tracker) = &trainee.suboptimality
        {
            tracker.record(epoch, &trainee.model, monitor);
        }
        trainee
    }
}

impl InferenceStep for Trainee {
    type Input = Batch;
    type Output = StepOutput;

    fn step(&self, batch: Batch) -> StepOutput {
        self.model.step_output(batch)
    }
}

impl ItemLazy for StepOutput {
    fn sync(self) -> Result<Self, burn::tensor::ExecutionError> {
        self.loss.device().flush()?;
        Ok(StepOutput {
            loss: self.loss.without_autodiff(),
            classes: self
                .classes
                .map(|(scores, labels)| (scores.without_autodiff(), labels.without_autodiff())),
        })
    }
}

impl Adaptor<LossInput> for StepOutput {
    fn adapt(&self) -> LossInput {
        LossInput::new(self.loss.clone())
    }
}

impl Adaptor<AccuracyInput> for StepOutput {
    fn adapt(&self) -> AccuracyInput {
        // Accuracy is registered only for classifiers (see `train::run`).
        let (scores, labels) = self
            .classes
            .clone()
            .expect("accuracy is only registered for classification runs");
        AccuracyInput::new(scores, labels)
    }
}
