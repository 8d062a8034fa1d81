//! Config fuzzing: every shipped config in `configs/`, mutated (wrong types, missing and
//! unknown keys, out-of-range, NaN, infinite and huge numbers, empty strings, wrong enum
//! names, wrong nesting, broken TOML text, bad `--set` assignments), must either load and
//! validate — and then round-trip through its resolved TOML and give a schedule of finite
//! rates — or be refused with one line naming the file (or `--set`) and a key. Never a panic.
//! What is accepted is checked against an oracle of its own, the bounds docs/config.md states
//! for each key ([`documented_fault`]); and a value outside its key's documented bounds must
//! be refused naming that key, not any.
//! A few dozen accepted cases also go through `train::dry_run`, which must write nothing.

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;

use sgdlab::config::Config;
use sgdlab::optim::schedule::learning_rates;
use sgdlab::train::{Progress, TrainRequest, dry_run};

/// Cases per `cargo test` run; config parsing is cheap, so this runs in well under a second.
const CASES: u32 = 1500;
/// Accepted cases that also go through `train::dry_run` (data loading, model building).
const DRY_RUNS: usize = 30;
/// How the mutated text is named in errors.
const ORIGIN: &str = "fuzz.toml";

/// Every key a config may have, section by section (plus whatever a shipped config has).
const KEYS: &[&str] = &[
    "data.source",
    "data.path",
    "data.label",
    "data.features",
    "data.classes",
    "data.n",
    "data.a_star",
    "data.b_star",
    "data.limit",
    "data.standardize",
    "data.validation_fraction",
    "data.test_fraction",
    "model.kind",
    "model.hidden",
    "model.activation",
    "model.head",
    "model.init",
    "optimizer.name",
    "optimizer.learning_rate",
    "optimizer.weight_decay",
    "optimizer.momentum",
    "optimizer.form",
    "optimizer.dampening",
    "optimizer.epsilon",
    "optimizer.initial_accumulator",
    "optimizer.lr_decay",
    "optimizer.beta",
    "optimizer.centered",
    "optimizer.beta_1",
    "optimizer.beta_2",
    "optimizer.amsgrad",
    "optimizer.line_search",
    "optimizer.sufficient_decrease",
    "optimizer.backtracking_factor",
    "schedule.name",
    "schedule.rho",
    "schedule.final_learning_rate",
    "schedule.gamma",
    "schedule.every",
    "schedule.period",
    "schedule.min_learning_rate",
    "schedule.restarts",
    "schedule.period_multiplier",
    "schedule.unit",
    "schedule.warmup",
    "schedule.warmup_start",
    "training.epochs",
    "training.batch_size",
    "training.seed",
    "training.device",
    "training.devices",
    "training.clip_grad_norm",
    "training.clip_grad_value",
    "training.trace_parameters",
    "training.suboptimality",
    "training.target_suboptimality",
    "training.divergence_factor",
    "training.early_stopping_patience",
    "training.early_stopping_min_delta",
    "training.early_stopping_metric",
    "training.keep_checkpoints",
];

const SECTIONS: &[&str] = &["data", "model", "optimizer", "schedule", "training"];

