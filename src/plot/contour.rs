//! Level curves of a function of two variables, with optimizer paths drawn over them: the
//! lecture's picture of gradient descent (§2: "the gradient is orthogonal to level curves").
//!
//! The function is sampled on a regular [`Grid`]; each level curve is traced by marching
//! squares ([`level_segments`]), linear interpolation along the edges of every grid cell, so a
//! curve is exact to within the grid spacing. Paths are [`Series`] drawn as polylines with a
//! marker at every iterate (thinned for long paths), the start circled, with a legend; parts
//! of a path outside the window (a diverging run) are clipped at its frame. Written as SVG and
//! PNG exactly like [`LineChart`](super::LineChart), with the same font and palette.

use std::ops::Range;
use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::chart::{
    DEFAULT_SIZE, FONT_FAMILY, PALETTE, Render, Series, Written, draw_error,
    register_embedded_font, render_png, render_svg, tick_label, write_figure,
};
use crate::Result;

/// At most this many markers per path; longer paths get one every k iterates.
const MAX_MARKERS: usize = 60;

/// Values of f(x, y) on a regular grid: `values[j * x.len() + i] = f(x[i], y[j])`.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub values: Vec<f64>,
}

impl Grid {
    /// Samples `f` at `nx × ny` points spanning `x` and `y`, ends included (`nx, ny ≥ 2`).
    pub fn sample(
        x: Range<f64>,
        y: Range<f64>,
        (nx, ny): (usize, usize),
        mut f: impl FnMut(f64, f64) -> f64,
    ) -> Grid {
        let axis = |range: &Range<f64>, n: usize| -> Vec<f64> {
            let n = n.max(2);
            (0..n)
                .map(|k| range.start + (range.end - range.start) * k as f64 / (n - 1) as f64)
                .collect()
        };
        let xs = axis(&x, nx);
        let ys = axis(&y, ny);
        let mut values = Vec::with_capacity(xs.len() * ys.len());
        for &yj in &ys {
            for &xi in &xs {
                values.push(f(xi, yj));
            }
        }
        Grid {
            x: xs,
            y: ys,
            values,
        }
    }

    /// Whether `values` holds one value per grid point (the fields are public, so a grid can
    /// be built by hand).
    pub fn is_consistent(&self) -> bool {
        self.values.len() == self.x.len() * self.y.len()
    }

    fn at(&self, i: usize, j: usize) -> f64 {
        self.values[j * self.x.len() + i]
    }

    /// The smallest and largest finite value on the grid.
    pub fn finite_range(&self) -> Option<(f64, f64)> {
        let finite = self.values.iter().copied().filter(|v| v.is_finite());
        let (low, high) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        (low <= high).then_some((low, high))
    }
}

/// `count` levels `floor + gap_k`, the gaps geometric from `lowest_gap` to `highest_gap`:
/// evenly spaced in log(f − floor), which is how the level curves of a function with minimum
/// `floor` spread out evenly over the picture (a quadratic's ellipses, a logistic loss's
/// valley) instead of crowding at the rim.
pub fn geometric_levels(floor: f64, lowest_gap: f64, highest_gap: f64, count: usize) -> Vec<f64> {
    if count < 2 {
        return vec![floor + highest_gap; count];
    }
    let ratio = (highest_gap / lowest_gap).powf(1.0 / (count - 1) as f64);
    (0..count)
        .map(|k| floor + lowest_gap * ratio.powi(k as i32))
        .collect()
}

/// A straight piece of a level curve, from one cell edge to another.
pub type Segment = [(f64, f64); 2];

/// The level curve `f = level` of `grid` as segments, by marching squares: in every cell whose
/// corners lie on both sides of the level, the crossings of its edges (linear interpolation)
/// are joined. A cell with two opposite corners above and two below is split by the mean of
/// its corners. Cells with a non-finite corner are skipped; an inconsistent grid has none.
pub fn level_segments(grid: &Grid, level: f64) -> Vec<Segment> {
    let mut segments = Vec::new();
    if !grid.is_consistent() {
        return segments;
    }
    let (nx, ny) = (grid.x.len(), grid.y.len());
    for j in 0..ny.saturating_sub(1) {
        for i in 0..nx.saturating_sub(1) {
            // Corners counter-clockwise from the lower left.
            let corners = [
                (grid.x[i], grid.y[j], grid.at(i, j)),
                (grid.x[i + 1], grid.y[j], grid.at(i + 1, j)),
                (grid.x[i + 1], grid.y[j + 1], grid.at(i + 1, j + 1)),
                (grid.x[i], grid.y[j + 1], grid.at(i, j + 1)),
            ];
            if corners.iter().any(|c| !c.2.is_finite()) {
                continue;
            }
            let above = corners.map(|c| c.2 >= level);
            // Edge k joins corner k and corner k + 1: bottom, right, top, left.
            let crossing = |k: usize| -> Option<(f64, f64)> {
                let (a, b) = (corners[k], corners[(k + 1) % 4]);
                if above[k] == above[(k + 1) % 4] {
                    return None;
                }
                let t = (level - a.2) / (b.2 - a.2);
                Some((a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1)))
            };
            let crossings: Vec<(usize, (f64, f64))> =
                (0..4).filter_map(|k| crossing(k).map(|p| (k, p))).collect();
            match crossings.as_slice() {
                [(_, p), (_, q)] => segments.push([*p, *q]),
                [(_, bottom), (_, right), (_, top), (_, left)] => {
                    let centre = corners.iter().map(|c| c.2).sum::<f64>() / 4.0;
                    if (centre >= level) == above[0] {
                        // Corners 0 and 2 are joined through the centre: cut off 1 and 3.
                        segments.push([*bottom, *right]);
                        segments.push([*top, *left]);
                    } else {
                        segments.push([*left, *bottom]);
                        segments.push([*right, *top]);
                    }
                }
                _ => {}
            }
        }
    }
    segments
}

