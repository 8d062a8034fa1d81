//! Numerical helpers with one definition each for the whole crate: the [`median`] of repeated
//! timings, the [`loglog_slope`] of a cost against a size, and the logistic function
//! [`sigmoid`] of the lecture's models and synthetic data.
//!
//! A foundation module: it imports nothing of the crate, so every layer (data, model, solve,
//! experiment, bench) may use it.

/// The median of `values`, which it sorts in place (by `f64::total_cmp`, so a NaN sorts after
/// every number): the middle value of an odd count, the mean of the two middle values of an
/// even count; NaN when `values` is empty.
pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len() % 2 == 1 {
        values[middle]
    } else {
        0.5 * (values[middle - 1] + values[middle])
    }
}

/// The least-squares slope of ln y against ln x over `points` `(x, y)`: the exponent p of a
/// power law y ∝ x^p.
///
/// Points with a non-positive (or NaN) coordinate have no logarithm and are left out. NaN when
/// fewer than two points are left, or when all of them share one x (no slope is defined).
pub fn loglog_slope(points: &[(f64, f64)]) -> f64 {
    let logs: Vec<(f64, f64)> = points
        .iter()
        .filter(|(x, y)| *x > 0.0 && *y > 0.0)
        .map(|(x, y)| (x.ln(), y.ln()))
        .collect();
    if logs.len() < 2 || logs.iter().all(|(x, _)| *x == logs[0].0) {
        return f64::NAN;
    }
    let count = logs.len() as f64;
    let mean_x = logs.iter().map(|(x, _)| x).sum::<f64>() / count;
    let mean_y = logs.iter().map(|(_, y)| y).sum::<f64>() / count;
    let covariance: f64 = logs.iter().map(|(x, y)| (x - mean_x) * (y - mean_y)).sum();
    let variance: f64 = logs.iter().map(|(x, _)| (x - mean_x).powi(2)).sum();
    covariance / variance
}

/// The logistic function `σ(z) = 1 / (1 + e^{−z})`, computed without overflow for either sign
/// (through `e^z / (1 + e^z)` for negative z): exactly 0.5 at 0, in [0, 1] everywhere, 0 and 1
/// in the far tails; NaN for NaN.
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        // Sorted 1, 2, 3, 4: the mean of 2 and 3, not the upper middle value.
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&mut [7.0]), 7.0);
        assert_eq!(median(&mut [5.0, 1.0]), 3.0);
        assert!(median(&mut []).is_nan());
        let mut values = [0.3, 0.1, 0.2];
        median(&mut values);
        assert_eq!(values, [0.1, 0.2, 0.3], "sorted in place");
    }

    #[test]
    fn loglog_slope_recovers_the_exponent() {
        let cubic: Vec<(f64, f64)> = [1.0, 3.0, 10.0, 30.0]
            .iter()
            .map(|&x| (x, 2.0 * x * x * x))
            .collect();
        assert!((loglog_slope(&cubic) - 3.0).abs() < 1e-12);
        let linear: Vec<(f64, f64)> = [1e4, 1e5, 1e6].iter().map(|&n| (n, 3e-9 * n)).collect();
        assert!((loglog_slope(&linear) - 1.0).abs() < 1e-12);
        assert!(loglog_slope(&[(1.0, 5.0), (100.0, 5.0)]).abs() < 1e-12);
        // By hand: ln x = 0, ln 10, 2 ln 10; ln y = 0, 0, 2 ln 10 (y = 1, 1, 100): x̄ = ln 10,
        // ȳ = (2/3) ln 10, Σ(x − x̄)(y − ȳ) = 2 ln²10, Σ(x − x̄)² = 2 ln²10, slope 1.
        assert!((loglog_slope(&[(1.0, 1.0), (10.0, 1.0), (100.0, 100.0)]) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn loglog_slope_leaves_out_points_without_a_logarithm() {
        // (2, 0), (0, 3) and (−1, 4) are dropped: the slope of (1, 1), (4, 16) is 2.
        let points = [(1.0, 1.0), (2.0, 0.0), (0.0, 3.0), (-1.0, 4.0), (4.0, 16.0)];
        assert!((loglog_slope(&points) - 2.0).abs() < 1e-12);
        // One usable point, none, or one x only: no slope.
        assert!(loglog_slope(&[(1.0, 1.0), (2.0, 0.0)]).is_nan());
        assert!(loglog_slope(&[]).is_nan());
        assert!(loglog_slope(&[(3.0, 1.0), (3.0, 2.0), (3.0, 5.0)]).is_nan());
    }

    #[test]
    fn sigmoid_is_stable_and_symmetric() {
        assert_eq!(sigmoid(0.0), 0.5);
        assert_eq!(sigmoid(1000.0), 1.0);
        assert_eq!(sigmoid(-1000.0), 0.0);
        assert!(sigmoid(-700.0) > 0.0 && sigmoid(-700.0) < 1e-300);
        // σ(ln 3) = 1 / (1 + 1/3) = 3/4, σ(−ln 3) = (1/3) / (4/3) = 1/4.
        assert!((sigmoid(3f64.ln()) - 0.75).abs() < 1e-15);
        assert!((sigmoid(-(3f64.ln())) - 0.25).abs() < 1e-15);
        for z in [0.1, 1.0, 5.0, 30.0] {
            assert!((sigmoid(z) + sigmoid(-z) - 1.0).abs() < 1e-15, "{z}");
        }
        assert!(sigmoid(f64::NAN).is_nan());
    }
}
