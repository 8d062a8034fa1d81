//! Config → data: loads the configured source, splits it with the run's seed, and fits the
//! standardization on the training split only.

use crate::Result;
use crate::config::{Config, DataConfig, DataSource};
use crate::data::{self, Dataset, Splits, Standardizer, Task};

/// The examples a run sees, already split and (optionally) standardized.
pub struct Prepared {
    pub splits: Splits,
    /// The transform fitted on the training split, `None` when `standardize = false`.
    pub standardizer: Option<Standardizer>,
}

/// The data a run of `config` sees: [`prepare`] with the config's `[data]`, its task and its
/// `training.seed`.
pub fn prepare_run(config: &Config, standardizer: Option<&Standardizer>) -> Result<Prepared> {
    prepare(
        &config.data,
        config.is_regression(),
        config.training.seed,
        standardizer,
    )
}

/// Loads and splits the data of `config`; `seed` drives the split (and the 1-D generator).
/// With `standardizer` given (a stored run's), that transform is applied instead of fitting one.
pub fn prepare(
    config: &DataConfig,
    regression: bool,
    seed: u64,
    standardizer: Option<&Standardizer>,
) -> Result<Prepared> {
    let mut splits = load_splits(config, regression, seed)?;
    let standardizer = match (config.standardize, standardizer) {
        (false, _) => None,
        (true, Some(stored)) => {
            stored
                .validate(splits.train.dim)
                .map_err(|e| crate::Error::new(format!("the run's standardizer.json: {e}")))?;
            Some(stored.clone())
        }
        (true, None) => Some(Standardizer::fit(&splits.train)),
    };
    if let Some(transform) = &standardizer {
        for part in [
            Some(&mut splits.train),
            splits.valid.as_mut(),
            splits.test.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            transform.apply(part);
        }
    }
    Ok(Prepared {
        splits,
        standardizer,
    })
}

fn load_splits(config: &DataConfig, regression: bool, seed: u64) -> Result<Splits> {
    let split =
        |all: &Dataset| data::split(all, config.validation_fraction, config.test_fraction, seed);
    match config.source {
        DataSource::BreastCancer => split(&data::breast_cancer()),
        DataSource::Digits => split(&data::digits()),
        DataSource::Diabetes => split(&data::diabetes()),
        DataSource::Lecture1d => split(&data::lecture_1d(
            config.n.unwrap_or(crate::config::LECTURE_1D_DEFAULT_N),
            config
                .a_star
                .unwrap_or(crate::config::LECTURE_1D_DEFAULT_A_STAR),
            config
                .b_star
                .unwrap_or(crate::config::LECTURE_1D_DEFAULT_B_STAR),
            seed,
        )),
        DataSource::Csv => {
            let path = config.path.as_deref().expect("validated: csv has a path");
            let label = config.label.as_deref().expect("validated: csv has a label");
            let task = if regression {
                Task::Regression
            } else {
                Task::Classification
            };
            let all = data::load_csv(
                path,
                label,
                config.features.as_deref(),
                task,
                config.classes.as_deref(),
            )?;
            split(&all)
        }
        DataSource::Mnist => {
            let path = config.path.as_deref().expect("validated: mnist has a path");
            let mnist = data::load_mnist(path, config.limit)?;
            // MNIST ships its own test set: the t10k files are the test split, and only the
            // validation fraction is carved out of the training files.
            let mut splits = data::split(&mnist.train, config.validation_fraction, 0.0, seed)?;
            splits.test = mnist.test;
            Ok(splits)
        }
    }
}
