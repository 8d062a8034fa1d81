//! Data-file fuzzing: the bytes sgdlab reads from disk, mutated thousands of ways per format
//! on every `cargo test` (proptest, a fixed seed; `PROPTEST_RNG_SEED=N` explores others):
//! CSV, IDX (raw and gzipped), and a run directory's `config.toml`, `standardizer.json`,
//! `metrics.csv`, `steps.csv`, `run.json` and checkpoints, each through the function that
//! `--resume`, `eval` or `plot` reads it with, in this process. Every case is either accepted
//! and sane (the format's invariants hold) or refused with one line naming the file; never a
//! panic, and never an allocation the file's size does not justify (a counting allocator
//! measures each read's peak). A few dozen mutated run dirs also go through the whole
//! `--resume` dry run and `eval`.
//!
//! `optimum.json` is written for the user, never read back (a resume solves again), so it has
//! no reader to fuzz.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use burn::module::Module;
use proptest::prelude::*;

use sgdlab::data::{Targets, Task, idx, load_csv};
use sgdlab::model::Problem;
use sgdlab::plot::Table;
use sgdlab::run_dir::{RunDir, read_metrics_csv};
use sgdlab::train::checkpoint::check_resume_checkpoint;
use sgdlab::train::{Progress, TrainRequest, dry_run};

// ---- the counting allocator --------------------------------------------------------------

/// The system allocator, counting the bytes this thread holds and their peak.
struct Counting;

