//! The layout of a run directory, shared by `train` (which writes it), `--resume` and `eval`
//! (which read it back):
//!
//! ```text
//! artifacts/<config-name>-<UTC timestamp>/
//!   config.toml          the resolved config (every default filled in)
//!   standardizer.json    the feature transform fitted on the training split (if any)
//!   inputs.json          what the model takes: its feature columns in order, its classes
//!   metrics.csv          one row per epoch: train/valid loss and accuracy, α, elapsed time
//!   steps.csv            one row per optimizer step: batch loss and the α in force
//!   parameters.csv       with trace_parameters: every parameter after every step
//!   checkpoint/          model-E.bpk, optim-E.bpk, scheduler-E.bpk for every epoch E
//!   train/ valid/        burn-train's per-batch metric logs
//!   eval.json            the last `sgdlab eval` result
//!   run.json             provenance (seed, backend, sgdlab version, git commit) and outcome
//!   optimum.json         with suboptimality tracking: the exact optimum f* and ℓ(f*)
//!   lock                 the writer's lock (see [`RunLock`]); while a run trains, its pid
//! ```
//!
//! Every file is written whole or not at all, durably ([`crate::files::write_atomically`];
//! Burn's checkpoint writer does the same), so a run killed at any moment, or a machine that
//! loses power, keeps its last complete epoch intact for `--resume`. One process at a time
//! writes a run dir: training holds its [`RunLock`] for its whole life.

use std::collections::BTreeMap;
use std::fs::{File, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::config::{Config, MAX_EPOCHS};
use crate::data::Standardizer;
use crate::files::write_atomically;
use crate::{Error, Result, bail};

/// Every name training writes directly inside a run dir (files and folders; the figures
/// are drawn after the last epoch): what tells a run's leftovers from a user's files.
pub const RUN_DIR_ENTRIES: [&str; 14] = [
    "lock",
    "config.toml",
    "standardizer.json",
    "inputs.json",
    "metrics.csv",
    "steps.csv",
    "parameters.csv",
    "run.json",
    "train.log",
    "optimum.json",
    "eval.json",
    "checkpoint",
    "train",
    "valid",
];

/// A run directory (serialized as its path).
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct RunDir {
    pub path: PathBuf,
}

impl RunDir {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    pub fn config_path(&self) -> PathBuf {
        self.path.join("config.toml")
    }
    pub fn standardizer_path(&self) -> PathBuf {
        self.path.join("standardizer.json")
    }
    pub fn metrics_path(&self) -> PathBuf {
        self.path.join("metrics.csv")
    }
    pub fn steps_path(&self) -> PathBuf {
        self.path.join("steps.csv")
    }
    /// burn-train's log of the run (see `train::train_log`).
    pub fn train_log_path(&self) -> PathBuf {
        self.path.join("train.log")
    }
    pub fn parameters_path(&self) -> PathBuf {
        self.path.join("parameters.csv")
    }
    pub fn checkpoint_dir(&self) -> PathBuf {
        self.path.join("checkpoint")
    }
    pub fn model_checkpoint(&self, epoch: usize) -> PathBuf {
        self.checkpoint_dir().join(format!("model-{epoch}.bpk"))
    }
    pub fn inputs_path(&self) -> PathBuf {
        self.path.join("inputs.json")
    }
    pub fn eval_path(&self) -> PathBuf {
        self.path.join("eval.json")
    }
    pub fn run_info_path(&self) -> PathBuf {
        self.path.join("run.json")
    }
    pub fn optimum_path(&self) -> PathBuf {
        self.path.join("optimum.json")
    }
    pub fn lock_path(&self) -> PathBuf {
        self.path.join("lock")
    }

    /// The run's saved, resolved config. Errors if `path` is not a run directory.
    pub fn load_config(&self) -> Result<Config> {
        let path = self.config_path();
        if !path.exists() {
            return Err(Error::new(format!(
                "{}: not a run directory (no config.toml)",
                self.path.display()
            )));
        }
        Config::load(&path, &[])
    }

    /// The stored standardization, if the run standardized its features.
    pub fn load_standardizer(&self) -> Result<Option<Standardizer>> {
        read_json_if_present(&self.standardizer_path())
    }

    pub fn save_standardizer(&self, standardizer: &Standardizer) -> Result<()> {
        let path = self.standardizer_path();
        let text = serde_json::to_string_pretty(standardizer).expect("serializable");
        write_atomically(&path, text.as_bytes())
    }

    /// What the model takes, `None` for a run trained before `inputs.json` was written.
    pub fn load_inputs(&self) -> Result<Option<ModelInputs>> {
        read_json_if_present(&self.inputs_path())
    }

    pub fn save_inputs(&self, inputs: &ModelInputs) -> Result<()> {
        let text = serde_json::to_string_pretty(inputs).expect("serializable") + "\n";
        write_atomically(&self.inputs_path(), text.as_bytes())
    }

    /// Epochs whose model checkpoint is on disk, ascending.
    pub fn checkpoint_epochs(&self) -> Vec<usize> {
        let mut epochs: Vec<usize> = std::fs::read_dir(self.checkpoint_dir())
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let name = entry.file_name().into_string().ok()?;
                name.strip_prefix("model-")?
                    .strip_suffix(".bpk")?
                    .parse()
                    .ok()
            })
            .collect();
        epochs.sort_unstable();
        epochs
    }
}

