//! Training on other processes' devices through Burn's remote backend (`sgdlab serve`,
//! `--devices ws://...`), all on 127.0.0.1: the same steps as one local device, refused
//! tokens and devices as one line that writes nothing, a server SIGKILLed mid-run as a
//! bounded failure that `--resume` finishes. Every server is a child process killed by pid
//! when its guard drops.
#![cfg(feature = "remote")]

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::assert_one_line_error;
use sgdlab::run_dir::read_metrics_csv;

const TOKEN: &str = "remote-test-token";

/// As in tests/multi_device.rs: only f32 summation order differs from one device.
const TOLERANCE: f64 = 1e-5;

/// Far beyond a server's start-up or a bounded failure here; only a hang reaches it.
const LIMIT: Duration = Duration::from_secs(90);

/// A `sgdlab serve` child process; killed (SIGKILL) and reaped when dropped.
struct Server {
    child: Child,
    url: String,
    /// `HOST:PORT`, the address it is bound to.
    address: String,
    /// Its standard output so far, a line each.
    lines: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `sgdlab serve --listen LISTEN --token-file TOKEN_FILE` and waits for the line
    /// with its address.
    fn start(listen: &str, token_file: &Path) -> Server {
        Server::start_with(listen, token_file, &[])
    }

    /// As [`Server::start`], with `extra` arguments (`--transport iroh`, `--key-file F`).
    fn start_with(listen: &str, token_file: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sgdlab"))
            .args(["serve", "--listen", listen, "--token-file"])
            .arg(token_file)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("sgdlab serve starts");
        let stdout = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    lines.lock().unwrap().push(line);
                }
            });
        }
        let mut server = Server {
            child,
            url: String::new(),
            address: String::new(),
            lines,
        };
        let started = Instant::now();
        while started.elapsed() < LIMIT {
            let url = server.lines.lock().unwrap().iter().find_map(|line| {
                let rest = line.strip_prefix("sgdlab serve: ")?;
                Some(rest.split(',').next()?.to_string())
            });
            if let Some(url) = url {
                let after_scheme = url.split_once("://").unwrap().1;
                server.address = after_scheme.rsplit('@').next().unwrap().to_string();
                server.url = url;
                return server;
            }
            assert!(
                server.child.try_wait().unwrap().is_none(),
                "sgdlab serve exited: {:?}",
                server.lines.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("sgdlab serve printed no address within {LIMIT:?}");
    }

    /// What clients dial, as the server printed it: `ws://HOST:PORT` or `iroh://ID@HOST:PORT`.
    fn url(&self) -> String {
        self.url.clone()
    }

    /// An Iroh server's id, the ID of `iroh://ID@HOST:PORT`.
    fn iroh_id(&self) -> String {
        let rest = self.url.strip_prefix("iroh://").expect("an Iroh server");
        rest.split('@').next().unwrap().to_string()
    }

    fn log(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn token_file(dir: &Path) -> PathBuf {
    let path = dir.join("token");
    std::fs::write(&path, format!("{TOKEN}\n")).unwrap();
    path
}

fn batch_losses(run: &Path) -> Vec<f64> {
    common::steps_csv(run)
        .iter()
        .map(|row| row[2].parse().unwrap())
        .collect()
}

/// `sgdlab train configs/lecture_1d_logistic.toml` with `overrides`, into `run`, with `extra`
/// arguments; the token from `token` if given, and no SGDLAB_REMOTE_TOKEN unless `env_token`.
fn train(
    run: &Path,
    overrides: &[&str],
    extra: &[&str],
    token: Option<&Path>,
    env_token: Option<&str>,
) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sgdlab"));
    command.current_dir(env!("CARGO_MANIFEST_DIR")).args([
        "train",
        "configs/lecture_1d_logistic.toml",
        "--no-plots",
    ]);
    for assignment in overrides {
        command.args(["--set", assignment]);
    }
    command.args(extra).arg("--run-dir").arg(run);
    if let Some(token) = token {
        command.arg("--token-file").arg(token);
    }
    command.env_remove(sgdlab::device::TOKEN_ENV);
    if let Some(token) = env_token {
        command.env(sgdlab::device::TOKEN_ENV, token);
    }
    command
}

/// Runs `command` to its end, failing the test if that takes longer than `limit`.
fn output_within(mut command: Command, limit: Duration) -> (std::process::Output, Duration) {
    let started = Instant::now();
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (child.wait_with_output().unwrap(), started.elapsed())
}

fn assert_success(output: &std::process::Output) {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The run's parameters after `epoch`, as bits, loaded on the local CPU device.
fn parameters(run: &Path, epoch: usize) -> Vec<u32> {
    let dir = sgdlab::run_dir::RunDir::new(run);
    let config = dir.load_config().unwrap();
    let model = sgdlab::train::load_model(
        &dir,
        epoch,
        &config.model,
        sgdlab::model::Problem {
            dim: 1,
            classes: Some(2),
        },
        &sgdlab::device::resolve("cpu").unwrap(),
    )
    .unwrap();
    sgdlab::train::trace::flat_parameters(&model)
        .into_iter()
        .map(f32::to_bits)
        .collect()
}

fn assert_same_steps(one: &Path, remote: &Path, steps: usize, epochs: usize, what: &str) {
    let (one_losses, remote_losses) = (batch_losses(one), batch_losses(remote));
    assert_eq!(one_losses.len(), steps, "{what}");
    assert_eq!(remote_losses.len(), steps, "{what}: one row per step");
    assert!(
        one_losses[steps - 1] < 0.9 * one_losses[0],
        "{what} did not train: {one_losses:?}"
    );
    for (step, (a, b)) in one_losses.iter().zip(&remote_losses).enumerate() {
        assert!(
            (a - b).abs() <= TOLERANCE * a.abs().max(1e-3),
            "{what} step {}: local {a}, remote {b}",
            step + 1
        );
    }
    let (one_rows, remote_rows) = (
        read_metrics_csv(&one.join("metrics.csv")).unwrap(),
        read_metrics_csv(&remote.join("metrics.csv")).unwrap(),
    );
    for epoch in 1..=epochs {
        for key in ["train_loss", "valid_loss"] {
            let (Some(a), Some(b)) = (one_rows[&epoch].get(key), remote_rows[&epoch].get(key))
            else {
                continue;
            };
            assert!(
                (a - b).abs() <= TOLERANCE * a.abs().max(1e-3),
                "{what} epoch {epoch} {key}: local {a}, remote {b}"
            );
        }
    }
}

/// Each `(flag, devices, token file, fragments)`: `train` with `flag devices` fails with one
/// line holding every fragment, within [`LIMIT`], and leaves no run dir at `run`.
fn assert_refused<'a>(
    run: &Path,
    cases: impl IntoIterator<Item = (&'a str, &'a str, Option<&'a Path>, &'a [&'a str])>,
) {
    for (flag, devices, token, fragments) in cases {
        let (output, took) =
            output_within(train(run, &SMALL, &[flag, devices], token, None), LIMIT);
        assert_one_line_error(&output, fragments);
        assert!(!run.exists(), "{devices}: the run dir was created");
        assert!(took < LIMIT, "{devices}");
        eprintln!("{devices}: refused in {:.1} s", took.as_secs_f64());
    }
}

const SMALL: [&str; 4] = [
    "data.n=400",
    "training.batch_size=40",
    "training.epochs=3",
    "training.suboptimality=\"off\"",
];

/// Logistic regression with SGD and an MLP with Adam, trained on `servers` and on one local
/// device: the same steps, a row each, and a checkpoint that evaluates on `cpu`.
fn assert_servers_take_the_steps_of_one_local_device(dir: &Path, token: &Path, servers: &[Server]) {
    let devices = servers
        .iter()
        .map(Server::url)
        .collect::<Vec<_>>()
        .join(",");
    let cases: [(&str, &[&str]); 2] = [
        ("logistic sgd", &["optimizer.learning_rate=1.0"]),
        (
            "mlp adam",
            &[
                "model.kind=\"mlp\"",
                "model.hidden=[8]",
                "model.init=\"default\"",
                "optimizer.name=\"adam\"",
                "optimizer.learning_rate=0.01",
                "data.validation_fraction=0.2",
            ],
        ),
    ];
    for (index, (what, extra)) in cases.into_iter().enumerate() {
        let mut overrides = SMALL.to_vec();
        overrides.extend_from_slice(extra);
        let local = dir.join(format!("local-{index}"));
        let remote = dir.join(format!("remote-{index}"));
        let (output, _) = output_within(train(&local, &overrides, &[], None, None), LIMIT);
        assert_success(&output);
        // The token from the file for one, from the environment for the other.
        let (token_arg, env) = match index {
            0 => (Some(token), None),
            _ => (None, Some(TOKEN)),
        };
        let (output, _) = output_within(
            train(
                &remote,
                &overrides,
                &["--devices", &devices],
                token_arg,
                env,
            ),
            LIMIT,
        );
        assert_success(&output);
        let steps = if index == 0 { 30 } else { 24 };
        assert_same_steps(&local, &remote, steps, 3, what);
        let run_json = std::fs::read_to_string(remote.join("run.json")).unwrap();
        assert!(run_json.contains(&devices), "{run_json}");
        // The coordinator's checkpoint evaluates and predicts on a local device, and on a
        // remote one with --token-file, to the same figures.
        let run = remote.to_str().unwrap();
        let token = token.to_str().unwrap();
        let input = dir.join("x.csv");
        std::fs::write(&input, "x\n-2.5\n0.1\n3.0\n").unwrap();
        let input = input.to_str().unwrap();
        let answers: Vec<(serde_json::Value, String)> =
            [("cpu".to_string(), None), (servers[0].url(), Some(token))]
                .into_iter()
                .map(|(device, token)| {
                    let device = device.to_string();
                    let with_token: &[&str] = match token {
                        Some(token) => &["--token-file", token],
                        None => &[],
                    };
                    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
                    let eval = common::run_sgdlab(
                        dir,
                        &[&["eval", run, "--json", "--device", &device], with_token].concat(),
                    );
                    assert_success(&eval);
                    let predict = common::run_sgdlab(
                        dir,
                        &[
                            &[
                                "predict", run, "--input", input, "--out", "-", "--device", &device,
                            ],
                            with_token,
                        ]
                        .concat(),
                    );
                    assert_success(&predict);
                    (
                        serde_json::from_slice(&eval.stdout).unwrap(),
                        String::from_utf8(predict.stdout).unwrap(),
                    )
                })
                .collect();
        let loss = |report: &serde_json::Value| report["loss"].as_f64().unwrap();
        let (local, remote) = (&answers[0], &answers[1]);
        assert!(
            (loss(&local.0) - loss(&remote.0)).abs() <= TOLERANCE * loss(&local.0),
            "{what}: eval loss {} on cpu, {} remote",
            local.0,
            remote.0
        );
        assert_eq!(local.1.lines().count(), 4, "{what}: {}", local.1);
        assert_eq!(local.1, remote.1, "{what}: predictions on cpu and remote");
    }
    for server in servers {
        let log = server.log();
        assert!(
            log.iter().any(|line| line.contains("session opened by")),
            "{log:?}"
        );
    }
}

#[test]
fn logistic_and_mlp_on_two_servers_take_the_steps_of_one_local_device() {
    let dir = tempfile::tempdir().unwrap();
    let token = token_file(dir.path());
    let servers = [
        Server::start("127.0.0.1:0", &token),
        Server::start("127.0.0.1:0", &token),
    ];
    assert_servers_take_the_steps_of_one_local_device(dir.path(), &token, &servers);
}

const IROH: [&str; 2] = ["--transport", "iroh"];

#[test]
fn over_iroh_two_servers_take_the_steps_of_one_local_device_and_keep_their_ids() {
    let dir = tempfile::tempdir().unwrap();
    let token = token_file(dir.path());
    let key = dir.path().join("server.key");
    let keyed: Vec<&str> = [&IROH[..], &["--key-file", key.to_str().unwrap()]].concat();
    let first = Server::start_with("127.0.0.1:0", &token, &keyed);
    let servers = [first, Server::start_with("127.0.0.1:0", &token, &IROH)];
    let (url, id) = (servers[0].url(), servers[0].iroh_id());
    assert_eq!(id.len(), 64, "{url}");
    assert!(servers[0].address.starts_with("127.0.0.1:"), "{url}");
    assert_servers_take_the_steps_of_one_local_device(dir.path(), &token, &servers);
    // The MLP trained on a fresh endpoint, bound again on the port after the first run's
    // sessions ended (its client closes its endpoint on exit).
    let log = servers[0].log();
    assert!(
        log.iter().any(|line| line.contains("dialed afresh")),
        "{log:?}"
    );

    // The key file, made readable by its owner only, keeps the id across restarts.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&key).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    let [first, _second] = servers;
    drop(first);
    let again = Server::start_with("127.0.0.1:0", &token, &keyed);
    assert!(again.url().contains(&id), "{} after {url}", again.url());
}

#[test]
fn over_iroh_refusals_are_one_line_naming_the_server_or_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let token = token_file(dir.path());
    let server = Server::start_with("127.0.0.1:0", &token, &IROH);
    let url = server.url();
    let wrong = dir.path().join("wrong-token");
    std::fs::write(&wrong, "not-the-token").unwrap();
    // Another server's id at this server's address: QUIC's handshake authenticates the server.
    let other = Server::start_with("127.0.0.1:0", &token, &IROH);
    let impostor = format!("iroh://{}@{}", other.iroh_id(), server.address);
    let ws = Server::start("127.0.0.1:0", &token);
    let mixed = format!("{url},{}", ws.url());
    let run = dir.path().join("run");
    let cases: [(&str, &str, &Path, &[&str]); 4] = [
        ("--device", &url, &wrong, &["refused the token", &url]),
        (
            "--devices",
            &format!("{url},{url}/1"),
            &token,
            &["hosts 1 device(s)", &format!("{url}/1")],
        ),
        (
            "--device",
            &impostor,
            &token,
            &["cannot be reached", &impostor],
        ),
        (
            "--devices",
            &mixed,
            &token,
            &["one backend", "remote (iroh)"],
        ),
    ];
    assert_refused(
        &run,
        cases.map(|(flag, devices, token, fragments)| (flag, devices, Some(token), fragments)),
    );
    let log = server.log();
    assert!(
        log.iter().any(|line| line.contains("wrong token")),
        "{log:?}"
    );

    // The server's key file: never one others may read, never one that is not a key.
    let open_key = dir.path().join("open.key");
    std::fs::write(&open_key, [7u8; 32]).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&open_key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let short_key = dir.path().join("short.key");
    std::fs::write(&short_key, "abc\n").unwrap();
    std::fs::set_permissions(&short_key, std::fs::Permissions::from_mode(0o600)).unwrap();
    for (key, fragment) in [
        (&open_key, "readable by others"),
        (&short_key, "not a 32-byte"),
    ] {
        let output = common::run_sgdlab(
            dir.path(),
            &[
                "serve",
                "--transport",
                "iroh",
                "--listen",
                "127.0.0.1:0",
                "--token-file",
                token.to_str().unwrap(),
                "--key-file",
                key.to_str().unwrap(),
            ],
        );
        assert_one_line_error(&output, &[fragment, key.to_str().unwrap()]);
    }
    assert_eq!(
        std::fs::read(&short_key).unwrap(),
        b"abc\n",
        "the file was changed"
    );

    // An address already taken, over UDP and over TCP: one line naming it, at once.
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    for (transport, taken) in [
        ("iroh", udp.local_addr().unwrap().to_string()),
        ("ws", tcp.local_addr().unwrap().to_string()),
    ] {
        let started = Instant::now();
        let output = common::run_sgdlab(
            dir.path(),
            &[
                "serve",
                "--transport",
                transport,
                "--listen",
                &taken,
                "--token-file",
                token.to_str().unwrap(),
            ],
        );
        assert_one_line_error(&output, &["cannot listen", &taken]);
        assert!(started.elapsed() < Duration::from_secs(5), "{transport}");
    }
}

#[test]
fn refused_tokens_devices_and_servers_are_one_line_naming_the_server_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let token = token_file(dir.path());
    let server = Server::start("127.0.0.1:0", &token);
    let wrong = dir.path().join("wrong-token");
    std::fs::write(&wrong, "not-the-token").unwrap();
    let url = server.url();
    let run = dir.path().join("run");
    let two = format!("{url},{url}/1");
    let unreachable = {
        // Bound, never listening: every dial is refused until Burn's retries run out.
        let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = socket.local_addr().unwrap().port();
        drop(socket);
        format!("ws://127.0.0.1:{port}")
    };
    let unreachable_devices = format!("{url},{unreachable}");
    let cases: [(&str, &str, Option<&Path>, &[&str]); 4] = [
        ("--device", &url, Some(&wrong), &["refused the token", &url]),
        ("--device", &url, None, &["no token", "--token-file", &url]),
        (
            "--devices",
            &two,
            Some(&token),
            &["hosts 1 device(s)", &format!("{url}/1")],
        ),
        (
            "--devices",
            &unreachable_devices,
            Some(&token),
            &["cannot be reached", &unreachable],
        ),
    ];
    assert_refused(&run, cases);
    let log = server.log();
    assert!(
        log.iter().any(|line| line.contains("wrong token")),
        "{log:?}"
    );
    assert!(
        log.iter().any(|line| line.contains("no device 1")),
        "{log:?}"
    );

    // The server side: never without a token.
    let empty = dir.path().join("empty-token");
    std::fs::write(&empty, "\n").unwrap();
    let missing = dir.path().join("missing-token");
    for (file, fragment) in [(&empty, "is empty"), (&missing, "cannot read token file")] {
        let output = common::run_sgdlab(
            dir.path(),
            &[
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--token-file",
                file.to_str().unwrap(),
            ],
        );
        assert_one_line_error(&output, &[fragment, file.to_str().unwrap()]);
    }
}

/// 20 epochs of 10 steps: long enough that a server killed after epoch 2 stops it mid-run.
const LONG: [&str; 4] = [
    "data.n=400",
    "training.batch_size=40",
    "training.epochs=20",
    "training.suboptimality=\"off\"",
];

#[test]
fn a_server_killed_mid_run_fails_within_bounds_and_resume_matches_an_uninterrupted_run() {
    assert_killed_server_fails_within_bounds_and_resume_matches(&[], &[]);
}

/// Over Iroh the client notices the lost server at QUIC's idle timeout (30 s), not at once,
/// and the server comes back with its key, so with its id.
#[test]
fn over_iroh_a_server_killed_mid_run_fails_within_bounds_and_resume_matches() {
    let keys = tempfile::tempdir().unwrap();
    let key = |name: &str| keys.path().join(name).to_str().unwrap().to_string();
    let (a, b) = (key("a.key"), key("b.key"));
    assert_killed_server_fails_within_bounds_and_resume_matches(
        &["--transport", "iroh", "--key-file", &a],
        &["--transport", "iroh", "--key-file", &b],
    );
}

/// Two servers started with `first_args` and `second_args`; the second SIGKILLed after epoch
/// 2 and started again on its address.
fn assert_killed_server_fails_within_bounds_and_resume_matches(
    first_args: &[&str],
    second_args: &[&str],
) {
    let dir = tempfile::tempdir().unwrap();
    let token = token_file(dir.path());
    let first = Server::start_with("127.0.0.1:0", &token, first_args);
    let mut second = Server::start_with("127.0.0.1:0", &token, second_args);
    let devices = format!("{},{}", first.url(), second.url());
    let device_args = ["--devices", devices.as_str()];

    let straight = dir.path().join("straight");
    let (output, _) = output_within(
        train(&straight, &LONG, &device_args, Some(&token), None),
        LIMIT,
    );
    assert_success(&output);

    let run = dir.path().join("killed");
    let mut child = train(&run, &LONG, &device_args, Some(&token), None)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let marker = run.join("checkpoint/model-2.bpk");
    let started = Instant::now();
    while !marker.exists() && started.elapsed() < LIMIT {
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(marker.exists(), "no checkpoint 2 within {LIMIT:?}");
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run finished before the server was killed"
    );
    let killed_at = Instant::now();
    let _ = second.child.kill(); // SIGKILL
    let _ = second.child.wait();
    while child.try_wait().unwrap().is_none() {
        if killed_at.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the client hung after its server was killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    eprintln!(
        "client exited {:.1} s after the server's SIGKILL",
        killed_at.elapsed().as_secs_f64()
    );
    assert_one_line_error(&output, &["lost remote device", &second.url()]);

    let rows = read_metrics_csv(&run.join("metrics.csv")).unwrap();
    assert!(
        (2..20).contains(&rows.len()),
        "{} metrics rows after the kill",
        rows.len()
    );
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("run.json")).unwrap()).unwrap();
    let session = &info["sessions"][0];
    assert_eq!(session["outcome"], "failed", "{info}");
    assert!(
        session["error"]
            .as_str()
            .unwrap()
            .contains("lost remote device"),
        "{info}"
    );

    // The server back on its own address: the surviving one (`first`) dials it afresh
    // (src/serve.rs, `serve_in_generations`).
    let address = second.address.clone();
    drop(second);
    let _back = Server::start_with(&address, &token, second_args);
    let (output, took) = output_within(
        train(
            &run,
            &LONG,
            &["--devices", &devices, "--resume"],
            Some(&token),
            None,
        ),
        LIMIT,
    );
    eprintln!("the resumed run took {:.1} s", took.as_secs_f64());
    assert_success(&output);
    assert_eq!(parameters(&run, 20), parameters(&straight, 20));
    assert_eq!(batch_losses(&run), batch_losses(&straight));
    assert!(
        first
            .log()
            .iter()
            .any(|line| line.contains("dialed afresh")),
        "{:?}",
        first.log()
    );
}
