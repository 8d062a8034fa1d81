//! `sgdlab predict` and `sgdlab eval --input`: predictions computed by hand from the
//! checkpoint's parameters, probabilities that sum to 1, class names, regression values,
//! MNIST IDX input, the same figures as evaluating the split, errors before anything is
//! written, never overwriting, and flat memory over a million rows.

mod common;

use std::path::{Path, PathBuf};

use common::{assert_one_line_error, run_sgdlab as sgdlab};
use sgdlab::eval::{SplitChoice, evaluate_file, evaluate_run};
use sgdlab::model::{Model, Report};
use sgdlab::predict::{Output, PredictRequest, predict};
use sgdlab::run_dir::RunDir;
use sgdlab::train::CheckpointChoice;

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// A CSV's header and rows, cells split on commas (the files here quote nothing).
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text
        .lines()
        .map(|line| line.split(',').map(str::to_string).collect::<Vec<String>>());
    let header = lines.next().unwrap();
    (header, lines.collect())
}

fn column(header: &[String], name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

fn quickstart_run(dir: &Path) -> RunDir {
    let config = common::load("quickstart", &["training.epochs=3"]);
    common::train_into(config, &dir.join("run")).run_dir
}

#[test]
fn the_quickstart_predicts_the_shipped_csv_as_its_parameters_say() {
    let dir = tempfile::tempdir().unwrap();
    let run = quickstart_run(dir.path());
    let csv = repo_file("data/breast_cancer.csv");
    let output = sgdlab(
        dir.path(),
        &[
            "predict",
            run.path.to_str().unwrap(),
            "--input",
            csv.to_str().unwrap(),
            "--pass-through",
            "target",
        ],
    );
    assert!(output.status.success(), "{output:?}");
    let out = dir.path().join("breast_cancer-predictions.csv");
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("breast_cancer-predictions.csv"),
        "{output:?}"
    );
    let (header, rows) = read_csv(&out);
    assert_eq!(header, ["row", "target", "predicted", "p_1"]);
    assert_eq!(rows.len(), 569);

    // By hand: p = σ(Σ w_j (x_j − mean_j) / scale_j + b), from the checkpoint and the stored
    // standardizer, in f64.
    let config = run.load_config().unwrap();
    let device = sgdlab::device::resolve("cpu").unwrap();
    let problem = sgdlab::model::Problem {
        dim: 30,
        classes: Some(2),
    };
    let model = sgdlab::train::load_model(&run, 3, &config.model, problem, &device).unwrap();
    let Model::Logistic(logistic) = &model else {
        panic!("a logistic model")
    };
    let values = |t: burn::tensor::Tensor<1>| t.into_data().try_to_vec::<f32>().unwrap();
    let weights = values(logistic.linear.weight.val().reshape([30]));
    let bias = values(logistic.linear.bias.as_ref().unwrap().val())[0];
    let standardizer = run.load_standardizer().unwrap().unwrap();
    let (input_header, inputs) = read_csv(&csv);
    let mut correct = 0;
    for (i, (row, input)) in rows.iter().zip(&inputs).enumerate() {
        let mut z = f64::from(bias);
        for j in 0..30 {
            let x: f64 = input[j].parse().unwrap();
            let scaled = (x - f64::from(standardizer.mean[j])) / f64::from(standardizer.scale[j]);
            z += f64::from(weights[j]) * scaled;
        }
        let expected = 1.0 / (1.0 + (-z).exp());
        let p: f64 = row[3].parse().unwrap();
        assert!(
            (p - expected).abs() < 1e-5,
            "row {i}: p = {p}, by hand {expected}"
        );
        assert_eq!(row[0], i.to_string());
        assert_eq!(row[1], input[column(&input_header, "target")]);
        assert_eq!(row[2], if p > 0.5 { "1" } else { "0" }, "row {i}");
        correct += usize::from(row[1] == row[2]);
    }

    // eval --input on the same file: the accuracy of those predictions.
    let report = evaluate_file(&run, CheckpointChoice::Last, &csv, None, None).unwrap();
    assert_eq!(report.metrics.examples, 569);
    assert_eq!(report.split, None);
    assert_eq!(report.metrics.accuracy, Some(correct as f64 / 569.0));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.eval_path()).unwrap()).unwrap();
    assert_eq!(json["examples"], 569);
    assert!(
        json["input"]
            .as_str()
            .unwrap()
            .ends_with("breast_cancer.csv")
    );
    let auc = json["classification"]["roc_auc"].as_f64().unwrap();
    assert!(auc > 0.95 && auc <= 1.0, "{auc}");
    assert_eq!(json["classification"]["per_class"][1]["support"], 357);

    // A second predict never overwrites the first: it takes the next free name.
    let again = sgdlab(
        dir.path(),
        &[
            "predict",
            run.path.to_str().unwrap(),
            "--input",
            csv.to_str().unwrap(),
        ],
    );
    assert!(again.status.success(), "{again:?}");
    let (header, rows) = read_csv(&dir.path().join("breast_cancer-predictions-2.csv"));
    assert_eq!((header.len(), rows.len()), (3, 569));
    assert_eq!(read_csv(&out).0.len(), 4, "the first file is untouched");
}

