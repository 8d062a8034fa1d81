//! The figures `sgdlab eval` reports beyond loss and accuracy, as scikit-learn computes them:
//! the classification report (per class precision, recall, F1 and support; macro and
//! weighted averages), ROC AUC for binary problems, and MSE, RMSE, MAE and R² for regression.
//!
//! For class c with TP true positives, FP false positives and FN false negatives:
//!
//! ```text
//! precision = TP / (TP + FP)      recall = TP / (TP + FN)      support = TP + FN
//! F1 = 2 TP / (2 TP + FP + FN)    (= 2 P R / (P + R) where both are defined)
//! ```
//!
//! A value whose denominator is 0 is undefined: precision of a class never predicted, recall of
//! a class absent from the labels. It is reported as `None` (`null` in `eval.json`), and the
//! macro and weighted averages count it as 0, as scikit-learn's `classification_report` does
//! with its default `zero_division`, so the averages are the ones scikit-learn prints. The
//! report lists the classes that occur in the labels or the predictions (scikit-learn's
//! default `labels`).
//!
//! ROC AUC is the probability that a random positive example (class 1) scores above a random
//! negative one, ties counting one half: the Mann–Whitney statistic `U / (n₊ n₋)`, which is
//! the area under the ROC curve scikit-learn's `roc_auc_score` integrates. It is undefined
//! when the labels hold one class only.
//!
//! Regression, for predictions ŷ and targets y over n examples:
//!
//! ```text
//! MSE = (1/n) Σ (ŷ − y)²    RMSE = √MSE    MAE = (1/n) Σ |ŷ − y|
//! R² = 1 − Σ (ŷ − y)² / Σ (y − ȳ)²
//! ```
//!
//! R² is undefined for a constant target (Σ (y − ȳ)² = 0): `None`. (scikit-learn's
//! `r2_score` returns 1.0 or 0.0 there by convention.)

use serde::Serialize;

/// One class's row of the classification report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassScores {
    /// The class index.
    pub class: usize,
    /// The class's name (`data.classes`), or its index.
    pub name: String,
    /// `None` when the class is never predicted.
    pub precision: Option<f64>,
    /// `None` when the class does not occur in the labels.
    pub recall: Option<f64>,
    pub f1: f64,
    /// Examples of this class in the labels.
    pub support: u64,
}

/// Precision, recall and F1 averaged over the report's classes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Averages {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Examples counted (all of them).
    pub support: u64,
}

/// scikit-learn's `classification_report`, and ROC AUC for a binary problem.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassificationReport {
    /// The classes occurring in the labels or the predictions, by index.
    pub per_class: Vec<ClassScores>,
    /// The unweighted mean over `per_class` (an undefined value counting 0).
    pub macro_avg: Averages,
    /// The mean over `per_class` weighted by support (an undefined value counting 0).
    pub weighted_avg: Averages,
    /// Binary problems only (absent from `eval.json` otherwise); `null` when the labels hold
    /// one class.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roc_auc: Option<Option<f64>>,
}

impl ClassificationReport {
    /// The report of `confusion[true][predicted]`, classes named by `names` (else by index).
    pub fn from_confusion(confusion: &[Vec<u64>], names: Option<&[String]>) -> Self {
        let k = confusion.len();
        let predicted = |c: usize| confusion.iter().map(|row| row[c]).sum::<u64>();
        let ratio = |num: u64, den: u64| (den > 0).then(|| num as f64 / den as f64);
        let per_class: Vec<ClassScores> = (0..k)
            .filter_map(|c| {
                let tp = confusion[c][c];
                let support: u64 = confusion[c].iter().sum();
                let predicted = predicted(c);
                if support == 0 && predicted == 0 {
                    return None;
                }
                let (fp, fn_) = (predicted - tp, support - tp);
                Some(ClassScores {
                    class: c,
                    name: names
                        .and_then(|names| names.get(c).cloned())
                        .unwrap_or_else(|| c.to_string()),
                    precision: ratio(tp, predicted),
                    recall: ratio(tp, support),
                    // 2TP + FP + FN > 0 for every class listed.
                    f1: 2.0 * tp as f64 / (2 * tp + fp + fn_) as f64,
                    support,
                })
            })
            .collect();
        let total: u64 = per_class.iter().map(|c| c.support).sum();
        let average = |weight: &dyn Fn(&ClassScores) -> f64| {
            let weights: f64 = per_class.iter().map(weight).sum();
            let mean = |value: &dyn Fn(&ClassScores) -> f64| {
                if weights > 0.0 {
                    per_class.iter().map(|c| weight(c) * value(c)).sum::<f64>() / weights
                } else {
                    0.0
                }
            };
            Averages {
                precision: mean(&|c| c.precision.unwrap_or(0.0)),
                recall: mean(&|c| c.recall.unwrap_or(0.0)),
                f1: mean(&|c| c.f1),
                support: total,
            }
        };
        Self {
            macro_avg: average(&|_| 1.0),
            weighted_avg: average(&|c| c.support as f64),
            per_class,
            roc_auc: None,
        }
    }
}

