//! The classic data sets compiled into the binary (see `data/SOURCES.md`), so examples run offline.

use super::csv::parse_csv;
use super::{Dataset, Task};

const BREAST_CANCER_CSV: &str = include_str!("../../data/breast_cancer.csv");
const DIGITS_CSV: &str = include_str!("../../data/digits.csv");
const DIABETES_CSV: &str = include_str!("../../data/diabetes.csv");

/// UCI Wisconsin Diagnostic Breast Cancer: 569 × 30, 2 classes (0 = malignant, 1 = benign).
pub fn breast_cancer() -> Dataset {
    // Compiled-in data, covered by tests: a parse failure is a build defect, not bad input.
    parse_csv(
        BREAST_CANCER_CSV,
        "embedded data/breast_cancer.csv",
        "target",
        None,
        Task::Classification,
        None,
    )
    .expect("embedded breast_cancer.csv is valid")
}

/// UCI Optical Recognition of Handwritten Digits (sklearn's 8×8 set): 1797 × 64 pixels
/// with integer values 0..16, 10 classes.
pub fn digits() -> Dataset {
    parse_csv(
        DIGITS_CSV,
        "embedded data/digits.csv",
        "target",
        None,
        Task::Classification,
        None,
    )
    .expect("embedded digits.csv is valid")
}

/// scikit-learn's diabetes regression set (Efron et al. 2004): 442 patients × 10 baseline
/// variables in their original units (age, sex 1/2, BMI, blood pressure, six serum
/// measurements), target a real measure of disease progression one year later (25..346).
/// The target is not standardized (the project standardizes features only), so the squared
/// error is in the target's units squared.
pub fn diabetes() -> Dataset {
    parse_csv(
        DIABETES_CSV,
        "embedded data/diabetes.csv",
        "target",
        None,
        Task::Regression,
        None,
    )
    .expect("embedded diabetes.csv is valid")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Targets;

    fn class_counts(data: &Dataset) -> Vec<usize> {
        let Targets::Classes { labels, classes } = &data.targets else {
            panic!("expected classes");
        };
        let mut counts = vec![0; *classes];
        for &label in labels {
            counts[label as usize] += 1;
        }
        counts
    }

    #[test]
    fn breast_cancer_shape() {
        let data = breast_cancer();
        assert_eq!((data.len(), data.dim), (569, 30));
        assert_eq!(data.features.len(), 569 * 30);
        assert_eq!(data.classes(), Some(2));
        assert_eq!(class_counts(&data), vec![212, 357]);
        assert_eq!(data.feature_names[0], "mean_radius");
        assert_eq!(data.feature_names[29], "worst_fractal_dimension");
        // First sample of the original data set.
        assert_eq!(data.row(0)[0], 17.99);
    }

    #[test]
    fn digits_shape() {
        let data = digits();
        assert_eq!((data.len(), data.dim), (1797, 64));
        assert_eq!(data.classes(), Some(10));
        assert_eq!(class_counts(&data).iter().sum::<usize>(), 1797);
        assert!(class_counts(&data).iter().all(|&c| c > 170));
        assert_eq!(data.feature_names[63], "pixel_7_7");
        assert!(
            data.features
                .iter()
                .all(|&v| (0.0..=16.0).contains(&v) && v.fract() == 0.0)
        );
    }

    #[test]
    fn diabetes_shape() {
        let data = diabetes();
        assert_eq!((data.len(), data.dim), (442, 10));
        assert_eq!(data.classes(), None);
        assert_eq!(data.feature_names[0], "age");
        assert_eq!(data.feature_names[9], "s6");
        // First patient of the original data: age 59, sex 2, BMI 32.1, target 151.
        assert_eq!(&data.row(0)[..3], &[59.0, 2.0, 32.1]);
        let Targets::Values(values) = &data.targets else {
            panic!("expected real targets");
        };
        assert_eq!(values[0], 151.0);
        assert!(values.iter().all(|v| (25.0..=346.0).contains(v)));
    }
}
