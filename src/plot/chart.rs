//! A small, reusable line chart: labelled (x, y) series, a title, axis labels and a linear or
//! logarithmic scale per axis, written as `NAME.svg` and `NAME.png` side by side.
//!
//! ```no_run
//! use sgdlab::plot::{LineChart, Scale, Series};
//! let mut chart = LineChart::new("loss per epoch")
//!     .x_label("epoch")
//!     .y_label("loss")
//!     .y_scale(Scale::Log);
//! chart.add_series("train", vec![(1.0, 0.5), (2.0, 0.2), (3.0, 0.1)]);
//! chart.add(Series::new("valid", vec![(1.0, 0.6), (2.0, 0.3), (3.0, 0.2)]).dashed());
//! let written = chart.write(std::path::Path::new("out"), "loss").unwrap();
//! ```
//!
//! Text is laid out and rasterized with DejaVu Sans compiled into the binary (registered with
//! plotters' `ab_glyph` backend on first use), so figures render on a machine with no fonts.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use crate::{Error, Result};

/// The font every figure uses, compiled in so no system font is needed
/// (licence: `assets/fonts/LICENSE-DejaVu.txt`).
const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
/// The family name plotters asks for by default (axis labels, legend); we register FONT as it.
pub(crate) const FONT_FAMILY: &str = "sans-serif";

/// Default figure size in pixels (SVG user units and PNG pixels alike).
pub const DEFAULT_SIZE: (u32, u32) = (800, 500);
/// Series longer than this are thinned (every k-th point, the last kept) so an SVG of a long
/// run's per-step curve stays a few hundred kilobytes.
pub const MAX_POINTS_PER_SERIES: usize = 4000;

/// Line colours, in order of use (matplotlib's "tab10", which stays distinguishable in print).
pub(crate) const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// How an axis maps values to positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scale {
    #[default]
    Linear,
    /// Base 10; non-positive values cannot be drawn and are left out.
    Log,
}

/// One labelled curve.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Its legend entry.
    pub label: String,
    pub points: Vec<(f64, f64)>,
    /// Index into the palette; `None`: the series' position in the chart.
    pub color: Option<usize>,
    /// Dashed instead of solid (e.g. validation beside a solid training curve).
    pub dashed: bool,
    /// A dot at every point as well (a few measured values, where one alone draws no line).
    pub markers: bool,
}

impl Series {
    pub fn new(label: impl Into<String>, points: impl IntoIterator<Item = (f64, f64)>) -> Self {
        Self {
            label: label.into(),
            points: points.into_iter().collect(),
            color: None,
            dashed: false,
            markers: false,
        }
    }

    /// Draw with the palette's `index`-th colour (wraps around), e.g. one colour per run.
    pub fn color(mut self, index: usize) -> Self {
        self.color = Some(index);
        self
    }

    pub fn dashed(mut self) -> Self {
        self.dashed = true;
        self
    }

    pub fn markers(mut self) -> Self {
        self.markers = true;
        self
    }
}

/// A line chart of one or more series; see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct LineChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_scale: Scale,
    pub y_scale: Scale,
    /// Width and height in pixels.
    pub size: (u32, u32),
    series: Vec<Series>,
}

/// The two files [`LineChart::write`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub svg: PathBuf,
    pub png: PathBuf,
}

impl LineChart {
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            x_label: String::new(),
            y_label: String::new(),
            x_scale: Scale::Linear,
            y_scale: Scale::Linear,
            size: DEFAULT_SIZE,
            series: Vec::new(),
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

    pub fn x_scale(mut self, scale: Scale) -> Self {
        self.x_scale = scale;
        self
    }

