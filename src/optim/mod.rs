#![warn(missing_docs)]
//! sgdlab's own optimizers and learning-rate schedules, on Burn's per-tensor
//! [`Optimizer`](burn::optim::Optimizer) and [`LrScheduler`](burn::lr_scheduler::LrScheduler)
//! traits. One file per optimizer and per schedule family; each type's documentation holds
//! its update rule as pseudo-code, its hyper-parameters (symbol, config key, default,
//! PyTorch name) and its reference.
//!
//! **Notation**, the same in every doc comment of the crate:
//!
//! | symbol | meaning | config key |
//! |---|---|---|
//! | θ | the parameters (the lecture's x in §3, Θ for the whole set) | |
//! | α^(0), α^(t) | the learning rate: initial, at step t (the schedule's) | `learning_rate` |
//! | g, ∇ℓ | the gradient of the batch-mean loss | |
//! | m | the batch size | `[training] batch_size` |
//! | λ | the momentum coefficient (the lecture's §3), and nothing else | `momentum` |
//! | μ | the L2 (Tikhonov) weight, coupled: `g ← g + μ θ` | `weight_decay` (not adamw) |
//! | ω | AdamW's decoupled decay: `θ ← θ (1 − α ω)` | `weight_decay` (adamw) |
//! | ρ | a schedule's decay parameter (§6: the accuracy) | `rho` (§6: `target_suboptimality`) |
//! | β₁, β₂ | Adam's moment decays (β alone: RMSProp's) | `beta_1`, `beta_2` (`beta`) |
//! | ε | the denominators' guard | `epsilon` |
//!
//! PyTorch's documentation writes γ for the learning rate, μ for momentum and λ for weight
//! decay; the tables on each type give PyTorch's argument names, which are unambiguous.
//!
//! [`build_optimizer`] and [`build_schedule`] turn the config into the objects the learner
//! drives: each step, the schedule yields α^(t) and the optimizer applies its update rule to
//! every parameter tensor with that α (so a schedule acts on every optimizer, inside the
//! velocity for lecture-form momentum).
//!
//! **The adaptive methods as the lecture's diagonal Γ.** Unrolled, plain gradient descent is
//! `x^(t+1) = x^(0) − α Σ_{i≤t} ∇f(x^(i))`, and heavy-ball momentum weights each past gradient
//! by `(1 − λ^{t+1−i})/(1 − λ)`; the lecture's general form
//! `x^(t+1) = x^(0) + α Σ_{i≤t} Γ_i^t ∇f(x^(i))` lets that weight be a matrix. The adaptive
//! methods choose Γ_i^t diagonal, one step size per coordinate, from the gradients' own
//! history: AdaGrad's `−1/(√G_j + ε)` with G the running sum of squared gradients (steps only
//! shrink), RMSProp's `−1/(√s_j + ε)` with s an exponential average (steps recover), and Adam,
//! which applies RMSProp's bias-corrected scaling to a momentum average of the gradients, so
//! its Γ mixes the momentum weights across i with the per-coordinate scaling. Coordinates
//! with consistently large gradients move with smaller steps, and rarely-updated ones with
//! larger steps.

mod adagrad;
mod adam;
mod adamw;
mod clipping;
mod gradient_descent;
mod momentum;
mod nesterov;
mod rmsprop;
pub mod schedule;
mod state;

pub use adagrad::{AdaGrad, AdaGradState};
pub use adam::{Adam, AdamState};
pub use adamw::AdamW;
pub use clipping::{GradientClipping, clip_gradients, global_norm};
pub use gradient_descent::GradientDescent;
pub use momentum::{Momentum, MomentumForm, VelocityState};
pub use nesterov::Nesterov;
pub use rmsprop::{RmsProp, RmsPropState};

use burn::optim::ModuleOptimizer;
use burn::tensor::Tensor;

use crate::config::{self, OptimizerConfig, ScheduleConfig, ScheduleUnit};

