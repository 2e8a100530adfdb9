//! Loss and accuracy curves of a [`History`], as SVG and PNG.

use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::sync::Once;
use std::vec::Vec;
use std::{fmt, format, vec};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::History;

/// DejaVu Sans reduced to ASCII (see `runtime/assets/DejaVuSans-LICENSE.txt`):
/// PNG text needs a font, and a clean machine may have none.
static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans-subset.ttf");
const FAMILY: &str = "sans-serif";

/// A plot that could not be drawn or written.
#[derive(Debug)]
pub struct PlotError {
    path: PathBuf,
    message: String,
}

impl fmt::Display for PlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: cannot draw the plot: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for PlotError {}

/// The files a plot was written to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlotFiles {
    /// The SVG file.
    pub svg: PathBuf,
    /// The PNG file.
    pub png: PathBuf,
}

const WIDTH: u32 = 1100;
const HEIGHT: u32 = 420;
const TRAIN: RGBColor = RGBColor(31, 119, 180);
const VALID: RGBColor = RGBColor(255, 127, 14);

/// One curve: its name, colour and points.
struct Series {
    name: &'static str,
    color: RGBColor,
    points: Vec<(f64, f64)>,
}

fn series(
    history: &History,
    name: &'static str,
    color: RGBColor,
    f: impl Fn(&super::EpochReport) -> Option<f64>,
) -> Option<Series> {
    let points: Vec<(f64, f64)> =
        history.epochs.iter().filter_map(|r| Some((r.epoch as f64, f(r)?))).collect();
    (!points.is_empty()).then_some(Series { name, color, points })
}

/// Draws one panel: `title` over the curves, epochs across.
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    y_label: &str,
    curves: &[Series],
    percent: bool,
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let all = curves.iter().flat_map(|s| s.points.iter());
    let (mut x1, mut y0, mut y1) = (1.0f64, f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y) in all {
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if !y0.is_finite() {
        (y0, y1) = (0.0, 1.0);
    }
    let pad = ((y1 - y0) * 0.08).max(1e-6);
    let (y0, y1) = (y0 - pad, y1 + pad);
    let x0 = if x1 > 1.0 { 1.0 } else { 0.5 };
    let x1 = if x1 > 1.0 { x1 } else { 1.5 };

    let mut chart = ChartBuilder::on(area)
        .caption(title, (FAMILY, 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(err)?;
    let y_fmt = |v: &f64| if percent { format!("{:.1}%", 100.0 * v) } else { format!("{v:.3}") };
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(y_label)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&y_fmt)
        .label_style((FAMILY, 13))
        .axis_desc_style((FAMILY, 15))
        .max_light_lines(2)
        .light_line_style(RGBColor(240, 240, 240))
        .draw()
        .map_err(err)?;
    for s in curves {
        let color = s.color;
        chart
            .draw_series(LineSeries::new(s.points.iter().copied(), color.stroke_width(2)))
            .map_err(err)?
            .label(s.name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
        // Markers help read a few epochs and clutter many.
        if s.points.len() <= 60 {
            chart
                .draw_series(s.points.iter().map(|&p| Circle::new(p, 3, color.filled())))
                .map_err(err)?;
        }
    }
    chart
        .configure_series_labels()
        .label_font((FAMILY, 13))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .position(if percent {
            SeriesLabelPosition::LowerRight
        } else {
            SeriesLabelPosition::UpperRight
        })
        .draw()
        .map_err(err)?;
    Ok(())
}

fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, history: &History) -> Result<(), String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let (left, right) = root.split_horizontally(WIDTH / 2);
    let losses: Vec<Series> = [
        series(history, "train", TRAIN, |r| Some(r.train_loss)),
        series(history, "validation", VALID, |r| r.valid_loss),
    ]
    .into_iter()
    .flatten()
    .collect();
    panel(&left, "Loss", "loss", &losses, false)?;
    let accuracies: Vec<Series> = [
        series(history, "train", TRAIN, |r| r.train_accuracy),
        series(history, "validation", VALID, |r| r.valid_accuracy),
    ]
    .into_iter()
    .flatten()
    .collect();
    if accuracies.is_empty() {
        right
            .draw(&Text::new("no accuracy for this loss", (120, HEIGHT as i32 / 2), (FAMILY, 16)))
            .map_err(|e| e.to_string())?;
    } else {
        panel(&right, "Accuracy", "accuracy", &accuracies, true)?;
    }
    root.present().map_err(|e| e.to_string())
}

impl History {
    /// Draws the loss and accuracy curves, training and validation, side by
    /// side, and writes them as `<stem>.svg` and `<stem>.png`.
    pub fn plot(&self, stem: impl AsRef<Path>) -> Result<PlotFiles, PlotError> {
        static REGISTER: Once = Once::new();
        REGISTER.call_once(|| {
            // The font is ours and valid; a failure would only lose PNG text.
            let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
        });
        let stem = stem.as_ref();
        let with = |ext: &str| {
            let mut name = stem.file_name().map(|n| n.to_os_string()).unwrap_or_default();
            name.push(ext);
            stem.with_file_name(name)
        };
        let (svg, png) = (with(".svg"), with(".png"));
        let fail = |path: &Path, message: String| PlotError { path: path.to_path_buf(), message };
        draw(SVGBackend::new(&svg, (WIDTH, HEIGHT)).into_drawing_area(), self)
            .map_err(|m| fail(&svg, m))?;
        draw(BitMapBackend::new(&png, (WIDTH, HEIGHT)).into_drawing_area(), self)
            .map_err(|m| fail(&png, m))?;
        Ok(PlotFiles { svg, png })
    }
}