/// The JSON file at `path` read as a `T`, `None` if there is no such file; an error names it.
fn read_json_if_present<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| Error::new(format!("{}: {e}", path.display())))
}

/// What a run's model takes, `inputs.json`: so that `predict` and `eval --input` read new
/// examples without the training data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInputs {
    /// The feature columns, in the order the model reads them.
    pub features: Vec<String>,
    /// The number of classes; `None` for regression.
    pub classes: Option<usize>,
}

/// A run dir's writer lock: an exclusive `flock` on its `lock` file, held by a training
/// process (fresh or `--resume`) from before it writes anything until it ends. The kernel
/// releases it when the process ends, however it ends, so a killed run never leaves a stale
/// lock: the next `--resume` takes it at once. While held, the file holds the holder's pid,
/// for the message a second writer gets; released, it holds what it held before, so a writer
/// that is refused after taking the lock (a broken checkpoint) leaves the run dir as it was.
/// Readers (`eval`, `plot`) never take it: they read files that
/// are always whole, and [`RunDir::live_writer`] tells them whether a run is still being
/// written.
#[derive(Debug)]
pub struct RunLock {
    /// Closing it (on drop, or by the kernel at exit) releases the lock.
    file: File,
    /// The lock file's contents before this holder wrote its pid.
    previous: Vec<u8>,
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Best effort: the lock itself goes with the file handle whatever happens here.
        let _ = self
            .file
            .set_len(0)
            .and_then(|()| std::io::Seek::rewind(&mut self.file))
            .and_then(|()| self.file.write_all(&self.previous));
    }
}

/// How long [`RunDir::lock`] retries a lock that is taken: a reader's probe
/// ([`RunDir::live_writer`]) holds it shared for microseconds, a writer for its whole run.
const LOCK_RETRIES: u32 = 20;
const LOCK_RETRY_PAUSE: Duration = Duration::from_millis(10);

