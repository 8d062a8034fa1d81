//! sgdlab: the lecture on stochastic gradient descent as measured software on Burn.
//!
//! Data flows one way: [`config`] → [`data`] (through [`prepare`]) → [`batch`] → [`model`] →
//! [`optim`] → [`train`] → the run directory ([`run_dir`]), which [`eval`] reads back and
//! [`plot`] draws.

pub mod batch;
pub mod bench;
pub mod config;
pub mod data;
pub mod device;
pub mod error;
pub mod eval;
pub mod experiment;
pub mod model;
pub mod optim;
pub mod plot;
pub mod prepare;
pub mod rng;
pub mod run_dir;
pub mod schedule_table;
pub mod solve;
pub mod stats;
pub mod train;

pub use error::{Error, ErrorKind, Result};
