//! The binary as a user meets it: bad input of every kind exits non-zero with one line that
//! names the file, key or argument at fault, never a panic; nothing a user had is overwritten.

mod common;

use common::{GOOD, assert_one_line_error, run_sgdlab as sgdlab, write};

#[test]
fn bad_configs_name_the_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "missing.toml",
            String::new(),
            vec!["missing.toml", "cannot read"],
        ),
        (
            "syntax.toml",
            "[data\nsource = 1".into(),
            vec!["syntax.toml:1:"],
        ),
        (
            "unknown_key.toml",
            GOOD.replace("epochs = 1", "epochs = 1\nepochz = 2"),
            vec!["unknown_key.toml", "training.epochz", "unknown field"],
        ),
        (
            "unknown_optimizer_key.toml",
            GOOD.replace("learning_rate = 0.1", "learning_rate = 0.1\nmomentom = 0.9"),
            vec!["optimizer", "momentom"],
        ),
        (
            "negative_lr.toml",
            GOOD.replace("learning_rate = 0.1", "learning_rate = -0.1"),
            vec!["negative_lr.toml", "optimizer.learning_rate", "positive"],
        ),
        (
            "zero_batch.toml",
            GOOD.replace("epochs = 1", "epochs = 1\nbatch_size = 0"),
            vec!["training.batch_size", "≥ 1"],
        ),
        (
            "fractions.toml",
            GOOD.replace(
                "source = \"breast_cancer\"",
                "source = \"breast_cancer\"\nvalidation_fraction = 0.6\ntest_fraction = 0.5",
            ),
            vec!["data.test_fraction", "below 1"],
        ),
        (
            "fraction_range.toml",
            GOOD.replace(
                "source = \"breast_cancer\"",
                "source = \"breast_cancer\"\ntest_fraction = 1.5",
            ),
            vec!["data.test_fraction", "[0, 1)"],
        ),
        (
            "hidden.toml",
            GOOD.replace("kind = \"logistic\"", "kind = \"mlp\"\nhidden = [16, 0]"),
            vec!["model.hidden", "≥ 1"],
        ),
        (
            "device.toml",
            GOOD.replace("epochs = 1", "epochs = 1\ndevice = \"tpu\""),
            vec!["training.device", "unknown device"],
        ),
        (
            "wrong_type.toml",
            GOOD.replace("epochs = 1", "epochs = \"ten\""),
            vec!["training.epochs", "invalid type"],
        ),
        (
            "source.toml",
            GOOD.replace("\"breast_cancer\"", "\"iris\""),
            vec!["data.source", "unknown variant"],
        ),
        (
            "csv_no_path.toml",
            GOOD.replace("\"breast_cancer\"", "\"csv\""),
            vec!["data.path"],
        ),
        (
            "optimizer_name.toml",
            GOOD.replace("name = \"sgd\"", "name = \"adamx\""),
            vec!["optimizer", "adamx"],
        ),
    ];
    for (name, text, fragments) in cases {
        if !text.is_empty() {
            write(d, name, &text);
        }
        let output = sgdlab(d, &["config", name]);
        assert_one_line_error(&output, &fragments);
        let output = sgdlab(d, &["train", name]);
        assert_one_line_error(&output, &fragments);
    }
    assert!(!d.join("artifacts").exists(), "no run dir for a bad config");
}

