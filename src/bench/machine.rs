//! The machine the figures are measured on: its CPU, clock and cores, and the fp32 peak the
//! table's "% of peak" column divides by.

/// Floating-point operations per cycle and core: two AVX2 FMA units × 8 f32 lanes × 2.
const FLOP_PER_CYCLE: f64 = 32.0;

/// The machine the figures were measured on, and its fp32 peak.
#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    pub cpu: String,
    pub ghz: f64,
    pub cores: usize,
}

impl Machine {
    /// Reads the CPU model and clock from `/proc/cpuinfo` (unknown elsewhere) and the cores
    /// this process may use.
    pub fn detect() -> Self {
        let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let field = |name: &str| {
            info.lines()
                .find(|line| line.starts_with(name))
                .and_then(|line| line.split(':').nth(1))
                .map(|value| value.trim().to_string())
        };
        let cpu = field("model name").unwrap_or_else(|| "unknown CPU".into());
        let ghz = field("cpu MHz")
            .and_then(|mhz| mhz.parse::<f64>().ok())
            .map_or(0.0, |mhz| mhz / 1e3);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self { cpu, ghz, cores }
    }

    /// cores × GHz × 32 flop/cycle (AVX2 + FMA, fp32); 0 when the clock is unknown.
    pub fn peak_gflops(&self) -> f64 {
        self.cores as f64 * self.ghz * FLOP_PER_CYCLE
    }
}
