//! The training config: TOML with sections `[data]`, `[model]`, `[optimizer]`, `[schedule]`,
//! `[training]`. Unknown keys are errors; every value is validated; every error names the
//! file and the key path.
//!
//! Loading is one pipeline for files and `--set` overrides alike: TOML text → table → overrides
//! applied on the table → typed [`Config`] (serde, with the failing key path) → [`Config::validate`].

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{Error, Result, bail};

/// A whole training configuration, as written in `configs/*.toml` and saved (resolved, every
/// default filled in) as `config.toml` in each run directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub data: DataConfig,
    pub model: ModelConfig,
    pub optimizer: OptimizerConfig,
    #[serde(default)]
    pub schedule: ScheduleConfig,
    #[serde(default)]
    pub training: TrainingConfig,
}

/// Where the examples come from and how they are split and scaled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    pub source: DataSource,
    /// csv: the file; mnist: the folder of IDX files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// csv: the label column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// csv: the feature columns, in order (default: every column but the label).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<String>>,
    /// csv classification: the label names, in class-index order (default: integer labels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<String>>,
    /// lecture_1d: the number of examples n.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<usize>,
    /// lecture_1d: the true slope a*.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a_star: Option<f64>,
    /// lecture_1d: the true intercept b*.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b_star: Option<f64>,
    /// mnist: keep only the first `limit` examples of each file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    #[serde(default = "default_true")]
    pub standardize: bool,
    #[serde(default = "default_fraction")]
    pub validation_fraction: f64,
    #[serde(default = "default_fraction")]
    pub test_fraction: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataSource {
    /// Wisconsin diagnostic breast cancer, 569 × 30, binary (embedded).
    BreastCancer,
    /// UCI optical digits 8×8, 1,797 × 64, 10 classes (embedded).
    Digits,
    /// scikit-learn's diabetes set, 442 × 10, a real-valued target (embedded; regression).
    Diabetes,
    /// The lecture's 1-D logistic problem, synthetic and seeded.
    #[serde(rename = "lecture_1d")]
    Lecture1d,
    /// A user's CSV file.
    Csv,
    /// MNIST from a folder of IDX files.
    Mnist,
}

/// The lecture's 1-D problem defaults: y ~ Bernoulli(σ(a* x + b*)), x ~ N(0, 1).
pub const LECTURE_1D_DEFAULT_N: usize = 10_000;
pub const LECTURE_1D_DEFAULT_A_STAR: f64 = 2.0;
pub const LECTURE_1D_DEFAULT_B_STAR: f64 = -1.0;

// Upper bounds on sizes, far above what the lecture's problems need, so that a typo (an extra
// zero, `1e9`) is a range error naming the key instead of an allocation that exhausts memory
// or a run that never ends.

/// `training.epochs` ≤ this.
pub const MAX_EPOCHS: usize = 1_000_000;
/// `training.batch_size` ≤ this: the data loader reserves a batch's worth of indices up front.
pub const MAX_BATCH_SIZE: usize = 1_000_000;
/// Every entry of `model.hidden` ≤ this.
pub const MAX_HIDDEN_WIDTH: usize = 65_536;
/// `model.hidden` has at most this many layers.
pub const MAX_HIDDEN_LAYERS: usize = 64;
/// `data.n` (lecture_1d) ≤ this.
pub const MAX_LECTURE_1D_N: usize = 10_000_000;
/// `data.classes` lists at most this many names; integer CSV labels are below it.
pub const MAX_CLASSES: usize = 1_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    pub kind: ModelKind,
    /// mlp: hidden layer sizes.
    #[serde(default = "default_hidden")]
    pub hidden: Vec<usize>,
    /// mlp: the hidden activation.
    #[serde(default)]
    pub activation: Activation,
    /// mlp: the output head (auto: sigmoid for two classes, softmax otherwise).
    #[serde(default)]
    pub head: Head,
    #[serde(default)]
    pub init: Init,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// Binary logistic regression σ(w·x + b).
    Logistic,
    /// Multinomial (softmax) logistic regression.
    Softmax,
    /// Multi-layer perceptron.
    Mlp,
    /// Linear regression, mean squared error.
    Linear,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    #[default]
    Relu,
    Tanh,
    Sigmoid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Head {
    #[default]
    Auto,
    Sigmoid,
    Softmax,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// U(−k, k) with k = 1/√fan_in for weights and biases (Burn's and PyTorch's default).
    #[default]
    Default,
    /// All parameters zero: the lecture's setting for the convex models.
    Zeros,
}

