//! Full-batch gradient descent with a line search, lecture §2:
//!
//! ```text
//! g = ∇ℓ(Θ^(t)) + μ Θ^(t)                       (the whole training set, one backward pass)
//! α* = argmin_α ℓ(Θ^(t) − α g)                  (armijo: the first sufficient decrease)
//! Θ^(t+1) = Θ^(t) − α* g
//! ```
//!
//! A line search evaluates the loss at trial points, which burn-train's learner cannot do, so
//! this is a loop of its own on Burn's autodiff. It shares everything else with the learner
//! path: the model and its loss ([`Model::step_output`]), the data ([`gather`]), the metric
//! files ([`RunLog`]: one epoch = one step here, and `steps.csv` gains the accepted α and the
//! number of loss evaluations), checkpoints in the same place and format (so `eval` and
//! `--resume` work unchanged), the parameter trace and the suboptimality tracker.
//!
//! The search evaluates ℓ in f64 on the exact objective for convex models (the one
//! [`crate::solve`] minimizes): near the optimum the decrease `c α ‖g‖²` falls below f32's
//! resolution of ℓ and an f32 search would stall. Non-convex models are evaluated by Burn.

use std::sync::{Arc, Mutex};

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor};

use super::line_search::{self, Accepted};
use super::metrics::{RunLog, StepRow};
use super::monitor::RunMonitor;
use super::retention::Retention;
use super::step::Trainee;
use super::suboptimality::SuboptimalityTracker;
use super::trace::{ParameterTrace, flat_parameters};
use crate::batch::{Batch, gather};
use crate::config::{Config, LineSearch, ModelKind, OptimizerConfig, SgdConfig};
use crate::data::Dataset;
use crate::model::{Model, evaluate, predicted_classes};
use crate::optim::global_norm;
use crate::run_dir::RunDir;
use crate::{Error, Result};

/// Everything the loop needs, prepared by [`super::train`].
pub(super) struct FullBatchRun<'a> {
    pub config: &'a Config,
    pub run: &'a RunDir,
    pub train: Arc<Dataset>,
    pub valid: Option<&'a Dataset>,
    /// The plain (non-autodiff) device.
    pub device: Device,
    /// The number of epochs (= steps) already taken.
    pub start_epoch: usize,
    pub log: RunLog,
    pub monitor: RunMonitor,
    pub trace: Option<ParameterTrace>,
    pub suboptimality: Option<Arc<SuboptimalityTracker>>,
    /// Why the loop ended before `training.epochs`, when no step could decrease ℓ.
    pub stopped_early: Option<String>,
    /// With `keep_checkpoints = N`: which checkpoints stay.
    pub retention: Option<Arc<Mutex<Retention>>>,
}

/// The last epoch taken, and why the loop ended early (if it did, short of ρ).
pub(super) type Ending = (usize, Option<String>);

