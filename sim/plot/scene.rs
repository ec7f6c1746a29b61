//! A figure as a list of shapes in pixels, laid out before anything is drawn: every text is
//! measured with the embedded font, so margins fit the labels, and the boxes of the texts,
//! the legend and the data marks are kept ([`Layout`]) for the checks. One scene is drawn
//! into SVG or PNG by the same code.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{draw_err, register_font, PlotResult, FAMILY};

/// A box in pixels: left, top, right, bottom (y grows downwards).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
}

impl Bounds {
    pub fn new(x0: f64, y0: f64, x1: f64, y1: f64) -> Bounds {
        Bounds {
            x0: x0.min(x1),
            y0: y0.min(y1),
            x1: x0.max(x1),
            y1: y0.max(y1),
        }
    }
    /// True if the two boxes share an area (touching edges do not count).
    pub fn overlaps(&self, o: &Bounds) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }
    /// True if `o` lies within this box.
    pub fn contains(&self, o: &Bounds) -> bool {
        o.x0 >= self.x0 - 1e-9
            && o.x1 <= self.x1 + 1e-9
            && o.y0 >= self.y0 - 1e-9
            && o.y1 <= self.y1 + 1e-9
    }
    pub fn width(&self) -> f64 {
        self.x1 - self.x0
    }
    pub fn height(&self) -> f64 {
        self.y1 - self.y0
    }
}

/// Where a figure's parts are, in pixels.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    pub size: (u32, u32),
    /// The data areas (one per panel).
    pub panels: Vec<Bounds>,
    /// Every text and its box.
    pub texts: Vec<(String, Bounds)>,
    /// The legend's frame, if there is a legend.
    pub legend: Option<Bounds>,
    /// Every data mark (point or bar).
    pub marks: Vec<Bounds>,
}

/// Horizontal anchor of a text: where its `x` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

#[derive(Debug, Clone)]
pub(crate) enum Shape {
    Text {
        at: (f64, f64),
        text: String,
        size: f64,
        anchor: Anchor,
        /// Reads bottom to top (a y-axis title).
        vertical: bool,
        colour: RGBColor,
    },
    Rect {
        b: Bounds,
        fill: RGBAColor,
        stroke: Option<RGBAColor>,
    },
    Circle {
        at: (f64, f64),
        r: f64,
        fill: RGBAColor,
        stroke: Option<RGBAColor>,
    },
    Path {
        points: Vec<(f64, f64)>,
        colour: RGBAColor,
        width: u32,
    },
}

/// Width and height in pixels of `text` at font size `size` (the size given to the drawing
/// library; an SVG says `size / 1.24` as its font-size).
pub fn text_extent(text: &str, size: f64) -> (f64, f64) {
    register_font();
    let font = FontDesc::new(FontFamily::Name(FAMILY), size, FontStyle::Normal);
    let w = font
        .layout_box(text)
        .map(|((x0, _), (x1, _))| (x1 - x0) as f64)
        .unwrap_or(text.chars().count() as f64 * size * 0.62);
    (w, size)
}

/// The box of a text drawn at `at` with `anchor`, vertically centred on `at.1`.
pub fn text_bounds(
    text: &str,
    size: f64,
    at: (f64, f64),
    anchor: Anchor,
    vertical: bool,
) -> Bounds {
    let (w, h) = text_extent(text, size);
    let shift = match anchor {
        Anchor::Start => 0.0,
        Anchor::Middle => w / 2.0,
        Anchor::End => w,
    };
    if vertical {
        // Rotated by 270 degrees: the text runs upwards from `at`.
        Bounds::new(
            at.0 - h / 2.0,
            at.1 + shift - w,
            at.0 + h / 2.0,
            at.1 + shift,
        )
    } else {
        Bounds::new(
            at.0 - shift,
            at.1 - h / 2.0,
            at.0 - shift + w,
            at.1 + h / 2.0,
        )
    }
}

