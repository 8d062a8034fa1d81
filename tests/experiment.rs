//! `sgdlab experiment`: each experiment in --quick mode supports its lecture claim with its
//! numbers, writes valid figures (SVG parsed, PNG decoded) and CSVs with the expected columns;
//! `experiment all` writes a report referencing every figure; bad names and --out fail cleanly.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{assert_one_line_error, assert_png, number, run_sgdlab};
use sgdlab::experiment::{EXPERIMENTS, Outcome, find, run_experiment};

/// Runs the experiment `name` in --quick mode into a fresh temporary root.
fn quick(name: &str) -> (tempfile::TempDir, Outcome) {
    let root = tempfile::tempdir().unwrap();
    let outcome = run_experiment(find(name).unwrap(), true, root.path()).unwrap();
    (root, outcome)
}

/// The SVG parses as XML with an `<svg>` root of 800 × 500 and holds every `labels` text;
/// the PNG has the signature, an 800 × 500 IHDR and decodes to a non-blank image.
fn assert_figures(outcome: &Outcome, labels: &[&str]) {
    assert!(!outcome.figures.is_empty());
    for figure in &outcome.figures {
        let text = std::fs::read_to_string(&figure.svg).unwrap();
        let doc = roxmltree::Document::parse(&text)
            .unwrap_or_else(|e| panic!("{} is not XML: {e}", figure.svg.display()));
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(
            (root.attribute("width"), root.attribute("height")),
            (Some("800"), Some("500"))
        );
        assert!(
            doc.descendants().any(|n| n.tag_name().name() == "polyline"),
            "{} has no curve",
            figure.svg.display()
        );

        assert_png(&figure.png, 800, 500);
    }
    let all_text: String = outcome
        .figures
        .iter()
        .map(|f| std::fs::read_to_string(&f.svg).unwrap())
        .collect();
    for label in labels {
        assert!(all_text.contains(label), "no figure shows {label:?}");
    }
}

/// The CSV `name` among the outcome's tables: its header and its rows as numbers.
fn csv(outcome: &Outcome, name: &str) -> (Vec<String>, Vec<Vec<f64>>) {
    let path = outcome
        .tables
        .iter()
        .find(|p| p.file_name().unwrap() == name)
        .unwrap_or_else(|| panic!("no table {name} in {:?}", outcome.tables));
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    let rows = lines
        .map(|l| l.split(',').map(|c| c.parse().unwrap()).collect())
        .collect();
    (header, rows)
}

#[test]
fn gd_vs_sgd_counts_o_nd_for_gd_o_d_for_sgd_and_the_lecture_table() {
    let (root, outcome) = quick("gd-vs-sgd");
    // Slopes of the counted work (not wall time): GD ∝ n, SGD flat in n, both ∝ d.
    let gd_n = number(&outcome, "gd_flops_slope_in_n");
    let sgd_n = number(&outcome, "sgd_flops_slope_in_n");
    assert!((gd_n - 1.0).abs() < 0.02, "GD slope in n {gd_n}");
    assert!(sgd_n.abs() < 0.02, "SGD slope in n {sgd_n}");
    for key in ["gd_flops_slope_in_d", "sgd_flops_slope_in_d"] {
        let slope = number(&outcome, key);
        assert!((0.9..=1.05).contains(&slope), "{key} = {slope}");
    }
    // Each iteration computed as many per-example gradients as its batch has rows.
    let (header, rows) = csv(&outcome, "cost-per-iteration-vs-n.csv");
    assert_eq!(header, ["n", "d", "batch_size", "flops", "seconds"]);
    assert_eq!(rows.len(), 6);
    for pair in rows.chunks(2) {
        assert_eq!(pair[0][2], pair[0][0], "GD uses all n examples");
        assert_eq!(pair[1][2], 10.0, "SGD uses m = 10");
        assert!(pair[0][4] > 0.0 && pair[1][4] > 0.0);
    }
    let (header, _) = csv(&outcome, "cost-per-iteration-vs-d.csv");
    assert_eq!(header, ["n", "d", "batch_size", "flops", "seconds"]);

    // The lecture's table: GD needs few iterations per decade of ρ, SGD many more, and SGD
    // reaches the loosest ρ with fewer gradient evaluations.
    let (header, rows) = csv(&outcome, "time-to-rho.csv");
    assert_eq!(
        header,
        [
            "rho",
            "gd_iterations",
            "gd_gradient_evaluations",
            "gd_seconds",
            "sgd_iterations",
            "sgd_gradient_evaluations",
            "sgd_seconds"
        ]
    );
    assert_eq!(rows.len(), 3);
    for row in &rows {
        assert!(
            row.iter().all(|v| v.is_finite()),
            "every ρ reached: {row:?}"
        );
        assert_eq!(row[2], row[1] * 2000.0, "GD: n gradients an iteration");
        assert_eq!(row[5], row[4] * 10.0, "SGD: m gradients an iteration");
    }
    let (gd_first, gd_last) = (rows[0][1], rows[2][1]);
    let (sgd_first, sgd_last) = (rows[0][4], rows[2][4]);
    assert!(
        gd_last < 30.0 * gd_first.max(1.0),
        "GD {gd_first} → {gd_last}"
    );
    assert!(sgd_last > 30.0 * sgd_first, "SGD {sgd_first} → {sgd_last}");
    assert!(rows[0][5] < rows[0][2], "SGD cheaper to the loose ρ");
    let (_, trajectory) = csv(&outcome, "suboptimality-trajectory.csv");
    assert!(
        trajectory.iter().all(|row| row[4] >= -1e-9),
        "ℓ ≥ ℓ* everywhere"
    );

    // The MNIST ratio, in counted work: a linear model's gradient costs the same per example,
    // so n examples against m cost exactly n/m = 6000/10 as much. (The measured time ratio
    // beside it is a measurement, not asserted: machines are shared.)
    let (header, rows) = csv(&outcome, "mnist-gradient-ratio.csv");
    assert_eq!(header[6..], ["time_ratio", "work_ratio", "n_over_m"]);
    assert_eq!(rows[0][..4], [6000.0, 784.0, 10.0, 10.0]);
    assert_eq!(rows[0][8], 6000.0 / 10.0);
    assert!(
        (rows[0][7] / rows[0][8] - 1.0).abs() < 1e-12,
        "work ratio {} against n/m = {}",
        rows[0][7],
        rows[0][8]
    );

    let holding: Vec<&str> = outcome
        .findings
        .iter()
        .filter(|f| f.holds)
        .map(|f| f.claim.as_str())
        .collect();
    assert!(holding.iter().any(|c| c.contains("O(nd)")), "{holding:?}");
    assert!(holding.iter().any(|c| c.contains("O(d)")), "{holding:?}");
    assert!(
        holding.iter().any(|c| c.contains("O(log 1/ρ)")),
        "{holding:?}"
    );
    assert_figures(&outcome, &["GD (full batch)", "SGD (m = 10)"]);
    assert!(root.path().join("gd-vs-sgd/summary.md").is_file());
}