    pub fn y_scale(mut self, scale: Scale) -> Self {
        self.y_scale = scale;
        self
    }

    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.size = (width, height);
        self
    }

    /// Adds a solid series in the next colour.
    pub fn add_series(
        &mut self,
        label: impl Into<String>,
        points: impl IntoIterator<Item = (f64, f64)>,
    ) -> &mut Self {
        self.add(Series::new(label, points))
    }

    /// Adds a series styled by the caller.
    pub fn add(&mut self, series: Series) -> &mut Self {
        self.series.push(series);
        self
    }

    pub fn series(&self) -> &[Series] {
        &self.series
    }

    /// Each series' points that can be drawn on these scales (finite; positive on a log
    /// axis), thinned to [`MAX_POINTS_PER_SERIES`]. Series left with no point are dropped.
    fn drawable(&self) -> Vec<Drawable<'_>> {
        let fits =
            |value: f64, scale: Scale| value.is_finite() && (scale == Scale::Linear || value > 0.0);
        self.series
            .iter()
            .enumerate()
            .filter_map(|(index, series)| {
                let points: Vec<(f64, f64)> = series
                    .points
                    .iter()
                    .copied()
                    .filter(|&(x, y)| fits(x, self.x_scale) && fits(y, self.y_scale))
                    .collect();
                (!points.is_empty()).then(|| Drawable {
                    color: PALETTE[series.color.unwrap_or(index) % PALETTE.len()],
                    series,
                    points: thin(points, MAX_POINTS_PER_SERIES),
                })
            })
            .collect()
    }

    /// Whether there is anything to draw: at least one point that fits the scales.
    pub fn is_empty(&self) -> bool {
        self.drawable().is_empty()
    }

    /// The chart as an SVG document.
    pub fn to_svg(&self) -> Result<String> {
        render_svg(self)
    }

    /// The chart as a PNG image (8-bit RGB).
    pub fn to_png(&self) -> Result<Vec<u8>> {
        render_png(self)
    }

    /// Writes `dir/stem.svg` and `dir/stem.png` (`dir` must exist). Errors if there is
    /// nothing to draw.
    pub fn write(&self, dir: &Path, stem: &str) -> Result<Written> {
        write_figure(self, dir, stem)
    }

    fn error(&self, error: impl std::fmt::Display) -> Error {
        draw_error(&self.title, error)
    }
    fn draw_chart<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        register_embedded_font();
        let drawable = self.drawable();
        if drawable.is_empty() {
            return Err(self.error("no finite data to plot"));
        }
        let (xs, ys): (Vec<f64>, Vec<f64>) = drawable
            .iter()
            .flat_map(|drawable| drawable.points.iter().copied())
            .unzip();
        let x = axis_range(&xs, self.x_scale, false);
        let y = axis_range(&ys, self.y_scale, true);
        let drawn = match (self.x_scale, self.y_scale) {
            (Scale::Linear, Scale::Linear) => self.draw_on(root, &drawable, x, y),
            (Scale::Linear, Scale::Log) => self.draw_on(root, &drawable, x, y.log_scale()),
            (Scale::Log, Scale::Linear) => self.draw_on(root, &drawable, x.log_scale(), y),
            (Scale::Log, Scale::Log) => self.draw_on(root, &drawable, x.log_scale(), y.log_scale()),
        };
        drawn.map_err(|e| self.error(e))
    }

    fn draw_on<DB, X, Y>(
        &self,
        root: &DrawingArea<DB, Shift>,
        drawable: &[Drawable<'_>],
        x: X,
        y: Y,
    ) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>>
    where
        DB: DrawingBackend,
        X: AsRangedCoord<Value = f64>,
        Y: AsRangedCoord<Value = f64>,
        X::CoordDescType: ValueFormatter<f64>,
        Y::CoordDescType: ValueFormatter<f64>,
    {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FONT_FAMILY, 20))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(72)
            .build_cartesian_2d(x, y)?;
        chart
            .configure_mesh()
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .x_label_formatter(&|v| tick_label(*v))
            .y_label_formatter(&|v| tick_label(*v))
            .label_style((FONT_FAMILY, 14))
            .axis_desc_style((FONT_FAMILY, 15))
            .light_line_style(WHITE.mix(0.0))
            .bold_line_style(BLACK.mix(0.1))
            .draw()?;
        for Drawable {
            color,
            series,
            points,
        } in drawable
        {
            let style = color.stroke_width(2);
            let annotation = if series.dashed {
                chart.draw_series(DashedLineSeries::new(points.iter().copied(), 8, 5, style))?
            } else {
                chart.draw_series(LineSeries::new(points.iter().copied(), style))?
            };
            if !series.label.is_empty() {
                // The legend's sample: a solid line, or two dashes.
                let gap = if series.dashed { 5 } else { 0 };
                annotation
                    .label(series.label.as_str())
                    .legend(move |(x, y)| {
                        EmptyElement::at((x, y))
                            + PathElement::new(vec![(0, 0), (8, 0)], style)
                            + PathElement::new(vec![(8 + gap, 0), (20, 0)], style)
                    });
            }
            if series.markers {
                chart.draw_series(
                    points
                        .iter()
                        .map(|&point| Circle::new(point, 4, color.filled())),
                )?;
            }
        }
        // A single series is named by the title and axis; a legend only repeats it.
        if drawable.len() > 1 {
            chart
                .configure_series_labels()
                .label_font((FONT_FAMILY, 15))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.4))
                .position(SeriesLabelPosition::UpperRight)
                .draw()?;
        }
        Ok(())
    }
}