#[test]
fn eval_of_the_test_split_written_to_a_file_gives_the_splits_figures() {
    let dir = tempfile::tempdir().unwrap();
    let run = quickstart_run(dir.path());
    // The raw test split, as the run's seed splits the embedded data.
    let all = sgdlab::data::breast_cancer();
    let test = sgdlab::data::split(&all, 0.15, 0.15, 42)
        .unwrap()
        .test
        .unwrap();
    let sgdlab::data::Targets::Classes { labels, .. } = &test.targets else {
        unreachable!()
    };
    let mut text = test.feature_names.join(",") + ",target\n";
    for (i, label) in labels.iter().enumerate() {
        let cells: Vec<String> = test.row(i).iter().map(|x| x.to_string()).collect();
        text.push_str(&format!("{},{label}\n", cells.join(",")));
    }
    let path = dir.path().join("test.csv");
    std::fs::write(&path, text).unwrap();

    let from_file = evaluate_file(&run, CheckpointChoice::Last, &path, None, None).unwrap();
    let from_split =
        evaluate_run(&run, CheckpointChoice::Last, Some(SplitChoice::Test), None).unwrap();
    assert_eq!(from_file.metrics, from_split.metrics);
    assert_eq!(from_file.report, from_split.report);
    assert_eq!(from_file.metrics.examples, 85);
}

/// Three named classes in a CSV: blobs around (0, 0), (3, 0) and (0, 3).
fn write_named_classes(path: &Path, n: usize) {
    let mut rng = sgdlab::rng::Rng::new(5);
    let names = ["cat", "dog", "eel"];
    let mut text = String::from("id,a,b,kind\n");
    for i in 0..n {
        let class = i % 3;
        let (a, b) = [(0.0, 0.0), (3.0, 0.0), (0.0, 3.0)][class];
        let a = a + rng.normal() * 0.7;
        let b = b + rng.normal() * 0.7;
        text.push_str(&format!("s{i},{a},{b},{}\n", names[class]));
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn softmax_probabilities_sum_to_one_and_classes_go_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("animals.csv");
    write_named_classes(&data, 300);
    let config = format!(
        r#"
[data]
source = "csv"
path = "{}"
label = "kind"
features = ["a", "b"]
classes = ["cat", "dog", "eel"]
[model]
kind = "softmax"
[optimizer]
name = "sgd"
learning_rate = 0.1
[training]
epochs = 5
batch_size = 16
"#,
        data.display()
    );
    let config = sgdlab::config::Config::from_toml(&config, "animals.toml", &[]).unwrap();
    let run = common::train_into(config, &dir.path().join("run")).run_dir;
    let out = dir.path().join("animals-out.csv");
    predict(&PredictRequest {
        run: &run,
        input: &data,
        checkpoint: CheckpointChoice::Best,
        out: Some(Output::File(out.clone())),
        device: None,
        id: Some("id"),
        pass_through: &["kind".to_string()],
    })
    .unwrap();
    let (header, rows) = read_csv(&out);
    assert_eq!(
        header,
        ["id", "kind", "predicted", "p_cat", "p_dog", "p_eel"]
    );
    assert_eq!(rows.len(), 300);
    let mut agree = 0;
    for row in &rows {
        let p: Vec<f64> = row[3..].iter().map(|p| p.parse().unwrap()).collect();
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-6, "{row:?}");
        let argmax = (0..3).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap();
        assert_eq!(row[2], ["cat", "dog", "eel"][argmax], "{row:?}");
        agree += usize::from(row[1] == row[2]);
    }
    assert!(agree > 270, "{agree} of 300 right");
    assert!(rows[7][0] == "s7");

    let report = evaluate_file(&run, CheckpointChoice::Best, &data, None, None).unwrap();
    let Report::Classification(classes) = &report.report else {
        panic!("a classification report")
    };
    let names: Vec<&str> = classes.per_class.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["cat", "dog", "eel"]);
    assert_eq!(classes.roc_auc, None, "ROC AUC is for binary problems");
    assert_eq!(report.metrics.accuracy, Some(agree as f64 / 300.0));
}

