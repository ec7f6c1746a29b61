//! Numeric axes, linear or logarithmic, with their ticks, pixel mapping and drawing (grid,
//! tick marks, tick labels and the title, each measured so that nothing is clipped).

use super::labels::tick_labels;
use super::scene::{text_extent, Anchor, Bounds, Scene};
use plotters::prelude::*;

/// Font sizes and gaps, in pixels.
pub(crate) const TICK_FONT: f64 = 13.0;
pub(crate) const TITLE_FONT: f64 = 15.0;
pub(crate) const CAPTION_FONT: f64 = 19.0;
pub(crate) const TICK_LEN: f64 = 5.0;
pub(crate) const GAP: f64 = 6.0;
pub(crate) const MARGIN: f64 = 12.0;

/// A numeric axis, linear or logarithmic, with its own ticks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Axis {
    pub(crate) lo: f64,
    pub(crate) hi: f64,
    pub(crate) log: bool,
}

impl Axis {
    /// An axis over `values` with a margin of 5% (linear) or of a fraction of a decade (log;
    /// every value must be positive, which the callers check).
    pub(crate) fn fit(values: impl Iterator<Item = f64>, log: bool) -> Axis {
        let (mut lo, mut hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
        if !lo.is_finite() {
            (lo, hi) = (0.0, 1.0);
        }
        if log && lo > 0.0 {
            let pad = if hi > lo { (hi / lo).powf(0.04) } else { 2.0 };
            return Axis {
                lo: lo / pad,
                hi: hi * pad,
                log: true,
            };
        }
        let span = if hi > lo {
            hi - lo
        } else {
            lo.abs().max(1.0) * 0.1
        };
        Axis {
            lo: lo - 0.05 * span,
            hi: hi + 0.05 * span,
            log: false,
        }
    }

    fn t(&self, v: f64) -> f64 {
        if self.log {
            v.max(f64::MIN_POSITIVE).log10()
        } else {
            v
        }
    }

    /// Where `v` falls between pixels `a` (at `lo`) and `b` (at `hi`).
    pub(crate) fn px(&self, v: f64, a: f64, b: f64) -> f64 {
        let (l, h) = (self.t(self.lo), self.t(self.hi));
        let f = if h > l {
            (self.t(v) - l) / (h - l)
        } else {
            0.5
        };
        a + (b - a) * f
    }

    /// At most `max` ticks, on 1-2-5 steps (linear) or powers of ten (log; with 2 and 5 when
    /// few decades).
    pub(crate) fn ticks(&self, max: usize) -> Vec<f64> {
        let max = max.max(2);
        if self.log {
            let (a, b) = (
                self.lo.log10().floor() as i32,
                self.hi.log10().ceil() as i32,
            );
            let decades = (b - a).max(1) as usize;
            let mults: &[f64] = if decades * 3 <= max {
                &[1.0, 2.0, 5.0]
            } else {
                &[1.0]
            };
            let stride = decades.div_ceil(max).max(1) as i32;
            let mut v = Vec::new();
            for e in (a..=b).filter(|e| (e - a) % stride == 0) {
                for m in mults {
                    let x = m * 10f64.powi(e);
                    if x >= self.lo && x <= self.hi {
                        v.push(x);
                    }
                }
            }
            return v;
        }
        let raw = (self.hi - self.lo) / max as f64;
        if raw <= 0.0 || !raw.is_finite() {
            return vec![self.lo];
        }
        let mag = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 2.5, 5.0, 10.0]
            .iter()
            .map(|m| m * mag)
            .find(|s| *s >= raw)
            .unwrap_or(10.0 * mag);
        let first = (self.lo / step).ceil() as i64;
        let last = (self.hi / step).floor() as i64;
        (first..=last).map(|i| i as f64 * step).collect()
    }
}

/// An axis with its title and the divisor from data to shown values.
#[derive(Debug, Clone)]
pub(crate) struct Scaled {
    pub(crate) axis: Axis,
    pub(crate) title: String,
    pub(crate) divisor: f64,
}

impl Scaled {
    /// Ticks (data units) and their labels, at most `max`.
    pub(crate) fn ticks(&self, max: usize) -> (Vec<f64>, Vec<String>) {
        let t = self.axis.ticks(max);
        let shown: Vec<f64> = t.iter().map(|v| v / self.divisor).collect();
        (t, tick_labels(&shown, self.axis.log))
    }

    /// The widest tick label, in pixels, with at most `max` ticks (0: any number of ticks up
    /// to 10).
    pub(crate) fn widest_label(&self, max: usize) -> f64 {
        let counts = if max == 0 { 2..=10 } else { max..=max };
        counts
            .flat_map(|m| self.ticks(m).1)
            .map(|l| text_extent(&l, TICK_FONT).0)
            .fold(0.0, f64::max)
    }