/// ROC AUC of `scores` (higher: more likely class 1) against `positive` labels, ties between
/// scores counting one half; `None` when the labels are all positive or all negative.
pub fn roc_auc(scores: &[f64], positive: &[bool]) -> Option<f64> {
    assert_eq!(scores.len(), positive.len(), "one label per score");
    let positives = positive.iter().filter(|&&p| p).count();
    let negatives = positive.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // The sum of the positives' ranks (1-based), tied scores sharing their mean rank.
    let mut rank_sum = 0.0f64;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        let mean_rank = (start + 1 + end) as f64 / 2.0;
        let tied_positives = order[start..end].iter().filter(|&&i| positive[i]).count();
        rank_sum += mean_rank * tied_positives as f64;
        start = end;
    }
    let (p, n) = (positives as f64, negatives as f64);
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * n))
}

/// MSE, RMSE, MAE and R² of a regression.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RegressionReport {
    pub mse: f64,
    pub rmse: f64,
    pub mae: f64,
    /// `None` when the target is constant.
    pub r2: Option<f64>,
}

/// Accumulates a regression's errors one example at a time, in f64 (the target's spread by
/// Welford's update, so R² loses nothing to cancellation), so any number of examples takes
/// constant memory.
#[derive(Debug, Clone, Default)]
pub struct RegressionErrors {
    count: u64,
    squared: f64,
    absolute: f64,
    target_mean: f64,
    /// Σ (y − ȳ)² so far.
    target_spread: f64,
}

impl RegressionErrors {
    /// Adds one example: the prediction and its target.
    pub fn add(&mut self, predicted: f64, target: f64) {
        let error = predicted - target;
        self.count += 1;
        self.squared += error * error;
        self.absolute += error.abs();
        let delta = target - self.target_mean;
        self.target_mean += delta / self.count as f64;
        self.target_spread += delta * (target - self.target_mean);
    }