thread_local! {
    static HELD: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    let _ = HELD.try_with(|held| {
        let now = held.get() + delta;
        held.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            count(layout.size() as isize);
        }
        pointer
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            count(layout.size() as isize);
        }
        pointer
    }
    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) };
        count(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, size: usize) -> *mut u8 {
        let moved = unsafe { System.realloc(pointer, layout, size) };
        if !moved.is_null() {
            count(size as isize - layout.size() as isize);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// `read()` and the most bytes this thread held during it, beyond what it held before.
fn peak_during<T>(read: impl FnOnce() -> T) -> (T, usize) {
    let start = HELD.with(Cell::get);
    PEAK.with(|peak| peak.set(start));
    let value = read();
    let peak = PEAK.with(Cell::get);
    (value, (peak - start).max(0) as usize)
}

/// What a read of `len` bytes may allocate: a small multiple of the file (the text and
/// what it parses to: a CSV's cells become f32s, a header names columns) and a constant
/// for the reader itself (a gzip window, a model skeleton to load a checkpoint into).
fn allocation_limit(len: usize) -> usize {
    64 * len + (4 << 20)
}

// ---- mutations -----------------------------------------------------------------------------

/// Strings that break parsers: numbers at and past every range, separators, quotes,
/// structure characters, a byte-order mark, a NUL, invalid UTF-8.
const TOKENS: &[&[u8]] = &[
    b"",
    b"0",
    b"-1",
    b"1.5",
    b"NaN",
    b"nan",
    b"inf",
    b"-inf",
    b"1e39",
    b"1e309",
    b"-0",
    b"4294967295",
    b"4294967296",
    b"18446744073709551616",
    b"99999999999999999999999999999",
    b"9e18",
    b"1e-320",
    b",",
    b",,",
    b"\"",
    b"\"\"",
    b"\n",
    b"\r\n",
    b" ",
    b"\t",
    b"\0",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"[",
    b"]",
    b"{",
    b"}",
    b"=",
    b":",
    b"true",
    b"null",
    b"label",
    b"epoch",
    b"x1",
    b"\xff\xff\xff\xff",
    b"\x00\x00\x08\x03",
    b"\x7f\xff\xff\xff",
];

#[derive(Debug, Clone)]
enum Mutation {
    FlipBit {
        at: usize,
        bit: u8,
    },
    SetByte {
        at: usize,
        byte: u8,
    },
    Insert {
        at: usize,
        token: usize,
    },
    /// Replace the run of number-like or word characters at `at` by a token.
    ReplaceWord {
        at: usize,
        token: usize,
    },
    Delete {
        at: usize,
        len: usize,
    },
    Truncate {
        at: usize,
    },
    Duplicate {
        at: usize,
        len: usize,
    },
    /// Swap two lines (text formats).
    SwapLines {
        a: usize,
        b: usize,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = any::<usize>();
    prop_oneof![
        (at, 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit { at, bit }),
        (at, any::<u8>()).prop_map(|(at, byte)| Mutation::SetByte { at, byte }),
        (at, 0..TOKENS.len()).prop_map(|(at, token)| Mutation::Insert { at, token }),
        (at, 0..TOKENS.len()).prop_map(|(at, token)| Mutation::ReplaceWord { at, token }),
        (at, 1usize..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
        at.prop_map(|at| Mutation::Truncate { at }),
        (at, 1usize..256).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines { a, b }),
    ]
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    prop::collection::vec(mutation(), 1..4)
}

fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b'+' | b'_')
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    let len = bytes.len();
    let place = |at: usize| if len == 0 { 0 } else { at % len };
    match *mutation {
        Mutation::FlipBit { at, bit } if len > 0 => bytes[place(at)] ^= 1 << bit,
        Mutation::SetByte { at, byte } if len > 0 => bytes[place(at)] = byte,
        Mutation::Insert { at, token } => {
            let at = place(at);
            bytes.splice(at..at, TOKENS[token].iter().copied());
        }
        Mutation::ReplaceWord { at, token } if len > 0 => {
            let mut start = place(at);
            while start < len && !is_word(bytes[start]) {
                start += 1;
            }
            let mut end = start;
            while end < len && is_word(bytes[end]) {
                end += 1;
            }
            bytes.splice(start..end, TOKENS[token].iter().copied());
        }
        Mutation::Delete { at, len: count } if len > 0 => {
            let at = place(at);
            bytes.drain(at..(at + count).min(len));
        }
        Mutation::Truncate { at } => bytes.truncate(at % (len + 1)),
        Mutation::Duplicate { at, len: count } if len > 0 => {
            let at = place(at);
            let copy: Vec<u8> = bytes[at..(at + count).min(len)].to_vec();
            bytes.splice(at..at, copy);
        }
        Mutation::SwapLines { a, b } => {
            let mut lines: Vec<Vec<u8>> =
                bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
            let count = lines.len();
            lines.swap(a % count, b % count);
            *bytes = lines.join(&b'\n');
        }
        _ => {}
    }
}

// ---- the files ------------------------------------------------------------------------------

/// The formats, each with its seed bytes and its reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    CsvClasses,
    CsvNames,
    CsvValues,
    IdxRaw,
    IdxGzip,
    Config,
    Standardizer,
    Metrics,
    Steps,
    RunInfo,
    ModelCheckpoint,
    OptimizerCheckpoint,
    SchedulerCheckpoint,
}

/// The run every run-dir format's seed comes from: quickstart with adam (optimizer state in
/// its checkpoint) and an exponential schedule (schedule state), two epochs.
struct Fixture {
    _dir: tempfile::TempDir,
    run: PathBuf,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run");
        let config = common::load(
            "quickstart",
            &[
                "optimizer.name=\"adam\"",
                "optimizer.learning_rate=0.01",
                "schedule.name=\"exponential\"",
                "schedule.rho=0.9",
                "training.epochs=2",
            ],
        );
        common::train_into(config, &run);
        Fixture { _dir: dir, run }
    })
}

const CSV_CLASSES: &str = "x1,x2,\"x 3\",label\n\
    0.5,1,-2,0\n1.25,0,3e-2,1\n-0.75,2.5,1,0\n3,4,5,1\n0,0,0,2\n1e3,-1e-3,0.125,1\n";
const CSV_NAMES: &str = "a,b,kind\n1,2,cat\n3,4,dog\n5,6,\"cat\"\n7,8,bird\n";
const CSV_VALUES: &str = "x,y,target\n1,2,0.5\n3,4,-1e2\n5,6,7\n0.1,0.2,0.3\n";

fn class_names() -> Vec<String> {
    ["cat", "dog", "bird"].map(String::from).to_vec()
}

