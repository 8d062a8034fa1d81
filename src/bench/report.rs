//! The table `sgdlab bench` prints: its rows and slopes, and their Markdown (the layout the
//! docs/performance.md shows).

use std::fmt;

use super::{Attainable, Machine};

/// One line of the table: the median time of one `unit`, and what follows from it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub group: &'static str,
    pub case: String,
    /// Median seconds per unit.
    pub seconds: f64,
    pub unit: &'static str,
    /// Units per second of something: (value, "steps/s" | "examples/s").
    pub throughput: Option<(f64, &'static str)>,
    /// Achieved GFLOP/s, where the flop count is known.
    pub gflops: Option<f64>,
    /// Achieved GB/s of the bytes the row's formula must move (read + written), for the
    /// memory-bound rows; "% of copy" divides it by the machine's large copy.
    pub gbps: Option<f64>,
    pub note: String,
}

impl Row {
    /// `seconds` per `unit` of `case`, in `group`; no throughput, GFLOP/s or note yet.
    pub(super) fn new(
        group: &'static str,
        case: impl Into<String>,
        seconds: f64,
        unit: &'static str,
    ) -> Self {
        Self {
            group,
            case: case.into(),
            seconds,
            unit,
            throughput: None,
            gflops: None,
            gbps: None,
            note: String::new(),
        }
    }

    /// The throughput of `amount` per unit (a batch's examples, one step) in `per` ("examples/s",
    /// "steps/s"): `amount / seconds`.
    pub(super) fn per_second(mut self, amount: f64, per: &'static str) -> Self {
        self.throughput = Some((amount / self.seconds, per));
        self
    }

    /// The GFLOP/s of `flop` floating-point operations per unit.
    pub(super) fn flop(mut self, flop: f64) -> Self {
        self.gflops = Some(flop / self.seconds / 1e9);
        self
    }

    /// The GB/s of `bytes` read and written per unit.
    pub(super) fn bytes(mut self, bytes: f64) -> Self {
        self.gbps = Some(bytes / self.seconds / 1e9);
        self
    }

    pub(super) fn note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }
}

/// A fitted log-log slope: time ∝ n^slope.
#[derive(Debug, Clone, PartialEq)]
pub struct Slope {
    pub what: String,
    pub slope: f64,
}

/// The table `sgdlab bench` prints.
#[derive(Debug, Clone)]
pub struct Report {
    pub machine: Machine,
    pub attainable: Attainable,
    pub rows: Vec<Row>,
    pub slopes: Vec<Slope>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (machine, attainable) = (&self.machine, &self.attainable);
        let peak = machine.peak_gflops();
        writeln!(
            f,
            "{}, {} cores at {:.2} GHz, {}: fp32 peak {:.0} GFLOP/s on paper (cores × GHz × {:.0} \
             flop/cycle: {}); measured: Burn matmul {n}³ {:.1} GFLOP/s, copy of {:.0} MiB {:.1} GB/s\n",
            machine.cpu,
            machine.cores,
            machine.ghz,
            machine.vector.name(),
            peak,
            machine.vector.flop_per_cycle(),
            machine.vector.assumption(),
            attainable.matmul_gflops,
            attainable.copy_bytes as f64 / (1 << 20) as f64,
            attainable.copy_gbps,
            n = attainable.matmul_size,
        )?;
        writeln!(f, "| {} |", COLUMNS.join(" | "))?;
        writeln!(f, "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---|")?;
        let share = |value: f64, of: f64| {
            if of > 0.0 && of.is_finite() {
                format!("{:.1} %", value / of * 100.0)
            } else {
                String::new()
            }
        };
        for row in &self.rows {
            let throughput = row
                .throughput
                .map(|(value, unit)| format!("{} {unit}", thousands(value)))
                .unwrap_or_default();
            let (gflops, of_peak, of_matmul) = match row.gflops {
                Some(g) => (
                    gflops_text(g),
                    share(g, peak),
                    share(g, attainable.matmul_gflops),
                ),
                None => Default::default(),
            };
            let (gbps, of_copy) = match row.gbps {
                Some(b) => (format!("{b:.1}"), share(b, attainable.copy_gbps)),
                None => Default::default(),
            };
            writeln!(
                f,
                "| {} | {} | {} | {} | {throughput} | {gflops} | {of_peak} | {of_matmul} | {gbps} | {of_copy} | {} |",
                row.group,
                row.case,
                duration(row.seconds),
                row.unit,
                row.note
            )?;
        }
        if !self.slopes.is_empty() {
            writeln!(f, "\n| log-log slope of | slope |\n|---|---:|")?;
            for slope in &self.slopes {
                writeln!(f, "| {} | {:.2} |", slope.what, slope.slope)?;
            }
        }
        Ok(())
    }
}

/// The table's columns: "% of fp32 peak" divides by the paper peak, "% of Burn matmul" by
/// the measured matrix product, "% of copy" by the machine's large copy.
pub const COLUMNS: [&str; 11] = [
    "group",
    "case",
    "median",
    "per",
    "throughput",
    "GFLOP/s",
    "% of fp32 peak",
    "% of Burn matmul",
    "GB/s",
    "% of copy",
    "note",
];

/// `1.23 ms`, `45.6 µs`, `2.01 s`.
fn duration(seconds: f64) -> String {
    if seconds >= 1.0 {
        format!("{seconds:.2} s")
    } else if seconds >= 1e-3 {
        format!("{:.2} ms", seconds * 1e3)
    } else {
        format!("{:.1} µs", seconds * 1e6)
    }
}

/// One decimal, two below 1 GFLOP/s (the lecture-sized problems).
fn gflops_text(gflops: f64) -> String {
    if gflops < 1.0 {
        format!("{gflops:.2}")
    } else {
        format!("{gflops:.1}")
    }
}

/// `12,345` for throughputs of 100 and more, `12.3` below.
pub(super) fn thousands(value: f64) -> String {
    if value < 100.0 {
        return format!("{value:.1}");
    }
    let digits = format!("{:.0}", value);
    let mut grouped = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_the_readme_writes_them() {
        for (value, text) in [
            (1_234_567.4, "1,234,567"),
            (999.6, "1,000"),
            (42.25, "42.2"),
        ] {
            assert_eq!(thousands(value), text);
        }
        for (seconds, text) in [
            (2.014, "2.01 s"),
            (0.00123, "1.23 ms"),
            (4.56e-5, "45.6 µs"),
        ] {
            assert_eq!(duration(seconds), text);
        }
        for (gflops, text) in [(0.123, "0.12"), (12.34, "12.3")] {
            assert_eq!(gflops_text(gflops), text);
        }
    }
}
