//! `[optimizer]`: the optimizer, selected by `name`. Each choice's settings (its keys, their
//! defaults and checks) are declared beside the optimizer in `src/optim/`, as Burn's optimizers
//! keep their configs; this enum lists them, one line each.

use burn::optim::ModuleOptimizer;

use crate::checks::{Check, positive};
use crate::optim::OptimizerSettings;
pub use crate::optim::{
    AdagradConfig, AdamConfig, AdamwConfig, LineSearch, MomentumConfig, MomentumForm,
    NesterovConfig, RmspropConfig, SgdConfig,
};

named_choices! {
    /// The optimizer, selected by `name`; each variant is one file in `src/optim/`, whose
    /// public type's documentation holds the update rule.
    pub enum OptimizerConfig: dyn OptimizerSettings, in "optimizer" {
        /// Gradient descent θ ← θ − α ∇ℓ(B): full-batch when `batch_size` ≥ n, else SGD.
        Sgd(SgdConfig) = "sgd" | "gd",
        /// Heavy-ball momentum, lecture form `v ← λ v − α g ; θ ← θ + v` or PyTorch form.
        Momentum(MomentumConfig) = "momentum",
        /// Nesterov momentum: the gradient at the look-ahead point.
        Nesterov(NesterovConfig) = "nesterov",
        /// AdaGrad: `G ← G + g² ; θ ← θ − α g / (√G + ε)`.
        Adagrad(AdagradConfig) = "adagrad",
        /// RMSProp: `s ← β s + (1 − β) g² ; θ ← θ − α g / (√s + ε)`.
        Rmsprop(RmspropConfig) = "rmsprop",
        /// Adam: bias-corrected first and second moments, optional AMSGrad.
        Adam(AdamConfig) = "adam",
        /// AdamW: Adam with decoupled weight decay.
        Adamw(AdamwConfig) = "adamw",
    }
}

impl OptimizerConfig {
    /// α^(0): the learning rate the schedule starts from.
    pub fn learning_rate(&self) -> f64 {
        self.settings().learning_rate()
    }

    /// Checks every hyper-parameter; on failure the key path and what is allowed.
    pub fn validate(&self) -> Check {
        positive("optimizer.learning_rate", self.learning_rate())?;
        self.settings().validate()
    }

    /// The optimizer the config names, lifted to a whole module.
    pub fn build(&self) -> ModuleOptimizer {
        self.settings().build()
    }
}
