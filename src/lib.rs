//! sgdlab: the lecture on stochastic gradient descent as measured software on Burn.
//!
//! A run flows one way: a [`config`] names the data ([`data`], split and standardized by
//! [`prepare`], batched by [`batch`]), the [`model`] and the [`optim`]izer with its schedule;
//! [`train`] runs burn-train's learner and writes the run directory ([`run_dir`]), which
//! [`eval`] reads back, [`predict`] applies to new data and [`plot`] draws.
//!
//! Layers, lowest first. A module imports only from its own layer or a lower one, and the
//! modules form no cycle (`tests/layers.rs` reads this list and checks both):
//!
//! 1. [`error`], [`rng`], [`files`], [`device`]: errors, seeded randomness, file writing, devices
//! 2. [`config`]: the TOML config, its typed sections and validation
//! 3. [`data`], [`prepare`], [`batch`]: data sets, their split and scaling, mini-batches
//! 4. [`model`], [`optim`], [`solve`]: the models and their evaluation, the optimizers and schedules, the exact optimum
//! 5. [`run_dir`]: a run directory's layout and its files' readers and writers
//! 6. [`train`]: burn-train's learner, the line-search loop, checkpoints and resume
//! 7. [`eval`], [`predict`], [`schedule_table`], [`plot`]: commands and figures over runs and configs
//! 8. [`experiment`], [`bench`]: the lecture's experiments and the benchmarks

pub mod batch;
pub mod bench;
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
pub mod schedule_table;
pub mod solve;
pub mod train;

pub use error::{Error, ErrorKind, Result};
