//! `[training]`: epochs, the mini-batch, the seed, the device(s), clipping, suboptimality
//! tracking, divergence, early stopping and how many checkpoints are kept.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::LineSearch;
use crate::checks::{Check, non_negative, positive};
use crate::device;
use crate::optim::GradientClipping;

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
    /// Stop once this many epochs in a row brought no improvement of `early_stopping_metric`
    /// by more than `early_stopping_min_delta` over its best value so far (needs a validation
    /// split).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_stopping_patience: Option<usize>,
    /// The least change of the metric that counts as an improvement (≥ 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub early_stopping_min_delta: f64,
    /// The validation figure early stopping watches.
    #[serde(default, skip_serializing_if = "EarlyStoppingMetric::is_default")]
    pub early_stopping_metric: EarlyStoppingMetric,
    /// Which epochs' checkpoints stay on disk.
    #[serde(default, skip_serializing_if = "KeepCheckpoints::is_all")]
    pub keep_checkpoints: KeepCheckpoints,
}

fn is_zero(value: &f64) -> bool {
    *value == 0.0
}

/// The validation figure early stopping watches, and `--checkpoint best` ranks epochs by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EarlyStoppingMetric {
    /// The mean validation loss: lower is better.
    #[default]
    ValidLoss,
    /// The validation accuracy (classifiers): higher is better.
    ValidAccuracy,
}

impl EarlyStoppingMetric {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// The `metrics.csv` column.
    pub fn column(self) -> &'static str {
        match self {
            Self::ValidLoss => "valid_loss",
            Self::ValidAccuracy => "valid_accuracy",
        }
    }

    /// Whether `value` is better than `than` by more than `delta`.
    pub fn improves(self, value: f64, than: f64, delta: f64) -> bool {
        match self {
            Self::ValidLoss => value < than - delta,
            Self::ValidAccuracy => value > than + delta,
        }
    }
}

/// `keep_checkpoints`: `"all"`, or the number of most recent epochs whose checkpoints stay
/// (the best epoch's always stays too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeepCheckpoints {
    #[default]
    All,
    Last(usize),
}

impl KeepCheckpoints {
    fn is_all(&self) -> bool {
        *self == Self::All
    }
}

impl Serialize for KeepCheckpoints {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::All => serializer.serialize_str("all"),
            Self::Last(n) => serializer.serialize_u64(*n as u64),
        }
    }
}

impl<'de> Deserialize<'de> for KeepCheckpoints {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Count(i64),
            Word(String),
        }
        let expected = "\"all\" or the number of recent checkpoints to keep, 1 or more";
        match Raw::deserialize(deserializer)
            .map_err(|_| serde::de::Error::custom(format!("expected {expected}")))?
        {
            Raw::Word(word) if word == "all" => Ok(Self::All),
            Raw::Count(n) if n >= 1 => Ok(Self::Last(usize::try_from(n).unwrap_or(usize::MAX))),
            Raw::Word(word) => Err(serde::de::Error::custom(format!(
                "expected {expected}, got {word:?}"
            ))),
            Raw::Count(n) => Err(serde::de::Error::custom(format!(
                "expected {expected}, got {n}"
            ))),
        }
    }
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

/// `suboptimality = "auto"` gives up on f* after this many passes over the training set
/// (evaluations of ℓ): a converging Newton solve takes 10 to 30, so a solve past this is one
/// that would not converge, and training starts without the column at once rather than after
/// Newton's full 200 steps.
pub const AUTO_SUBOPTIMALITY_MAX_PASSES: usize = 64;

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
            early_stopping_patience: None,
            early_stopping_min_delta: 0.0,
            early_stopping_metric: EarlyStoppingMetric::default(),
            keep_checkpoints: KeepCheckpoints::default(),
        }
    }
}

/// `training.epochs` ≤ this.
pub const MAX_EPOCHS: usize = 1_000_000;
/// `training.batch_size` ≤ this: the data loader reserves a batch's worth of indices up front.
pub const MAX_BATCH_SIZE: usize = 1_000_000;

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

impl TrainingConfig {
    /// The gradient clipping `clip_grad_norm` or `clip_grad_value` asks for, if any.
    pub fn clipping(&self) -> Option<GradientClipping> {
        self.clip_grad_norm
            .map(GradientClipping::GlobalNorm)
            .or(self.clip_grad_value.map(GradientClipping::Value))
    }