impl RunDir {
    /// Takes the run dir's [`RunLock`], or refuses at once (after at most 0.2 s) with a
    /// one-line error naming the run dir and the pid holding it. The run dir must exist.
    pub fn lock(&self) -> Result<RunLock> {
        let path = self.lock_path();
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io("open", &path, e))?;
        for _ in 0..LOCK_RETRIES {
            match file.try_lock() {
                Ok(()) => {
                    let mut previous = Vec::new();
                    (&file)
                        .take(64)
                        .read_to_end(&mut previous)
                        .and_then(|_| file.set_len(0))
                        .and_then(|()| std::io::Seek::rewind(&mut file))
                        .and_then(|()| writeln!(file, "{}", std::process::id()))
                        .map_err(|e| Error::io("write", &path, e))?;
                    return Ok(RunLock { file, previous });
                }
                Err(TryLockError::WouldBlock) => std::thread::sleep(LOCK_RETRY_PAUSE),
                Err(TryLockError::Error(e)) => return Err(Error::io("lock", &path, e)),
            }
        }
        Err(self.in_use_error(holder_pid(&mut file)))
    }

    /// `Some(pid)` while a process holds the run dir's [`RunLock`] (the pid as it wrote it,
    /// `None` inside if unreadable); `None` when nobody trains it. Takes nothing: a shared
    /// lock tried and dropped at once, which a starting writer retries past.
    pub fn live_writer(&self) -> Option<Option<u32>> {
        let mut file = File::open(self.lock_path()).ok()?;
        match file.try_lock_shared() {
            Ok(()) => {
                let _ = file.unlock();
                None
            }
            Err(TryLockError::WouldBlock) => Some(holder_pid(&mut file)),
            Err(TryLockError::Error(_)) => None,
        }
    }

    /// Refuses, with [`RunDir::lock`]'s error, when a process is training this run dir now.
    pub fn refuse_if_live(&self) -> Result<()> {
        match self.live_writer() {
            Some(pid) => Err(self.in_use_error(pid)),
            None => Ok(()),
        }
    }

    /// For readers: a note saying the run is being trained now, if it is.
    pub fn live_note(&self) -> Option<String> {
        let pid = self.live_writer()?;
        Some(format!(
            "{} is being trained now ({}): reading its epochs completed so far",
            self.path.display(),
            describe_pid(pid)
        ))
    }

    fn in_use_error(&self, pid: Option<u32>) -> Error {
        Error::new(format!(
            "run dir {} is in use: another sgdlab process ({}) is training it; one writer at a time, so wait for it to finish or stop it",
            self.path.display(),
            describe_pid(pid)
        ))
    }
}

/// The pid a lock holder wrote into the lock file.
fn holder_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    std::io::Seek::rewind(file).ok()?;
    file.take(32).read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

fn describe_pid(pid: Option<u32>) -> String {
    pid.map_or_else(|| "pid unknown".into(), |pid| format!("pid {pid}"))
}

/// Column names of `metrics.csv`, in order.
pub const METRICS_COLUMNS: [&str; 8] = [
    "epoch",
    "train_loss",
    "train_accuracy",
    "valid_loss",
    "valid_accuracy",
    "learning_rate",
    "suboptimality",
    "elapsed_seconds",
];

/// One epoch's figures, by column name (absent: not measured, e.g. no validation split).
pub type EpochRow = BTreeMap<String, f64>;

/// Reads a run's `metrics.csv` into rows keyed by epoch.
pub fn read_metrics_csv(path: &Path) -> Result<BTreeMap<usize, EpochRow>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let mut rows = BTreeMap::new();
    for (index, line) in lines.enumerate() {
        let line_number = index + 2;
        let mut row = EpochRow::new();
        for (name, cell) in header.iter().zip(line.split(',')) {
            if cell.is_empty() {
                continue;
            }
            let value: f64 = cell.parse().map_err(|_| {
                Error::new(format!(
                    "{}:{line_number}: column {name}: not a number: {cell:?}",
                    path.display()
                ))
            })?;
            row.insert((*name).to_string(), value);
        }
        let epoch = row
            .get("epoch")
            .copied()
            .ok_or_else(|| Error::new(format!("{}:{line_number}: no epoch", path.display())))?;
        // `as usize` would turn 0.5, −3, NaN or 1e300 into some epoch silently.
        if !(epoch >= 1.0 && epoch <= MAX_EPOCHS as f64 && epoch.fract() == 0.0) {
            bail!(
                "{}:{line_number}: epoch {epoch} is not an epoch number (1 to {MAX_EPOCHS})",
                path.display()
            );
        }
        if rows.insert(epoch as usize, row).is_some() {
            bail!(
                "{}:{line_number}: a second row for epoch {epoch}",
                path.display()
            );
        }
    }
    Ok(rows)
}

