//! Legends, laid out outside the data: one column to the right of a plot area, or rows
//! flowing below it.

use plotters::prelude::*;

use super::scene::{text_extent, Anchor, Bounds, Scene};

const FONT: f64 = 12.0;
const ROW: f64 = 18.0;
const SWATCH: f64 = 10.0;
const PAD: f64 = 8.0;
/// Between a swatch and its text, and between entries in a row.
const INNER: f64 = 5.0;
const SPACING: f64 = 16.0;

/// A legend: an optional title, then colour swatches with their names.
#[derive(Debug, Clone, Default)]
pub(crate) struct Legend {
    pub(crate) title: Option<String>,
    pub(crate) entries: Vec<(String, RGBColor)>,
}

impl Legend {
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn entry_w(name: &str) -> f64 {
        SWATCH + INNER + text_extent(name, FONT).0
    }

    /// Width and height as one column.
    pub(crate) fn column_size(&self) -> (f64, f64) {
        let w = self
            .entries
            .iter()
            .map(|(n, _)| Self::entry_w(n))
            .chain(self.title.iter().map(|t| text_extent(t, FONT).0))
            .fold(0.0, f64::max);
        let rows = self.entries.len() + usize::from(self.title.is_some());
        (w + 2.0 * PAD, rows as f64 * ROW + PAD)
    }

    /// Draw as one column with its top left at (x, y); returns the frame.
    pub(crate) fn draw_column(&self, s: &mut Scene, x: f64, y: f64) -> Bounds {
        // On whole pixels, so that the frame drawn is the frame kept.
        let (x, y) = (x.round(), y.round());
        let (w, h) = self.column_size();
        let (w, h) = (w.ceil(), h.ceil());
        let frame = Bounds::new(x, y, x + w, y + h);
        self.frame(s, frame);
        let mut cy = y + PAD / 2.0 + ROW / 2.0;
        if let Some(t) = &self.title {
            s.text(t, FONT, (x + PAD, cy), Anchor::Start, false);
            cy += ROW;
        }
        for (name, c) in &self.entries {
            self.entry(s, name, *c, x + PAD, cy);
            cy += ROW;
        }
        s.layout.legend = Some(frame);
        frame
    }

    /// Rows of entries flowing within `width`: their positions relative to the frame's top
    /// left, and the frame's size.
    fn flow(&self, width: f64) -> (Vec<(f64, f64)>, (f64, f64)) {
        let mut at = Vec::new();
        let (mut x, mut row) = (PAD, 0usize);
        let title_w = self
            .title
            .as_ref()
            .map_or(0.0, |t| text_extent(t, FONT).0 + SPACING);
        x += title_w;
        let mut widest: f64 = 0.0;
        for (name, _) in &self.entries {
            let w = Self::entry_w(name);
            if x > PAD + title_w && x + w + PAD > width {
                row += 1;
                x = PAD + title_w;
            }
            at.push((x, PAD / 2.0 + ROW * (row as f64 + 0.5)));
            x += w + SPACING;
            widest = widest.max(x - SPACING + PAD);
        }
        (at, (widest, (row + 1) as f64 * ROW + PAD))
    }

    /// The frame's size when flowing within `width`.
    pub(crate) fn flow_size(&self, width: f64) -> (f64, f64) {
        self.flow(width).1
    }

    /// Draw as rows centred on `cx`, top at `y`, within `width`; returns the frame.
    pub(crate) fn draw_flow(&self, s: &mut Scene, cx: f64, y: f64, width: f64) -> Bounds {
        let (at, (w, h)) = self.flow(width);
        let (w, h) = (w.ceil(), h.ceil());
        let (x, y) = ((cx - w / 2.0).round(), y.round());
        let frame = Bounds::new(x, y, x + w, y + h);
        self.frame(s, frame);
        if let Some(t) = &self.title {
            s.text(
                t,
                FONT,
                (x + PAD, y + PAD / 2.0 + ROW / 2.0),
                Anchor::Start,
                false,
            );
        }
        for ((name, c), (dx, dy)) in self.entries.iter().zip(at) {
            self.entry(s, name, *c, x + dx, y + dy);
        }
        s.layout.legend = Some(frame);
        frame
    }

    fn frame(&self, s: &mut Scene, b: Bounds) {
        s.rect(b, WHITE.to_rgba(), Some(RGBAColor(0, 0, 0, 0.3)));
    }

    fn entry(&self, s: &mut Scene, name: &str, c: RGBColor, x: f64, cy: f64) {
        s.rect(
            Bounds::new(x, cy - SWATCH / 2.0, x + SWATCH, cy + SWATCH / 2.0),
            c.to_rgba(),
            None,
        );
        s.text(name, FONT, (x + SWATCH + INNER, cy), Anchor::Start, false);
    }
}
