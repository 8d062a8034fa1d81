//! `sgdlab experiment stationary`: gradient descent `θ^(t+1) = θ^(t) − α ∇f(θ^(t))` "gets
//! stuck" at stationary points (∇f = 0), lecture §2: started on one it never moves, a
//! stationary point need not be a minimum, and which point GD reaches depends on where it
//! starts.
//!
//! The function is the double well `f(x, y) = ¼(x² − 1)² + ½y²`,
//! `∇f = (x(x² − 1), y)`: a saddle at the origin (a maximum along x, a minimum along y)
//! between two global minima at (±1, 0). Along the line x = 0 the x-gradient is exactly
//! zero, so GD started there slides into the saddle and stays.

use std::collections::BTreeMap;

use super::problems::{Path, Problem, cpu, descend, paths_over_contours, write_paths_csv};
use super::{ExperimentOptions, Finding, Outcome};
use crate::Result;
use crate::optim::GradientDescent;
use crate::plot::{LineChart, Scale, Series};

const ALPHA: f64 = 0.1;
/// How close to a point counts as having reached it.
const REACHED: f64 = 1e-3;

/// The starts: CSV key, legend, θ^(0).
const STARTS: [(&str, &str, [f64; 2]); 6] = [
    ("on_saddle", "on the saddle (0, 0)", [0.0, 0.0]),
    ("on_minimum", "on the minimum (1, 0)", [1.0, 0.0]),
    ("saddle_line", "on x = 0: (0, 1)", [0.0, 1.0]),
    ("near_saddle", "near the saddle: (10⁻³, 0)", [1e-3, 0.0]),
    ("right", "(10⁻³, 1)", [1e-3, 1.0]),
    ("left", "(−10⁻³, 1)", [-1e-3, 1.0]),
];

fn distance(p: [f64; 2], q: [f64; 2]) -> f64 {
    (p[0] - q[0]).hypot(p[1] - q[1])
}

pub fn run(options: &ExperimentOptions) -> Result<Outcome> {
    let device = cpu()?;
    let dir = &options.out_dir;
    let steps = if options.quick { 150 } else { 300 };
    let problem = Problem::double_well();
    let mut paths: Vec<Path> = Vec::new();
    for (key, label, start) in STARTS {
        paths.push(
            descend(
                &problem,
                &GradientDescent::default(),
                ALPHA,
                start,
                steps,
                &device,
            )?
            .named(key, label),
        );
    }

    let mut outcome = Outcome {
        title: "Stationary points: GD stays on them, and which one it reaches depends on the start"
            .into(),
        lecture: "§2".into(),
        ..Outcome::default()
    };
    let mut chart = paths_over_contours(
        &problem,
        format!("GD (α = {ALPHA}) on {}, {steps} steps", problem.description),
        &paths,
    );
    chart.add_landmark("", (-1.0, 0.0));
    chart.add_landmark("saddle", (0.0, 0.0));
    outcome.figures.push(chart.write(dir, "stationary-paths")?);

    let saddle = [0.0, 0.0];
    let mut travelled = LineChart::new("Distance travelled from the start")
        .x_label("step t")
        .y_label("‖θ^(t) − θ^(0)‖");
    let mut from_saddle = LineChart::new("Distance from the saddle (log scale; 0 is not drawn)")
        .x_label("step t")
        .y_label("‖θ^(t) − (0, 0)‖")
        .y_scale(Scale::Log);
    let mut numbers = BTreeMap::new();
    for (color, path) in paths.iter().enumerate() {
        let start = path.points[0];
        let along = |reference: [f64; 2]| -> Vec<(f64, f64)> {
            path.points
                .iter()
                .enumerate()
                .map(|(t, &p)| (t as f64, distance(p, reference)))
                .collect()
        };
        travelled.add(Series::new(path.label.clone(), along(start)).color(color));
        from_saddle.add(Series::new(path.label.clone(), along(saddle)).color(color));
        let end = path.last();
        numbers.insert(
            format!("{}_distance_from_start", path.key),
            distance(end, start),
        );
        numbers.insert(
            format!("{}_distance_from_saddle", path.key),
            distance(end, saddle),
        );
        numbers.insert(format!("{}_final_x", path.key), end[0]);
        numbers.insert(format!("{}_final_y", path.key), end[1]);
        numbers.insert(format!("{}_final_loss", path.key), path.final_loss());
    }
    outcome
        .figures
        .push(travelled.write(dir, "stationary-distance-travelled")?);
    outcome
        .figures
        .push(from_saddle.write(dir, "stationary-distance-from-saddle")?);
    outcome
        .tables
        .push(write_paths_csv(&dir.join("stationary-paths.csv"), &paths)?);

    let get = |key: &str| numbers.get(key).copied().unwrap_or(f64::NAN);
    let (on_saddle, on_minimum) = (
        get("on_saddle_distance_from_start"),
        get("on_minimum_distance_from_start"),
    );
    outcome.findings.push(Finding {
        claim: "GD started exactly on a stationary point stays there".into(),
        evidence: format!(
            "after {steps} steps ‖θ_T − θ_0‖ = {on_saddle} from the saddle (0, 0) and {on_minimum} from the minimum (1, 0)"
        ),
        holds: on_saddle == 0.0 && on_minimum == 0.0,
    });
    let stuck = get("saddle_line_distance_from_saddle");
    let stuck_loss = get("saddle_line_final_loss");
    outcome.findings.push(Finding {
        claim: "A stationary point GD converges to need not be a minimum".into(),
        evidence: format!(
            "from (0, 1), where ∂f/∂x = 0, GD ends {stuck:.2e} from the saddle with f = {stuck_loss:.4} (f* = 0)"
        ),
        holds: stuck < REACHED && stuck_loss > 0.2,
    });
    let (near_start, near_end) = (1e-3, get("near_saddle_distance_from_saddle"));
    outcome.findings.push(Finding {
        claim: "From a nearby point GD leaves the saddle".into(),
        evidence: format!(
            "from (10⁻³, 0) the distance from the saddle grows from {near_start:.0e} to {near_end:.4} ({:.0}×)",
            near_end / near_start
        ),
        holds: near_end > 100.0 * near_start,
    });
    let (right, left) = (
        [get("right_final_x"), get("right_final_y")],
        [get("left_final_x"), get("left_final_y")],
    );
    outcome.findings.push(Finding {
        claim: "Which minimum GD reaches depends on the initialization".into(),
        evidence: format!(
            "from (10⁻³, 1) GD ends at ({:.4}, {:.1e}), from (−10⁻³, 1) at ({:.4}, {:.1e})",
            right[0], right[1], left[0], left[1]
        ),
        holds: distance(right, [1.0, 0.0]) < REACHED && distance(left, [-1.0, 0.0]) < REACHED,
    });
    outcome.numbers = numbers;
    outcome.notes = format!(
        "f(x, y) = ¼(x² − 1)² + ½y² has ∇f = (x(x² − 1), y): stationary points (0, 0) (a saddle, f = ¼) and (±1, 0) (minima, f = 0). Every path is sgdlab's GradientDescent with α = {ALPHA} on a two-parameter f32 Burn tensor, gradients by autodiff; distances are computed from the stored f32 iterates, so 0 means bit-for-bit unchanged."
    );
    Ok(outcome)
}
