//! Energy/latency/area points of the design families on ResNet-18 and their Pareto fronts:
//! all designs in energy and latency, each family, energy against weight quantization error
//! (an accuracy proxy), and energy, latency and area together.

use std::path::Path;

use serde::Serialize;

use super::{int, plot_both, table_of, Files, Runner, Variant};
use crate::error::Result;
use crate::pareto::{self, Sense};
use crate::plot::{self, ScatterOptions};
use crate::report::{round6, to_csv};

/// The families: the `*_pe16` designs.
pub const KINDS: [&str; 7] = [
    "dense",
    "binary",
    "ternary",
    "signed_binary",
    "bitserial",
    "bitsparse",
    "swis",
];

/// Designs one run of the study simulates.
pub fn design_count() -> u64 {
    designs().len() as u64
}

/// Every family at 8x8, 16x16 and 32x32 PEs of 4 and 8 lanes (SWIS groups = lanes); the
/// buffer ports scale with the array edge that feeds them (one input and one weight word per
/// row or column a cycle, one partial-sum word per two columns), as the 16x16 designs have.
pub fn designs() -> Vec<Variant> {
    let mut v = Vec::new();
    for kind in KINDS {
        let base: &'static str = crate::shipped::ARCHS
            .iter()
            .find(|(n, _)| *n == format!("{kind}_pe16.toml"))
            .map(|(n, _)| *n)
            .expect("every family is shipped");
        for size in [8i64, 16, 32] {
            for lanes in [4i64, 8] {
                let words = |w: i64| toml::Value::Float(w as f64);
                let mut set = vec![
                    ("array.rows", int(size)),
                    ("array.cols", int(size)),
                    ("pe.lanes", int(lanes)),
                    ("buffers.input.read_words_per_cycle", words(size)),
                    ("buffers.input.write_words_per_cycle", words(size)),
                    ("buffers.weight.read_words_per_cycle", words(size)),
                    ("buffers.weight.write_words_per_cycle", words(size)),
                    ("buffers.output.read_words_per_cycle", words(size / 2)),
                    ("buffers.output.write_words_per_cycle", words(size / 2)),
                ];
                if kind == "swis" {
                    set.push(("quant.group_size", int(lanes)));
                }
                v.push(Variant::new(
                    base,
                    &format!("{kind}_{size}x{size}_l{lanes}"),
                    set,
                ));
            }
        }
    }
    v
}

#[derive(Serialize)]
struct DesignPoint {
    design: String,
    pe_kind: String,
    array_rows: u32,
    lanes: u32,
    total_cycles: u64,
    energy_pj: f64,
    edp_pj_us: f64,
    area_mm2: f64,
    quant_rel_error: f64,
    /// On the energy/latency front of all designs, of the design's own family, of energy
    /// against quantization error (an accuracy proxy), and of energy, latency and area.
    on_front: bool,
    on_family_front: bool,
    on_error_front: bool,
    on_area_front: bool,
}

/// Run the study, files `pareto/resnet18_*`.
pub fn study(files: &mut Files, out: &Path, r: &Runner) -> Result<()> {
    let (wp, net) = crate::shipped::workload("resnet18.json")?;
    let mut points = Vec::new();
    let designs = designs();
    let runs = r.variants(&designs, &net, &wp)?;
    for (v, d) in designs.iter().zip(runs) {
        let sm = d.summary();
        points.push(DesignPoint {
            design: v.label.clone(),
            pe_kind: d.arch.pe.kind.as_str().into(),
            array_rows: d.arch.rows,
            lanes: d.arch.pe.lanes,
            total_cycles: sm.cycles.total_cycles,
            energy_pj: sm.energy_pj,
            edp_pj_us: sm.edp_pj_us,
            area_mm2: sm.area_mm2,
            quant_rel_error: round6(d.weight_stats().rel_error()),
            on_front: false,
            on_family_front: false,
            on_error_front: false,
            on_area_front: false,
        });
    }
    let objs: Vec<Vec<f64>> = points
        .iter()
        .map(|p| vec![p.total_cycles as f64, p.energy_pj])
        .collect();
    let min2 = [Sense::Minimize, Sense::Minimize];
    for i in pareto::front(&objs, &min2) {
        points[i].on_front = true;
    }
    for kind in KINDS {
        let members: Vec<usize> = (0..points.len())
            .filter(|&i| points[i].design.starts_with(&format!("{kind}_")))
            .collect();
        let sub: Vec<Vec<f64>> = members.iter().map(|&i| objs[i].clone()).collect();
        for j in pareto::front(&sub, &min2) {
            points[members[j]].on_family_front = true;
        }
    }
    let err: Vec<Vec<f64>> = points
        .iter()
        .map(|p| vec![p.quant_rel_error, p.energy_pj])
        .collect();
    for i in pareto::front(&err, &min2) {
        points[i].on_error_front = true;
    }
    let with_area: Vec<Vec<f64>> = points
        .iter()
        .map(|p| vec![p.total_cycles as f64, p.energy_pj, p.area_mm2])
        .collect();
    for i in pareto::front(&with_area, &[Sense::Minimize; 3]) {
        points[i].on_area_front = true;
    }
    files.push((
        out.join("pareto/resnet18_designs.csv"),
        to_csv(&points).into_bytes(),
    ));
    let t = table_of(&points, "designs")?;
    let o = ScatterOptions {
        x: "total_cycles".into(),
        y: "energy_pj".into(),
        color_by: Some("pe_kind".into()),
        pareto: Some((Sense::Minimize, Sense::Minimize)),
        also: Vec::new(),
        group_by: None,
        label: Some("design".into()),
        label_all: false,
        log_x: false,
        log_y: false,
        title: Some(
            "ResNet-18: energy vs latency of the design families (8/16/32 arrays, 4/8 lanes)"
                .into(),
        ),
        size: (1000, 700),
    };
    let by_family = ScatterOptions {
        group_by: Some("pe_kind".into()),
        title: Some("ResNet-18: energy vs latency, the front of each design family".into()),
        ..o.clone()
    };
    let by_area = ScatterOptions {
        also: vec![("area_mm2".into(), Sense::Minimize)],
        title: Some(
            "ResNet-18: energy vs latency; ringed: the energy x latency x area front".into(),
        ),
        ..o.clone()
    };
    let by_error = ScatterOptions {
        x: "quant_rel_error".into(),
        title: Some("ResNet-18: energy vs weight quantization error (accuracy proxy)".into()),
        ..o.clone()
    };
    plot_both(files, &out.join("pareto/resnet18_front"), |f| {
        plot::scatter(&t, &o, f, "designs")
    })?;
    plot_both(files, &out.join("pareto/resnet18_family_fronts"), |f| {
        plot::scatter(&t, &by_family, f, "designs")
    })?;
    plot_both(files, &out.join("pareto/resnet18_area_front"), |f| {
        plot::scatter(&t, &by_area, f, "designs")
    })?;
    plot_both(files, &out.join("pareto/resnet18_error_front"), |f| {
        plot::scatter(&t, &by_error, f, "designs")
    })
}
