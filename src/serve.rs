//! `sgdlab serve`: this machine's devices as a Burn remote server, over WebSocket, for
//! `sgdlab train --devices ws://HOST:PORT,...` on another machine (docs/remote.md).
//!
//! Burn does the serving (`burn::server::RemoteServer::serve_async`, burn-tensor's
//! `src/server.rs`), until SIGINT or SIGTERM. sgdlab adds what a user meets: a token that is
//! never optional and never on the command line, the address bound exactly as given, one line
//! per session event (the authorizer Burn calls on every session a client opens, burn-remote's
//! `src/server/authorize.rs`, called before the device index is checked, `src/server/pump.rs`,
//! prints the accepted and refused ones, and Burn's telemetry probe, `src/telemetry.rs`,
//! `TelemetryEvent::SessionClosed`, the ends), and a fresh transport whenever no session is
//! open, so that a run resumed after another server was restarted on its address works (see
//! `serve_in_generations`).

use std::path::PathBuf;

use crate::{Result, bail};

/// What `sgdlab serve` is asked.
#[derive(Debug, Clone)]
pub struct ServeRequest {
    /// `HOST:PORT` to listen on, bound exactly as given (port 0: one the system picks).
    pub listen: String,
    /// The file holding the token clients must present.
    pub token_file: PathBuf,
    /// The local devices to host, by name (`cpu`, `cuda:1`, ...); a client picks one by its
    /// position in this list.
    pub devices: Vec<String>,
}

/// Serves until SIGINT or SIGTERM; an error if it cannot start.
pub fn serve(request: &ServeRequest) -> Result<()> {
    // Before anything else, so that a bad token file is the error whatever else is wrong.
    let token = crate::device::read_token_file(&request.token_file)?;
    if request.devices.is_empty() {
        bail!("sgdlab serve: no device to serve (--device cpu, for example)");
    }
    for name in &request.devices {
        if let crate::device::DeviceSpec::Remote(_) = crate::device::DeviceSpec::parse(name)? {
            bail!("sgdlab serve --device {name}: a server hosts its own devices, not remote ones");
        }
    }
    imp::serve(request, token)
}

#[cfg(not(feature = "remote"))]
mod imp {
    use super::ServeRequest;
    use crate::{Result, bail};

    pub(super) fn serve(_request: &ServeRequest, _token: String) -> Result<()> {
        bail!(
            "sgdlab serve is not compiled in: rebuild with `cargo build --release --features remote`"
        )
    }
}