/// Lines of at most `width` pixels at `size`, broken at spaces (a word longer than the width
/// is a line of its own).
pub(crate) fn wrap(text: &str, size: f64, width: f64) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if !line.is_empty() && text_extent(&candidate, size).0 > width {
            lines.push(std::mem::replace(&mut line, word.to_string()));
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The shapes of a figure and their layout.
#[derive(Debug, Clone)]
pub(crate) struct Scene {
    pub(crate) shapes: Vec<Shape>,
    pub(crate) layout: Layout,
}

impl Scene {
    pub(crate) fn new(size: (u32, u32)) -> Scene {
        Scene {
            shapes: Vec::new(),
            layout: Layout {
                size,
                ..Layout::default()
            },
        }
    }

    pub(crate) fn text(
        &mut self,
        text: &str,
        size: f64,
        at: (f64, f64),
        anchor: Anchor,
        vertical: bool,
    ) -> Bounds {
        let b = text_bounds(text, size, at, anchor, vertical);
        self.layout.texts.push((text.to_string(), b));
        self.shapes.push(Shape::Text {
            at,
            text: text.to_string(),
            size,
            anchor,
            vertical,
            colour: BLACK,
        });
        b
    }

    pub(crate) fn rect(&mut self, b: Bounds, fill: RGBAColor, stroke: Option<RGBAColor>) {
        self.shapes.push(Shape::Rect { b, fill, stroke });
    }

    /// A data bar: drawn and kept as a mark.
    pub(crate) fn bar(&mut self, b: Bounds, fill: RGBColor) {
        self.layout.marks.push(b);
        self.rect(b, fill.to_rgba(), None);
    }

    /// A data point: drawn and kept as a mark.
    pub(crate) fn point(
        &mut self,
        at: (f64, f64),
        r: f64,
        fill: RGBAColor,
        stroke: Option<RGBAColor>,
    ) {
        self.layout
            .marks
            .push(Bounds::new(at.0 - r, at.1 - r, at.0 + r, at.1 + r));
        self.shapes.push(Shape::Circle {
            at,
            r,
            fill,
            stroke,
        });
    }

    pub(crate) fn path(&mut self, points: Vec<(f64, f64)>, colour: RGBAColor, width: u32) {
        self.shapes.push(Shape::Path {
            points,
            colour,
            width,
        });
    }

    /// Draw every shape onto `root` (white background first).
    pub(crate) fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> PlotResult<()> {
        root.fill(&WHITE).map_err(draw_err)?;
        let px = |v: f64| v.round() as i32;
        for s in &self.shapes {
            match s {
                Shape::Text {
                    at,
                    text,
                    size,
                    anchor,
                    vertical,
                    colour,
                } => {
                    let h = match anchor {
                        Anchor::Start => HPos::Left,
                        Anchor::Middle => HPos::Center,
                        Anchor::End => HPos::Right,
                    };
                    let mut style = TextStyle::from((FAMILY, *size).into_font())
                        .color(colour)
                        .pos(Pos::new(h, VPos::Center));
                    if *vertical {
                        style = style.transform(FontTransform::Rotate270);
                    }
                    root.draw(&plotters::element::Text::new(
                        text.clone(),
                        (px(at.0), px(at.1)),
                        style,
                    ))
                    .map_err(draw_err)?;
                }
                Shape::Rect { b, fill, stroke } => {
                    let corners = [(px(b.x0), px(b.y0)), (px(b.x1), px(b.y1))];
                    root.draw(&Rectangle::new(corners, fill.filled()))
                        .map_err(draw_err)?;
                    if let Some(c) = stroke {
                        root.draw(&Rectangle::new(corners, c.stroke_width(1)))
                            .map_err(draw_err)?;
                    }
                }
                Shape::Circle {
                    at,
                    r,
                    fill,
                    stroke,
                } => {
                    let c = (px(at.0), px(at.1));
                    root.draw(&plotters::element::Circle::new(c, px(*r), fill.filled()))
                        .map_err(draw_err)?;
                    if let Some(s) = stroke {
                        // A ring as a polyline, so that each point stays one `<circle>`.
                        let ring: Vec<(i32, i32)> = (0..=24)
                            .map(|k| {
                                let a = k as f64 * std::f64::consts::TAU / 24.0;
                                (
                                    px(at.0 + (r + 1.5) * a.cos()),
                                    px(at.1 + (r + 1.5) * a.sin()),
                                )
                            })
                            .collect();
                        root.draw(&PathElement::new(ring, s.stroke_width(2)))
                            .map_err(draw_err)?;
                    }
                }
                Shape::Path {
                    points,
                    colour,
                    width,
                } => {
                    let pts: Vec<(i32, i32)> = points.iter().map(|p| (px(p.0), px(p.1))).collect();
                    root.draw(&PathElement::new(pts, colour.stroke_width(*width)))
                        .map_err(draw_err)?;
                }
            }
        }
        Ok(())
    }
}