#[test]
fn schedules_plots_every_family_and_decays_end_closer_to_f_star() {
    let (root, outcome) = quick("schedules");
    let families = [
        "constant",
        "linear",
        "inverse_time_recursive",
        "inverse_time",
        "exponential",
        "step",
        "cosine",
    ];
    let (header, rows) = csv(&outcome, "learning-rates.csv");
    let mut expected = vec!["step"];
    expected.extend(families);
    assert_eq!(header, expected);
    // Every family starts at α^(0) = 0.5; each decay ends near α^(0)/100, the constant at α^(0).
    assert!(
        rows[0][1..].iter().all(|&alpha| alpha == 0.5),
        "{:?}",
        rows[0]
    );
    let last = &rows[rows.len() - 1];
    assert_eq!(last[1], 0.5);
    for (name, alpha) in families.iter().zip(&last[1..]).skip(1) {
        assert!((0.004..0.007).contains(alpha), "{name} ends at {alpha}");
    }
    let (header, rows) = csv(&outcome, "suboptimality.csv");
    assert_eq!(header[1..], families);
    assert!(rows.iter().flatten().all(|v| v.is_finite() && *v >= 0.0));

    // The lecture's point: a decay shrinks SGD's noise floor.
    let constant = number(&outcome, "constant_mean_last_epochs_suboptimality");
    for decay in ["linear", "cosine", "step"] {
        let reached = number(&outcome, &format!("{decay}_mean_last_epochs_suboptimality"));
        assert!(
            reached < constant / 5.0,
            "{decay}: {reached} against {constant}"
        );
    }
    assert_eq!(outcome.findings.len(), families.len() - 1);
    for finding in &outcome.findings {
        let name = families
            .iter()
            .rev()
            .find(|f| finding.claim.contains(&format!("the {f} decay")))
            .unwrap();
        let reached = number(&outcome, &format!("{name}_mean_last_epochs_suboptimality"));
        assert_eq!(finding.holds, reached < constant, "{}", finding.claim);
    }
    // Trained through sgdlab's train: one run dir per family, each with its metrics.
    for family in families {
        assert!(
            root.path()
                .join("schedules/runs")
                .join(family)
                .join("metrics.csv")
                .is_file()
        );
    }
    assert_figures(&outcome, &families);
}

