//! `plumsim reproduce [--reduced] [--out DIR]`: regenerate the evidence in `results/` that
//! holds plumsim against PLUM, SWIS and PikeLPN (see `results/README.md`).
//!
//! Every CSV is computed from the shipped architectures and workloads; designs that differ
//! from a shipped file are that file with named fields changed (`arch_variant`). `--reduced`
//! regenerates only the quick part (what `tests/reproduce.rs` compares with the committed
//! files); the real trained networks are used when `../shared/weights` is present.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use anyhow::Context;
use serde::Serialize;

use plumsim::arch::{arch_from_table, Arch};
use plumsim::compare::{compare_rows, markdown, CompareRow, DesignResult};
use plumsim::energy::{self, EnergyTable};
use plumsim::io::{self, prepare::Prepared};
use plumsim::pareto::{self, Sense};
use plumsim::plot::{self, BarOptions, ImageFormat, ScatterOptions};
use plumsim::report::{round6, to_csv};
use plumsim::sweep::table::Table;
use plumsim::workload::{BatchNormMode, Network};

#[derive(Debug, clap::Args)]
pub struct ReproduceArgs {
    /// Output folder.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Only the quick part (PLUM on synthetic ResNet-18, PikeLPN's elementwise share).
    #[arg(long)]
    pub reduced: bool,
}

/// An architecture file with fields replaced by dotted path, renamed `label`.
pub fn arch_variant(base: &Path, label: &str, set: &[(&str, toml::Value)]) -> anyhow::Result<Arch> {
    arch_edit(base, label, &[], set)
}

