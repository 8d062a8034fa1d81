//! A run's `train.log`: burn-train's own log lines (epochs started, the devices,
//! interruptions, warnings), for that run only.
//!
//! Why not burn-train's `FileApplicationLoggerInstaller`: it installs the process's global
//! tracing subscriber on the first launch, writing to that run's file, and no later launch can
//! replace it, so every later run of the process (`sgdlab experiment`, `sgdlab bench`, a test
//! binary) logged into the *first* run's `train.log`. It also writes one line per
//! optimizer step ("Iteration N"), a `write` system call each: at the lecture's m = 10 a step
//! is tens of microseconds. Here one subscriber is installed once per process and writes each
//! line to the file of the run its thread launched (burn-train logs from the thread that
//! launches the learner), so runs trained side by side (`sgdlab sweep --jobs J`) keep their
//! own lines; a line from any other thread goes to the run launched last. The per-step line is
//! dropped (`steps.csv` has every step).

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::ThreadId;

use burn::train::ApplicationLoggerInstaller;
use tracing_core::field::{Field, Visit};
use tracing_core::{Event, Level, LevelFilter, Subscriber};
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

/// The log lines' destinations: each launching thread's run's `train.log`, the run launched
/// last at the end.
static CURRENT: Mutex<Vec<Destination>> = Mutex::new(Vec::new());

/// A run's `train.log`, and the thread that launched the run.
struct Destination {
    thread: ThreadId,
    path: PathBuf,
    file: File,
}

/// Whether the process-wide subscriber is ours (`Err`: another was installed first).
static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();

/// What `SupervisedTraining::with_application_logger` gets for the run whose log is `path`.
pub struct TrainLog {
    path: PathBuf,
}

impl TrainLog {
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }
}

impl ApplicationLoggerInstaller for TrainLog {
    fn install(&self) -> Result<(), String> {
        // Appended to, as burn-train's was: a resumed run keeps its earlier sessions' lines.
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| format!("{}: {e}", self.path.display()))?;
        let thread = std::thread::current().id();
        let mut current = current();
        current.retain(|open| open.thread != thread);
        current.push(Destination {
            thread,
            path: self.path.clone(),
            file,
        });
        drop(current);
        INSTALLED.get_or_init(install_subscriber).clone()
    }
}

/// Stops writing to `path` (the run launched on this thread), unless a later launch on this
/// thread has already taken over.
pub fn close(path: &Path) {
    let thread = std::thread::current().id();
    current().retain(|open| !(open.thread == thread && open.path == path));
}

fn current() -> MutexGuard<'static, Vec<Destination>> {
    // A panic while holding the lock leaves nothing half-written that matters: a log line.
    CURRENT.lock().unwrap_or_else(PoisonError::into_inner)
}

/// burn-train's line format and filter (INFO and up, wgpu's chatter below WARN left out),
/// written to [`CURRENT`], less the per-step line.
fn install_subscriber() -> Result<(), String> {
    let lines = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(CurrentRun)
        .with_filter(LevelFilter::INFO)
        .with_filter(filter_fn(|metadata| {
            !(metadata
                .module_path()
                .is_some_and(|path| path.starts_with("wgpu"))
                && *metadata.level() >= Level::INFO)
        }));
    tracing_subscriber::registry()
        .with(lines)
        .with(SkipPerStepLines)
        .try_init()
        .map_err(|e| format!("train.log: {e}"))
}

/// Drops burn-train's "Iteration N" line, logged at every optimizer step.
struct SkipPerStepLines;

impl<S: Subscriber> Layer<S> for SkipPerStepLines {
    fn event_enabled(&self, event: &Event<'_>, _: Context<'_, S>) -> bool {
        // Lines from the `log` crate, as burn-train's are, all arrive with the target "log"
        // (the real one is a field): the message alone tells this line apart.
        if *event.metadata().level() != Level::INFO {
            return true;
        }
        let mut message = Message::default();
        event.record(&mut message);
        !message.0.starts_with("Iteration ")
    }
}

/// An event's `message` field, as text.
#[derive(Default)]
struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

/// Hands the formatter a writer into [`CURRENT`]: the file of the run this thread launched,
/// else of the run launched last; with no run launched the line is dropped.
struct CurrentRun;

impl<'a> MakeWriter<'a> for CurrentRun {
    type Writer = CurrentRun;

    fn make_writer(&'a self) -> Self::Writer {
        CurrentRun
    }
}

impl Write for CurrentRun {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        match destination(&mut current()) {
            Some(file) => file.write(bytes),
            None => Ok(bytes.len()),
        }
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        // One lock and one system call per line (the formatter hands over a whole line).
        match destination(&mut current()) {
            Some(file) => file.write_all(bytes),
            None => Ok(()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The file this thread's line goes to: its own run's, else the last launched run's.
fn destination(open: &mut [Destination]) -> Option<&mut File> {
    let thread = std::thread::current().id();
    let index = open
        .iter()
        .rposition(|open| open.thread == thread)
        .or_else(|| open.len().checked_sub(1))?;
    Some(&mut open[index].file)
}
