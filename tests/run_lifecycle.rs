//! A run's life outside the happy path: divergence stops it cleanly, a SIGKILL at any moment
//! leaves a resumable run dir that finishes bit-identical to an uninterrupted run, runs record
//! where they came from, and a long run's memory stays flat.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{assert_one_line_error, config_path, run_sgdlab};

fn quickstart() -> String {
    config_path("quickstart").to_str().unwrap().to_string()
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_huge_learning_rate_stops_training_with_its_own_exit_code_and_keeps_what_was_finite() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    // α warms up from 0 over 10 epochs to 1e6: epoch 1 trains with α = 0 (finite), epoch 2
    // with α = 1e5, which blows the loss up within a few steps.
    let output = run_sgdlab(
        dir.path(),
        &[
            "train",
            &quickstart(),
            "--run-dir",
            run.to_str().unwrap(),
            "--set",
            "optimizer.learning_rate=1e6",
            "--set",
            "schedule.warmup=10",
            "--set",
            "schedule.unit=\"epoch\"",
        ],
    );
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let error: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("error:"))
        .collect();
    assert_eq!(error.len(), 1, "{stderr}");
    for fragment in [
        "training diverged at epoch 2, step",
        "learning rate 100000",
        "the last finite checkpoint is epoch 1",
    ] {
        assert!(
            error[0].contains(fragment),
            "`{fragment}` not in {}",
            error[0]
        );
    }
    assert!(!stderr.contains("panicked"), "{stderr}");

    // Marked in run.json, with the step and the learning rate.
    let info = read_json(&run.join("run.json"));
    let session = &info["sessions"][0];
    assert_eq!(session["outcome"], "diverged");
    assert_eq!(session["last_finite_checkpoint"], 1);
    assert_eq!(session["divergence"]["epoch"], 2);
    assert_eq!(session["divergence"]["learning_rate"], 100000.0);
    // Epoch 1's checkpoint is kept and loads; nothing of epoch 2 was checkpointed.
    assert!(run.join("checkpoint/model-1.bpk").exists());
    assert!(!run.join("checkpoint/model-2.bpk").exists());
    let eval = run_sgdlab(
        dir.path(),
        &["eval", run.to_str().unwrap(), "--checkpoint", "1"],
    );
    assert!(eval.status.success(), "{eval:?}");
    // The metrics up to the diverging step are on disk: epoch 1's row and every step.
    let metrics = sgdlab::run_dir::read_metrics_csv(&run.join("metrics.csv")).unwrap();
    assert_eq!(metrics.keys().copied().collect::<Vec<_>>(), vec![1]);
    let steps = common::steps_csv(&run);
    let diverged_step = session["divergence"]["step"].as_u64().unwrap() as usize;
    assert_eq!(steps.len(), diverged_step);
    assert_eq!(steps.last().unwrap()[1], "2");
}

#[test]
fn a_config_error_and_divergence_exit_differently() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_sgdlab(
        dir.path(),
        &[
            "train",
            &quickstart(),
            "--set",
            "optimizer.learning_rate=-1",
        ],
    );
    assert_one_line_error(&output, &["optimizer.learning_rate"]);
    assert_eq!(output.status.code(), Some(1));
}

/// What must agree bit for bit between two runs: the final parameters (as bits; checkpoint
/// bytes also hold random parameter ids), metrics.csv without its time column, steps.csv.
#[derive(PartialEq)]
struct Outcome {
    parameters: Vec<u32>,
    metrics: String,
    steps: String,
}

fn outcome(run: &Path, epochs: usize) -> Outcome {
    let config = sgdlab::run_dir::RunDir::new(run).load_config().unwrap();
    let device = sgdlab::device::resolve("cpu").unwrap();
    let problem = sgdlab::model::Problem {
        dim: 30,
        classes: Some(2),
    };
    let model = sgdlab::train::load_model(
        &sgdlab::run_dir::RunDir::new(run),
        epochs,
        &config.model,
        problem,
        &device,
    )
    .unwrap();
    let parameters = sgdlab::train::trace::flat_parameters(&model)
        .into_iter()
        .map(f32::to_bits)
        .collect();
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let metrics = metrics
        .lines()
        .map(|line| line.rsplit_once(',').map_or(line, |(kept, _)| kept))
        .collect::<Vec<_>>()
        .join("\n");
    let steps = std::fs::read_to_string(run.join("steps.csv")).unwrap();
    Outcome {
        parameters,
        metrics,
        steps,
    }
}

