//! Learning-rate schedules from the config to the run directory: each `[schedule]` builds the
//! formula it names, the unit and the warmup compose with every family, the learner logs the
//! α the schedule yields, `--resume` continues the α sequence bit for bit, bad parameters are
//! one-line errors naming the key, and `sgdlab schedule` previews a schedule without training.

mod common;

use common::{GOOD, write};
use sgdlab::config::Config;
use sgdlab::optim::schedule::learning_rates;
use sgdlab::schedule_table::schedule_table;

/// α^(0) of every config below.
const ALPHA_0: f64 = 0.1;

/// A breast-cancer logistic config with α^(0) = 0.1 and the given `[schedule]` body.
fn config_with(schedule: &str) -> Config {
    let text = format!(
        "[data]\nsource = \"breast_cancer\"\n[model]\nkind = \"logistic\"\ninit = \"zeros\"\n\
         [optimizer]\nname = \"sgd\"\nlearning_rate = {ALPHA_0}\n[schedule]\n{schedule}\n\
         [training]\nepochs = 4\nbatch_size = 16\n"
    );
    Config::from_toml(&text, "test.toml", &[]).expect("valid test config")
}

/// The first `steps` α the config's schedule hands the learner, `steps_per_epoch` steps an
/// epoch.
fn rates(schedule: &str, steps_per_epoch: usize, steps: usize) -> Vec<f64> {
    let config = config_with(schedule);
    learning_rates(
        config
            .schedule
            .build(config.optimizer.learning_rate(), steps_per_epoch),
        steps,
    )
}

fn assert_close(actual: f64, expected: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= 1e-12 * expected.abs(),
        "{what}: {actual} vs expected {expected}"
    );
}

fn assert_all_close(actual: &[f64], expected: &[f64], what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths");
    for (t, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert_close(*a, *e, &format!("{what}, t = {t}"));
    }
}

#[test]
fn each_config_builds_the_formula_it_names() {
    assert_eq!(rates("name = \"constant\"", 1, 3), vec![ALPHA_0; 3]);

    // Linear, ρ = 4 to α^(ρ) = 0.02: t = 0 is α^(0), t = ρ is α^(ρ), and it stays there.
    let linear = rates(
        "name = \"linear\"\nrho = 4\nfinal_learning_rate = 0.02",
        1,
        7,
    );
    assert_all_close(
        &linear,
        &[0.1, 0.08, 0.06, 0.04, 0.02, 0.02, 0.02],
        "linear",
    );
    assert_eq!(linear[0], ALPHA_0);
    assert_eq!(linear[4], 0.02);

    // The lecture's recursion against its closed product α^(0) / Π_{s<t} (1 + ρ s).
    let recursive = rates("name = \"inverse_time_recursive\"\nrho = 0.25", 1, 40);
    let mut product = 1.0f64;
    let expected: Vec<f64> = (0..40)
        .map(|s| {
            let alpha = ALPHA_0 / product;
            product *= 1.0 + 0.25 * s as f64;
            alpha
        })
        .collect();
    assert_all_close(&recursive, &expected, "inverse_time_recursive");

    let closed = rates("name = \"inverse_time\"\nrho = 0.25", 1, 40);
    let expected: Vec<f64> = (0..40).map(|t| ALPHA_0 / (1.0 + 0.25 * t as f64)).collect();
    assert_all_close(&closed, &expected, "inverse_time");
    assert_close(closed[4], 0.05, "inverse_time at t = 1/ρ");

    let exponential = rates("name = \"exponential\"\nrho = 0.5", 1, 20);
    let expected: Vec<f64> = (0..20).map(|t| ALPHA_0 * (-0.5 * t as f64).exp()).collect();
    assert_all_close(&exponential, &expected, "exponential");

    let step = rates("name = \"step\"\ngamma = 0.5\nevery = 2", 1, 5);
    assert_all_close(&step, &[0.1, 0.1, 0.05, 0.05, 0.025], "step");

    // Cosine from 0.1 to 0.02, T = 4, T_mult = 2: restarts at t = 4 and t = 12; the middle
    // of each cycle is (0.1 + 0.02) / 2.
    let cosine = rates(
        "name = \"cosine\"\nperiod = 4\nmin_learning_rate = 0.02\nrestarts = true\nperiod_multiplier = 2",
        1,
        13,
    );
    for (t, expected) in [(0, 0.1), (2, 0.06), (4, 0.1), (8, 0.06), (12, 0.1)] {
        assert_close(cosine[t], expected, &format!("cosine, t = {t}"));
    }
    let annealed_once = rates(
        "name = \"cosine\"\nperiod = 4\nmin_learning_rate = 0.02",
        1,
        8,
    );
    assert_eq!(
        annealed_once[4..],
        [0.02; 4],
        "no restarts: the floor after T"
    );

    // Polynomial, p = 2 from 0.1 to 0.02 over T = 4: 0.08 (1 − t/4)² + 0.02, then the floor.
    let polynomial = rates(
        "name = \"polynomial\"\nperiod = 4\npower = 2\nfinal_learning_rate = 0.02",
        1,
        6,
    );
    let expected: Vec<f64> = (0..6)
        .map(|t: u64| 0.08 * (1.0 - t.min(4) as f64 / 4.0).powi(2) + 0.02)
        .collect();
    assert_all_close(&polynomial, &expected, "polynomial");
}

