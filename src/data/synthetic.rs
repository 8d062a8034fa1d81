//! Synthetic data sets, each drawn from its own seed: the lecture's 1-D logistic problem
//! ([`lecture_1d`], a `data.source`), logistic data in d dimensions ([`synthetic_logistic`],
//! the `gd-vs-sgd` experiment), class-labelled noise of any shape ([`synthetic_classes`], for
//! timing, where the values do not matter) and files for the loaders, a CSV
//! ([`write_synthetic_csv`]) and MNIST's four IDX files ([`write_synthetic_mnist`]), which
//! `sgdlab bench` trains on.

use std::path::Path;

use super::idx::write_idx;
use super::{Dataset, Targets};
use crate::rng::Rng;
use crate::stats::sigmoid;
use crate::{Error, Result};

/// `n` examples with `x_i ~ N(0, 1)` and `y_i ~ Bernoulli(σ(a_star·x_i + b_star))`, drawn in
/// the order x₀, y₀, x₁, y₁, ... from `Rng::new(seed)`. Classes 2, dim 1, feature `"x"`.
pub fn lecture_1d(n: usize, a_star: f64, b_star: f64, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed);
    let mut features = Vec::with_capacity(n);
    let mut labels = Vec::with_capacity(n);
    for _ in 0..n {
        // Sample y from the x actually stored (f32), so the model holds exactly for the data.
        let x = rng.normal() as f32;
        let p = sigmoid(a_star * f64::from(x) + b_star);
        features.push(x);
        labels.push(u32::from(rng.bernoulli(p)));
    }
    Dataset {
        features,
        dim: 1,
        targets: Targets::Classes { labels, classes: 2 },
        feature_names: vec!["x".to_string()],
    }
}

/// n examples `x ~ N(0, I_d)` with `y ~ Bernoulli(σ(w*·x))`, `w*_j ~ N(0, 4/d)` (so w*·x has
/// standard deviation 2, as in the lecture's 1-D problem), all from `Rng::new(seed)`: the d
/// weights first, then x₀ (d draws), y₀, x₁, y₁, ...; σ is taken of the f64 draws, the
/// features stored as f32. Features `x0..`.
pub fn synthetic_logistic(n: usize, d: usize, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed);
    let scale = 2.0 / (d as f64).sqrt();
    let w_star: Vec<f64> = (0..d).map(|_| scale * rng.normal()).collect();
    logistic_examples(n, &w_star, &mut rng)
}

/// n examples `x ~ N(0, I_d)` (d = `weights.len()`) with `y ~ Bernoulli(σ(weights·x))`, drawn
/// from `rng` in the order x₀ (d draws), y₀, x₁, y₁, ...; `weights·x` is taken of the f64
/// draws, the features stored as f32. Features `x0..`.
fn logistic_examples(n: usize, weights: &[f64], rng: &mut Rng) -> Dataset {
    let dim = weights.len();
    let mut features = Vec::with_capacity(n * dim);
    let mut labels = Vec::with_capacity(n);
    for _ in 0..n {
        let mut z = 0.0;
        for w in weights {
            let x = rng.normal();
            z += w * x;
            features.push(x as f32);
        }
        labels.push(u32::from(rng.bernoulli(sigmoid(z))));
    }
    Dataset {
        features,
        dim,
        targets: Targets::Classes { labels, classes: 2 },
        feature_names: numbered_features(dim),
    }
}

/// `n` examples of `dim` standard-normal features `x0..` and uniform labels in `0..classes`,
/// from `Rng::new(seed)` (all the features, then all the labels): data of a given shape for
/// timing, whose values nothing is learned from.
pub fn synthetic_classes(n: usize, dim: usize, classes: usize, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed);
    let features = (0..n * dim).map(|_| rng.normal() as f32).collect();
    let labels = (0..n).map(|_| rng.below(classes) as u32).collect();
    Dataset {
        features,
        dim,
        targets: Targets::Classes { labels, classes },
        feature_names: numbered_features(dim),
    }
}

/// A CSV of `n` rows: `dim` standard-normal features `x0..` (six decimals) and a label `y`
/// drawn from a logistic model with every weight 1/√dim, so the classes overlap as real data's
/// do; x₀ (dim draws), y₀, x₁, y₁, ... from `Rng::new(seed)`.
pub fn write_synthetic_csv(path: &Path, n: usize, dim: usize, seed: u64) -> Result<()> {
    let weights = vec![1.0 / (dim as f64).sqrt(); dim];
    let data = logistic_examples(n, &weights, &mut Rng::new(seed));
    let Targets::Classes { labels, .. } = &data.targets else {
        unreachable!("logistic examples have class labels")
    };
    let mut text = data.feature_names.join(",");
    text.push_str(",y\n");
    for (i, y) in labels.iter().enumerate() {
        for value in data.row(i) {
            text.push_str(&format!("{value:.6},"));
        }
        text.push_str(&format!("{y}\n"));
    }
    std::fs::write(path, text).map_err(|e| Error::io("write", path, e))
}

