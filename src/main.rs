//! The `sgdlab` command line: parses, then hands the work to the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use serde::Serialize;

use sgdlab::ErrorKind;
use sgdlab::config::Config;
use sgdlab::eval::{SplitChoice, evaluate_file, evaluate_run};
use sgdlab::experiment::run_named;
use sgdlab::plot::{LossScale, PlotOptions, default_out_dir, plot_run, plot_runs};
use sgdlab::predict::{Output, PredictRequest, predict};
use sgdlab::run_dir::RunDir;
use sgdlab::runs::{SortKey, list_runs};
use sgdlab::schedule_table::{SHOWN_ROWS, schedule_table};
use sgdlab::solve::{default_optimum_path, solve_config};
use sgdlab::sweep::{SweepRequest, run_sweep};
use sgdlab::train::CheckpointChoice;
use sgdlab::train::{Progress, TrainRequest, TrainResult, train};

/// `--version`: the release, the commit built from and the backends compiled in.
fn version() -> String {
    format!(
        "{} (commit {}; backends: {})",
        env!("CARGO_PKG_VERSION"),
        env!("SGDLAB_GIT_COMMIT"),
        sgdlab::device::compiled_backends().join(", ")
    )
}

/// Stochastic gradient descent, from the lecture to measured software.
///
/// Train a model from a TOML config, reload its checkpoints to evaluate, check a config and
/// preview its learning-rate schedule before running it. See configs/ for examples and the
/// docs/config.md for every key.
#[derive(Parser)]
#[command(name = "sgdlab", version, about, long_about)]
struct Cli {
    /// Where default run dirs, sweeps, experiments, optima and compare plots go.
    #[arg(
        long,
        global = true,
        env = "SGDLAB_ARTIFACTS",
        default_value = "artifacts",
        value_name = "DIR"
    )]
    artifacts: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a model as CONFIG says; outputs go to a new run dir under the artifacts folder.
    ///
    /// Every epoch writes a checkpoint (model, optimizer and schedule state) and a row of
    /// metrics.csv. On a terminal burn-train's dashboard shows progress (press q to stop);
    /// otherwise one line is printed per epoch.
    Train {
        /// The config file (TOML).
        config: PathBuf,
        /// Override a config value, e.g. --set optimizer.learning_rate=0.05 (repeatable).
        #[arg(long = "set", value_name = "KEY.PATH=VALUE")]
        overrides: Vec<String>,
        /// The run directory (default: <artifacts>/<config name>-<UTC timestamp>). Must not
        /// exist, unless --resume.
        #[arg(long, value_name = "DIR")]
        run_dir: Option<PathBuf>,
        /// Continue the run in --run-dir from its last complete checkpoint up to
        /// training.epochs (raise it with --set training.epochs=N).
        #[arg(long, requires = "run_dir")]
        resume: bool,
        /// The device: cpu, flex, ndarray, wgpu[:N], cuda[:N] (overrides training.device).
        #[arg(long, value_name = "D")]
        device: Option<String>,
        /// Data-parallel training over several devices of one backend, e.g. --devices
        /// wgpu:0,wgpu:1, or other machines' `sgdlab serve` devices, --devices
        /// ws://HOST:PORT,ws://HOST:PORT/1 (overrides training.devices; training.batch_size is
        /// the global mini-batch, split evenly across them).
        #[arg(long, value_name = "D,D,...", value_delimiter = ',')]
        devices: Vec<String>,
        /// The token of remote (ws://, iroh://) devices' servers, read from this file
        /// [default: the SGDLAB_REMOTE_TOKEN environment variable].
        #[arg(long, value_name = "FILE")]
        token_file: Option<PathBuf>,
        /// Check everything and write nothing: load the config and data, build the model on
        /// the device, print the data sizes, parameter count, steps per epoch and run dir.
        #[arg(long)]
        dry_run: bool,
        /// Do not write the figures (SVG and PNG) into the run dir at the end.
        #[arg(long)]
        no_plots: bool,
        /// Print the result as one JSON document on stdout (progress on stderr).
        #[arg(long, conflicts_with = "dry_run")]
        json: bool,
    },
    /// Evaluate a run's checkpoint on a split or a labelled file: loss, accuracy, confusion
    /// matrix, per-class precision, recall and F1, ROC AUC (binary); MSE, RMSE, MAE and R²
    /// (regression); writes eval.json.
    Eval {
        /// A run directory written by `sgdlab train`.
        run_dir: PathBuf,
        /// Which checkpoint: last, best (lowest validation loss, or early stopping's best
        /// epoch) or an epoch number.
        #[arg(long, default_value = "last", value_name = "last|best|EPOCH")]
        checkpoint: CheckpointChoice,
        /// Which split [default: test if the run has one, else valid, else train].
        #[arg(long, value_enum, conflicts_with = "input")]
        split: Option<SplitChoice>,
        /// Evaluate on this labelled file instead of a split: a CSV with the run's feature
        /// columns and a label column, or for MNIST runs IDX images (file or folder) with
        /// their labels file.
        #[arg(long, value_name = "PATH")]
        input: Option<PathBuf>,
        /// The label column of --input [default: the run's data.label; target for the
        /// embedded sets; y for lecture_1d].
        #[arg(long, value_name = "COL", requires = "input")]
        label: Option<String>,
        /// The device to evaluate on [default: the run's training.device].
        #[arg(long, value_name = "D")]
        device: Option<String>,
        /// The token of the remote (ws://, iroh://) device's server, read from this file
        /// [default: the SGDLAB_REMOTE_TOKEN environment variable].
        #[arg(long, value_name = "FILE")]
        token_file: Option<PathBuf>,
        /// Print the report (eval.json's document) as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Predict new examples with a run's checkpoint; writes a CSV: an id, the predicted class
    /// (or value) and the class probabilities.
    ///
    /// The input is a CSV holding the run's feature columns by name (other columns are
    /// ignored, or copied with --pass-through), or for MNIST runs IDX images (a file, or a
    /// folder with t10k-images-idx3-ubyte or train-images-idx3-ubyte). It is read in batches:
    /// memory does not grow with its length.
    Predict {
        /// A run directory written by `sgdlab train`.
        run_dir: PathBuf,
        /// The examples to predict.
        #[arg(long, value_name = "PATH")]
        input: PathBuf,
        /// Which checkpoint: last, best or an epoch number.
        #[arg(long, default_value = "last", value_name = "last|best|EPOCH")]
        checkpoint: CheckpointChoice,
        /// The CSV to write, never an existing file; - for standard output [default:
        /// <input name>-predictions.csv in the current directory, -2, -3, ... appended if it
        /// exists].
        #[arg(long, value_name = "FILE.csv|-")]
        out: Option<PathBuf>,
        /// The device to predict on [default: the run's training.device].
        #[arg(long, value_name = "D")]
        device: Option<String>,
        /// The token of the remote (ws://, iroh://) device's server, read from this file
        /// [default: the SGDLAB_REMOTE_TOKEN environment variable].
        #[arg(long, value_name = "FILE")]
        token_file: Option<PathBuf>,
        /// The input column naming each row [default: the row number, from 0].
        #[arg(long, value_name = "COL")]
        id: Option<String>,
        /// Input columns to copy into the output, e.g. --pass-through target,name.
        #[arg(long, value_name = "COL,...", value_delimiter = ',')]
        pass_through: Vec<String>,
    },
    /// Validate CONFIG and print it resolved, every default filled in.
    Config {
        /// The config file (TOML).
        config: PathBuf,
        /// Override a config value, as for `train` (repeatable).
        #[arg(long = "set", value_name = "KEY.PATH=VALUE")]
        overrides: Vec<String>,
    },
    /// Show the learning rate CONFIG's schedule gives each optimizer step, without training.
    ///
    /// Prints the table (step, epoch, the schedule's t, α) and writes every step to a CSV,
    /// step, epoch and α written as a run's steps.csv writes them. Loads the data only to
    /// count the steps per epoch.
    Schedule {
        /// The config file (TOML).
        config: PathBuf,
        /// Override a config value, as for `train` (repeatable).
        #[arg(long = "set", value_name = "KEY.PATH=VALUE")]
        overrides: Vec<String>,
        /// How many optimizer steps [default: all of training, training.epochs × steps per
        /// epoch].
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        steps: Option<u64>,
        /// The CSV to write [default: <config name>-schedule.csv in the current directory].
        /// An existing file is refused, unless --force.
        #[arg(long, value_name = "FILE.csv")]
        out: Option<PathBuf>,
        /// Overwrite the --out file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Draw runs' figures as SVG and PNG: loss, accuracy, suboptimality, batch loss and
    /// learning rate, against epochs, steps, examples seen and wall time.
    ///
    /// Several runs overlay in each figure, one colour per run. Prints the files written.
    Plot {
        /// Run directories written by `sgdlab train`.
        #[arg(required = true, value_name = "RUN_DIR")]
        run_dirs: Vec<PathBuf>,
        /// Where to write [default: the run dir for one run; <artifacts>/compare-<UTC
        /// timestamp> for several].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// The loss axes' scale; auto is log when the loss spans two decades.
        #[arg(long, value_enum, default_value = "auto")]
        loss_scale: LossScale,
    },
    /// Run one of the lecture's experiments, or all of them and write report.html/report.md.
    ///
    /// Each experiment writes its figures (SVG and PNG), the CSVs behind them and a
    /// summary.md into DIR/NAME/, and prints whether each claim it tests holds.
    Experiment {
        /// The experiment (gd-vs-sgd, schedules, batch-size, ...), or all.
        name: String,
        /// Small problem sizes: seconds instead of minutes.
        #[arg(long)]
        quick: bool,
        /// Where to write [default: <artifacts>/experiments-<UTC timestamp>]. May exist: only
        /// the experiments' own sub-directories and the report are replaced.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Measure training speed on this machine and print a Markdown table (medians of
    /// repeated runs).
    ///
    /// The same workloads as `cargo bench`: the training step at the PyTorch reference shapes,
    /// lecture-sized SGD through the learner, one epoch of MNIST-shaped MLPs (learner and bare
    /// loop), full-batch GD against SGD as n grows, one optimizer step per family against
    /// Burn's, and evaluation of a checkpoint. Takes a few minutes; --quick about a minute.
    Bench {
        /// Smaller data and fewer repeats.
        #[arg(long)]
        quick: bool,
    },
    /// Compute the exact optimum f* = argmin ℓ of CONFIG's convex model on its training split.
    ///
    /// The objective is the one training minimizes, (1/n) Σ ℓ̂ + (μ/2)‖Θ‖² with μ the
    /// optimizer's weight_decay, on the same seeded, standardized training split: the closed
    /// form for linear regression, Newton's method for logistic and softmax regression. Prints
    /// Θ*, ℓ(f*) and ‖∇ℓ(f*)‖ and writes them to a JSON file.
    Solve {
        /// The config file (TOML).
        config: PathBuf,
        /// Override a config value, as for `train` (repeatable).
        #[arg(long = "set", value_name = "KEY.PATH=VALUE")]
        overrides: Vec<String>,
        /// The JSON to write [default: <artifacts>/<config name>-optimum.json]. An existing
        /// file is refused, unless --force.
        #[arg(long, value_name = "FILE.json")]
        out: Option<PathBuf>,
        /// Overwrite the --out file if it exists.
        #[arg(long)]
        force: bool,
        /// Print the optimum (the written file's document, and its path) as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Train every combination of the grids, N seeds each, and tabulate and draw them.
    ///
    /// Each run is `train CONFIG --set KEY=VALUE ... --set training.seed=S` into
    /// DIR/KEY=VALUE,...,training.seed=S. Writes DIR/sweep.csv and DIR/sweep.md (a row per
    /// combination: mean and spread over the seeds) and the figures across runs, and prints
    /// the best combination by validation loss. Running the same command again skips the
    /// finished runs, resumes the interrupted ones and writes the table again.
    Sweep {
        /// The config file (TOML).
        config: PathBuf,
        /// A key and its values, read as --set reads a value; commas inside brackets or
        /// quotes belong to the value, e.g. --grid model.hidden=[64],[128,64] (repeatable:
        /// every combination is trained).
        #[arg(long = "grid", value_name = "KEY=V1,V2,...", required = true)]
        grids: Vec<String>,
        /// Override a config value for every run, as for `train` (repeatable).
        #[arg(long = "set", value_name = "KEY.PATH=VALUE")]
        overrides: Vec<String>,
        /// Seeds per combination: training.seed = the config's, +1, ...
        #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=10_000))]
        seeds: u64,
        /// Where the runs, table and figures go [default: <artifacts>/<config name>-sweep].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Trainings at once, each on its own share of the cores (the numbers do not change).
        #[arg(long, default_value_t = 1, value_name = "J", value_parser = clap::value_parser!(u64).range(1..=1024))]
        jobs: u64,
        /// Do not draw the figures across runs.
        #[arg(long)]
        no_plots: bool,
        /// Print the table as one JSON document on stdout (progress on stderr).
        #[arg(long)]
        json: bool,
    },
    /// List the run dirs under DIR: model, optimizer, α, m, epochs, schedule, device, outcome
    /// and final metrics. A directory that is not a run is skipped with a note.
    Runs {
        /// The folder [default: the artifacts folder].
        dir: Option<PathBuf>,
        /// The column to sort by: losses ascending, accuracies descending (best first), text
        /// alphabetically.
        #[arg(long, value_enum, default_value = "name")]
        sort: SortKey,
        /// Reverse the order.
        #[arg(long)]
        reverse: bool,
        /// Print the listing as one JSON document on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Host this machine's devices for `sgdlab train --devices ws://HOST:PORT,...` elsewhere
    /// (needs the `remote` cargo feature).
    ///
    /// A Burn remote server over WebSocket or Iroh: it prints the address clients use
    /// (`ws://HOST:PORT`, or `iroh://ID@HOST:PORT`) and its devices, a line per session opened,
    /// refused or closed, and serves until Ctrl+C or SIGTERM. Clients must present the token in
    /// --token-file. WebSocket is unencrypted: serve on a trusted network or behind an SSH
    /// tunnel; Iroh (QUIC) is encrypted and authenticates the server (docs/remote.md).
    Serve {
        /// HOST:PORT to listen on, bound exactly as given: 127.0.0.1:PORT serves this machine
        /// only, 0.0.0.0:PORT every interface.
        #[arg(long, value_name = "HOST:PORT")]
        listen: String,
        /// The file holding the token clients must present (never on the command line).
        #[arg(long, value_name = "FILE")]
        token_file: PathBuf,
        /// A local device to host (repeatable; clients pick one by position, from 0).
        #[arg(long = "device", value_name = "D", default_value = "cpu")]
        devices: Vec<String>,
        /// How clients reach the server: ws (WebSocket, TCP) or iroh (QUIC, UDP; relays and
        /// address lookup off, clients dial HOST:PORT directly).
        #[arg(long, value_enum, default_value_t)]
        transport: sgdlab::serve::Transport,
        /// Iroh: the server's secret key (32 bytes), created readable by you only if missing;
        /// it fixes the id clients dial. Without it, a new id at each start.
        #[arg(long, value_name = "FILE")]
        key_file: Option<PathBuf>,
    },
    /// Print a shell completion script, e.g. `sgdlab completions bash > ~/.local/share/bash-completion/completions/sgdlab`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

impl Command {
    /// Whether the command prints one JSON document on stdout (`--json`).
    fn json(&self) -> bool {
        match self {
            Command::Train { json, .. }
            | Command::Eval { json, .. }
            | Command::Solve { json, .. }
            | Command::Sweep { json, .. }
            | Command::Runs { json, .. } => *json,
            _ => false,
        }
    }
}

/// The human-readable lines: on stdout, or on stderr when stdout carries `--json`'s document.
#[derive(Clone, Copy)]
struct Human {
    to_stderr: bool,
}

impl Human {
    fn line(self, text: impl std::fmt::Display) {
        if self.to_stderr {
            eprintln!("{text}");
        } else {
            println!("{text}");
        }
    }

    /// Text that ends in its own newline (a report's Display).
    fn text(self, text: impl std::fmt::Display) {
        if self.to_stderr {
            eprint!("{text}");
        } else {
            print!("{text}");
        }
    }
}

/// Prints `value` as one JSON document on stdout.
fn print_json(value: &impl Serialize) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("the documents serialize")
    );
}

/// mimalloc rather than the system allocator: a training step allocates and frees tensors of
/// hundreds of kilobytes, which glibc's malloc serves from fresh `mmap`ed pages, so every step
/// paid page faults and zeroing (measured in `sgdlab bench`; see docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // The version line is built at run time (the backends come from cfg!), once per process.
    let version: &'static str = Box::leak(version().into_boxed_str());
    let parsed = Cli::command()
        .version(version)
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(error) => {
            use clap::error::ErrorKind;
            if matches!(
                error.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) || matches!(
                error.kind(),
                ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = error.print();
                return if error.exit_code() == 0 {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(2)
                };
            }
            // One line: clap's message (which may list missing arguments on lines of their
            // own), without the usage block.
            let rendered = error.render().to_string();
            let message: Vec<&str> = rendered
                .lines()
                .take_while(|line| !line.starts_with("Usage:") && !line.starts_with("For more"))
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .collect();
            eprintln!("{} (see --help)", message.join(" "));
            return ExitCode::from(2);
        }
    };
    let json = cli.command.json();
    // The command on a compute pool's worker: see `on_compute_pool`.
    let ran = sgdlab::device::on_compute_pool(move || run(cli.command, &cli.artifacts));
    sgdlab::device::close_remote_connections();
    match ran {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            let status = match error.kind() {
                ErrorKind::Input => 1,
                ErrorKind::Diverged => 3,
            };
            if json {
                print_json(&serde_json::json!({
                    "error": error.message(),
                    "exit_status": status,
                }));
            }
            ExitCode::from(status)
        }
    }
}

