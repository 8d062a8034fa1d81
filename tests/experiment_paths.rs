//! The path experiments (momentum, learning-rate, adaptive, stationary) in quick mode: each
//! writes valid figures, its CSVs and summary.md, and its numbers support its claim.

mod common;

use std::path::Path;

use common::{assert_png, number};
use sgdlab::experiment::{Outcome, find, run_experiment};

/// Runs experiment `name` quickly into a fresh temporary directory.
fn run(name: &str) -> (tempfile::TempDir, Outcome) {
    let root = tempfile::tempdir().unwrap();
    let experiment = find(name).unwrap();
    let outcome = run_experiment(experiment, true, root.path()).unwrap();
    (root, outcome)
}

/// The text nodes of an SVG, after checking that it parses and has the figure's size.
fn svg_texts(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse(&text)
        .unwrap_or_else(|e| panic!("{} is not XML: {e}", path.display()));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        (root.attribute("width"), root.attribute("height")),
        (Some("800"), Some("500")),
        "{}",
        path.display()
    );
    doc.descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "text")
        .map(|n| n.text().unwrap_or_default().trim().to_string())
        .collect()
}

/// The header of a CSV.
fn csv_header(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let header = text.lines().next().unwrap_or_default();
    header.split(',').map(str::to_string).collect()
}

