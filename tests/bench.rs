//! `sgdlab bench`'s library side at tiny sizes: every measurement comes back as a row of the
//! table with a positive, finite figure (never a speed: other jobs share the machine).

use sgdlab::bench::{Sizes, run};

#[test]
fn the_quick_table_has_every_row_with_positive_finite_figures() {
    let sizes = Sizes::tiny();
    let mut heard = 0;
    let report = run(&sizes, |_| heard += 1).expect("the benchmarks run");
    assert_eq!(heard, report.rows.len(), "progress hears every row");

    let count = |group: &str| report.rows.iter().filter(|r| r.group == group).count();
    // The three PyTorch reference shapes; learner (short and long epochs) and bare loop at
    // m = 10; per hidden width a
    // learner epoch, a bare epoch and an evaluation; per n a GD iteration and an SGD step;
    // five optimizer families.
    assert_eq!(count("step"), 3);
    assert_eq!(count("lecture SGD"), 3);
    assert_eq!(count("MNIST MLP epoch"), 2 * sizes.mlp_hidden.len());
    assert_eq!(count("evaluation"), sizes.mlp_hidden.len());
    let points: usize = sizes.full_batch_n.iter().map(|(_, ns)| ns.len()).sum();
    assert_eq!(count("full batch vs SGD"), 2 * points);
    assert_eq!(count("optimizer step"), 5);
    assert_eq!(
        report.rows.len(),
        11 + 3 * sizes.mlp_hidden.len() + 2 * points
    );

    for row in &report.rows {
        assert!(
            row.seconds.is_finite() && row.seconds > 0.0,
            "{}: {}",
            row.case,
            row.seconds
        );
        if let Some((value, _)) = row.throughput {
            assert!(value.is_finite() && value > 0.0, "{}: {value}", row.case);
        }
        if let Some(gflops) = row.gflops {
            assert!(gflops.is_finite() && gflops > 0.0, "{}: {gflops}", row.case);
        }
    }
    assert!(
        report
            .rows
            .iter()
            .any(|r| r.case == "mlp 128 × 784 → 512 → 10")
    );
    assert!(
        report
            .rows
            .iter()
            .any(|r| r.note.contains("learner overhead"))
    );
    // One GD and one SGD slope per d with two or more n.
    assert_eq!(report.slopes.len(), 2 * sizes.full_batch_n.len());
    assert!(report.slopes.iter().all(|s| s.slope.is_finite()));

    let table = report.to_string();
    assert!(table.contains(
        "| group | case | median | per | throughput | GFLOP/s | % of fp32 peak \
             | % of Burn matmul | GB/s | % of copy | note |"
    ));
    // The header and one line per row, then the slopes' header and one line per slope.
    let lines = table.lines().filter(|l| l.starts_with("| ")).count();
    assert_eq!(lines, 1 + report.rows.len() + 1 + report.slopes.len());
    // The header names the peak's assumption and both measured yardsticks.
    assert!(table.contains("flop/cycle"), "{table}");
    assert!(table.contains("measured: Burn matmul 64³"), "{table}");
    assert!(report.attainable.matmul_gflops > 0.0 && report.attainable.copy_gbps > 0.0);
    // The memory-bound rows carry GB/s: every optimizer step and GD iteration.
    for row in &report.rows {
        let memory_bound = row.group == "optimizer step" || row.case.starts_with("GD iteration");
        assert_eq!(row.gbps.is_some(), memory_bound, "{}", row.case);
    }
    println!("{table}");
    assert!(table.contains("log-log slope of"));
}

#[test]
fn sgdlab_bench_rejects_an_unknown_flag_in_one_line() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_sgdlab"))
        .args(["bench", "--fast"])
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--fast"), "{stderr}");
}