#[test]
fn set_overrides_use_the_same_keys_and_checks() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = write(d, "good.toml", GOOD);
    let output = sgdlab(
        d,
        &["config", &config, "--set", "optimizer.learning_rate=0"],
    );
    assert_one_line_error(&output, &["optimizer.learning_rate"]);
    let output = sgdlab(d, &["config", &config, "--set", "optimizer.learning_rate"]);
    assert_one_line_error(&output, &["--set", "key.path=value"]);
    let output = sgdlab(d, &["config", &config, "--set", "training.epochs.x=1"]);
    assert_one_line_error(&output, &["training.epochs", "not a section"]);
    let output = sgdlab(d, &["config", &config, "--set", "model.depth=3"]);
    assert_one_line_error(&output, &["model.depth"]);

    let output = sgdlab(
        d,
        &[
            "config",
            &config,
            "--set",
            "training.batch_size=7",
            "--set",
            "data.source=digits",
            "--set",
            "model.kind=softmax",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let resolved = String::from_utf8(output.stdout).unwrap();
    assert!(resolved.contains("batch_size = 7"), "{resolved}");
    assert!(resolved.contains("source = \"digits\""), "{resolved}");
    // Defaults are filled in.
    assert!(
        resolved.contains("validation_fraction = 0.15"),
        "{resolved}"
    );
    assert!(resolved.contains("seed = 42"), "{resolved}");
}

#[test]
fn bad_arguments_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_one_line_error(&sgdlab(d, &["fly"]), &["fly"]);
    assert_one_line_error(&sgdlab(d, &["train"]), &["CONFIG"]);
    assert_one_line_error(&sgdlab(d, &["train", "x.toml", "--resume"]), &["--run-dir"]);
    assert_one_line_error(
        &sgdlab(d, &["eval", "nowhere"]),
        &["nowhere", "not a run directory"],
    );
    let config = write(d, "good.toml", GOOD);
    assert_one_line_error(
        &sgdlab(d, &["train", &config, "--device", "cuda"]),
        &["cuda", "--features cuda"],
    );
    assert_one_line_error(
        &sgdlab(d, &["eval", "nowhere", "--checkpoint", "first"]),
        &["--checkpoint", "first"],
    );
}

#[test]
fn help_documents_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let output = sgdlab(dir.path(), &["--help"]);
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for command in [
        "train",
        "eval",
        "config",
        "sweep",
        "runs",
        "completions",
        "--artifacts",
    ] {
        assert!(help.contains(command), "{help}");
    }
    let output = sgdlab(dir.path(), &["train", "--help"]);
    let help = String::from_utf8(output.stdout).unwrap();
    for flag in ["--set", "--run-dir", "--resume", "--device"] {
        assert!(help.contains(flag), "{help}");
    }
    let output = sgdlab(dir.path(), &["eval", "--help"]);
    let help = String::from_utf8(output.stdout).unwrap();
    for flag in ["--checkpoint", "--split", "last|best|EPOCH", "test"] {
        assert!(help.contains(flag), "{help}");
    }
}

/// Without the `remote` feature, the server and remote devices say how to get them.
#[cfg(not(feature = "remote"))]
#[test]
fn remote_devices_and_serve_without_the_feature_name_it() {
    let dir = tempfile::tempdir().unwrap();
    let token = write(dir.path(), "token", "secret\n");
    let output = sgdlab(
        dir.path(),
        &["serve", "--listen", "127.0.0.1:0", "--token-file", &token],
    );
    assert_one_line_error(&output, &["--features remote"]);
    let run = dir.path().join("run");
    let output = sgdlab(
        dir.path(),
        &[
            "train",
            common::config_path("quickstart").to_str().unwrap(),
            "--device",
            "ws://127.0.0.1:4000",
            "--run-dir",
            run.to_str().unwrap(),
        ],
    );
    assert_one_line_error(&output, &["ws://127.0.0.1:4000/0", "--features remote"]);
    assert!(!run.exists());
}

