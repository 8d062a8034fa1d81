//! Seeded train / validation / test splits.

use super::Dataset;
use crate::rng::Rng;
use crate::{Result, bail};

/// A data set cut into disjoint parts; `valid` and `test` are `None` when their fraction is 0.
#[derive(Debug, Clone, PartialEq)]
pub struct Splits {
    pub train: Dataset,
    pub valid: Option<Dataset>,
    pub test: Option<Dataset>,
}

/// Shuffle indices `0..n` with `Rng::new(seed)`; the first `round(n * test_fraction)` are the
/// test set, the next `round(n * validation_fraction)` the validation set, the rest training.
/// Each part keeps the shuffled order. A fraction of 0 gives `None`.
///
/// Errors (naming `data.validation_fraction` / `data.test_fraction`) when a fraction is
/// outside `[0, 1)`, a nonzero fraction selects no example, or nothing is left to train on.
pub fn split(
    data: &Dataset,
    validation_fraction: f64,
    test_fraction: f64,
    seed: u64,
) -> Result<Splits> {
    let n = data.len();
    let n_test = part_size("data.test_fraction", test_fraction, n)?;
    let n_valid = part_size("data.validation_fraction", validation_fraction, n)?;
    if n_test + n_valid >= n {
        bail!(
            "data.validation_fraction = {validation_fraction} and data.test_fraction = {test_fraction} leave no training examples out of {n}"
        );
    }
    let mut order: Vec<usize> = (0..n).collect();
    Rng::new(seed).shuffle(&mut order);
    let (test, rest) = order.split_at(n_test);
    let (valid, train) = rest.split_at(n_valid);
    let part = |indices: &[usize]| (!indices.is_empty()).then(|| data.subset(indices));
    Ok(Splits {
        train: data.subset(train),
        valid: part(valid),
        test: part(test),
    })
}

/// `round(n * fraction)`, checked: fraction in `[0, 1)` and nonzero only if it selects something.
fn part_size(key: &str, fraction: f64, n: usize) -> Result<usize> {
    if !(0.0..1.0).contains(&fraction) {
        bail!("{key} must be in [0, 1), got {fraction}");
    }
    let size = (n as f64 * fraction).round() as usize;
    if fraction > 0.0 && size == 0 {
        bail!(
            "{key} = {fraction} selects 0 of {n} examples; set it to 0 for no such split, or raise it"
        );
    }
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Targets;

    fn numbered(n: usize) -> Dataset {
        Dataset {
            features: (0..n).map(|i| i as f32).collect(),
            dim: 1,
            targets: Targets::Classes {
                labels: (0..n).map(|i| (i % 3) as u32).collect(),
                classes: 3,
            },
            feature_names: vec!["id".into()],
        }
    }

    fn ids(data: &Dataset) -> Vec<usize> {
        data.features.iter().map(|&v| v as usize).collect()
    }

    #[test]
    fn sizes_disjoint_and_complete() {
        let data = numbered(101);
        let splits = split(&data, 0.2, 0.1, 7).unwrap();
        let valid = splits.valid.as_ref().unwrap();
        let test = splits.test.as_ref().unwrap();
        assert_eq!((test.len(), valid.len(), splits.train.len()), (10, 20, 71));
        let mut all: Vec<usize> = [ids(&splits.train), ids(valid), ids(test)].concat();
        all.sort_unstable();
        assert_eq!(all, (0..101).collect::<Vec<_>>());
        // Labels travel with their rows, and the class count is kept.
        for part in [&splits.train, valid, test] {
            assert_eq!(part.classes(), Some(3));
            let Targets::Classes { labels, .. } = &part.targets else {
                unreachable!()
            };
            for (id, &label) in ids(part).iter().zip(labels) {
                assert_eq!(label as usize, id % 3);
            }
        }
    }

    #[test]
    fn deterministic_per_seed() {
        let data = numbered(50);
        let a = split(&data, 0.2, 0.2, 1).unwrap();
        let b = split(&data, 0.2, 0.2, 1).unwrap();
        let c = split(&data, 0.2, 0.2, 2).unwrap();
        assert_eq!(a, b);
        assert_ne!(ids(&a.train), ids(&c.train));
    }

    #[test]
    fn shuffled_order_is_kept() {
        let data = numbered(20);
        let splits = split(&data, 0.25, 0.25, 3).unwrap();
        let mut order: Vec<usize> = (0..20).collect();
        Rng::new(3).shuffle(&mut order);
        assert_eq!(ids(splits.test.as_ref().unwrap()), order[..5]);
        assert_eq!(ids(splits.valid.as_ref().unwrap()), order[5..10]);
        assert_eq!(ids(&splits.train), order[10..]);
    }

    #[test]
    fn zero_fraction_gives_none() {
        let data = numbered(10);
        let splits = split(&data, 0.0, 0.0, 0).unwrap();
        assert!(splits.valid.is_none() && splits.test.is_none());
        assert_eq!(splits.train.len(), 10);
        let splits = split(&data, 0.3, 0.0, 0).unwrap();
        assert_eq!(splits.valid.unwrap().len(), 3);
        assert!(splits.test.is_none());
    }

    #[test]
    fn bad_fractions_name_the_key() {
        let data = numbered(10);
        let message = split(&data, 0.01, 0.0, 0).unwrap_err().to_string();
        assert!(
            message.contains("data.validation_fraction = 0.01 selects 0 of 10"),
            "{message}"
        );
        let message = split(&data, 0.0, 0.04, 0).unwrap_err().to_string();
        assert!(message.contains("data.test_fraction"), "{message}");
        let message = split(&data, 0.5, 0.5, 0).unwrap_err().to_string();
        assert!(message.contains("leave no training examples"), "{message}");
        for bad in [-0.1, 1.0, f64::NAN] {
            let message = split(&data, bad, 0.0, 0).unwrap_err().to_string();
            assert!(
                message.contains("data.validation_fraction must be in [0, 1)"),
                "{message}"
            );
        }
        assert!(split(&numbered(0), 0.0, 0.0, 0).is_err());
    }
}