fn idx_seed(gzip: bool) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.idx");
    let data: Vec<u8> = (0..6 * 4 * 4).map(|i| (i * 37 % 256) as u8).collect();
    idx::write_idx(&path, &[6, 4, 4], &data, gzip).unwrap();
    std::fs::read(path).unwrap()
}

impl Format {
    const ALL: [Format; 13] = [
        Format::CsvClasses,
        Format::CsvNames,
        Format::CsvValues,
        Format::IdxRaw,
        Format::IdxGzip,
        Format::Config,
        Format::Standardizer,
        Format::Metrics,
        Format::Steps,
        Format::RunInfo,
        Format::ModelCheckpoint,
        Format::OptimizerCheckpoint,
        Format::SchedulerCheckpoint,
    ];

    /// The file's path inside a run dir (run-dir formats) or its name (data files).
    fn file(self) -> &'static str {
        match self {
            Format::CsvClasses | Format::CsvNames | Format::CsvValues => "data.csv",
            Format::IdxRaw => "images.idx",
            Format::IdxGzip => "images.idx.gz",
            Format::Config => "config.toml",
            Format::Standardizer => "standardizer.json",
            Format::Metrics => "metrics.csv",
            Format::Steps => "steps.csv",
            Format::RunInfo => "run.json",
            Format::ModelCheckpoint => "checkpoint/model-2.bpk",
            Format::OptimizerCheckpoint => "checkpoint/optim-2.bpk",
            Format::SchedulerCheckpoint => "checkpoint/scheduler-2.bpk",
        }
    }

    fn in_run_dir(self) -> bool {
        !matches!(
            self,
            Format::CsvClasses
                | Format::CsvNames
                | Format::CsvValues
                | Format::IdxRaw
                | Format::IdxGzip
        )
    }

    fn seed(self) -> Vec<u8> {
        match self {
            Format::CsvClasses => CSV_CLASSES.into(),
            Format::CsvNames => CSV_NAMES.into(),
            Format::CsvValues => CSV_VALUES.into(),
            Format::IdxRaw => idx_seed(false),
            Format::IdxGzip => idx_seed(true),
            _ => std::fs::read(fixture().run.join(self.file())).unwrap(),
        }
    }
}

/// A scratch run dir (a copy of the fixture's) or data folder per format and thread.
fn scratch(format: Format) -> PathBuf {
    thread_local! {
        static DIRS: std::cell::RefCell<Vec<(Format, tempfile::TempDir)>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }
    DIRS.with(|dirs| {
        let mut dirs = dirs.borrow_mut();
        if let Some((_, dir)) = dirs.iter().find(|(f, _)| *f == format) {
            return dir.path().to_path_buf();
        }
        let dir = tempfile::tempdir().unwrap();
        if format.in_run_dir() {
            common::copy_dir(&fixture().run, dir.path());
        }
        let path = dir.path().to_path_buf();
        dirs.push((format, dir));
        path
    })
}