/// Values to put anywhere: of every TOML type, in and out of every range.
fn values() -> Vec<toml::Value> {
    use toml::Value::{Array, Boolean, Float, Integer, String as Text};
    let text = |s: &str| Text(s.to_string());
    let ints = |v: &[i64]| Array(v.iter().map(|&i| Integer(i)).collect());
    let texts = |v: &[&str]| Array(v.iter().map(|s| text(s)).collect());
    let mut table = toml::Table::new();
    table.insert("x".into(), Integer(1));
    vec![
        Integer(0),
        Integer(1),
        Integer(2),
        Integer(7),
        Integer(-1),
        Integer(1_000_001),
        Integer(10_000_000_000),
        Integer(i64::MAX),
        Integer(i64::MIN),
        Float(0.0),
        Float(-0.0),
        Float(0.5),
        Float(0.999_999),
        Float(1.0),
        Float(1.5),
        Float(-0.5),
        Float(f64::NAN),
        Float(f64::INFINITY),
        Float(f64::NEG_INFINITY),
        Float(1e308),
        Float(-1e308),
        Float(1e-308),
        Float(5e-324),
        Float(u64::MAX as f64),
        Boolean(true),
        Boolean(false),
        text(""),
        text(" "),
        text("x"),
        text("../../escape"),
        text("/"),
        text("relu"),
        text("softmax"),
        text("mlp"),
        text("linear"),
        text("logistic"),
        text("digits"),
        text("lecture_1d"),
        text("csv"),
        text("mnist"),
        text("epoch"),
        text("pytorch"),
        text("adam"),
        text("momentum"),
        text("cosine"),
        text("step"),
        text("cpu"),
        text("cuda:1"),
        text("all"),
        text("valid_accuracy"),
        text("wgpu:x"),
        text("ünïcödé\u{0}"),
        ints(&[]),
        ints(&[0]),
        ints(&[4]),
        ints(&[64, 32]),
        ints(&[100_000]),
        ints(&[i64::MAX]),
        ints(&[-3]),
        Array(vec![Integer(1); 100]),
        texts(&["a", "b"]),
        texts(&["a", "a"]),
        texts(&[""]),
        Array(vec![Float(f64::NAN)]),
        toml::Value::Table(table),
        toml::Value::Table(toml::Table::new()),
    ]
}

/// Factors a `Scale` mutation multiplies a number by.
const FACTORS: &[f64] = &[
    0.0, -1.0, 0.5, 2.0, 3.0, 10.0, 1e3, 1e6, 1e12, 1e300, 1e-300, 0.1,
];

/// The valid names of each enum key (docs/config.md), for `Scale` to swap one for another and
/// for the oracle ([`documented_fault`]).
fn enum_names(path: &str) -> &'static [&'static str] {
    match path {
        "data.source" => &[
            "breast_cancer",
            "digits",
            "diabetes",
            "lecture_1d",
            "csv",
            "mnist",
        ],
        "model.kind" => &["logistic", "softmax", "mlp", "linear"],
        "model.activation" => &["relu", "tanh", "sigmoid"],
        "model.head" => &["auto", "sigmoid", "softmax"],
        "model.init" => &["default", "zeros"],
        "optimizer.name" => &[
            "sgd", "gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw",
        ],
        "optimizer.form" => &["lecture", "pytorch"],
        "schedule.name" => &[
            "constant",
            "linear",
            "inverse_time_recursive",
            "inverse_time",
            "exponential",
            "step",
            "cosine",
        ],
        "schedule.unit" => &["step", "epoch"],
        "training.device" => &["cpu", "flex", "ndarray", "wgpu", "cuda:0"],
        "training.early_stopping_metric" => &["valid_loss", "valid_accuracy"],
        "training.keep_checkpoints" => &["all"],
        _ => &["x"],
    }
}

/// A value of the same type as `value`, scaled (numbers), swapped for another valid name
/// (enum strings) or flipped (booleans): mostly plausible configs, many of them accepted.
fn scaled(path: &str, value: &toml::Value, factor: usize) -> toml::Value {
    use toml::Value;
    let f = FACTORS[factor % FACTORS.len()];
    match value {
        Value::Integer(i) => {
            let x = *i as f64 * f;
            if x.fract() == 0.0 && x.abs() < 9e18 {
                Value::Integer(x as i64)
            } else {
                Value::Float(x)
            }
        }
        Value::Float(x) => Value::Float(x * f),
        Value::Boolean(b) => Value::Boolean(!b),
        Value::String(_) => {
            let names = enum_names(path);
            Value::String(names[factor % names.len()].to_string())
        }
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| scaled(path, v, factor)).collect())
        }
        other => other.clone(),
    }
}

/// Bad `--set` assignments that are not a key and a value at all.
const BAD_ASSIGNMENTS: &[&str] = &[
    "",
    "=",
    "=1",
    "noequals",
    "a..b=1",
    ".a=1",
    "a.=1",
    "data.source.x=1",
    "optimizer.learning_rate.deep.er=1",
    "training.epochs=",
    "training.epochs=[[",
    "training.epochs==3",
    "model.hidden=[1,",
    "data=1",
    "schedule=\"x\"",
    "data.path=../../..",
    " training . epochs = 3",
    "training.epochs=3=4",
];