#[test]
fn epoch_unit_holds_each_alpha_for_a_whole_epoch() {
    // 3 steps an epoch; ρ = ln 2 halves α every epoch: t = ⌊steps taken / 3⌋.
    let rho = std::f64::consts::LN_2;
    let per_epoch = rates(
        &format!("name = \"exponential\"\nrho = {rho}\nunit = \"epoch\""),
        3,
        8,
    );
    let per_step = rates(&format!("name = \"exponential\"\nrho = {rho}"), 3, 3);
    let (a0, a1, a2) = (per_step[0], per_step[1], per_step[2]);
    assert_eq!(per_epoch, vec![a0, a0, a0, a1, a1, a1, a2, a2]);
    assert_close(a1, 0.05, "epoch 2");

    // The same through the table, with the real split: 399 training examples, m = 16.
    let config =
        config_with("name = \"linear\"\nrho = 2\nfinal_learning_rate = 0.02\nunit = \"epoch\"");
    let table = schedule_table(&config, None).unwrap();
    assert_eq!(table.steps_per_epoch, 25);
    assert_eq!(table.rows.len(), 100, "4 epochs × 25 steps by default");
    for row in &table.rows {
        assert_eq!(row.t, row.epoch - 1, "step {}", row.step);
        let expected = [0.1, 0.06, 0.02, 0.02][row.epoch - 1];
        assert_close(row.learning_rate, expected, &format!("step {}", row.step));
    }
}

#[test]
fn warmup_ramps_to_alpha_zero_then_runs_any_schedule_from_its_start() {
    let families = [
        "name = \"constant\"",
        "name = \"linear\"\nrho = 5\nfinal_learning_rate = 0.01",
        "name = \"inverse_time_recursive\"\nrho = 0.2",
        "name = \"inverse_time\"\nrho = 0.2",
        "name = \"exponential\"\nrho = 0.2",
        "name = \"step\"\ngamma = 0.5\nevery = 3",
        "name = \"cosine\"\nperiod = 3\nrestarts = true",
    ];
    for family in families {
        let plain = rates(family, 1, 12);
        let warmed = rates(&format!("{family}\nwarmup = 4\nwarmup_start = 0.02"), 1, 16);
        // α_start + (t/k)(α^(0) − α_start) for t < k = 4.
        assert_all_close(&warmed[..4], &[0.02, 0.04, 0.06, 0.08], family);
        assert_eq!(
            warmed[4..],
            plain[..],
            "{family}: the schedule after the warmup"
        );

        // In epochs: the ramp and the schedule both count epochs (2 steps each here).
        let per_epoch = rates(&format!("{family}\nwarmup = 2\nunit = \"epoch\""), 2, 10);
        assert_eq!(per_epoch[..4], [0.0, 0.0, 0.05, 0.05], "{family}");
        assert_eq!(
            per_epoch[4], ALPHA_0,
            "{family}: α^(0) at the end of the warmup"
        );
        let plain_epochs: Vec<f64> = plain[..3].iter().flat_map(|&a| [a, a]).collect();
        assert_eq!(per_epoch[4..], plain_epochs[..], "{family}");
    }
}

