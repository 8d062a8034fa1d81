//! Training through burn-train's learner: config → data → model → optimizer/schedule →
//! `SupervisedTraining` (epochs, seeded shuffling, metrics, a checkpoint every epoch, early
//! stopping, checkpoint retention) → run dir.

mod batch_log;
pub mod checkpoint;
pub mod data_parallel;
mod dry_run;
pub mod early_stopping;
mod full_batch;
pub mod line_search;
mod metrics;
pub mod monitor;
mod remote;
mod renderer;
mod retention;
mod step;
pub mod suboptimality;
pub mod trace;
mod train_log;

pub use checkpoint::{CheckpointChoice, load_model};
pub use dry_run::{DryRunSummary, dry_run};
pub use metrics::StepRow;
pub use step::{StepOutput, Trainee};

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use burn::data::dataloader::DataLoaderBuilder;
use burn::data::dataset::InMemDataset;
use burn::lr_scheduler::module_lr_scheduler::ModuleLrScheduler;
use burn::train::metric::{AccuracyMetric, LearningRateMetric, LossMetric};
use burn::train::{ExecutionStrategy, Learner, MultiDeviceOptim, SupervisedTraining};

use burn::tensor::Device;
use burn::train::Interrupter;
use serde::Serialize;

use crate::batch::{EpochShuffledIndices, IndexBatcher};
use crate::config::{
    AUTO_SUBOPTIMALITY_MAX_PARAMETERS, AUTO_SUBOPTIMALITY_MAX_PASSES, Config, KeepCheckpoints,
    LineSearch, SuboptimalityTracking, first_difference,
};
use crate::data::{Dataset, Splits, Standardizer};
use crate::files::{remove_stale_temporaries, write_atomically};
use crate::model::{Model, Problem};
use crate::prepare::prepare;
use crate::run_dir::{
    EpochRow, ModelInputs, RunDir, RunInfo, RunLock, Session, fresh_run_path, read_metrics_csv,
};
use crate::solve::{Objective, Optimum, solve, solve_within, write_optimum_json};
use crate::train::checkpoint::CHECKPOINT_PARTS;
use crate::train::data_parallel::{
    DataParallelLayout, DeviceMajorOrder, GradientShare, training_steps_per_epoch,
};
use crate::train::early_stopping::{EARLY_STOPPED, EarlyStop, EarlyStopping};
use crate::train::monitor::{RunMonitor, StopRules};
use crate::train::retention::{KeepRecent, Retention};
use crate::train::suboptimality::SuboptimalityTracker;
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
    /// Plain lines on standard error, standard output left to a JSON document (`--json`).
    LinesOnStderr,
    /// Nothing (library use, tests).
    Quiet,
}

/// What a finished training left behind (`train --json` prints it).
#[derive(Debug, Clone, Serialize)]
pub struct TrainResult {
    pub run_dir: RunDir,
    pub epochs: usize,
    /// The last epoch's metrics row.
    pub last: EpochRow,
    /// ℓ(f*), when the run measured its suboptimality.
    pub optimum_loss: Option<f64>,
    /// When `target_suboptimality` was set: what reaching it took.
    pub target: Option<TargetReport>,
    /// Where early stopping ended the run, if it did.
    pub early_stop: Option<EarlyStop>,
}

/// The cost of reaching ρ, lecture §6's columns: iterations and gradient evaluations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetReport {
    /// ρ.
    pub target: f64,
    pub reached: bool,
    /// Epochs trained (the epoch at which ρ was reached, if it was).
    pub epochs: usize,
    /// Optimizer steps (iterations), the lecture's "iterations to reach ρ".
    pub steps: usize,
    /// Per-example gradients ∇ℓ̂ computed: m per mini-batch step, n per full-batch step.
    pub gradient_evaluations: u64,
    pub seconds: f64,
}