/// The shipped configs, `(file name, text)`, read once.
fn shipped() -> &'static [(String, String)] {
    static CONFIGS: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
    CONFIGS.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("configs");
        let mut configs: Vec<(String, String)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|e| e == "toml"))
            .map(|path| {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read_to_string(&path).unwrap())
            })
            .collect();
        configs.sort();
        assert!(configs.len() >= 10, "expected the shipped configs");
        configs
    })
}

/// One mutation of a config, chosen by numbers so that proptest can shrink it.
#[derive(Debug, Clone)]
enum Mutation {
    /// Put `values()[value]` at `KEYS[key]` (or at one of the config's own keys).
    Set { key: usize, value: usize },
    /// One of the config's own values scaled, swapped or flipped ([`scaled`]), in the file
    /// or (`by_set`) through `--set`.
    Scale {
        key: usize,
        factor: usize,
        by_set: bool,
    },
    /// The same through `--set key=value`.
    Override { key: usize, value: usize },
    /// Remove one of the config's own keys, or a whole section.
    Remove { key: usize },
    /// An unknown key in a section (or at the top level).
    Unknown { section: usize },
    /// A section replaced by a value, or nested inside another section.
    Nesting { section: usize, value: usize },
    /// A malformed `--set` assignment.
    BadAssignment { which: usize },
    /// The text cut at a byte offset, or a character inserted there.
    Text { offset: usize, insert: Option<char> },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let n_values = values().len();
    prop_oneof![
        4 => (0..KEYS.len() * 2, 0..n_values).prop_map(|(key, value)| Mutation::Set { key, value }),
        2 => (0..KEYS.len() * 2, 0..n_values)
            .prop_map(|(key, value)| Mutation::Override { key, value }),
        4 => (0..64usize, 0..FACTORS.len() * 4, any::<bool>())
            .prop_map(|(key, factor, by_set)| Mutation::Scale { key, factor, by_set }),
        1 => (0..64usize).prop_map(|key| Mutation::Remove { key }),
        1 => (0..SECTIONS.len() + 1).prop_map(|section| Mutation::Unknown { section }),
        1 => (0..SECTIONS.len(), 0..n_values + SECTIONS.len())
            .prop_map(|(section, value)| Mutation::Nesting { section, value }),
        1 => (0..BAD_ASSIGNMENTS.len()).prop_map(|which| Mutation::BadAssignment { which }),
        1 => (0..4096usize, proptest::option::of(any::<char>()))
            .prop_map(|(offset, insert)| Mutation::Text { offset, insert }),
    ]
}

/// The `section.key` leaf paths a config table holds.
fn own_keys(table: &toml::Table) -> Vec<String> {
    let mut keys = Vec::new();
    for (section, value) in table {
        match value {
            toml::Value::Table(inner) => {
                keys.extend(inner.keys().map(|key| format!("{section}.{key}")))
            }
            _ => keys.push(section.clone()),
        }
    }
    keys
}

/// `KEYS[i]` for small `i`, else one of the config's own keys (so both present and absent
/// keys get mutated).
fn pick_key(table: &toml::Table, i: usize) -> String {
    if i < KEYS.len() {
        return KEYS[i].to_string();
    }
    let own = own_keys(table);
    own[(i - KEYS.len()) % own.len()].clone()
}

fn set_path(table: &mut toml::Table, path: &str, value: toml::Value) {
    let (section, key) = path.split_once('.').expect("section.key");
    let entry = table
        .entry(section.to_string())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if !entry.is_table() {
        *entry = toml::Value::Table(toml::Table::new());
    }
    entry.as_table_mut().unwrap().insert(key.to_string(), value);
}

/// What a case feeds the loader, and what its error must name.
struct Case {
    text: String,
    overrides: Vec<String>,
    /// The key a `Set`, `Scale` or `Override` changed, and its new value.
    changed: Option<(String, toml::Value)>,
    /// Fragments of which the error must contain at least one (key paths, key names).
    names: Vec<String>,
    /// The error must name the file (`fuzz.toml`), or `--set` for a malformed assignment.
    origin: &'static str,
}

