//! Training through burn-train's learner: config → data → model → optimizer/schedule →
//! `SupervisedTraining` (epochs, seeded shuffling, metrics, a checkpoint every epoch) → run dir.

mod dry_run;
mod metrics;
mod renderer;
mod step;
pub mod trace;

pub use dry_run::{DryRunSummary, dry_run};
pub use metrics::{COLUMNS, EpochRow, STEP_COLUMNS, read_csv};
pub use step::{StepOutput, Trainee};

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use burn::data::dataloader::DataLoaderBuilder;
use burn::data::dataset::InMemDataset;
use burn::lr_scheduler::module_lr_scheduler::ModuleLrScheduler;
use burn::train::logger::FileMetricLogger;
use burn::train::metric::{AccuracyMetric, LearningRateMetric, LossMetric};
use burn::train::{Learner, SupervisedTraining};

use crate::batch::{EpochShuffledIndices, IndexBatcher};
use crate::config::{Config, first_difference};
use crate::data::Dataset;
use crate::model::{Model, Problem};
use crate::optim::schedule::steps_per_epoch;
use crate::optim::{build_clipping, build_optimizer, build_schedule};
use crate::prepare::prepare;
use crate::run_dir::{RunDir, fresh_run_path};
use crate::{Error, Result, bail, device};

/// Batch size for the validation pass: the metric is the mean over examples whatever the
/// batching, so a large batch is simply faster.
const VALIDATION_BATCH_SIZE: usize = 1024;

/// What `sgdlab train` asks for.
#[derive(Debug, Clone)]
pub struct TrainRequest {
    pub config: Config,
    /// Names the default run dir (`artifacts/<name>-<timestamp>`), usually the config's stem.
    pub name: String,
    pub run_dir: Option<PathBuf>,
    pub resume: bool,
    /// Where default run dirs go.
    pub artifacts: PathBuf,
    /// Print a line per epoch (when not using the terminal dashboard).
    pub progress: Progress,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// burn-train's dashboard on a terminal, plain lines otherwise.
    Auto,
    /// Plain lines, one per epoch.
    Lines,
    /// Nothing (library use, tests).
    Quiet,
}

/// What a finished training left behind.
#[derive(Debug, Clone)]
pub struct TrainResult {
    pub run_dir: RunDir,
    pub epochs: usize,
    /// The last epoch's metrics row.
    pub last: EpochRow,
}