/// Level curves of a sampled function with paths drawn over them; see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct ContourChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// Width and height in pixels.
    pub size: (u32, u32),
    grid: Grid,
    levels: Vec<f64>,
    paths: Vec<Series>,
    /// Labelled points marked with a black cross (a minimum, a saddle).
    landmarks: Vec<(String, (f64, f64))>,
}

impl ContourChart {
    /// A chart of `grid`'s level curves at `levels`, the window being the grid's extent.
    pub fn new(title: impl Into<String>, grid: Grid, levels: Vec<f64>) -> Self {
        Self {
            title: title.into(),
            x_label: String::new(),
            y_label: String::new(),
            size: DEFAULT_SIZE,
            grid,
            levels,
            paths: Vec::new(),
            landmarks: Vec::new(),
        }
    }

    pub fn x_label(mut self, label: impl Into<String>) -> Self {
        self.x_label = label.into();
        self
    }

    pub fn y_label(mut self, label: impl Into<String>) -> Self {
        self.y_label = label.into();
        self
    }

    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.size = (width, height);
        self
    }

    /// Adds a path: its points in order, the first being the start.
    pub fn add_path(&mut self, path: Series) -> &mut Self {
        self.paths.push(path);
        self
    }

    /// Marks `point` with a cross labelled `label` in the legend (none when empty, e.g. for a
    /// second point of a kind already labelled).
    pub fn add_landmark(&mut self, label: impl Into<String>, point: (f64, f64)) -> &mut Self {
        self.landmarks.push((label.into(), point));
        self
    }

    pub fn paths(&self) -> &[Series] {
        &self.paths
    }

    pub fn to_svg(&self) -> Result<String> {
        render_svg(self)
    }

    pub fn to_png(&self) -> Result<Vec<u8>> {
        render_png(self)
    }

    /// Writes `dir/stem.svg` and `dir/stem.png` (`dir` must exist).
    pub fn write(&self, dir: &Path, stem: &str) -> Result<Written> {
        write_figure(self, dir, stem)
    }

    fn window(&self) -> (Range<f64>, Range<f64>) {
        let x =
            self.grid.x.first().copied().unwrap_or(0.0)..self.grid.x.last().copied().unwrap_or(1.0);
        let y =
            self.grid.y.first().copied().unwrap_or(0.0)..self.grid.y.last().copied().unwrap_or(1.0);
        (x, y)
    }
}

impl Render for ContourChart {
    fn title(&self) -> &str {
        &self.title
    }

