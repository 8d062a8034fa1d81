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
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SgdConfig {
    /// α, the learning rate (α^(0) when a schedule changes it).
    pub learning_rate: f64,
}

impl OptimizerConfig {
    /// α^(0): the learning rate the schedule starts from.
    pub fn learning_rate(&self) -> f64 {
        match self {
            OptimizerConfig::Sgd(sgd) => sgd.learning_rate,
        }
    }
}

/// The learning-rate schedule, selected by `name`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum ScheduleConfig {
    /// α^(t) = α^(0).
    #[default]
    Constant,
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
}

impl Default for TrainingConfig {
    fn default() -> Self {
        Self {
            epochs: default_epochs(),
            batch_size: default_batch_size(),
            seed: default_seed(),
            device: default_device(),
        }
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
        let mut config: Config = serde_path_to_error::deserialize(toml::Value::Table(table))
            .map_err(|e| {
                let path = e.path().to_string();
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
                for (key, value) in [("data.a_star", data.a_star), ("data.b_star", data.b_star)] {
                    if value.is_some_and(|v| !v.is_finite()) {
                        return Err((key, "must be a finite number".into()));
                    }
                }
            }
            DataSource::BreastCancer | DataSource::Digits => {}
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
        if model.kind == ModelKind::Logistic && data.source == DataSource::Digits {
            return Err((
                "model.kind",
                "\"logistic\" is binary; digits has 10 classes (use softmax or mlp)".into(),
            ));
        }

        let learning_rate = self.optimizer.learning_rate();
        if !(learning_rate.is_finite() && learning_rate > 0.0) {
            return Err((
                "optimizer.learning_rate",
                format!("must be a positive finite number, got {learning_rate}"),
            ));
        }

        let training = &self.training;
        if training.epochs == 0 {
            return Err(("training.epochs", "must be ≥ 1".into()));
        }
        if training.batch_size == 0 {
            return Err(("training.batch_size", "must be ≥ 1".into()));
        }
        if let Err(e) = crate::device::DeviceSpec::parse(&training.device) {
            return Err(("training.device", e.to_string()));
        }
        Ok(())
    }

    /// Whether the data source is known to be a classification set before loading it.
    fn is_classification_source(&self) -> bool {
        match self.data.source {
            DataSource::BreastCancer
            | DataSource::Digits
            | DataSource::Lecture1d
            | DataSource::Mnist => true,
            DataSource::Csv => false,
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
            DataSource::Lecture1d => "lecture_1d",
            DataSource::Csv => "csv",
            DataSource::Mnist => "mnist",
        }
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