/// Every figure is a valid SVG and PNG whose legend names `legends[stem]`, summary.md names
/// every figure and table, and the tables are the files listed.
fn check_files(root: &Path, name: &str, outcome: &Outcome, figures: &[(&str, &[&str])]) {
    let dir = root.join(name);
    let stems: Vec<String> = outcome
        .figures
        .iter()
        .map(|f| f.svg.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    let expected: Vec<&str> = figures.iter().map(|(stem, _)| *stem).collect();
    assert_eq!(stems, expected);
    let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    for (figure, (stem, legends)) in outcome.figures.iter().zip(figures) {
        assert_eq!(figure.svg, dir.join(format!("{stem}.svg")));
        let texts = svg_texts(&figure.svg);
        for legend in *legends {
            assert!(
                texts.iter().any(|t| t == legend),
                "{stem}.svg has no {legend:?} among {texts:?}"
            );
        }
        assert_png(&figure.png, 800, 500);
        assert!(summary.contains(&format!("({stem}.svg)")), "{summary}");
    }
    for table in &outcome.tables {
        assert!(
            table.starts_with(&dir) && table.is_file(),
            "{}",
            table.display()
        );
        let file = table.file_name().unwrap().to_string_lossy();
        assert!(summary.contains(&format!("({file})")), "{summary}");
    }
    assert!(!outcome.findings.is_empty());
}

#[test]
fn momentum_step_tends_to_its_limit_and_momentum_accelerates() {
    let (root, outcome) = run("momentum");
    check_files(
        root.path(),
        "momentum",
        &outcome,
        &[
            (
                "momentum-logistic",
                &[
                    "GD α=4",
                    "momentum λ=0.5",
                    "momentum λ=0.9",
                    "Nesterov λ=0.9",
                    "minimum",
                ],
            ),
            ("momentum-loss-logistic", &["GD α=4", "momentum λ=0.9"]),
            ("momentum-quadratic", &["GD α=0.02", "Nesterov λ=0.9"]),
            ("momentum-loss-quadratic", &["momentum λ=0.5"]),
            ("momentum-step-length", &["GD (λ=0)", "momentum λ=0.9"]),
        ],
    );
    // The lecture's limit α‖g‖/(1 − λ) with α = 0.1, ‖g‖ = 1, within 5 %.
    for (lambda, limit) in [("0", 0.1), ("0.5", 0.2), ("0.9", 1.0)] {
        assert!((number(&outcome, &format!("limit_step_lambda_{lambda}")) - limit).abs() < 1e-12);
        let last = number(&outcome, &format!("last_step_lambda_{lambda}"));
        assert!(
            (last / limit - 1.0).abs() < 0.05,
            "λ = {lambda}: last step {last} vs limit {limit}"
        );
    }
    // The first momentum step is α‖g‖: the growth to the limit is measured, not assumed.
    let table = root.path().join("momentum/momentum-step-length.csv");
    assert_eq!(
        csv_header(&table),
        [
            "step",
            "step_length_lambda_0",
            "limit_lambda_0",
            "step_length_lambda_0.5",
            "limit_lambda_0.5",
            "step_length_lambda_0.9",
            "limit_lambda_0.9"
        ]
    );
    let text = std::fs::read_to_string(&table).unwrap();
    let first: Vec<f64> = text
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .map(|c| c.parse().unwrap())
        .collect();
    assert!((first[5] - 0.1).abs() < 1e-6, "{first:?}");
    assert!(
        outcome.findings.iter().all(|f| f.holds),
        "{:?}",
        outcome.findings
    );
    assert!(
        number(&outcome, "quadratic_momentum_0.9_suboptimality")
            < number(&outcome, "quadratic_gd_suboptimality")
    );
    let header = csv_header(&root.path().join("momentum/momentum-paths-quadratic.csv"));
    assert_eq!(&header[..4], ["step", "gd_x", "gd_y", "gd_loss"]);
    assert!(
        header.contains(&"nesterov_0.9_loss".to_string()),
        "{header:?}"
    );
}

#[test]
fn learning_rate_too_small_is_slow_too_large_diverges_and_armijo_needs_no_tuning() {
    let (root, outcome) = run("learning-rate");
    check_files(
        root.path(),
        "learning-rate",
        &outcome,
        &[
            (
                "learning-rate-paths",
                &[
                    "too small, 0.1/L: α=0.0020",
                    "good, 1/L: α=0.0200",
                    "too large, 2.1/L: α=0.0420",
                    "Armijo line search, α₀=1",
                ],
            ),
            ("learning-rate-loss", &["best constant, 2/(L+μ): α=0.0392"]),
            ("learning-rate-armijo-steps", &["accepted α", "1/L"]),
        ],
    );
    let n = |key: &str| number(&outcome, key);
    // Too small ends farther from f* (and from θ*) than the good α after the same steps.
    assert!(n("too_small_final_loss") > 10.0 * n("good_final_loss"));
    assert!(n("too_small_distance_to_minimum") > n("good_distance_to_minimum"));
    // Too large: the loss rises and the stiff coordinate alternates at every step.
    assert!(n("too_large_final_loss") > n("initial_loss"));
    assert_eq!(n("too_large_alternation"), 1.0);
    // 1/L never overshoots the stiff coordinate (1 − αL = 0 lands on its minimum).
    assert_eq!(n("good_alternation"), 0.0);
    // Armijo, started at α₀ = 1 (50× past the stability limit), gets at least as low.
    assert!(n("armijo_final_loss") <= n("good_final_loss"));
    assert!(
        outcome.findings.iter().all(|f| f.holds),
        "{:?}",
        outcome.findings
    );
    let header = csv_header(&root.path().join("learning-rate/learning-rate-armijo.csv"));
    assert_eq!(header, ["step", "accepted_alpha", "loss_after"]);
    let header = csv_header(&root.path().join("learning-rate/learning-rate-paths.csv"));
    for key in ["too_small", "good", "best", "too_large", "armijo"] {
        assert!(header.contains(&format!("{key}_loss")), "{header:?}");
    }
}

#[test]
fn stationary_starts_stay_exactly_and_nearby_starts_leave() {
    let (root, outcome) = run("stationary");
    check_files(
        root.path(),
        "stationary",
        &outcome,
        &[
            (
                "stationary-paths",
                &[
                    "on the saddle (0, 0)",
                    "near the saddle: (10⁻³, 0)",
                    "saddle",
                    "minimum",
                ],
            ),
            ("stationary-distance-travelled", &["on the minimum (1, 0)"]),
            ("stationary-distance-from-saddle", &["(−10⁻³, 1)"]),
        ],
    );
    let n = |key: &str| number(&outcome, key);
    // Bit for bit where it started: ∇f = 0 exactly at (0, 0) and (1, 0).
    assert_eq!(n("on_saddle_distance_from_start"), 0.0);
    assert_eq!(n("on_minimum_distance_from_start"), 0.0);
    // From 10⁻³ away the distance grows to the minimum at distance 1.
    assert!(
        n("near_saddle_distance_from_saddle") > 0.99,
        "{:?}",
        outcome.numbers
    );
    // On x = 0 GD converges to the saddle, f = ¼ > f* = 0.
    assert!(n("saddle_line_distance_from_saddle") < 1e-3);
    assert!((n("saddle_line_final_loss") - 0.25).abs() < 1e-6);
    // The sign of x₀ picks the minimum.
    assert!((n("right_final_x") - 1.0).abs() < 1e-3 && (n("left_final_x") + 1.0).abs() < 1e-3);
    assert!(
        outcome.findings.iter().all(|f| f.holds),
        "{:?}",
        outcome.findings
    );
    let header = csv_header(&root.path().join("stationary/stationary-paths.csv"));
    assert_eq!(header.len(), 1 + 3 * 6);
    assert_eq!(
        &header[1..4],
        ["on_saddle_x", "on_saddle_y", "on_saddle_loss"]
    );
}

#[test]
fn adaptive_methods_beat_gd_on_the_ill_conditioned_quadratic_and_train_breast_cancer() {
    let (root, outcome) = run("adaptive");
    check_files(
        root.path(),
        "adaptive",
        &outcome,
        &[
            (
                "adaptive-paths-quadratic",
                &[
                    "GD α=2/(L+μ)=0.0392",
                    "AdaGrad α=1",
                    "RMSProp β=0.99 α=0.1",
                    "Adam α=0.1",
                ],
            ),
            (
                "adaptive-loss-quadratic",
                &["momentum λ=0.9 α=0.02", "target 1e-4"],
            ),
            (
                "adaptive-paths-rotated-quadratic",
                &["AdaGrad α=1", "minimum"],
            ),
            (
                "adaptive-loss-rotated-quadratic",
                &["Adam α=0.1", "target 1e-4"],
            ),
            ("adaptive-breast-cancer", &["SGD α=0.1", "Adam α=0.01"]),
        ],
    );
    let n = |key: &str| number(&outcome, key);
    // Measured steps to f ≤ 1e-4: each per-coordinate method needs fewer than GD at 2/(L+μ).
    let gd = n("quadratic_gd_steps_to_target");
    assert!(gd.is_finite(), "GD reaches the target within the quick run");
    for key in ["adagrad", "rmsprop", "adam"] {
        let steps = n(&format!("quadratic_{key}_steps_to_target"));
        assert!(steps < gd, "{key}: {steps} steps vs GD {gd}");
    }
    // Turned 45° with its start, GD's path is the same up to rounding, and with the same α no
    // per-coordinate method is faster any more.
    let turned_gd = n("rotated_quadratic_gd_steps_to_target");
    assert!((turned_gd - gd).abs() <= 2.0, "{turned_gd} vs {gd}");
    for key in ["adagrad", "rmsprop", "adam"] {
        let steps = n(&format!("rotated_quadratic_{key}_steps_to_target"));
        assert!(steps >= turned_gd, "{key}: {steps} steps vs GD {turned_gd}");
    }
    // Real training runs: each left its run dir with metrics, and got closer to f* than at
    // the start (zero weights: ℓ = ln 2 ≈ 0.69, far above a fitted model's ℓ(f*)).
    for key in ["gd", "momentum", "adagrad", "rmsprop", "adam"] {
        let run = root.path().join(format!("adaptive/runs/{key}"));
        assert!(run.join("metrics.csv").is_file() && run.join("optimum.json").is_file());
        let suboptimality = n(&format!("breast_cancer_{key}_suboptimality"));
        assert!(
            suboptimality > 0.0 && suboptimality < 0.2,
            "{key}: {suboptimality}"
        );
    }
    assert!(
        outcome.findings.iter().all(|f| f.holds),
        "{:?}",
        outcome.findings
    );
    let header = csv_header(&root.path().join("adaptive/adaptive-breast-cancer.csv"));
    assert_eq!(header.len(), 1 + 2 * 5);
    assert_eq!(&header[..3], ["epoch", "gd_suboptimality", "gd_train_loss"]);
    // Running it again into the same directory replaces its runs instead of failing.
    let again = run_experiment(find("adaptive").unwrap(), true, root.path()).unwrap();
    assert_eq!(again.numbers, outcome.numbers, "same seed, same numbers");
}
