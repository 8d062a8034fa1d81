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
use crate::config::{Config, LineSearch, ModelConfig};
use crate::model::{Model, Problem};
use crate::run_dir::{RunDir, read_metrics_csv};
use crate::{Error, Result, bail};

/// Which checkpoint to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointChoice {
    /// The last epoch on disk.
    Last,
    /// The epoch with the lowest validation loss in `metrics.csv`.
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
            let rows = read_metrics_csv(&run.metrics_path())?;
            rows.iter()
                .filter(|(epoch, _)| epochs.contains(epoch))
                .filter_map(|(&epoch, row)| row.get("valid_loss").map(|&loss| (epoch, loss)))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(epoch, _)| epoch)
                .ok_or_else(|| {
                    Error::new(format!(
                        "--checkpoint best: {} has no validation loss to rank epochs by (validation_fraction = 0)",
                        run.path.display()
                    ))
                })
        }
    }
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
/// whole, see [`super::metrics::RunLog::record_epoch`]). The learner
/// writes metrics on a thread of its own, so a run killed just after a checkpoint can lack
/// that epoch's row; resuming from the epoch before re-runs it, identically.
pub(super) fn last_resumable_epoch(run: &RunDir, config: &Config) -> Result<Option<usize>> {
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