#[test]
fn regression_predicts_values_and_eval_reports_their_errors() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::load("linear_regression_tikhonov", &["training.epochs=20"]);
    let run = common::train_into(config, &dir.path().join("run")).run_dir;
    let csv = repo_file("data/diabetes.csv");
    let out = dir.path().join("diabetes-out.csv");
    predict(&PredictRequest {
        run: &run,
        input: &csv,
        checkpoint: CheckpointChoice::Last,
        out: Some(Output::File(out.clone())),
        device: None,
        id: None,
        pass_through: &["target".to_string()],
    })
    .unwrap();
    let (header, rows) = read_csv(&out);
    assert_eq!(header, ["row", "target", "predicted"]);
    let pairs: Vec<(f64, f64)> = rows
        .iter()
        .map(|row| (row[2].parse().unwrap(), row[1].parse().unwrap()))
        .collect();
    let n = pairs.len() as f64;
    let mse = pairs.iter().map(|(p, y)| (p - y).powi(2)).sum::<f64>() / n;
    let mae = pairs.iter().map(|(p, y)| (p - y).abs()).sum::<f64>() / n;
    let mean = pairs.iter().map(|(_, y)| y).sum::<f64>() / n;
    let spread = pairs.iter().map(|(_, y)| (y - mean).powi(2)).sum::<f64>();
    let report = evaluate_file(&run, CheckpointChoice::Last, &csv, None, None).unwrap();
    let Report::Regression(r) = report.report else {
        panic!("a regression report")
    };
    // The CSV holds each f32 prediction in its shortest decimal form, which read as f64 is
    // within half an f32 ulp of it: the figures agree to f32 precision.
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-7 * b.abs().max(1.0);
    assert!(close(r.mse, mse), "{} {mse}", r.mse);
    assert!(close(r.rmse, mse.sqrt()));
    assert!(close(r.mae, mae), "{} {mae}", r.mae);
    assert!(close(r.r2.unwrap(), 1.0 - mse * n / spread));
    assert_eq!(report.metrics.accuracy, None);
}

#[test]
fn bad_input_is_one_line_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let run = quickstart_run(d);
    let run = run.path.to_str().unwrap();
    let shipped = std::fs::read_to_string(repo_file("data/breast_cancer.csv")).unwrap();
    let before = files_in(d);

    std::fs::write(
        d.join("short.csv"),
        shipped.replacen("mean_area,", "area,", 1),
    )
    .unwrap();
    let predicted = sgdlab(d, &["predict", run, "--input", "short.csv"]);
    assert_one_line_error(
        &predicted,
        &["short.csv:1: feature column \"mean_area\" not found"],
    );
    // A bad cell far down the file: no output file, no partial one.
    let mut lines: Vec<String> = shipped.lines().map(str::to_string).collect();
    let mut cells: Vec<&str> = lines[399].split(',').collect();
    cells[0] = "oops";
    lines[399] = cells.join(",");
    std::fs::write(d.join("bad.csv"), lines.join("\n") + "\n").unwrap();
    let predicted = sgdlab(d, &["predict", run, "--input", "bad.csv"]);
    assert_one_line_error(
        &predicted,
        &["bad.csv:400: non-numeric cell \"oops\" in column \"mean_radius\""],
    );
    let to_stdout = sgdlab(d, &["predict", run, "--input", "bad.csv", "--out", "-"]);
    assert_one_line_error(&to_stdout, &["bad.csv:400:"]);
    assert!(to_stdout.stdout.is_empty(), "nothing on standard output");
    let mut expected = before.clone();
    expected.extend(["bad.csv".to_string(), "short.csv".to_string()]);
    expected.sort();
    assert_eq!(files_in(d), expected);

    // --out never overwrites; eval --input names its label column.
    std::fs::write(d.join("mine.csv"), "keep me").unwrap();
    let csv = repo_file("data/breast_cancer.csv");
    let csv = csv.to_str().unwrap();
    let refused = sgdlab(d, &["predict", run, "--input", csv, "--out", "mine.csv"]);
    assert_one_line_error(&refused, &["mine.csv already exists", "never overwritten"]);
    assert_eq!(
        std::fs::read_to_string(d.join("mine.csv")).unwrap(),
        "keep me"
    );
    let unlabelled = sgdlab(d, &["eval", run, "--input", csv, "--label", "diagnosis"]);
    assert_one_line_error(&unlabelled, &["label column \"diagnosis\" not found"]);
    let clash = sgdlab(
        d,
        &[
            "predict",
            run,
            "--input",
            csv,
            "--id",
            "target",
            "--pass-through",
            "target",
            "--out",
            "x.csv",
        ],
    );
    assert_one_line_error(&clash, &["two columns named \"target\""]);
    assert!(!d.join("x.csv").exists());

    // A run from before inputs.json predicts from its training split's columns; a broken
    // one is named.
    let inputs = Path::new(run).join("inputs.json");
    let stored = std::fs::read_to_string(&inputs).unwrap();
    std::fs::remove_file(&inputs).unwrap();
    let older = sgdlab(d, &["predict", run, "--input", csv, "--out", "older.csv"]);
    assert!(older.status.success(), "{older:?}");
    std::fs::write(&inputs, &stored[..stored.len() / 2]).unwrap();
    let broken = sgdlab(d, &["predict", run, "--input", csv, "--out", "broken.csv"]);
    assert_one_line_error(&broken, &["inputs.json"]);
    std::fs::write(&inputs, stored).unwrap();

    // Standard output: the header, then one line per row.
    let printed = sgdlab(d, &["predict", run, "--input", csv, "--out", "-"]);
    assert!(printed.status.success(), "{printed:?}");
    let stdout = String::from_utf8(printed.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 570);
    assert!(
        stdout.starts_with("row,predicted,p_1\n0,0,"),
        "{}",
        &stdout[..40]
    );
}