impl FullBatchRun<'_> {
    /// Runs from `start_epoch + 1` to `training.epochs`, or until ρ is reached or the loss
    /// stops being finite; `model` is on the autodiff device.
    pub fn run(mut self, mut model: Model) -> Result<Ending> {
        let OptimizerConfig::Sgd(settings) = &self.config.optimizer else {
            unreachable!("line search is an option of the sgd optimizer only")
        };
        let n = self.train.len();
        let all: Vec<usize> = (0..n).collect();
        let batch = gather(&self.train, &all, &self.device.clone().autodiff());
        let plain_batch = gather(&self.train, &all, &self.device);
        let weight_decay = settings.weight_decay;
        let quadratic = self.config.model.kind == ModelKind::Linear;
        let target = self.config.training.target_suboptimality;
        let mut last = self.start_epoch;

        for epoch in self.start_epoch + 1..=self.config.training.epochs {
            let output = model.step_output(batch.clone());
            let data_loss = f64::from(output.loss.clone().into_scalar::<f32>());
            if self.monitor.check_loss(data_loss) {
                self.log.flush_steps()?;
                break;
            }
            let train_accuracy = output
                .classes
                .as_ref()
                .map(|(scores, labels)| accuracy(scores.clone(), labels.clone()));
            let grads = GradientsParams::from_grads(output.loss.backward(), &model);
            let plain = model.valid();
            let grads = with_weight_decay(&plain, grads, weight_decay);
            let gradient_norm_squared = global_norm(&plain, &grads).powi(2);

            let accepted = match &self.suboptimality {
                // The exact objective in f64 (it includes ½ μ ‖Θ‖²).
                Some(tracker) => {
                    let theta = flat_f64(&plain);
                    let direction = flat_gradient(&plain, &grads);
                    let objective = &tracker.objective;
                    let data = &*self.train;
                    let phi = |alpha: f64| {
                        let trial: Vec<f64> = theta
                            .iter()
                            .zip(&direction)
                            .map(|(t, g)| t - alpha * g)
                            .collect();
                        objective.loss(data, &trial)
                    };
                    let loss = objective.loss(data, &theta);
                    Self::search(settings, phi, loss, gradient_norm_squared, quadratic)
                }
                None => {
                    let phi = |alpha: f64| {
                        let trial = descend(plain.clone(), &grads, alpha);
                        penalized_loss(&trial, &plain_batch, weight_decay)
                    };
                    let loss = penalized_loss(&plain, &plain_batch, weight_decay);
                    Self::search(settings, phi, loss, gradient_norm_squared, quadratic)
                }
            };
            let accepted = match accepted {
                Ok(accepted) => accepted,
                // No step decreases ℓ any more: converged to the precision ℓ is computed in
                // (or the gradient is wrong). Either way another step cannot help.
                Err(error) => {
                    self.log.flush_steps()?;
                    self.stopped_early = Some(format!(
                        "stopped at epoch {epoch}: {error} (‖∇ℓ‖ = {:.3e})",
                        gradient_norm_squared.sqrt()
                    ));
                    break;
                }
            };
            model = descend(plain, &grads, accepted.step).train();

            if let Some(trace) = &self.trace {
                trace.set_loss(data_loss);
                trace.record(accepted.step, &model);
            }
            self.monitor.step_taken(accepted.step);
            if let Some(tracker) = &self.suboptimality {
                tracker.record(epoch, &model, &self.monitor);
            }
            let suboptimality = self.monitor.suboptimality(epoch);
            self.log.push_step(
                epoch,
                StepRow {
                    loss: Some(data_loss),
                    learning_rate: Some(accepted.step),
                    gradient_norm: Some(gradient_norm_squared.sqrt()),
                    suboptimality,
                    loss_evaluations: Some(accepted.evaluations),
                },
            );
            let mut values = vec![
                ("train_loss".to_string(), data_loss),
                ("learning_rate".to_string(), accepted.step),
            ];
            if let Some(accuracy) = train_accuracy {
                values.push(("train_accuracy".into(), accuracy));
            }
            if let Some(value) = suboptimality {
                values.push(("suboptimality".into(), value));
            }
            if let Some(valid) = self.valid.filter(|data| !data.is_empty()) {
                let metrics = evaluate(&model.valid(), valid, &self.device);
                values.push(("valid_loss".into(), metrics.loss));
                if let Some(accuracy) = metrics.accuracy {
                    values.push(("valid_accuracy".into(), accuracy));
                }
            }
            let validation = self.log.record_epoch(epoch, values, true)?;
            self.save_checkpoint(&model, epoch)?;
            last = epoch;
            if let Some(validation) = validation {
                self.monitor.record_validation(epoch, validation);
                if let Some(retention) = &self.retention {
                    let mut retention = retention.lock().unwrap_or_else(|p| p.into_inner());
                    retention.record(epoch, validation.value(self.config.best_metric()));
                    retention.prune()?;
                }
            }

            if let (Some(target), Some(value)) = (target, suboptimality)
                && value < target
            {
                self.monitor.reach_target(epoch);
                break;
            }
            if self.monitor.stops_early_after(epoch) {
                break;
            }
        }
        Ok((last, self.stopped_early))
    }

    fn search(
        settings: &SgdConfig,
        phi: impl FnMut(f64) -> f64,
        loss: f64,
        gradient_norm_squared: f64,
        quadratic: bool,
    ) -> Result<Accepted> {
        let initial = settings.learning_rate;
        match settings.line_search {
            LineSearch::Armijo => line_search::armijo(
                phi,
                loss,
                gradient_norm_squared,
                initial,
                settings.sufficient_decrease,
                settings.backtracking_factor,
            ),
            LineSearch::Exact if quadratic => {
                line_search::exact_quadratic(phi, loss, gradient_norm_squared, initial)
            }
            LineSearch::Exact => line_search::golden_section(phi, loss, initial),
            LineSearch::None => unreachable!("the learner runs steps without a line search"),
        }
    }

    /// `checkpoint/model-E.bpk`, as the learner writes it (a [`Trainee`] record), so `eval`
    /// and `--resume` read both paths alike. Plain GD has no optimizer or schedule state.
    fn save_checkpoint(&self, model: &Model, epoch: usize) -> Result<()> {
        let path = self.run.model_checkpoint(epoch);
        let dir = self.run.checkpoint_dir();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
        let trainee = Trainee::bare(model.clone());
        trainee
            .into_record()
            .save(&path)
            .map_err(|e| Error::new(format!("cannot write {}: {e}", path.display())))
    }
}

