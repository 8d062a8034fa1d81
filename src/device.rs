//! Run-time choice among the backends compiled in by cargo features.
//!
//! | device            | backend            | cargo feature |
//! |-------------------|--------------------|---------------|
//! | `cpu`             | the default CPU one (flex if compiled in, else ndarray) | `flex` or `ndarray` |
//! | `flex`            | Burn's pure-Rust CPU backend | `flex` (default) |
//! | `ndarray`         | Burn's ndarray CPU backend   | `ndarray` |
//! | `wgpu`, `wgpu:N`  | wgpu (Vulkan, Metal, DX12)   | `wgpu` |
//! | `cuda`, `cuda:N`  | CUDA                         | `cuda` |
//! | `ws://HOST:PORT[/N]` | device N (default 0) of a `sgdlab serve` server over WebSocket, through Burn's remote backend | `remote` |
//! | `iroh://ID@HOST:PORT[/N]` | the same, of a `sgdlab serve --transport iroh` server whose id is ID (QUIC, encrypted) | `remote` |
//!
//! A remote device connects when it is resolved (Burn's `RemoteOptions::init`, which retries
//! an unreachable WebSocket server for about 16 s, and waits for an Iroh one up to QUIC's idle
//! timeout), with the token of [`set_remote_token`] or the `SGDLAB_REMOTE_TOKEN` environment
//! variable; every failure is one line naming the server.

use std::fmt;
use std::path::Path;
use std::sync::Mutex;

use burn::tensor::Device;

use crate::{Error, Result, bail};

/// A parsed `--device` / `training.device` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceSpec {
    Cpu,
    Flex,
    Ndarray,
    Wgpu(usize),
    Cuda(usize),
    /// Device `index` of the `sgdlab serve` server at `ws://address`.
    Remote(RemoteSpec),
}

/// `ws://HOST:PORT[/N]` or `iroh://ID@HOST:PORT[/N]`: a device hosted by a `sgdlab serve`
/// server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteSpec {
    /// How the server is reached.
    pub transport: RemoteTransport,
    /// `HOST:PORT`.
    pub address: String,
    /// The device's position in the server's list.
    pub index: usize,
}

/// The transport of a [`RemoteSpec`], as `sgdlab serve --transport` offers them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteTransport {
    /// `ws://`: Burn's WebSocket transport, unencrypted.
    WebSocket,
    /// `iroh://ID@`: Burn's Iroh transport (QUIC), to the server whose endpoint id (its public
    /// key, 64 hex digits, printed by `sgdlab serve --transport iroh`) is this.
    Iroh(String),
}

/// What a remote device string looks like, for error messages.
const REMOTE_FORMS: &str = "ws://HOST:PORT[/N] or iroh://ID@HOST:PORT[/N]";

impl RemoteSpec {
    /// `ws://HOST:PORT`, the URL Burn's `RemoteHost::websocket` dials.
    pub fn url(&self) -> String {
        format!("ws://{}", self.address)
    }

    fn parse(text: &str) -> Result<Self> {
        let invalid = || {
            Error::new(format!(
                "invalid remote device `{text}` (expected {REMOTE_FORMS})"
            ))
        };
        let (transport, rest) = if let Some(rest) = text.strip_prefix("ws://") {
            (RemoteTransport::WebSocket, rest)
        } else if let Some(rest) = text.strip_prefix("iroh://") {
            let (id, rest) = rest.split_once('@').ok_or_else(invalid)?;
            if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
                bail!(
                    "invalid remote device `{text}`: the server id `{id}` is not 64 hex digits (sgdlab serve --transport iroh prints it)"
                );
            }
            (RemoteTransport::Iroh(id.to_string()), rest)
        } else {
            return Err(invalid());
        };
        let (address, index) = match rest.split_once('/') {
            Some((address, index)) => match index.parse::<usize>() {
                Ok(index) => (address, index),
                Err(_) => {
                    bail!("invalid device index `{index}` in `{text}` (expected {REMOTE_FORMS})")
                }
            },
            None => (rest, 0),
        };
        let port_ok = address
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
        if !port_ok {
            return Err(invalid());
        }
        Ok(Self {
            transport,
            address: address.to_string(),
            index,
        })
    }
}

impl fmt::Display for RemoteSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.transport {
            RemoteTransport::WebSocket => write!(f, "ws://{}/{}", self.address, self.index),
            RemoteTransport::Iroh(id) => write!(f, "iroh://{id}@{}/{}", self.address, self.index),
        }
    }
}