/// As [`arch_variant`], removing the fields `unset` first.
pub fn arch_edit(
    base: &Path,
    label: &str,
    unset: &[&str],
    set: &[(&str, toml::Value)],
) -> anyhow::Result<Arch> {
    let text = io::read_text(base)?;
    let mut table: toml::Table =
        toml::from_str(&text).with_context(|| format!("{}", base.display()))?;
    table.insert("name".into(), toml::Value::String(label.into()));
    let edits = unset
        .iter()
        .map(|p| (*p, None))
        .chain(set.iter().map(|(p, v)| (*p, Some(v))));
    for (path, value) in edits {
        let mut t = &mut table;
        let parts: Vec<&str> = path.split('.').collect();
        for p in &parts[..parts.len() - 1] {
            t = t
                .entry(p.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                .as_table_mut()
                .with_context(|| format!("{path}: `{p}` is not a table"))?;
        }
        let key = parts[parts.len() - 1];
        match value {
            Some(v) => t.insert(key.into(), v.clone()),
            None => t.remove(key),
        };
    }
    Ok(arch_from_table(
        table,
        &format!("{} ({label})", base.display()),
    )?)
}

fn int(v: i64) -> toml::Value {
    toml::Value::Integer(v)
}

fn s(v: &str) -> toml::Value {
    toml::Value::String(v.into())
}

fn b(v: bool) -> toml::Value {
    toml::Value::Boolean(v)
}

/// Runs designs, sharing quantized weights between designs that quantize alike.
struct Runner {
    cache: HashMap<String, Rc<Prepared>>,
}

impl Runner {
    fn run(&mut self, arch: Arch, net: &Network, wl: &Path) -> anyhow::Result<DesignResult> {
        let net = match &arch.scheme {
            Some(s) => net.with_default_scheme(s),
            None => net.clone(),
        };
        let key = format!(
            "{}|{:?}",
            wl.display(),
            net.layers.iter().map(|l| l.quant).collect::<Vec<_>>()
        );
        let prepared = match self.cache.get(&key) {
            Some(p) => p.clone(),
            None => {
                let p = Rc::new(io::prepare::prepare(&net, wl, None, |_| true)?);
                self.cache.insert(key, p.clone());
                p
            }
        };
        let run = plumsim::engine::simulate_quantized(&arch, &net, &prepared.codes)
            .with_context(|| format!("design {}", arch.name))?;
        Ok(DesignResult {
            label: arch.name.clone(),
            arch,
            run,
            stats: prepared.stats.clone(),
        })
    }
}

pub type Files = Vec<(PathBuf, Vec<u8>)>;

/// One plot as `<stem>.svg` and `<stem>.png`.
fn plot_both(
    files: &mut Files,
    stem: &Path,
    render: impl Fn(ImageFormat) -> plot::PlotResult<plot::Plot>,
) -> anyhow::Result<()> {
    for (ext, f) in [("svg", ImageFormat::Svg), ("png", ImageFormat::Png)] {
        let path = PathBuf::from(format!("{}.{ext}", stem.display()));
        let p = render(f).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        files.push((path, p.bytes));
    }
    Ok(())
}

fn table_of<T: Serialize>(rows: &[T], origin: &str) -> anyhow::Result<Table> {
    Ok(Table::parse(&to_csv(rows), origin)?)
}

/// Stacked energy breakdown per design, as SVG and PNG.
pub fn energy_bars(
    files: &mut Files,
    rows: &[CompareRow],
    stem: &Path,
    title: &str,
) -> anyhow::Result<()> {
    let t = table_of(rows, "compare")?;
    let cols = [
        "pe_arith_uj",
        "registers_uj",
        "input_buffer_uj",
        "weight_buffer_uj",
        "output_buffer_uj",
        "dram_uj",
        "vector_uj",
        "leakage_uj",
    ];
    let o = BarOptions {
        columns: cols.iter().map(|c| c.to_string()).collect(),
        label: "design".into(),
        stack: true,
        title: Some(title.into()),
        width: 1000,
        beside: Some("latency_us".into()),
    };
    plot_both(files, stem, |f| plot::bars(&t, &o, f, "compare"))?;
    Ok(())
}

/// Rows of `designs` against the first, written to `<stem>.csv` with the energy chart
/// `<stem>_energy.svg/png`.
fn comparison(
    files: &mut Files,
    designs: &[DesignResult],
    stem: &Path,
    title: &str,
) -> anyhow::Result<Vec<CompareRow>> {
    let rows = compare_rows(designs, 0);
    files.push((stem.with_extension("csv"), to_csv(&rows).into_bytes()));
    let name = stem
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    energy_bars(
        files,
        &rows,
        &stem.with_file_name(format!("{name}_energy")),
        title,
    )?;
    Ok(rows)
}

fn workload(path: &str) -> anyhow::Result<(PathBuf, Network)> {
    let p = PathBuf::from(path);
    let n = io::load_workload(&p)?;
    Ok((p, n))
}

fn shared_weights_present() -> bool {
    Path::new("../shared/weights/resnet20_cifar10_akamaster_fp32.npz").is_file()
}

#[derive(Serialize)]
struct LayerSpeedup {
    layer: String,
    binary_total_cycles: u64,
    signed_binary_total_cycles: u64,
    speedup: f64,
    binary_energy_pj: f64,
    signed_binary_energy_pj: f64,
    energy_ratio: f64,
}

/// PLUM: binary vs ternary vs signed binary (with and without repetition) in PLUM's setting.
fn plum(
    files: &mut Files,
    out: &Path,
    r: &mut Runner,
    wl: &str,
    stem: &str,
    per_layer: bool,
) -> anyhow::Result<String> {
    let (wp, net) = workload(wl)?;
    let bin = Path::new("arch/binary_pe16.toml");
    let sb = Path::new("arch/signed_binary_pe16.toml");
    let designs = vec![
        r.run(io::load_arch(bin)?, &net, &wp)?,
        r.run(
            arch_variant(
                bin,
                "binary_pe16_repetition",
                &[("pe.exploit_repetition", b(true))],
            )?,
            &net,
            &wp,
        )?,
        r.run(
            io::load_arch(Path::new("arch/ternary_pe16.toml"))?,
            &net,
            &wp,
        )?,
        r.run(io::load_arch(sb)?, &net, &wp)?,
        r.run(
            arch_variant(
                sb,
                "signed_binary_pe16_repetition",
                &[("pe.exploit_repetition", b(true))],
            )?,
            &net,
            &wp,
        )?,
    ];
    let rows = comparison(
        files,
        &designs,
        &out.join(format!("plum/{stem}")),
        &format!("{}: energy per design", net.name),
    )?;
    if per_layer {
        let (b, s) = (&designs[0], &designs[3]);
        let eb = energy::run_energy(&b.arch, &EnergyTable::for_arch(&b.arch), &b.run);
        let es = energy::run_energy(&s.arch, &EnergyTable::for_arch(&s.arch), &s.run);
        let rows: Vec<LayerSpeedup> = b
            .run
            .layers
            .iter()
            .zip(&s.run.layers)
            .zip(eb.layers.iter().zip(&es.layers))
            .filter(|((lb, _), _)| lb.gemm.is_some())
            .map(|((lb, ls), (e1, e2))| LayerSpeedup {
                layer: lb.name.clone(),
                binary_total_cycles: lb.total_cycles(),
                signed_binary_total_cycles: ls.total_cycles(),
                speedup: round6(lb.total_cycles() as f64 / ls.total_cycles() as f64),
                binary_energy_pj: round6(e1.total_pj()),
                signed_binary_energy_pj: round6(e2.total_pj()),
                energy_ratio: round6(e1.total_pj() / e2.total_pj()),
            })
            .collect();
        files.push((
            out.join(format!("plum/{stem}_per_layer.csv")),
            to_csv(&rows).into_bytes(),
        ));
        let t = table_of(&rows, "per_layer")?;
        let o = BarOptions {
            columns: vec!["speedup".into()],
            label: "layer".into(),
            stack: false,
            title: Some(format!(
                "{}: per-layer speedup of signed binary over binary",
                net.name
            )),
            width: 900,
            beside: None,
        };
        plot_both(
            files,
            &out.join(format!("plum/{stem}_per_layer_speedup")),
            |f| plot::bars(&t, &o, f, "per_layer"),
        )?;
    }
    Ok(markdown(&rows, "binary_pe16", &net.name))
}

/// SWIS: N = 1..7 (fixed), variable N and truncation against the bit-serial design.
fn swis(
    files: &mut Files,
    out: &Path,
    r: &mut Runner,
    wl: &str,
    stem: &str,
) -> anyhow::Result<String> {
    let (wp, net) = workload(wl)?;
    let sw = Path::new("arch/swis_pe16.toml");
    let mut designs = vec![r.run(
        io::load_arch(Path::new("arch/bitserial_pe16.toml"))?,
        &net,
        &wp,
    )?];
    for n in 1..=7 {
        designs.push(r.run(
            arch_variant(
                sw,
                &format!("swis_g8_n{n}"),
                &[("quant.shared_bits", int(n))],
            )?,
            &net,
            &wp,
        )?);
    }
    let var = arch_edit(
        sw,
        "swis_g8_variable_n4",
        &["quant.shared_bits"],
        &[
            ("quant.max_shared_bits", int(4)),
            ("quant.error_bound", toml::Value::Float(0.02)),
        ],
    )?;
    designs.push(r.run(var, &net, &wp)?);
    let trunc = arch_edit(
        sw,
        "truncate_n3",
        &["quant.group_size"],
        &[
            ("quant.scheme", s("truncate")),
            ("quant.shared_bits", int(3)),
        ],
    )?;
    designs.push(r.run(trunc, &net, &wp)?);
    let rows = comparison(
        files,
        &designs,
        &out.join(format!("swis/{stem}")),
        &format!("{}: SWIS vs bit-serial, energy", net.name),
    )?;
    Ok(markdown(&rows, "bitserial_pe16", &net.name))
}

#[derive(Serialize)]
struct ElementwiseRow {
    design: String,
    batch_norm: String,
    ace_gbit_ops: f64,
    ace_v2_gbit_ops: f64,
    elementwise_ace_v2_pct: f64,
    energy_uj: f64,
    vector_energy_pct: f64,
    vector_exposed_cycles: u64,
    total_cycles: u64,
}

/// PikeLPN: ACE vs ACEv2 and the elementwise energy share at each weight precision, with
/// batch norm separate, folded or quantized.
fn pikelpn(
    files: &mut Files,
    out: &Path,
    r: &mut Runner,
    wl: &str,
    stem: &str,
) -> anyhow::Result<()> {
    let (wp, net) = workload(wl)?;
    let dense = Path::new("arch/dense_ws16.toml");
    let designs: Vec<Arch> = vec![
        arch_variant(dense, "dense_int8", &[("array.tile_m", b(true))])?,
        arch_variant(
            Path::new("arch/bitserial_pe16.toml"),
            "bitserial_int4",
            &[("quant.weight_bits", int(4))],
        )?,
        io::load_arch(Path::new("arch/swis_pe16.toml"))?,
        io::load_arch(Path::new("arch/binary_pe16.toml"))?,
        io::load_arch(Path::new("arch/signed_binary_pe16.toml"))?,
    ];
    let mut rows = Vec::new();
    let mut breakdown = Vec::new();
    for arch in designs {
        for bn in [
            BatchNormMode::Separate,
            BatchNormMode::Quantized,
            BatchNormMode::Folded,
        ] {
            let mut n = net.clone();
            n.batch_norm = bn;
            let d = r.run(arch.clone(), &n, &wp)?;
            let sum = d.summary();
            rows.push(ElementwiseRow {
                design: d.label.clone(),
                batch_norm: format!("{bn:?}").to_lowercase(),
                ace_gbit_ops: round6(sum.ace_bit_ops / 1e9),
                ace_v2_gbit_ops: round6(sum.ace_v2_bit_ops / 1e9),
                elementwise_ace_v2_pct: round6(
                    100.0 * (sum.ace_v2_bit_ops - sum.ace_bit_ops) / sum.ace_v2_bit_ops,
                ),
                energy_uj: round6(sum.energy_pj / 1e6),
                vector_energy_pct: round6(100.0 * sum.vector_pj / sum.energy_pj),
                vector_exposed_cycles: sum.vector_exposed_cycles,
                total_cycles: sum.total_cycles,
            });
            if bn == BatchNormMode::Separate {
                breakdown.push(d);
            }
        }
    }
    files.push((
        out.join(format!("pikelpn/{stem}_elementwise.csv")),
        to_csv(&rows).into_bytes(),
    ));
    let cmp = compare_rows(&breakdown, 0);
    energy_bars(
        files,
        &cmp,
        &out.join(format!("pikelpn/{stem}_energy_by_precision")),
        &format!(
            "{}: energy breakdown by weight precision (vector = elementwise unit)",
            net.name
        ),
    )?;
    let t = table_of(
        &rows
            .iter()
            .filter(|r| r.batch_norm == "separate")
            .collect::<Vec<_>>(),
        "elementwise",
    )?;
    let o = BarOptions {
        columns: vec!["ace_gbit_ops".into(), "ace_v2_gbit_ops".into()],
        label: "design".into(),
        stack: false,
        title: Some(format!(
            "{}: ACE vs ACEv2 (elementwise operations counted)",
            net.name
        )),
        width: 900,
        beside: None,
    };
    plot_both(
        files,
        &out.join(format!("pikelpn/{stem}_ace_vs_acev2")),
        |f| plot::bars(&t, &o, f, "elementwise"),
    )?;
    Ok(())
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
    quant_rel_error: f64,
    /// On the energy/latency front of all designs, of the design's own family, and of
    /// energy against quantization error (an accuracy proxy).
    on_front: bool,
    on_family_front: bool,
    on_error_front: bool,
}

/// Energy/latency points of the design families on ResNet-18 and their Pareto front.
fn pareto_front(files: &mut Files, out: &Path, r: &mut Runner) -> anyhow::Result<()> {
    let (wp, net) = workload("workloads/resnet18.json")?;
    let kinds = [
        "binary",
        "ternary",
        "signed_binary",
        "bitserial",
        "bitsparse",
        "swis",
    ];
    let mut points = Vec::new();
    for kind in kinds {
        let base = PathBuf::from(format!("arch/{kind}_pe16.toml"));
        for size in [8i64, 16, 32] {
            for lanes in [4i64, 8] {
                let label = format!("{kind}_{size}x{size}_l{lanes}");
                let mut set = vec![
                    ("array.rows", int(size)),
                    ("array.cols", int(size)),
                    ("pe.lanes", int(lanes)),
                ];
                if kind == "swis" {
                    set.push(("quant.group_size", int(lanes)));
                }
                let d = r.run(arch_variant(&base, &label, &set)?, &net, &wp)?;
                let sm = d.summary();
                points.push(DesignPoint {
                    design: label,
                    pe_kind: d.arch.pe.kind.as_str().into(),
                    array_rows: d.arch.rows,
                    lanes: d.arch.pe.lanes,
                    total_cycles: sm.total_cycles,
                    energy_pj: sm.energy_pj,
                    edp_pj_us: sm.edp_pj_us,
                    quant_rel_error: round6(d.weight_stats().rel_error()),
                    on_front: false,
                    on_family_front: false,
                    on_error_front: false,
                });
            }
        }
    }
    let objs: Vec<Vec<f64>> = points
        .iter()
        .map(|p| vec![p.total_cycles as f64, p.energy_pj])
        .collect();
    let min2 = [Sense::Minimize, Sense::Minimize];
    for i in pareto::front(&objs, &min2) {
        points[i].on_front = true;
    }
    for kind in kinds {
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
        group_by: None,
        label: Some("design".into()),
        title: Some(
            "resnet18: energy vs latency of the design families (8/16/32 arrays, 4/8 lanes)".into(),
        ),
        size: (1000, 700),
    };
    let by_family = ScatterOptions {
        group_by: Some("pe_kind".into()),
        title: Some("resnet18: energy vs latency, the front of each design family".into()),
        ..o.clone()
    };
    let by_error = ScatterOptions {
        x: "quant_rel_error".into(),
        title: Some("resnet18: energy vs weight quantization error (accuracy proxy)".into()),
        ..o.clone()
    };
    plot_both(files, &out.join("pareto/resnet18_front"), |f| {
        plot::scatter(&t, &o, f, "designs")
    })?;
    plot_both(files, &out.join("pareto/resnet18_family_fronts"), |f| {
        plot::scatter(&t, &by_family, f, "designs")
    })?;
    plot_both(files, &out.join("pareto/resnet18_error_front"), |f| {
        plot::scatter(&t, &by_error, f, "designs")
    })?;
    Ok(())
}

#[derive(Serialize)]
struct Sensitivity {
    knob: String,
    setting: String,
    signed_binary_speedup_vs_binary: f64,
    signed_binary_energy_ratio_vs_binary: f64,
    swis_speedup_vs_bitserial: f64,
    swis_energy_ratio_vs_bitserial: f64,
}

/// Architecture fields to change, by dotted path.
type Edits = Vec<(&'static str, toml::Value)>;

/// Which design choices move the headline ratios most.
fn sensitivity(files: &mut Files, out: &Path, r: &mut Runner) -> anyhow::Result<()> {
    let (wp, net) = workload("workloads/resnet18.json")?;
    // (knob, setting, fields changed in every design, fields changed in the SWIS design only)
    let mut settings: Vec<(String, String, Edits, Edits)> = Vec::new();
    let both = |k: &'static str, v: toml::Value| vec![(k, v)];
    settings.push(("baseline".into(), "shipped *_pe16".into(), vec![], vec![]));
    for scope in ["lane", "pe", "row", "column", "array"] {
        let v = both("array.sync_scope", s(scope));
        settings.push(("sync_scope".into(), scope.into(), v.clone(), v));
    }
    let v = both("array.schedule", b(false));
    settings.push(("schedule".into(), "off".into(), v.clone(), v));
    for kib in [16i64, 64, 256] {
        let v = vec![
            ("buffers.input.capacity_bytes", int(kib * 1024)),
            ("buffers.weight.capacity_bytes", int(kib * 1024)),
            ("buffers.output.capacity_bytes", int(kib * 1024)),
        ];
        settings.push(("buffers".into(), format!("3 x {kib} KiB"), v.clone(), v));
    }
    for (g, n) in [(4i64, 3i64), (16, 3), (8, 2), (8, 4)] {
        settings.push((
            "swis G, N".into(),
            format!("G = {g}, N = {n}"),
            vec![],
            vec![
                ("pe.lanes", int(g)),
                ("quant.group_size", int(g)),
                ("quant.shared_bits", int(n)),
            ],
        ));
    }
    let mut rows = Vec::new();
    for (knob, setting, common, swis_only) in settings {
        let variant = |file: &str, label: &str, extra: &[(&str, toml::Value)]| {
            let mut set = common.clone();
            set.extend_from_slice(extra);
            arch_variant(Path::new(file), label, &set)
        };
        let lanes_set: Vec<(&str, toml::Value)> = swis_only
            .iter()
            .filter(|(k, _)| k.starts_with("pe."))
            .cloned()
            .collect();
        let bin = r
            .run(variant("arch/binary_pe16.toml", "binary", &[])?, &net, &wp)?
            .summary();
        let sb = r
            .run(
                variant("arch/signed_binary_pe16.toml", "signed_binary", &[])?,
                &net,
                &wp,
            )?
            .summary();
        let bs = r
            .run(
                variant("arch/bitserial_pe16.toml", "bitserial", &lanes_set)?,
                &net,
                &wp,
            )?
            .summary();
        let sw = r
            .run(
                variant("arch/swis_pe16.toml", "swis", &swis_only)?,
                &net,
                &wp,
            )?
            .summary();
        rows.push(Sensitivity {
            knob,
            setting,
            signed_binary_speedup_vs_binary: round6(
                bin.total_cycles as f64 / sb.total_cycles as f64,
            ),
            signed_binary_energy_ratio_vs_binary: round6(bin.energy_pj / sb.energy_pj),
            swis_speedup_vs_bitserial: round6(bs.total_cycles as f64 / sw.total_cycles as f64),
            swis_energy_ratio_vs_bitserial: round6(bs.energy_pj / sw.energy_pj),
        });
    }
    files.push((
        out.join("sensitivity/resnet18.csv"),
        to_csv(&rows).into_bytes(),
    ));
    Ok(())
}

pub fn run(args: ReproduceArgs) -> anyhow::Result<()> {
    let mut files: Files = Vec::new();
    let mut r = Runner {
        cache: HashMap::new(),
    };
    let out = &args.out;
    let mut report = String::new();
    report.push_str(&plum(
        &mut files,
        out,
        &mut r,
        "workloads/resnet18_plum.json",
        "resnet18_plum",
        true,
    )?);
    pikelpn(
        &mut files,
        out,
        &mut r,
        "workloads/resnet18.json",
        "resnet18",
    )?;
    pikelpn(
        &mut files,
        out,
        &mut r,
        "workloads/mobilenet_v2.json",
        "mobilenet_v2",
    )?;
    if !args.reduced {
        report.push('\n');
        report.push_str(&swis(
            &mut files,
            out,
            &mut r,
            "workloads/resnet18.json",
            "resnet18",
        )?);
        pareto_front(&mut files, out, &mut r)?;
        sensitivity(&mut files, out, &mut r)?;
        if shared_weights_present() {
            report.push('\n');
            report.push_str(&plum(
                &mut files,
                out,
                &mut r,
                "workloads/resnet20_cifar10_plum.json",
                "resnet20_cifar10_plum",
                false,
            )?);
            report.push('\n');
            report.push_str(&swis(
                &mut files,
                out,
                &mut r,
                "workloads/resnet20_cifar10.json",
                "resnet20_cifar10",
            )?);
        } else {
            eprintln!(
                "note: ../shared/weights not present: the trained ResNet-20 parts are skipped"
            );
        }
    }
    io::write_all_atomic(&files)?;
    print!("{report}");
    for (p, _) in &files {
        println!("wrote {}", p.display());
    }
    Ok(())
}