    fn size(&self) -> (u32, u32) {
        self.size
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        register_embedded_font();
        let error = |e: DrawingAreaErrorKind<DB::ErrorType>| draw_error(&self.title, e);
        let (x, y) = self.window();
        if !(x.start < x.end && y.start < y.end) {
            return Err(draw_error(&self.title, "the grid spans no area"));
        }
        if !self.grid.is_consistent() {
            return Err(draw_error(
                &self.title,
                format!(
                    "the grid has {} values for {} × {} points",
                    self.grid.values.len(),
                    self.grid.x.len(),
                    self.grid.y.len()
                ),
            ));
        }
        root.fill(&WHITE).map_err(error)?;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FONT_FAMILY, 20))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(x.clone(), y.clone())
            .map_err(error)?;
        chart
            .configure_mesh()
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .x_label_formatter(&|v| tick_label(*v))
            .y_label_formatter(&|v| tick_label(*v))
            .label_style((FONT_FAMILY, 14))
            .axis_desc_style((FONT_FAMILY, 15))
            .disable_mesh()
            .draw()
            .map_err(error)?;

        // Level curves in grey, darker towards the lowest level.
        let count = self.levels.len().max(1) as f64;
        for (k, &level) in self.levels.iter().enumerate() {
            let shade = (90.0 + 120.0 * k as f64 / count) as u8;
            let style = RGBColor(shade, shade, shade).stroke_width(1);
            let segments = level_segments(&self.grid, level);
            chart
                .draw_series(
                    segments
                        .into_iter()
                        .map(|[p, q]| PathElement::new(vec![p, q], style)),
                )
                .map_err(error)?;
        }

        for (index, path) in self.paths.iter().enumerate() {
            let color = PALETTE[path.color.unwrap_or(index) % PALETTE.len()];
            let style = color.stroke_width(2);
            let pieces = clip_polyline(&path.points, &x, &y);
            let mut labelled = false;
            for piece in &pieces {
                let drawn = if path.dashed {
                    chart.draw_series(DashedLineSeries::new(piece.iter().copied(), 6, 4, style))
                } else {
                    chart.draw_series(LineSeries::new(piece.iter().copied(), style))
                }
                .map_err(error)?;
                if !labelled && !path.label.is_empty() {
                    labelled = true;
                    drawn.label(path.label.as_str()).legend(move |(x, y)| {
                        EmptyElement::at((x, y))
                            + PathElement::new(vec![(0, 0), (20, 0)], style)
                            + Circle::new((10, 0), 3, color.filled())
                    });
                }
            }
            let inside = |&(px, py): &(f64, f64)| x.contains(&px) && y.contains(&py);
            let every = path.points.len().div_ceil(MAX_MARKERS).max(1);
            chart
                .draw_series(
                    path.points
                        .iter()
                        .step_by(every)
                        .filter(|p| inside(p))
                        .map(|&p| Circle::new(p, 3, color.filled())),
                )
                .map_err(error)?;
            if let Some(start) = path.points.first().filter(|p| inside(p)) {
                chart
                    .draw_series(std::iter::once(Circle::new(
                        *start,
                        7,
                        color.stroke_width(2),
                    )))
                    .map_err(error)?;
            }
        }

        for (label, point) in &self.landmarks {
            let style = BLACK.stroke_width(2);
            let drawn = chart
                .draw_series(std::iter::once(Cross::new(*point, 6, style)))
                .map_err(error)?;
            if !label.is_empty() {
                drawn
                    .label(label.as_str())
                    .legend(move |(x, y)| Cross::new((x + 10, y), 5, style));
            }
        }

        if !self.paths.is_empty() || !self.landmarks.is_empty() {
            chart
                .configure_series_labels()
                .label_font((FONT_FAMILY, 14))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.4))
                .position(SeriesLabelPosition::UpperRight)
                .draw()
                .map_err(error)?;
        }
        Ok(())
    }
}

/// The parts of the polyline `points` inside the box `x × y`, each segment cut at the frame
/// (Liang–Barsky); a path that leaves and comes back gives several pieces. Non-finite points
/// end a piece.
fn clip_polyline(points: &[(f64, f64)], x: &Range<f64>, y: &Range<f64>) -> Vec<Vec<(f64, f64)>> {
    let mut pieces: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    let mut flush = |current: &mut Vec<(f64, f64)>| {
        if current.len() >= 2 {
            pieces.push(std::mem::take(current));
        } else {
            current.clear();
        }
    };
    for pair in points.windows(2) {
        let (p, q) = (pair[0], pair[1]);
        match clip_segment(p, q, x, y) {
            Some((a, b)) => {
                if current.last() != Some(&a) {
                    flush(&mut current);
                    current.push(a);
                }
                current.push(b);
                if b != q {
                    flush(&mut current);
                }
            }
            None => flush(&mut current),
        }
    }
    flush(&mut current);
    pieces
}

