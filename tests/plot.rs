//! Plots: SVGs parse and hold one circle per point, PNGs decode at the asked size with text
//! rendered from the embedded font, log axes where the data spans decades, units in labels,
//! and the CLI writes both formats from a sweep CSV.

mod common;

use plumsim::pareto::Sense;
use plumsim::plot::{
    axis_label, bars, scaled_axis_label, scatter, short_number, BarOptions, ImageFormat,
    ScatterOptions,
};
use plumsim::sweep::Table;

/// 40 design points over two workloads plus two rows that must not be drawn (not ok).
fn table() -> Table {
    let mut csv = String::from("point,pe.lanes,workload,status,total_cycles,energy_pj\n");
    for i in 0..40u64 {
        let x = 1000 * (i + 1) * (i % 7 + 1); // spans two decades and more
        let y = 5e6 / (i as f64 + 1.0) + 1e5 * (i % 3) as f64;
        let w = if i % 2 == 0 { "a" } else { "b" };
        csv.push_str(&format!("{i},{},{w},ok,{x},{y}\n", 4 << (i % 3)));
    }
    csv.push_str("40,4,a,invalid,,\n41,8,a,unsupported,,\n");
    Table::parse(&csv, "t.csv")
        .unwrap()
        .select(&[], "t.csv")
        .unwrap()
}

fn options() -> ScatterOptions {
    ScatterOptions {
        x: "total_cycles".into(),
        y: "energy_pj".into(),
        color_by: Some("pe.lanes".into()),
        pareto: Some((Sense::Minimize, Sense::Minimize)),
        also: Vec::new(),
        group_by: Some("workload".into()),
        label: None,
        label_all: false,
        log_x: true,
        log_y: false,
        title: None,
        size: (800, 500),
    }
}

