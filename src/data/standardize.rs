//! Feature-wise standardization, fitted on the training split only.

use super::Dataset;
use crate::{Result, bail};

/// Per-feature `(x - mean) / scale`, fitted on training data and stored with a run (JSON).
///
/// `scale` is the population standard deviation, or 1 for a constant column so that
/// it maps to 0 instead of dividing by zero.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Standardizer {
    pub mean: Vec<f32>,
    pub scale: Vec<f32>,
}

impl Standardizer {
    /// Fit on `data` (the training split). Sums run in f64; results are stored as f32.
    pub fn fit(data: &Dataset) -> Self {
        let n = data.len();
        let dim = data.dim;
        if n == 0 {
            return Self::identity(dim);
        }
        let mut sum = vec![0.0f64; dim];
        for i in 0..n {
            for (s, &x) in sum.iter_mut().zip(data.row(i)) {
                *s += f64::from(x);
            }
        }
        let mean: Vec<f64> = sum.iter().map(|s| s / n as f64).collect();
        // Second pass on deviations: no catastrophic cancellation as with E[x²] - E[x]².
        let mut squares = vec![0.0f64; dim];
        let mut constant = vec![true; dim];
        let first = data.row(0);
        for i in 0..n {
            for (j, &x) in data.row(i).iter().enumerate() {
                squares[j] += (f64::from(x) - mean[j]).powi(2);
                constant[j] &= x == first[j];
            }
        }
        let scale = squares
            .iter()
            .zip(&constant)
            .map(|(&sq, &constant)| {
                let std = (sq / n as f64).sqrt() as f32;
                // Rounding could leave a tiny nonzero "std" for a constant column, and a
                // subnormal scale would blow values up: both mean "nothing to scale".
                if constant || !std.is_normal() {
                    1.0
                } else {
                    std
                }
            })
            .collect();
        Self {
            mean: mean.iter().map(|&m| m as f32).collect(),
            scale,
        }
    }

    /// Mean 0 and scale 1 for every feature: `apply` leaves data unchanged.
    pub fn identity(dim: usize) -> Self {
        Self {
            mean: vec![0.0; dim],
            scale: vec![1.0; dim],
        }
    }

    /// Check that this standardizer (e.g. one read back from JSON) fits data with `dim`
    /// features, so that [`Standardizer::apply`] cannot panic.
    pub fn validate(&self, dim: usize) -> Result<()> {
        if self.mean.len() != self.scale.len() {
            bail!(
                "standardizer has {} means but {} scales",
                self.mean.len(),
                self.scale.len()
            );
        }
        if self.mean.len() != dim {
            bail!(
                "standardizer was fitted on {} features but the data has {dim}",
                self.mean.len()
            );
        }
        if let Some(j) = self.mean.iter().position(|m| !m.is_finite()) {
            bail!("standardizer mean[{j}] = {} is not finite", self.mean[j]);
        }
        if let Some(j) = self.scale.iter().position(|s| !(s.is_finite() && *s > 0.0)) {
            bail!(
                "standardizer scale[{j}] = {} is not a positive finite number",
                self.scale[j]
            );
        }
        Ok(())
    }

    /// Standardize `data` in place, computing in f64 from the stored f32 parameters so a
    /// standardizer reloaded from JSON gives bit-identical features.
    ///
    /// # Panics
    /// If `data.dim` differs from the fitted dimension; [`Standardizer::validate`] checks first.
    pub fn apply(&self, data: &mut Dataset) {
        assert_eq!(
            self.mean.len(),
            data.dim,
            "standardizer dimension differs from the data's"
        );
        assert_eq!(
            self.scale.len(),
            data.dim,
            "standardizer has mismatched scale"
        );
        self.apply_rows(&mut data.features);
    }

    /// Standardizes row-major `features`, rows of the fitted dimension, as
    /// [`Standardizer::apply`] does a data set's.
    pub fn apply_rows(&self, features: &mut [f32]) {
        let dim = self.mean.len();
        if dim == 0 {
            return;
        }
        for row in features.chunks_exact_mut(dim) {
            for ((x, &mean), &scale) in row.iter_mut().zip(&self.mean).zip(&self.scale) {
                *x = ((f64::from(*x) - f64::from(mean)) / f64::from(scale)) as f32;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Targets, split};

    fn column_moments(data: &Dataset, j: usize) -> (f64, f64) {
        let n = data.len() as f64;
        let values: Vec<f64> = (0..data.len()).map(|i| f64::from(data.row(i)[j])).collect();
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        (mean, var.sqrt())
    }

    #[test]
    fn training_split_gets_zero_mean_unit_std() {
        let data = crate::data::breast_cancer();
        let mut splits = split(&data, 0.2, 0.2, 11).unwrap();
        let standardizer = Standardizer::fit(&splits.train);
        standardizer.validate(30).unwrap();
        standardizer.apply(&mut splits.train);
        for j in 0..30 {
            let (mean, std) = column_moments(&splits.train, j);
            assert!(mean.abs() < 1e-5, "column {j} mean {mean}");
            assert!((std - 1.0).abs() < 1e-5, "column {j} std {std}");
        }
        // The validation split is transformed with the training statistics, not its own.
        let mut valid = splits.valid.unwrap();
        let before = valid.row(0)[0];
        standardizer.apply(&mut valid);
        let expected = (f64::from(before) - f64::from(standardizer.mean[0]))
            / f64::from(standardizer.scale[0]);
        assert_eq!(valid.row(0)[0], expected as f32);
    }

    #[test]
    fn constant_column_is_safe() {
        let mut data = Dataset {
            features: vec![0.1, 1.0, 0.1, 2.0, 0.1, 3.0],
            dim: 2,
            targets: Targets::Values(vec![0.0; 3]),
            feature_names: vec!["c".into(), "v".into()],
        };
        let standardizer = Standardizer::fit(&data);
        assert_eq!(standardizer.scale[0], 1.0);
        assert_eq!(standardizer.mean[1], 2.0);
        standardizer.apply(&mut data);
        assert!(data.features.iter().all(|v| v.is_finite()));
        assert_eq!([data.row(0)[0], data.row(1)[0], data.row(2)[0]], [0.0; 3]);
        assert_eq!(data.row(1)[1], 0.0);
    }

    #[test]
    fn json_round_trip_and_validation() {
        let standardizer = Standardizer::fit(&crate::data::digits());
        let json = serde_json::to_string(&standardizer).unwrap();
        let back: Standardizer = serde_json::from_str(&json).unwrap();
        assert_eq!(back, standardizer);
        assert!(
            back.validate(63)
                .unwrap_err()
                .to_string()
                .contains("64 features")
        );
        let broken = Standardizer {
            mean: vec![0.0],
            scale: vec![0.0],
        };
        assert!(
            broken
                .validate(1)
                .unwrap_err()
                .to_string()
                .contains("scale[0]")
        );
    }

    #[test]
    fn empty_data_fits_identity() {
        let data = Dataset {
            features: vec![],
            dim: 2,
            targets: Targets::Values(vec![]),
            feature_names: vec!["a".into(), "b".into()],
        };
        assert_eq!(Standardizer::fit(&data), Standardizer::identity(2));
    }
}
