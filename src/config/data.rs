//! `[data]`: where the examples come from and how they are split and scaled.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::checks::{Check, check_names};

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

/// `data.n` (lecture_1d) ≤ this.
pub const MAX_LECTURE_1D_N: usize = 10_000_000;
/// `data.classes` lists at most this many names; integer CSV labels are below it.
pub const MAX_CLASSES: usize = 1_000;

fn default_true() -> bool {
    true
}
fn default_fraction() -> f64 {
    0.15
}

impl DataConfig {
    /// `[data]` reading `source` with every other key at its default (no path, label or
    /// columns: an embedded set or the lecture's 1-D problem; set the fields for the others).
    pub fn new(source: DataSource) -> Self {
        Self {
            source,
            path: None,
            label: None,
            features: None,
            classes: None,
            n: None,
            a_star: None,
            b_star: None,
            limit: None,
            standardize: default_true(),
            validation_fraction: default_fraction(),
            test_fraction: default_fraction(),
        }
    }

    /// Checks `[data]` alone; on failure the key path and what is allowed.
    pub fn validate(&self) -> Check {
        let data = self;

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

        Ok(())
    }
}

impl DataConfig {
    /// The label column of a labelled CSV for this run: `label` of a csv source, `target` for
    /// the embedded sets (as in `data/*.csv`), `y` for lecture_1d, `label` for MNIST.
    pub fn label_column(&self) -> &str {
        match self.source {
            DataSource::Csv => self.label.as_deref().unwrap_or("label"),
            DataSource::BreastCancer | DataSource::Digits | DataSource::Diabetes => "target",
            DataSource::Lecture1d => "y",
            DataSource::Mnist => "label",
        }
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
