//! The `sgdlab` command line: parses, then hands the work to the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use sgdlab::ErrorKind;
use sgdlab::config::Config;
use sgdlab::eval::{SplitChoice, evaluate_run};
use sgdlab::experiment::run_named;
use sgdlab::plot::{LossScale, PlotOptions, default_out_dir, plot_run, plot_runs};
use sgdlab::run_dir::RunDir;
use sgdlab::schedule_table::{SHOWN_ROWS, schedule_table};
use sgdlab::solve::{default_optimum_path, solve_config};
use sgdlab::train::CheckpointChoice;
use sgdlab::train::{Progress, TrainRequest, train};

/// Stochastic gradient descent, from the lecture to measured software.
///
/// Train a model from a TOML config, reload its checkpoints to evaluate, check a config and
/// preview its learning-rate schedule before running it. See configs/ for examples and the
/// README for every key.
#[derive(Parser)]
#[command(name = "sgdlab", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a model as CONFIG says; outputs go to a new run dir under artifacts/.
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
        /// The run directory (default: artifacts/<config name>-<UTC timestamp>). Must not exist,
        /// unless --resume.
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
        /// wgpu:0,wgpu:1 (overrides training.devices; training.batch_size is the global
        /// mini-batch, split evenly across them).
        #[arg(long, value_name = "D,D,...", value_delimiter = ',')]
        devices: Vec<String>,
        /// Check everything and write nothing: load the config and data, build the model on
        /// the device, print the data sizes, parameter count, steps per epoch and run dir.
        #[arg(long)]
        dry_run: bool,
        /// Do not write the figures (SVG and PNG) into the run dir at the end.
        #[arg(long)]
        no_plots: bool,
    },
    /// Evaluate a run's checkpoint: loss, accuracy and confusion matrix; writes eval.json.
    Eval {
        /// A run directory written by `sgdlab train`.
        run_dir: PathBuf,
        /// Which checkpoint: last, best (lowest validation loss) or an epoch number.
        #[arg(long, default_value = "last", value_name = "last|best|EPOCH")]
        checkpoint: CheckpointChoice,
        /// Which split [default: test if the run has one, else valid, else train].
        #[arg(long, value_enum)]
        split: Option<SplitChoice>,
        /// The device to evaluate on [default: the run's training.device].
        #[arg(long, value_name = "D")]
        device: Option<String>,
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
        /// Where to write [default: the run dir for one run; artifacts/compare-<UTC
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
        /// Where to write [default: artifacts/experiments-<UTC timestamp>]. May exist: only
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
    /// The objective is the one training minimizes, (1/n) Σ ℓ̂ + (λ₂/2)‖Θ‖² with λ₂ the
    /// optimizer's weight_decay, on the same seeded, standardized training split: the closed
    /// form for linear regression, Newton's method for logistic and softmax regression. Prints
    /// Θ*, ℓ(f*) and ‖∇ℓ(f*)‖ and writes them to a JSON file.
    Solve {
        /// The config file (TOML).
        config: PathBuf,
        /// Override a config value, as for `train` (repeatable).
        #[arg(long = "set", value_name = "KEY.PATH=VALUE")]
        overrides: Vec<String>,
        /// The JSON to write [default: artifacts/<config name>-optimum.json]. An existing file
        /// is refused, unless --force.
        #[arg(long, value_name = "FILE.json")]
        out: Option<PathBuf>,
        /// Overwrite the --out file if it exists.
        #[arg(long)]
        force: bool,
    },
}

/// mimalloc rather than the system allocator: a training step allocates and frees tensors of
/// hundreds of kilobytes, which glibc's malloc serves from fresh `mmap`ed pages, so every step
/// paid page faults and zeroing (measured in `sgdlab bench`; see the README's Performance).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
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
    // The command on a compute pool's worker: see `on_compute_pool`.
    match sgdlab::device::on_compute_pool(move || run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            match error.kind() {
                ErrorKind::Input => ExitCode::FAILURE,
                ErrorKind::Diverged => ExitCode::from(3),
            }
        }
    }
}

fn run(command: Command) -> sgdlab::Result<()> {
    match command {
        Command::Train {
            config,
            mut overrides,
            run_dir,
            resume,
            device,
            devices,
            dry_run,
            no_plots,
        } => {
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
                artifacts: PathBuf::from("artifacts"),
                progress: Progress::Auto,
            };
            if dry_run {
                let summary = sgdlab::train::dry_run(&request)?;
                print_warnings(&summary.warnings);
                print!("{summary}");
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
            println!("{summary}");
            if let Some(target) = &result.target {
                let verdict = if target.reached {
                    "reached"
                } else {
                    "not reached"
                };
                println!(
                    "target suboptimality ρ = {:e} {verdict} after {} epochs: {} iterations, {} gradient evaluations, {:.3} s",
                    target.target,
                    target.epochs,
                    target.steps,
                    target.gradient_evaluations,
                    target.seconds
                );
            }
            println!(
                "evaluate with: sgdlab eval {}",
                result.run_dir.path.display()
            );
            if !no_plots {
                // The run itself succeeded; a figure that cannot be drawn must not fail it.
                match plot_run(&result.run_dir, &PlotOptions::default()) {
                    Ok(written) => println!(
                        "wrote {} figures (SVG and PNG) in {}",
                        written.len(),
                        result.run_dir.path.display()
                    ),
                    Err(error) => eprintln!("warning: figures not written: {error}"),
                }
            }
            Ok(())
        }
        Command::Eval {
            run_dir,
            checkpoint,
            split,
            device,
        } => {
            let run = RunDir::new(run_dir);
            if let Some(note) = run.live_note() {
                eprintln!("note: {note}");
            }
            let report = evaluate_run(&run, checkpoint, split, device.as_deref())?;
            print!("{report}");
            println!("wrote {}", run.eval_path().display());
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
                None => default_out_dir(&runs, Path::new("artifacts"))?,
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
                Path::new("artifacts"),
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
        } => {
            let config = Config::load(&config_path, &overrides)?;
            let report = solve_config(&config)?;
            let out = out.unwrap_or_else(|| {
                default_optimum_path(Path::new("artifacts"), &config_name(&config_path))
            });
            report.write_json(&out, force)?;
            print!("{report}");
            println!("wrote {}", out.display());
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