/// Everything training prepares before it writes anything: where it goes, what it trains on,
/// and the model. [`train`] and [`dry_run`] both start here, so a dry run fails exactly where
/// training would.
struct Setup {
    run: RunDir,
    /// `--resume` in [`train`]: the run dir's lock, taken before anything of it is read.
    lock: Option<RunLock>,
    config: Config,
    /// `--resume`: the epoch to continue after.
    resume_from: Option<usize>,
    /// `run.json` as found (a fresh record for a fresh run), read before anything is written.
    run_info: RunInfo,
    /// The plain (non-autodiff) device.
    device: Device,
    /// `training.devices` resolved, the first being `device`: the learner's data-parallel
    /// devices (empty for one device).
    devices: Vec<Device>,
    splits: Splits,
    /// The standardization to store with a fresh run.
    standardizer: Option<Standardizer>,
    problem: Problem,
    /// On the autodiff device: freshly initialized, or on a line-search resume the checkpoint's.
    model: Model,
}

/// Opens the run dir, loads and splits the data, builds the model, and checks what can only be
/// checked against them (full batch for a line search, the trace's size, the checkpoint a
/// resume continues). A `writer` (training, not a dry run) resuming a run takes its lock
/// first and clears what a killed writer left; otherwise nothing is written.
fn set_up(request: &TrainRequest, writer: bool) -> Result<Setup> {
    let (run, lock, config, resume_from) = open_run_dir(request, writer)?;
    // With several devices the model starts, and is validated and checkpointed, on the first.
    let device = device::resolve(main_device_name(&config))?;
    // The others too, before anything is written: a remote device connects here, so an
    // unreachable server or a refused token leaves no run dir behind. The learner gets these.
    let devices = match config.training.devices.split_first() {
        Some((_, others)) => std::iter::once(Ok(device.clone()))
            .chain(others.iter().map(|name| device::resolve(name)))
            .collect::<Result<Vec<_>>>()?,
        None => Vec::new(),
    };
    let seed = config.training.seed;
    let run_info = run.load_run_info(seed)?;

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
    let autodiff = device.clone().autodiff();
    let mut model = Model::new(&config.model, problem, seed, &autodiff)?;
    if let Some(epoch) = resume_from {
        // burn-train panics on a checkpoint it cannot load: refuse it first, writing nothing.
        let stored = checkpoint::check_resume_checkpoint(&run, epoch, &config, problem, &autodiff)?;
        // The learner loads its own checkpoint; the line-search loop starts from this one.
        if config.line_search() != LineSearch::None {
            model = stored;
        }
    }
    let n = splits.train.len();
    if config.line_search() != LineSearch::None && config.training.batch_size < n {
        bail!(
            "optimizer.line_search needs full-batch gradient descent: training.batch_size = {} is below the {n} training examples (set it to {n} or more)",
            config.training.batch_size
        );
    }
    if config.training.trace_parameters {
        trace::check_size(&model)?;
    }
    Ok(Setup {
        run,
        lock,
        config,
        resume_from,
        run_info,
        device,
        devices,
        splits,
        standardizer: prepared.standardizer,
        problem,
        model,
    })
}

