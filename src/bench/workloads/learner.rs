//! `sgdlab train` and `sgdlab eval` as workloads: a [`LearnerWorkload`] trains one config into
//! the scratch folder, [`time_evaluation`] evaluates the run it leaves.

use std::path::Path;
use std::time::Instant;

use crate::bench::Scratch;
use crate::config::Config;
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
        let data = r#"
source = "breast_cancer"
standardize = true
validation_fraction = 0.15
test_fraction = 0.15
"#;
        Ok(Self {
            config: logistic_sgd(data, epochs, "bench (logistic)")?,
            steps: epochs * 40,
        })
    }

    /// One epoch of logistic regression, m = 10, plain SGD, on the `examples` rows of a CSV of
    /// 30 features and a label `y` (see [`crate::data::write_synthetic_csv`]), all of them
    /// training data.
    pub fn logistic_csv(csv: &Path, examples: usize) -> Result<Self> {
        let data = format!(
            r#"
source = "csv"
path = {path:?}
label = "y"
standardize = true
validation_fraction = 0.0
test_fraction = 0.0
"#,
            path = csv.display().to_string()
        );
        Ok(Self {
            config: logistic_sgd(&data, 1, "bench (logistic csv)")?,
            steps: examples.div_ceil(10),
        })
    }

    /// One epoch of an MLP 784 → `hidden` → 10, batch 128, SGD + momentum, on the IDX files
    /// in `mnist` (see [`crate::data::write_synthetic_mnist`]) with `examples` training
    /// images; no validation split, so the epoch is all training.
    pub fn mnist_mlp(mnist: &Path, hidden: usize, examples: usize) -> Result<Self> {
        let config = Config::from_toml(
            &format!(
                r#"
[data]
source = "mnist"
path = {path:?}
standardize = false
validation_fraction = 0.0
[model]
kind = "mlp"
hidden = [{hidden}]
activation = "relu"
[optimizer]
name = "momentum"
learning_rate = 0.01
momentum = 0.9
form = "pytorch"
[training]
epochs = 1
batch_size = 128
seed = 42
device = "cpu"
"#,
                path = mnist.display().to_string()
            ),
            "bench (mnist mlp)",
            &[],
        )?;
        Ok(Self {
            config,
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
/// are not the step being measured), for `epochs` epochs on the data of `data`, the body of
/// the `[data]` table; `source` names the config in its errors.
fn logistic_sgd(data: &str, epochs: usize, source: &str) -> Result<Config> {
    Config::from_toml(
        &format!(
            r#"
[data]
{data}
[model]
kind = "logistic"
init = "zeros"
[optimizer]
name = "sgd"
learning_rate = 0.1
[training]
epochs = {epochs}
batch_size = 10
seed = 42
device = "cpu"
suboptimality = "off"
"#
        ),
        source,
        &[],
    )
}

/// Seconds `sgdlab eval` takes on the run's last checkpoint and test split.
pub fn time_evaluation(run: &RunDir) -> Result<f64> {
    let start = Instant::now();
    evaluate_run(run, CheckpointChoice::Last, Some(SplitChoice::Test), None)?;
    Ok(start.elapsed().as_secs_f64())
}
