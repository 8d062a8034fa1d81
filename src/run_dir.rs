//! The layout of a run directory, shared by `train` (which writes it), `--resume` and `eval`
//! (which read it back):
//!
//! ```text
//! artifacts/<config-name>-<UTC timestamp>/
//!   config.toml          the resolved config (every default filled in)
//!   standardizer.json    the feature transform fitted on the training split (if any)
//!   metrics.csv          one row per epoch: train/valid loss and accuracy, α, elapsed time
//!   steps.csv            one row per optimizer step: batch loss and the α in force
//!   parameters.csv       with trace_parameters: every parameter after every step
//!   checkpoint/          model-E.bpk, optim-E.bpk, scheduler-E.bpk for every epoch E
//!   train/ valid/        burn-train's per-batch metric logs
//!   eval.json            the last `sgdlab eval` result
//! ```

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::config::Config;
use crate::data::Standardizer;
use crate::{Error, Result};

#[derive(Debug, Clone)]
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
    pub fn parameters_path(&self) -> PathBuf {
        self.path.join("parameters.csv")
    }
    pub fn checkpoint_dir(&self) -> PathBuf {
        self.path.join("checkpoint")
    }
    pub fn model_checkpoint(&self, epoch: usize) -> PathBuf {
        self.checkpoint_dir().join(format!("model-{epoch}.bpk"))
    }
    pub fn eval_path(&self) -> PathBuf {
        self.path.join("eval.json")
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
        let path = self.standardizer_path();
        if !path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io("read", &path, e))?;
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| Error::new(format!("{}: {e}", path.display())))
    }

    pub fn save_standardizer(&self, standardizer: &Standardizer) -> Result<()> {
        let path = self.standardizer_path();
        let text = serde_json::to_string_pretty(standardizer).expect("serializable");
        std::fs::write(&path, text).map_err(|e| Error::io("write", &path, e))
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

    /// The last epoch whose model, optimizer and scheduler checkpoints are all on disk: where
    /// `--resume` starts from.
    pub fn last_complete_checkpoint(&self) -> Option<usize> {
        let dir = self.checkpoint_dir();
        self.checkpoint_epochs().into_iter().rev().find(|epoch| {
            ["optim", "scheduler"]
                .iter()
                .all(|part| dir.join(format!("{part}-{epoch}.bpk")).exists())
        })
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