impl DeviceSpec {
    /// Parses `cpu`, `flex`, `ndarray`, `wgpu[:N]`, `cuda[:N]`, `ws://HOST:PORT[/N]`,
    /// `iroh://ID@HOST:PORT[/N]`.
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim().to_ascii_lowercase();
        if text.contains("://") {
            return RemoteSpec::parse(&text).map(DeviceSpec::Remote);
        }
        let (name, index) = match text.split_once(':') {
            Some((name, index)) => match index.parse::<usize>() {
                Ok(index) => (name.to_string(), Some(index)),
                Err(_) => {
                    bail!("invalid device index `{index}` in `{text}` (expected e.g. cuda:0)")
                }
            },
            None => (text.clone(), None),
        };
        let spec = match name.as_str() {
            "cpu" => DeviceSpec::Cpu,
            "flex" => DeviceSpec::Flex,
            "ndarray" => DeviceSpec::Ndarray,
            "wgpu" | "gpu" => DeviceSpec::Wgpu(index.unwrap_or(0)),
            "cuda" => DeviceSpec::Cuda(index.unwrap_or(0)),
            _ => {
                bail!("unknown device `{text}` (expected cpu, flex, ndarray, wgpu[:N] or cuda[:N])")
            }
        };
        if index.is_some()
            && matches!(
                spec,
                DeviceSpec::Cpu | DeviceSpec::Flex | DeviceSpec::Ndarray
            )
        {
            bail!("device `{name}` takes no index");
        }
        Ok(spec)
    }

    /// The Burn device, or an error naming the cargo feature that would compile it in.
    pub fn device(self) -> Result<Device> {
        match self {
            DeviceSpec::Cpu => cpu_device(),
            DeviceSpec::Flex => flex_device(),
            DeviceSpec::Ndarray => ndarray_device(),
            DeviceSpec::Wgpu(index) => wgpu_device(index),
            DeviceSpec::Cuda(index) => cuda_device(index),
            DeviceSpec::Remote(remote) => remote_device(&remote),
        }
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceSpec::Cpu => f.write_str("cpu"),
            DeviceSpec::Flex => f.write_str("flex"),
            DeviceSpec::Ndarray => f.write_str("ndarray"),
            DeviceSpec::Wgpu(i) => write!(f, "wgpu:{i}"),
            DeviceSpec::Cuda(i) => write!(f, "cuda:{i}"),
            DeviceSpec::Remote(remote) => remote.fmt(f),
        }
    }
}

/// The backend a device name runs on (`cpu` resolves to the default CPU backend), for
/// provenance records; the name itself when it does not parse.
pub fn backend_name(text: &str) -> String {
    match DeviceSpec::parse(text) {
        Ok(DeviceSpec::Cpu) if cfg!(feature = "flex") => "flex".into(),
        Ok(DeviceSpec::Cpu) => "ndarray".into(),
        // Burn moves no tensor between an Iroh and a WebSocket server (burn-remote's
        // `change_backend`, `src/client/runner.rs`, asserts it): two backends to sgdlab.
        Ok(DeviceSpec::Remote(RemoteSpec {
            transport: RemoteTransport::WebSocket,
            ..
        })) => "remote".into(),
        Ok(DeviceSpec::Remote(_)) => "remote (iroh)".into(),
        Ok(spec) => spec.to_string(),
        Err(_) => text.to_string(),
    }
}

/// The backends compiled in, by cargo feature: `flex`, `ndarray`, `wgpu`, `cuda`, `remote`.
pub fn compiled_backends() -> Vec<&'static str> {
    [
        ("flex", cfg!(feature = "flex")),
        ("ndarray", cfg!(feature = "ndarray")),
        ("wgpu", cfg!(feature = "wgpu")),
        ("cuda", cfg!(feature = "cuda")),
        ("remote", cfg!(feature = "remote")),
    ]
    .into_iter()
    .filter_map(|(name, on)| on.then_some(name))
    .collect()
}

/// Parses and resolves a device name in one go.
pub fn resolve(text: &str) -> Result<Device> {
    DeviceSpec::parse(text)?.device()
}

/// Whether `device` is a CPU backend's (flex or ndarray), whose tensors live in host memory.
pub fn is_host(device: &Device) -> bool {
    #[cfg(feature = "flex")]
    if *device == Device::flex() {
        return true;
    }
    #[cfg(feature = "ndarray")]
    #[allow(deprecated)]
    if *device == Device::ndarray() {
        return true;
    }
    let _ = device;
    false
}

