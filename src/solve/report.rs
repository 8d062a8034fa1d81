//! `sgdlab solve`: a config's exact optimum on its training split, as text and `optimum.json`.

use std::fmt;
use std::path::{Path, PathBuf};

use super::{Objective, Optimum, solve};
use crate::config::Config;
use crate::data::Dataset;
use crate::prepare::prepare_run;
use crate::{Error, Result};

/// How many parameters the text report lists before abbreviating.
const SHOWN_PARAMETERS: usize = 20;

/// f* for one config: the optimum and what it is the optimum of.
#[derive(Debug, Clone)]
pub struct OptimumReport {
    pub objective: Objective,
    pub optimum: Optimum,
    /// One per parameter, in the flat order (`w[feature]`, `b`, `W[feature,c]`, `b[c]`).
    pub parameter_names: Vec<String>,
    /// n, the training examples ℓ averages over.
    pub train_examples: usize,
    /// d, the features per example.
    pub features: usize,
}

/// Loads `config`'s data exactly as training does (same seeded split, standardization fitted
/// on the training split) and solves its objective on the training split.
pub fn solve_config(config: &Config) -> Result<OptimumReport> {
    let objective = Objective::for_config(config)?;
    let prepared = prepare_run(config, None)?;
    let train = &prepared.splits.train;
    let objective = objective.with_classes_of(train);
    let optimum = solve(&objective, train)?;
    Ok(OptimumReport {
        objective,
        parameter_names: objective.parameter_names(train),
        optimum,
        train_examples: train.len(),
        features: train.dim,
    })
}

/// `<artifacts>/<config name>-optimum.json`, where `sgdlab solve` writes by default.
pub fn default_optimum_path(artifacts: &Path, config_name: &str) -> PathBuf {
    artifacts.join(format!("{config_name}-optimum.json"))
}

/// Writes `optimum` of `objective` on `data` (the training split) as JSON to `path`, creating
/// its folder. An existing file is refused unless `overwrite`.
pub fn write_optimum_json(
    path: &Path,
    optimum: &Optimum,
    objective: &Objective,
    data: &Dataset,
    overwrite: bool,
) -> Result<()> {
    let text = optimum_json(
        optimum,
        objective,
        &objective.parameter_names(data),
        data.len(),
        data.dim,
    );
    write_new_file(path, &text, overwrite)
}

impl OptimumReport {
    /// This report as `optimum.json` at `path`; an existing file is refused unless `overwrite`.
    pub fn write_json(&self, path: &Path, overwrite: bool) -> Result<()> {
        let text = optimum_json(
            &self.optimum,
            &self.objective,
            &self.parameter_names,
            self.train_examples,
            self.features,
        );
        write_new_file(path, &text, overwrite)
    }
}

impl OptimumReport {
    /// The JSON document `optimum.json` holds.
    pub fn json(&self) -> serde_json::Value {
        optimum_value(
            &self.optimum,
            &self.objective,
            &self.parameter_names,
            self.train_examples,
            self.features,
        )
    }
}

fn optimum_json(
    optimum: &Optimum,
    objective: &Objective,
    parameter_names: &[String],
    train_examples: usize,
    features: usize,
) -> String {
    let json = optimum_value(
        optimum,
        objective,
        parameter_names,
        train_examples,
        features,
    );
    let mut text = serde_json::to_string_pretty(&json).expect("JSON values always serialize");
    text.push('\n');
    text
}

fn optimum_value(
    optimum: &Optimum,
    objective: &Objective,
    parameter_names: &[String],
    train_examples: usize,
    features: usize,
) -> serde_json::Value {
    serde_json::json!({
        "objective": "(1/n) Σ ℓ̂(x_i, y_i) + (μ/2) ‖Θ‖² on the training split",
        "model": objective.describe(),
        "l2": objective.l2,
        "train_examples": train_examples,
        "features": features,
        "loss": optimum.loss,
        "gradient_norm": optimum.gradient_norm,
        "iterations": optimum.iterations,
        "seconds": optimum.seconds,
        "method": optimum.method,
        "parameter_names": parameter_names,
        "parameters": optimum.parameters,
    })
}

/// Writes `text` to `path`, creating its folder; refuses an existing file unless `overwrite`.
fn write_new_file(path: &Path, text: &str, overwrite: bool) -> Result<()> {
    if let Some(folder) = path.parent().filter(|f| !f.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder).map_err(|e| Error::io("create", folder, e))?;
    }
    crate::files::write_new_file(path, text, overwrite)
}

impl fmt::Display for OptimumReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let optimum = &self.optimum;
        writeln!(
            f,
            "exact optimum f* of {}, on the training split ({} examples, {} feature{})",
            self.objective.describe(),
            self.train_examples,
            self.features,
            if self.features == 1 { "" } else { "s" }
        )?;
        writeln!(f, "method      {}", optimum.method)?;
        writeln!(f, "iterations  {}", optimum.iterations)?;
        writeln!(f, "time        {:.6} s", optimum.seconds)?;
        writeln!(f, "ℓ(f*)       {}", optimum.loss)?;
        writeln!(f, "‖∇ℓ(f*)‖    {:.3e}", optimum.gradient_norm)?;
        let count = optimum.parameters.len();
        let shown: Vec<usize> = if count <= SHOWN_PARAMETERS {
            (0..count).collect()
        } else {
            // The first ones and the last (the bias) tell most; the JSON has them all.
            (0..SHOWN_PARAMETERS - 2).chain(count - 2..count).collect()
        };
        if count > SHOWN_PARAMETERS {
            writeln!(
                f,
                "Θ*          {count} parameters, {} shown (all in the JSON)",
                shown.len()
            )?;
        } else {
            writeln!(f, "Θ*          {count} parameters")?;
        }
        let width = shown
            .iter()
            .map(|&p| self.parameter_names[p].chars().count())
            .max()
            .unwrap_or(0);
        for (position, &p) in shown.iter().enumerate() {
            if position > 0 && p != shown[position - 1] + 1 {
                writeln!(f, "  ...")?;
            }
            writeln!(
                f,
                "  {:<width$}  {}",
                self.parameter_names[p],
                number(optimum.parameters[p])
            )?;
        }
        Ok(())
    }
}

/// A parameter for the table: fixed-point when that shows ten significant digits or so,
/// scientific otherwise.
fn number(value: f64) -> String {
    if value == 0.0 || (1e-4..1e6).contains(&value.abs()) {
        format!("{value:+.10}")
    } else {
        format!("{value:+.6e}")
    }
}
