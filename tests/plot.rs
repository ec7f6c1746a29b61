//! Plots: SVGs parse and hold one circle per point, PNGs decode at the asked size with text
//! rendered from the embedded font, log axes where the data spans decades, units in labels,
//! and the CLI writes both formats from a sweep CSV.

mod common;

use plumsim::pareto::Sense;
use plumsim::plot::{
    axis_label, bars, scatter, short_number, BarOptions, ImageFormat, ScatterOptions,
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
    // Units in the axis labels; the x data spans > 100x so its axis is logarithmic (decade ticks).
    assert!(
        texts.contains(&"total cycles [cycles]".to_string()),
        "{texts:?}"
    );
    assert!(texts.contains(&"energy [pJ]".to_string()), "{texts:?}");
    assert!(
        texts.contains(&"10k".to_string()) && texts.contains(&"100k".to_string()),
        "{texts:?}"
    );
    // The legend shows the three lane counts.
    assert!(texts.iter().any(|s| s == "pe.lanes = 16"), "{texts:?}");
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
    for l in ["conv1", "conv2", "fc", "value [cycles]"] {
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
    assert_eq!(axis_label("total_cycles"), "total cycles [cycles]");
    assert_eq!(axis_label("energy_pj"), "energy [pJ]");
    assert_eq!(axis_label("latency_us"), "latency [µs]");
    assert_eq!(axis_label("utilization_pct"), "utilization [%]");
    assert_eq!(axis_label("dram_read_bytes"), "dram read bytes [bytes]");
    assert_eq!(axis_label("edp_pj_us"), "edp [pJ·µs]");
    assert_eq!(axis_label("pe.lanes"), "pe lanes");
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
    assert!(text.contains("latency"), "the side panel names its column");
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
