//! Checkpoints: which epoch a choice (`last`, `best`, a number) names, loading a model from
//! one, and what `--resume` checks before it continues a run. Burn's checkpointer writes them
//! (`checkpoint/model-E.bpk`, `optim-E.bpk`, `scheduler-E.bpk`); everything that reads them
//! back goes through here.

use burn::lr_scheduler::LrSchedulerRecord;
use burn::module::Module;
use burn::optim::OptimizerRecord;
use burn::store::ModuleRecord;
use burn::tensor::Device;

use super::Trainee;
use std::collections::BTreeMap;

use crate::config::{Config, EarlyStoppingMetric, LineSearch, ModelConfig};
use crate::data::Standardizer;
use crate::model::{Model, Problem};
use crate::prepare::prepare_run;
use crate::run_dir::{ModelInputs, RunDir, read_metrics_csv};
use crate::{Error, Result, bail};

/// Which checkpoint to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointChoice {
    /// The last epoch on disk.
    Last,
    /// The epoch with the lowest validation loss in `metrics.csv`, or with early stopping
    /// the best epoch by its metric.
    Best,
    Epoch(usize),
}

impl std::str::FromStr for CheckpointChoice {
    type Err = String;
    fn from_str(text: &str) -> std::result::Result<Self, String> {
        match text {
            "last" => Ok(Self::Last),
            "best" => Ok(Self::Best),
            _ => text
                .parse()
                .map(Self::Epoch)
                .map_err(|_| format!("expected last, best or an epoch number, got `{text}`")),
        }
    }
}

/// The model of `run` at `epoch`, on `device`.
pub fn load_model(
    run: &RunDir,
    epoch: usize,
    config: &ModelConfig,
    problem: Problem,
    device: &Device,
) -> Result<Model> {
    let path = run.model_checkpoint(epoch);
    check_header(&path)?;
    let record = ModuleRecord::load(&path)
        .map_err(|e| Error::new(format!("{}: cannot load checkpoint: {e}", path.display())))?;
    // The skeleton's values are overwritten by the record; the seed is irrelevant. The
    // learner checkpoints the `Trainee` (model + clipping setting), so load through it.
    let skeleton = Trainee::bare(Model::new(config, problem, 0, device)?);
    skeleton
        .try_load_record(record)
        .map(|trainee| trainee.model)
        .map_err(|e| {
            Error::new(format!(
                "{}: checkpoint does not fit the run's model (was config.toml edited?): {e}",
                path.display()
            ))
        })
}

/// A run's model loaded from a checkpoint, with what it takes to feed it new examples.
pub struct TrainedModel {
    /// The run's `config.toml`.
    pub config: Config,
    /// The checkpoint's epoch.
    pub epoch: usize,
    pub model: Model,
    pub inputs: ModelInputs,
    /// The run's feature transform, when it standardizes.
    pub standardizer: Option<Standardizer>,
    /// The device the model is on, as named.
    pub device_name: String,
    pub device: Device,
}

/// Loads the checkpoint `choice` names of `run` onto `device_name` (default: the run's
/// `training.device`), checking the run's files against each other first.
pub fn load_trained(
    run: &RunDir,
    choice: CheckpointChoice,
    device_name: Option<&str>,
) -> Result<TrainedModel> {
    let config = run.load_config()?;
    let device_name = device_name.unwrap_or(&config.training.device).to_string();
    let device = crate::device::resolve(&device_name)?;
    let standardizer = run.load_standardizer()?;
    if config.data.standardize && standardizer.is_none() {
        bail!(
            "{}: the run standardizes its features but standardizer.json is missing",
            run.path.display()
        );
    }
    let inputs = match run.load_inputs()? {
        Some(inputs) => inputs,
        // A run from before inputs.json: its training split says the same.
        None => {
            let prepared = prepare_run(&config, None)?;
            let train = prepared.splits.train;
            ModelInputs {
                features: train.feature_names.clone(),
                classes: train.classes(),
            }
        }
    };
    let standardizer = standardizer.filter(|_| config.data.standardize);
    if let Some(standardizer) = &standardizer {
        standardizer
            .validate(inputs.features.len())
            .map_err(|e| Error::new(format!("{}: {e}", run.standardizer_path().display())))?;
    }
    let epoch = choose_checkpoint(run, choice)?;
    let problem = Problem {
        dim: inputs.features.len(),
        classes: inputs.classes,
    };
    let model = load_model(run, epoch, &config.model, problem, &device)?;
    Ok(TrainedModel {
        config,
        epoch,
        model,
        inputs,
        standardizer,
        device_name,
        device,
    })
}

