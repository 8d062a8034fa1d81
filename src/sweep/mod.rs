//! `sgdlab sweep CONFIG --grid KEY=V1,V2,... [--seeds N] [--out DIR] [--jobs J]`: trains every
//! combination of the grids, N seeds each, as ordinary run directories under DIR, then writes
//! the table across them (`sweep.csv`, `sweep.md`: [`table`]) and the figures across them
//! ([`figures`]).
//!
//! Each run is `train` of CONFIG with the `--set` overrides, the combination's values and
//! `training.seed` = the config's seed + 0, 1, ..., N − 1, in the directory
//! `DIR/KEY=VALUE,...,training.seed=S` ([`grid::run_name`]). Everything is checked before the
//! first run starts: every value alone, every combination, and every run directory already in
//! DIR, which must be a run of the same config. Running the same command again skips the runs
//! that finished or diverged, resumes the interrupted ones from their last checkpoint (as
//! `train --resume` does), and writes the table again. The table and figures are read back
//! from the run directories ([`RunSummary`]), never computed a second way.
//!
//! `--jobs J` trains J runs at once, each on a compute pool of its own share of the cores
//! ([`on_compute_pool_of`]); a run's numbers do not depend on J.

pub mod figures;
pub mod grid;
pub mod table;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use serde::Serialize;

use crate::config::DataSource;
use crate::config::{Config, first_difference};
use crate::device::on_compute_pool_of;
use crate::eval::{SplitChoice, evaluate_run};
use crate::plot::{PlotOptions, Written};
use crate::run_dir::RunDir;
use crate::runs::RunSummary;
use crate::train::checkpoint::last_resumable_epoch;
use crate::train::{CheckpointChoice, Progress, TrainRequest, train};
use crate::{Error, ErrorKind, Result, bail};

pub use grid::{Grid, GridValue};
pub use table::{Combination, Stat};

/// What `sgdlab sweep` is asked for.
#[derive(Debug, Clone)]
pub struct SweepRequest {
    pub config_path: PathBuf,
    /// `--set` overrides, applied to every run before the grid's values.
    pub overrides: Vec<String>,
    /// `--grid` arguments, `KEY=V1,V2,...`.
    pub grids: Vec<String>,
    /// Seeds per combination (≥ 1).
    pub seeds: usize,
    /// Where the runs, the table and the figures go.
    pub out: PathBuf,
    /// Trainings at once (≥ 1).
    pub jobs: usize,
    /// Draw the figures across runs.
    pub plots: bool,
}

/// `<artifacts>/<config name>-sweep`: the same command names the same directory, so running
/// it again resumes the sweep.
pub fn default_out_dir(artifacts: &Path, config_name: &str) -> PathBuf {
    artifacts.join(format!("{config_name}-sweep"))
}

/// One training of the sweep.
#[derive(Debug, Clone)]
struct PlannedRun {
    /// The combination it belongs to (index into the plan's combinations).
    combination: usize,
    seed: u64,
    run: RunDir,
    config: Config,
}

/// What a run needs, found before anything starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    /// A fresh run.
    Train,
    /// An interrupted run, continued from its last complete checkpoint.
    Resume,
    /// A directory a killed run left before its first checkpoint: removed, trained afresh.
    Restart,
    /// Finished or diverged: nothing to do.
    Skip,
}

impl Action {
    fn verb(self) -> &'static str {
        match self {
            Action::Train => "trained",
            Action::Resume => "resumed",
            Action::Restart => "restarted",
            Action::Skip => "already done",
        }
    }
}

/// What one run of the sweep came to, for the progress line.
#[derive(Debug, Clone)]
pub struct RunEvent {
    /// How many runs are done, this one included, and how many there are.
    pub done: usize,
    pub total: usize,
    pub summary: RunSummary,
    /// `trained`, `resumed`, `restarted` or `already done`.
    pub action: &'static str,
}

impl fmt::Display for RunEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let run = &self.summary;
        write!(
            f,
            "[{}/{}] {}: {}",
            self.done, self.total, run.name, self.action
        )?;
        match run.divergence_step {
            Some(step) => write!(f, ", diverged at step {step}"),
            None => {
                write!(f, ", {}", run.outcome)?;
                for key in ["valid_loss", "valid_accuracy", "train_loss"] {
                    if let Some(value) = run.last.get(key) {
                        return write!(f, " {key}={value:.6}");
                    }
                }
                Ok(())
            }
        }
    }
}