#[test]
fn mnist_runs_predict_and_evaluate_idx_images() {
    use sgdlab::data::idx::write_idx;
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("mnist");
    common::write_mnist_folder(&folder, 200, 50);
    let path = format!("data.path={}", folder.display());
    let config = common::load(
        "mnist_mlp",
        &[&path, "training.epochs=2", "training.batch_size=32"],
    );
    let run = common::train_into(config, &dir.path().join("run")).run_dir;

    // The folder's t10k files are the run's test split: the same figures.
    let from_folder = evaluate_file(&run, CheckpointChoice::Last, &folder, None, None).unwrap();
    let from_split = evaluate_run(&run, CheckpointChoice::Last, None, None).unwrap();
    assert_eq!(from_folder.metrics, from_split.metrics);
    assert!(
        from_folder
            .input
            .unwrap()
            .ends_with("t10k-images-idx3-ubyte")
    );

    let out = dir.path().join("digits.csv");
    let summary = predict(&PredictRequest {
        run: &run,
        input: &folder.join("t10k-images-idx3-ubyte"),
        checkpoint: CheckpointChoice::Last,
        out: Some(Output::File(out.clone())),
        device: None,
        id: None,
        pass_through: &[],
    })
    .unwrap();
    assert_eq!(summary.rows, 50);
    let (header, rows) = read_csv(&out);
    assert_eq!(header.len(), 2 + 10);
    assert_eq!(header[11], "p_9");
    for row in &rows {
        let sum: f64 = row[2..].iter().map(|p| p.parse::<f64>().unwrap()).sum();
        assert!((sum - 1.0).abs() < 1e-6);
    }
    let predicted = rows.iter().filter(|row| row[0] == "49").count();
    assert_eq!(predicted, 1);

    let small = dir.path().join("small-images-idx3-ubyte");
    write_idx(&small, &[2, 14, 14], &[0; 392], false).unwrap();
    let output = sgdlab(
        dir.path(),
        &[
            "predict",
            run.path.to_str().unwrap(),
            "--input",
            small.to_str().unwrap(),
        ],
    );
    assert_one_line_error(
        &output,
        &[
            "small-images-idx3-ubyte: expected MNIST images with dims [n, 28, 28], found [2, 14, 14]",
        ],
    );
}

/// Predicting a million rows keeps memory flat: the input is read, and the output written, a
/// batch at a time.
#[test]
fn a_million_rows_need_no_more_memory_than_a_hundred_thousand() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::load(
        "lecture_1d_logistic",
        &[
            "data.n=300",
            "data.validation_fraction=0.2",
            "training.epochs=2",
        ],
    );
    let run = common::train_into(config, &dir.path().join("run")).run_dir;
    let mut rng = sgdlab::rng::Rng::new(1);
    let mut write = |rows: usize| {
        let mut text = String::with_capacity(rows * 12);
        text.push_str("x\n");
        for _ in 0..rows {
            text.push_str(&format!("{:.6}\n", rng.normal()));
        }
        let name = format!("x{rows}.csv");
        std::fs::write(dir.path().join(&name), text).unwrap();
        name
    };
    let (small, large) = (write(100_000), write(1_000_000));
    let run = run.path.to_str().unwrap();
    let usual = common::peak_rss_kib(dir.path(), &["predict", run, "--input", &small]);
    let long = common::peak_rss_kib(dir.path(), &["predict", run, "--input", &large]);
    let ratio = long as f64 / usual as f64;
    assert!(
        ratio < 1.15,
        "peak RSS: {usual} KiB for 100,000 rows, {long} KiB for 1,000,000 (×{ratio:.2})"
    );
    let written = std::fs::read_to_string(dir.path().join("x1000000-predictions.csv")).unwrap();
    assert_eq!(written.lines().count(), 1_000_001);
}