/// Refuses a checkpoint whose header declares more metadata than the file holds, before
/// Burn reads it: burn-pack 0.22.1's `Reader::from_file` allocates the declared metadata size
/// (up to 100 MiB) before it reads and finds the file short, so a corrupt byte in a 500-byte
/// checkpoint cost megabytes (found by `tests/fuzz_files.rs`). Anything else wrong with the
/// header is left to Burn's reader, which names it.
fn check_header(path: &std::path::Path) -> Result<()> {
    let cannot =
        |why: String| Error::new(format!("{}: cannot load checkpoint: {why}", path.display()));
    let mut file = std::fs::File::open(path).map_err(|e| cannot(e.to_string()))?;
    let size = file.metadata().map_err(|e| cannot(e.to_string()))?.len();
    let mut header = [0u8; burn_pack::HEADER_SIZE];
    if std::io::Read::read_exact(&mut file, &mut header).is_err() {
        return Err(cannot(format!(
            "{size} bytes, shorter than a checkpoint's {}-byte header",
            burn_pack::HEADER_SIZE
        )));
    }
    if let Ok(header) = burn_pack::Header::from_bytes(&header) {
        let needed = burn_pack::HEADER_SIZE as u64 + u64::from(header.metadata_size);
        if needed > size {
            return Err(cannot(format!(
                "truncated or corrupt: its header declares {} bytes of metadata, the file has {size} bytes",
                header.metadata_size
            )));
        }
    }
    Ok(())
}

/// The epoch `choice` names among the run's checkpoints, with a one-line error when there is
/// none.
pub fn choose_checkpoint(run: &RunDir, choice: CheckpointChoice) -> Result<usize> {
    let epochs = run.checkpoint_epochs();
    let Some(&last) = epochs.last() else {
        bail!("{}: no checkpoint found in checkpoint/", run.path.display());
    };
    match choice {
        CheckpointChoice::Last => Ok(last),
        CheckpointChoice::Epoch(epoch) if epochs.contains(&epoch) => Ok(epoch),
        CheckpointChoice::Epoch(epoch) => bail!(
            "--checkpoint {epoch}: no such checkpoint in {} (epochs {}..={last})",
            run.path.display(),
            epochs[0]
        ),
        CheckpointChoice::Best => {
            let metric = run.load_config()?.best_metric();
            let rows = read_metrics_csv(&run.metrics_path())?;
            let ranked = rows
                .iter()
                .filter(|(epoch, _)| epochs.contains(epoch))
                .filter_map(|(&epoch, row)| row.get(metric.column()).map(|&v| (epoch, v)));
            best_epoch(ranked, metric).ok_or_else(|| {
                Error::new(format!(
                    "--checkpoint best: {} has no {} to rank epochs by (validation_fraction = 0)",
                    run.path.display(),
                    match metric {
                        EarlyStoppingMetric::ValidLoss => "validation loss",
                        EarlyStoppingMetric::ValidAccuracy => "validation accuracy",
                    }
                ))
            })
        }
    }
}

/// The epoch with the best finite value of `metric` (the first of equal ones).
pub fn best_epoch(
    values: impl IntoIterator<Item = (usize, f64)>,
    metric: EarlyStoppingMetric,
) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (epoch, value) in values {
        if value.is_finite() && best.is_none_or(|(_, b)| metric.improves(value, b, 0.0)) {
            best = Some((epoch, value));
        }
    }
    best.map(|(epoch, _)| epoch)
}

/// The record files of a checkpoint, as burn-train's checkpointers name them.
pub const CHECKPOINT_PARTS: [&str; 3] = ["model", "optim", "scheduler"];

/// Every epoch with a file in `checkpoint/`, and which of [`CHECKPOINT_PARTS`] it has.
pub fn checkpoint_parts(run: &RunDir) -> BTreeMap<usize, Vec<&'static str>> {
    let mut epochs: BTreeMap<usize, Vec<&'static str>> = BTreeMap::new();
    for entry in std::fs::read_dir(run.checkpoint_dir())
        .into_iter()
        .flatten()
        .flatten()
    {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        for part in CHECKPOINT_PARTS {
            let epoch = name
                .strip_prefix(part)
                .and_then(|rest| rest.strip_prefix('-'))
                .and_then(|rest| rest.strip_suffix(".bpk"))
                .and_then(|epoch| epoch.parse().ok());
            if let Some(epoch) = epoch {
                epochs.entry(epoch).or_default().push(part);
            }
        }
    }
    epochs
}