/// `g + μ θ`: the gradient of the loss plus that of the L2 (Tikhonov) penalty `½ μ ‖θ‖²`.
fn with_weight_decay<const D: usize>(
    gradient: Tensor<D>,
    theta: &Tensor<D>,
    weight_decay: f64,
) -> Tensor<D> {
    if weight_decay == 0.0 {
        gradient
    } else {
        gradient + theta.clone().mul_scalar(weight_decay)
    }
}

/// The gradient clipping `[training]` asks for, if any.
pub fn build_clipping(training: &config::TrainingConfig) -> Option<GradientClipping> {
    training
        .clip_grad_norm
        .map(GradientClipping::GlobalNorm)
        .or(training.clip_grad_value.map(GradientClipping::Value))
}

/// The optimizer the config names, lifted to a whole module.
pub fn build_optimizer(config: &OptimizerConfig) -> ModuleOptimizer {
    match config {
        OptimizerConfig::Sgd(c) => ModuleOptimizer::from(GradientDescent::from(c)),
        OptimizerConfig::Momentum(c) => ModuleOptimizer::from(Momentum::from(c)),
        OptimizerConfig::Nesterov(c) => ModuleOptimizer::from(Nesterov::from(c)),
        OptimizerConfig::Adagrad(c) => ModuleOptimizer::from(AdaGrad::from(c)),
        OptimizerConfig::Rmsprop(c) => ModuleOptimizer::from(RmsProp::from(c)),
        OptimizerConfig::Adam(c) => ModuleOptimizer::from(Adam::from(c)),
        OptimizerConfig::Adamw(c) => ModuleOptimizer::from(AdamW::from(c)),
    }
}

/// The schedule the config names, starting from the optimizer's α^(0), as the learner
/// steps it: once per optimizer step. The family is wrapped in its warmup, if any, and then
/// (for `unit = "epoch"`) in the per-epoch clock, so warmup and schedule count the same unit.
/// `steps_per_epoch` is ⌈n_train / m⌉ ([`schedule::steps_per_epoch`]).
pub fn build_schedule(
    schedule: &ScheduleConfig,
    optimizer: &OptimizerConfig,
    steps_per_epoch: usize,
) -> schedule::Schedule {
    use schedule::Schedule;
    let initial = optimizer.learning_rate();
    let family = match schedule {
        ScheduleConfig::Constant(_) => Schedule::Constant(schedule::Constant::new(initial)),
        ScheduleConfig::Linear(c) => {
            Schedule::Linear(schedule::Linear::new(initial, c.final_learning_rate, c.rho))
        }
        ScheduleConfig::InverseTimeRecursive(c) => {
            Schedule::InverseTimeRecursive(schedule::InverseTimeRecursive::new(initial, c.rho))
        }
        ScheduleConfig::InverseTime(c) => {
            Schedule::InverseTime(schedule::InverseTime::new(initial, c.rho))
        }
        ScheduleConfig::Exponential(c) => {
            Schedule::Exponential(schedule::Exponential::new(initial, c.rho))
        }
        ScheduleConfig::Step(c) => {
            Schedule::StepDecay(schedule::StepDecay::new(initial, c.gamma, c.every))
        }
        ScheduleConfig::Cosine(c) => {
            let cosine = schedule::Cosine::new(initial, c.min_learning_rate, c.period);
            Schedule::Cosine(if c.restarts {
                cosine.with_restarts(c.period_multiplier)
            } else {
                cosine
            })
        }
    };
    let timing = schedule.timing();
    let warmed = if timing.warmup > 0 {
        Schedule::Warmup(schedule::Warmup::new(
            timing.warmup_start,
            initial,
            timing.warmup,
            family,
        ))
    } else {
        family
    };
    match timing.unit {
        ScheduleUnit::Step => warmed,
        ScheduleUnit::Epoch => Schedule::PerEpoch(schedule::PerEpoch::new(warmed, steps_per_epoch)),
    }
}