/// Trains as `request` says and returns where the run went.
pub fn train(request: TrainRequest) -> Result<TrainResult> {
    let Setup {
        run,
        lock,
        config,
        resume_from,
        mut run_info,
        device,
        devices,
        splits,
        standardizer,
        problem: _,
        model,
    } = set_up(&request, true)?;
    let n = splits.train.len();
    let line_search = config.line_search() != LineSearch::None;
    // Shared, not copied: the loaders, the suboptimality tracker and the line search all read
    // this one training set (a copy of MNIST's is 188 MB, and tens of ms in the learner's time).
    let Splits { train, valid, .. } = splits;
    let train_data = Arc::new(train);
    let layout = (config.training.devices.len() > 1).then(|| {
        Arc::new(DataParallelLayout::new(
            n,
            config.training.batch_size,
            config.training.devices.len(),
        ))
    });
    let steps_per_epoch = training_steps_per_epoch(&config.training, n);
    let optimum = exact_optimum(&config, &train_data, request.progress != Progress::Quiet)?;
    // Held until training returns, however it returns; the kernel releases it if it dies.
    let (run, _lock) = match lock {
        Some(lock) => (run, lock),
        None => create_run_dir(&request, run)?,
    };
    if resume_from.is_none()
        && let Some(standardizer) = &standardizer
    {
        run.save_standardizer(standardizer)?;
    }
    write_atomically(&run.config_path(), config.to_toml().as_bytes())?;
    run.save_inputs(&ModelInputs {
        features: train_data.feature_names.clone(),
        classes: train_data.classes(),
    })?;
    if let Some((objective, optimum)) = &optimum {
        write_optimum_json(&run.optimum_path(), optimum, objective, &train_data, true)?;
    }
    // The rows a resumed run keeps: what early stopping and retention continue from.
    let rows_before: BTreeMap<usize, EpochRow> = match resume_from {
        Some(last) if run.metrics_path().exists() => read_metrics_csv(&run.metrics_path())?
            .into_iter()
            .filter(|&(epoch, _)| epoch <= last)
            .collect(),
        _ => BTreeMap::new(),
    };
    let early_stopping = EarlyStopping::from_config(&config.training)
        .map(|early_stopping| early_stopping.replay(&rows_before, &run_info));
    // Killed after the epoch that ended it, before run.json said so: the run is complete.
    let already_stopped = early_stopping
        .as_ref()
        .is_some_and(EarlyStopping::should_stop);
    let retention = match config.training.keep_checkpoints {
        KeepCheckpoints::All => None,
        KeepCheckpoints::Last(keep) => {
            let parts: &'static [&'static str] = if line_search {
                &CHECKPOINT_PARTS[..1]
            } else {
                &CHECKPOINT_PARTS
            };
            Some(Arc::new(Mutex::new(Retention::new(
                &run,
                keep,
                config.best_metric(),
                parts,
                &rows_before,
            ))))
        }
    };
    run_info.sessions.push(Session::start(
        &device_label(&config),
        &device::backend_name(main_device_name(&config)),
        resume_from.unwrap_or(0),
    ));
    run.save_run_info(&run_info)?;

    if request.progress != Progress::Quiet {
        for warning in config.warnings(Some(steps_per_epoch)) {
            eprintln!("warning: {warning}");
        }
        if let Some((_, optimum)) = &optimum {
            let line = format!(
                "exact optimum: ℓ(f*) = {:.12} ({}, {} iterations, ‖∇ℓ‖ = {:.1e})",
                optimum.loss, optimum.method, optimum.iterations, optimum.gradient_norm
            );
            match request.progress {
                Progress::LinesOnStderr => eprintln!("{line}"),
                _ => println!("{line}"),
            }
        }
    }

    let dashboard = request.progress == Progress::Auto && std::io::stdout().is_terminal();
    let print_lines = match request.progress {
        Progress::LinesOnStderr => metrics::ProgressLines::Stderr,
        Progress::Lines => metrics::ProgressLines::Stdout,
        Progress::Auto if !dashboard || line_search => metrics::ProgressLines::Stdout,
        Progress::Auto | Progress::Quiet => metrics::ProgressLines::Off,
    };
    let log = metrics::RunLog::open(
        run.metrics_path(),
        run.steps_path(),
        resume_from,
        print_lines,
        config.training.epochs,
    )?;
    let steps_done = log.steps_taken();
    let interrupter = Interrupter::new();
    let monitor = RunMonitor::new(
        steps_per_epoch,
        steps_done,
        config.training.divergence_factor,
        (!line_search).then(|| interrupter.clone()),
    );
    if let Some(early_stopping) = early_stopping {
        monitor.start_early_stopping(early_stopping);
    }
    let tracker = optimum.map(|(objective, optimum)| {
        Arc::new(SuboptimalityTracker {
            objective,
            data: train_data.clone(),
            optimum: optimum.loss,
        })
    });
    let optimum_loss = tracker.as_ref().map(|tracker| tracker.optimum);
    let trace = if config.training.trace_parameters {
        let steps_done = resume_from.map(|_| steps_done);
        Some(trace::ParameterTrace::start(
            &run.parameters_path(),
            &model,
            steps_done,
        )?)
    } else {
        None
    };
    let started = std::time::Instant::now();
    let remotes = remote::remote_devices(&config);
    let watchdog = (!remotes.is_empty() && !already_stopped).then(|| {
        remote::Watchdog::start(
            remotes,
            monitor.clone(),
            remote::StallRecord {
                run: run.clone(),
                run_info: run_info.clone(),
                config: config.clone(),
            },
        )
    });

    let outcome = if already_stopped {
        Ok(())
    } else if line_search {
        full_batch::FullBatchRun {
            config: &config,
            run: &run,
            train: train_data,
            valid: valid.as_ref(),
            device: device.clone(),
            start_epoch: resume_from.unwrap_or(0),
            log,
            monitor: monitor.clone(),
            trace,
            suboptimality: tracker,
            stopped_early: None,
            retention: retention.clone(),
        }
        .run(model)
        .map(|(_, stopped_early)| {
            if let Some(note) = stopped_early
                && request.progress != Progress::Quiet
            {
                eprintln!("note: {note}");
            }
        })
    } else {
        let trainee = Trainee {
            model,
            clipping: config.training.clipping(),
            trace,
            suboptimality: tracker,
            monitor: Some(monitor.clone()),
            share: layout.clone().map(|layout| GradientShare { layout }),
        };
        launch_learner(LearnerRun {
            config: &config,
            run: &run,
            train: train_data,
            valid,
            resume_from,
            log,
            monitor: monitor.clone(),
            interrupter,
            dashboard,
            steps_per_epoch,
            layout,
            devices,
            trainee,
            retention: retention.clone(),
        })
    };
    drop(watchdog);
    let seconds = started.elapsed().as_secs_f64();
    checkpoint::remove_scratch_files(&run);
    if let Some(retention) = &retention {
        // Every save has finished: what the last epochs' decisions kept in flight can go.
        let pruned = retention
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .prune();
        if let Err(error) = pruned {
            eprintln!("warning: {error}");
        }
    }

    let rows = if run.metrics_path().exists() {
        read_metrics_csv(&run.metrics_path())?
    } else {
        Default::default()
    };
    let last_epoch = rows.keys().next_back().copied();
    let write_failure = monitor.write_failure();
    let session = run_info.sessions.last_mut().expect("pushed above");
    session.last_epoch = last_epoch;
    let early_stop = monitor.early_stop();
    session.outcome = match (&outcome, monitor.divergence(), monitor.target_reached()) {
        (_, Some(_), _) => "diverged",
        (Err(_), None, _) => "failed",
        _ if write_failure.is_some() => "failed",
        (Ok(()), None, Some(_)) => "target_reached",
        (Ok(()), None, None) if early_stop.is_some() => EARLY_STOPPED,
        (Ok(()), None, None) => "finished",
    }
    .into();
    let stopped_early = session.outcome == EARLY_STOPPED;
    if stopped_early {
        session.early_stopping = serde_json::to_value(early_stop).ok();
    }
    if let Some(divergence) = monitor.divergence() {
        let last_finite = run
            .checkpoint_epochs()
            .into_iter()
            .filter(|&epoch| epoch < divergence.epoch)
            .max();
        session.last_finite_checkpoint = last_finite;
        session.divergence = serde_json::to_value(divergence).ok();
        run.save_run_info(&run_info)?;
        let kept = match last_finite {
            Some(epoch) => format!(
                "the last finite checkpoint is epoch {epoch} (evaluate it with sgdlab eval {} --checkpoint {epoch})",
                run.path.display()
            ),
            None => "no epoch finished, so there is no checkpoint".into(),
        };
        return Err(Error::diverged(format!(
            "training diverged at epoch {}, step {}: {} with learning rate {}; {kept}; metrics up to that step are in {}",
            divergence.epoch,
            divergence.step,
            divergence.reason(),
            divergence.learning_rate,
            run.path.display()
        )));
    }
    // The first failure is the one to report: on a full disk, run.json may not be writable
    // either.
    let failure = match (write_failure, outcome) {
        (Some(error), _) => Some(format!("{error}; training stopped")),
        (None, Err(error)) => Some(error.to_string()),
        (None, Ok(())) => None,
    };
    if let Some(session) = run_info.sessions.last_mut() {
        session.error = failure.clone();
    }
    let saved = run.save_run_info(&run_info);
    if let Some(failure) = failure {
        let resumable = checkpoint::last_resumable_epoch(&run, &config)
            .ok()
            .flatten();
        let kept = match resumable {
            Some(epoch) => format!(
                "epoch {epoch} is the last with its checkpoint and metrics row: once the cause is fixed, continue with --resume --run-dir {}",
                run.path.display()
            ),
            None => "no epoch is complete".into(),
        };
        return Err(Error::new(format!("{failure}; {kept}")));
    }
    saved?;

    let (&epochs, last) = rows
        .iter()
        .next_back()
        .ok_or_else(|| Error::new("training finished without recording an epoch"))?;
    let target = config.training.target_suboptimality.map(|target| {
        let reached = monitor.target_reached();
        let epochs = reached.unwrap_or(epochs);
        let steps = epochs * steps_per_epoch;
        let examples_per_step = config.training.batch_size.min(n) as u64;
        TargetReport {
            target,
            reached: reached.is_some(),
            epochs,
            steps,
            gradient_evaluations: steps as u64 * examples_per_step,
            seconds,
        }
    });
    Ok(TrainResult {
        run_dir: run,
        epochs,
        last: last.clone(),
        optimum_loss,
        target,
        early_stop: early_stop.filter(|_| stopped_early),
    })
}