fn train_args(run: &Path, epochs: usize) -> Vec<String> {
    vec![
        "train".into(),
        quickstart(),
        "--run-dir".into(),
        run.to_str().unwrap().into(),
        "--set".into(),
        format!("training.epochs={epochs}"),
        "--set".into(),
        "training.batch_size=4".into(),
    ]
}

#[test]
fn sigkill_at_any_moment_then_resume_finishes_bit_identical() {
    const EPOCHS: usize = 12;
    let dir = tempfile::tempdir().unwrap();
    let straight = dir.path().join("straight");
    let output = run_sgdlab(
        dir.path(),
        &train_args(&straight, EPOCHS)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert!(output.status.success(), "{output:?}");
    let expected = outcome(&straight, EPOCHS);

    // Kill as soon as checkpoint k appears (k = 2, 5, 8), a few milliseconds later: while
    // checkpoint k is being written, or its metrics row, or epoch k + 1 is under way.
    for (attempt, kill_after) in [2usize, 5, 8].into_iter().enumerate() {
        let run = dir.path().join(format!("killed-{attempt}"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_sgdlab"))
            .args(train_args(&run, EPOCHS))
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let marker = run.join(format!("checkpoint/model-{kill_after}.bpk"));
        let started = Instant::now();
        while !marker.exists() && started.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(3 * attempt as u64));
        // Still training (epochs 9 to 12 take tens of ms more): the kill interrupts it.
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run finished before the kill after checkpoint {kill_after}"
        );
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        let before = sgdlab::run_dir::read_metrics_csv(&run.join("metrics.csv"))
            .map(|rows| rows.len())
            .unwrap_or(0);
        assert!(
            before < EPOCHS,
            "killed after checkpoint {kill_after}: {before} rows"
        );

        let mut args = train_args(&run, EPOCHS);
        args.push("--resume".into());
        let resumed = run_sgdlab(
            dir.path(),
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        assert!(resumed.status.success(), "{resumed:?}");
        assert!(
            outcome(&run, EPOCHS) == expected,
            "killed after checkpoint {kill_after}: the resumed run differs from the straight one"
        );
        let info = read_json(&run.join("run.json"));
        let outcomes: Vec<&str> = info["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|session| session["outcome"].as_str().unwrap())
            .collect();
        assert_eq!(outcomes, ["running", "finished"]);
    }
}

/// The states a kill can leave, built on purpose: each is checked (the epoch a resume would
/// continue after, by the dry run), then resumed, and must finish bit-identical to a run
/// never interrupted.
#[test]
fn every_dangerous_state_a_kill_can_leave_resumes_bit_identical() {
    const EPOCHS: usize = 6;
    let config = |epochs: usize| {
        common::load(
            "quickstart",
            &[
                "training.batch_size=4",
                &format!("training.epochs={epochs}"),
            ],
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let straight = dir.path().join("straight");
    common::train_into(config(EPOCHS), &straight);
    let expected = outcome(&straight, EPOCHS);

    let resume_point = |run: &Path| {
        sgdlab::train::dry_run(&sgdlab::train::TrainRequest {
            config: config(EPOCHS),
            name: "test".into(),
            run_dir: Some(run.to_path_buf()),
            resume: true,
            artifacts: dir.path().to_path_buf(),
            progress: sgdlab::train::Progress::Quiet,
        })
        .map(|summary| summary.resume_after)
    };
    let remove_checkpoint = |run: &Path, epoch: usize| {
        for part in ["model", "optim", "scheduler"] {
            std::fs::remove_file(run.join(format!("checkpoint/{part}-{epoch}.bpk"))).unwrap();
        }
    };
    let drop_metrics_row = |run: &Path, epoch: usize| {
        let path = run.join("metrics.csv");
        let mut rows = sgdlab::run_dir::read_metrics_csv(&path).unwrap();
        rows.remove(&epoch);
        sgdlab::run_dir::write_metrics_csv(&path, &rows).unwrap();
    };
    let tear = |path: PathBuf, whole: &Path| {
        let bytes = std::fs::read(whole).unwrap();
        std::fs::write(path, &bytes[..bytes.len() / 2]).unwrap();
    };

    type Build<'a> = Box<dyn Fn(&Path) + 'a>;
    let states: Vec<(&str, usize, Build)> = vec![
        // Killed after checkpoint 4 was written, before its metrics row (its steps are in).
        (
            "a checkpoint without its metrics row",
            3,
            Box::new(|run| drop_metrics_row(run, 4)),
        ),
        // Killed after epoch 4's row, before its checkpoint.
        (
            "a metrics row without its checkpoint",
            3,
            Box::new(|run| remove_checkpoint(run, 4)),
        ),
        // Killed mid-write: half of the next metrics.csv and of a checkpoint, in temporaries.
        (
            "torn temporaries",
            4,
            Box::new(|run| {
                tear(run.join("metrics.csv.Ab3dE9.tmp"), &run.join("metrics.csv"));
                tear(
                    run.join("checkpoint/model-5.bpk.4242-0.tmp"),
                    &run.join("checkpoint/model-4.bpk"),
                );
                // A cut-off last row of steps.csv, as a kill mid-append leaves it.
                let steps = run.join("steps.csv");
                let mut text = std::fs::read_to_string(&steps).unwrap();
                text.push_str("401,5,0.12");
                std::fs::write(steps, text).unwrap();
            }),
        ),
        // Killed while run.json was being written: its temporary is half of it.
        (
            "a half-written run.json",
            4,
            Box::new(|run| tear(run.join("run.json.Zq81xT.tmp"), &run.join("run.json"))),
        ),
    ];
    for (state, resume_after, build) in &states {
        let run = dir.path().join(state.replace(' ', "-"));
        common::train_into(config(4), &run);
        build(&run);
        assert_eq!(
            resume_point(&run).unwrap(),
            Some(*resume_after),
            "{state}: the resume point"
        );
        common::resume(config(EPOCHS), &run);
        assert!(
            outcome(&run, EPOCHS) == expected,
            "{state}: the resumed run differs from the straight one"
        );
        let leftovers: Vec<_> = [run.clone(), run.join("checkpoint")]
            .iter()
            .flat_map(|d| std::fs::read_dir(d).unwrap())
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{state}: {leftovers:?} left behind");
    }

    // run.json itself cut in half (not sgdlab's doing: its writes are atomic): refused in one
    // line naming it, and nothing changed.
    let run = dir.path().join("broken-run-json");
    common::train_into(config(4), &run);
    tear(run.join("run.json"), &run.join("run.json"));
    let before = common::snapshot(&run);
    let mut args = train_args(&run, EPOCHS);
    args.push("--resume".into());
    let refused = run_sgdlab(dir.path(), &args_of(&args));
    assert_one_line_error(&refused, &["run.json"]);
    assert!(
        common::snapshot(&run) == before,
        "a refused resume changed the run"
    );
}

#[test]
fn the_run_dir_records_seed_backend_version_and_commit_and_two_runs_agree_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let runs: Vec<PathBuf> = (0..2)
        .map(|i| dir.path().join(format!("run-{i}")))
        .collect();
    for run in &runs {
        let output = run_sgdlab(
            dir.path(),
            &train_args(run, 3)
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        );
        assert!(output.status.success(), "{output:?}");
    }
    assert!(
        outcome(&runs[0], 3) == outcome(&runs[1], 3),
        "two runs differ"
    );

    let info = read_json(&runs[0].join("run.json"));
    assert_eq!(info["seed"], 42);
    let session = &info["sessions"][0];
    assert_eq!(session["backend"], "flex");
    assert_eq!(session["device"], "cpu");
    assert_eq!(session["sgdlab_version"], env!("CARGO_PKG_VERSION"));
    let commit = session["git_commit"].as_str().unwrap();
    assert!(!commit.is_empty());
    assert_eq!(session["outcome"], "finished");
    assert_eq!(session["last_epoch"], 3);
}

/// Training keeps nothing per step in memory: logs and metrics stream to disk. (The figures
/// drawn after training are left out with `--no-plots`: they read all of `steps.csv`, a row per
/// step, by design.)
#[test]
fn ten_times_the_epochs_needs_no_more_memory() {
    let dir = tempfile::tempdir().unwrap();
    let run_for = |epochs: usize| {
        let run = dir.path().join(format!("run-{epochs}"));
        let mut args = train_args(&run, epochs);
        args[7] = "training.batch_size=1".into();
        args.push("--no-plots".into());
        common::peak_rss_kib(dir.path(), &args)
    };
    // 1,990 steps against 19,900.
    let usual = run_for(5);
    let long = run_for(50);
    let ratio = long as f64 / usual as f64;
    assert!(
        ratio < 1.15,
        "peak RSS: {usual} KiB for 5 epochs, {long} KiB for 50 (×{ratio:.2})"
    );
}

fn args_of(strings: &[String]) -> Vec<&str> {
    strings.iter().map(String::as_str).collect()
}

#[test]
fn a_second_writer_is_refused_at_once_naming_the_run_dir_and_holder_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let output = run_sgdlab(dir.path(), &args_of(&train_args(&run, 2)));
    assert!(output.status.success(), "{output:?}");

    // This process plays the live writer: it holds the run dir's lock.
    let lock = sgdlab::run_dir::RunDir::new(&run).lock().unwrap();
    let before = common::snapshot(&run);
    let holder = format!("pid {}", std::process::id());
    let mut resume = train_args(&run, 4);
    resume.push("--resume".into());
    let refused = run_sgdlab(dir.path(), &args_of(&resume));
    assert_one_line_error(&refused, &[run.to_str().unwrap(), &holder, "in use"]);
    assert_eq!(refused.status.code(), Some(1));
    // A dry run of the same resume fails where the resume would.
    resume.push("--dry-run".into());
    let dry = run_sgdlab(dir.path(), &args_of(&resume));
    assert_one_line_error(&dry, &[run.to_str().unwrap(), &holder]);
    assert_eq!(
        common::snapshot(&run),
        before,
        "a refused writer changed the run dir"
    );

    // A reader is served, and told the run is live.
    let eval = run_sgdlab(dir.path(), &["eval", run.to_str().unwrap()]);
    assert!(eval.status.success(), "{eval:?}");
    let stderr = String::from_utf8_lossy(&eval.stderr);
    assert!(
        stderr.contains("being trained now") && stderr.contains(&holder),
        "{stderr}"
    );

    drop(lock);
    resume.pop();
    let resumed = run_sgdlab(dir.path(), &args_of(&resume));
    assert!(resumed.status.success(), "{resumed:?}");
    let eval = run_sgdlab(dir.path(), &["eval", run.to_str().unwrap()]);
    assert!(!String::from_utf8_lossy(&eval.stderr).contains("being trained"));
}

#[test]
fn two_training_processes_on_one_run_dir_and_a_sigkilled_holder_resumes_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    // Long enough to be live throughout: it is killed after its first epoch.
    let mut child = Command::new(env!("CARGO_BIN_EXE_sgdlab"))
        .args(train_args(&run, 2000))
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let marker = run.join("checkpoint/model-1.bpk");
    let started = Instant::now();
    while !marker.exists() && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(marker.exists(), "the first epoch never finished");

    let mut second = train_args(&run, 2000);
    second.push("--resume".into());
    let refused = run_sgdlab(dir.path(), &args_of(&second));
    let holder = format!("pid {}", child.id());
    assert_one_line_error(&refused, &[run.to_str().unwrap(), &holder]);
    // A fresh run into the same dir is refused too (it exists).
    let fresh = run_sgdlab(dir.path(), &args_of(&train_args(&run, 2000)));
    assert_one_line_error(&fresh, &["already exists"]);
    assert!(
        child.try_wait().unwrap().is_none(),
        "the first writer ended before the second was tried"
    );

    child.kill().unwrap(); // SIGKILL: the kernel drops its lock
    child.wait().unwrap();
    let epochs = sgdlab::run_dir::RunDir::new(&run)
        .checkpoint_epochs()
        .last()
        .copied()
        .unwrap();
    let resumed = run_sgdlab(
        dir.path(),
        &args_of(&{
            let mut args = train_args(&run, epochs + 2);
            args.push("--resume".into());
            args
        }),
    );
    assert!(resumed.status.success(), "{resumed:?}");
    let info = read_json(&run.join("run.json"));
    let outcomes: Vec<&str> = info["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|session| session["outcome"].as_str().unwrap())
        .collect();
    // The killed session never got to record its end; the refused ones left no session.
    assert_eq!(outcomes, ["running", "finished"]);
}

/// A tmpfs mounted for one test, unmounted when dropped (also when the test fails).
struct Tmpfs(PathBuf);

impl Tmpfs {
    /// Mounts a tmpfs of `size` (e.g. `512k`) on `dir`, or says why it cannot (not root, no
    /// `mount`, a container without the capability).
    fn mount(dir: &Path, size: &str) -> Result<Tmpfs, String> {
        std::fs::create_dir_all(dir).unwrap();
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr).trim().to_string());
        }
        Ok(Tmpfs(dir.to_path_buf()))
    }

    fn resize(&self, size: &str) {
        let output = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .output()
            .unwrap();
        assert!(output.status.success(), "remount: {output:?}");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount").arg(&self.0).status();
        if !unmounted.is_ok_and(|status| status.success()) {
            // Busy (a child still running after a failed assertion): detach it now.
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
}

/// Training into a disk that fills up: it stops with one line naming the file and exit 1,
/// leaves every checkpoint and metrics row whole, and once there is room `--resume` finishes
/// bit-identical to a run that never ran out. Needs root to mount a tmpfs (CI runs as root);
/// skipped with the reason elsewhere, and a failure where `CI=true`.
#[test]
fn a_full_disk_stops_training_in_one_line_and_a_resume_after_more_space_is_bit_identical() {
    const EPOCHS: usize = 30;
    let dir = tempfile::tempdir().unwrap();
    let tmpfs = match Tmpfs::mount(&dir.path().join("small"), "512k") {
        Ok(tmpfs) => tmpfs,
        Err(reason) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI must run the full-disk test, but a tmpfs cannot be mounted: {reason}"
            );
            eprintln!("skipped: mounting a tmpfs is not permitted here: {reason}");
            return;
        }
    };
    let straight = dir.path().join("straight");
    let output = run_sgdlab(dir.path(), &args_of(&train_args(&straight, EPOCHS)));
    assert!(output.status.success(), "{output:?}");
    let expected = outcome(&straight, EPOCHS);

    // 512 KiB hold about a dozen epochs (a checkpoint, steps and per-batch logs each).
    let run = tmpfs.0.join("run");
    let full = run_sgdlab(dir.path(), &args_of(&train_args(&run, EPOCHS)));
    assert_eq!(full.status.code(), Some(1), "{full:?}");
    let stderr = String::from_utf8_lossy(&full.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| !l.starts_with("note:")).collect();
    assert_eq!(errors.len(), 1, "one line: {stderr}");
    // Whichever file met the full disk first (a per-batch log, metrics.csv, steps.csv, or a
    // checkpoint in Burn's writer) is named, inside the run.
    for fragment in [
        "error: ",
        run.to_str().unwrap(),
        "No space left on device",
        "stopped",
        "--resume",
    ] {
        assert!(
            errors[0].contains(fragment),
            "`{fragment}` not in {}",
            errors[0]
        );
    }
    assert!(!stderr.contains("panicked"), "{stderr}");

    // What is on disk is whole: every metrics row has every column, every checkpoint loads.
    let run_dir = sgdlab::run_dir::RunDir::new(&run);
    let rows = sgdlab::run_dir::read_metrics_csv(&run_dir.metrics_path()).unwrap();
    let done = rows.len();
    assert!(
        (1..EPOCHS).contains(&done),
        "{done} epochs before the disk was full"
    );
    for (epoch, row) in &rows {
        for column in [
            "train_loss",
            "train_accuracy",
            "valid_loss",
            "valid_accuracy",
        ] {
            assert!(row.contains_key(column), "epoch {epoch}: no {column}");
        }
    }
    let config = run_dir.load_config().unwrap();
    let device = sgdlab::device::resolve("cpu").unwrap();
    let problem = sgdlab::model::Problem {
        dim: 30,
        classes: Some(2),
    };
    let epochs = run_dir.checkpoint_epochs();
    assert!(!epochs.is_empty());
    for &epoch in &epochs {
        sgdlab::train::load_model(&run_dir, epoch, &config.model, problem, &device)
            .unwrap_or_else(|e| panic!("checkpoint {epoch}: {e}"));
        let complete = ["optim", "scheduler"].iter().all(|part| {
            run_dir
                .checkpoint_dir()
                .join(format!("{part}-{epoch}.bpk"))
                .exists()
        });
        if complete {
            sgdlab::train::checkpoint::check_resume_checkpoint(
                &run_dir,
                epoch,
                &config,
                problem,
                &device.clone().autodiff(),
            )
            .unwrap_or_else(|e| panic!("checkpoint {epoch}: {e}"));
        }
    }

    // More room, then resume: the same numbers as the run that never ran out.
    tmpfs.resize("64m");
    let mut resume = train_args(&run, EPOCHS);
    resume.push("--resume".into());
    let resumed = run_sgdlab(dir.path(), &args_of(&resume));
    assert!(resumed.status.success(), "{resumed:?}");
    assert!(
        outcome(&run, EPOCHS) == expected,
        "resumed after a full disk, the run differs from the straight one"
    );
    let info = read_json(&run.join("run.json"));
    let last = info["sessions"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["outcome"], "finished");
    drop(tmpfs);
}
