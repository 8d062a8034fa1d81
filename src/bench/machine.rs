//! The machine the figures are measured on: its CPU, clock, cores and vector unit, the fp32
//! peak that follows from them on paper, and what it attains in practice (a large matrix
//! product through Burn, a large copy), which the table's percentages divide by.

/// The widest fp32 vector unit the CPU reports (`/proc/cpuinfo` flags), which sets the
/// flop per cycle of the paper peak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VectorUnit {
    /// `avx512f`: 16 f32 lanes, fused multiply-add.
    Avx512,
    /// `avx2` and `fma`: 8 f32 lanes, fused multiply-add.
    Avx2,
    /// Neither, or not x86 Linux: 4 lanes (SSE / NEON), a multiply and an add port.
    Sse,
}

impl VectorUnit {
    /// The widest unit the flags line of `/proc/cpuinfo` names.
    pub fn from_flags(flags: &str) -> Self {
        let has = |flag: &str| flags.split_whitespace().any(|f| f == flag);
        if has("avx512f") {
            VectorUnit::Avx512
        } else if has("avx2") && has("fma") {
            VectorUnit::Avx2
        } else {
            VectorUnit::Sse
        }
    }

    /// f32 lanes per vector register.
    pub fn lanes(self) -> f64 {
        match self {
            VectorUnit::Avx512 => 16.0,
            VectorUnit::Avx2 => 8.0,
            VectorUnit::Sse => 4.0,
        }
    }

    /// flop per cycle and core: lanes × 2 ports × 2 (an FMA is a multiply and an add; without
    /// FMA, one multiply and one add port). Two 512-bit FMA ports is what Intel's Xeon
    /// Scalable Gold and Platinum (Skylake-SP to Emerald Rapids) and AMD's Zen 4/5 have; some
    /// Xeon Silver and Bronze have one, and then the true peak is half: an assumption, which
    /// the table's header says, and which the measured matrix product beside it checks.
    pub fn flop_per_cycle(self) -> f64 {
        let per_lane = match self {
            VectorUnit::Avx512 | VectorUnit::Avx2 => 2.0 * 2.0,
            VectorUnit::Sse => 2.0,
        };
        self.lanes() * per_lane
    }

    pub fn name(self) -> &'static str {
        match self {
            VectorUnit::Avx512 => "AVX-512",
            VectorUnit::Avx2 => "AVX2 + FMA",
            VectorUnit::Sse => "SSE",
        }
    }

    /// How [`flop_per_cycle`](Self::flop_per_cycle) is made up, for the table's header.
    pub fn assumption(self) -> &'static str {
        match self {
            VectorUnit::Avx512 => "16 f32 lanes × 2 FMA ports × 2, assumed",
            VectorUnit::Avx2 => "8 f32 lanes × 2 FMA ports × 2, assumed",
            VectorUnit::Sse => "4 f32 lanes × (1 multiply + 1 add port), assumed",
        }
    }
}

/// The machine the figures were measured on, and its fp32 peak on paper.
#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    pub cpu: String,
    pub ghz: f64,
    pub cores: usize,
    pub vector: VectorUnit,
}

impl Machine {
    /// Reads the CPU model, clock and flags from `/proc/cpuinfo` (unknown elsewhere) and the
    /// cores this process may use.
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
        let vector = VectorUnit::from_flags(&field("flags").unwrap_or_default());
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            cpu,
            ghz,
            cores,
            vector,
        }
    }

    /// cores × GHz × the vector unit's flop per cycle (fp32); 0 when the clock is unknown.
    pub fn peak_gflops(&self) -> f64 {
        self.cores as f64 * self.ghz * self.vector.flop_per_cycle()
    }
}

/// What the machine attains, measured at the start of `sgdlab bench`: the rates the table's
/// "% of Burn matmul" and "% of copy" columns divide by.
#[derive(Debug, Clone, PartialEq)]
pub struct Attainable {
    /// n of the n × n × n f32 matrix product timed through Burn on the bench's CPU device.
    pub matmul_size: usize,
    pub matmul_gflops: f64,
    /// Bytes of the buffer copied into another, far larger than the last-level cache at the
    /// full and quick sizes.
    pub copy_bytes: usize,
    /// Bytes read plus bytes written per second (STREAM's convention: the write-allocate
    /// read of the destination is not counted), in GB/s.
    pub copy_gbps: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peak_follows_the_widest_vector_unit_the_flags_name() {
        let flags = "fpu sse sse2 avx fma avx2 avx512f avx512dq avx512bw";
        assert_eq!(VectorUnit::from_flags(flags), VectorUnit::Avx512);
        assert_eq!(
            VectorUnit::from_flags("fpu sse2 avx fma avx2"),
            VectorUnit::Avx2
        );
        // avx2 without fma, and a flag that only starts like one, are not AVX2 + FMA.
        assert_eq!(VectorUnit::from_flags("sse2 avx2"), VectorUnit::Sse);
        assert_eq!(
            VectorUnit::from_flags("avx512_bf16 avx2 fma"),
            VectorUnit::Avx2
        );
        let machine = Machine {
            cpu: "Intel(R) Xeon(R) Processor".into(),
            ghz: 2.1,
            cores: 2,
            vector: VectorUnit::Avx512,
        };
        // 2 cores × 2.1 GHz × 64 flop/cycle.
        assert!((machine.peak_gflops() - 268.8).abs() < 1e-9);
        let avx2 = Machine {
            vector: VectorUnit::Avx2,
            ..machine
        };
        assert!((avx2.peak_gflops() - 134.4).abs() < 1e-9);
    }
}
