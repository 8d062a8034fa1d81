//! `[optimizer]`: the optimizer, selected by `name`, and its hyper-parameters. Each variant's
//! settings are turned into the optimizer in `src/optim/` by a `From` impl beside it.

use serde::{Deserialize, Serialize};

use super::{Check, in_unit_interval, non_negative, open_unit_interval, positive};

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
    /// λ₂, the L2 (Tikhonov) penalty: g ← g + λ₂ θ.
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
    /// `b ← μ b + (1 − d) g ; θ ← θ − α b`: α scales the buffer (torch.optim.SGD).
    Pytorch,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MomentumConfig {
    pub learning_rate: f64,
    /// λ (lecture) or μ (PyTorch), in [0, 1).
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
    /// Decoupled decay: θ ← θ (1 − α λ) each step.
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
    /// The `name` the config selects it by (`gd` is read as `sgd`).
    pub fn name(&self) -> &'static str {
        match self {
            OptimizerConfig::Sgd(_) => "sgd",
            OptimizerConfig::Momentum(_) => "momentum",
            OptimizerConfig::Nesterov(_) => "nesterov",
            OptimizerConfig::Adagrad(_) => "adagrad",
            OptimizerConfig::Rmsprop(_) => "rmsprop",
            OptimizerConfig::Adam(_) => "adam",
            OptimizerConfig::Adamw(_) => "adamw",
        }
    }

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
    pub fn validate(&self) -> Check {
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

// Typed constructors: each optimizer's settings at their defaults but for α^(0), for code that
// builds a config (set the fields that differ).

impl SgdConfig {
    /// Plain SGD (GD when the batch is the whole set) at α^(0) = `learning_rate`.
    pub fn new(learning_rate: f64) -> Self {
        Self {
            learning_rate,
            weight_decay: 0.0,
            line_search: LineSearch::None,
            sufficient_decrease: default_sufficient_decrease(),
            backtracking_factor: default_backtracking_factor(),
        }
    }
}

impl MomentumConfig {
    /// Lecture-form heavy-ball momentum, λ = 0.9, at α^(0) = `learning_rate`.
    pub fn new(learning_rate: f64) -> Self {
        Self {
            learning_rate,
            momentum: default_momentum(),
            form: MomentumForm::Lecture,
            dampening: 0.0,
            weight_decay: 0.0,
        }
    }
}

impl NesterovConfig {
    /// Lecture-form Nesterov momentum, λ = 0.9, at α^(0) = `learning_rate`.
    pub fn new(learning_rate: f64) -> Self {
        Self {
            learning_rate,
            momentum: default_momentum(),
            form: MomentumForm::Lecture,
            weight_decay: 0.0,
        }
    }
}

impl AdagradConfig {
    /// AdaGrad with PyTorch's defaults at α^(0) = `learning_rate`.
    pub fn new(learning_rate: f64) -> Self {
        Self {
            learning_rate,
            epsilon: default_adagrad_epsilon(),
            initial_accumulator: 0.0,
            lr_decay: 0.0,
            weight_decay: 0.0,
        }
    }
}

impl RmspropConfig {
    /// RMSProp with PyTorch's defaults at α^(0) = `learning_rate`.
    pub fn new(learning_rate: f64) -> Self {
        Self {
            learning_rate,
            beta: default_rmsprop_beta(),
            epsilon: default_epsilon(),
            momentum: 0.0,
            centered: false,
            weight_decay: 0.0,
        }
    }
}

impl AdamConfig {
    /// Adam with PyTorch's defaults at α^(0) = `learning_rate`.
    pub fn new(learning_rate: f64) -> Self {
        Self {
            learning_rate,
            beta_1: default_beta_1(),
            beta_2: default_beta_2(),
            epsilon: default_epsilon(),
            amsgrad: false,
            weight_decay: 0.0,
        }
    }
}

impl AdamwConfig {
    /// AdamW with PyTorch's defaults (decoupled decay 0.01) at α^(0) = `learning_rate`.
    pub fn new(learning_rate: f64) -> Self {
        Self {
            learning_rate,
            beta_1: default_beta_1(),
            beta_2: default_beta_2(),
            epsilon: default_epsilon(),
            amsgrad: false,
            weight_decay: default_adamw_weight_decay(),
        }
    }
}
