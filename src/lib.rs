//! sgdlab: the lecture on stochastic gradient descent as measured software on Burn.
//!
//! A run flows one way: a [`config`] names the data ([`data`], split and standardized by
//! [`prepare`], batched by [`batch`]), the [`model`] and the [`optim`]izer with its schedule
//! (whose settings the config section holds);
//! [`train`] runs burn-train's learner and writes the run directory ([`run_dir`]), which
//! [`eval`] reads back, [`predict`] applies to new data and [`plot`] draws.
//!
//! Layers, lowest first. A module imports only from its own layer or a lower one, and the
//! modules form no cycle (`tests/layers.rs` reads this list and checks both):
//!
//! 1. [`error`], [`checks`], [`rng`], [`stats`], [`files`], [`device`]: errors, value checks, seeded randomness, statistics, file writing, devices
//! 2. [`optim`]: the optimizers and schedules, each with its settings (`[optimizer]`, `[schedule]` keys)
//! 3. [`config`]: the TOML config, its sections and validation
//! 4. [`data`], [`prepare`], [`batch`]: data sets, their split and scaling, mini-batches
//! 5. [`model`], [`solve`]: the models and their evaluation, the exact optimum
//! 6. [`run_dir`]: a run directory's layout and its files' readers and writers
//! 7. [`train`]: burn-train's learner, the line-search loop, checkpoints and resume
//! 8. [`eval`], [`predict`], [`schedule_table`], [`plot`], [`runs`], [`serve`]: commands and figures over runs and configs, the remote device server
//! 9. [`experiment`], [`bench`](mod@bench), [`sweep`]: the lecture's experiments, the benchmarks, grids of runs

pub mod batch;
pub mod bench;
pub mod checks;
pub mod config;
pub mod data;
pub mod device;
pub mod error;
pub mod eval;
pub mod experiment;
pub mod files;
pub mod model;
pub mod optim;
pub mod plot;
pub mod predict;
pub mod prepare;
pub mod rng;
pub mod run_dir;
pub mod runs;
pub mod schedule_table;
pub mod serve;
pub mod solve;
pub mod stats;
pub mod sweep;
pub mod train;

pub use error::{Error, ErrorKind, Result};
