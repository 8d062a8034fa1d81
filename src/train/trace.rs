//! `parameters.csv`: with `[training] trace_parameters = true`, one row per optimizer step with
//! the step, the learning rate in force, the batch loss, and every parameter value after the
//! step (row 0: the initial parameters). For optimizer paths and trajectory comparisons, so
//! limited to small models.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;

use crate::model::Model;
use crate::{Error, Result, bail};

/// The most parameters a trace may hold (a row per step of that many columns).
pub const MAX_TRACED_PARAMETERS: usize = 10_000;

/// Every parameter of `model` flattened, in the module's order (each layer's weight
/// row-major, then its bias).
pub fn flat_parameters(model: &Model) -> Vec<f32> {
    struct Collect(Vec<f32>);
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let values = param
                .val()
                .into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .expect("float parameters read as f32");
            self.0.extend(values);
        }
    }
    let mut collect = Collect(Vec::new());
    model.visit(&mut collect);
    collect.0
}

/// Refuses models too large to trace.
pub fn check_size(model: &Model) -> Result<()> {
    let count = model.num_params();
    if count > MAX_TRACED_PARAMETERS {
        bail!(
            "training.trace_parameters: the model has {count} parameters; traces are limited to {MAX_TRACED_PARAMETERS}"
        );
    }
    Ok(())
}

/// An open `parameters.csv`, shared (the learner clones what it trains).
#[derive(Debug, Clone)]
pub struct ParameterTrace {
    inner: Arc<Mutex<TraceFile>>,
}

#[derive(Debug)]
struct TraceFile {
    path: PathBuf,
    file: std::io::BufWriter<std::fs::File>,
    step: usize,
    pending_loss: Option<f64>,
    failed: bool,
}

impl ParameterTrace {
    /// Starts `path` for `model`: a header and row 0 for a fresh run; on resume after
    /// `steps_done` steps, the rows up to that step are kept.
    pub fn start(path: &Path, model: &Model, steps_done: Option<usize>) -> Result<Self> {
        check_size(model)?;
        let count = model.num_params();
        let mut text = String::from("step,learning_rate,loss");
        for j in 0..count {
            text.push_str(&format!(",theta_{j}"));
        }
        text.push('\n');
        match steps_done {
            None => text.push_str(&row(0, None, None, &flat_parameters(model))),
            Some(done) => {
                let old = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
                let columns = count + 3;
                for line in old.split_inclusive('\n').skip(1) {
                    // Whole rows only: a kill mid-append can cut the last one short.
                    let Some(line) = line.strip_suffix('\n') else {
                        break;
                    };
                    let complete = line.split(',').count() == columns;
                    let step: Option<usize> = line.split(',').next().and_then(|s| s.parse().ok());
                    if complete && step.is_some_and(|step| step <= done) {
                        text.push_str(line);
                        text.push('\n');
                    }
                }
            }
        }
        crate::files::write_atomically(path, text.as_bytes())?;
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| Error::io("open", path, e))?;
        Ok(Self {
            inner: Arc::new(Mutex::new(TraceFile {
                path: path.to_path_buf(),
                file: std::io::BufWriter::new(file),
                step: steps_done.unwrap_or(0),
                pending_loss: None,
                failed: false,
            })),
        })
    }

    /// The batch loss of the step about to be taken.
    pub fn set_loss(&self, loss: f64) {
        self.lock().pending_loss = Some(loss);
    }

    /// Appends the row of the step just taken.
    pub fn record(&self, learning_rate: f64, model: &Model) {
        let parameters = flat_parameters(model);
        let mut trace = self.lock();
        trace.step += 1;
        let line = row(
            trace.step,
            Some(learning_rate),
            trace.pending_loss.take(),
            &parameters,
        );
        let written = trace
            .file
            .write_all(line.as_bytes())
            .and_then(|()| trace.file.flush());
        if let Err(e) = written
            && !trace.failed
        {
            trace.failed = true;
            eprintln!("warning: cannot write {}: {e}", trace.path.display());
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, TraceFile> {
        self.inner
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

fn row(step: usize, learning_rate: Option<f64>, loss: Option<f64>, parameters: &[f32]) -> String {
    let cell = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let mut line = format!("{step},{},{}", cell(learning_rate), cell(loss));
    for value in parameters {
        line.push_str(&format!(",{value}"));
    }
    line.push('\n');
    line
}