#[test]
fn batch_size_one_oscillates_and_full_batch_does_not() {
    let (_root, outcome) = quick("batch-size");
    let rise_one = number(&outcome, "rise_m1");
    let rise_full = number(&outcome, "rise_mn");
    assert!(rise_one > 1e-3, "m = 1 climbs back by {rise_one}");
    assert!(
        rise_one > 100.0 * rise_full.max(1e-12),
        "{rise_one} vs {rise_full}"
    );
    assert!(number(&outcome, "rise_m10") < rise_one);
    // Per example seen, m = 10 beats one GD step by far.
    assert!(
        number(&outcome, "suboptimality_after_one_epoch_m10")
            < number(&outcome, "suboptimality_after_one_epoch_mn")
    );
    let (header, rows) = csv(&outcome, "oscillation.csv");
    assert_eq!(
        header,
        [
            "batch_size",
            "steps_per_epoch",
            "window_steps",
            "min_suboptimality",
            "max_suboptimality",
            "rise",
            "spread",
            "std",
            "suboptimality_after_one_epoch",
            "final_suboptimality",
            "seconds"
        ]
    );
    let batch_sizes: Vec<f64> = rows.iter().map(|r| r[0]).collect();
    assert_eq!(batch_sizes, [1.0, 10.0, 100.0, 399.0]);
    for row in &rows {
        assert!(row[3] >= -1e-9 && row[4] >= row[3], "ℓ ≥ ℓ*: {row:?}");
        assert!(row[6] >= 0.0 && row[5] >= 0.0);
    }
    let (header, rows) = csv(&outcome, "suboptimality-per-epoch.csv");
    assert_eq!(
        header,
        [
            "batch_size",
            "epoch",
            "examples_seen",
            "seconds",
            "suboptimality"
        ]
    );
    assert_eq!(rows.len(), 4 * 5);
    let claim = &outcome.findings[0];
    assert!(claim.claim.contains("m = 1 spreads wider than m = n") && claim.holds);
    assert_figures(&outcome, &["m = 1", "m = 10", "m = 100", "m = n = 399"]);
}

/// Every `attribute="..."` value in `html`.
fn attribute_values(html: &str, attribute: &str) -> Vec<String> {
    let marker = format!("{attribute}=\"");
    html.split(&marker)
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_string())
        .collect()
}

#[test]
fn experiment_all_writes_a_report_referencing_every_figure() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let output = run_sgdlab(
        dir.path(),
        &["experiment", "all", "--quick", "--out", "report"],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("wrote report/report.html"), "{stdout}");
    assert!(stdout.contains("[holds]"), "{stdout}");

    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let markdown = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(!html.contains("<script"), "the report is static");
    let images: BTreeSet<String> = attribute_values(&html, "src").into_iter().collect();
    let links: Vec<String> = attribute_values(&html, "href");
    for experiment in EXPERIMENTS {
        assert!(html.contains(&format!("<section id=\"{}\">", experiment.name)));
        assert!(markdown.contains(&format!("`sgdlab experiment {}`", experiment.name)));
        let figures: Vec<PathBuf> = std::fs::read_dir(out.join(experiment.name))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "svg"))
            .collect();
        assert!(!figures.is_empty(), "{} drew nothing", experiment.name);
        for figure in figures {
            let relative = figure.strip_prefix(&out).unwrap().display().to_string();
            assert!(
                images.contains(&relative),
                "report.html lacks <img> {relative}"
            );
            assert!(
                markdown.contains(&format!("({relative})")),
                "report.md lacks {relative}"
            );
        }
    }
    for reference in images.iter().chain(&links).filter(|r| !r.starts_with('#')) {
        assert!(out.join(reference).is_file(), "{reference} does not exist");
    }
    assert!(links.iter().any(|l| l.ends_with(".csv")));
}

#[test]
fn an_unknown_experiment_is_one_line_listing_the_names_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_sgdlab(dir.path(), &["experiment", "gd-vs-gd", "--out", "x"]);
    assert_eq!(output.status.code(), Some(1));
    assert_one_line_error(
        &output,
        &[
            "unknown experiment \"gd-vs-gd\"",
            "gd-vs-sgd",
            "schedules",
            "batch-size",
            "or all",
        ],
    );
    assert!(!dir.path().join("x").exists());
    assert!(!dir.path().join("artifacts").exists());
}

#[test]
fn out_may_exist_and_only_the_experiments_files_are_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let run = || {
        let output = run_sgdlab(
            dir.path(),
            &["experiment", "batch-size", "--quick", "--out", "out"],
        );
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        std::fs::read_to_string(out.join("batch-size/oscillation.csv")).unwrap()
    };
    let first = run();
    let second = run();
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "mine"
    );
    // Same seed, same CPU backend: the same numbers bit for bit (all but the timings).
    let without_time = |text: &str| -> Vec<String> {
        text.lines()
            .map(|l| l.rsplit_once(',').unwrap().0.to_string())
            .collect()
    };
    assert_eq!(without_time(&first), without_time(&second));
    assert!(
        !out.join("report.html").exists(),
        "one experiment writes no report"
    );

    std::fs::write(dir.path().join("file"), "").unwrap();
    let output = run_sgdlab(
        dir.path(),
        &["experiment", "batch-size", "--quick", "--out", "file"],
    );
    assert_eq!(output.status.code(), Some(1));
    assert_one_line_error(&output, &["--out file", "not a directory"]);
}

/// The default --out is a fresh artifacts/experiments-<timestamp> in the current directory.
#[test]
fn the_default_out_is_a_fresh_dir_under_artifacts() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_sgdlab(dir.path(), &["experiment", "batch-size", "--quick"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let made: Vec<PathBuf> = std::fs::read_dir(dir.path().join("artifacts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(made.len(), 1);
    let name = made[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("experiments-"), "{name}");
    assert!(Path::new(&made[0]).join("batch-size/summary.md").is_file());
}