#[test]
fn train_then_eval_through_the_binary_and_never_overwrite_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = write(d, "tiny.toml", GOOD);
    let output = sgdlab(d, &["train", &config, "--run-dir", "run"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("epoch 1/1"), "{stdout}");
    for file in [
        "config.toml",
        "metrics.csv",
        "standardizer.json",
        "checkpoint/model-1.bpk",
    ] {
        assert!(d.join("run").join(file).exists(), "{file} missing");
    }

    // A second train into the same dir is refused and leaves the run as it was.
    let before = std::fs::read(d.join("run/metrics.csv")).unwrap();
    let output = sgdlab(d, &["train", &config, "--run-dir", "run"]);
    assert_one_line_error(&output, &["already exists", "--resume"]);
    assert_eq!(std::fs::read(d.join("run/metrics.csv")).unwrap(), before);

    // Resuming a finished run asks for more epochs.
    let output = sgdlab(d, &["train", &config, "--run-dir", "run", "--resume"]);
    assert_one_line_error(&output, &["already trained 1 of 1", "training.epochs"]);
    // Resuming with another config is refused, naming the key.
    let output = sgdlab(
        d,
        &[
            "train",
            &config,
            "--run-dir",
            "run",
            "--resume",
            "--set",
            "optimizer.learning_rate=0.5",
        ],
    );
    assert_one_line_error(&output, &["optimizer.learning_rate"]);

    let output = sgdlab(d, &["eval", "run"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("test split, checkpoint epoch 1"),
        "{stdout}"
    );
    assert!(stdout.contains("accuracy"), "{stdout}");
    assert!(stdout.contains("confusion"), "{stdout}");
    assert!(d.join("run/eval.json").exists());

    assert_one_line_error(
        &sgdlab(d, &["eval", "run", "--checkpoint", "9"]),
        &["--checkpoint 9", "no such checkpoint"],
    );

    // Default run dirs go under artifacts/ and never collide.
    for _ in 0..2 {
        let output = sgdlab(d, &["train", &config]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let runs = std::fs::read_dir(d.join("artifacts")).unwrap().count();
    assert_eq!(runs, 2);
}

#[test]
fn csv_data_errors_surface_as_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "data.csv", "a,b,y\n1,2,0\n3,x,1\n");
    let config = GOOD.replace(
        "source = \"breast_cancer\"",
        "source = \"csv\"\npath = \"data.csv\"\nlabel = \"y\"\nvalidation_fraction = 0\ntest_fraction = 0",
    );
    let config = write(d, "csv.toml", &config);
    let output = sgdlab(d, &["train", &config]);
    assert_one_line_error(&output, &["data.csv:3", "b"]);
}

/// `args` run in `cwd` with `SGDLAB_ARTIFACTS` set to `artifacts`.
fn sgdlab_with_artifacts(
    cwd: &std::path::Path,
    artifacts: &str,
    args: &[&str],
) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_sgdlab"))
        .args(args)
        .current_dir(cwd)
        .env("SGDLAB_ARTIFACTS", artifacts)
        .output()
        .expect("the binary runs")
}

fn json_of(output: &std::process::Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

fn keys(value: &serde_json::Value) -> Vec<&str> {
    value
        .as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect()
}

#[test]
fn json_documents_on_stdout_and_human_lines_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = write(d, "good.toml", &GOOD.replace("epochs = 1", "epochs = 2"));
    let output = sgdlab(
        d,
        &["train", &config, "--run-dir", "run", "--no-plots", "--json"],
    );
    let trained = json_of(&output);
    let mut fields = keys(&trained);
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "early_stop",
            "epochs",
            "figures",
            "last",
            "optimum_loss",
            "run_dir",
            "target"
        ]
    );
    assert_eq!(trained["run_dir"], "run");
    assert_eq!(trained["epochs"], 2);
    let metrics = sgdlab::run_dir::read_metrics_csv(&d.join("run/metrics.csv")).unwrap();
    assert_eq!(
        trained["last"]["valid_loss"].as_f64().unwrap(),
        metrics[&2]["valid_loss"]
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("epoch 2/2  train_loss="), "{stderr}");
    assert!(stderr.contains("trained 2 epochs; run dir run"), "{stderr}");

    // eval: the document eval.json holds.
    let evaluated = json_of(&sgdlab(d, &["eval", "run", "--json"]));
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("run/eval.json")).unwrap()).unwrap();
    assert_eq!(evaluated, written);
    for key in [
        "run_dir",
        "checkpoint_epoch",
        "split",
        "device",
        "examples",
        "loss",
        "accuracy",
        "confusion",
    ] {
        assert!(evaluated.get(key).is_some(), "{key} in {evaluated}");
    }
    assert_eq!(evaluated["split"], "test");

    // solve: optimum.json's document and where it went.
    let solve_config = write(
        d,
        "ridge.toml",
        &GOOD.replace(
            "learning_rate = 0.1",
            "learning_rate = 0.1\nweight_decay = 0.01",
        ),
    );
    let solved = json_of(&sgdlab(
        d,
        &["solve", &solve_config, "--out", "f.json", "--json"],
    ));
    assert_eq!(solved["path"], "f.json");
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("f.json")).unwrap()).unwrap();
    for key in ["loss", "gradient_norm", "parameters", "method", "l2"] {
        assert_eq!(solved[key], file[key], "{key}");
    }

    // An error is one line on stderr and a document on stdout.
    let output = sgdlab(d, &["eval", "missing", "--json"]);
    assert_eq!(output.status.code(), Some(1));
    let error: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(error["exit_status"], 1);
    assert!(
        error["error"].as_str().unwrap().contains("missing"),
        "{error}"
    );
    assert_one_line_error(&output, &["missing"]);
}

