//! plumsim against SCALE-Sim v2's own reports in ../shared/reference/scalesim.
//!
//! Compute cycles (Total - Stall), overall utilization and mapping efficiency must match
//! exactly; SCALE-Sim's Compute Util sums per-fold floats, so it is compared to 1e-9.

mod common;

use plumsim::{design::parse_arch, engine, scalesim};

struct RefRow {
    total: u64,
    stall: u64,
    overall_util: f64,
    mapping_eff: f64,
    compute_util: f64,
}

fn read_compute_report(text: &str) -> Vec<RefRow> {
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split(',').map(str::trim).collect();
            RefRow {
                total: c[1].parse().unwrap(),
                stall: c[2].parse().unwrap(),
                overall_util: c[3].parse().unwrap(),
                mapping_eff: c[4].parse().unwrap(),
                compute_util: c[5].parse().unwrap(),
            }
        })
        .collect()
}

/// (ifmap reads, filter reads, ofmap writes) per layer from DETAILED_ACCESS_REPORT.csv.
fn read_access_report(text: &str) -> Vec<(u64, u64, u64)> {
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split(',').map(str::trim).collect();
            (
                c[3].parse().unwrap(),
                c[6].parse().unwrap(),
                c[9].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn every_reference_report_matches_scalesim() {
    let Some(shared) = common::shared_or_skip("SCALE-Sim cross-check") else {
        return;
    };
    let dir = shared.join("reference/scalesim");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 10,
        "expected the 10 reference folders, found {}",
        cases.len()
    );
    let mut layers_checked = 0;
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let read = |f: &str| std::fs::read_to_string(case.join(f)).unwrap();
        let arch_toml = scalesim::config_to_arch_toml(&read("config.cfg"), &name).unwrap();
        let arch = parse_arch(&arch_toml, &name).unwrap();
        let net = scalesim::parse_topology(&read("topology.csv"), &name, &name).unwrap();
        let run = engine::simulate(&arch, &net).unwrap();
        let ours = scalesim::compute_report(&arch, &run);
        let theirs = read_compute_report(&read("COMPUTE_REPORT.csv"));
        assert_eq!(ours.len(), theirs.len(), "{name}: layer count");
        let user_mode = name.contains("userbw");
        for (i, (o, t)) in ours.iter().zip(&theirs).enumerate() {
            // Compute cycles: SCALE-Sim's Total - Stall (its stall model differs, see README).
            assert_eq!(
                o.total_cycles - o.stall_cycles,
                t.total - t.stall,
                "{name} layer {i}: compute cycles"
            );
            assert_eq!(
                o.mapping_efficiency_pct, t.mapping_eff,
                "{name} layer {i}: mapping efficiency"
            );
            assert!(
                (o.compute_util_pct - t.compute_util).abs() < 1e-9,
                "{name} layer {i}: compute util {} vs {}",
                o.compute_util_pct,
                t.compute_util
            );
            if !user_mode {
                assert_eq!(o.total_cycles, t.total, "{name} layer {i}: total cycles");
                assert_eq!(
                    o.stall_cycles, 0,
                    "{name} layer {i}: CALC mode never stalls"
                );
                assert_eq!(
                    o.overall_util_pct, t.overall_util,
                    "{name} layer {i}: overall util"
                );
            }
            layers_checked += 1;
        }
        // SRAM accesses: ws and is count exactly like SCALE-Sim; os ofmap writes carry a
        // counting bug of the tool (folds x (R + C) extra), so only ifmap/filter are compared.
        let access = read_access_report(&read("DETAILED_ACCESS_REPORT.csv"));
        let array_layers: Vec<_> = run.layers.iter().filter(|l| l.gemm.is_some()).collect();
        for (i, (l, &(ifmap, filter, ofmap))) in array_layers.iter().zip(&access).enumerate() {
            assert_eq!(
                l.traffic.input_buffer_reads, ifmap,
                "{name} layer {i}: ifmap SRAM reads"
            );
            assert_eq!(
                l.traffic.weight_buffer_reads, filter,
                "{name} layer {i}: filter SRAM reads"
            );
            if !name.contains("_os_") {
                assert_eq!(
                    l.traffic.output_buffer_writes, ofmap,
                    "{name} layer {i}: ofmap SRAM writes"
                );
            }
        }
    }
    println!(
        "matched {layers_checked} layers in {} SCALE-Sim reports",
        cases.len()
    );
    assert_eq!(layers_checked, 9 * 4 + 21);
}

/// The figures of SCALE-Sim's ResNet-18 16x16 ws report, written in so the check runs even
/// without ../shared: compute cycles per layer (Total Cycles + 1 = plumsim's count).
#[test]
fn resnet18_ws16_total_cycles_without_shared() {
    const SCALESIM_TOTAL: [u64; 21] = [
        485839, 426527, 426527, 426527, 426527, 239039, 415871, 28383, 415871, 415871, 278783,
        437759, 34687, 437759, 437759, 437759, 654335, 56319, 654335, 654335, 94751,
    ];
    let topo = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,
Conv1,224,224,7,7,3,64,2,
Conv2_1a,56,56,3,3,64,64,1,
Conv2_1b,56,56,3,3,64,64,1,
Conv2_2a,56,56,3,3,64,64,1,
Conv2_2b,56,56,3,3,64,64,1,
Conv3_1a,56,56,3,3,64,128,2,
Conv3_1b,28,28,3,3,128,128,1,
Conv3_s,56,56,1,1,64,128,2,
Conv3_2a,28,28,3,3,128,128,1,
Conv3_2b,28,28,3,3,128,128,1,
Conv4_1a,28,28,3,3,128,256,2,
Conv4_1b,14,14,3,3,256,256,1,
Conv4_s,28,28,1,1,128,256,2,
Conv4_2a,14,14,3,3,256,256,1,
Conv4_2b,14,14,3,3,256,256,1,
Conv5_1a,14,14,3,3,256,512,2,
Conv5_1b,7,7,3,3,512,512,1,
Conv5_s,14,14,1,1,256,512,2,
Conv5_2a,7,7,3,3,512,512,1,
Conv5_2b,7,7,3,3,512,512,1,
FC,1,1,1,1,512,1000,1,
";
    let text = std::fs::read_to_string(common::root().join("arch/dense_ws16.toml")).unwrap();
    let arch = parse_arch(&text, "dense_ws16").unwrap();
    let net = scalesim::parse_topology(topo, "resnet18.csv", "resnet18").unwrap();
    let run = engine::simulate(&arch, &net).unwrap();
    let ours: Vec<u64> = run.layers.iter().map(|l| l.compute_cycles - 1).collect();
    assert_eq!(ours, SCALESIM_TOTAL);
    assert_eq!(
        run.compute_cycles(),
        SCALESIM_TOTAL.iter().sum::<u64>() + 21
    );
}