/// Runs `work` on a worker thread of a rayon pool of its own, as wide as rayon's global
/// pool, and returns its result.
///
/// Why: the CPU backends fork their parallel kernels (matrix products, reductions) on rayon.
/// Called from a thread outside a pool, every such kernel is handed over to the global pool:
/// a worker is woken and the caller sleeps until the kernel is done (`perf` of a bare
/// 128 × 784 → 128 → 10 step: a fifth of its time in the scheduler). From a worker the
/// kernel is forked in place: the same step in 0.78× the time, the same numbers bit for bit.
/// The pool is `work`'s own, not the global one, so that threads `work` starts (burn-train's
/// metric, checkpoint and device threads) still have the global pool's workers for their
/// kernels while `work` waits for them.
pub fn on_compute_pool<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    on_compute_pool_of(rayon::current_num_threads(), work)
}

/// [`on_compute_pool`] with a pool of `threads` threads (at least one): `sgdlab sweep
/// --jobs J` runs each of its J trainings on a pool of its own share of the cores, so that
/// the trainings do not compete for one pool's workers. flex's matrix products split their
/// work by blocks of the output, never along the sum, so the numbers do not depend on the
/// pool's width (only a sum over more than 4M elements is split across threads, burn-flex's
/// `sum_f32_parallel`; no training step sums that much).
pub fn on_compute_pool_of<R: Send>(threads: usize, work: impl FnOnce() -> R + Send) -> R {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .thread_name(|index| format!("sgdlab-compute-{index}"))
        .build();
    match pool {
        Ok(pool) => pool.install(work),
        // No threads to be had: the work runs as it would have without the pool.
        Err(_) => work(),
    }
}

fn missing(device: &str, feature: &str) -> Error {
    Error::new(format!(
        "device `{device}` is not compiled in: rebuild with `cargo build --release --features {feature}`"
    ))
}

fn cpu_device() -> Result<Device> {
    if cfg!(feature = "flex") {
        flex_device()
    } else if cfg!(feature = "ndarray") {
        ndarray_device()
    } else {
        Err(missing("cpu", "flex"))
    }
}

fn flex_device() -> Result<Device> {
    #[cfg(feature = "flex")]
    return Ok(Device::flex());
    #[cfg(not(feature = "flex"))]
    Err(missing("flex", "flex"))
}

fn ndarray_device() -> Result<Device> {
    #[cfg(feature = "ndarray")]
    #[allow(deprecated)]
    // deprecated upstream in favour of flex, still offered for comparison
    return Ok(Device::ndarray());
    #[cfg(not(feature = "ndarray"))]
    Err(missing("ndarray", "ndarray"))
}

fn wgpu_device(index: usize) -> Result<Device> {
    #[cfg(feature = "wgpu")]
    return Ok(if index == 0 {
        Device::wgpu(burn::tensor::DeviceKind::DefaultDevice)
    } else {
        Device::wgpu(burn::tensor::DeviceKind::DiscreteGpu(index))
    });
    #[cfg(not(feature = "wgpu"))]
    {
        let _ = index;
        Err(missing("wgpu", "wgpu"))
    }
}

fn cuda_device(index: usize) -> Result<Device> {
    #[cfg(feature = "cuda")]
    return Ok(Device::cuda(index));
    #[cfg(not(feature = "cuda"))]
    {
        let _ = index;
        Err(missing("cuda", "cuda"))
    }
}

/// The token remote devices present, set by `sgdlab train --token-file`; see [`remote_token`].
static REMOTE_TOKEN: Mutex<Option<String>> = Mutex::new(None);

/// The environment variable a remote device's token is read from when none was set.
pub const TOKEN_ENV: &str = "SGDLAB_REMOTE_TOKEN";

/// Sets the token every remote device connected from now on presents.
pub fn set_remote_token(token: String) {
    *REMOTE_TOKEN.lock().unwrap_or_else(|p| p.into_inner()) = Some(token);
}

/// `--token-file FILE` of `train`, `eval` and `predict`: the token in FILE, if given, for every
/// remote device connected from now on (see [`read_token_file`]).
pub fn use_token_file(path: Option<&Path>) -> Result<()> {
    if let Some(path) = path {
        set_remote_token(read_token_file(path)?);
    }
    Ok(())
}