/// Reads `path` as `format` is read, and checks what was accepted: `Ok` if accepted and
/// sane (an insane acceptance panics, naming what is wrong), `Err` with the refusal.
fn read(format: Format, dir: &Path, path: &Path) -> Result<(), String> {
    let run = RunDir::new(dir);
    let result: sgdlab::Result<()> = match format {
        Format::CsvClasses | Format::CsvNames | Format::CsvValues => {
            let (task, names) = match format {
                Format::CsvClasses => (Task::Classification, None),
                Format::CsvNames => (Task::Classification, Some(class_names())),
                _ => (Task::Regression, None),
            };
            let label = if format == Format::CsvNames {
                "kind"
            } else if format == Format::CsvValues {
                "target"
            } else {
                "label"
            };
            load_csv(path, label, None, task, names.as_deref()).map(|data| {
                assert!(data.dim >= 1 && !data.is_empty());
                assert_eq!(data.features.len(), data.len() * data.dim);
                assert_eq!(data.feature_names.len(), data.dim);
                assert!(data.features.iter().all(|v| v.is_finite()));
                match &data.targets {
                    Targets::Classes { labels, classes } => {
                        assert!((2..=sgdlab::config::MAX_CLASSES).contains(classes));
                        assert!(labels.iter().all(|&l| (l as usize) < *classes));
                    }
                    Targets::Values(values) => assert!(values.iter().all(|v| v.is_finite())),
                }
            })
        }
        Format::IdxRaw | Format::IdxGzip => idx::read_idx(path).map(|array| {
            assert!(!array.dims.is_empty());
            assert_eq!(array.data.len(), array.dims.iter().product::<usize>());
        }),
        Format::Config => run.load_config().map(|config| {
            let again = sgdlab::config::Config::from_toml(&config.to_toml(), "resolved", &[])
                .expect("an accepted config's resolved TOML loads");
            assert_eq!(again, config, "the resolved TOML does not round-trip");
        }),
        Format::Standardizer => run.load_standardizer().and_then(|standardizer| {
            let standardizer = standardizer.expect("the file is there");
            // What prepare() checks before applying a stored standardizer.
            standardizer
                .validate(30)
                .map_err(|e| sgdlab::Error::new(format!("the run's standardizer.json: {e}")))?;
            assert!(standardizer.scale.iter().all(|s| s.is_finite() && *s > 0.0));
            Ok(())
        }),
        Format::Metrics => read_metrics_csv(path).map(|rows| {
            for (&epoch, row) in &rows {
                assert!(epoch >= 1, "epoch {epoch} accepted");
                assert_eq!(row["epoch"], epoch as f64, "row keyed {epoch}");
            }
        }),
        Format::Steps => Table::read(path).map(|table| {
            assert_eq!(table.rows().count(), table.row_count());
            assert!(table.rows().all(|row| row.len() == table.columns.len()));
        }),
        Format::RunInfo => run.load_run_info(42).map(|_| ()),
        Format::ModelCheckpoint | Format::OptimizerCheckpoint | Format::SchedulerCheckpoint => {
            let config = RunDir::new(&fixture().run).load_config().unwrap();
            let problem = Problem {
                dim: 30,
                classes: Some(2),
            };
            let device = sgdlab::device::resolve("cpu").unwrap().autodiff();
            check_resume_checkpoint(&run, 2, &config, problem, &device).map(|model| {
                assert_eq!(model.num_params(), 31);
            })
        }
    };
    result.map_err(|e| e.to_string())
}

/// One case: `mutations` of `format`'s seed, written where its reader looks, then read.
fn check_case(format: Format, mutations: &[Mutation]) {
    let mut bytes = seeds()[Format::ALL.iter().position(|&f| f == format).unwrap()].clone();
    for mutation in mutations {
        apply(&mut bytes, mutation);
    }
    let dir = scratch(format);
    let path = dir.join(format.file());
    std::fs::write(&path, &bytes).unwrap();
    let (outcome, peak) = peak_during(|| read(format, &dir, &path));
    let justified = if format == Format::IdxGzip {
        // What the gzip stream really inflates to (up to 64 MiB) justifies its array.
        let mut inflated = Vec::new();
        let _ = std::io::Read::read_to_end(
            &mut std::io::Read::take(flate2::read::MultiGzDecoder::new(&bytes[..]), 64 << 20),
            &mut inflated,
        );
        bytes.len().max(inflated.len())
    } else {
        bytes.len()
    };
    assert!(
        peak <= allocation_limit(justified),
        "{format:?}: reading {} bytes allocated {peak} bytes at peak",
        bytes.len()
    );
    if let Err(message) = outcome {
        assert!(
            !message.contains('\n'),
            "{format:?}: not one line: {message}"
        );
        let name = Path::new(format.file())
            .file_name()
            .unwrap()
            .to_str()
            .unwrap();
        assert!(
            message.contains(name),
            "{format:?}: {message:?} does not name {name}"
        );
    }
    // The scratch dir gets its seed back for the next case.
    std::fs::write(
        &path,
        &seeds()[Format::ALL.iter().position(|&f| f == format).unwrap()],
    )
    .unwrap();
}

