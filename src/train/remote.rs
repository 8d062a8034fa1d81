//! Training on other machines' devices (`ws://HOST:PORT[/N]` in `training.devices` or
//! `training.device`): a server lost mid-run becomes one line naming it.
//!
//! What Burn 0.22.1 does when a server dies: pending and later reads of its tensors fail
//! (`try_into_data` returns an error, `into_data` and `into_scalar` panic; burn-remote's
//! `tests/websocket.rs`, `test_server_down_does_not_hang_client`), and the client does not
//! reconnect. burn-train catches a panic in a device's training worker and stops the epoch
//! with it (burn-train's `src/learner/supervised/step/train.rs`, `WorkerFailure`); a panic on
//! the main device's thread (the optimizer step, validation, the checkpoint's reads) reaches
//! `launch`'s caller. [`launch_guarded`] catches that one too, keeps the panic hook quiet
//! meanwhile (no backtrace on the terminal), and [`lost_servers`] finds which server is gone.

use std::sync::Mutex;
use std::time::Duration;

use crate::config::Config;
use crate::device::{DeviceSpec, RemoteSpec};

/// The remote devices `config` trains on, in its order.
pub(crate) fn remote_devices(config: &Config) -> Vec<RemoteSpec> {
    let training = &config.training;
    let names = match training.devices.as_slice() {
        [] => std::slice::from_ref(&training.device),
        devices => devices,
    };
    names
        .iter()
        .filter_map(|name| match DeviceSpec::parse(name) {
            Ok(DeviceSpec::Remote(remote)) => Some(remote),
            _ => None,
        })
        .collect()
}

/// The first panic message while the quiet hook was installed.
static FIRST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// Runs `launch`. With remote devices, a panic out of it is caught and returned as its
/// message, and every panic meanwhile (the workers' too, which burn-train catches itself) is
/// recorded instead of printed. Without remote devices `launch` runs as it is: a panic there
/// is a bug, and its backtrace is wanted.
pub(crate) fn launch_guarded<R>(
    remotes: &[RemoteSpec],
    launch: impl FnOnce() -> R,
) -> Result<R, String> {
    if remotes.is_empty() {
        return Ok(launch());
    }
    *FIRST_PANIC.lock().unwrap_or_else(|p| p.into_inner()) = None;
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| {
        let mut first = FIRST_PANIC.lock().unwrap_or_else(|p| p.into_inner());
        if first.is_none() {
            *first = Some(panic_text(info.payload()));
        }
    }));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(launch));
    std::panic::set_hook(previous);
    result.map_err(|payload| panic_text(payload.as_ref()))
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text.to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".into()
    }
}

/// How long a probe of one server may take before it counts as lost.
const PROBE_LIMIT: Duration = Duration::from_secs(10);

/// The servers among `remotes` that no longer answer: a one-element read on each device, at
/// once, each bounded by [`PROBE_LIMIT`].
pub(crate) fn lost_servers(remotes: &[RemoteSpec]) -> Vec<RemoteSpec> {
    let probes: Vec<_> = remotes
        .iter()
        .map(|remote| {
            let (sender, receiver) = std::sync::mpsc::channel();
            let name = remote.to_string();
            std::thread::spawn(move || {
                let answered = std::panic::catch_unwind(|| probe(&name)).unwrap_or(false);
                let _ = sender.send(answered);
            });
            receiver
        })
        .collect();
    remotes
        .iter()
        .zip(probes)
        .filter(|(_, probe)| !probe.recv_timeout(PROBE_LIMIT).unwrap_or(false))
        .map(|(remote, _)| remote.clone())
        .collect()
}

#[cfg(feature = "remote")]
fn probe(name: &str) -> bool {
    let Ok(device) = crate::device::resolve(name) else {
        return false;
    };
    let tensor = burn::tensor::Tensor::<1>::from_floats([1.0], &device) * 2.0;
    tensor.try_into_data().is_ok()
}

