//! Numeric axes, linear or logarithmic, with their own ticks.

use std::ops::Range;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};

use super::labels::short_number;

/// A numeric axis, linear or logarithmic, with its own ticks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Axis {
    pub(crate) lo: f64,
    pub(crate) hi: f64,
    pub(crate) log: bool,
    /// A tick at every integer (bar charts' row axis).
    pub(crate) every_integer: bool,
}

impl Axis {
    /// An axis over `values` with a margin; logarithmic when every value is positive and
    /// they span more than two decades.
    pub(crate) fn fit(values: impl Iterator<Item = f64> + Clone, allow_log: bool) -> Axis {
        let (mut lo, mut hi) = values
            .clone()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            });
        if !lo.is_finite() {
            (lo, hi) = (0.0, 1.0);
        }
        if allow_log && lo > 0.0 && hi / lo > 100.0 {
            let pad = (hi / lo).powf(0.04);
            return Axis {
                lo: lo / pad,
                hi: hi * pad,
                log: true,
                every_integer: false,
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
            every_integer: false,
        }
    }

    pub(crate) fn t(&self, v: f64) -> f64 {
        if self.log {
            v.max(f64::MIN_POSITIVE).log10()
        } else {
            v
        }
    }

    pub(crate) fn ticks(&self, max: usize) -> Vec<f64> {
        if self.every_integer {
            return (self.lo.ceil() as i64..=self.hi.floor() as i64)
                .map(|i| i as f64)
                .collect();
        }
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
            let stride = (decades / max).max(1) as i32;
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
        let step = [1.0, 2.0, 5.0, 10.0]
            .iter()
            .map(|m| m * mag)
            .find(|s| *s >= raw)
            .unwrap_or(10.0 * mag);
        let first = (self.lo / step).ceil() as i64;
        let last = (self.hi / step).floor() as i64;
        (first..=last).map(|i| i as f64 * step).collect()
    }
}

impl Ranged for Axis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let (a, b) = (self.t(self.lo), self.t(self.hi));
        let f = if b > a {
            (self.t(*v) - a) / (b - a)
        } else {
            0.5
        };
        limit.0 + ((limit.1 - limit.0) as f64 * f).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        self.ticks(hint.max_num_points().min(12))
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for Axis {
    fn format(v: &f64) -> String {
        short_number(*v)
    }
    fn format_ext(&self, v: &f64) -> String {
        short_number(*v)
    }
}