/// The fraction of rows of `scores` whose argmax is the label.
fn accuracy(scores: Tensor<2>, labels: Tensor<1, burn::tensor::Int>) -> f64 {
    let [m, _] = scores.dims();
    let correct = predicted_classes(scores)
        .equal(labels)
        .int()
        .sum()
        .into_scalar::<i64>();
    correct as f64 / m.max(1) as f64
}

/// `(1/n) Σ ℓ̂ + ½ μ ‖Θ‖²` of a plain model on the whole batch, in f64 where it adds up.
fn penalized_loss(model: &Model, batch: &Batch, weight_decay: f64) -> f64 {
    let outputs = model.forward(batch.features.clone());
    let loss = f64::from(model.loss(outputs, &batch.targets).into_scalar::<f32>());
    if weight_decay == 0.0 {
        return loss;
    }
    let squares: f64 = flat_f64(model).iter().map(|t| t * t).sum();
    loss + 0.5 * weight_decay * squares
}

fn flat_f64(model: &Model) -> Vec<f64> {
    flat_parameters(model).into_iter().map(f64::from).collect()
}

/// The gradient of every parameter, flattened in [`flat_parameters`]'s order.
fn flat_gradient(model: &Model, grads: &GradientsParams) -> Vec<f64> {
    struct Collect<'a> {
        grads: &'a GradientsParams,
        values: Vec<f64>,
    }
    impl ModuleVisitor for Collect<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let count = param.val().shape().num_elements();
            match self.grads.get::<D>(param.id) {
                Some(gradient) => self.values.extend(
                    gradient
                        .into_data()
                        .convert::<f32>()
                        .iter::<f32>()
                        .map(f64::from),
                ),
                None => self.values.extend(std::iter::repeat_n(0.0, count)),
            }
        }
    }
    let mut collect = Collect {
        grads,
        values: Vec::new(),
    };
    model.visit(&mut collect);
    collect.values
}

/// `g ← g + μ Θ` for every parameter: the gradient of the penalized objective.
fn with_weight_decay(
    model: &Model,
    mut grads: GradientsParams,
    weight_decay: f64,
) -> GradientsParams {
    if weight_decay == 0.0 {
        return grads;
    }
    struct AddPenalty<'a> {
        grads: &'a mut GradientsParams,
        weight_decay: f64,
    }
    impl ModuleVisitor for AddPenalty<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(gradient) = self.grads.remove::<D>(param.id) {
                let penalized = gradient + param.val().mul_scalar(self.weight_decay);
                self.grads.register(param.id, penalized);
            }
        }
    }
    model.visit(&mut AddPenalty {
        grads: &mut grads,
        weight_decay,
    });
    grads
}

/// `Θ − α g` for every parameter of a plain model.
fn descend(model: Model, grads: &GradientsParams, step: f64) -> Model {
    struct Descend<'a> {
        grads: &'a GradientsParams,
        step: f64,
    }
    impl ModuleMapper for Descend<'_> {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let Some(gradient) = self.grads.get::<D>(param.id) else {
                return param;
            };
            let step = self.step;
            param.map(|theta| theta - gradient.mul_scalar(step))
        }
    }
    model.map(&mut Descend { grads, step })
}