/// f* for the suboptimality column, when `[training] suboptimality` asks for it and the
/// objective is convex.
fn exact_optimum(
    config: &Config,
    train: &Dataset,
    verbose: bool,
) -> Result<Option<(Objective, Optimum)>> {
    let tracking = config.training.suboptimality;
    let required =
        tracking == SuboptimalityTracking::On || config.training.target_suboptimality.is_some();
    if tracking == SuboptimalityTracking::Off {
        return Ok(None);
    }
    let Some(objective) = Objective::from_config(config) else {
        if required {
            bail!(
                "training.suboptimality: ℓ(f*) is undefined here: an mlp is not convex, and adamw's decoupled weight decay minimizes no fixed objective"
            );
        }
        return Ok(None);
    };
    let objective = objective.with_classes_of(train);
    let parameters = objective.parameter_count(train.dim);
    if !required && parameters > AUTO_SUBOPTIMALITY_MAX_PARAMETERS {
        return Ok(None);
    }
    if verbose && train.len() * parameters * parameters >= LONG_SOLVE_WORK {
        println!(
            "solving for ℓ(f*), the suboptimality column's reference, over {} examples and {parameters} parameters ...",
            train.len()
        );
    }
    let solved = if required {
        solve(&objective, train)
    } else {
        solve_within(&objective, train, AUTO_SUBOPTIMALITY_MAX_PASSES)
    };
    match solved {
        Ok(optimum) => Ok(Some((objective, optimum))),
        Err(error) if required => Err(Error::new(format!(
            "training.suboptimality: cannot solve for ℓ(f*): {error}"
        ))),
        Err(error) => {
            if verbose {
                eprintln!(
                    "note: no suboptimality column (suboptimality = \"auto\" solves for ℓ(f*) in at most {AUTO_SUBOPTIMALITY_MAX_PASSES} passes over the training set): {error}"
                );
            }
            Ok(None)
        }
    }
}