/// The part of segment p→q inside the box, if any.
fn clip_segment(
    p: (f64, f64),
    q: (f64, f64),
    x: &Range<f64>,
    y: &Range<f64>,
) -> Option<((f64, f64), (f64, f64))> {
    if ![p.0, p.1, q.0, q.1].iter().all(|v| v.is_finite()) {
        return None;
    }
    let (dx, dy) = (q.0 - p.0, q.1 - p.1);
    let (mut enter, mut leave) = (0.0f64, 1.0f64);
    for (direction, distance) in [
        (-dx, p.0 - x.start),
        (dx, x.end - p.0),
        (-dy, p.1 - y.start),
        (dy, y.end - p.1),
    ] {
        if direction == 0.0 {
            if distance < 0.0 {
                return None;
            }
        } else {
            let t = distance / direction;
            if direction < 0.0 {
                enter = enter.max(t);
            } else {
                leave = leave.min(t);
            }
        }
    }
    if enter > leave {
        return None;
    }
    let at = |t: f64| {
        if t == 0.0 {
            p
        } else if t == 1.0 {
            q
        } else {
            (p.0 + t * dx, p.1 + t * dy)
        }
    };
    Some((at(enter), at(leave)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_level_curve_of_a_paraboloid_is_its_circle() {
        let grid = Grid::sample(-2.0..2.0, -2.0..2.0, (81, 81), |x, y| x * x + y * y);
        let spacing = 4.0 / 80.0;
        for r in [0.5f64, 1.0, 1.7] {
            let segments = level_segments(&grid, r * r);
            assert!(!segments.is_empty());
            let mut quadrants = [false; 4];
            for point in segments.iter().flatten() {
                let radius = point.0.hypot(point.1);
                assert!(
                    (radius - r).abs() < spacing,
                    "level {r}²: point {point:?} at radius {radius}"
                );
                quadrants[usize::from(point.0 < 0.0) + 2 * usize::from(point.1 < 0.0)] = true;
            }
            // All the way round, and about as long as the circle.
            assert_eq!(quadrants, [true; 4]);
            let length: f64 = segments
                .iter()
                .map(|[p, q]| (p.0 - q.0).hypot(p.1 - q.1))
                .sum();
            let circumference = 2.0 * std::f64::consts::PI * r;
            assert!(
                (length / circumference - 1.0).abs() < 0.02,
                "{length} vs {circumference}"
            );
        }
        // A level below the minimum has no curve.
        assert!(level_segments(&grid, -1.0).is_empty());
    }

    #[test]
    fn a_grid_built_by_hand_with_missing_values_is_an_error_not_a_panic() {
        let grid = Grid {
            x: vec![0.0, 1.0, 2.0],
            y: vec![0.0, 1.0],
            values: vec![0.0; 5],
        };
        assert!(level_segments(&grid, 0.5).is_empty());
        let error = ContourChart::new("broken", grid, vec![0.5])
            .to_svg()
            .unwrap_err();
        assert!(
            error.to_string().contains("5 values for 3 × 2 points"),
            "{error}"
        );
    }

    #[test]
    fn a_saddle_cell_is_split_by_its_centre() {
        // Corners 1 (lower left), 0, 1, 0: above at 0 and 2; centre 0.5 ≥ 0.5 joins them.
        let grid = Grid {
            x: vec![0.0, 1.0],
            y: vec![0.0, 1.0],
            values: vec![1.0, 0.0, 0.0, 1.0],
        };
        let segments = level_segments(&grid, 0.5);
        assert_eq!(
            segments,
            vec![[(0.5, 0.0), (1.0, 0.5)], [(0.5, 1.0), (0.0, 0.5)]]
        );
    }

    #[test]
    fn geometric_levels_are_evenly_spaced_in_log() {
        let levels = geometric_levels(1.0, 0.01, 100.0, 5);
        let expected = [1.01, 1.1, 2.0, 11.0, 101.0];
        for (level, want) in levels.iter().zip(expected) {
            assert!((level - want).abs() < 1e-9 * want, "{levels:?}");
        }
    }

    #[test]
    fn paths_are_clipped_at_the_frame() {
        let pieces = clip_polyline(
            &[(0.0, 0.0), (0.5, 0.5), (2.0, 0.5), (0.5, 0.5), (0.2, 0.2)],
            &(-1.0..1.0),
            &(-1.0..1.0),
        );
        assert_eq!(
            pieces,
            vec![
                vec![(0.0, 0.0), (0.5, 0.5), (1.0, 0.5)],
                vec![(1.0, 0.5), (0.5, 0.5), (0.2, 0.2)]
            ]
        );
        let outside = clip_polyline(&[(5.0, 5.0), (6.0, 6.0)], &(-1.0..1.0), &(-1.0..1.0));
        assert!(outside.is_empty());
    }

    #[test]
    fn a_contour_chart_renders_paths_and_landmarks() {
        let grid = Grid::sample(-1.0..1.0, -1.0..1.0, (21, 21), |x, y| x * x + 4.0 * y * y);
        let levels = geometric_levels(0.0, 0.01, 4.0, 6);
        let mut chart = ContourChart::new("bowl", grid, levels).size(400, 300);
        chart.add_path(Series::new("gd", vec![(0.9, 0.9), (0.5, 0.1), (0.2, 0.0)]));
        chart.add_landmark("minimum", (0.0, 0.0));
        let svg = chart.to_svg().unwrap();
        // The legend names the path and the landmark (text nodes on lines of their own).
        let texts: Vec<&str> = svg.lines().map(str::trim).collect();
        assert!(texts.contains(&"gd") && texts.contains(&"minimum"), "{svg}");
        let png = chart.to_png().unwrap();
        let reader = png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .unwrap();
        assert_eq!((reader.info().width, reader.info().height), (400, 300));
    }
}