    /// Checks `[training]` given the optimizer's line search (several devices cannot run
    /// one); on failure the key path and what is allowed.
    pub fn validate(&self, line_search: LineSearch) -> Check {
        let training = self;

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
        if let Err(e) = device::DeviceSpec::parse(&training.device) {
            return Err(("training.device", e.to_string()));
        }
        if !training.devices.is_empty() {
            check_devices(training, line_search)?;
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
        }
        match training.early_stopping_patience {
            Some(patience) if !(1..=MAX_EPOCHS).contains(&patience) => {
                return Err((
                    "training.early_stopping_patience",
                    format!("must be ≥ 1 and ≤ {MAX_EPOCHS} epochs, got {patience}"),
                ));
            }
            Some(_) => non_negative(
                "training.early_stopping_min_delta",
                training.early_stopping_min_delta,
            )?,
            None => {
                for (key, set) in [
                    (
                        "training.early_stopping_min_delta",
                        training.early_stopping_min_delta != 0.0,
                    ),
                    (
                        "training.early_stopping_metric",
                        !training.early_stopping_metric.is_default(),
                    ),
                ] {
                    if set {
                        return Err((
                            key,
                            "has no effect without training.early_stopping_patience".into(),
                        ));
                    }
                }
            }
        }
        if let KeepCheckpoints::Last(n) = training.keep_checkpoints
            && n > MAX_EPOCHS
        {
            return Err((
                "training.keep_checkpoints",
                format!("must be \"all\" or 1 to {MAX_EPOCHS}, got {n}"),
            ));
        }
        Ok(())
    }
}

/// Checks `training.devices`: two or more, each a device name, one backend, the batch split
/// evenly, and nothing that needs the whole batch's gradient on one device.
pub fn check_devices(training: &TrainingConfig, line_search: LineSearch) -> Check {
    let key = "training.devices";
    let devices = &training.devices;
    if devices.len() < 2 {
        return Err((
            key,
            format!(
                "lists the devices of data-parallel training, two or more; got {} (for one device use training.device)",
                devices.len()
            ),
        ));
    }
    let mut backends = Vec::new();
    for name in devices {
        if let Err(e) = device::DeviceSpec::parse(name) {
            return Err((key, e.to_string()));
        }
        let backend = device::backend_name(name);
        backends.push(backend.split(':').next().unwrap_or_default().to_string());
    }
    if backends.iter().any(|b| *b != backends[0]) {
        return Err((
            key,
            format!("must all be one backend, got {}", backends.join(", ")),
        ));
    }
    if !training.batch_size.is_multiple_of(devices.len()) {
        return Err((
            "training.batch_size",
            format!(
                "must be a multiple of the {} training.devices (each takes an equal share of the mini-batch), got {}",
                devices.len(),
                training.batch_size
            ),
        ));
    }
    if line_search != LineSearch::None {
        return Err((
            key,
            "optimizer.line_search runs full-batch gradient descent on one device: remove training.devices".into(),
        ));
    }
    if training.trace_parameters {
        return Err((
            key,
            "training.trace_parameters records one batch loss per step from one device: not available with several devices".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_are_checked() {
        let mut training = TrainingConfig {
            devices: vec!["cpu".into()],
            ..TrainingConfig::default()
        };
        let error = |t: &TrainingConfig| check_devices(t, LineSearch::None).unwrap_err();
        assert!(error(&training).1.contains("two or more"));
        training.devices = vec!["cpu".into(), "tpu".into()];
        assert!(error(&training).1.contains("unknown device `tpu`"));
        training.devices = vec!["cpu".into(), "wgpu".into()];
        assert!(error(&training).1.contains("one backend"));
        training.devices = vec!["cpu".into(), "cpu".into(), "cpu".into()];
        training.batch_size = 10;
        assert_eq!(error(&training).0, "training.batch_size");
        training.batch_size = 12;
        assert!(check_devices(&training, LineSearch::None).is_ok());
        assert!(error_with_line_search(&training).contains("line_search"));
    }

    fn error_with_line_search(training: &TrainingConfig) -> String {
        check_devices(training, LineSearch::Armijo).unwrap_err().1
    }
}