#[test]
fn the_artifacts_root_is_chosen_by_flag_or_environment() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = write(d, "good.toml", GOOD);
    let ridge = write(
        d,
        "ridge.toml",
        &GOOD.replace(
            "learning_rate = 0.1",
            "learning_rate = 0.1\nweight_decay = 0.01",
        ),
    );
    let output = sgdlab(
        d,
        &["train", &config, "--no-plots", "--artifacts", "flagged"],
    );
    assert!(output.status.success(), "{output:?}");
    let output = sgdlab_with_artifacts(d, "from-env", &["train", &config, "--no-plots"]);
    assert!(output.status.success(), "{output:?}");
    let output = sgdlab_with_artifacts(d, "from-env", &["solve", &ridge]);
    assert!(output.status.success(), "{output:?}");
    // The flag wins over the environment.
    let output = sgdlab_with_artifacts(d, "from-env", &["solve", &ridge, "--artifacts", "flagged"]);
    assert!(output.status.success(), "{output:?}");
    let names = |folder: &str| {
        let mut names: Vec<String> = std::fs::read_dir(d.join(folder))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    };
    let flagged = names("flagged");
    assert_eq!(flagged.len(), 2, "{flagged:?}");
    assert!(flagged[0].starts_with("good-"), "{flagged:?}");
    assert_eq!(flagged[1], "ridge-optimum.json");
    let from_env = names("from-env");
    assert!(from_env[0].starts_with("good-") && from_env[1] == "ridge-optimum.json");
    assert!(!d.join("artifacts").exists());
    // `runs` lists that root by default, and a sweep goes to <root>/<config name>-sweep.
    let listed = json_of(&sgdlab_with_artifacts(d, "from-env", &["runs", "--json"]));
    assert_eq!(listed["runs"].as_array().unwrap().len(), 1);
    let swept = json_of(&sgdlab_with_artifacts(
        d,
        "from-env",
        &[
            "sweep",
            &config,
            "--grid",
            "training.batch_size=50",
            "--no-plots",
            "--json",
        ],
    ));
    assert_eq!(swept["out"], "from-env/good-sweep");
    assert!(d.join("from-env/good-sweep/sweep.csv").exists());
}

#[test]
fn completions_and_version() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for shell in ["bash", "zsh", "fish"] {
        let output = sgdlab(d, &["completions", shell]);
        assert!(output.status.success(), "{output:?}");
        let script = String::from_utf8(output.stdout).unwrap();
        // fish names a flag without its dashes (`-l grid`).
        for word in ["sweep", "runs", "grid", "json", "artifacts"] {
            assert!(script.contains(word), "{shell}: no {word}");
        }
        if shell == "bash" {
            let path = d.join("sgdlab.bash");
            std::fs::write(&path, &script).unwrap();
            let check = std::process::Command::new("bash")
                .arg("-n")
                .arg(&path)
                .output()
                .unwrap();
            assert!(check.status.success(), "{check:?}");
        }
    }
    assert_one_line_error(&sgdlab(d, &["completions", "tcsh"]), &["tcsh"]);

    let output = sgdlab(d, &["--version"]);
    assert!(output.status.success());
    let version = String::from_utf8(output.stdout).unwrap();
    let commit = version
        .split("(commit ")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_else(|| panic!("no commit in {version:?}"));
    assert!(!commit.is_empty(), "{version}");
    assert!(
        version.starts_with(&format!("sgdlab {} (", env!("CARGO_PKG_VERSION"))),
        "{version}"
    );
    let backends = version.split("backends: ").nth(1).unwrap();
    assert_eq!(
        backends.contains("flex"),
        cfg!(feature = "flex"),
        "{version}"
    );
    assert_eq!(
        backends.contains("wgpu"),
        cfg!(feature = "wgpu"),
        "{version}"
    );
}