/// The four MNIST IDX files in `dir` (created), random pixels and labels: MNIST's shapes
/// (28 × 28, 10 classes) with `train` and `test` images, uncompressed.
pub fn write_synthetic_mnist(dir: &Path, train: usize, test: usize, seed: u64) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    let mut rng = Rng::new(seed);
    for (prefix, n) in [("train", train), ("t10k", test)] {
        let pixels: Vec<u8> = (0..n * 784).map(|_| rng.below(256) as u8).collect();
        let labels: Vec<u8> = (0..n).map(|_| rng.below(10) as u8).collect();
        write_idx(
            &dir.join(format!("{prefix}-images-idx3-ubyte")),
            &[n, 28, 28],
            &pixels,
            false,
        )?;
        write_idx(
            &dir.join(format!("{prefix}-labels-idx1-ubyte")),
            &[n],
            &labels,
            false,
        )?;
    }
    Ok(())
}

/// `x0`, `x1`, ..., `x{dim − 1}`.
fn numbered_features(dim: usize) -> Vec<String> {
    (0..dim).map(|j| format!("x{j}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_per_seed() {
        assert_eq!(lecture_1d(100, 2.0, -0.5, 9), lecture_1d(100, 2.0, -0.5, 9));
        assert_ne!(
            lecture_1d(100, 2.0, -0.5, 9),
            lecture_1d(100, 2.0, -0.5, 10)
        );
        let data = lecture_1d(5, 1.0, 0.0, 0);
        assert_eq!((data.len(), data.dim, data.classes()), (5, 1, Some(2)));
        assert_eq!(data.feature_names, vec!["x"]);
        assert!(lecture_1d(0, 1.0, 0.0, 0).is_empty());
    }

    #[test]
    fn label_rate_matches_the_model() {
        let (a, b) = (1.5, 0.7);
        let data = lecture_1d(20_000, a, b, 3);
        let Targets::Classes { labels, .. } = &data.targets else {
            unreachable!()
        };
        let n = data.len() as f64;
        let positive_rate = labels.iter().map(|&y| f64::from(y)).sum::<f64>() / n;
        let model_rate = data
            .features
            .iter()
            .map(|&x| sigmoid(a * f64::from(x) + b))
            .sum::<f64>()
            / n;
        // Bernoulli noise on the mean: std ≤ 0.5 / sqrt(20000) ≈ 0.0035.
        assert!(
            (positive_rate - model_rate).abs() < 0.015,
            "{positive_rate} vs {model_rate}"
        );
        // The x's themselves are standard normal.
        let mean_x = data.features.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
        assert!(mean_x.abs() < 0.05, "{mean_x}");
    }

    #[test]
    fn synthetic_logistic_follows_its_model() {
        let data = synthetic_logistic(4_000, 5, 6);
        assert_eq!(data, synthetic_logistic(4_000, 5, 6));
        assert_eq!((data.len(), data.dim, data.classes()), (4_000, 5, Some(2)));
        assert_eq!(data.feature_names, ["x0", "x1", "x2", "x3", "x4"]);
        // w* is the first draws of the stream; the labels' mean matches σ(w*·x)'s.
        let mut rng = Rng::new(6);
        let scale = 2.0 / 5f64.sqrt();
        let w_star: Vec<f64> = (0..5).map(|_| scale * rng.normal()).collect();
        let Targets::Classes { labels, .. } = &data.targets else {
            unreachable!()
        };
        let n = data.len() as f64;
        let positive_rate = labels.iter().map(|&y| f64::from(y)).sum::<f64>() / n;
        let model_rate = (0..data.len())
            .map(|i| {
                let z: f64 = data
                    .row(i)
                    .iter()
                    .zip(&w_star)
                    .map(|(&x, w)| w * f64::from(x))
                    .sum();
                sigmoid(z)
            })
            .sum::<f64>()
            / n;
        assert!(
            (positive_rate - model_rate).abs() < 0.03,
            "{positive_rate} vs {model_rate}"
        );
    }

    #[test]
    fn synthetic_classes_has_the_asked_shape() {
        let data = synthetic_classes(50, 3, 4, 1);
        assert_eq!(data, synthetic_classes(50, 3, 4, 1));
        assert_eq!((data.len(), data.dim, data.classes()), (50, 3, Some(4)));
        assert_eq!(data.features.len(), 150);
        let Targets::Classes { labels, .. } = &data.targets else {
            unreachable!()
        };
        assert!(labels.iter().all(|&y| y < 4));
    }

    #[test]
    fn the_written_files_load_back() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("logistic.csv");
        write_synthetic_csv(&csv, 20, 3, 3).unwrap();
        let text = std::fs::read_to_string(&csv).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 21);
        assert_eq!(lines[0], "x0,x1,x2,y");
        for line in &lines[1..] {
            let cells: Vec<&str> = line.split(',').collect();
            assert_eq!(cells.len(), 4, "{line}");
            assert!(
                cells[..3].iter().all(|c| c.parse::<f64>().is_ok()),
                "{line}"
            );
            assert!(cells[3] == "0" || cells[3] == "1", "{line}");
        }
        let mnist = dir.path().join("mnist");
        write_synthetic_mnist(&mnist, 12, 5, 11).unwrap();
        let images = super::super::idx::read_idx(&mnist.join("train-images-idx3-ubyte")).unwrap();
        assert_eq!(images.dims, [12, 28, 28]);
        let labels = super::super::idx::read_idx(&mnist.join("t10k-labels-idx1-ubyte")).unwrap();
        assert_eq!(labels.dims, [5]);
        assert!(labels.data.iter().all(|&y| y < 10));
    }
}