fn seeds() -> &'static Vec<Vec<u8>> {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| Format::ALL.iter().map(|f| f.seed()).collect())
}

/// The seed `cargo test` fuzzes from unless `PROPTEST_RNG_SEED` says otherwise.
const FIXED_SEED: u64 = 20_261_201;

/// Cases per format and `cargo test`.
const CASES: u32 = 2000;

macro_rules! fuzz_format {
    ($name:ident, $format:expr, $cases:expr) => {
        proptest! {
            #![proptest_config(common::proptest_config($cases, FIXED_SEED))]
            #[test]
            fn $name(mutations in mutations()) {
                check_case($format, &mutations);
            }
        }
    };
}

fuzz_format!(csv_with_class_indices, Format::CsvClasses, CASES);
fuzz_format!(csv_with_class_names, Format::CsvNames, CASES);
fuzz_format!(csv_with_real_targets, Format::CsvValues, CASES);
fuzz_format!(idx_raw, Format::IdxRaw, CASES);
fuzz_format!(idx_gzipped, Format::IdxGzip, CASES);
fuzz_format!(run_config_toml, Format::Config, CASES);
fuzz_format!(run_standardizer_json, Format::Standardizer, CASES);
fuzz_format!(run_metrics_csv, Format::Metrics, CASES);
fuzz_format!(run_steps_csv, Format::Steps, CASES);
fuzz_format!(run_info_json, Format::RunInfo, CASES);
fuzz_format!(model_checkpoint, Format::ModelCheckpoint, CASES);
fuzz_format!(optimizer_checkpoint, Format::OptimizerCheckpoint, CASES);
fuzz_format!(scheduler_checkpoint, Format::SchedulerCheckpoint, CASES);

/// Every seed is accepted unmutated: a fuzzer whose seeds are refused tests only refusals.
#[test]
fn the_seeds_are_accepted() {
    for format in Format::ALL {
        let dir = scratch(format);
        let path = dir.join(format.file());
        std::fs::write(
            &path,
            &seeds()[Format::ALL.iter().position(|&f| f == format).unwrap()],
        )
        .unwrap();
        read(format, &dir, &path).unwrap_or_else(|e| panic!("{format:?}: {e}"));
    }
}

proptest! {
    #![proptest_config(common::proptest_config(40, FIXED_SEED))]

    /// A whole run dir with one file mutated, through `--resume`'s dry run (everything a
    /// resume reads before its first step) and `eval`: accepted, or refused in one line.
    #[test]
    fn mutated_run_dirs_resume_and_evaluate_or_fail_on_one_line(
        which in 5..Format::ALL.len(),
        mutations in mutations(),
    ) {
        let format = Format::ALL[which];
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run");
        common::copy_dir(&fixture().run, &run);
        let mut bytes = seeds()[which].clone();
        for mutation in &mutations {
            apply(&mut bytes, mutation);
        }
        std::fs::write(run.join(format.file()), &bytes).unwrap();
        let config = common::load("quickstart", &[
            "optimizer.name=\"adam\"",
            "optimizer.learning_rate=0.01",
            "schedule.name=\"exponential\"",
            "schedule.rho=0.9",
            "training.epochs=3",
        ]);
        let request = TrainRequest {
            config,
            name: "fuzz".into(),
            run_dir: Some(run.clone()),
            resume: true,
            artifacts: dir.path().to_path_buf(),
            progress: Progress::Quiet,
        };
        for outcome in [
            dry_run(&request).map(|_| ()),
            sgdlab::eval::evaluate_run(
                &RunDir::new(&run),
                sgdlab::train::CheckpointChoice::Last,
                None,
                None,
            )
            .map(|_| ()),
        ] {
            if let Err(error) = outcome {
                let message = error.to_string();
                prop_assert!(!message.contains('\n'), "{}", message);
                prop_assert!(
                    message.contains(&run.display().to_string())
                        || message.contains("config.toml")
                        || message.contains("standardizer.json"),
                    "{format:?}: {message} names no file"
                );
            }
        }
    }
}