fn build_case(config: usize, mutation: &Mutation) -> Case {
    let (_, text) = &shipped()[config % shipped().len()];
    let mut table: toml::Table = text.parse().unwrap();
    let values = values();
    let key_names = |path: &str| {
        let leaf = path.rsplit('.').next().unwrap();
        let section = path.split('.').next().unwrap();
        vec![
            path.to_string(),
            format!("`{leaf}`"),
            format!("{section}.{leaf}"),
        ]
    };
    let mut overrides = Vec::new();
    let mut origin = ORIGIN;
    let mut changed = None;
    let names = match *mutation {
        Mutation::Set { key, value } => {
            let path = pick_key(&table, key);
            set_path(&mut table, &path, values[value].clone());
            changed = Some((path.clone(), values[value].clone()));
            key_names(&path)
        }
        Mutation::Scale {
            key,
            factor,
            by_set,
        } => {
            let own = own_keys(&table);
            let path = own[key % own.len()].clone();
            let (section, leaf) = path.split_once('.').unwrap();
            let value = scaled(&path, &table[section][leaf], factor);
            changed = Some((path.clone(), value.clone()));
            if by_set {
                overrides.push(format!("{path}={value}"));
            } else {
                set_path(&mut table, &path, value);
            }
            key_names(&path)
        }
        Mutation::Override { key, value } => {
            let path = pick_key(&table, key);
            overrides.push(format!("{path}={}", values[value]));
            changed = Some((path.clone(), values[value].clone()));
            key_names(&path)
        }
        Mutation::Remove { key } => {
            let own = own_keys(&table);
            if key % 7 == 0 {
                let section = SECTIONS[key % SECTIONS.len()];
                table.remove(section);
                vec![section.to_string()]
            } else {
                let path = &own[key % own.len()];
                let (section, leaf) = path.split_once('.').unwrap();
                table[section].as_table_mut().unwrap().remove(leaf);
                key_names(path)
            }
        }
        Mutation::Unknown { section } => match SECTIONS.get(section) {
            Some(section) => {
                set_path(&mut table, &format!("{section}.bogus_key"), 1.into());
                vec!["bogus_key".to_string()]
            }
            None => {
                table.insert("bogus_key".into(), 1.into());
                vec!["bogus_key".to_string()]
            }
        },
        Mutation::Nesting { section, value } => {
            let name = SECTIONS[section];
            let replacement = match value.checked_sub(values.len()) {
                // A section nested inside another one: [data.model], [training.optimizer], ...
                Some(other) => {
                    let inner = table
                        .get(SECTIONS[other])
                        .cloned()
                        .unwrap_or(toml::Value::Table(toml::Table::new()));
                    let mut nested = table[name].as_table().cloned().unwrap_or_default();
                    nested.insert(SECTIONS[other].to_string(), inner);
                    toml::Value::Table(nested)
                }
                None => values[value].clone(),
            };
            table.insert(name.to_string(), replacement);
            vec![name.to_string()]
        }
        Mutation::BadAssignment { which } => {
            let assignment = BAD_ASSIGNMENTS[which];
            overrides.push(assignment.to_string());
            // A malformed assignment is named as given; a well-formed one with a bad key or
            // value is named by the file and key like any other.
            origin = "";
            let key = assignment.split('=').next().unwrap().trim();
            let mut names = vec![format!("--set {assignment}")];
            if let Some(section) = key.split('.').next().filter(|s| !s.is_empty()) {
                names.push(section.to_string());
            }
            names
        }
        Mutation::Text { offset, insert } => {
            let mut text = text.clone();
            let mut at = offset % (text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            match insert {
                Some(c) => text.insert(at, c),
                None => text.truncate(at),
            }
            // Where the damage lands decides which key (if any) is named: any will do.
            let mut names: Vec<String> = SECTIONS.iter().map(|s| s.to_string()).collect();
            names.push(format!("{ORIGIN}:"));
            return Case {
                text,
                overrides,
                changed,
                names,
                origin,
            };
        }
    };
    Case {
        text: toml::to_string(&table).expect("a toml::Table serializes"),
        overrides,
        changed,
        names,
        origin,
    }
}

/// A number, integer or float.
fn number(value: &toml::Value) -> Option<f64> {
    value
        .as_float()
        .or_else(|| value.as_integer().map(|i| i as f64))
}

/// Why `value` breaks the bounds docs/config.md gives `path` (its own key alone, not what it
/// must agree with), or `None` when it keeps them or the key has none written down.
fn documented_fault(path: &str, value: &toml::Value) -> Option<String> {
    use toml::Value;
    let integer = |low: i64, high: i64| match value {
        Value::Integer(i) if (low..=high).contains(i) => None,
        _ => Some(format!("the docs allow integers {low} to {high}")),
    };
    let real = |ok: fn(f64) -> bool, what: &str| match number(value) {
        Some(x) if ok(x) => None,
        _ => Some(format!("the docs allow {what}")),
    };
    let one_of = |names: &[&str]| match value.as_str() {
        Some(name) if names.contains(&name) => None,
        _ => Some(format!("the docs allow one of {names:?}")),
    };
    let boolean = || (!value.is_bool()).then(|| "the docs allow true or false".to_string());
    match path {
        "data.source" | "model.kind" | "model.activation" | "model.head" | "model.init"
        | "optimizer.name" | "optimizer.form" | "schedule.name" | "schedule.unit" => {
            one_of(enum_names(path))
        }
        "data.n" => integer(2, 10_000_000),
        "data.a_star" | "data.b_star" => real(f64::is_finite, "a finite number"),
        "data.limit" => integer(1, i64::MAX),
        "data.standardize" => boolean(),
        "data.validation_fraction" | "data.test_fraction" => {
            real(|x| (0.0..1.0).contains(&x), "[0, 1)")
        }
        "model.hidden" => match value.as_array() {
            Some(layers)
                if layers.len() <= 64
                    && layers
                        .iter()
                        .all(|w| w.as_integer().is_some_and(|w| (1..=65_536).contains(&w))) =>
            {
                None
            }
            _ => Some("the docs allow at most 64 layers, each 1 to 65,536 wide".into()),
        },
        "optimizer.learning_rate" => real(|x| x > 0.0 && x.is_finite(), "α > 0, finite"),
        "optimizer.weight_decay" => real(|x| x >= 0.0 && x.is_finite(), "μ ≥ 0, finite"),
        "optimizer.momentum"
        | "optimizer.dampening"
        | "optimizer.beta"
        | "optimizer.beta_1"
        | "optimizer.beta_2" => real(|x| (0.0..1.0).contains(&x), "[0, 1)"),
        "optimizer.epsilon" => real(|x| x > 0.0 && x.is_finite(), "ε > 0"),
        "optimizer.initial_accumulator" | "optimizer.lr_decay" => {
            real(|x| x >= 0.0 && x.is_finite(), "≥ 0")
        }
        "optimizer.centered" | "optimizer.amsgrad" => boolean(),
        "optimizer.line_search" => one_of(&["none", "armijo", "exact"]),
        "optimizer.sufficient_decrease" | "optimizer.backtracking_factor" => {
            real(|x| x > 0.0 && x < 1.0, "(0, 1)")
        }
        "schedule.rho" => real(|x| x > 0.0 && x.is_finite(), "ρ > 0"),
        "schedule.final_learning_rate" | "schedule.min_learning_rate" | "schedule.warmup_start" => {
            real(|x| x >= 0.0 && x.is_finite(), "≥ 0")
        }
        "schedule.gamma" => real(|x| x > 0.0 && x <= 1.0, "γ ∈ (0, 1]"),
        "schedule.every" | "schedule.period" => integer(1, i64::MAX),
        "schedule.period_multiplier" => real(|x| x >= 1.0 && x.is_finite(), "≥ 1"),
        "schedule.restarts" => boolean(),
        "schedule.warmup" => integer(0, i64::MAX),
        "training.epochs" | "training.batch_size" => integer(1, 1_000_000),
        "training.seed" => integer(0, i64::MAX),
        "training.clip_grad_norm" | "training.clip_grad_value" => {
            real(|x| x > 0.0 && x.is_finite(), "c > 0")
        }
        "training.trace_parameters" => boolean(),
        "training.suboptimality" => one_of(&["auto", "on", "off"]),
        "training.target_suboptimality" => real(|x| x > 0.0 && x.is_finite(), "ρ > 0"),
        "training.divergence_factor" => real(|x| x > 1.0, "> 1 (inf allowed)"),
        _ => None,
    }
}

static DRY_RUNS_DONE: AtomicUsize = AtomicUsize::new(0);

/// Whether an accepted config is cheap to prepare (embedded or small synthetic data, a small
/// model), so that a dry run stays fast.
fn cheap_to_prepare(config: &Config) -> bool {
    use sgdlab::config::DataSource;
    let data_ok = match config.data.source {
        DataSource::BreastCancer | DataSource::Digits | DataSource::Diabetes => true,
        DataSource::Lecture1d => config.data.n.is_none_or(|n| n <= 100_000),
        // Their files do not exist here: the error path, which is cheap.
        DataSource::Csv | DataSource::Mnist => true,
    };
    data_ok && config.model.hidden.iter().product::<usize>() <= 1 << 16
}

/// Loads `config` with `mutation` applied and, if `extra` is given, one more `--set` of
/// `values()[extra.1]` at the key `extra.0` picks, then checks the outcome.
fn check_case(config: usize, mutation: &Mutation, extra: Option<(usize, usize)>) {
    let mut case = build_case(config, mutation);
    if let Some((key, value)) = extra {
        let table: toml::Table = shipped()[config % shipped().len()].1.parse().unwrap();
        let path = pick_key(&table, key);
        case.overrides
            .push(format!("{path}={}", values()[value % values().len()]));
        let leaf = path.rsplit('.').next().unwrap();
        case.names.extend([path.clone(), format!("`{leaf}`")]);
    }
    match Config::from_toml(&case.text, ORIGIN, &case.overrides) {
        Ok(config) => check_accepted(&config),
        Err(error) => {
            let message = error.to_string();
            // A value outside its own key's documented bounds: that key is the one at fault,
            // and the one the error names.
            if extra.is_none()
                && let Some((path, value)) = &case.changed
                && let Some(fault) = documented_fault(path, value)
            {
                let leaf = path.rsplit('.').next().unwrap();
                assert!(
                    message.contains(path.as_str()) || message.contains(&format!("`{leaf}`")),
                    "{path} = {value} ({fault}) refused without naming it: {message}"
                );
            }
            assert!(!message.contains('\n'), "more than one line: {message}");
            assert!(!message.is_empty());
            // An assignment that cannot apply (`data.source.x=1`) is named as given.
            let names_argument = !case.overrides.is_empty() && message.starts_with("--set ");
            assert!(
                message.contains(case.origin) || names_argument,
                "`{}` not named in: {message}",
                case.origin
            );
            let named = case.names.iter().any(|name| message.contains(name.as_str()))
                // A valid value can make another key inconsistent: then that key is named.
                || KEYS.iter().any(|key| message.contains(key))
                || SECTIONS.iter().any(|s| message.contains(&format!("{s}:")));
            assert!(
                named,
                "no key named (expected one of {:?}): {message}",
                case.names
            );
        }
    }
}

fn check_accepted(config: &Config) {
    // The oracle: every key of the resolved config within the bounds the docs give it.
    let resolved: toml::Table = config.to_toml().parse().unwrap();
    for path in own_keys(&resolved) {
        let (section, leaf) = path.split_once('.').unwrap_or((&path, ""));
        let value = &resolved[section][leaf];
        if let Some(fault) = documented_fault(&path, value) {
            panic!("accepted {path} = {value}: {fault}");
        }
    }
    let fraction = |key: &str| resolved["data"].get(key).and_then(toml::Value::as_float);
    if let (Some(valid), Some(test)) = (fraction("validation_fraction"), fraction("test_fraction"))
    {
        assert!(
            valid + test < 1.0,
            "accepted fractions {valid} + {test} ≥ 1"
        );
    }
    let training = resolved["training"].as_table().unwrap();
    assert!(
        !(training.contains_key("clip_grad_norm") && training.contains_key("clip_grad_value")),
        "accepted both clip_grad_norm and clip_grad_value"
    );
    if let (Some(lr), Some(schedule)) = (
        number(&resolved["optimizer"]["learning_rate"]),
        resolved["schedule"].as_table(),
    ) {
        for key in ["min_learning_rate", "warmup_start"] {
            if let Some(alpha) = schedule.get(key).and_then(number) {
                assert!(
                    alpha <= lr,
                    "accepted schedule.{key} = {alpha} > α^(0) = {lr}"
                );
            }
        }
    }
    // What a run saves as config.toml reads back as the same config.
    let resolved = config.to_toml();
    let reloaded = Config::from_toml(&resolved, "config.toml", &[])
        .unwrap_or_else(|e| panic!("the resolved config does not reload: {e}\n{resolved}"));
    assert_eq!(&reloaded, config, "the resolved config changed on reload");
    let _ = config.warnings(Some(7));
    // The schedule's first steps, at two epoch lengths: rates are numbers, never NaN.
    for steps_per_epoch in [1, 40] {
        let schedule = config
            .schedule
            .build(config.optimizer.learning_rate(), steps_per_epoch);
        for (step, alpha) in learning_rates(schedule, 64).into_iter().enumerate() {
            assert!(
                alpha >= 0.0 && !alpha.is_nan(),
                "α = {alpha} at step {step} of {config:?}"
            );
        }
    }
    if cheap_to_prepare(config) && DRY_RUNS_DONE.fetch_add(1, Ordering::Relaxed) < DRY_RUNS {
        check_dry_run(config);
    }
}

/// `dry_run` prepares without writing: Ok with a sane summary, or a one-line error; either
/// way no run dir appears.
fn check_dry_run(config: &Config) {
    let dir = tempfile::tempdir().unwrap();
    let artifacts = dir.path().join("artifacts");
    let request = TrainRequest {
        config: config.clone(),
        name: "fuzz".into(),
        run_dir: None,
        resume: false,
        artifacts: artifacts.clone(),
        progress: Progress::Quiet,
    };
    match dry_run(&request) {
        Ok(summary) => {
            assert!(summary.train_examples > 0);
            assert!(summary.parameters > 0);
            assert!(summary.steps_per_epoch >= 1);
            assert!(summary.run_dir.starts_with(&artifacts));
        }
        Err(error) => assert!(!error.to_string().contains('\n'), "{error}"),
    }
    assert!(
        !artifacts.exists(),
        "a dry run created {}",
        artifacts.display()
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// The seed `cargo test` fuzzes from unless `PROPTEST_RNG_SEED` says otherwise.
const FIXED_SEED: u64 = 20_261_129;

proptest! {
    #![proptest_config(common::proptest_config(CASES, FIXED_SEED))]

    /// One mutation of one shipped config.
    #[test]
    fn mutated_configs_load_or_fail_on_one_line(config in 0..64usize, mutation in mutation()) {
        check_case(config, &mutation, None);
    }

}

proptest! {
    #![proptest_config(common::proptest_config(CASES / 3, FIXED_SEED))]

    /// Two mutations at once: errors that only appear together (e.g. a schedule key valid
    /// for another schedule name).
    #[test]
    fn doubly_mutated_configs_load_or_fail_on_one_line(
        config in 0..64usize,
        key in 0..KEYS.len() * 2,
        value in 0..64usize,
        mutation in mutation(),
    ) {
        check_case(config, &mutation, Some((key, value)));
    }
}

/// Every shipped config loads as shipped (mnist's data folder aside, which is checked when
/// data loads), and each key the fuzzer knows of is one a config may have.
#[test]
fn shipped_configs_are_the_fuzzer_seeds() {
    for (name, text) in shipped() {
        let config = Config::from_toml(text, name, &[]).unwrap_or_else(|e| panic!("{e}"));
        let resolved: toml::Table = config.to_toml().parse().unwrap();
        for key in own_keys(&resolved) {
            assert!(
                KEYS.contains(&key.as_str()),
                "{name}: {key} unknown to the fuzzer"
            );
        }
    }
    let _ = common::config_path("quickstart");
}
