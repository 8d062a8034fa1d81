//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod reference;

use std::path::{Path, PathBuf};

use sgdlab::config::Config;
use sgdlab::train::{Progress, TrainRequest, TrainResult, train};

/// The repository's `configs/NAME.toml`.
pub fn config_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("configs")
        .join(format!("{name}.toml"))
}

pub fn load(name: &str, overrides: &[&str]) -> Config {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    Config::load(&config_path(name), &overrides).expect("shipped config is valid")
}

/// Trains `config` quietly into `run_dir` (which must not exist).
pub fn train_into(config: Config, run_dir: &Path) -> TrainResult {
    train(TrainRequest {
        config,
        name: "test".into(),
        run_dir: Some(run_dir.to_path_buf()),
        resume: false,
        artifacts: run_dir.parent().unwrap().to_path_buf(),
        progress: Progress::Quiet,
    })
    .expect("training succeeds")
}

/// Runs the `sgdlab` binary with `args` in `cwd`.
pub fn run_sgdlab(cwd: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_sgdlab"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the binary runs")
}

/// Asserts a failure with exactly one line on stderr containing every `fragment`, and the
/// exit status the docs give it: 1 for bad input, 2 for a command line clap cannot parse
/// (its errors end `(see --help)`).
pub fn assert_one_line_error(output: &std::process::Output, fragments: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "expected failure, stderr: {stderr}"
    );
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {stderr}");
    let expected = if lines[0].ends_with("(see --help)") {
        2
    } else {
        1
    };
    assert_eq!(
        output.status.code(),
        Some(expected),
        "exit status for: {}",
        lines[0]
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    for fragment in fragments {
        assert!(
            lines[0].contains(fragment),
            "`{fragment}` not in: {}",
            lines[0]
        );
    }
}

/// Resumes the run in `run_dir` up to `config`'s `training.epochs`, quietly.
pub fn resume(config: Config, run_dir: &Path) -> TrainResult {
    train(TrainRequest {
        config,
        name: "test".into(),
        run_dir: Some(run_dir.to_path_buf()),
        resume: true,
        artifacts: run_dir.parent().unwrap().to_path_buf(),
        progress: Progress::Quiet,
    })
    .expect("resuming succeeds")
}

/// A run's `steps.csv` rows, split into cells (header skipped).
pub fn steps_csv(run_dir: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(run_dir.join("steps.csv"))
        .expect("steps.csv exists")
        .lines()
        .skip(1)
        .map(|line| line.split(',').map(str::to_string).collect())
        .collect()
}

/// Checks the PNG signature and the IHDR chunk by hand, then decodes it whole.
pub fn assert_png(path: &Path, width: u32, height: u32) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display());
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |range: std::ops::Range<usize>| u32::from_be_bytes(bytes[range].try_into().unwrap());
    assert_eq!(
        (be(16..20), be(20..24)),
        (width, height),
        "{}",
        path.display()
    );
    let mut reader = png::Decoder::new(std::io::Cursor::new(&bytes))
        .read_info()
        .unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    reader.next_frame(&mut pixels).unwrap();
    // Not a blank canvas: white background plus dark text and coloured lines.
    assert!(
        pixels.iter().any(|&p| p < 100),
        "{} is blank",
        path.display()
    );
}

/// A minimal valid config (breast cancer, logistic, SGD, one epoch) for tests to break one key
/// of; it has no `[schedule]` section, so the schedule is the default.
pub const GOOD: &str = r#"
[data]
source = "breast_cancer"
[model]
kind = "logistic"
[optimizer]
name = "sgd"
learning_rate = 0.1
[training]
epochs = 1
"#;

/// Writes `text` to `dir/name` and returns `name`.
pub fn write(dir: &Path, name: &str, text: &str) -> String {
    std::fs::write(dir.join(name), text).unwrap();
    name.to_string()
}

/// The experiment's named number `key`.
pub fn number(outcome: &sgdlab::experiment::Outcome, key: &str) -> f64 {
    *outcome
        .numbers
        .get(key)
        .unwrap_or_else(|| panic!("no number {key:?} in {:?}", outcome.numbers.keys()))
}

/// Runs `sgdlab args` in `cwd` and returns its peak resident memory in KiB: the kernel's
/// high-water mark `VmHWM`, read until the process exits (it only grows, so the last read is
/// the peak up to a few milliseconds before exit).
pub fn peak_rss_kib<S: AsRef<std::ffi::OsStr> + std::fmt::Debug>(cwd: &Path, args: &[S]) -> u64 {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_sgdlab"))
        .args(args)
        .current_dir(cwd)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(status) = std::fs::read_to_string(&status_path)
            && let Some(line) = status.lines().find(|line| line.starts_with("VmHWM:"))
        {
            let kib: u64 = line
                .split_whitespace()
                .nth(1)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            peak = peak.max(kib);
        }
        if let Some(exit) = child.try_wait().unwrap() {
            assert!(exit.success(), "sgdlab {args:?} failed");
            return peak;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// A small MNIST-shaped folder: `train` and `test` 28×28 images whose class is written into
/// their pixels (a bright stripe of columns), so a few epochs learn it; train files gzipped,
/// test files raw, as users have them.
pub fn write_mnist_folder(folder: &Path, train: usize, test: usize) {
    use sgdlab::data::idx::write_idx;
    std::fs::create_dir_all(folder).unwrap();
    let mut rng = sgdlab::rng::Rng::new(3);
    let mut make = |count: usize| {
        let labels: Vec<u8> = (0..count).map(|_| rng.below(10) as u8).collect();
        let mut images = vec![0u8; count * 784];
        for (image, &label) in images.chunks_mut(784).zip(&labels) {
            for (pixel, value) in image.iter_mut().enumerate() {
                let stripe = pixel % 28 / 3 == usize::from(label);
                *value = if stripe { 200 } else { rng.below(40) as u8 };
            }
        }
        (images, labels)
    };
    for (set, count, gzip) in [("train", train, true), ("t10k", test, false)] {
        let (images, labels) = make(count);
        let gz = if gzip { ".gz" } else { "" };
        let images_path = folder.join(format!("{set}-images-idx3-ubyte{gz}"));
        write_idx(&images_path, &[count, 28, 28], &images, gzip).unwrap();
        let labels_path = folder.join(format!("{set}-labels-idx1-ubyte{gz}"));
        write_idx(&labels_path, &[count], &labels, gzip).unwrap();
    }
}

/// Every file under `dir` with its bytes, to check that a refused command changed nothing.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                files.push((path, bytes));
            }
        }
    }
    files.sort();
    files
}

/// Copies the directory tree `from` to `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A proptest config of `cases` from `seed`, so that `cargo test` is repeatable (set
/// `PROPTEST_RNG_SEED=N` to explore other cases); failures are reported with their shrunk
/// case, and no regressions file is written into the tree.
pub fn proptest_config(cases: u32, seed: u64) -> proptest::test_runner::Config {
    use proptest::test_runner::{Config, FileFailurePersistence, RngSeed};
    let defaults = Config::default();
    let rng_seed = match defaults.rng_seed {
        RngSeed::Random => RngSeed::Fixed(seed),
        chosen => chosen,
    };
    Config {
        cases,
        rng_seed,
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..defaults
    }
}

/// The training split `config` trains on.
pub fn training_split(config: &sgdlab::config::Config) -> sgdlab::data::Dataset {
    sgdlab::prepare::prepare_run(config, None)
        .expect("shipped data prepare")
        .splits
        .train
}
