//! `sgdlab serve`: this machine's devices as a Burn remote server, over WebSocket, for
//! `sgdlab train --devices ws://HOST:PORT,...` on another machine (docs/remote.md).
//!
//! Burn does the serving (`burn::server::RemoteServer`, burn-tensor's `src/server.rs`): its
//! blocking `serve` runs the sessions until SIGINT or SIGTERM. sgdlab adds what a user meets:
//! a token that is never optional and never on the command line, the address bound exactly
//! as given, and one line per session event: the authorizer Burn calls on every session a
//! client opens (burn-remote's `src/server/authorize.rs`, called before the device index is
//! checked, `src/server/pump.rs`) prints the accepted and refused ones, and Burn's telemetry
//! probe (`src/telemetry.rs`, `TelemetryEvent::SessionClosed`) the ends.

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

    use burn::server::telemetry::{DrainStatus, TelemetryEvent, TelemetryProbe};
    use burn::server::{
        AuthorizationRequest, PeerAuthorizer, RemoteServer, TokenAuthorizer, WebSocketTransport,
    };

    use super::ServeRequest;
    use crate::run_dir::utc_timestamp;
    use crate::{Error, Result, device};

    /// Events a telemetry subscriber keeps before the oldest are dropped: a session's ops are
    /// events too, and only the session ends are read.
    const TELEMETRY_CAPACITY: usize = 1024;
    /// How often the session log reads Burn's telemetry.
    const TELEMETRY_POLL: Duration = Duration::from_millis(100);

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
        // on standard error, unless RUST_LOG says otherwise. Burn's `serve` installs no
        // subscriber when one is installed (`ServerLogging::install`).
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error"));
        let _ = tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .with_env_filter(filter)
            .try_init();
        let (probe, mut subscription) = TelemetryProbe::channel(TELEMETRY_CAPACITY);
        let stop = Arc::new(AtomicBool::new(false));
        let session_log = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut open: HashMap<String, u32> = HashMap::new();
                let mut events = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let status = subscription.drain_into(&mut events);
                    for event in events.drain(..) {
                        match &*event {
                            TelemetryEvent::SessionOpened { session, device } => {
                                open.insert(format!("{session:?}"), *device);
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
                    std::thread::sleep(TELEMETRY_POLL);
                }
            })
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
        let served = RemoteServer::new(devices)
            .with_authorizer(authorizer)
            .with_telemetry(probe)
            .serve(WebSocketTransport::from_listener(listener));
        stop.store(true, Ordering::Relaxed);
        let _ = session_log.join();
        served.map_err(|e| Error::new(format!("sgdlab serve on {address}: {e}")))?;
        log("stopped");
        Ok(())
    }
}