fn svg_doc(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn scatter_svg_parses_with_one_circle_per_point() {
    let t = table();
    assert_eq!(t.rows.len(), 40);
    let p = scatter(&t, &options(), ImageFormat::Svg, "t.csv").unwrap();
    assert_eq!(p.marks, 40);
    let text = svg_doc(&p.bytes);
    let doc = roxmltree::Document::parse(&text).expect("well-formed SVG");
    let circles = doc
        .descendants()
        .filter(|n| n.has_tag_name("circle"))
        .count();
    assert_eq!(circles, 40);
    // Front points are labelled #id; fronts are per workload.
    let texts: Vec<String> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .collect();
    let labels = texts.iter().filter(|s| s.starts_with('#')).count();
    assert_eq!(labels, p.front);
    let t_ = table();
    let front = plumsim::pareto::front_rows(
        &t_,
        &[
            ("total_cycles".into(), Sense::Minimize),
            ("energy_pj".into(), Sense::Minimize),
        ],
        Some("workload"),
        "t.csv",
    )
    .unwrap();
    assert_eq!(p.front, front.len());
    assert!(p.front >= 2);
    // Units in the axis titles, picked from the data (cycles up to 280k, energy up to 5.2M
    // pJ); the x axis is logarithmic (--log-x: decade ticks, in K cycles).
    assert!(
        texts.contains(&"Total cycles (K cycles)".to_string()),
        "{texts:?}"
    );
    assert!(texts.contains(&"Energy (µJ)".to_string()), "{texts:?}");
    assert!(
        texts.contains(&"10".to_string()) && texts.contains(&"100".to_string()),
        "{texts:?}"
    );
    // The legend names the column once and shows the three lane counts.
    assert!(texts.iter().any(|s| s == "PE lanes"), "{texts:?}");
    assert!(texts.iter().any(|s| s == "16"), "{texts:?}");
}

#[test]
fn scatter_png_decodes_with_text() {
    let p = scatter(&table(), &options(), ImageFormat::Png, "t.csv").unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(&p.bytes));
    let mut reader = decoder.read_info().expect("PNG header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("PNG data");
    assert_eq!((info.width, info.height), (800, 500));
    assert_eq!(info.color_type, png::ColorType::Rgb);
    // The title band (top 40 rows) holds only text: it has dark, anti-aliased pixels only if
    // the embedded font rendered.
    let w = info.width as usize;
    let dark = (0..40 * w)
        .filter(|i| buf[3 * i] < 100 && buf[3 * i + 1] < 100 && buf[3 * i + 2] < 100)
        .count();
    assert!(dark > 50, "no text in the title band ({dark} dark pixels)");
}

#[test]
fn per_layer_bars_in_both_formats() {
    let csv = "layer,compute_cycles,memory_stall_cycles\nconv1,100,10\nrelu1,0,0\nconv2,300,0\nfc,50,25\n";
    let t = Table::parse(csv, "layers.csv").unwrap();
    let o = BarOptions {
        columns: vec!["compute_cycles".into(), "memory_stall_cycles".into()],
        label: "layer".into(),
        stack: false,
        title: None,
        width: 700,
        beside: None,
    };
    let svg = bars(&t, &o, ImageFormat::Svg, "layers.csv").unwrap();
    // relu1 is all zero and left out: 3 layers x 2 columns.
    assert_eq!(svg.marks, 6);
    let text = svg_doc(&svg.bytes);
    let doc = roxmltree::Document::parse(&text).expect("well-formed SVG");
    let labels: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .map(str::trim)
        .collect();
    for l in ["conv1", "conv2", "fc", "Cycles (cycles)"] {
        assert!(labels.contains(&l), "{l} missing: {labels:?}");
    }
    assert!(!labels.contains(&"relu1"));
    let png = bars(
        &t,
        &BarOptions { stack: true, ..o },
        ImageFormat::Png,
        "layers.csv",
    )
    .unwrap();
    assert_eq!(png.marks, 6);
    let reader = png::Decoder::new(std::io::Cursor::new(&png.bytes))
        .read_info()
        .unwrap();
    assert_eq!(reader.info().width, 700);
    assert!(reader.info().height >= 300);
}

#[test]
fn bad_columns_are_input_errors() {
    let e = scatter(
        &table(),
        &ScatterOptions {
            y: "energy".into(),
            ..options()
        },
        ImageFormat::Svg,
        "t.csv",
    )
    .unwrap_err();
    assert!(matches!(e, plumsim::plot::PlotError::Input(_)));
    assert!(
        e.to_string().contains("t.csv") && e.to_string().contains("no column `energy`"),
        "{e}"
    );
}

#[test]
fn labels_and_numbers() {
    assert_eq!(axis_label("total_cycles"), "Total cycles (cycles)");
    assert_eq!(axis_label("energy_pj"), "Energy (pJ)");
    assert_eq!(axis_label("latency_us"), "Latency (µs)");
    assert_eq!(axis_label("utilization_pct"), "Utilization (%)");
    assert_eq!(axis_label("dram_read_bytes"), "DRAM read bytes (bytes)");
    assert_eq!(axis_label("edp_pj_us"), "EDP (pJ·µs)");
    assert_eq!(axis_label("pe.lanes"), "PE lanes");
    assert_eq!(axis_label("ace_v2_gbit_ops"), "ACEv2 (G bit-operations)");
    assert_eq!(
        scaled_axis_label("energy_pj", 4.5e9),
        ("Energy (mJ)".to_string(), 1e9)
    );
    assert_eq!(short_number(5_164_975.0), "5.16M");
    assert_eq!(short_number(1000.0), "1k");
    assert_eq!(short_number(0.5), "0.5");
    assert_eq!(short_number(12.0), "12");
}

#[test]
fn cli_plots_a_sweep_csv() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("r.csv");
    std::fs::write(&csv, table().to_csv()).unwrap();
    for ext in ["svg", "png"] {
        let out = dir.path().join(format!("p.{ext}"));
        let o = common::plumsim(&[
            "plot",
            csv.to_str().unwrap(),
            "--x",
            "total_cycles",
            "--y",
            "energy_pj",
            "--pareto",
            "--where",
            "workload=a",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", common::stderr(&o));
        assert!(
            common::stderr(&o).contains("(20 points,"),
            "{}",
            common::stderr(&o)
        );
        let bytes = std::fs::read(&out).unwrap();
        if ext == "svg" {
            let text = svg_doc(&bytes);
            let doc = roxmltree::Document::parse(&text).unwrap();
            assert_eq!(
                doc.descendants()
                    .filter(|n| n.has_tag_name("circle"))
                    .count(),
                20
            );
        } else {
            let r = png::Decoder::new(std::io::Cursor::new(&bytes))
                .read_info()
                .unwrap();
            assert_eq!((r.info().width, r.info().height), (960, 640));
        }
    }
    let o = common::plumsim(&[
        "plot",
        csv.to_str().unwrap(),
        "--x",
        "total_cycles",
        "--y",
        "energy_pj",
        "--out",
        "p.gif",
    ]);
    assert!(!o.status.success());
    assert!(common::stderr(&o).contains(".svg or .png"));
}

#[test]
fn bars_with_a_side_panel() {
    let csv = "design,pe_arith_uj,dram_uj,latency_us\na,1,2,10\nb,2,1,20\n";
    let t = Table::parse(csv, "compare.csv").unwrap();
    let o = BarOptions {
        columns: vec!["pe_arith_uj".into(), "dram_uj".into()],
        label: "design".into(),
        stack: true,
        title: None,
        width: 800,
        beside: Some("latency_us".into()),
    };
    let svg = bars(&t, &o, ImageFormat::Svg, "compare.csv").unwrap();
    // 2 designs x 2 stacked segments in the main panel.
    assert_eq!(svg.marks, 4);
    let text = String::from_utf8(svg.bytes).unwrap();
    assert!(
        text.contains("Latency (µs)"),
        "the side panel names its quantity and unit"
    );
    let png = bars(&t, &o, ImageFormat::Png, "compare.csv").unwrap();
    assert!(png.bytes.starts_with(&[0x89, b'P', b'N', b'G']));
    let missing = BarOptions {
        beside: Some("nope".into()),
        ..o
    };
    assert!(bars(&t, &missing, ImageFormat::Svg, "compare.csv").is_err());
}

#[test]
fn a_third_objective_widens_the_front_and_must_be_numeric() {
    let t = table();
    let two = scatter(&t, &options(), ImageFormat::Svg, "t.csv").unwrap();
    // pe.lanes as a third objective: a point beaten in (cycles, energy) by one with more
    // lanes joins the front; the front never shrinks when an objective is added.
    let three = ScatterOptions {
        also: vec![("pe.lanes".into(), Sense::Minimize)],
        ..options()
    };
    let p = scatter(&t, &three, ImageFormat::Svg, "t.csv").unwrap();
    assert!(p.front >= two.front, "{} < {}", p.front, two.front);
    // The same count by brute force: per workload, the ok rows no other row dominates in
    // (total_cycles, energy_pj, pe.lanes), all minimized.
    let col = |n: &str| t.col(n).unwrap();
    let pts: Vec<(String, [f64; 3])> = t
        .rows
        .iter()
        .filter(|r| r[col("status")] == "ok")
        .map(|r| {
            let v = |n: &str| r[col(n)].parse::<f64>().unwrap();
            (
                r[col("workload")].clone(),
                [v("total_cycles"), v("energy_pj"), v("pe.lanes")],
            )
        })
        .collect();
    let dominated =
        |a: &[f64; 3], b: &[f64; 3]| (0..3).all(|i| b[i] <= a[i]) && (0..3).any(|i| b[i] < a[i]);
    let front = pts
        .iter()
        .filter(|(w, a)| !pts.iter().any(|(v, b)| v == w && dominated(a, b)))
        .count();
    assert_eq!(p.front, front);
    let text = |o: &ScatterOptions| match scatter(&t, o, ImageFormat::Svg, "t.csv") {
        Ok(_) => String::new(),
        Err(e) => format!("{e:?}"),
    };
    let words = ScatterOptions {
        also: vec![("workload".into(), Sense::Minimize)],
        ..options()
    };
    assert!(text(&words).contains("no plotted row has a number in `workload`"));
    let missing = ScatterOptions {
        also: vec![("nosuch".into(), Sense::Minimize)],
        ..options()
    };
    assert!(text(&missing).contains("--also"), "{}", text(&missing));
}

// ---- Layout checks on the SVG itself: every text inside the canvas and clear of the other
// texts, the legend clear of every data mark. Text boxes are measured with the embedded font
// from each <text>'s position, font size (the SVG says size / 1.24), anchor and rotation.

use plumsim::plot::{text_bounds, Anchor, Bounds, Plot};

struct Svg {
    size: (f64, f64),
    texts: Vec<(String, Bounds)>,
    circles: Vec<Bounds>,
    /// Filled or framed rectangles, the background left out.
    rects: Vec<Bounds>,
}

fn attr(n: &roxmltree::Node, a: &str) -> f64 {
    n.attribute(a)
        .unwrap_or_else(|| panic!("<{}> without {a}", n.tag_name().name()))
        .parse()
        .unwrap()
}

fn parse_svg(p: &Plot) -> Svg {
    let text = svg_doc(&p.bytes);
    let doc = roxmltree::Document::parse(&text).expect("well-formed SVG");
    let root = doc.root_element();
    let size = (attr(&root, "width"), attr(&root, "height"));
    let mut out = Svg {
        size,
        texts: Vec::new(),
        circles: Vec::new(),
        rects: Vec::new(),
    };
    for n in doc.descendants() {
        match n.tag_name().name() {
            "text" => {
                let s = n.text().unwrap_or("").trim().to_string();
                let anchor = match n.attribute("text-anchor") {
                    Some("start") => Anchor::Start,
                    Some("middle") => Anchor::Middle,
                    Some("end") => Anchor::End,
                    other => panic!("text anchor {other:?}"),
                };
                let vertical = n
                    .attribute("transform")
                    .is_some_and(|t| t.starts_with("rotate(270"));
                let size = attr(&n, "font-size") * 1.24;
                let b = text_bounds(&s, size, (attr(&n, "x"), attr(&n, "y")), anchor, vertical);
                out.texts.push((s, b));
            }
            "circle" => {
                let (x, y, r) = (attr(&n, "cx"), attr(&n, "cy"), attr(&n, "r"));
                out.circles.push(Bounds::new(x - r, y - r, x + r, y + r));
            }
            "rect" => {
                let (x, y) = (attr(&n, "x"), attr(&n, "y"));
                let b = Bounds::new(x, y, x + attr(&n, "width"), y + attr(&n, "height"));
                if (b.width(), b.height()) != size {
                    out.rects.push(b);
                }
            }
            _ => {}
        }
    }
    out
}

/// Every text inside the canvas, no two texts overlapping (1 px of slack for rounding), and
/// the legend (if `legend_entries` > 0) clear of every mark: the rects touching its frame
/// are the frame and one swatch per entry, all inside it.
fn check_layout(p: &Plot, legend_entries: usize) -> Svg {
    let svg = parse_svg(p);
    let canvas = Bounds::new(0.0, 0.0, svg.size.0, svg.size.1);
    assert_eq!(
        (svg.size.0 as u32, svg.size.1 as u32),
        p.layout.size,
        "the layout's size is the SVG's"
    );
    assert!(!svg.texts.is_empty());
    for (t, b) in &svg.texts {
        assert!(
            canvas.contains(b),
            "`{t}` at {b:?} is outside the canvas {canvas:?}"
        );
    }
    let shrink = |b: &Bounds| Bounds::new(b.x0 + 1.0, b.y0 + 1.0, b.x1 - 1.0, b.y1 - 1.0);
    for (i, (a, ab)) in svg.texts.iter().enumerate() {
        for (b, bb) in &svg.texts[i + 1..] {
            assert!(
                !shrink(ab).overlaps(&shrink(bb)),
                "`{a}` {ab:?} overlaps `{b}` {bb:?}"
            );
        }
    }
    // The layout the plot reports is the one drawn.
    assert_eq!(p.layout.texts.len(), svg.texts.len());
    if legend_entries == 0 {
        assert!(p.layout.legend.is_none());
        return svg;
    }
    let legend = p.layout.legend.expect("a legend");
    for m in &p.layout.marks {
        assert!(!legend.overlaps(m), "legend {legend:?} over mark {m:?}");
    }
    for c in &svg.circles {
        assert!(!legend.overlaps(c), "legend {legend:?} over point {c:?}");
    }
    let touching: Vec<&Bounds> = svg.rects.iter().filter(|r| r.overlaps(&legend)).collect();
    assert!(
        touching.iter().all(|r| legend.contains(r)),
        "a bar reaches into the legend {legend:?}: {touching:?}"
    );
    // The frame twice (fill and stroke) and one swatch per entry.
    assert_eq!(touching.len(), legend_entries + 2, "{touching:?}");
    for panel in &p.layout.panels {
        assert!(
            !legend.overlaps(panel),
            "legend {legend:?} inside a plot area {panel:?}"
        );
    }
    svg
}

#[test]
fn scatter_with_front_lays_out_clear() {
    for log in [false, true] {
        let o = ScatterOptions {
            log_x: log,
            log_y: log,
            ..options()
        };
        let p = scatter(&table(), &o, ImageFormat::Svg, "t.csv").unwrap();
        let svg = check_layout(&p, 3);
        assert_eq!(svg.circles.len(), 40);
        // Every front point labelled, inside its plot area.
        let area = p.layout.panels[0];
        let labels: Vec<&(String, Bounds)> = svg
            .texts
            .iter()
            .filter(|(t, _)| t.starts_with('#'))
            .collect();
        assert_eq!(labels.len(), p.front);
        for (t, b) in labels {
            assert!(
                area.contains(b),
                "label {t} {b:?} leaves the plot area {area:?}"
            );
        }
    }
}

#[test]
fn the_front_is_a_staircase_through_its_points() {
    // Three points on the front of (min x, min y), one dominated.
    let csv = "point,x_us,y_pj\n1,1,30\n2,2,20\n3,4,10\n4,5,40\n";
    let t = Table::parse(csv, "f.csv").unwrap();
    for (sx, expect_corner) in [(Sense::Minimize, "right"), (Sense::Maximize, "left")] {
        let o = ScatterOptions {
            x: "x_us".into(),
            y: "y_pj".into(),
            color_by: None,
            pareto: Some((sx, Sense::Minimize)),
            group_by: None,
            log_x: false,
            ..options()
        };
        let p = scatter(&t, &o, ImageFormat::Svg, "f.csv").unwrap();
        check_layout(&p, 0);
        let text = svg_doc(&p.bytes);
        let doc = roxmltree::Document::parse(&text).unwrap();
        let pts: Vec<(f64, f64)> = doc
            .descendants()
            .filter(|n| n.has_tag_name("circle"))
            .map(|n| (attr(&n, "cx"), attr(&n, "cy")))
            .collect();
        // The front line: the polyline through the point at x = 4 (on both fronts; the rings
        // around front points are polylines too, but not through a centre).
        let line: Vec<(f64, f64)> = doc
            .descendants()
            .filter(|n| n.has_tag_name("polyline"))
            .map(|n| {
                n.attribute("points")
                    .unwrap()
                    .split_whitespace()
                    .map(|p| {
                        let (a, b) = p.split_once(',').unwrap();
                        (a.parse().unwrap(), b.parse().unwrap())
                    })
                    .collect::<Vec<(f64, f64)>>()
            })
            .find(|v| v.contains(&pts[2]))
            .expect("a front line");
        // Each segment is horizontal or vertical: a staircase.
        for s in line.windows(2) {
            assert!(
                s[0].0 == s[1].0 || s[0].1 == s[1].1,
                "a sloped segment {s:?} in {line:?}"
            );
        }
        // Through the front's points, with a corner between each two.
        let front: Vec<(f64, f64)> = if sx == Sense::Minimize {
            vec![pts[0], pts[1], pts[2]]
        } else {
            // max x, min y: the front is (5,40), (4,10)... only points no other beats.
            let on: Vec<(f64, f64)> = vec![pts[2], pts[3]];
            on
        };
        for f in &front {
            assert!(line.contains(f), "{f:?} not on the line {line:?}");
        }
        assert_eq!(line.len(), 2 * front.len() - 1, "{expect_corner}: {line:?}");
        // The corner after the first point: min/min goes right at the first point's y (the
        // worse y); max x goes up from the first point at its x (the worse x).
        let (a, c) = (line[0], line[1]);
        if sx == Sense::Minimize {
            assert!(c.0 > a.0 && c.1 == a.1, "{line:?}");
        } else {
            assert!(c.0 == a.0 && c.1 < a.1, "{line:?}");
        }
    }
}

fn layers() -> Table {
    let mut csv = String::from("layer,compute_cycles,sram_stall_cycles,memory_stall_cycles\n");
    for (i, name) in [
        "conv1",
        "layer1.0.conv1",
        "layer4.0.downsample.0",
        "signed_binary_lane",
        "fc",
    ]
    .iter()
    .enumerate()
    {
        let i = i as u64 + 1;
        csv.push_str(&format!(
            "{name},{},{},{}\n",
            1_000_000 * i,
            200_000 * i,
            50_000 * (6 - i)
        ));
    }
    Table::parse(&csv, "layers.csv").unwrap()
}

fn bar_options(stack: bool) -> BarOptions {
    BarOptions {
        columns: vec![
            "compute_cycles".into(),
            "sram_stall_cycles".into(),
            "memory_stall_cycles".into(),
        ],
        label: "layer".into(),
        stack,
        title: None,
        width: 700,
        beside: None,
    }
}

#[test]
fn grouped_and_stacked_bars_lay_out_clear() {
    for stack in [false, true] {
        let p = bars(
            &layers(),
            &bar_options(stack),
            ImageFormat::Svg,
            "layers.csv",
        )
        .unwrap();
        let svg = check_layout(&p, 3);
        assert_eq!(p.marks, 15);
        let texts: Vec<&str> = svg.texts.iter().map(|(t, _)| t.as_str()).collect();
        // Every row labelled, one unit picked from the data (stacks reach 6.25M cycles).
        for l in ["conv1", "layer4.0.downsample.0", "signed_binary_lane", "fc"] {
            assert!(texts.contains(&l), "{l}: {texts:?}");
        }
        assert!(texts.contains(&"Cycles (M cycles)"), "{texts:?}");
        assert!(texts.contains(&"SRAM stall cycles"), "{texts:?}");
        // The legend is below the plot area.
        let legend = p.layout.legend.unwrap();
        assert!(legend.y0 > p.layout.panels[0].y1, "{legend:?}");
    }
}

/// A `compare` chart: stacked energy per design with latency beside.
#[test]
fn compare_chart_labels_every_design_and_keeps_the_legend_off_the_bars() {
    let csv = "design,pe_arith_uj,dram_uj,leakage_uj,latency_us\n\
               binary_pe16,300,1200,200,3800\n\
               signed_binary_pe16_ideal_upper_bound,250,1100,180,3400\n\
               dense_pe16,600,1500,400,2700\n\
               ternary_pe16,320,1250,210,3600\n";
    let t = Table::parse(csv, "compare.csv").unwrap();
    let o = BarOptions {
        columns: vec!["pe_arith_uj".into(), "dram_uj".into(), "leakage_uj".into()],
        label: "design".into(),
        stack: true,
        title: Some("ResNet-18: energy per inference by component, a long title that is wider than the chart and must wrap onto a second line".into()),
        width: 800,
        beside: Some("latency_us".into()),
    };
    let p = bars(&t, &o, ImageFormat::Svg, "compare.csv").unwrap();
    let svg = check_layout(&p, 3);
    let texts: Vec<&str> = svg.texts.iter().map(|(t, _)| t.as_str()).collect();
    for d in [
        "binary_pe16",
        "signed_binary_pe16_ideal_upper_bound",
        "dense_pe16",
        "ternary_pe16",
    ] {
        assert_eq!(
            texts.iter().filter(|t| **t == d).count(),
            1,
            "{d}: {texts:?}"
        );
    }
    // Energy up to 2.5 mJ in mJ; latency up to 3.8 ms in ms; legend in words.
    for l in [
        "Energy (mJ)",
        "Latency (ms)",
        "PE arithmetic",
        "DRAM",
        "Leakage",
    ] {
        assert!(texts.contains(&l), "{l}: {texts:?}");
    }
    assert_eq!(p.layout.panels.len(), 2);
    assert!(!p.layout.panels[0].overlaps(&p.layout.panels[1]));
    // The title wrapped rather than clipped: two lines.
    assert!(texts.iter().any(|t| t.starts_with("ResNet-18: energy")));
    assert!(
        !texts
            .iter()
            .any(|t| t.contains("ResNet-18") && t.contains("second line")),
        "{texts:?} {:?}",
        svg.texts[0]
    );
}

#[test]
fn ace_bars_say_bit_operations() {
    let csv = "design,ace_gbit_ops,ace_v2_gbit_ops\ndense_int8,116,121\nbinary_pe16,14,20\n";
    let t = Table::parse(csv, "elementwise.csv").unwrap();
    let o = BarOptions {
        columns: vec!["ace_gbit_ops".into(), "ace_v2_gbit_ops".into()],
        label: "design".into(),
        stack: false,
        title: None,
        width: 900,
        beside: None,
    };
    let p = bars(&t, &o, ImageFormat::Svg, "elementwise.csv").unwrap();
    let svg = check_layout(&p, 2);
    let texts: Vec<&str> = svg.texts.iter().map(|(t, _)| t.as_str()).collect();
    assert!(
        texts.contains(&"ACE and ACEv2 (G bit-operations)"),
        "{texts:?}"
    );
    assert!(
        texts.contains(&"ACEv2") && texts.contains(&"ACE"),
        "{texts:?}"
    );
}

#[test]
fn log_axes_need_positive_values() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("r.csv");
    std::fs::write(&csv, "point,latency_us,energy_pj\n1,10,0\n2,1000,50\n").unwrap();
    let out = dir.path().join("p.svg");
    let run = |flag: &str| {
        common::plumsim(&[
            "plot",
            csv.to_str().unwrap(),
            "--x",
            "latency_us",
            "--y",
            "energy_pj",
            flag,
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let o = run("--log-y");
    assert_eq!(o.status.code(), Some(2), "{}", common::stderr(&o));
    let e = common::stderr(&o);
    assert!(
        e.contains("--log-y") && e.contains("energy_pj") && e.contains("> 0"),
        "{e}"
    );
    assert!(!out.exists());
    let o = run("--log-x");
    assert!(o.status.success(), "{}", common::stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let ticks: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text().map(str::trim))
        .collect();
    // Decade ticks on x, in ms (latency reaches 1000 µs).
    for t in ["0.01", "0.1", "1", "Latency (ms)"] {
        assert!(ticks.contains(&t), "{t}: {ticks:?}");
    }
}
