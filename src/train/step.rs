//! The model's training and validation steps, as burn-train's learner calls them.

use burn::lr_scheduler::module_lr_scheduler::ModuleLearningRate;
use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Int, Tensor};
use burn::train::metric::{AccuracyInput, Adaptor, LossInput};
use burn::train::{InferenceStep, ItemLazy, TrainOutput, TrainStep};

use crate::batch::{Batch, BatchTargets};
use crate::model::{Model, class_scores};
use crate::optim::{GradientClipping, clip_gradients};
use crate::train::trace::ParameterTrace;

/// What one step hands to the metrics: the batch-mean loss and, for classifiers, the class
/// scores and true classes (for accuracy).
pub struct StepOutput {
    pub loss: Tensor<1>,
    pub classes: Option<(Tensor<2>, Tensor<1, Int>)>,
}

impl Model {
    fn step_output(&self, batch: Batch) -> StepOutput {
        let outputs = self.forward(batch.features);
        let loss = self.loss(outputs.clone(), &batch.targets);
        let classes = match batch.targets {
            BatchTargets::Classes(labels) => {
                Some((class_scores(self.output_kind(), outputs), labels))
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
}

impl TrainStep for Trainee {
    type Input = Batch;
    type Output = StepOutput;

    fn step(&self, batch: Batch) -> TrainOutput<StepOutput> {
        let output = self.model.step_output(batch);
        if let Some(trace) = &self.trace {
            trace.set_loss(f64::from(output.loss.clone().into_scalar::<f32>()));
        }
        let mut grads = GradientsParams::from_grads(output.loss.backward(), &self.model);
        if let Some(clipping) = self.clipping {
            grads = clip_gradients(&self.model, grads, clipping);
        }
        TrainOutput {
            grads,
            item: output,
        }
    }

    fn optimize(
        self,
        optimizer: &mut ModuleOptimizer,
        learning_rate: ModuleLearningRate,
        grads: GradientsParams,
    ) -> Self {
        let base_rate = learning_rate.base();
        let trainee = optimizer.step(learning_rate, self, grads);
        if let Some(trace) = &trainee.trace {
            trace.record(base_rate, &trainee.model);
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