#[test]
fn without_a_validation_split_no_validation_figures_are_printed_or_written() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let output = sgdlab(
        dir.path(),
        &[
            "train",
            common::config_path("lecture_1d_logistic").to_str().unwrap(),
            "--run-dir",
            run.to_str().unwrap(),
            "--no-plots",
            "--set",
            "training.epochs=2",
        ],
    );
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    // One line an epoch, with what was measured and nothing else.
    let epochs: Vec<&str> = stdout.lines().filter(|l| l.starts_with("epoch ")).collect();
    assert_eq!(epochs.len(), 2, "{stdout}");
    assert!(epochs[0].contains("train_loss=") && epochs[0].contains("suboptimality="));
    assert!(
        !stdout.contains("valid_") && !stdout.contains("NaN"),
        "{stdout}"
    );
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    assert!(!metrics.contains("NaN"), "{metrics}");
    let rows = sgdlab::run_dir::read_metrics_csv(&run.join("metrics.csv")).unwrap();
    for row in rows.values() {
        assert!(!row.contains_key("valid_loss") && !row.contains_key("valid_accuracy"));
        assert!(row.contains_key("train_loss"));
    }
}

/// The documented upper bounds (docs/config.md, "Upper bounds"), at the boundary: the bound
/// itself loads, one past it is refused in one line naming the key, with exit status 1.
#[test]
fn documented_size_caps_hold_at_the_boundary_with_exit_status_1() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = |name: &str| common::config_path(name).display().to_string();
    let lecture = config("lecture_1d_logistic");
    let digits = config("digits_mlp");
    let wide: Vec<String> = (0..64).map(|_| "1".to_string()).collect();
    let too_many: Vec<String> = (0..65).map(|_| "1".to_string()).collect();
    let layers = |widths: &[String]| format!("model.hidden=[{}]", widths.join(","));
    for (config, at_bound, past_bound, key) in [
        (
            &lecture,
            "training.epochs=1000000",
            "training.epochs=1000001",
            "training.epochs",
        ),
        (
            &lecture,
            "training.batch_size=1000000",
            "training.batch_size=1000001",
            "training.batch_size",
        ),
        (&lecture, "data.n=10000000", "data.n=10000001", "data.n"),
        (&lecture, "data.n=2", "data.n=1", "data.n"),
        (
            &digits,
            "model.hidden=[65536]",
            "model.hidden=[65537]",
            "model.hidden",
        ),
        (&digits, &layers(&wide), &layers(&too_many), "model.hidden"),
    ] {
        let accepted = sgdlab(d, &["config", config, "--set", at_bound]);
        assert!(accepted.status.success(), "{at_bound}: {accepted:?}");
        let refused = sgdlab(d, &["config", config, "--set", past_bound]);
        assert_one_line_error(&refused, &[key]);
        assert_eq!(refused.status.code(), Some(1), "{past_bound}");
    }
    // The parameter count, from the data's width before anything is built: 64 × 65,536 +
    // 65,536 × 2,000 + ... ≈ 1.35e8 > 10⁸.
    let refused = sgdlab(
        d,
        &[
            "train",
            &digits,
            "--dry-run",
            "--set",
            "model.hidden=[65536,2000]",
        ],
    );
    assert_one_line_error(
        &refused,
        &["model.hidden", "more than the 100000000 allowed"],
    );
    // trace_parameters: at most 10,000 parameters (the digits MLP has 4,810; with 200 hidden
    // units, 15,010).
    let traced = sgdlab(
        d,
        &[
            "train",
            &digits,
            "--dry-run",
            "--set",
            "training.trace_parameters=true",
        ],
    );
    assert!(traced.status.success(), "{traced:?}");
    let refused = sgdlab(
        d,
        &[
            "train",
            &digits,
            "--dry-run",
            "--set",
            "training.trace_parameters=true",
            "--set",
            "model.hidden=[200]",
        ],
    );
    assert_one_line_error(&refused, &["trace_parameters", "10000"]);
    // Classes: an integer CSV label of 1,000 or more would size the output layer.
    let csv = write(d, "labels.csv", "x,label\n0.5,0\n1.5,1000\n");
    let toml = write(
        d,
        "csv.toml",
        &format!(
            "[data]\nsource = \"csv\"\npath = \"{csv}\"\nlabel = \"label\"\nvalidation_fraction = 0.0\ntest_fraction = 0.0\n[model]\nkind = \"softmax\"\n[optimizer]\nname = \"sgd\"\nlearning_rate = 0.1\n"
        ),
    );
    let refused = sgdlab(d, &["train", &toml, "--dry-run"]);
    assert_one_line_error(&refused, &["labels.csv:3", "1000"]);
}