/// n × P² (a Hessian's work per pass) from which the solve for f* is announced before it
/// starts: about a second and more in release.
const LONG_SOLVE_WORK: usize = 10_000_000;

/// What the learner path needs beyond the trainee.
struct LearnerRun<'a> {
    config: &'a Config,
    run: &'a RunDir,
    train: Arc<Dataset>,
    valid: Option<Dataset>,
    resume_from: Option<usize>,
    log: metrics::RunLog,
    monitor: RunMonitor,
    interrupter: Interrupter,
    dashboard: bool,
    steps_per_epoch: usize,
    /// With several devices: how the epoch's examples are spread over them.
    layout: Option<Arc<DataParallelLayout>>,
    /// With several devices: them, resolved by `set_up`.
    devices: Vec<Device>,
    trainee: Trainee,
    /// With `keep_checkpoints = N`: which checkpoints stay.
    retention: Option<Arc<Mutex<Retention>>>,
}

/// burn-train's learner: epochs, shuffled mini-batches, metrics and a checkpoint every epoch.
fn launch_learner(parts: LearnerRun) -> Result<()> {
    let LearnerRun {
        config,
        run,
        train,
        valid,
        resume_from,
        log,
        monitor,
        interrupter,
        dashboard,
        steps_per_epoch,
        layout,
        devices,
        trainee,
        retention,
    } = parts;
    let seed = config.training.seed;
    let order = EpochShuffledIndices::new(train.len(), seed, resume_from.unwrap_or(0));
    let train_batcher = DataLoaderBuilder::new(IndexBatcher::new(train.clone()));
    let train_loader = match &layout {
        // Each device takes its share of every mini-batch from its slice of the epoch.
        Some(layout) => train_batcher
            .batch_size(config.training.batch_size / config.training.devices.len())
            .build(DeviceMajorOrder::new(order, layout)),
        None => train_batcher
            .batch_size(config.training.batch_size)
            .build(order),
    };
    let has_valid = valid.is_some();
    let valid = valid.unwrap_or_else(|| empty_like(&train));
    let valid_examples = valid.len();
    let valid_loader = DataLoaderBuilder::new(IndexBatcher::new(Arc::new(valid)))
        .batch_size(VALIDATION_BATCH_SIZE)
        .build(InMemDataset::new((0..valid_examples).collect()));

    let epoch_log = metrics::EpochLog::new(log, has_valid, monitor.clone(), layout.clone());
    let problem_is_classification = train.classes().is_some();
    let log_path = run.train_log_path();
    let mut training = SupervisedTraining::new(&run.path, train_loader, valid_loader)
        .with_application_logger(Some(Box::new(train_log::TrainLog::new(log_path.clone()))))
        .metrics((LossMetric::new(),))
        .metric_train_numeric(LearningRateMetric::new())
        .with_metric_logger(batch_log::BufferedMetricLogger::new(
            &run.path,
            monitor.clone(),
        ))
        .with_metric_logger(epoch_log)
        .with_default_checkpointers()
        .with_interrupter(interrupter)
        .num_epochs(config.training.epochs);
    training = match retention {
        Some(retention) => training.with_checkpointing_strategy(KeepRecent {
            retention,
            monitor: monitor.clone(),
        }),
        None => training.with_checkpointing_strategy(renderer::KeepEveryEpoch),
    };
    if problem_is_classification {
        training = training.metrics((AccuracyMetric::new(),));
    }
    if !dashboard {
        training = training.renderer(Box::new(renderer::Silent));
    }
    if let Some(epoch) = resume_from {
        training = training.checkpoint(epoch);
    }
    if layout.is_some() {
        training = training.with_training_strategy(
            ExecutionStrategy::MultiDevice(devices, MultiDeviceOptim::OptimMainDevice).into(),
        );
    }
    let target = config.training.target_suboptimality;
    if target.is_some() || monitor.has_early_stopping() {
        training = training.early_stopping(StopRules { target, monitor });
    }

    let optimizer = config.optimizer.build();
    let schedule = ModuleLrScheduler::new(
        config
            .schedule
            .build(config.optimizer.learning_rate(), steps_per_epoch),
    );
    let remotes = remote::remote_devices(config);
    let launched = remote::launch_guarded(&remotes, || {
        training.launch(Learner::new(trainee, optimizer, schedule))
    });
    train_log::close(&log_path);
    let error = match launched {
        Ok(result) => result.error.map(|error| error.to_string()),
        Err(panic) => Some(panic),
    };
    match error {
        Some(error) if !remotes.is_empty() => {
            Err(Error::new(remote::failure_line(&remotes, &error)))
        }
        Some(error) => bail!("training stopped by an error: {error}"),
        None => Ok(()),
    }
}

