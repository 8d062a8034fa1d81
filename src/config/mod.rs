//! The training config: TOML with sections `[data]`, `[model]`, `[optimizer]`, `[schedule]`,
//! `[training]`, one file each here. Unknown keys are errors; every value is validated; every
//! error names the file and the key path.
//!
//! Loading is one pipeline for files and `--set` overrides alike: TOML text → table → overrides
//! applied on the table ([`overrides`]) → typed [`Config`] (serde, with the failing key path:
//! [`parse`]) → [`Config::validate`]. Code that builds a config (experiments, benches, tests)
//! uses the typed constructors ([`Config::new`], [`DataConfig::new`], [`ModelConfig::new`],
//! each optimizer's and schedule's `new`) and the same [`Config::validate`].
//!
//! Sizes have upper bounds ([`MAX_EPOCHS`], [`MAX_BATCH_SIZE`], [`MAX_HIDDEN_WIDTH`],
//! [`MAX_HIDDEN_LAYERS`], [`MAX_LECTURE_1D_N`], [`MAX_CLASSES`]) far above what the lecture's
//! problems need, so that a typo (an extra zero, `1e9`) is a range error naming the key
//! instead of an allocation that exhausts memory or a run that never ends.

mod data;
mod model;
mod optimizer;
pub mod overrides;
mod parse;
mod schedule;
mod training;

pub use data::*;
pub use model::*;
pub use optimizer::*;
pub use overrides::{apply_override, first_difference};
pub use schedule::*;
pub use training::*;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

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

/// A check's outcome: on failure, the key path at fault and what is allowed there.
pub type Check = std::result::Result<(), (&'static str, String)>;

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

impl Config {
    /// A config of these three sections, with the constant schedule and `[training]` at its
    /// defaults; not yet validated (set what differs, then [`Config::validated`]).
    pub fn new(data: DataConfig, model: ModelConfig, optimizer: OptimizerConfig) -> Self {
        Config {
            data,
            model,
            optimizer,
            schedule: ScheduleConfig::default(),
            training: TrainingConfig::default(),
        }
    }

    /// The config with its dependent defaults filled in and [`Config::validate`]d, as loading
    /// a file gives it; errors are named after `origin`.
    pub fn validated(mut self, origin: &str) -> Result<Config> {
        self.resolve();
        self.validate()
            .map_err(|(key, what)| Error::new(format!("{origin}: {key}: {what}")))?;
        Ok(self)
    }

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
            .map_err(|e: toml::de::Error| parse::syntax_error(origin, text, &e))?;
        for assignment in overrides {
            apply_override(&mut table, assignment)?;
        }
        let config: Config = serde_path_to_error::deserialize(toml::Value::Table(table.clone()))
            .map_err(|e| {
                let path = e.path().to_string();
                if let Some(inner) = parse::tagged_section_error(&table, &path) {
                    return Error::new(format!("{origin}: {inner}"));
                }
                let path = if path == "." { "(top level)" } else { &path };
                Error::new(format!("{origin}: {path}: {}", e.inner()))
            })?;
        config.validated(origin)
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

    /// Checks every value, section by section and then what one section asks of another; on
    /// failure returns the key path and what is allowed.
    pub fn validate(&self) -> Check {
        self.data.validate()?;
        self.model.validate()?;
        let (data, model) = (&self.data, &self.model);
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
        self.training.validate(self.line_search())?;
        let training = &self.training;
        if training.target_suboptimality.is_some() {
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
