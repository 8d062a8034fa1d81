//! `sgdlab serve`: this machine's devices as a Burn remote server, over WebSocket or Iroh, for
//! `sgdlab train --devices ws://HOST:PORT,...` (or `iroh://ID@HOST:PORT,...`) on another
//! machine (docs/remote.md).
//!
//! Burn does the serving (`burn::server::RemoteServer::serve_async`, burn-tensor's
//! `src/server.rs`), until SIGINT or SIGTERM. sgdlab adds what a user meets: a token that is
//! never optional and never on the command line, the address bound exactly as given, one line
//! per session event (the authorizer Burn calls on every session a client opens, burn-remote's
//! `src/server/authorize.rs`, called before the device index is checked, `src/server/pump.rs`,
//! prints the accepted and refused ones, and Burn's telemetry probe, `src/telemetry.rs`,
//! `TelemetryEvent::SessionClosed`, the ends), and a fresh transport whenever no session is
//! open, so that a run resumed after another server was restarted on its address works (see
//! `serve_in_generations`). Over Iroh it binds its own endpoint (`serve_iroh`): the exact
//! address, no relays, no port mapper.

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
    /// How clients reach the server.
    pub transport: Transport,
    /// Iroh only: the file holding the server's secret key, whose public half is the id
    /// clients dial; created (readable by its owner only) if missing. None: a new id each start.
    pub key_file: Option<PathBuf>,
}