/// Creates a fresh run's directory and takes its lock, in that order, so that of two
/// processes starting the same run dir one gets it and the other is told it exists. A default
/// run dir (`artifacts/<name>-<timestamp>`) taken meanwhile moves on to the next free name.
fn create_run_dir(request: &TrainRequest, run: RunDir) -> Result<(RunDir, RunLock)> {
    let mut path = run.path;
    for _ in 0..100 {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
        }
        match std::fs::create_dir(&path) {
            Ok(()) => {
                let run = RunDir::new(path);
                let lock = run.lock()?;
                return Ok((run, lock));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if request.run_dir.is_some() {
                    bail!(
                        "run dir {} already exists: pass --resume to continue it, or choose another --run-dir",
                        path.display()
                    );
                }
                path = fresh_run_path(&request.artifacts, &request.name)?;
            }
            Err(e) => return Err(Error::io("create", &path, e)),
        }
    }
    bail!(
        "cannot create a fresh run dir under {}",
        request.artifacts.display()
    )
}

/// Picks the run dir and the config to train with; for `--resume`, also the epoch to resume
/// after and (for a `writer`) the run dir's lock.
fn open_run_dir(
    request: &TrainRequest,
    writer: bool,
) -> Result<(RunDir, Option<RunLock>, Config, Option<usize>)> {
    if !request.resume {
        let path = match &request.run_dir {
            Some(path) if path.exists() => bail!(
                "run dir {} already exists: pass --resume to continue it, or choose another --run-dir",
                path.display()
            ),
            Some(path) => path.clone(),
            None => fresh_run_path(&request.artifacts, &request.name)?,
        };
        return Ok((RunDir::new(path), None, request.config.clone(), None));
    }

    let Some(path) = &request.run_dir else {
        bail!("--resume needs --run-dir DIR, the run to continue");
    };
    let run = RunDir::new(path.clone());
    let saved = run.load_config()?;
    // Before reading anything else: a live writer would change it under us.
    let lock = if writer {
        let lock = run.lock()?;
        for dir in [run.path.clone(), run.checkpoint_dir()] {
            remove_stale_temporaries(&dir)?;
        }
        Some(lock)
    } else {
        run.refuse_if_live()?;
        None
    };
    // The run's own config is authoritative; only the epoch count (to extend a run) and the
    // device(s) (to move it) may change.
    let mut wanted = request.config.clone();
    wanted.training.epochs = saved.training.epochs;
    wanted.training.device = saved.training.device.clone();
    wanted.training.devices = saved.training.devices.clone();
    if let Some(key) = first_difference(&saved, &wanted) {
        bail!(
            "--resume: the config differs from the run's config.toml at `{key}`; only training.epochs, training.device and training.devices may change"
        );
    }
    let mut config = saved;
    config.training.epochs = request.config.training.epochs;
    config.training.device = request.config.training.device.clone();
    config.training.devices = request.config.training.devices.clone();

    let Some(last) = checkpoint::last_resumable_epoch(&run, &config)? else {
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
    Ok((run, lock, config, Some(last)))
}

/// The device the model lives on: `training.device`, or with several devices the first.
fn main_device_name(config: &Config) -> &str {
    config
        .training
        .devices
        .first()
        .unwrap_or(&config.training.device)
}

/// The device(s) for run.json: `wgpu:0`, or `cpu,cpu` for data-parallel training.
pub fn device_label(config: &Config) -> String {
    match config.training.devices.as_slice() {
        [] => config.training.device.clone(),
        devices => devices.join(","),
    }
}

fn empty_like(data: &Dataset) -> Dataset {
    data.subset(&[])
}