/// The token of [`set_remote_token`], else `SGDLAB_REMOTE_TOKEN` (trimmed), if not empty.
pub fn remote_token() -> Option<String> {
    let set = REMOTE_TOKEN
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    set.or_else(|| std::env::var(TOKEN_ENV).ok())
        .map(|token| token.trim().to_string())
        .filter(|token| !token.is_empty())
}

/// Reads a token file: its contents without surrounding whitespace; a missing, unreadable or
/// empty file is an error naming it. The token is never taken from the command line, where
/// `ps` shows it.
pub fn read_token_file(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("read token file", path, e))?;
    let token = text.trim();
    if token.is_empty() {
        bail!(
            "token file {} is empty: write a secret into it, e.g. `head -c 32 /dev/urandom | base64 > {}`",
            path.display(),
            path.display()
        );
    }
    Ok(token.to_string())
}

/// What iroh says of a connection a closing endpoint refuses (`ConnectionError`'s
/// `ConnectionRefused`, as burn-remote words an aborted dial).
#[cfg(feature = "remote")]
const RENEWING: &str = "refused to accept a new connection";
/// How long `remote_device` dials again a server that refuses while it renews.
#[cfg(feature = "remote")]
const RENEWAL_LIMIT: std::time::Duration = std::time::Duration::from_secs(15);

#[cfg(feature = "remote")]
fn remote_device(remote: &RemoteSpec) -> Result<Device> {
    use burn::remote::{ConnectError, RemoteHost};
    let Some(token) = remote_token() else {
        bail!(
            "remote device {remote}: no token: pass --token-file FILE (the server's token) or set {TOKEN_ENV}"
        );
    };
    let host = match &remote.transport {
        RemoteTransport::WebSocket => RemoteHost::websocket(&remote.url()),
        RemoteTransport::Iroh(id) => RemoteHost::iroh(
            iroh_client::host(id, &remote.address)
                .map_err(|why| Error::new(format!("remote device {remote}: {why}")))?,
        ),
    }
    .with_credential(token);
    // `init` returns errors where `Device::enumerate` would panic.
    let connect = || {
        Device::remote_options(&host)
            .device_index(remote.index)
            .init()
    };
    let started = std::time::Instant::now();
    let mut connected = connect();
    // An Iroh server renewing its endpoint between runs refuses connections while the old
    // one closes (src/serve.rs, `serve_iroh`); Burn does not dial again for that.
    while let Err(ConnectError::Unreachable { reason }) = &connected
        && reason.contains(RENEWING)
        && started.elapsed() < RENEWAL_LIMIT
    {
        std::thread::sleep(std::time::Duration::from_millis(250));
        connected = connect();
    }
    connected.map_err(|error| {
            let why = match error {
                ConnectError::Unauthorized => {
                    "the server refused the token (is it the server's --token-file?)".to_string()
                }
                ConnectError::NoSuchDevice { device_count } => format!(
                    "the server hosts {device_count} device(s), numbered from 0: no device {}",
                    remote.index
                ),
                ConnectError::Unreachable { reason }
                    if matches!(remote.transport, RemoteTransport::Iroh(_)) =>
                {
                    format!(
                        "the server cannot be reached: {reason} (is it running, and is the id the one it printed?)"
                    )
                }
                other => other.to_string(),
            };
            Error::new(format!("remote device {remote}: {why}"))
        })
}

/// The client's side of `iroh://` devices: one Iroh endpoint for the whole process, bound on
/// a runtime of its own that lives as long as the process.
///
/// Why not the endpoint Burn binds (`IrohHost::with_relays`): that one keeps iroh's port
/// mapper on, which probes the LAN gateway (UPnP, PCP, NAT-PMP) even with relays disabled
/// (iroh 1.4.1's `PortmapperConfig`, `src/endpoint.rs`). This one has no relays, no address
/// lookup and no port mapper: it dials exactly the addresses given.
#[cfg(feature = "remote")]
mod iroh_client {
    use std::net::ToSocketAddrs;
    use std::sync::OnceLock;

    use burn::remote::{EndpointId, IrohHost};
    use iroh::endpoint::{PortmapperConfig, presets};
    use iroh::{Endpoint, RelayMode};

    static ENDPOINT: OnceLock<Result<(tokio::runtime::Runtime, Endpoint), String>> =
        OnceLock::new();

