//! Run-time choice among the backends compiled in by cargo features.
//!
//! | device            | backend            | cargo feature |
//! |-------------------|--------------------|---------------|
//! | `cpu`             | the default CPU one (flex if compiled in, else ndarray) | `flex` or `ndarray` |
//! | `flex`            | Burn's pure-Rust CPU backend | `flex` (default) |
//! | `ndarray`         | Burn's ndarray CPU backend   | `ndarray` |
//! | `wgpu`, `wgpu:N`  | wgpu (Vulkan, Metal, DX12)   | `wgpu` |
//! | `cuda`, `cuda:N`  | CUDA                         | `cuda` |

use std::fmt;

use burn::tensor::Device;

use crate::{Error, Result, bail};

/// A parsed `--device` / `training.device` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceSpec {
    Cpu,
    Flex,
    Ndarray,
    Wgpu(usize),
    Cuda(usize),
}

impl DeviceSpec {
    /// Parses `cpu`, `flex`, `ndarray`, `wgpu[:N]`, `cuda[:N]`.
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim().to_ascii_lowercase();
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
        }
    }
}

/// The backend a device name runs on (`cpu` resolves to the default CPU backend), for
/// provenance records; the name itself when it does not parse.
pub fn backend_name(text: &str) -> String {
    match DeviceSpec::parse(text) {
        Ok(DeviceSpec::Cpu) if cfg!(feature = "flex") => "flex".into(),
        Ok(DeviceSpec::Cpu) => "ndarray".into(),
        Ok(spec) => spec.to_string(),
        Err(_) => text.to_string(),
    }
}

/// The backends compiled in, by cargo feature: `flex`, `ndarray`, `wgpu`, `cuda`.
pub fn compiled_backends() -> Vec<&'static str> {
    [
        ("flex", cfg!(feature = "flex")),
        ("ndarray", cfg!(feature = "ndarray")),
        ("wgpu", cfg!(feature = "wgpu")),
        ("cuda", cfg!(feature = "cuda")),
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
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn missing_backend_names_its_feature() {
        let err = resolve("cuda").unwrap_err();
        assert!(err.message().contains("--features cuda"), "{err}");
    }
}