/// The optimizer, selected by `name`. Each variant is one file in `src/optim/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum OptimizerConfig {
    /// Gradient descent θ ← θ − α ∇ℓ(B): full-batch when `batch_size` ≥ n, else SGD.
    #[serde(alias = "gd")]
    Sgd(SgdConfig),
    /// Heavy-ball momentum, lecture form `v ← λ v − α g ; θ ← θ + v` or PyTorch form.
    Momentum(MomentumConfig),
    /// Nesterov momentum: the gradient at the look-ahead point.
    Nesterov(NesterovConfig),
    /// AdaGrad: `G ← G + g² ; θ ← θ − α g / (√G + ε)`.
    Adagrad(AdagradConfig),
    /// RMSProp: `s ← β s + (1 − β) g² ; θ ← θ − α g / (√s + ε)`.
    Rmsprop(RmspropConfig),
    /// Adam: bias-corrected first and second moments, optional AMSGrad.
    Adam(AdamConfig),
    /// AdamW: Adam with decoupled weight decay.
    Adamw(AdamwConfig),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SgdConfig {
    /// α, the learning rate (α^(0) when a schedule changes it); with a line search, the
    /// first trial step of every search.
    pub learning_rate: f64,
    /// μ, the L2 (Tikhonov) penalty: g ← g + μ θ.
    #[serde(default)]
    pub weight_decay: f64,
    /// Choose α at every step by a line search along −∇ℓ (full-batch gradient descent only).
    #[serde(default)]
    pub line_search: LineSearch,
    /// armijo: c, accept α when `ℓ(θ − α g) ≤ ℓ(θ) − c α ‖g‖²`, in (0, 1).
    #[serde(default = "default_sufficient_decrease")]
    pub sufficient_decrease: f64,
    /// armijo: τ, the factor α shrinks by until the condition holds, in (0, 1).
    #[serde(default = "default_backtracking_factor")]
    pub backtracking_factor: f64,
}

/// How full-batch gradient descent picks its step, lecture §2:
/// `α* = argmin_α ℓ(θ − α ∇ℓ(θ))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineSearch {
    /// α from the config and its schedule.
    #[default]
    None,
    /// Backtracking from α = learning_rate until the sufficient-decrease condition holds.
    Armijo,
    /// The minimizer along the ray: closed form for a quadratic loss (linear regression),
    /// golden-section search otherwise.
    Exact,
}

fn default_sufficient_decrease() -> f64 {
    1e-4
}

fn default_backtracking_factor() -> f64 {
    0.5
}