/// Writes a run's `metrics.csv`, whole ([`write_atomically`]), in [`METRICS_COLUMNS`] order.
pub fn write_metrics_csv(path: &Path, rows: &BTreeMap<usize, EpochRow>) -> Result<()> {
    let mut text = METRICS_COLUMNS.join(",");
    text.push('\n');
    for row in rows.values() {
        let cells: Vec<String> = METRICS_COLUMNS
            .iter()
            .map(|c| row.get(*c).map(|v| format!("{v}")).unwrap_or_default())
            .collect();
        text.push_str(&cells.join(","));
        text.push('\n');
    }
    write_atomically(path, text.as_bytes())
}

/// Header of `steps.csv`. `gradient_norm`, `suboptimality` and `loss_evaluations` are written
/// by the full-batch line-search loop (empty otherwise).
pub const STEPS_COLUMNS: [&str; 7] = [
    "step",
    "epoch",
    "loss",
    "learning_rate",
    "gradient_norm",
    "suboptimality",
    "loss_evaluations",
];

/// Where a run came from and how it ended, `run.json`: one session per `train` invocation
/// (the first, then one per `--resume`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    pub seed: u64,
    pub sessions: Vec<Session>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// `YYYYMMDD-HHMMSS`, UTC.
    pub started_utc: String,
    pub sgdlab_version: String,
    /// `git describe --always --dirty` of the source sgdlab was built from ("unknown" outside
    /// a git checkout).
    pub git_commit: String,
    /// The device as configured and the backend it resolved to.
    pub device: String,
    pub backend: String,
    /// The epoch this session started after (0 for a fresh run).
    pub resumed_after_epoch: usize,
    /// `running`, `finished`, `target_reached`, `early_stopped`, `diverged`, `interrupted` or
    /// `failed`.
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_epoch: Option<usize>,
    /// The last epoch whose checkpoint holds finite parameters (set when the run diverged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_finite_checkpoint: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub divergence: Option<serde_json::Value>,
    /// Where early stopping ended the session: the epoch it stopped after, the best epoch,
    /// the metric and its best value, the patience and δ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_stopping: Option<serde_json::Value>,
    /// Why a `failed` session stopped: the one-line error it exited with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Session {
    /// A session starting now on `device` (its backend `backend`).
    pub fn start(device: &str, backend: &str, resumed_after_epoch: usize) -> Self {
        Self {
            started_utc: utc_timestamp(SystemTime::now()),
            sgdlab_version: env!("CARGO_PKG_VERSION").to_string(),
            git_commit: env!("SGDLAB_GIT_COMMIT").to_string(),
            device: device.to_string(),
            backend: backend.to_string(),
            resumed_after_epoch,
            outcome: "running".into(),
            ..Self::default()
        }
    }
}

impl RunDir {
    /// `run.json`, or a fresh record for `seed` when the run has none yet.
    pub fn load_run_info(&self, seed: u64) -> Result<RunInfo> {
        Ok(
            read_json_if_present(&self.run_info_path())?.unwrap_or(RunInfo {
                seed,
                sessions: Vec::new(),
            }),
        )
    }

    pub fn save_run_info(&self, info: &RunInfo) -> Result<()> {
        let text = serde_json::to_string_pretty(info).expect("serializable") + "\n";
        write_atomically(&self.run_info_path(), text.as_bytes())
    }
}

/// `artifacts/<name>-<YYYYMMDD-HHMMSS>`, with `-2`, `-3`, ... appended if that exists already.
/// `name` must be a plain name ([`check_run_name`]), so the run stays inside `artifacts`.
pub fn fresh_run_path(artifacts: &Path, name: &str) -> Result<PathBuf> {
    check_run_name(name)?;
    let stamp = utc_timestamp(SystemTime::now());
    let base = artifacts.join(format!("{name}-{stamp}"));
    let mut candidate = base.clone();
    let mut suffix = 2;
    while candidate.exists() {
        candidate = PathBuf::from(format!("{}-{suffix}", base.display()));
        suffix += 1;
    }
    Ok(candidate)
}

