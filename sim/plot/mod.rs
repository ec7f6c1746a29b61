//! Plots of results tables: a scatter of design points with their Pareto front, and per-layer
//! bar charts of one run.
//!
//! Pure: each plot is drawn into memory (SVG text or PNG bytes); the CLI writes the file.
//! Text in PNGs is rendered with DejaVu Sans, shipped in `assets/fonts` and embedded in the
//! binary, so no system fonts are needed. Every design point is one `<circle>` in an SVG;
//! legends use squares and sit outside the data areas.
//!
//! Files: [`scene`] (shapes in pixels, text measured with the font, the [`Layout`] of every
//! text, legend and mark), [`labels`] (axis titles in words with units scaled to the data,
//! tick numbers), [`axes`] (linear and log axes, drawn), [`legend`], [`colours`] (palette,
//! ramp, colouring rows by a column), [`mod@scatter`] and [`mod@bars`].

use std::sync::Once;

use plotters::prelude::*;

use crate::error::Error;

pub mod axes;
pub mod bars;
pub mod colours;
pub mod labels;
pub mod legend;
pub mod scatter;
pub mod scene;

pub use bars::{bars, BarOptions};
pub use labels::{axis_label, scaled_axis_label, short_number};
pub use scatter::{scatter, ScatterOptions};
pub use scene::{text_bounds, text_extent, Anchor, Bounds, Layout};

static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
pub(crate) const FAMILY: &str = "sans-serif";

pub(crate) fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The embedded file is a valid TrueType font; registration cannot fail on it.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

/// Why a plot could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// A column is missing or holds no numbers.
    #[error(transparent)]
    Input(#[from] Error),
    /// The drawing library failed.
    #[error("cannot draw the plot: {0}")]
    Draw(String),
}

pub type PlotResult<T> = std::result::Result<T, PlotError>;

impl From<PlotError> for Error {
    fn from(e: PlotError) -> Error {
        match e {
            PlotError::Input(e) => e,
            PlotError::Draw(d) => Error::Internal(format!("cannot draw the plot: {d}")),
        }
    }
}

/// Output format, chosen by the file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Svg,
    Png,
}

impl ImageFormat {
    /// From a file name's extension (`.svg` or `.png`, any case).
    pub fn from_path(path: &std::path::Path) -> Option<ImageFormat> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "svg" => Some(ImageFormat::Svg),
            "png" => Some(ImageFormat::Png),
            _ => None,
        }
    }
}

/// A drawn plot.
#[derive(Debug, Clone)]
pub struct Plot {
    pub bytes: Vec<u8>,
    /// Markers (scatter) or bars drawn.
    pub marks: usize,
    /// Points on the Pareto front (scatter with a front).
    pub front: usize,
    /// Where every text, the legend and every mark are, in pixels.
    pub layout: Layout,
}

pub(crate) fn draw_err<E: std::fmt::Debug>(e: E) -> PlotError {
    PlotError::Draw(format!("{e:?}"))
}

/// The scene drawn as SVG text or PNG bytes.
pub(crate) fn render(scene: &scene::Scene, format: ImageFormat) -> PlotResult<Vec<u8>> {
    let size = scene.layout.size;
    register_font();
    match format {
        ImageFormat::Svg => {
            let mut s = String::new();
            {
                let root = SVGBackend::with_string(&mut s, size).into_drawing_area();
                scene.draw(&root)?;
                root.present().map_err(draw_err)?;
            }
            Ok(s.into_bytes())
        }
        ImageFormat::Png => {
            let mut buf = vec![0u8; size.0 as usize * size.1 as usize * 3];
            {
                let root = BitMapBackend::with_buffer(&mut buf, size).into_drawing_area();
                scene.draw(&root)?;
                root.present().map_err(draw_err)?;
            }
            let mut out = Vec::new();
            {
                let mut enc = png::Encoder::new(&mut out, size.0, size.1);
                enc.set_color(png::ColorType::Rgb);
                enc.set_depth(png::BitDepth::Eight);
                let mut w = enc.write_header().map_err(draw_err)?;
                w.write_image_data(&buf).map_err(draw_err)?;
            }
            Ok(out)
        }
    }
}