#[cfg(feature = "remote")]
mod imp {
    use std::collections::HashMap;
    use std::io::Write;
    use std::net::TcpListener;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, SystemTime};

    use burn::server::telemetry::{
        DrainStatus, TelemetryEvent, TelemetryProbe, TelemetrySubscription,
    };
    use burn::server::{
        AuthorizationRequest, PeerAuthorizer, RemoteServer, TokenAuthorizer, WebSocketTransport,
    };
    use tokio::sync::Notify;

    use super::ServeRequest;
    use crate::run_dir::utc_timestamp;
    use crate::{Error, Result, device};

    /// Events the session log may fall behind by before the oldest are dropped: a session's
    /// ops are events too, and only the session opens and ends are read.
    const TELEMETRY_CAPACITY: usize = 1 << 16;
    /// How often the session log reads Burn's telemetry.
    const TELEMETRY_POLL: Duration = Duration::from_millis(10);

    /// One line of the session log, on standard output, timestamped.
    fn log(line: &str) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{} {line}", utc_timestamp(SystemTime::now()));
        let _ = out.flush();
    }

    pub(super) fn serve(request: &ServeRequest, token: String) -> Result<()> {
        let devices = request
            .devices
            .iter()
            .map(|name| device::resolve(name))
            .collect::<Result<Vec<_>>>()?;
        let listener = TcpListener::bind(&request.listen)
            .map_err(|e| Error::new(format!("cannot listen on {}: {e}", request.listen)))?;
        let address = listener
            .local_addr()
            .map_err(|e| Error::new(format!("cannot listen on {}: {e}", request.listen)))?;
        let tokens = TokenAuthorizer::new(token)
            .map_err(|e| Error::new(format!("token file {}: {e}", request.token_file.display())))?;
        let count = devices.len();
        let authorizer = move |request: AuthorizationRequest<'_>| {
            let (client, index) = (request.client, request.device_index);
            match tokens.authorize(request) {
                Err(reason) => {
                    log(&format!("refused {client} (device {index}): wrong token"));
                    Err(reason)
                }
                // Burn refuses it next, telling the client how many devices there are.
                Ok(()) if index as usize >= count => {
                    log(&format!(
                        "refused {client}: no device {index} (this server hosts {count})"
                    ));
                    Ok(())
                }
                Ok(()) => {
                    log(&format!("session opened by {client} on device {index}"));
                    Ok(())
                }
            }
        };
        // Burn's own log lines (tracing, at info) would repeat the session lines: errors only,
        // on standard error, unless RUST_LOG says otherwise. `serve_async` installs no
        // subscriber of its own.
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error"));
        let _ = tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .with_env_filter(filter)
            .try_init();
        let (probe, subscription) = TelemetryProbe::channel(TELEMETRY_CAPACITY);
        let server = RemoteServer::new(devices)
            .with_authorizer(authorizer)
            .with_telemetry(probe);
        let idle = Arc::new(Notify::new());
        let stop = Arc::new(AtomicBool::new(false));
        let session_log = {
            let (idle, stop) = (idle.clone(), stop.clone());
            std::thread::spawn(move || log_sessions(subscription, &idle, &stop))
        };
        let names: Vec<String> = request
            .devices
            .iter()
            .enumerate()
            .map(|(i, name)| format!("{i} = {name} ({})", device::backend_name(name)))
            .collect();
        println!(
            "sgdlab serve: ws://{address}, {count} device(s): {}",
            names.join(", ")
        );
        if !address.ip().is_loopback() {
            println!(
                "note: WebSocket is unencrypted: serve only on a trusted network, or on 127.0.0.1 behind an SSH tunnel (docs/remote.md)"
            );
        }
        println!("stop with Ctrl+C or SIGTERM");
        let _ = std::io::stdout().flush();
        let served = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
            .and_then(|runtime| runtime.block_on(serve_in_generations(&server, &listener, &idle)));
        stop.store(true, Ordering::Relaxed);
        let _ = session_log.join();
        served.map_err(|e| Error::new(format!("sgdlab serve on {address}: {e}")))?;
        log("stopped");
        Ok(())
    }

    /// Serves on `listener` until SIGINT or SIGTERM, on a fresh Burn transport each time the
    /// server has been idle (`idle` notified).
    ///
    /// Why: Burn's WebSocket server keeps, for as long as it serves, one connection to each
    /// server it downloaded tensors from (burn-communication 0.22.1's
    /// `ExternalCommService::get_data_stream`, `src/external_comm.rs`: never evicted). When
    /// such a peer is killed and restarted on its address, that connection is dead, and the
    /// next run's first transfer from the peer fails, then panics the session ("Failed to send
    /// download id: AlreadyClosed"), which leaves the client waiting. A transport of its own
    /// per run (between runs no session holds anything) dials every peer afresh. The
    /// listening socket stays bound throughout: a client connecting meanwhile waits in its
    /// backlog.
    async fn serve_in_generations(
        server: &RemoteServer,
        listener: &TcpListener,
        idle: &Notify,
    ) -> std::result::Result<(), String> {
        let mut stop = std::pin::pin!(shutdown_signal());
        loop {
            let socket = listener.try_clone().map_err(|e| e.to_string())?;
            let serving = server.serve_async(WebSocketTransport::from_listener(socket));
            tokio::select! {
                served = serving => return served.map_err(|e| e.to_string()),
                stopped = &mut stop => return stopped,
                () = idle.notified() => {
                    log("no session open: connections to other servers closed, so a restarted one is dialed afresh");
                }
            }
        }
    }

    /// Resolves on Ctrl+C or, on Unix, SIGTERM (what Burn's blocking `serve` waits for,
    /// burn-remote's `src/server/spawn.rs`, `os_shutdown_signal`).
    async fn shutdown_signal() -> std::result::Result<(), String> {
        let failed = |e: std::io::Error| format!("cannot install the signal handlers: {e}");
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let mut terminate = signal(SignalKind::terminate()).map_err(failed)?;
            tokio::select! {
                interrupted = tokio::signal::ctrl_c() => interrupted.map_err(failed),
                _ = terminate.recv() => Ok(()),
            }
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await.map_err(failed)
        }
    }

    /// Until `stop`: a line per session closed, from Burn's telemetry, and `idle` notified
    /// each time the last open session closes, within [`TELEMETRY_POLL`]: at once, since a
    /// session the next run opens on the old transport would meet its dead connections.
    ///
    /// If the log ever falls behind (telemetry dropped events), it can no longer tell that no
    /// session is open, and stops notifying: the transport is then kept for good, as Burn's
    /// own `serve` keeps it.
    fn log_sessions(mut subscription: TelemetrySubscription, idle: &Notify, stop: &AtomicBool) {
        let mut open: HashMap<String, u32> = HashMap::new();
        let mut events = Vec::new();
        let mut used = false;
        let mut counted = true;
        while !stop.load(Ordering::Relaxed) {
            let status = subscription.drain_into(&mut events);
            if let DrainStatus::Open { lagged } = status
                && lagged > 0
                && counted
            {
                counted = false;
                log(&format!(
                    "the session log fell {lagged} telemetry events behind: some sessions may close unlogged, and the transport is no longer renewed when idle"
                ));
            }
            for event in events.drain(..) {
                match &*event {
                    TelemetryEvent::SessionOpened { session, device } => {
                        open.insert(format!("{session:?}"), *device);
                        used = true;
                    }
                    TelemetryEvent::SessionClosed { session } => {
                        let device = open.remove(&format!("{session:?}"));
                        let on = device.map(|d| format!(" on device {d}"));
                        log(&format!(
                            "session closed{} ({} open)",
                            on.unwrap_or_default(),
                            open.len()
                        ));
                    }
                    _ => {}
                }
            }
            if let DrainStatus::Closed = status {
                break;
            }
            if counted && used && open.is_empty() {
                used = false;
                idle.notify_one();
            }
            std::thread::sleep(TELEMETRY_POLL);
        }
    }
}