/// Refuses a run name that is not one plain path component: empty, `.` or `..`, with a path
/// separator, or absolute. A name becomes a directory under `artifacts/`, and must not lead
/// out of it; a directory chosen on purpose is what `--run-dir` is for.
pub fn check_run_name(name: &str) -> Result<()> {
    let plain = !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', '\0'])
        && Path::new(name).is_relative();
    if plain {
        Ok(())
    } else {
        Err(Error::new(format!(
            "run name {name:?} is not a plain name (no path separators, `.` or `..`); use --run-dir to choose a directory"
        )))
    }
}

/// `YYYYMMDD-HHMMSS` in UTC.
pub fn utc_timestamp(time: SystemTime) -> String {
    let seconds = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Howard Hinnant's days-since-1970 → (year, month, day) for the proleptic Gregorian calendar.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn run_names_stay_inside_artifacts() {
        let artifacts = Path::new("artifacts");
        for name in ["quickstart", "my run", "..x", "a.b", "ünï"] {
            let path = fresh_run_path(artifacts, name).unwrap();
            assert_eq!(path.parent(), Some(artifacts), "{name}");
        }
        for name in ["", ".", "..", "../x", "a/b", "/tmp/x", "a\\b", "x\0y"] {
            let message = fresh_run_path(artifacts, name).unwrap_err().to_string();
            assert!(message.contains("not a plain name"), "{message}");
        }
    }

    #[test]
    fn one_writer_at_a_time_and_readers_see_it() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::new(dir.path());
        assert_eq!(run.live_writer(), None);
        let lock = run.lock().unwrap();
        assert_eq!(run.live_writer(), Some(Some(std::process::id())));
        // A second writer, even in the same process, is refused, naming the dir and the pid.
        let message = run.lock().unwrap_err().to_string();
        assert!(
            message.contains(&dir.path().display().to_string()),
            "{message}"
        );
        assert!(
            message.contains(&format!("pid {}", std::process::id())),
            "{message}"
        );
        assert!(run.refuse_if_live().is_err());
        assert!(run.live_note().unwrap().contains("being trained"));
        drop(lock);
        assert_eq!(run.live_writer(), None);
        assert!(run.refuse_if_live().is_ok());
        // Released, the lock file holds what it held before.
        std::fs::write(run.lock_path(), b"1234\n").unwrap();
        drop(run.lock().unwrap());
        assert_eq!(std::fs::read(run.lock_path()).unwrap(), b"1234\n");
    }

    #[test]
    fn metrics_rows_need_a_whole_positive_epoch_each() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.csv");
        for (rows, fault) in [
            ("0,0.5", "epoch 0 is not an epoch number"),
            ("1.5,0.5", "epoch 1.5 is not"),
            ("NaN,0.5", "epoch NaN is not"),
            ("-2,0.5", "epoch -2 is not"),
            ("1e300,0.5", "is not an epoch number"),
            ("1,0.5\n1,0.4", ":3: a second row for epoch 1"),
        ] {
            std::fs::write(&path, format!("epoch,train_loss\n{rows}\n")).unwrap();
            let message = read_metrics_csv(&path).unwrap_err().to_string();
            assert!(message.contains(fault), "{rows:?}: {message}");
            assert!(message.contains("metrics.csv:"), "{message}");
        }
        std::fs::write(&path, "epoch,train_loss\n2,0.5\n1,0.25\n").unwrap();
        let rows = read_metrics_csv(&path).unwrap();
        assert_eq!(rows.keys().copied().collect::<Vec<_>>(), [1, 2]);
    }

    #[test]
    fn timestamps_are_utc_calendar_dates() {
        let t = UNIX_EPOCH + Duration::from_secs(1_795_910_400 + 3 * 3600 + 4 * 60 + 5);
        assert_eq!(utc_timestamp(t), "20261129-030405");
        assert_eq!(utc_timestamp(UNIX_EPOCH), "19700101-000000");
        // 2000-02-29, a leap day in a century year.
        assert_eq!(
            utc_timestamp(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "20000229-000000"
        );
    }
}