/// Trains `overrides` of breast_cancer_logistic (25 steps an epoch) for 4 epochs straight and
/// for 2 + a resume to 4; steps.csv must be identical as text, row for row, and its α column
/// equal to the schedule's own sequence.
fn assert_resume_continues_exactly(overrides: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let config = |epochs: &str| {
        let mut all = overrides.to_vec();
        all.push(epochs);
        common::load("breast_cancer_logistic", &all)
    };
    let whole = common::train_into(config("training.epochs=4"), &dir.path().join("whole"));
    let split_dir = dir.path().join("split");
    common::train_into(config("training.epochs=2"), &split_dir);
    let resumed = common::resume(config("training.epochs=4"), &split_dir);
    assert_eq!((whole.epochs, resumed.epochs), (4, 4));

    let (whole_steps, resumed_steps) = (
        common::steps_csv(&whole.run_dir.path),
        common::steps_csv(&resumed.run_dir.path),
    );
    assert_eq!(whole_steps.len(), 100, "{overrides:?}");
    assert_eq!(resumed_steps.len(), 100, "{overrides:?}");
    // Resume is promised bit-identical: every cell of every step, the loss included.
    for (a, b) in whole_steps.iter().zip(&resumed_steps) {
        assert_eq!(a, b, "{overrides:?}: step {}", a[0]);
    }

    // The logged α is the schedule's, and the test is not vacuous: α at the first resumed step
    // differs from α^(0) and from the step before, so a schedule restarted from scratch or
    // stuck at its last value would be caught.
    let table = schedule_table(&config("training.epochs=4"), None).unwrap();
    let expected: Vec<String> = table
        .rows
        .iter()
        .map(|row| row.learning_rate.to_string())
        .collect();
    let logged: Vec<String> = resumed_steps.iter().map(|row| row[3].clone()).collect();
    assert_eq!(logged, expected, "{overrides:?}");
    let alpha = |step: usize| table.rows[step - 1].learning_rate;
    assert_ne!(
        alpha(51),
        alpha(1),
        "{overrides:?}: α^(0) again after the resume"
    );
    assert_ne!(
        alpha(51),
        alpha(50),
        "{overrides:?}: α unchanged across the resume"
    );
}

#[test]
fn resume_mid_linear_decay_continues_exactly() {
    // ρ = 70 steps: the decay ends in epoch 3, after the resume at step 50.
    assert_resume_continues_exactly(&[
        "schedule.name=linear",
        "schedule.rho=70",
        "schedule.final_learning_rate=0.001",
    ]);
}

#[test]
fn resume_mid_recursive_inverse_time_continues_exactly() {
    assert_resume_continues_exactly(&[
        "schedule.name=inverse_time_recursive",
        "schedule.rho=0.001",
    ]);
}

#[test]
fn resume_mid_cosine_with_warm_restarts_continues_exactly() {
    // T = 10, T_mult = 2: restarts at steps 11, 31 and 71; step 51 is mid-cycle.
    assert_resume_continues_exactly(&[
        "schedule.name=cosine",
        "schedule.period=10",
        "schedule.restarts=true",
        "schedule.period_multiplier=2",
        "schedule.min_learning_rate=0.001",
    ]);
}

#[test]
fn resume_mid_warmup_and_in_epochs_continues_exactly() {
    // A 60-step warmup is still ramping at the resume (step 51).
    assert_resume_continues_exactly(&[
        "schedule.name=step",
        "schedule.gamma=0.5",
        "schedule.every=15",
        "schedule.warmup=60",
        "schedule.warmup_start=0.005",
    ]);
    // Epoch unit with a one-epoch warmup: α changes at the resume boundary.
    assert_resume_continues_exactly(&[
        "schedule.name=exponential",
        "schedule.rho=0.3",
        "schedule.unit=epoch",
        "schedule.warmup=1",
        "schedule.warmup_start=0.01",
    ]);
}