#[cfg(not(feature = "remote"))]
fn probe(_name: &str) -> bool {
    false
}

/// The one line for a training on `remotes` that stopped with `message`: the lost servers
/// named first.
pub(crate) fn failure_line(remotes: &[RemoteSpec], message: &str) -> String {
    // Burn's read error ends in a multi-line debug dump and advice for library users
    // ("use `try_into_scalar` instead"): its first clause says enough.
    let message = message.lines().next().unwrap_or_default();
    let message = message.split(": use `").next().unwrap_or(message);
    let lost = lost_servers(remotes);
    if lost.is_empty() {
        return format!("training on remote devices stopped by an error: {message}");
    }
    let names: Vec<String> = lost.iter().map(ToString::to_string).collect();
    format!(
        "lost remote device {} mid-run: its server stopped answering, and Burn does not reconnect ({message})",
        names.join(", ")
    )
}

/// How long a training on remote devices may go without a step before the watchdog ends it:
/// `SGDLAB_REMOTE_STALL_SECONDS`, 120 s unless set.
pub const STALL_ENV: &str = "SGDLAB_REMOTE_STALL_SECONDS";
const DEFAULT_STALL: Duration = Duration::from_secs(120);

fn stall_limit() -> Duration {
    std::env::var(STALL_ENV)
        .ok()
        .and_then(|text| text.trim().parse::<u64>().ok())
        .filter(|&seconds| seconds > 0)
        .map_or(DEFAULT_STALL, Duration::from_secs)
}

/// The last resort against a hang: Burn 0.22.1 does not always fail a read of a lost server.
/// Seen here: a server restarted on the address of one that was SIGKILLed, and another
/// server of the same run that had talked to the dead one, left a training worker blocked in
/// `into_scalar` for good (its read on the restarted server never answered). The watchdog
/// counts the steps; when none is taken for [`stall_limit`] it names the servers that do not
/// answer, records the failure in `run.json` and exits the process with status 1, since a
/// thread blocked inside Burn cannot be unwound.
pub(crate) struct Watchdog {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

/// What the watchdog needs to record a stall.
pub(crate) struct StallRecord {
    pub run: crate::run_dir::RunDir,
    pub run_info: crate::run_dir::RunInfo,
    pub config: Config,
}

impl Watchdog {
    pub(crate) fn start(
        remotes: Vec<RemoteSpec>,
        monitor: super::monitor::RunMonitor,
        record: StallRecord,
    ) -> Watchdog {
        use std::sync::atomic::{AtomicBool, Ordering};
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let limit = stall_limit();
        let handle = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut steps = monitor.steps_taken();
                let mut since = std::time::Instant::now();
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(200));
                    let now = monitor.steps_taken();
                    if now != steps {
                        (steps, since) = (now, std::time::Instant::now());
                    } else if since.elapsed() >= limit {
                        stalled(&remotes, limit, record);
                    }
                }
            })
        };
        Watchdog {
            stop,
            handle: Some(handle),
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

fn stalled(remotes: &[RemoteSpec], limit: Duration, record: StallRecord) -> ! {
    let StallRecord {
        run,
        mut run_info,
        config,
    } = record;
    let cause = format!("no training step for {} s ({STALL_ENV})", limit.as_secs());
    let mut line = failure_line(remotes, &cause);
    if let Some(session) = run_info.sessions.last_mut() {
        session.outcome = "failed".into();
        session.error = Some(line.clone());
    }
    let _ = run.save_run_info(&run_info);
    let kept = match super::checkpoint::last_resumable_epoch(&run, &config) {
        Ok(Some(epoch)) => format!(
            "epoch {epoch} is the last with its checkpoint and metrics row: once the cause is fixed, continue with --resume --run-dir {}",
            run.path.display()
        ),
        _ => "no epoch is complete".into(),
    };
    line.push_str(&format!("; {kept}"));
    eprintln!("error: {line}");
    std::process::exit(1);
}