/// What a sweep left behind: its combinations, read back from the run directories, the best
/// one and the files written.
#[derive(Debug, Clone, Serialize)]
pub struct SweepReport {
    pub out: PathBuf,
    pub config: PathBuf,
    pub seeds: usize,
    /// Each `--grid`: its key and the values as given.
    pub grids: Vec<GridSummary>,
    pub combinations: Vec<Combination>,
    /// The combination of the lowest mean final validation loss (training loss without a
    /// validation split), over those with a finished run.
    pub best: Option<Best>,
    /// `sweep.csv`, `sweep.md` and the figures.
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GridSummary {
    pub key: String,
    pub values: Vec<String>,
}

/// The best combination and by what.
#[derive(Debug, Clone, Serialize)]
pub struct Best {
    /// Index into `combinations`.
    pub index: usize,
    pub name: String,
    /// The metric it is best by: `valid_loss_final`, or `train_loss_final` without a
    /// validation split.
    pub by: String,
    pub mean: f64,
    pub std: Option<f64>,
}

/// Runs the sweep `request` describes; `on_run` sees each run as it is done (from the thread
/// that trained it). A bad grid, combination or run directory is an error before any run
/// starts; a run that diverges is recorded and the sweep goes on; any other failure of a run
/// stops the sweep (the runs being trained finish first) with that run's error.
pub fn run_sweep(
    request: &SweepRequest,
    on_run: &(dyn Fn(&RunEvent) + Sync),
) -> Result<SweepReport> {
    let plan = plan(request)?;
    if request.out.exists() && !request.out.is_dir() {
        bail!(
            "--out {}: exists and is not a directory",
            request.out.display()
        );
    }
    let actions = plan
        .runs
        .iter()
        .map(|planned| decide(planned, &request.out))
        .collect::<Result<Vec<_>>>()?;
    std::fs::create_dir_all(&request.out).map_err(|e| Error::io("create", &request.out, e))?;

    let total = plan.runs.len();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let failure: Mutex<Option<Error>> = Mutex::new(None);
    let jobs = request.jobs.clamp(1, total.max(1));
    let threads = (rayon::current_num_threads() / jobs).max(1);
    let work = || {
        on_compute_pool_of(threads, || {
            while !stop.load(Ordering::SeqCst) {
                let index = next.fetch_add(1, Ordering::SeqCst);
                let Some(planned) = plan.runs.get(index) else {
                    break;
                };
                let action = actions[index];
                match carry_out(planned, action, &request.out) {
                    Ok(summary) => on_run(&RunEvent {
                        done: done.fetch_add(1, Ordering::SeqCst) + 1,
                        total,
                        summary,
                        action: action.verb(),
                    }),
                    Err(error) => {
                        stop.store(true, Ordering::SeqCst);
                        let error = Error::new(format!("{}: {error}", planned.run.path.display()));
                        failure
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .get_or_insert(error);
                    }
                }
            }
        })
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..jobs).map(|_| scope.spawn(work)).collect();
        for handle in handles {
            if handle.join().is_err() {
                stop.store(true, Ordering::SeqCst);
                failure
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get_or_insert(Error::new("a training thread panicked"));
            }
        }
    });
    if let Some(error) = failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(error);
    }

    let summaries = plan
        .runs
        .iter()
        .map(|planned| RunSummary::read(&planned.run))
        .collect::<Result<Vec<_>>>()?;
    let combinations = table::combinations(&plan, &summaries);
    let best = table::best(&combinations);
    let mut report = SweepReport {
        out: request.out.clone(),
        config: request.config_path.clone(),
        seeds: request.seeds,
        grids: plan
            .grids
            .iter()
            .map(|grid| GridSummary {
                key: grid.key.clone(),
                values: grid.values.iter().map(|v| v.text.clone()).collect(),
            })
            .collect(),
        combinations,
        best,
        files: Vec::new(),
    };
    let figures: Vec<Written> = if request.plots {
        figures::write(&report, &plan, &summaries, &PlotOptions::default())?
    } else {
        Vec::new()
    };
    report.files = table::write(&report, &figures)?;
    report
        .files
        .extend(figures.iter().flat_map(|w| [w.svg.clone(), w.png.clone()]));
    Ok(report)
}

