//! `sgdlab train` and `sgdlab eval` as workloads: a [`LearnerWorkload`] trains one config into
//! the scratch folder, [`time_evaluation`] evaluates the run it leaves.

use std::path::Path;
use std::time::Instant;

use crate::bench::Scratch;
use crate::config::{
    Config, DataConfig, DataSource, Init, ModelConfig, ModelKind, MomentumConfig, MomentumForm,
    OptimizerConfig, SgdConfig, SuboptimalityTracking,
};
use crate::eval::{SplitChoice, evaluate_run};
use crate::run_dir::RunDir;
use crate::train::CheckpointChoice;
use crate::train::{Progress, TrainRequest, train};
use crate::{Error, Result};

/// `sgdlab train` on a config, into a fresh directory of the scratch folder.
pub struct LearnerWorkload {
    config: Config,
    /// Optimizer steps one run takes.
    pub steps: usize,
}

/// One learner run: where it went and how long it took.
pub struct LearnerTiming {
    /// All of `train`: data loading and set-up included.
    pub seconds: f64,
    /// The learner's own time, from its start to the last epoch's metrics row
    /// (`elapsed_seconds` of `metrics.csv`): the figure to set against a bare loop.
    pub learner_seconds: f64,
    pub run_dir: RunDir,
}

impl LearnerWorkload {
    /// The quickstart (breast cancer, m = 10: 398 training examples, 40 steps an epoch) for
    /// `epochs` epochs, plain SGD, without the suboptimality column.
    pub fn logistic(epochs: usize) -> Result<Self> {
        Ok(Self {
            config: logistic_sgd(
                DataConfig::new(DataSource::BreastCancer),
                epochs,
                "bench (logistic)",
            )?,
            steps: epochs * 40,
        })
    }

    /// One epoch of logistic regression, m = 10, plain SGD, on the `examples` rows of a CSV of
    /// 30 features and a label `y` (see [`crate::data::write_synthetic_csv`]), all of them
    /// training data.
    pub fn logistic_csv(csv: &Path, examples: usize) -> Result<Self> {
        let mut data = DataConfig::new(DataSource::Csv);
        data.path = Some(csv.to_path_buf());
        data.label = Some("y".into());
        data.validation_fraction = 0.0;
        data.test_fraction = 0.0;
        Ok(Self {
            config: logistic_sgd(data, 1, "bench (logistic csv)")?,
            steps: examples.div_ceil(10),
        })
    }

    /// One epoch of an MLP 784 → `hidden` → 10, batch 128, SGD + momentum, on the IDX files
    /// in `mnist` (see [`crate::data::write_synthetic_mnist`]) with `examples` training
    /// images; no validation split, so the epoch is all training.
    pub fn mnist_mlp(mnist: &Path, hidden: usize, examples: usize) -> Result<Self> {
        let mut data = DataConfig::new(DataSource::Mnist);
        data.path = Some(mnist.to_path_buf());
        data.standardize = false;
        data.validation_fraction = 0.0;
        let mut model = ModelConfig::new(ModelKind::Mlp);
        model.hidden = vec![hidden];
        let mut momentum = MomentumConfig::new(0.01);
        momentum.form = MomentumForm::Pytorch;
        let mut config = Config::new(data, model, OptimizerConfig::Momentum(momentum));
        config.training.epochs = 1;
        config.training.batch_size = 128;
        Ok(Self {
            config: config.validated("bench (mnist mlp)")?,
            steps: examples.div_ceil(128),
        })
    }

    /// Trains once into a new directory under `scratch`; the seconds are those `train` took,
    /// from loading the data to the last checkpoint.
    pub fn run(&self, scratch: &Scratch) -> Result<LearnerTiming> {
        let run_dir = scratch.fresh("run");
        let start = Instant::now();
        let result = train(TrainRequest {
            config: self.config.clone(),
            name: "bench".into(),
            run_dir: Some(run_dir),
            resume: false,
            artifacts: scratch.path().to_path_buf(),
            progress: Progress::Quiet,
        })?;
        let seconds = start.elapsed().as_secs_f64();
        let learner_seconds = result
            .last
            .get("elapsed_seconds")
            .copied()
            .ok_or_else(|| Error::new("the run's metrics.csv has no elapsed_seconds"))?;
        Ok(LearnerTiming {
            seconds,
            learner_seconds,
            run_dir: result.run_dir,
        })
    }
}

/// The learner rows' logistic regression: from zeros, plain SGD at α = 0.1 with m = 10, seed
/// 42 on the CPU, without the suboptimality column (its f* solve and per-epoch full-data loss
/// are not the step being measured), for `epochs` epochs on `data`; `source` names the config
/// in its errors.
fn logistic_sgd(data: DataConfig, epochs: usize, source: &str) -> Result<Config> {
    let mut model = ModelConfig::new(ModelKind::Logistic);
    model.init = Init::Zeros;
    let mut config = Config::new(data, model, OptimizerConfig::Sgd(SgdConfig::new(0.1)));
    config.training.epochs = epochs;
    config.training.batch_size = 10;
    config.training.suboptimality = SuboptimalityTracking::Off;
    config.validated(source)
}

/// Seconds `sgdlab eval` takes on the run's last checkpoint and test split.
pub fn time_evaluation(run: &RunDir) -> Result<f64> {
    let start = Instant::now();
    evaluate_run(run, CheckpointChoice::Last, Some(SplitChoice::Test), None)?;
    Ok(start.elapsed().as_secs_f64())
}
