//! The model's training and validation steps, as burn-train's learner calls them.

use burn::tensor::{Int, Tensor};
use burn::train::metric::{AccuracyInput, Adaptor, LossInput};
use burn::train::{InferenceStep, ItemLazy, TrainOutput, TrainStep};

use crate::batch::{Batch, BatchTargets};
use crate::model::{Model, class_scores};

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

impl TrainStep for Model {
    type Input = Batch;
    type Output = StepOutput;

    fn step(&self, batch: Batch) -> TrainOutput<StepOutput> {
        let output = self.step_output(batch);
        let gradients = output.loss.backward();
        TrainOutput::new(self, gradients, output)
    }
}

impl InferenceStep for Model {
    type Input = Batch;
    type Output = StepOutput;

    fn step(&self, batch: Batch) -> StepOutput {
        self.step_output(batch)
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