/// The grids, their combinations and every run, each config loaded and validated.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    grids: Vec<Grid>,
    /// Per combination: the index of its value in each grid.
    combinations: Vec<Vec<usize>>,
    runs: Vec<PlannedRun>,
}

impl Plan {
    /// The combination's (key, value) pairs, in grid order.
    fn assignments(&self, combination: usize) -> Vec<(&str, &GridValue)> {
        self.grids
            .iter()
            .zip(&self.combinations[combination])
            .map(|(grid, &value)| (grid.key.as_str(), &grid.values[value]))
            .collect()
    }
}

/// Parses the grids and loads every run's config, refusing anything that would fail later.
fn plan(request: &SweepRequest) -> Result<Plan> {
    if request.grids.is_empty() {
        bail!("sweep: no --grid given (e.g. --grid optimizer.learning_rate=0.01,0.1)");
    }
    if request.seeds == 0 {
        bail!("--seeds 0: a sweep needs at least one seed");
    }
    let path = &request.config_path;
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("read config", path, e))?;
    let origin = path.display().to_string();
    let load = |extra: &[String]| {
        let mut overrides = request.overrides.clone();
        overrides.extend_from_slice(extra);
        Config::from_toml(&text, &origin, &overrides)
    };
    let base = load(&[])?;

    let grids = request
        .grids
        .iter()
        .map(|argument| Grid::parse(argument))
        .collect::<Result<Vec<_>>>()?;
    for (index, grid) in grids.iter().enumerate() {
        if grids[..index].iter().any(|other| other.key == grid.key) {
            bail!("--grid {}: the key is given by two grids", grid.key);
        }
        let set = |assignment: &String| {
            assignment
                .split_once('=')
                .is_some_and(|(key, _)| key.trim() == grid.key)
        };
        if request.overrides.iter().any(set) {
            bail!("--grid {}: the key is also given with --set", grid.key);
        }
        if grid.key == "training.seed" && request.seeds > 1 {
            bail!("--grid training.seed: give the seeds with the grid or with --seeds, not both");
        }
        for value in &grid.values {
            load(&[format!("{}={}", grid.key, value.text)])
                .map_err(|e| Error::new(format!("--grid {}={}: {e}", grid.key, value.text)))?;
        }
    }

    let mut combinations: Vec<Vec<usize>> = vec![Vec::new()];
    for grid in &grids {
        combinations = combinations
            .into_iter()
            .flat_map(|prefix| {
                (0..grid.values.len()).map(move |value| {
                    let mut combination = prefix.clone();
                    combination.push(value);
                    combination
                })
            })
            .collect();
    }
    let mut plan = Plan {
        grids,
        combinations,
        runs: Vec::new(),
    };
    let mut runs = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for combination in 0..plan.combinations.len() {
        let assignments = plan.assignments(combination);
        let overrides: Vec<String> = assignments
            .iter()
            .map(|(key, value)| format!("{key}={}", value.text))
            .collect();
        for offset in 0..request.seeds {
            let seed = base
                .training
                .seed
                .checked_add(offset as u64)
                .ok_or_else(|| Error::new("training.seed + --seeds overflows a 64-bit seed"))?;
            let mut run_overrides = overrides.clone();
            let seeded = plan.grids.iter().any(|grid| grid.key == "training.seed");
            if !seeded {
                run_overrides.push(format!("training.seed={seed}"));
            }
            let config = load(&run_overrides).map_err(|e| {
                Error::new(format!("--grid combination {}: {e}", overrides.join(" ")))
            })?;
            let mut parts: Vec<(&str, &str)> = assignments
                .iter()
                .map(|(key, value)| (*key, value.text.as_str()))
                .collect();
            let seed_text = seed.to_string();
            if !seeded {
                parts.push(("training.seed", &seed_text));
            }
            let name = grid::run_name(&parts);
            if names.contains(&name) {
                bail!(
                    "--grid: two runs would share the directory name {name} (values that differ only in brackets, quotes or punctuation)"
                );
            }
            names.push(name.clone());
            runs.push(PlannedRun {
                combination,
                seed: config.training.seed,
                run: RunDir::new(request.out.join(&name)),
                config,
            });
        }
    }
    plan.runs = runs;
    Ok(plan)
}