#[test]
fn shipped_schedule_configs_log_their_alpha_and_reach_95_percent() {
    for name in [
        "breast_cancer_sgd_linear_decay",
        "breast_cancer_sgd_exponential",
        "breast_cancer_sgd_inverse_time",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let config = common::load(name, &[]);
        assert_ne!(config.schedule.name(), "constant", "{name}");
        let table = schedule_table(&config, None).unwrap();
        let result = common::train_into(config, &dir.path().join("run"));

        // steps.csv: α of every step, as the schedule computes it, written the same way.
        let logged: Vec<String> = common::steps_csv(&result.run_dir.path)
            .into_iter()
            .map(|row| row[3].clone())
            .collect();
        let expected: Vec<String> = table
            .rows
            .iter()
            .map(|row| row.learning_rate.to_string())
            .collect();
        assert_eq!(logged, expected, "{name}: steps.csv");
        assert!(
            expected.first() != expected.last(),
            "{name}: the schedule decays"
        );
        // metrics.csv: α at each epoch's last step.
        let rows = sgdlab::run_dir::read_metrics_csv(&result.run_dir.metrics_path()).unwrap();
        for (&epoch, row) in &rows {
            let last_step = table.rows[epoch * table.steps_per_epoch - 1];
            assert_eq!(
                row["learning_rate"], last_step.learning_rate,
                "{name}: metrics.csv epoch {epoch}"
            );
        }

        let report = sgdlab::eval::evaluate_run(
            &result.run_dir,
            sgdlab::train::CheckpointChoice::Last,
            None,
            None,
        )
        .unwrap();
        let accuracy = report.metrics.accuracy.unwrap();
        assert!(accuracy >= 0.95, "{name}: test accuracy {accuracy}");
    }
}

#[test]
fn name_constant_alone_is_the_default_schedule() {
    assert_eq!(
        config_with("name = \"constant\"").schedule,
        sgdlab::config::ScheduleConfig::default()
    );
    let text = "[data]\nsource = \"breast_cancer\"\n[model]\nkind = \"logistic\"\n\
                [optimizer]\nname = \"sgd\"\nlearning_rate = 0.1\n";
    let config = Config::from_toml(text, "no_schedule.toml", &[]).unwrap();
    assert_eq!(config.schedule.name(), "constant");
    let resolved = config.to_toml();
    assert!(resolved.contains("unit = \"step\""), "{resolved}");
    assert!(resolved.contains("warmup = 0"), "{resolved}");
}

/// [`common::GOOD`] with `[schedule]` set to `body`.
fn with_schedule(body: &str) -> String {
    GOOD.replace("[training]", &format!("[schedule]\n{body}\n[training]"))
}