    /// As many ticks as fit side by side along `width` pixels (at most 10).
    pub(crate) fn ticks_fitting(&self, width: f64) -> (Vec<f64>, Vec<String>) {
        for max in (2..=10).rev() {
            let (t, l) = self.ticks(max);
            let need: f64 = l.iter().map(|s| text_extent(s, TICK_FONT).0 + 16.0).sum();
            if need <= width {
                return (t, l);
            }
        }
        self.ticks(2)
    }
}

/// How many ticks a y axis of `height` pixels has at most.
pub(crate) fn y_ticks(height: f64) -> usize {
    ((height / (TICK_FONT * 2.5)) as usize).clamp(2, 10)
}

/// Height of the band under a plot area: tick labels and the x title.
pub(crate) fn x_band() -> f64 {
    TICK_LEN + GAP + TICK_FONT + GAP + TITLE_FONT + 2.0
}

/// Width of the band left of a plot area: the y title (if any) and the tick labels.
pub(crate) fn y_band(label_w: f64, titled: bool) -> f64 {
    TICK_LEN + GAP + label_w + if titled { GAP + TITLE_FONT + 2.0 } else { 0.0 }
}

const GRID: RGBAColor = RGBAColor(0, 0, 0, 0.08);
const AXIS: RGBAColor = RGBAColor(0, 0, 0, 0.75);

/// The x axis under `area`: grid lines, ticks, labels and the title centred below.
pub(crate) fn draw_x(s: &mut Scene, area: Bounds, x: &Scaled) {
    let (ticks, labels) = x.ticks_fitting(area.width());
    for (v, l) in ticks.iter().zip(&labels) {
        let px = x.axis.px(*v, area.x0, area.x1);
        s.path(vec![(px, area.y0), (px, area.y1)], GRID, 1);
        s.path(vec![(px, area.y1), (px, area.y1 + TICK_LEN)], AXIS, 1);
        s.text(
            l,
            TICK_FONT,
            (px, area.y1 + TICK_LEN + GAP + TICK_FONT / 2.0),
            Anchor::Middle,
            false,
        );
    }
    s.path(vec![(area.x0, area.y1), (area.x1, area.y1)], AXIS, 1);
    let y = area.y1 + TICK_LEN + GAP + TICK_FONT + GAP + TITLE_FONT / 2.0;
    s.text(
        &x.title,
        TITLE_FONT,
        ((area.x0 + area.x1) / 2.0, y),
        Anchor::Middle,
        false,
    );
}

/// The y axis left of `area`: grid lines, ticks, labels right-aligned and the title read
/// upwards at `title_x`.
pub(crate) fn draw_y(s: &mut Scene, area: Bounds, y: &Scaled, title_x: f64) {
    let (ticks, labels) = y.ticks(y_ticks(area.height()));
    for (v, l) in ticks.iter().zip(&labels) {
        let py = y.axis.px(*v, area.y1, area.y0);
        s.path(vec![(area.x0, py), (area.x1, py)], GRID, 1);
        s.path(vec![(area.x0 - TICK_LEN, py), (area.x0, py)], AXIS, 1);
        s.text(
            l,
            TICK_FONT,
            (area.x0 - TICK_LEN - GAP, py),
            Anchor::End,
            false,
        );
    }
    s.path(vec![(area.x0, area.y0), (area.x0, area.y1)], AXIS, 1);
    s.text(
        &y.title,
        TITLE_FONT,
        (title_x, (area.y0 + area.y1) / 2.0),
        Anchor::Middle,
        true,
    );
}

/// The caption at the top, wrapped to the width; returns the y below it.
pub(crate) fn draw_caption(s: &mut Scene, caption: &str, width: f64) -> f64 {
    let lines = super::scene::wrap(caption, CAPTION_FONT, width - 2.0 * MARGIN);
    let line_h = CAPTION_FONT * 1.3;
    for (i, l) in lines.iter().enumerate() {
        s.text(
            l,
            CAPTION_FONT,
            (width / 2.0, MARGIN + line_h * (i as f64 + 0.5)),
            Anchor::Middle,
            false,
        );
    }
    MARGIN + line_h * lines.len() as f64 + GAP
}

/// The height [`draw_caption`] takes.
pub(crate) fn caption_height(caption: &str, width: f64) -> f64 {
    let lines = super::scene::wrap(caption, CAPTION_FONT, width - 2.0 * MARGIN);
    MARGIN + CAPTION_FONT * 1.3 * lines.len() as f64 + GAP
}