impl Render for LineChart {
    fn title(&self) -> &str {
        &self.title
    }
    fn size(&self) -> (u32, u32) {
        self.size
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        self.draw_chart(root)
    }
}

/// A figure that draws itself on any plotters backend; [`render_svg`], [`render_png`] and
/// [`write_figure`] turn it into files, so every kind of figure is written the same way.
pub(crate) trait Render {
    fn title(&self) -> &str;
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>;
}

/// The one-line error for a figure that cannot be drawn.
pub(crate) fn draw_error(title: &str, error: impl std::fmt::Display) -> Error {
    Error::new(format!("cannot draw the figure {title:?}: {error}"))
}

/// `figure` as an SVG document.
pub(crate) fn render_svg(figure: &impl Render) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, figure.size()).into_drawing_area();
        figure.draw(&root)?;
        root.present().map_err(|e| draw_error(figure.title(), e))?;
    }
    Ok(svg)
}

/// `figure` as a PNG image (8-bit RGB).
pub(crate) fn render_png(figure: &impl Render) -> Result<Vec<u8>> {
    let (width, height) = figure.size();
    let mut pixels = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        figure.draw(&root)?;
        root.present().map_err(|e| draw_error(figure.title(), e))?;
    }
    // plotters' own PNG encoder would pull in the `image` crate; `png` is all it takes.
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .write_header()
        .and_then(|mut writer| writer.write_image_data(&pixels))
        .map_err(|e| draw_error(figure.title(), e))?;
    Ok(bytes)
}

/// Writes `dir/stem.svg` and `dir/stem.png` (`dir` must exist).
pub(crate) fn write_figure(figure: &impl Render, dir: &Path, stem: &str) -> Result<Written> {
    let svg_path = dir.join(format!("{stem}.svg"));
    let png_path = dir.join(format!("{stem}.png"));
    let svg = render_svg(figure)?;
    let png = render_png(figure)?;
    std::fs::write(&svg_path, svg).map_err(|e| Error::io("write", &svg_path, e))?;
    std::fs::write(&png_path, png).map_err(|e| Error::io("write", &png_path, e))?;
    Ok(Written {
        svg: svg_path,
        png: png_path,
    })
}

/// A series as drawn: its colour and the points that fit the scales.
struct Drawable<'a> {
    color: RGBColor,
    series: &'a Series,
    points: Vec<(f64, f64)>,
}

/// Registers the compiled-in font as plotters' `sans-serif`, once per process.
pub(crate) fn register_embedded_font() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        // Only fails on a malformed font file, and this one is compiled in and tested.
        if register_font(FONT_FAMILY, FontStyle::Normal, FONT).is_err() {
            panic!("the embedded font assets/fonts/DejaVuSans.ttf does not parse");
        }
    });
}

/// Every k-th point (k the smallest that leaves at most `max`), always keeping the last.
fn thin(points: Vec<(f64, f64)>, max: usize) -> Vec<(f64, f64)> {
    if points.len() <= max {
        return points;
    }
    let stride = points.len().div_ceil(max - 1);
    let last = *points.last().expect("non-empty");
    let mut kept: Vec<(f64, f64)> = points.into_iter().step_by(stride).collect();
    if kept.last() != Some(&last) {
        kept.push(last);
    }
    kept
}

