//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use sgdlab::config::Config;
use sgdlab::train::{Progress, TrainRequest, TrainResult, train};

/// The repository's `configs/NAME.toml`.
pub fn config_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("configs")
        .join(format!("{name}.toml"))
}

pub fn load(name: &str, overrides: &[&str]) -> Config {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    Config::load(&config_path(name), &overrides).expect("shipped config is valid")
}

/// Trains `config` quietly into `run_dir` (which must not exist).
pub fn train_into(config: Config, run_dir: &Path) -> TrainResult {
    train(TrainRequest {
        config,
        name: "test".into(),
        run_dir: Some(run_dir.to_path_buf()),
        resume: false,
        artifacts: run_dir.parent().unwrap().to_path_buf(),
        progress: Progress::Quiet,
    })
    .expect("training succeeds")
}