/// Deletes what a killed writer left in `checkpoint/`: Burn writes each record to a scratch
/// sibling `<file>.<pid>-<n>.tmp` renamed into place, and a SIGKILL mid-write leaves it. Call
/// it when no checkpoint is being written.
pub fn remove_scratch_files(run: &RunDir) {
    for entry in std::fs::read_dir(run.checkpoint_dir())
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let scratch = name.ends_with(".tmp")
            && CHECKPOINT_PARTS
                .iter()
                .any(|part| name.starts_with(&format!("{part}-")) && name.contains(".bpk."));
        if scratch {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Deletes every file of `epoch`'s checkpoint.
pub fn delete_checkpoint(run: &RunDir, epoch: usize) -> Result<()> {
    for part in CHECKPOINT_PARTS {
        let path = run.checkpoint_dir().join(format!("{part}-{epoch}.bpk"));
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("delete", &path, e)),
        }
    }
    Ok(())
}

/// Checks that the checkpoint of `epoch` in `run` can be continued and returns its model (on
/// `device`): the model record loads and fits the model's shapes, and (for the learner) the
/// optimizer and scheduler records load. Each failure names the file.
pub fn check_resume_checkpoint(
    run: &RunDir,
    epoch: usize,
    config: &Config,
    problem: Problem,
    device: &Device,
) -> Result<Model> {
    let model = load_model(run, epoch, &config.model, problem, device)?;
    if config.line_search() != LineSearch::None {
        // Full-batch line search is plain GD: it checkpoints the model only.
        return Ok(model);
    }
    let dir = run.checkpoint_dir();
    let optim = dir.join(format!("optim-{epoch}.bpk"));
    check_header(&optim)?;
    OptimizerRecord::load(&optim)
        .map_err(|e| Error::new(format!("{}: cannot load checkpoint: {e}", optim.display())))?;
    let scheduler = dir.join(format!("scheduler-{epoch}.bpk"));
    check_header(&scheduler)?;
    LrSchedulerRecord::load(&scheduler).map_err(|e| {
        Error::new(format!(
            "{}: cannot load checkpoint: {e}",
            scheduler.display()
        ))
    })?;
    Ok(model)
}

/// The last epoch a run can resume from: its checkpoint is complete (model, and for the
/// learner optimizer and schedule state) *and* its metrics row is on disk (rows are written
/// whole, see `RunLog::record_epoch` in `train/metrics.rs`). The learner
/// writes metrics on a thread of its own, so a run killed just after a checkpoint can lack
/// that epoch's row; resuming from the epoch before re-runs it, identically.
pub fn last_resumable_epoch(run: &RunDir, config: &Config) -> Result<Option<usize>> {
    let rows = if run.metrics_path().exists() {
        read_metrics_csv(&run.metrics_path())?
    } else {
        Default::default()
    };
    let recorded = |epoch: &usize| rows.contains_key(epoch);
    // Full-batch line search is plain GD: no optimizer or schedule state to checkpoint.
    let complete = |epoch: &usize| {
        config.line_search() != LineSearch::None
            || ["optim", "scheduler"].iter().all(|part| {
                run.checkpoint_dir()
                    .join(format!("{part}-{epoch}.bpk"))
                    .exists()
            })
    };
    Ok(run
        .checkpoint_epochs()
        .into_iter()
        .rev()
        .find(|epoch| complete(epoch) && recorded(epoch)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_promising_more_than_the_file_holds_is_refused_before_burn_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model-1.bpk");
        // A valid header declaring 64 MiB of metadata, in a 100-byte file.
        let mut bytes = burn_pack::Header::new(64 << 20).into_bytes().to_vec();
        bytes.resize(100, 0);
        std::fs::write(&path, &bytes).unwrap();
        let message = check_header(&path).unwrap_err().to_string();
        assert!(message.contains("model-1.bpk"), "{message}");
        assert!(
            message.contains("declares 67108864 bytes of metadata, the file has 100"),
            "{message}"
        );
        std::fs::write(&path, b"BURN").unwrap();
        let message = check_header(&path).unwrap_err().to_string();
        assert!(message.contains("shorter than a checkpoint"), "{message}");
        // A header that fits is left to Burn's reader.
        let mut bytes = burn_pack::Header::new(10).into_bytes().to_vec();
        bytes.resize(100, 0);
        std::fs::write(&path, &bytes).unwrap();
        assert!(check_header(&path).is_ok());
    }
}