/// The axis range covering `values` (finite, positive for log, non-empty). Log axes are
/// widened to whole decades so there is always a labelled power of ten at each end; linear
/// `padded` axes get 5% of margin so a curve does not run along the frame.
pub(crate) fn axis_range(values: &[f64], scale: Scale, padded: bool) -> Range<f64> {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    match scale {
        Scale::Log => {
            let low = 10f64.powf(min.log10().floor());
            let mut high = 10f64.powf(max.log10().ceil());
            if low >= high {
                high *= 10.0;
            }
            // plotters finds its first tick as 10^⌈log10(start)⌉, and log10(0.001) rounds to
            // -2.9999999999999996: nudged outwards, the end decades keep their labels.
            (low * (1.0 - 1e-9))..(high * (1.0 + 1e-9))
        }
        Scale::Linear => {
            if min == max {
                let half = if min == 0.0 { 1.0 } else { min.abs() * 0.1 };
                return (min - half)..(max + half);
            }
            let margin = if padded { (max - min) * 0.05 } else { 0.0 };
            (min - margin)..(max + margin)
        }
    }
}

/// A short tick label: plain decimals for moderate magnitudes, `1e-7` style otherwise.
pub fn tick_label(value: f64) -> String {
    let magnitude = value.abs();
    if value == 0.0 {
        return "0".into();
    }
    if !(1e-3..1e5).contains(&magnitude) {
        let text = format!("{value:.1e}");
        // 1.0e-7 → 1e-7
        return text.replacen(".0e", "e", 1);
    }
    let text = format!("{value:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(tick_label(0.0), "0");
        assert_eq!(tick_label(0.5), "0.5");
        assert_eq!(tick_label(20.0), "20");
        assert_eq!(tick_label(0.001), "0.001");
        assert_eq!(tick_label(1e-7), "1e-7");
        assert_eq!(tick_label(2.5e-7), "2.5e-7");
        assert_eq!(tick_label(123456.0), "1.2e5");
    }

    #[test]
    fn log_ranges_cover_whole_decades() {
        let range = axis_range(&[0.003, 0.2], Scale::Log, true);
        assert!((range.start / 0.001 - 1.0).abs() < 1e-6 && range.start <= 0.001);
        assert!((range.end - 1.0).abs() < 1e-6 && range.end >= 1.0);
        // Within one decade, still two powers of ten to label.
        let range = axis_range(&[0.3, 0.9], Scale::Log, true);
        assert!(range.start <= 0.3 && range.end >= 0.9 && range.start < range.end);
        let single = axis_range(&[0.01], Scale::Log, true);
        assert!(single.start < single.end);
    }

    #[test]
    fn constant_series_get_a_non_empty_linear_range() {
        let range = axis_range(&[0.1, 0.1], Scale::Linear, true);
        assert!(range.start < 0.1 && range.end > 0.1);
        let zero = axis_range(&[0.0], Scale::Linear, false);
        assert!(zero.start < 0.0 && zero.end > 0.0);
    }

    #[test]
    fn thinning_keeps_the_ends_and_the_limit() {
        let points: Vec<(f64, f64)> = (0..10_001).map(|i| (i as f64, 1.0)).collect();
        let thinned = thin(points, 1000);
        assert!(thinned.len() <= 1000, "{}", thinned.len());
        assert_eq!(thinned.first(), Some(&(0.0, 1.0)));
        assert_eq!(thinned.last(), Some(&(10_000.0, 1.0)));
        let short: Vec<(f64, f64)> = (0..5).map(|i| (i as f64, 1.0)).collect();
        assert_eq!(thin(short.clone(), 1000), short);
    }

    #[test]
    fn log_axes_leave_out_what_they_cannot_draw() {
        let mut chart = LineChart::new("t").y_scale(Scale::Log);
        chart.add_series("negative", vec![(1.0, -1.0), (2.0, 0.0), (3.0, f64::NAN)]);
        assert!(chart.is_empty());
        assert!(chart.to_svg().is_err());
        chart.add_series("positive", vec![(1.0, 1e-3), (2.0, 1e-6)]);
        assert!(!chart.is_empty());
        let svg = chart.to_svg().unwrap();
        // The one drawable series, in its own (second) colour: one line and, alone, no
        // legend sample or label.
        assert_eq!(svg.matches(r##"stroke="#FF7F0E""##).count(), 1, "{svg}");
        assert!(!svg.contains(">positive<"));
    }

    #[test]
    fn png_is_an_rgb_image_of_the_chart_size() {
        let mut chart = LineChart::new("t").size(320, 200);
        chart.add_series("a", vec![(0.0, 1.0), (1.0, 2.0)]);
        let bytes = chart.to_png().unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let reader = decoder.read_info().unwrap();
        assert_eq!(reader.info().width, 320);
        assert_eq!(reader.info().height, 200);
    }
}