#[test]
fn invalid_schedule_parameters_are_one_line_errors_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases: Vec<(&str, &str, Vec<&str>)> = vec![
        (
            "name = \"cyclic\"",
            "unknown_name",
            vec!["schedule", "cyclic", "unknown variant"],
        ),
        (
            "name = \"linear\"\nrho = 0\nfinal_learning_rate = 0.01",
            "linear_rho_zero",
            vec!["schedule.rho", "positive"],
        ),
        (
            "name = \"linear\"\nrho = 10\nfinal_learning_rate = -0.01",
            "linear_negative_final",
            vec!["schedule.final_learning_rate", "≥ 0"],
        ),
        (
            "name = \"linear\"\nfinal_learning_rate = 0.01",
            "linear_no_rho",
            vec!["schedule", "rho", "missing"],
        ),
        (
            "name = \"exponential\"\nrho = -0.1",
            "exponential_negative_rho",
            vec!["schedule.rho", "positive", "-0.1"],
        ),
        (
            "name = \"inverse_time\"\nrho = nan",
            "inverse_time_nan",
            vec!["schedule.rho", "positive"],
        ),
        (
            "name = \"inverse_time_recursive\"\nrho = 0",
            "recursive_rho_zero",
            vec!["schedule.rho"],
        ),
        (
            "name = \"step\"\ngamma = 1.5\nevery = 2",
            "step_gamma",
            vec!["schedule.gamma", "(0, 1]"],
        ),
        (
            "name = \"step\"\ngamma = 0\nevery = 2",
            "step_gamma_zero",
            vec!["schedule.gamma", "(0, 1]"],
        ),
        (
            "name = \"step\"\ngamma = 0.5\nevery = 0",
            "step_every",
            vec!["schedule.every", "≥ 1"],
        ),
        (
            "name = \"cosine\"\nperiod = 0",
            "cosine_period",
            vec!["schedule.period", "≥ 1"],
        ),
        (
            "name = \"cosine\"\nperiod = 10\nmin_learning_rate = 0.2",
            "cosine_floor_above_alpha_zero",
            vec!["schedule.min_learning_rate", "optimizer.learning_rate"],
        ),
        (
            "name = \"cosine\"\nperiod = 10\nperiod_multiplier = 2",
            "cosine_multiplier_without_restarts",
            vec!["schedule.period_multiplier", "restarts"],
        ),
        (
            "name = \"constant\"\nwarmup = 5\nwarmup_start = -0.01",
            "negative_warmup_start",
            vec!["schedule.warmup_start", "[0,"],
        ),
        (
            "name = \"constant\"\nwarmup_start = 0.01",
            "warmup_start_without_warmup",
            vec!["schedule.warmup_start", "schedule.warmup"],
        ),
        (
            "name = \"constant\"\nwarmup = -3",
            "negative_warmup",
            vec!["schedule", "-3"],
        ),
        (
            "name = \"constant\"\nunit = \"batch\"",
            "unknown_unit",
            vec!["schedule", "batch", "epoch"],
        ),
        (
            "name = \"constant\"\nrho = 0.1",
            "key_of_another_schedule",
            vec!["schedule", "unknown field", "rho"],
        ),
    ];
    for (body, name, fragments) in cases {
        let file = write(d, &format!("{name}.toml"), &with_schedule(body));
        for command in ["config", "train", "schedule"] {
            let output = common::run_sgdlab(d, &[command, &file]);
            let mut expected = fragments.clone();
            expected.push(&file);
            common::assert_one_line_error(&output, &expected);
        }
    }
    let config = write(d, "good.toml", GOOD);
    let output = common::run_sgdlab(
        d,
        &[
            "config",
            &config,
            "--set",
            "schedule.name=exponential",
            "--set",
            "schedule.rho=0",
        ],
    );
    common::assert_one_line_error(&output, &["schedule.rho"]);
    assert!(!d.join("artifacts").exists(), "no run dir for a bad config");
    let left: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".csv"))
        .collect();
    assert!(left.is_empty(), "no schedule CSV for a bad config");
}