/// The transports `sgdlab serve` offers: Burn's two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Transport {
    /// WebSocket over TCP (`ws://HOST:PORT`): unencrypted, for a trusted network or a tunnel.
    #[default]
    Ws,
    /// Iroh, QUIC over UDP (`iroh://ID@HOST:PORT`): encrypted, the server authenticated by its
    /// id; relays and address lookup disabled, so clients dial the address directly.
    Iroh,
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
    if request.key_file.is_some() && request.transport != Transport::Iroh {
        bail!("sgdlab serve --key-file is the Iroh server's identity: pass --transport iroh too");
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
        AuthorizationRequest, BURN_REMOTE_ALPN, ClientId, IrohIdentity, PeerAuthorizer,
        RemoteServer, TokenAuthorizer, WebSocketTransport,
    };
    use std::path::Path;
    use tokio::sync::Notify;

    use super::{ServeRequest, Transport};
    use crate::run_dir::utc_timestamp;
    use crate::{Error, Result, bail, device};

    /// Events the session log may fall behind by before the oldest are dropped: a session's
    /// ops are events too, and only the session opens and ends are read.
    const TELEMETRY_CAPACITY: usize = 1 << 16;
    /// How often the session log reads Burn's telemetry.
    const TELEMETRY_POLL: Duration = Duration::from_millis(10);
    /// The session log's line when a server renews its transport, over WebSocket or Iroh.
    const RENEWED: &str =
        "no session open: connections to other servers closed, so a restarted one is dialed afresh";

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
        // Bound (WebSocket) or loaded (Iroh's key) before the session log starts: each failure
        // is one line naming the address or the file.
        let transport = match request.transport {
            Transport::Ws => {
                let listener = TcpListener::bind(&request.listen)
                    .map_err(|e| Error::new(format!("cannot listen on {}: {e}", request.listen)))?;
                Bound::WebSocket(listener)
            }
            Transport::Iroh => Bound::Iroh(Box::new(identity(request.key_file.as_deref())?)),
        };
        let tokens = TokenAuthorizer::new(token)
            .map_err(|e| Error::new(format!("token file {}: {e}", request.token_file.display())))?;
        let count = devices.len();
        let authorizer = move |request: AuthorizationRequest<'_>| {
            let index = request.device_index;
            // An Iroh client's id is 64 hex digits; its first 10 tell sessions apart.
            let client = match request.client {
                ClientId::Iroh(id) => format!("Iroh client {}", id.fmt_short()),
                other => other.to_string(),
            };
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
        // on standard error, unless RUST_LOG says otherwise. `serve_async` and `into_protocol`
        // install no subscriber of their own.
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
        let names: Vec<String> = request
            .devices
            .iter()
            .enumerate()
            .map(|(i, name)| format!("{i} = {name} ({})", device::backend_name(name)))
            .collect();
        let announce = |url: &str, notes: &[&str]| {
            println!(
                "sgdlab serve: {url}, {count} device(s): {}",
                names.join(", ")
            );
            for note in notes {
                println!("note: {note}");
            }
            println!("stop with Ctrl+C or SIGTERM");
            let _ = std::io::stdout().flush();
        };
        let idle = Arc::new(Notify::new());
        let stop = Arc::new(AtomicBool::new(false));
        let session_log = {
            let (idle, stop) = (idle.clone(), stop.clone());
            std::thread::spawn(move || log_sessions(subscription, &idle, &stop))
        };
        let served = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
            .and_then(|runtime| match transport {
                Bound::WebSocket(listener) => {
                    let address = listener.local_addr().map_err(|e| e.to_string())?;
                    let unencrypted = "WebSocket is unencrypted: serve only on a trusted network, or on 127.0.0.1 behind an SSH tunnel, or use --transport iroh (docs/remote.md)";
                    let notes: &[&str] = if address.ip().is_loopback() {
                        &[]
                    } else {
                        &[unencrypted]
                    };
                    announce(&format!("ws://{address}"), notes);
                    runtime.block_on(serve_in_generations(&server, &listener, &idle))
                }
                Bound::Iroh(identity) => {
                    let ephemeral = "a new server id at each start: --key-file FILE keeps one";
                    let notes: &[&str] = if request.key_file.is_none() {
                        &[ephemeral]
                    } else {
                        &[]
                    };
                    runtime.block_on(serve_iroh(
                        &server,
                        &request.listen,
                        *identity,
                        &idle,
                        |url| announce(url, notes),
                    ))
                }
            });
        stop.store(true, Ordering::Relaxed);
        let _ = session_log.join();
        served.map_err(|e| Error::new(format!("sgdlab serve on {}: {e}", request.listen)))?;
        log("stopped");
        Ok(())
    }

    /// What a server serves on, ready before it starts.
    enum Bound {
        WebSocket(TcpListener),
        Iroh(Box<IrohIdentity>),
    }

    /// The Iroh server's identity: the key in `key_file`, created there if missing (by Burn,
    /// readable by its owner only), refused if others may read it; a random one without a file.
    fn identity(key_file: Option<&Path>) -> Result<IrohIdentity> {
        let Some(path) = key_file else {
            return Ok(IrohIdentity::random());
        };
        #[cfg(unix)]
        if let Ok(metadata) = std::fs::metadata(path) {
            use std::os::unix::fs::PermissionsExt;
            let mode = metadata.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                bail!(
                    "key file {} is readable by others (mode {mode:o}): whoever reads it can pose as this server; chmod 600 {}",
                    path.display(),
                    path.display()
                );
            }
        }
        IrohIdentity::load_or_create(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidData => Error::new(format!(
                "key file {} is not a 32-byte Iroh key (name a missing file to have one made)",
                path.display()
            )),
            _ => Error::io("read or create key file", path, e),
        })
    }

    /// Serves over Iroh on an endpoint of its own until SIGINT or SIGTERM, calling `announce`
    /// with the `iroh://ID@ADDRESS` clients dial once it is bound; a fresh endpoint on the same
    /// address each time the server has been idle (`idle` notified).
    ///
    /// Why not Burn's `IrohTransport`: it binds `0.0.0.0:PORT` and `[::]:PORT` whatever the
    /// address asked (burn-remote's `src/transport/iroh/server.rs`, `with_port`), cannot tell
    /// the port it bound, and keeps iroh's port mapper on (UPnP, PCP and NAT-PMP probes of the
    /// gateway). This endpoint binds exactly `listen`, without relays, address lookup or port
    /// mapper; `RemoteServer::into_protocol` serves Burn's protocol on it, as burn-remote's
    /// `tests/iroh.rs` does.
    ///
    /// Why generations, as over WebSocket: Burn's Iroh node keeps its connection to a peer
    /// server until QUIC declares it lost (`src/transport/iroh/node.rs`, `connection`), 30 s
    /// after a SIGKILL, and the client notices the loss at the same 30 s. Seen on loopback, in
    /// one resume of two, the peer restarted with its key and port was dialed on the dead
    /// connection ("Failed to read Iroh frame length: connection lost"), which panicked the
    /// session and left the client waiting. While an endpoint closes (seconds, when a peer is
    /// dead) it refuses new connections; `remote_device` dials again meanwhile.
    async fn serve_iroh(
        server: &RemoteServer,
        listen: &str,
        identity: IrohIdentity,
        idle: &Notify,
        announce: impl FnOnce(&str),
    ) -> std::result::Result<(), String> {
        use iroh::protocol::Router;
        use std::net::ToSocketAddrs;

        let mut address = listen
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve the address: {e}"))?
            .next()
            .ok_or("the address resolves to nothing")?;
        let key = identity.to_bytes();
        let mut announce = Some(announce);
        let mut stop = std::pin::pin!(shutdown_signal());
        loop {
            // A port taken is an error at start (nothing announced yet); when renewing, the
            // old endpoint's socket.
            let patience = if announce.is_some() {
                Duration::ZERO
            } else {
                REBIND_LIMIT
            };
            let endpoint = bind_iroh(address, &key, patience).await?;
            // Port 0 binds once: the next generations take the port the first was given.
            address = endpoint
                .bound_sockets()
                .into_iter()
                .next()
                .unwrap_or(address);
            if let Some(announce) = announce.take() {
                announce(&format!("iroh://{}@{address}", endpoint.id()));
            }
            let protocol = server
                .clone()
                .into_protocol(&endpoint)
                .map_err(|e| e.to_string())?;
            let router = Router::builder(endpoint)
                .accept(BURN_REMOTE_ALPN, protocol)
                .spawn();
            let stopped = tokio::select! {
                stopped = &mut stop => Some(stopped),
                () = idle.notified() => None,
            };
            router.shutdown().await.map_err(|e| e.to_string())?;
            match stopped {
                Some(stopped) => return stopped,
                None => log(RENEWED),
            }
        }
    }

    /// How long a new generation's endpoint may wait for the last one's UDP socket.
    const REBIND_LIMIT: Duration = Duration::from_secs(10);

    /// An Iroh endpoint on exactly `address`, as the server `key`; tried again for up to
    /// `patience` while the address is taken (by the previous generation's closing socket).
    async fn bind_iroh(
        address: std::net::SocketAddr,
        key: &[u8; 32],
        patience: Duration,
    ) -> std::result::Result<iroh::Endpoint, String> {
        use iroh::endpoint::{PortmapperConfig, presets};
        use iroh::{Endpoint, RelayMode, SecretKey};

        let started = std::time::Instant::now();
        loop {
            let bound = Endpoint::builder(presets::Minimal)
                .secret_key(SecretKey::from_bytes(key))
                .relay_mode(RelayMode::Disabled)
                .portmapper_config(PortmapperConfig::Disabled)
                .clear_ip_transports()
                .bind_addr(address)
                .map_err(|e| format!("cannot listen: {e}"))?
                .bind()
                .await;
            match bound {
                Ok(endpoint) => return Ok(endpoint),
                Err(_) if started.elapsed() < patience => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => return Err(format!("cannot listen: {e}")),
            }
        }
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
                () = idle.notified() => log(RENEWED),
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
