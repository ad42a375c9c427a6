//! Small PNG charts of shared measures (mood over the last weeks) for channels that show
//! images. Messages carry a [`Chart`] (the numbers); a channel that shows images calls [`png`],
//! one that does not shows the same numbers in words, which every update and digest already
//! contains. The font is bundled (DejaVu Sans, see `assets/`), so no system fonts are needed.

use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// Width and height of a chart, in pixels.
pub const SIZE: (u32, u32) = (640, 360);

const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// What to draw: one line per series, over days.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Chart {
    /// Shown above the chart ("Ava's mood, last 4 weeks").
    pub title: String,
    /// The lines.
    pub series: Vec<Series>,
}

/// One line.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Its name in the legend.
    pub label: String,
    /// (days before today, value 1–5): `0` is today.
    pub points: Vec<(i64, f64)>,
}

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("the chart could not be drawn: {0}")]
pub struct ChartError(String);

fn font_ready() -> bool {
    static READY: OnceLock<bool> = OnceLock::new();
    *READY.get_or_init(|| register_font("sans-serif", FontStyle::Normal, FONT).is_ok())
}

/// Draws `chart` as a PNG.
pub fn png(chart: &Chart) -> Result<Vec<u8>, ChartError> {
    if !font_ready() {
        return Err(ChartError("the bundled font could not be loaded".into()));
    }
    let (w, h) = SIZE;
    let mut rgb = vec![0u8; (w * h * 3) as usize];
    let oldest = chart
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .max()
        .unwrap_or(7)
        .max(7);
    draw(chart, &mut rgb, oldest).map_err(ChartError)?;
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder
        .write_header()
        .map_err(|e| ChartError(e.to_string()))?;
    writer
        .write_image_data(&rgb)
        .map_err(|e| ChartError(e.to_string()))?;
    writer.finish().map_err(|e| ChartError(e.to_string()))?;
    Ok(out)
}

fn draw(chart: &Chart, rgb: &mut [u8], oldest: i64) -> Result<(), String> {
    let e = |e: &dyn std::fmt::Display| e.to_string();
    let root = BitMapBackend::with_buffer(rgb, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|x| e(&x))?;
    let mut c = ChartBuilder::on(&root)
        .caption(&chart.title, ("sans-serif", 22))
        .margin(14)
        .x_label_area_size(34)
        .y_label_area_size(30)
        .build_cartesian_2d(-(oldest as f64)..0.5f64, 0.5f64..5.5f64)
        .map_err(|x| e(&x))?;
    c.configure_mesh()
        .x_desc("days ago")
        .x_label_formatter(&|x| format!("{}", -x.round() as i64))
        .y_labels(5)
        .y_label_formatter(&|y| format!("{}", y.round() as i64))
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(|x| e(&x))?;
    let palette = [BLUE, RED, GREEN, MAGENTA, CYAN, BLACK];
    for (i, s) in chart.series.iter().enumerate() {
        let colour = palette[i % palette.len()];
        let mut points: Vec<(f64, f64)> =
            s.points.iter().map(|(d, v)| (-(*d as f64), *v)).collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        c.draw_series(LineSeries::new(points.clone(), colour.stroke_width(3)))
            .map_err(|x| e(&x))?
            .label(s.label.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(3))
            });
        c.draw_series(
            points
                .into_iter()
                .map(|p| Circle::new(p, 4, colour.filled())),
        )
        .map_err(|x| e(&x))?;
    }
    if chart.series.len() > 1 {
        c.configure_series_labels()
            .label_font(("sans-serif", 14))
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|x| e(&x))?;
    }
    root.present().map_err(|x| e(&x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mood_chart_is_a_png_of_the_stated_size() {
        let chart = Chart {
            title: "Ava's mood, last 4 weeks".into(),
            series: vec![Series {
                label: "Ava".into(),
                points: vec![(27, 2.0), (20, 3.0), (13, 3.0), (6, 4.0), (0, 5.0)],
            }],
        };
        let bytes = png(&chart).expect("draws");
        let decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
        let reader = decoder.read_info().expect("a valid PNG");
        assert_eq!((reader.info().width, reader.info().height), SIZE);
        if let Ok(dir) = std::env::var("CAREBOT_CHART_OUT") {
            std::fs::write(std::path::Path::new(&dir).join("mood.png"), &bytes).expect("write");
        }
    }

    #[test]
    fn an_empty_chart_still_draws() {
        assert!(png(&Chart::default()).is_ok());
    }
}