    /// The report so far (zeros for no examples).
    pub fn report(&self) -> RegressionReport {
        let n = self.count.max(1) as f64;
        let mse = self.squared / n;
        RegressionReport {
            mse,
            rmse: mse.sqrt(),
            mae: self.absolute / n,
            r2: (self.target_spread > 0.0).then(|| 1.0 - self.squared / self.target_spread),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    /// Three classes, 10 examples; true labels and predictions:
    /// y = [0,0,0,0,1,1,1,2,2,2], ŷ = [0,0,1,2,1,1,0,2,2,1].
    /// Class 0: TP 2, FP 1 (the 1 predicted 0), FN 2 → P 2/3, R 1/2, F1 4/7, support 4.
    /// Class 1: TP 2, FP 2, FN 1 → P 1/2, R 2/3, F1 4/7, support 3.
    /// Class 2: TP 2, FP 1, FN 1 → P 2/3, R 2/3, F1 2/3, support 3.
    #[test]
    fn a_three_class_report_by_hand() {
        let confusion = vec![vec![2, 1, 1], vec![1, 2, 0], vec![0, 1, 2]];
        let report = ClassificationReport::from_confusion(&confusion, None);
        let expected = [
            (2.0 / 3.0, 0.5, 4.0 / 7.0, 4),
            (0.5, 2.0 / 3.0, 4.0 / 7.0, 3),
            (2.0 / 3.0, 2.0 / 3.0, 2.0 / 3.0, 3),
        ];
        assert_eq!(report.per_class.len(), 3);
        for (row, (p, r, f1, support)) in report.per_class.iter().zip(expected) {
            assert!(close(row.precision.unwrap(), p), "{row:?}");
            assert!(close(row.recall.unwrap(), r), "{row:?}");
            assert!(close(row.f1, f1), "{row:?}");
            assert_eq!(row.support, support);
        }
        // Macro: the plain means. Weighted: by support 4, 3, 3 over 10.
        let m = report.macro_avg;
        assert!(close(m.precision, (2.0 / 3.0 + 0.5 + 2.0 / 3.0) / 3.0));
        assert!(close(m.recall, (0.5 + 2.0 / 3.0 + 2.0 / 3.0) / 3.0));
        assert!(close(m.f1, (4.0 / 7.0 + 4.0 / 7.0 + 2.0 / 3.0) / 3.0));
        let w = report.weighted_avg;
        assert!(close(
            w.precision,
            (4.0 * 2.0 / 3.0 + 3.0 * 0.5 + 3.0 * 2.0 / 3.0) / 10.0
        ));
        // The weighted recall is the accuracy, 6/10.
        assert!(close(w.recall, 0.6));
        assert!(close(
            w.f1,
            (4.0 * 4.0 / 7.0 + 3.0 * 4.0 / 7.0 + 3.0 * 2.0 / 3.0) / 10.0
        ));
        assert_eq!((m.support, w.support), (10, 10));
        assert_eq!(report.per_class[1].name, "1");
    }

    /// y = [0,0,1,1,2], ŷ = [0,0,0,1,1]: class 2 is never predicted, so its precision is
    /// undefined (counted 0 in the averages); its recall is 0 and F1 = 0/(0+0+1) = 0.
    #[test]
    fn a_class_never_predicted_has_no_precision() {
        let confusion = vec![vec![2, 0, 0], vec![1, 1, 0], vec![0, 1, 0]];
        let names = ["cat".to_string(), "dog".into(), "eel".into()];
        let report = ClassificationReport::from_confusion(&confusion, Some(&names));
        let eel = &report.per_class[2];
        assert_eq!((eel.name.as_str(), eel.precision), ("eel", None));
        assert_eq!((eel.recall, eel.f1, eel.support), (Some(0.0), 0.0, 1));
        // Class 0: P 2/3, R 1; class 1: P 1/2, R 1/2.
        let m = report.macro_avg;
        assert!(close(m.precision, (2.0 / 3.0 + 0.5 + 0.0) / 3.0));
        assert!(close(m.recall, (1.0 + 0.5 + 0.0) / 3.0));
        assert!(close(m.f1, (0.8 + 0.5 + 0.0) / 3.0));
        let w = report.weighted_avg;
        assert!(close(w.precision, (2.0 * 2.0 / 3.0 + 2.0 * 0.5) / 5.0));
    }

    /// y = [0,0,0], ŷ = [0,1,0] of a binary model: class 1 is absent from the labels (recall
    /// undefined) and predicted once (precision 0); class 0 has P 1, R 2/3. A class that is
    /// neither in the labels nor predicted is left out of the report.
    #[test]
    fn a_single_class_in_the_labels() {
        let confusion = vec![vec![2, 1], vec![0, 0]];
        let report = ClassificationReport::from_confusion(&confusion, None);
        let one = &report.per_class[1];
        assert_eq!((one.precision, one.recall, one.f1), (Some(0.0), None, 0.0));
        assert_eq!(one.support, 0);
        let zero = &report.per_class[0];
        assert!(close(zero.recall.unwrap(), 2.0 / 3.0));
        assert!(close(zero.f1, 0.8));
        assert!(close(report.macro_avg.recall, (2.0 / 3.0) / 2.0));
        // Weighted by support: class 1 weighs nothing.
        assert!(close(report.weighted_avg.f1, 0.8));

        let all_zero = vec![vec![3, 0, 0], vec![0, 0, 0], vec![0, 0, 0]];
        let report = ClassificationReport::from_confusion(&all_zero, None);
        assert_eq!(report.per_class.len(), 1);
        assert_eq!(report.macro_avg.f1, 1.0);
    }

    /// Scores 0.1, 0.4, 0.35, 0.8 for labels 0, 0, 1, 1 (scikit-learn's documented example):
    /// of the 4 positive-negative pairs, (0.35 vs 0.4) is the only one ordered wrongly: 3/4.
    #[test]
    fn roc_auc_by_pairs() {
        let labels = [false, false, true, true];
        assert_eq!(roc_auc(&[0.1, 0.4, 0.35, 0.8], &labels), Some(0.75));
        // A tie between a positive and a negative counts one half: pairs (a,c), (a,d), (b,d)
        // right, (b,c) tied: 3.5/4.
        assert_eq!(roc_auc(&[0.1, 0.4, 0.4, 0.8], &labels), Some(0.875));
        assert_eq!(roc_auc(&[1.0, 1.0, 1.0, 1.0], &labels), Some(0.5));
        assert_eq!(roc_auc(&[0.9, 0.8, 0.1, 0.2], &labels), Some(0.0));
        assert_eq!(roc_auc(&[0.1, 0.2], &[true, true]), None);
        assert_eq!(roc_auc(&[0.1, 0.2], &[false, false]), None);
    }

    /// ŷ = [2.5, 0, 2, 8], y = [3, -0.5, 2, 7] (scikit-learn's r2_score example):
    /// errors -0.5, 0.5, 0, 1 → SSE 1.5, MSE 0.375, MAE 0.5; ȳ = 2.875,
    /// Σ (y − ȳ)² = 0.015625 + 11.390625 + 0.765625 + 17.015625 = 29.1875,
    /// R² = 1 − 1.5/29.1875 = 0.948608137...
    #[test]
    fn regression_by_hand() {
        let mut errors = RegressionErrors::default();
        for (p, y) in [(2.5, 3.0), (0.0, -0.5), (2.0, 2.0), (8.0, 7.0)] {
            errors.add(p, y);
        }
        let report = errors.report();
        assert!(close(report.mse, 0.375));
        assert!(close(report.rmse, 0.375f64.sqrt()));
        assert!(close(report.mae, 0.5));
        assert!(close(report.r2.unwrap(), 1.0 - 1.5 / 29.1875));
    }

    #[test]
    fn a_constant_target_has_no_r2() {
        let mut errors = RegressionErrors::default();
        for p in [1.0, 2.0, 3.0] {
            errors.add(p, 0.3);
        }
        let report = errors.report();
        assert_eq!(report.r2, None);
        assert!(close(report.mse, (0.49 + 2.89 + 7.29) / 3.0));
        assert!(close(report.mae, (0.7 + 1.7 + 2.7) / 3.0));
        assert_eq!(RegressionErrors::default().report().mse, 0.0);
    }
}