/// Trains as `request` says and returns where the run went.
pub fn train(request: TrainRequest) -> Result<TrainResult> {
    let (run, config, resume_from) = open_run_dir(&request)?;
    let device = device::resolve(&config.training.device)?;
    let seed = config.training.seed;

    let stored_standardizer = match resume_from {
        Some(_) => run.load_standardizer()?,
        None => None,
    };
    let prepared = prepare(
        &config.data,
        config.is_regression(),
        seed,
        stored_standardizer.as_ref(),
    )?;
    let splits = prepared.splits;
    let problem = Problem {
        dim: splits.train.dim,
        classes: splits.train.classes(),
    };
    let model = Model::new(&config.model, problem, seed, &device.clone().autodiff())?;
    if let Some(epoch) = resume_from {
        // burn-train panics on a checkpoint it cannot load: refuse it first, writing nothing.
        dry_run::check_resume_checkpoint(&run, epoch, &model)?;
    }

    if config.training.trace_parameters {
        // Before the run dir exists: a refused config leaves nothing behind.
        trace::check_size(&model)?;
    }
    if resume_from.is_none() {
        std::fs::create_dir_all(&run.path).map_err(|e| Error::io("create", &run.path, e))?;
        if let Some(standardizer) = &prepared.standardizer {
            run.save_standardizer(standardizer)?;
        }
    }
    let config_path = run.config_path();
    std::fs::write(&config_path, config.to_toml())
        .map_err(|e| Error::io("write", &config_path, e))?;

    let train_loader = DataLoaderBuilder::new(IndexBatcher::new(Arc::new(splits.train.clone())))
        .batch_size(config.training.batch_size)
        .build(EpochShuffledIndices::new(
            splits.train.len(),
            seed,
            resume_from.unwrap_or(0),
        ));
    let valid = splits
        .valid
        .clone()
        .unwrap_or_else(|| empty_like(&splits.train));
    let valid_loader = DataLoaderBuilder::new(IndexBatcher::new(Arc::new(valid.clone())))
        .batch_size(VALIDATION_BATCH_SIZE)
        .build(InMemDataset::new((0..valid.len()).collect()));

    let dashboard = request.progress == Progress::Auto && std::io::stdout().is_terminal();
    let print_lines =
        request.progress == Progress::Lines || (request.progress == Progress::Auto && !dashboard);
    let epoch_log = metrics::EpochLog::new(
        run.metrics_path(),
        run.steps_path(),
        resume_from,
        splits.valid.is_some(),
        print_lines,
        config.training.epochs,
    )?;
    let epoch_log_steps = epoch_log.steps_taken();

    let mut training = SupervisedTraining::new(&run.path, train_loader, valid_loader)
        .metrics((LossMetric::new(),))
        .metric_train_numeric(LearningRateMetric::new())
        .with_metric_logger(FileMetricLogger::new(&run.path))
        .with_metric_logger(epoch_log)
        .with_default_checkpointers()
        .with_checkpointing_strategy(renderer::KeepEveryEpoch)
        .num_epochs(config.training.epochs);
    if problem.classes.is_some() {
        training = training.metrics((AccuracyMetric::new(),));
    }
    if !dashboard {
        training = training.renderer(Box::new(renderer::Silent));
    }
    if let Some(epoch) = resume_from {
        training = training.checkpoint(epoch);
    }

    let optimizer = build_optimizer(&config.optimizer);
    let steps_per_epoch = steps_per_epoch(splits.train.len(), config.training.batch_size);
    if request.progress != Progress::Quiet {
        for warning in config.warnings(Some(steps_per_epoch)) {
            eprintln!("warning: {warning}");
        }
    }
    let schedule = ModuleLrScheduler::new(build_schedule(
        &config.schedule,
        &config.optimizer,
        steps_per_epoch,
    ));
    let trace = if config.training.trace_parameters {
        let steps_done = resume_from.map(|_| epoch_log_steps);
        Some(trace::ParameterTrace::start(
            &run.parameters_path(),
            &model,
            steps_done,
        )?)
    } else {
        None
    };
    let trainee = Trainee {
        model,
        clipping: build_clipping(&config.training),
        trace,
    };
    let result = training.launch(Learner::new(trainee, optimizer, schedule));
    if let Some(error) = result.error {
        bail!("training stopped by an error: {error}");
    }

    let rows = read_csv(&run.metrics_path())?;
    let (&epochs, last) = rows
        .iter()
        .next_back()
        .ok_or_else(|| Error::new("training finished without recording an epoch"))?;
    Ok(TrainResult {
        run_dir: run,
        epochs,
        last: last.clone(),
    })
}

/// Picks the run dir and the config to train with; for `--resume`, also the epoch to resume
/// after.
fn open_run_dir(request: &TrainRequest) -> Result<(RunDir, Config, Option<usize>)> {
    if !request.resume {
        let path = match &request.run_dir {
            Some(path) if path.exists() => bail!(
                "run dir {} already exists: pass --resume to continue it, or choose another --run-dir",
                path.display()
            ),
            Some(path) => path.clone(),
            None => fresh_run_path(&request.artifacts, &request.name)?,
        };
        return Ok((RunDir::new(path), request.config.clone(), None));
    }

    let Some(path) = &request.run_dir else {
        bail!("--resume needs --run-dir DIR, the run to continue");
    };
    let run = RunDir::new(path.clone());
    let saved = run.load_config()?;
    // The run's own config is authoritative; only the epoch count (to extend a run) and the
    // device (to move it) may change.
    let mut wanted = request.config.clone();
    wanted.training.epochs = saved.training.epochs;
    wanted.training.device = saved.training.device.clone();
    if let Some(key) = first_difference(&saved, &wanted) {
        bail!(
            "--resume: the config differs from the run's config.toml at `{key}`; only training.epochs and training.device may change"
        );
    }
    let mut config = saved;
    config.training.epochs = request.config.training.epochs;
    config.training.device = request.config.training.device.clone();

    let Some(last) = run.last_complete_checkpoint() else {
        bail!(
            "--resume: {} has no complete checkpoint to resume from",
            run.path.display()
        );
    };
    if last >= config.training.epochs {
        bail!(
            "--resume: {} already trained {last} of {} epochs; raise training.epochs (e.g. --set training.epochs={}) to continue",
            run.path.display(),
            config.training.epochs,
            last + 10
        );
    }
    Ok((run, config, Some(last)))
}

fn empty_like(data: &Dataset) -> Dataset {
    data.subset(&[])
}