    fn endpoint() -> Result<Endpoint, String> {
        let bound = ENDPOINT.get_or_init(|| {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("sgdlab-iroh")
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start the Iroh client's runtime: {e}"))?;
            let endpoint = runtime
                .block_on(
                    Endpoint::builder(presets::Minimal)
                        .relay_mode(RelayMode::Disabled)
                        .portmapper_config(PortmapperConfig::Disabled)
                        .bind(),
                )
                .map_err(|e| format!("cannot bind the Iroh client's endpoint: {e}"))?;
            Ok((runtime, endpoint))
        });
        bound
            .as_ref()
            .map(|(_, endpoint)| endpoint.clone())
            .map_err(Clone::clone)
    }

    /// How long closing the endpoint may wait for the servers to acknowledge.
    const CLOSE_LIMIT: std::time::Duration = std::time::Duration::from_secs(2);

    /// Closes the endpoint, if one was bound: each server then ends this process's sessions
    /// at once, not when QUIC's idle timeout declares them dead (about 30 s; a process exit
    /// alone sends nothing over UDP).
    pub(super) fn close() {
        if let Some(Ok((runtime, endpoint))) = ENDPOINT.get() {
            // The timer needs the runtime's context: made inside the block.
            let _ = runtime
                .block_on(async { tokio::time::timeout(CLOSE_LIMIT, endpoint.close()).await });
        }
    }

    /// The server `id` at every address `address` (HOST:PORT) resolves to, dialed from the
    /// process's endpoint.
    pub(super) fn host(id: &str, address: &str) -> Result<IrohHost, String> {
        let id: EndpointId = id
            .parse()
            .map_err(|e| format!("the server id is not a valid Iroh id: {e}"))?;
        let addresses: Vec<_> = address
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {address}: {e}"))?
            .collect();
        if addresses.is_empty() {
            return Err(format!("{address} resolves to no address"));
        }
        let host = addresses
            .into_iter()
            .fold(IrohHost::new(id), IrohHost::with_address);
        Ok(host.with_endpoint(endpoint()?))
    }
}

/// Ends this process's sessions on `iroh://` servers, before it exits; nothing without them.
/// (WebSocket sessions end with the process: TCP tells the server.)
pub fn close_remote_connections() {
    #[cfg(feature = "remote")]
    iroh_client::close();
}

#[cfg(not(feature = "remote"))]
fn remote_device(remote: &RemoteSpec) -> Result<Device> {
    Err(missing(&remote.to_string(), "remote"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_indices() {
        assert_eq!(DeviceSpec::parse("cpu").unwrap(), DeviceSpec::Cpu);
        assert_eq!(DeviceSpec::parse("CUDA:1").unwrap(), DeviceSpec::Cuda(1));
        assert_eq!(DeviceSpec::parse("wgpu").unwrap(), DeviceSpec::Wgpu(0));
        assert!(
            DeviceSpec::parse("tpu")
                .unwrap_err()
                .message()
                .contains("unknown device")
        );
        assert!(DeviceSpec::parse("cuda:x").is_err());
        assert!(DeviceSpec::parse("cpu:1").is_err());
        let remote = DeviceSpec::parse("ws://10.0.0.2:4000/1").unwrap();
        assert_eq!(remote.to_string(), "ws://10.0.0.2:4000/1");
        assert_eq!(
            DeviceSpec::parse("ws://h:4000").unwrap().to_string(),
            "ws://h:4000/0"
        );
        let id = "3b6a".repeat(16);
        let iroh = DeviceSpec::parse(&format!("iroh://{id}@127.0.0.1:4433/2")).unwrap();
        assert_eq!(iroh.to_string(), format!("iroh://{id}@127.0.0.1:4433/2"));
        assert_eq!(
            backend_name(&format!("iroh://{id}@h:1")),
            "remote (iroh)",
            "Iroh and WebSocket devices never mix in one run"
        );
        for bad in [
            "ws://h",
            "ws://:4000",
            "ws://h:99999",
            "ws://h:1/x",
            "iroh://x",
            "iroh://abc@h:1",
            "quic://h:1",
        ] {
            assert!(DeviceSpec::parse(bad).is_err(), "{bad}");
        }
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn missing_backend_names_its_feature() {
        let err = resolve("cuda").unwrap_err();
        assert!(err.message().contains("--features cuda"), "{err}");
    }

    #[cfg(not(feature = "remote"))]
    #[test]
    fn remote_device_without_the_feature_names_it() {
        let err = resolve("ws://127.0.0.1:1").unwrap_err();
        assert!(err.message().contains("--features remote"), "{err}");
    }
}