fn run(command: Command, artifacts: &Path) -> sgdlab::Result<()> {
    let human = Human {
        to_stderr: command.json(),
    };
    match command {
        Command::Train {
            config,
            mut overrides,
            run_dir,
            resume,
            device,
            devices,
            token_file,
            dry_run,
            no_plots,
            json,
        } => {
            sgdlab::device::use_token_file(token_file.as_deref())?;
            if let Some(device) = device {
                overrides.push(format!("training.device={device}"));
            }
            if !devices.is_empty() {
                let quoted: Vec<String> = devices.iter().map(|d| format!("{d:?}")).collect();
                overrides.push(format!("training.devices=[{}]", quoted.join(",")));
            }
            let name = config_name(&config);
            let config = Config::load(&config, &overrides)?;
            let request = TrainRequest {
                config,
                name,
                run_dir,
                resume,
                artifacts: artifacts.to_path_buf(),
                progress: if json {
                    Progress::LinesOnStderr
                } else {
                    Progress::Auto
                },
            };
            if dry_run {
                let summary = sgdlab::train::dry_run(&request)?;
                print_warnings(&summary.warnings);
                human.text(&summary);
                return Ok(());
            }
            let result = train(request)?;
            let mut summary = format!(
                "trained {} epochs; run dir {}",
                result.epochs,
                result.run_dir.path.display()
            );
            for key in [
                "valid_loss",
                "valid_accuracy",
                "train_loss",
                "train_accuracy",
            ] {
                if let Some(value) = result.last.get(key) {
                    summary.push_str(&format!("  {key}={value:.6}"));
                }
            }
            if let Some(value) = result.last.get("suboptimality") {
                summary.push_str(&format!("  suboptimality={value:.3e}"));
            }
            human.line(summary);
            if let Some(target) = &result.target {
                let verdict = if target.reached {
                    "reached"
                } else {
                    "not reached"
                };
                human.line(format!(
                    "target suboptimality ρ = {:e} {verdict} after {} epochs: {} iterations, {} gradient evaluations, {:.3} s",
                    target.target,
                    target.epochs,
                    target.steps,
                    target.gradient_evaluations,
                    target.seconds
                ));
            }
            let best = match &result.early_stop {
                Some(stop) => {
                    human.line(stop.to_string());
                    " --checkpoint best"
                }
                None => "",
            };
            human.line(format!(
                "evaluate with: sgdlab eval {}{best}",
                result.run_dir.path.display()
            ));
            let mut figures = Vec::new();
            if !no_plots {
                // The run itself succeeded; a figure that cannot be drawn must not fail it.
                match plot_run(&result.run_dir, &PlotOptions::default()) {
                    Ok(written) => {
                        human.line(format!(
                            "wrote {} figures (SVG and PNG) in {}",
                            written.len(),
                            result.run_dir.path.display()
                        ));
                        figures = written.into_iter().flat_map(|w| [w.svg, w.png]).collect();
                    }
                    Err(error) => eprintln!("warning: figures not written: {error}"),
                }
            }
            if json {
                /// `train --json`'s document: the result and the figures written.
                #[derive(Serialize)]
                struct Trained<'a> {
                    #[serde(flatten)]
                    result: &'a TrainResult,
                    figures: Vec<PathBuf>,
                }
                print_json(&Trained {
                    result: &result,
                    figures,
                });
            }
            Ok(())
        }
        Command::Eval {
            run_dir,
            checkpoint,
            split,
            input,
            label,
            device,
            token_file,
            json,
        } => {
            sgdlab::device::use_token_file(token_file.as_deref())?;
            let run = RunDir::new(run_dir);
            if let Some(note) = run.live_note() {
                eprintln!("note: {note}");
            }
            let report = match &input {
                Some(input) => {
                    evaluate_file(&run, checkpoint, input, label.as_deref(), device.as_deref())?
                }
                None => evaluate_run(&run, checkpoint, split, device.as_deref())?,
            };
            human.text(&report);
            human.line(format!("wrote {}", run.eval_path().display()));
            if json {
                print_json(&report);
            }
            Ok(())
        }
        Command::Predict {
            run_dir,
            input,
            checkpoint,
            out,
            device,
            token_file,
            id,
            pass_through,
        } => {
            sgdlab::device::use_token_file(token_file.as_deref())?;
            let run = RunDir::new(run_dir);
            let out = out.map(|out| match out.to_str() {
                Some("-") => Output::Stdout,
                _ => Output::File(out),
            });
            let summary = predict(&PredictRequest {
                run: &run,
                input: &input,
                checkpoint,
                out,
                device: device.as_deref(),
                id: id.as_deref(),
                pass_through: &pass_through,
            })?;
            if let Some(out) = &summary.out {
                println!(
                    "predicted {} rows of {} with checkpoint epoch {}; wrote {}",
                    summary.rows,
                    summary.input.display(),
                    summary.checkpoint_epoch,
                    out.display()
                );
            }
            Ok(())
        }
        Command::Config { config, overrides } => {
            let config = Config::load(&config, &overrides)?;
            print_warnings(&config.warnings(None));
            print!("{}", config.to_toml());
            Ok(())
        }
        Command::Schedule {
            config: config_path,
            overrides,
            steps,
            out,
            force,
        } => {
            let config = Config::load(&config_path, &overrides)?;
            let steps = steps.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
            let table = schedule_table(&config, steps)?;
            print_warnings(&config.warnings(Some(table.steps_per_epoch)));
            let out = out.unwrap_or_else(|| {
                PathBuf::from(format!("{}-schedule.csv", config_name(&config_path)))
            });
            table.write_csv(&out, force)?;
            print!("{}", table.render(SHOWN_ROWS));
            println!("wrote {}", out.display());
            Ok(())
        }
        Command::Plot {
            run_dirs,
            out,
            loss_scale,
        } => {
            let runs: Vec<RunDir> = run_dirs.into_iter().map(RunDir::new).collect();
            for note in runs.iter().filter_map(RunDir::live_note) {
                eprintln!("note: {note}");
            }
            let out = match out {
                Some(out) => out,
                None => default_out_dir(&runs, artifacts)?,
            };
            let written = plot_runs(&runs, &out, &PlotOptions { loss_scale })?;
            for files in &written {
                println!("wrote {}", files.svg.display());
                println!("wrote {}", files.png.display());
            }
            Ok(())
        }
        Command::Experiment { name, quick, out } => {
            let ran = run_named(
                &name,
                quick,
                out.as_deref(),
                artifacts,
                |experiment, outcome, dir| {
                    println!("{}: wrote into {}", experiment.name, dir.display());
                    let name =
                        |path: &Path| path.strip_prefix(dir).unwrap_or(path).display().to_string();
                    let mut files: Vec<String> = outcome
                        .figures
                        .iter()
                        .flat_map(|figure| [name(&figure.svg), name(&figure.png)])
                        .chain(outcome.tables.iter().map(|table| name(table)))
                        .collect();
                    files.push("summary.md".into());
                    println!("  {}", files.join(" "));
                    for finding in &outcome.findings {
                        let verdict = if finding.holds {
                            "holds"
                        } else {
                            "DOES NOT HOLD"
                        };
                        println!("  [{verdict}] {}: {}", finding.claim, finding.evidence);
                    }
                },
            )?;
            if let Some(report) = ran.report {
                println!("wrote {}", report.html.display());
                println!("wrote {}", report.markdown.display());
            }
            Ok(())
        }
        Command::Bench { quick } => {
            let sizes = if quick {
                sgdlab::bench::Sizes::quick()
            } else {
                sgdlab::bench::Sizes::full()
            };
            let report = sgdlab::bench::run(&sizes, |row| {
                eprintln!("measured {}: {}", row.group, row.case);
            })?;
            print!("{report}");
            Ok(())
        }
        Command::Solve {
            config: config_path,
            overrides,
            out,
            force,
            json,
        } => {
            let config = Config::load(&config_path, &overrides)?;
            let report = solve_config(&config)?;
            let out =
                out.unwrap_or_else(|| default_optimum_path(artifacts, &config_name(&config_path)));
            report.write_json(&out, force)?;
            human.text(&report);
            human.line(format!("wrote {}", out.display()));
            if json {
                let mut document = report.json();
                document["path"] = serde_json::json!(out);
                print_json(&document);
            }
            Ok(())
        }
        Command::Sweep {
            config,
            grids,
            overrides,
            seeds,
            out,
            jobs,
            no_plots,
            json,
        } => {
            let out = out.unwrap_or_else(|| {
                sgdlab::sweep::default_out_dir(artifacts, &config_name(&config))
            });
            let request = SweepRequest {
                config_path: config,
                overrides,
                grids,
                seeds: usize::try_from(seeds).unwrap_or(usize::MAX),
                out,
                jobs: usize::try_from(jobs).unwrap_or(usize::MAX),
                plots: !no_plots,
            };
            let report = run_sweep(&request, &|event| human.line(event))?;
            human.text(&report);
            for file in &report.files {
                human.line(format!("wrote {}", file.display()));
            }
            if json {
                print_json(&report);
            }
            Ok(())
        }
        Command::Runs {
            dir,
            sort,
            reverse,
            json,
        } => {
            let root = dir.unwrap_or_else(|| artifacts.to_path_buf());
            let listing = list_runs(&root, sort, reverse)?;
            for skipped in &listing.skipped {
                eprintln!(
                    "note: skipped {}: {}",
                    skipped.path.display(),
                    skipped.reason
                );
            }
            human.text(&listing);
            if json {
                print_json(&listing);
            }
            Ok(())
        }
        Command::Serve {
            listen,
            token_file,
            devices,
            transport,
            key_file,
        } => sgdlab::serve::serve(&sgdlab::serve::ServeRequest {
            listen,
            token_file,
            devices,
            transport,
            key_file,
        }),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "sgdlab", &mut std::io::stdout());
            Ok(())
        }
    }
}

/// `warning: ...` on stderr, one line each.
fn print_warnings(warnings: &[String]) {
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
}

/// The config file's stem, naming default run dirs.
fn config_name(path: &Path) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("run")
        .to_string()
}