/// What `planned` needs, from what its directory holds; an error when the directory is not
/// this run's (another config, or not a run directory).
fn decide(planned: &PlannedRun, out: &Path) -> Result<Action> {
    let run = &planned.run;
    if !run.path.exists() {
        return Ok(Action::Train);
    }
    let refuse = |why: String| {
        Error::new(format!(
            "{}: {why}; remove it, or choose another --out than {}",
            run.path.display(),
            out.display()
        ))
    };
    if !run.path.is_dir() {
        return Err(refuse("exists and is not a directory".into()));
    }
    if !run.config_path().exists() {
        return if only_run_files(&run.path)? {
            Ok(Action::Restart)
        } else {
            Err(refuse("exists and is not a run directory".into()))
        };
    }
    let wanted = &planned.config;
    let mut saved = run.load_config()?;
    // As for `train --resume`: the device may differ, and the epochs may be raised.
    saved.training.device = wanted.training.device.clone();
    saved.training.devices = wanted.training.devices.clone();
    let saved_epochs = saved.training.epochs;
    saved.training.epochs = wanted.training.epochs;
    if let Some(key) = first_difference(&saved, wanted) {
        return Err(refuse(format!(
            "it was trained with another config (it differs at `{key}`)"
        )));
    }
    if saved_epochs > wanted.training.epochs {
        return Err(refuse(format!(
            "it was trained for {saved_epochs} epochs, more than training.epochs = {}",
            wanted.training.epochs
        )));
    }
    let summary = RunSummary::read(run)?;
    let complete = summary.completed() && saved_epochs == wanted.training.epochs;
    if complete || summary.outcome == "diverged" {
        return Ok(Action::Skip);
    }
    match last_resumable_epoch(run, wanted)? {
        Some(epoch) if epoch >= wanted.training.epochs => Ok(Action::Skip),
        Some(_) => Ok(Action::Resume),
        None if only_run_files(&run.path)? => Ok(Action::Restart),
        None => Err(refuse(
            "it has no checkpoint to resume from and holds files a run does not write".into(),
        )),
    }
}

/// Whether every entry of `dir` is one a run writes (so a run that left no checkpoint can be
/// removed and trained again without losing anything else).
fn only_run_files(dir: &Path) -> Result<bool> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io("read", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("read", dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !(crate::run_dir::RUN_DIR_ENTRIES.contains(&name.as_str()) || name.ends_with(".partial"))
        {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Trains, resumes or restarts `planned` as `action` says, evaluates its test split, and
/// reads it back. A divergence is an outcome, not an error.
fn carry_out(planned: &PlannedRun, action: Action, out: &Path) -> Result<RunSummary> {
    let run = &planned.run;
    if action == Action::Restart {
        std::fs::remove_dir_all(&run.path).map_err(|e| Error::io("remove", &run.path, e))?;
    }
    if action != Action::Skip {
        let trained = train(TrainRequest {
            config: planned.config.clone(),
            name: "sweep".into(),
            run_dir: Some(run.path.clone()),
            resume: action == Action::Resume,
            artifacts: out.to_path_buf(),
            progress: Progress::Quiet,
        });
        match trained {
            Ok(_) => {}
            Err(error) if error.kind() == ErrorKind::Diverged => {}
            Err(error) => return Err(error),
        }
    }
    let summary = RunSummary::read(run)?;
    if !finished(&summary) || !has_test_split(&planned.config) {
        return Ok(summary);
    }
    let last = run.checkpoint_epochs().last().copied();
    if summary.test.map(|t| t.checkpoint_epoch) == last && last.is_some() {
        return Ok(summary);
    }
    let report = evaluate_run(run, CheckpointChoice::Last, None, None)?;
    if report.split != Some(SplitChoice::Test) {
        return Ok(summary);
    }
    RunSummary::read(run)
}

/// A run that trained to its end: finished, stopped at its target, or (killed before
/// `run.json` said so) with every epoch recorded and no divergence.
pub fn finished(run: &RunSummary) -> bool {
    run.completed()
        || (run.divergence_step.is_none() && run.epochs_trained >= run.epochs && run.epochs > 0)
}

/// Whether the config's data has a test split: MNIST's own test files, or a test fraction.
fn has_test_split(config: &Config) -> bool {
    config.data.source == DataSource::Mnist || config.data.test_fraction > 0.0
}