/// Which convention momentum follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MomentumForm {
    /// `v ← λ v − α g ; θ ← θ + v`: α inside the velocity (the lecture's).
    #[default]
    Lecture,
    /// `b ← λ b + (1 − d) g ; θ ← θ − α b`: α scales the buffer (torch.optim.SGD).
    Pytorch,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MomentumConfig {
    pub learning_rate: f64,
    /// λ, the momentum coefficient (either form), in [0, 1).
    #[serde(default = "default_momentum")]
    pub momentum: f64,
    #[serde(default)]
    pub form: MomentumForm,
    /// d, PyTorch form only, in [0, 1).
    #[serde(default)]
    pub dampening: f64,
    #[serde(default)]
    pub weight_decay: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NesterovConfig {
    pub learning_rate: f64,
    #[serde(default = "default_momentum")]
    pub momentum: f64,
    #[serde(default)]
    pub form: MomentumForm,
    #[serde(default)]
    pub weight_decay: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdagradConfig {
    pub learning_rate: f64,
    #[serde(default = "default_adagrad_epsilon")]
    pub epsilon: f64,
    /// G^(0), the accumulator's starting value.
    #[serde(default)]
    pub initial_accumulator: f64,
    /// α_t = α / (1 + (t − 1) lr_decay).
    #[serde(default)]
    pub lr_decay: f64,
    #[serde(default)]
    pub weight_decay: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RmspropConfig {
    pub learning_rate: f64,
    /// β, the decay of the squared-gradient average (PyTorch's `alpha`), in [0, 1).
    #[serde(default = "default_rmsprop_beta")]
    pub beta: f64,
    #[serde(default = "default_epsilon")]
    pub epsilon: f64,
    #[serde(default)]
    pub momentum: f64,
    #[serde(default)]
    pub centered: bool,
    #[serde(default)]
    pub weight_decay: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdamConfig {
    pub learning_rate: f64,
    #[serde(default = "default_beta_1")]
    pub beta_1: f64,
    #[serde(default = "default_beta_2")]
    pub beta_2: f64,
    #[serde(default = "default_epsilon")]
    pub epsilon: f64,
    #[serde(default)]
    pub amsgrad: bool,
    /// Coupled L2 penalty, added to the gradient.
    #[serde(default)]
    pub weight_decay: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdamwConfig {
    pub learning_rate: f64,
    #[serde(default = "default_beta_1")]
    pub beta_1: f64,
    #[serde(default = "default_beta_2")]
    pub beta_2: f64,
    #[serde(default = "default_epsilon")]
    pub epsilon: f64,
    #[serde(default)]
    pub amsgrad: bool,
    /// ω, the decoupled decay: θ ← θ (1 − α ω) each step.
    #[serde(default = "default_adamw_weight_decay")]
    pub weight_decay: f64,
}

fn default_momentum() -> f64 {
    0.9
}
fn default_adagrad_epsilon() -> f64 {
    1e-10
}
fn default_rmsprop_beta() -> f64 {
    0.99
}
fn default_epsilon() -> f64 {
    1e-8
}
fn default_beta_1() -> f64 {
    0.9
}
fn default_beta_2() -> f64 {
    0.999
}
fn default_adamw_weight_decay() -> f64 {
    0.01
}

impl OptimizerConfig {
    /// α^(0): the learning rate the schedule starts from.
    pub fn learning_rate(&self) -> f64 {
        match self {
            OptimizerConfig::Sgd(c) => c.learning_rate,
            OptimizerConfig::Momentum(c) => c.learning_rate,
            OptimizerConfig::Nesterov(c) => c.learning_rate,
            OptimizerConfig::Adagrad(c) => c.learning_rate,
            OptimizerConfig::Rmsprop(c) => c.learning_rate,
            OptimizerConfig::Adam(c) => c.learning_rate,
            OptimizerConfig::Adamw(c) => c.learning_rate,
        }
    }

    /// Checks every hyper-parameter; on failure the key path and what is allowed.
    pub fn validate(&self) -> std::result::Result<(), (&'static str, String)> {
        positive("optimizer.learning_rate", self.learning_rate())?;
        match self {
            OptimizerConfig::Sgd(c) => {
                // Checked even without Armijo: a value written in the config is read back by
                // eval and --resume, and NaN there would be accepted once and differ on reload.
                open_unit_interval("optimizer.sufficient_decrease", c.sufficient_decrease)?;
                open_unit_interval("optimizer.backtracking_factor", c.backtracking_factor)?;
                non_negative("optimizer.weight_decay", c.weight_decay)
            }
            OptimizerConfig::Momentum(c) => {
                in_unit_interval("optimizer.momentum", c.momentum)?;
                in_unit_interval("optimizer.dampening", c.dampening)?;
                if c.form == MomentumForm::Lecture && c.dampening != 0.0 {
                    return Err((
                        "optimizer.dampening",
                        "applies to form = \"pytorch\" only".into(),
                    ));
                }
                non_negative("optimizer.weight_decay", c.weight_decay)
            }
            OptimizerConfig::Nesterov(c) => {
                in_unit_interval("optimizer.momentum", c.momentum)?;
                non_negative("optimizer.weight_decay", c.weight_decay)
            }
            OptimizerConfig::Adagrad(c) => {
                positive("optimizer.epsilon", c.epsilon)?;
                non_negative("optimizer.initial_accumulator", c.initial_accumulator)?;
                non_negative("optimizer.lr_decay", c.lr_decay)?;
                non_negative("optimizer.weight_decay", c.weight_decay)
            }
            OptimizerConfig::Rmsprop(c) => {
                in_unit_interval("optimizer.beta", c.beta)?;
                positive("optimizer.epsilon", c.epsilon)?;
                in_unit_interval("optimizer.momentum", c.momentum)?;
                non_negative("optimizer.weight_decay", c.weight_decay)
            }
            OptimizerConfig::Adam(AdamConfig {
                beta_1,
                beta_2,
                epsilon,
                weight_decay,
                ..
            })
            | OptimizerConfig::Adamw(AdamwConfig {
                beta_1,
                beta_2,
                epsilon,
                weight_decay,
                ..
            }) => {
                in_unit_interval("optimizer.beta_1", *beta_1)?;
                in_unit_interval("optimizer.beta_2", *beta_2)?;
                positive("optimizer.epsilon", *epsilon)?;
                non_negative("optimizer.weight_decay", *weight_decay)
            }
        }
    }
}

/// The learning-rate schedule, selected by `name`; each variant is one file in
/// `src/optim/schedule/`, whose type's doc comment holds the formula. α^(0) is
/// `optimizer.learning_rate`. Every variant also takes the keys of [`ScheduleTiming`]: `unit`,
/// `warmup` and `warmup_start`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum ScheduleConfig {
    /// α^(t) = α^(0).
    Constant(ConstantScheduleConfig),
    /// The lecture's α^(t) = (1 − t/ρ) α^(0) + (t/ρ) α^(ρ) for t ≤ ρ, then α^(ρ).
    Linear(LinearScheduleConfig),
    /// The lecture's α^(t+1) = α^(t) / (1 + ρ t), as written (recursive).
    InverseTimeRecursive(InverseTimeRecursiveScheduleConfig),
    /// The common closed form α^(t) = α^(0) / (1 + ρ t).
    InverseTime(InverseTimeScheduleConfig),
    /// The lecture's α^(t) = α^(0) e^(−ρ t).
    Exponential(ExponentialScheduleConfig),
    /// α^(t) = α^(0) γ^⌊t/k⌋.
    Step(StepScheduleConfig),
    /// Cosine annealing from α^(0) to a floor over a period, optionally with warm restarts.
    Cosine(CosineScheduleConfig),
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig::Constant(ConstantScheduleConfig::default())
    }
}

/// What the learner's step counter means to a schedule: its t counts optimizer steps, or
/// epochs (t = ⌊steps taken / steps per epoch⌋).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleUnit {
    #[default]
    Step,
    Epoch,
}

impl ScheduleUnit {
    /// The unit's name in messages, plural.
    pub fn plural(self) -> &'static str {
        match self {
            ScheduleUnit::Step => "steps",
            ScheduleUnit::Epoch => "epochs",
        }
    }

    /// `count` units in words: "1 epoch", "25 steps".
    pub fn count(self, count: u64) -> String {
        let plural = self.plural();
        let name = if count == 1 {
            &plural[..plural.len() - 1]
        } else {
            plural
        };
        format!("{count} {name}")
    }
}

/// The keys every schedule takes besides its own: in what unit t counts, and an optional
/// linear warmup of `warmup` units from `warmup_start` to α^(0) before the schedule starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScheduleTiming {
    pub unit: ScheduleUnit,
    /// k, the warmup's length in units; 0 = no warmup.
    pub warmup: u64,
    /// α_start, the rate at t = 0 of the warmup.
    pub warmup_start: f64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConstantScheduleConfig {
    #[serde(default)]
    pub unit: ScheduleUnit,
    #[serde(default)]
    pub warmup: u64,
    #[serde(default)]
    pub warmup_start: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinearScheduleConfig {
    /// ρ, the number of units the decay lasts (> 0, need not be whole).
    pub rho: f64,
    /// α^(ρ), the rate reached at t = ρ and kept afterwards (≥ 0).
    pub final_learning_rate: f64,
    #[serde(default)]
    pub unit: ScheduleUnit,
    #[serde(default)]
    pub warmup: u64,
    #[serde(default)]
    pub warmup_start: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InverseTimeRecursiveScheduleConfig {
    /// ρ > 0.
    pub rho: f64,
    #[serde(default)]
    pub unit: ScheduleUnit,
    #[serde(default)]
    pub warmup: u64,
    #[serde(default)]
    pub warmup_start: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InverseTimeScheduleConfig {
    /// ρ > 0.
    pub rho: f64,
    #[serde(default)]
    pub unit: ScheduleUnit,
    #[serde(default)]
    pub warmup: u64,
    #[serde(default)]
    pub warmup_start: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExponentialScheduleConfig {
    /// ρ > 0, the decay rate per unit.
    pub rho: f64,
    #[serde(default)]
    pub unit: ScheduleUnit,
    #[serde(default)]
    pub warmup: u64,
    #[serde(default)]
    pub warmup_start: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepScheduleConfig {
    /// γ in (0, 1], the factor applied at each drop.
    pub gamma: f64,
    /// k ≥ 1, the units between drops.
    pub every: u64,
    #[serde(default)]
    pub unit: ScheduleUnit,
    #[serde(default)]
    pub warmup: u64,
    #[serde(default)]
    pub warmup_start: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CosineScheduleConfig {
    /// T ≥ 1, the (first) cycle's length in units.
    pub period: u64,
    /// α_min, the floor, in [0, α^(0)].
    #[serde(default)]
    pub min_learning_rate: f64,
    /// Restart at α^(0) after each cycle (SGDR); otherwise stay at the floor after T units.
    #[serde(default)]
    pub restarts: bool,
    /// T_mult ≥ 1: each cycle is this many times longer than the one before (restarts only).
    #[serde(default = "default_period_multiplier")]
    pub period_multiplier: u64,
    #[serde(default)]
    pub unit: ScheduleUnit,
    #[serde(default)]
    pub warmup: u64,
    #[serde(default)]
    pub warmup_start: f64,
}

fn default_period_multiplier() -> u64 {
    1
}

impl ScheduleConfig {
    /// The `name` the config selects it by.
    pub fn name(&self) -> &'static str {
        match self {
            ScheduleConfig::Constant(_) => "constant",
            ScheduleConfig::Linear(_) => "linear",
            ScheduleConfig::InverseTimeRecursive(_) => "inverse_time_recursive",
            ScheduleConfig::InverseTime(_) => "inverse_time",
            ScheduleConfig::Exponential(_) => "exponential",
            ScheduleConfig::Step(_) => "step",
            ScheduleConfig::Cosine(_) => "cosine",
        }
    }

    /// The unit and warmup keys, common to every schedule.
    pub fn timing(&self) -> ScheduleTiming {
        macro_rules! timing {
            ($c:expr) => {
                ScheduleTiming {
                    unit: $c.unit,
                    warmup: $c.warmup,
                    warmup_start: $c.warmup_start,
                }
            };
        }
        match self {
            ScheduleConfig::Constant(c) => timing!(c),
            ScheduleConfig::Linear(c) => timing!(c),
            ScheduleConfig::InverseTimeRecursive(c) => timing!(c),
            ScheduleConfig::InverseTime(c) => timing!(c),
            ScheduleConfig::Exponential(c) => timing!(c),
            ScheduleConfig::Step(c) => timing!(c),
            ScheduleConfig::Cosine(c) => timing!(c),
        }
    }

    /// Checks every parameter against α^(0) = `initial`; on failure the key path and what is
    /// allowed.
    pub fn validate(&self, initial: f64) -> std::result::Result<(), (&'static str, String)> {
        let at_least_one = |key: &'static str, value: u64| {
            if value >= 1 {
                Ok(())
            } else {
                Err((key, format!("must be ≥ 1, got {value}")))
            }
        };
        match self {
            ScheduleConfig::Constant(_) => {}
            ScheduleConfig::Linear(c) => {
                positive("schedule.rho", c.rho)?;
                non_negative("schedule.final_learning_rate", c.final_learning_rate)?;
            }
            ScheduleConfig::InverseTimeRecursive(InverseTimeRecursiveScheduleConfig {
                rho,
                ..
            })
            | ScheduleConfig::InverseTime(InverseTimeScheduleConfig { rho, .. })
            | ScheduleConfig::Exponential(ExponentialScheduleConfig { rho, .. }) => {
                positive("schedule.rho", *rho)?;
            }
            ScheduleConfig::Step(c) => {
                if !(c.gamma > 0.0 && c.gamma <= 1.0) {
                    return Err((
                        "schedule.gamma",
                        format!("must be in (0, 1], got {}", c.gamma),
                    ));
                }
                at_least_one("schedule.every", c.every)?;
            }
            ScheduleConfig::Cosine(c) => {
                at_least_one("schedule.period", c.period)?;
                if !(c.min_learning_rate >= 0.0 && c.min_learning_rate <= initial) {
                    return Err((
                        "schedule.min_learning_rate",
                        format!(
                            "must be in [0, optimizer.learning_rate = {initial}], got {}",
                            c.min_learning_rate
                        ),
                    ));
                }
                at_least_one("schedule.period_multiplier", c.period_multiplier)?;
                if !c.restarts && c.period_multiplier != 1 {
                    return Err((
                        "schedule.period_multiplier",
                        "applies with restarts = true only".into(),
                    ));
                }
            }
        }
        let timing = self.timing();
        if !(timing.warmup_start >= 0.0 && timing.warmup_start <= initial) {
            return Err((
                "schedule.warmup_start",
                format!(
                    "must be in [0, optimizer.learning_rate = {initial}], got {}",
                    timing.warmup_start
                ),
            ));
        }
        if timing.warmup == 0 && timing.warmup_start != 0.0 {
            return Err((
                "schedule.warmup_start",
                "applies with a warmup only (set schedule.warmup = k ≥ 1 units)".into(),
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingConfig {
    #[serde(default = "default_epochs")]
    pub epochs: usize,
    /// m, the mini-batch size; ≥ n means full-batch gradient descent.
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// Seeds the split, the initialization and the per-epoch shuffling.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// `cpu`, `flex`, `ndarray`, `wgpu`, `cuda`, optionally with an index (`cuda:1`).
    #[serde(default = "default_device")]
    pub device: String,
    /// Data-parallel training over these devices (two or more, one backend), through
    /// burn-train's `ExecutionStrategy::MultiDevice`: each step splits the mini-batch of
    /// `batch_size` examples evenly across them and averages their gradients. Empty: train on
    /// `device` alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<String>,
    /// Rescale the whole gradient (all parameters together) to this L2 norm when it is longer,
    /// before any optimizer's update rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip_grad_norm: Option<f64>,
    /// Clamp every gradient component to [−c, c], before any optimizer's update rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip_grad_value: Option<f64>,
    /// Write every parameter after every step to `parameters.csv` (models ≤ 10,000
    /// parameters).
    #[serde(default)]
    pub trace_parameters: bool,
    /// Log `suboptimality = ℓ(f_Θ) − ℓ(f*)` on the whole training set (convex models only).
    #[serde(default)]
    pub suboptimality: SuboptimalityTracking,
    /// ρ: stop as soon as `ℓ(f_Θ) − ℓ(f*) < ρ` (lecture §6), checked after every epoch
    /// (after every step in full-batch mode). Convex models only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_suboptimality: Option<f64>,
    /// Stop as diverged when a batch loss is not finite, or exceeds this many times the
    /// run's first batch loss (> 1).
    #[serde(default = "default_divergence_factor")]
    pub divergence_factor: f64,
}

fn default_divergence_factor() -> f64 {
    1e4
}

/// When training measures its distance to the exact optimum (which costs one exact solve
/// before training and one pass over the training set per epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuboptimalityTracking {
    /// For convex models of at most [`AUTO_SUBOPTIMALITY_MAX_PARAMETERS`] parameters, or
    /// whenever `target_suboptimality` is set.
    #[default]
    Auto,
    On,
    Off,
}

/// `suboptimality = "auto"` solves for f* only up to this many parameters (Newton's method
/// factors a Hessian of this side).
pub const AUTO_SUBOPTIMALITY_MAX_PARAMETERS: usize = 2_000;

impl Default for TrainingConfig {
    fn default() -> Self {
        Self {
            epochs: default_epochs(),
            batch_size: default_batch_size(),
            seed: default_seed(),
            device: default_device(),
            devices: Vec::new(),
            clip_grad_norm: None,
            clip_grad_value: None,
            trace_parameters: false,
            suboptimality: SuboptimalityTracking::default(),
            target_suboptimality: None,
            divergence_factor: default_divergence_factor(),
        }
    }
}

/// A check's outcome: on failure, the key path and what is allowed.
type Check = std::result::Result<(), (&'static str, String)>;

fn positive(key: &'static str, value: f64) -> Check {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err((
            key,
            format!("must be a positive finite number, got {value}"),
        ))
    }
}

fn non_negative(key: &'static str, value: f64) -> Check {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err((key, format!("must be a finite number ≥ 0, got {value}")))
    }
}

/// A list of column or class names: not empty, no empty name, no name twice.
fn check_names(key: &'static str, names: &[String]) -> Check {
    if names.is_empty() {
        return Err((key, "must list at least one name".into()));
    }
    for (i, name) in names.iter().enumerate() {
        if name.trim().is_empty() {
            return Err((key, format!("entry {} is empty", i + 1)));
        }
        if names[..i].contains(name) {
            return Err((key, format!("lists {name:?} twice")));
        }
    }
    Ok(())
}

fn in_unit_interval(key: &'static str, value: f64) -> Check {
    if (0.0..1.0).contains(&value) {
        Ok(())
    } else {
        Err((key, format!("must be in [0, 1), got {value}")))
    }
}

fn open_unit_interval(key: &'static str, value: f64) -> Check {
    if value > 0.0 && value < 1.0 {
        Ok(())
    } else {
        Err((key, format!("must be in (0, 1), got {value}")))
    }
}

fn default_true() -> bool {
    true
}
fn default_fraction() -> f64 {
    0.15
}
fn default_hidden() -> Vec<usize> {
    vec![64]
}
fn default_epochs() -> usize {
    20
}
fn default_batch_size() -> usize {
    32
}
fn default_seed() -> u64 {
    42
}
fn default_device() -> String {
    "cpu".to_string()
}

impl Config {
    /// Reads `path`, applies the `--set key.path=value` overrides, and validates.
    pub fn load(path: &Path, overrides: &[String]) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read config", path, e))?;
        Self::from_toml(&text, &path.display().to_string(), overrides)
    }

    /// Parses TOML `text` (named `origin` in errors), applies overrides, fills defaults and
    /// validates. Relative data paths are made absolute against the current directory, so a
    /// run's saved config stays valid wherever it is read from.
    pub fn from_toml(text: &str, origin: &str, overrides: &[String]) -> Result<Config> {
        let mut table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| syntax_error(origin, text, &e))?;
        for assignment in overrides {
            apply_override(&mut table, assignment)?;
        }
        let mut config: Config =
            serde_path_to_error::deserialize(toml::Value::Table(table.clone())).map_err(|e| {
                let path = e.path().to_string();
                if let Some(inner) = tagged_section_error(&table, &path) {
                    return Error::new(format!("{origin}: {inner}"));
                }
                let path = if path == "." { "(top level)" } else { &path };
                Error::new(format!("{origin}: {path}: {}", e.inner()))
            })?;
        config.resolve();
        config
            .validate()
            .map_err(|(key, what)| Error::new(format!("{origin}: {key}: {what}")))?;
        Ok(config)
    }

    /// Fills the defaults that depend on other keys.
    fn resolve(&mut self) {
        let data = &mut self.data;
        if data.source == DataSource::Lecture1d {
            data.n.get_or_insert(LECTURE_1D_DEFAULT_N);
            data.a_star.get_or_insert(LECTURE_1D_DEFAULT_A_STAR);
            data.b_star.get_or_insert(LECTURE_1D_DEFAULT_B_STAR);
        }
        if let Some(path) = &data.path
            && path.is_relative()
            && let Ok(cwd) = std::env::current_dir()
        {
            data.path = Some(cwd.join(path));
        }
    }

    /// Checks every value; on failure returns the key path and what is allowed.
    pub fn validate(&self) -> std::result::Result<(), (&'static str, String)> {
        let data = &self.data;
        let fraction_ok = |f: f64| (0.0..1.0).contains(&f);
        if !fraction_ok(data.validation_fraction) {
            return Err((
                "data.validation_fraction",
                format!("must be in [0, 1), got {}", data.validation_fraction),
            ));
        }
        if !fraction_ok(data.test_fraction) {
            return Err((
                "data.test_fraction",
                format!("must be in [0, 1), got {}", data.test_fraction),
            ));
        }
        if data.validation_fraction + data.test_fraction >= 1.0 {
            return Err((
                "data.test_fraction",
                format!(
                    "validation_fraction + test_fraction must be below 1 (some examples must train), got {} + {}",
                    data.validation_fraction, data.test_fraction
                ),
            ));
        }
        if data.path.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
            return Err(("data.path", "must not be empty".into()));
        }
        if data.label.as_ref().is_some_and(|l| l.trim().is_empty()) {
            return Err(("data.label", "must not be empty".into()));
        }
        for (key, names) in [
            ("data.features", &data.features),
            ("data.classes", &data.classes),
        ] {
            if let Some(names) = names {
                check_names(key, names)?;
            }
        }
        if data.classes.as_ref().is_some_and(|c| c.len() > MAX_CLASSES) {
            return Err((
                "data.classes",
                format!(
                    "at most {MAX_CLASSES} classes, got {}",
                    data.classes.as_ref().map_or(0, Vec::len)
                ),
            ));
        }
        // Checked whatever the source: a NaN stored in config.toml would never compare equal
        // to itself, and `--resume` would refuse the run's own config.
        for (key, value) in [("data.a_star", data.a_star), ("data.b_star", data.b_star)] {
            if value.is_some_and(|v| !v.is_finite()) {
                return Err((key, "must be a finite number".into()));
            }
        }
        if let Some(n) = data.n
            && n > MAX_LECTURE_1D_N
        {
            return Err(("data.n", format!("must be ≤ {MAX_LECTURE_1D_N}, got {n}")));
        }
        match data.source {
            DataSource::Csv => {
                if data.path.is_none() {
                    return Err((
                        "data.path",
                        "source = \"csv\" needs the CSV file's path".into(),
                    ));
                }
                if data.label.is_none() {
                    return Err((
                        "data.label",
                        "source = \"csv\" needs the name of the label column".into(),
                    ));
                }
            }
            DataSource::Mnist => {
                if data.path.is_none() {
                    return Err((
                        "data.path",
                        "source = \"mnist\" needs the folder holding the IDX files".into(),
                    ));
                }
                if data.limit == Some(0) {
                    return Err(("data.limit", "must be ≥ 1".into()));
                }
            }
            DataSource::Lecture1d => {
                if data.n.is_some_and(|n| n < 2) {
                    return Err(("data.n", "must be ≥ 2".into()));
                }
            }
            DataSource::BreastCancer | DataSource::Digits | DataSource::Diabetes => {}
        }

        let model = &self.model;
        if model.kind == ModelKind::Mlp {
            if model.hidden.is_empty() {
                return Err((
                    "model.hidden",
                    "an mlp needs at least one hidden layer, e.g. [64]".into(),
                ));
            }
            if model.hidden.contains(&0) {
                return Err(("model.hidden", "every hidden size must be ≥ 1".into()));
            }
            if model.hidden.len() > MAX_HIDDEN_LAYERS {
                return Err((
                    "model.hidden",
                    format!(
                        "at most {MAX_HIDDEN_LAYERS} hidden layers, got {}",
                        model.hidden.len()
                    ),
                ));
            }
            if let Some(&width) = model.hidden.iter().find(|&&w| w > MAX_HIDDEN_WIDTH) {
                return Err((
                    "model.hidden",
                    format!("every hidden size must be ≤ {MAX_HIDDEN_WIDTH}, got {width}"),
                ));
            }
        }
        if model.kind == ModelKind::Linear && self.is_classification_source() {
            return Err((
                "model.kind",
                format!(
                    "\"linear\" is a regression model; data.source = \"{}\" is a classification set (use logistic, softmax or mlp)",
                    data.source.name()
                ),
            ));
        }
        if model.kind != ModelKind::Linear && data.source == DataSource::Diabetes {
            return Err((
                "model.kind",
                "data.source = \"diabetes\" is a regression set (real-valued target): use kind = \"linear\"".into(),
            ));
        }
        if model.kind == ModelKind::Logistic && data.source == DataSource::Digits {
            return Err((
                "model.kind",
                "\"logistic\" is binary; digits has 10 classes (use softmax or mlp)".into(),
            ));
        }

        self.optimizer.validate()?;
        self.schedule.validate(self.optimizer.learning_rate())?;

        let training = &self.training;
        if !(1..=MAX_EPOCHS).contains(&training.epochs) {
            return Err((
                "training.epochs",
                format!("must be ≥ 1 and ≤ {MAX_EPOCHS}, got {}", training.epochs),
            ));
        }
        if !(1..=MAX_BATCH_SIZE).contains(&training.batch_size) {
            return Err((
                "training.batch_size",
                format!(
                    "must be ≥ 1 and ≤ {MAX_BATCH_SIZE}, got {}",
                    training.batch_size
                ),
            ));
        }
        if let Err(e) = crate::device::DeviceSpec::parse(&training.device) {
            return Err(("training.device", e.to_string()));
        }
        if !training.devices.is_empty() {
            crate::train::data_parallel::check_devices(training, self.line_search())?;
        }
        for (key, value) in [
            ("training.clip_grad_norm", training.clip_grad_norm),
            ("training.clip_grad_value", training.clip_grad_value),
        ] {
            if let Some(value) = value
                && !(value.is_finite() && value > 0.0)
            {
                return Err((
                    key,
                    format!("must be a positive finite number, got {value}"),
                ));
            }
        }
        if training.clip_grad_norm.is_some() && training.clip_grad_value.is_some() {
            return Err((
                "training.clip_grad_value",
                "choose one of clip_grad_norm and clip_grad_value".into(),
            ));
        }
        if training.divergence_factor.is_nan() || training.divergence_factor <= 1.0 {
            return Err((
                "training.divergence_factor",
                format!(
                    "must be a number > 1 (inf: only non-finite losses), got {}",
                    training.divergence_factor
                ),
            ));
        }
        if let Some(target) = training.target_suboptimality {
            positive("training.target_suboptimality", target)?;
            if model.kind == ModelKind::Mlp {
                return Err((
                    "training.target_suboptimality",
                    "model.kind = \"mlp\" is not convex: its optimum ℓ(f*) is unknown".into(),
                ));
            }
            if training.suboptimality == SuboptimalityTracking::Off {
                return Err((
                    "training.target_suboptimality",
                    "needs training.suboptimality = \"auto\" or \"on\"".into(),
                ));
            }
        }
        if training.suboptimality == SuboptimalityTracking::On && model.kind == ModelKind::Mlp {
            return Err((
                "training.suboptimality",
                "model.kind = \"mlp\" is not convex: its optimum ℓ(f*) is unknown".into(),
            ));
        }
        if self.line_search() != LineSearch::None {
            if !matches!(self.schedule, ScheduleConfig::Constant(_)) {
                return Err((
                    "schedule.name",
                    "optimizer.line_search chooses α itself: use the constant schedule".into(),
                ));
            }
            if training.clip_grad_norm.is_some() || training.clip_grad_value.is_some() {
                return Err((
                    "optimizer.line_search",
                    "searches along the full gradient −∇ℓ: remove training.clip_grad_norm / clip_grad_value".into(),
                ));
            }
        }
        Ok(())
    }

    /// The line search the optimizer asks for (`none` for every optimizer but `sgd`).
    pub fn line_search(&self) -> LineSearch {
        match &self.optimizer {
            OptimizerConfig::Sgd(c) => c.line_search,
            _ => LineSearch::None,
        }
    }

    /// What the config allows but probably does not mean, one line each (the CLI prints them
    /// as `warning: ...`). How many steps an epoch has is known once the data is loaded:
    /// without `steps_per_epoch`, only what the config alone decides is checked.
    pub fn warnings(&self, steps_per_epoch: Option<usize>) -> Vec<String> {
        let mut warnings = Vec::new();
        let timing = self.schedule.timing();
        let epochs = self.training.epochs as u64;
        let training_units = match timing.unit {
            ScheduleUnit::Epoch => Some(epochs),
            ScheduleUnit::Step => steps_per_epoch.map(|steps| epochs * steps as u64),
        };
        if let Some(units) = training_units
            && timing.warmup > 0
            && timing.warmup >= units
        {
            warnings.push(format!(
                "schedule.warmup: the warmup ({}) does not end before training does ({}), so α never reaches optimizer.learning_rate = {}",
                timing.unit.count(timing.warmup),
                timing.unit.count(units),
                self.optimizer.learning_rate(),
            ));
        }
        warnings
    }

    /// Whether the data source is known to be a classification set before loading it.
    fn is_classification_source(&self) -> bool {
        match self.data.source {
            DataSource::BreastCancer
            | DataSource::Digits
            | DataSource::Lecture1d
            | DataSource::Mnist => true,
            DataSource::Csv | DataSource::Diabetes => false,
        }
    }

    /// Whether the model predicts a real value (regression) rather than a class.
    pub fn is_regression(&self) -> bool {
        self.model.kind == ModelKind::Linear
    }

    /// The resolved config as TOML, every default filled in.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a Config always serializes to TOML")
    }
}

impl DataSource {
    pub fn name(self) -> &'static str {
        match self {
            DataSource::BreastCancer => "breast_cancer",
            DataSource::Digits => "digits",
            DataSource::Diabetes => "diabetes",
            DataSource::Lecture1d => "lecture_1d",
            DataSource::Csv => "csv",
            DataSource::Mnist => "mnist",
        }
    }
}

/// `key.path: message` for an error inside `[optimizer]` or `[schedule]`, whose key serde
/// loses: a tagged enum's fields are buffered before the variant is chosen, so a wrong type
/// is reported at the section (`optimizer: invalid type: string "x", expected f64`).
/// Deserializing the chosen variant's own struct again finds the key. `None` when `path` is
/// not such a section or the retry finds nothing more precise.
fn tagged_section_error(table: &toml::Table, path: &str) -> Option<String> {
    fn retry<T: serde::de::DeserializeOwned>(section: &str, fields: toml::Table) -> Option<String> {
        let error = serde_path_to_error::deserialize::<_, T>(toml::Value::Table(fields)).err()?;
        let key = error.path().to_string();
        (key != ".").then(|| format!("{section}.{key}: {}", error.inner()))
    }
    if path != "optimizer" && path != "schedule" {
        return None;
    }
    let mut fields = table.get(path)?.as_table()?.clone();
    let name = fields.remove("name")?;
    let name = name.as_str()?;
    match (path, name) {
        ("optimizer", "sgd" | "gd") => retry::<SgdConfig>(path, fields),
        ("optimizer", "momentum") => retry::<MomentumConfig>(path, fields),
        ("optimizer", "nesterov") => retry::<NesterovConfig>(path, fields),
        ("optimizer", "adagrad") => retry::<AdagradConfig>(path, fields),
        ("optimizer", "rmsprop") => retry::<RmspropConfig>(path, fields),
        ("optimizer", "adam") => retry::<AdamConfig>(path, fields),
        ("optimizer", "adamw") => retry::<AdamwConfig>(path, fields),
        ("schedule", "constant") => retry::<ConstantScheduleConfig>(path, fields),
        ("schedule", "linear") => retry::<LinearScheduleConfig>(path, fields),
        ("schedule", "inverse_time_recursive") => {
            retry::<InverseTimeRecursiveScheduleConfig>(path, fields)
        }
        ("schedule", "inverse_time") => retry::<InverseTimeScheduleConfig>(path, fields),
        ("schedule", "exponential") => retry::<ExponentialScheduleConfig>(path, fields),
        ("schedule", "step") => retry::<StepScheduleConfig>(path, fields),
        ("schedule", "cosine") => retry::<CosineScheduleConfig>(path, fields),
        _ => None,
    }
}

/// `file:line:column: message` for a TOML syntax error.
fn syntax_error(origin: &str, text: &str, error: &toml::de::Error) -> Error {
    let position = error.span().map(|span| {
        let before = &text[..span.start.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        format!("{line}:{column}: ")
    });
    Error::new(format!(
        "{origin}:{}{}",
        position.unwrap_or_else(|| " ".into()),
        error.message()
    ))
}

/// Applies one `key.path=value` override. The value is read as a TOML value (`0.5`, `true`,
/// `[64, 32]`, `"text"`); anything that is not valid TOML is taken as a bare string, so
/// `--set data.source=digits` works without quotes.
pub fn apply_override(table: &mut toml::Table, assignment: &str) -> Result<()> {
    let Some((key, raw)) = assignment.split_once('=') else {
        bail!("--set {assignment}: expected key.path=value, e.g. optimizer.learning_rate=0.05");
    };
    let key = key.trim();
    let raw = raw.trim();
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        bail!("--set {assignment}: empty key segment in `{key}`");
    }
    let value = format!("value = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("value"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()));

    let (last, parents) = parts.split_last().expect("split yields at least one part");
    let mut current = table;
    for (depth, part) in parents.iter().enumerate() {
        let entry = current
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        current = match entry {
            toml::Value::Table(t) => t,
            _ => bail!(
                "--set {assignment}: `{}` is a value, not a section",
                parts[..=depth].join(".")
            ),
        };
    }
    current.insert(last.to_string(), value);
    Ok(())
}

/// The first key path (in `a.b` form) where two configs differ, if any.
pub fn first_difference(left: &Config, right: &Config) -> Option<String> {
    let left = toml::Value::try_from(left).ok()?;
    let right = toml::Value::try_from(right).ok()?;
    fn walk(prefix: &str, l: &toml::Value, r: &toml::Value) -> Option<String> {
        match (l, r) {
            (toml::Value::Table(lt), toml::Value::Table(rt)) => {
                let mut keys: Vec<&String> = lt.keys().chain(rt.keys()).collect();
                keys.sort();
                keys.dedup();
                keys.into_iter().find_map(|k| {
                    let path = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    match (lt.get(k), rt.get(k)) {
                        (Some(a), Some(b)) => walk(&path, a, b),
                        _ => Some(path),
                    }
                })
            }
            _ => (l != r).then(|| prefix.to_string()),
        }
    }
    walk("", &left, &right)
}