#[test]
fn warmup_longer_than_training_is_warned_not_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Epoch unit: the config alone shows the warmup (3 epochs) outlasts training (1 epoch).
    let in_epochs = write(
        d,
        "in_epochs.toml",
        &with_schedule("name = \"constant\"\nunit = \"epoch\"\nwarmup = 3"),
    );
    let output = common::run_sgdlab(d, &["config", &in_epochs]);
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let warnings: Vec<&str> = stderr.lines().collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].starts_with("warning: schedule.warmup"),
        "{stderr}"
    );
    assert!(
        warnings[0].contains("3 epochs") && warnings[0].contains("(1 epoch)"),
        "{stderr}"
    );

    // Step unit: only the data tells 1 epoch is 25 steps, so `config` cannot know, while
    // `schedule` and `train` do.
    let in_steps = write(
        d,
        "in_steps.toml",
        &with_schedule("name = \"constant\"\nwarmup = 25")
            .replace("epochs = 1", "epochs = 1\nbatch_size = 16"),
    );
    let output = common::run_sgdlab(d, &["config", &in_steps]);
    assert!(output.status.success());
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for args in [
        vec!["schedule", &in_steps],
        vec!["train", &in_steps, "--run-dir", "run"],
    ] {
        let output = common::run_sgdlab(d, &args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{args:?}: {stderr}");
        let warnings: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("warning:"))
            .collect();
        assert_eq!(warnings.len(), 1, "{args:?}: {stderr}");
        assert!(
            warnings[0].contains("schedule.warmup") && warnings[0].contains("(25 steps)"),
            "{args:?}: {stderr}"
        );
    }
    assert!(
        d.join("run/checkpoint/model-1.bpk").exists(),
        "trained anyway"
    );

    // A warmup that ends within training is not warned about.
    let fine = write(
        d,
        "fine.toml",
        &with_schedule("name = \"constant\"\nwarmup = 24")
            .replace("epochs = 1", "epochs = 1\nbatch_size = 16"),
    );
    let output = common::run_sgdlab(d, &["schedule", &fine, "--out", "fine.csv"]);
    assert!(output.status.success());
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn schedule_command_prints_the_table_writes_the_csv_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = write(
        d,
        "decay.toml",
        &with_schedule("name = \"inverse_time\"\nrho = 1")
            .replace("epochs = 1", "epochs = 2\nbatch_size = 100"),
    );
    // 399 training examples in batches of 100: 4 steps an epoch, 8 in 2 epochs.
    let output = common::run_sgdlab(d, &["schedule", &config]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("schedule inverse_time"), "{stdout}");
    assert!(stdout.contains("4 steps per epoch"), "{stdout}");
    assert!(stdout.contains("wrote decay-schedule.csv"), "{stdout}");
    // α^(t) = 0.1 / (1 + t): the row of step 4 (epoch 1, t = 3) reads 0.025.
    let row = stdout
        .lines()
        .find(|line| line.split_whitespace().next() == Some("4"))
        .expect("a row for step 4");
    assert_eq!(
        row.split_whitespace().collect::<Vec<_>>(),
        ["4", "1", "3", "0.025"]
    );

    let csv_path = d.join("decay-schedule.csv");
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "step,epoch,t,learning_rate");
    assert_eq!(lines.len(), 1 + 8, "{csv}");
    assert_eq!(lines[1], "1,1,0,0.1");
    assert_eq!(lines[2], "2,1,1,0.05");
    assert_eq!(lines[8], format!("8,2,7,{}", 0.1 / 8.0));

    // A second run refuses to overwrite, and leaves the file as it was.
    let output = common::run_sgdlab(d, &["schedule", &config, "--steps", "3"]);
    common::assert_one_line_error(
        &output,
        &["decay-schedule.csv", "already exists", "--force"],
    );
    assert!(output.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&csv_path).unwrap(), csv);

    // --force overwrites; --steps sets the length; --out names the file; --set applies.
    let output = common::run_sgdlab(d, &["schedule", &config, "--steps", "3", "--force"]);
    assert!(output.status.success());
    assert_eq!(
        std::fs::read_to_string(&csv_path).unwrap().lines().count(),
        1 + 3
    );
    let output = common::run_sgdlab(
        d,
        &[
            "schedule",
            &config,
            "--set",
            "schedule.unit=epoch",
            "--steps",
            "9",
            "--out",
            "epochs.csv",
        ],
    );
    assert!(output.status.success());
    let epochs = std::fs::read_to_string(d.join("epochs.csv")).unwrap();
    let alphas: Vec<&str> = epochs
        .lines()
        .skip(1)
        .map(|line| line.rsplit(',').next().unwrap())
        .collect();
    // t counts epochs of 4 steps: α^(0), then 0.1 / 2, then 0.1 / 3 at step 9.
    let third = (0.1f64 / 3.0).to_string();
    let mut expected = vec!["0.1"; 4];
    expected.extend(["0.05"; 4]);
    expected.push(&third);
    assert_eq!(alphas, expected);

    common::assert_one_line_error(
        &common::run_sgdlab(d, &["schedule", &config, "--steps", "0"]),
        &["--steps", "0"],
    );
    common::assert_one_line_error(&common::run_sgdlab(d, &["schedule"]), &["CONFIG"]);

    let help = common::run_sgdlab(d, &["--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("schedule"));
    let help = String::from_utf8(common::run_sgdlab(d, &["schedule", "--help"]).stdout).unwrap();
    for flag in ["--set", "--steps", "--out", "--force"] {
        assert!(help.contains(flag), "{help}");
    }
}
