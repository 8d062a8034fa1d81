//! The lecture's synthetic 1-D logistic-regression problem.

use super::{Dataset, Targets};
use crate::rng::Rng;
use crate::stats::sigmoid;

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
}
