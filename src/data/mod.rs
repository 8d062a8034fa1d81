//! Data sets in memory, where they come from, and how they are split and standardized.
//!
//! Plain Rust, no Burn: a [`Dataset`] is a row-major `f32` matrix plus targets. Loaders
//! report bad input as one-line [`crate::Error`]s naming the file and line at fault.

mod csv;
mod embedded;
pub mod idx;
pub mod input;
mod mnist;
mod split;
mod standardize;
mod synthetic;

pub use csv::{CsvRecords, csv_field, load_csv};
pub use embedded::{breast_cancer, diabetes, digits};
pub use mnist::{Mnist, load_mnist};
pub use split::{Splits, split};
pub use standardize::Standardizer;
pub use synthetic::{
    lecture_1d, synthetic_classes, synthetic_logistic, write_synthetic_csv, write_synthetic_mnist,
};

/// What is predicted for each example.
#[derive(Debug, Clone, PartialEq)]
pub enum Targets {
    /// Class indices in `0..classes`.
    Classes { labels: Vec<u32>, classes: usize },
    /// Real-valued regression targets.
    Values(Vec<f32>),
}

impl Targets {
    /// Number of examples.
    pub fn len(&self) -> usize {
        match self {
            Targets::Classes { labels, .. } => labels.len(),
            Targets::Values(values) => values.len(),
        }
    }

    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Whether a label column holds classes or real values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    Classification,
    Regression,
}

/// Examples in memory: `features` is row-major with `dim` columns, one row per target.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Row-major, `len() * dim` values.
    pub features: Vec<f32>,
    /// Number of features per example.
    pub dim: usize,
    pub targets: Targets,
    /// One name per feature column, `dim` of them.
    pub feature_names: Vec<String>,
}

impl Dataset {
    /// Number of examples.
    pub fn len(&self) -> usize {
        // Counted from the targets so that it stays right even for `dim == 0`.
        self.targets.len()
    }

    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of classes, `None` for regression.
    pub fn classes(&self) -> Option<usize> {
        match self.targets {
            Targets::Classes { classes, .. } => Some(classes),
            Targets::Values(_) => None,
        }
    }

    /// The task these targets belong to.
    pub fn task(&self) -> Task {
        match self.targets {
            Targets::Classes { .. } => Task::Classification,
            Targets::Values(_) => Task::Regression,
        }
    }

    /// Features of example `i`.
    ///
    /// # Panics
    /// If `i >= len()`, like slice indexing.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.features[i * self.dim..(i + 1) * self.dim]
    }

    /// The examples at `indices`, in that order (repeats allowed); keeps the class count
    /// so that a split missing some class still has the full output width.
    ///
    /// # Panics
    /// If an index is out of range, like slice indexing.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let mut features = Vec::with_capacity(indices.len() * self.dim);
        for &i in indices {
            features.extend_from_slice(self.row(i));
        }
        let targets = match &self.targets {
            Targets::Classes { labels, classes } => Targets::Classes {
                labels: indices.iter().map(|&i| labels[i]).collect(),
                classes: *classes,
            },
            Targets::Values(values) => {
                Targets::Values(indices.iter().map(|&i| values[i]).collect())
            }
        };
        Dataset {
            features,
            dim: self.dim,
            targets,
            feature_names: self.feature_names.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Dataset {
        Dataset {
            features: vec![0.0, 1.0, 10.0, 11.0, 20.0, 21.0],
            dim: 2,
            targets: Targets::Classes {
                labels: vec![0, 1, 0],
                classes: 3,
            },
            feature_names: vec!["a".into(), "b".into()],
        }
    }

    #[test]
    fn rows_and_subset() {
        let data = tiny();
        assert_eq!(data.len(), 3);
        assert!(!data.is_empty());
        assert_eq!(data.row(1), &[10.0, 11.0]);
        let sub = data.subset(&[2, 0]);
        assert_eq!(sub.features, vec![20.0, 21.0, 0.0, 1.0]);
        assert_eq!(
            sub.targets,
            Targets::Classes {
                labels: vec![0, 0],
                classes: 3
            }
        );
        assert_eq!(sub.classes(), Some(3));
        assert_eq!(sub.task(), Task::Classification);
        assert!(data.subset(&[]).is_empty());
    }

    #[test]
    fn regression_has_no_classes() {
        let data = Dataset {
            features: vec![1.0, 2.0],
            dim: 1,
            targets: Targets::Values(vec![0.5, 1.5]),
            feature_names: vec!["x".into()],
        };
        assert_eq!(data.classes(), None);
        assert_eq!(data.task(), Task::Regression);
        assert_eq!(data.subset(&[1]).targets, Targets::Values(vec![1.5]));
    }
}
