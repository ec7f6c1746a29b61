//! `plumsim energy-table ARCH` and `plumsim area-table ARCH`: the cost tables in force, with
//! the source of every entry and what they give for the architecture.

use std::path::{Path, PathBuf};

use plumsim::area::{self, AreaTable};
use plumsim::energy::{EnergyTable, Hardware};
use plumsim::entries::Entry;
use plumsim::io;

#[derive(Debug, clap::Args)]
pub struct EnergyTableArgs {
    /// Architecture TOML whose `[energy]` overrides apply.
    pub arch: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct AreaTableArgs {
    /// Architecture TOML whose `[area]` overrides apply.
    pub arch: PathBuf,
}

/// Every entry with its value in force, unit and source (or the overriding file).
fn print_entries(what: &str, arch_name: &str, path: &Path, entries: &[(Entry, f64, bool)]) {
    println!(
        "{what} table for `{arch_name}` ({} entries; * = overridden in {})",
        entries.len(),
        path.display()
    );
    println!("{:<34} {:>12} {:<16} source", "entry", "value", "unit");
    for (e, v, overridden) in entries {
        let source = if *overridden {
            format!("* {} (default {})", path.display(), e.value)
        } else {
            e.source.to_string()
        };
        println!("{:<34} {:>12} {:<16} {}", e.key, v, e.unit, source);
    }
    println!();
}

pub fn area(args: AreaTableArgs, _v: super::progress::Verbosity) -> anyhow::Result<()> {
    let arch = io::load_arch(&args.arch)?;
    let t = AreaTable::for_arch(&arch);
    print_entries("area", &arch.name, &args.arch, &t.entries());
    let d = arch.pe.datapath();
    let (arith, regs, mux) = area::pe_area(&d, &t);
    println!(
        "one PE ({} x {} slots, tech_scale applied):",
        d.lanes, d.slots
    );
    println!(
        "  multipliers {}, adders {} x {} bit, shifters {} x {} bit",
        d.multiplier.map_or("none".to_string(), |(a, b)| format!(
            "{} x {a}x{b} bit",
            d.lanes
        )),
        d.lanes,
        d.adder_bits,
        d.shifter_count(),
        d.accumulator_bits
    );
    println!(
        "  register bits {} ({} per lane), operand multiplexer {}:1, skip index {} bits per slot",
        d.register_bits(),
        d.lane_register_bits(),
        d.mux_inputs,
        d.index_bits
    );
    println!(
        "  arithmetic {arith:>10.1} um^2, registers {regs:>10.1} um^2, multiplexers {mux:>10.1} um^2"
    );
    println!();
    let a = area::arch_area(&arch, &t);
    println!("the design ({} x {} PEs):", arch.rows, arch.cols);
    for (name, v) in a.components() {
        println!("  {name:<14} {v:>10.4} mm^2");
    }
    println!("  {:<14} {:>10.4} mm^2", "total", a.total_mm2());
    Ok(())
}

pub fn energy(args: EnergyTableArgs, _v: super::progress::Verbosity) -> anyhow::Result<()> {
    let arch = io::load_arch(&args.arch)?;
    let t = EnergyTable::for_arch(&arch);
    print_entries("energy", &arch.name, &args.arch, &t.entries());
    println!("derived for this architecture (tech_scale applied):");
    let acc = arch.pe.accumulator_bits;
    let (w, a) = (arch.pe.weight_bits, arch.pe.activation_bits);
    println!(
        "  int add, {acc} bit              {:>10.4} pJ",
        t.int_add(acc)
    );
    println!(
        "  int multiply, {w} x {a} bit      {:>10.4} pJ",
        t.int_mult(w, a)
    );
    println!(
        "  shift, {acc} bit                {:>10.4} pJ",
        t.shift(acc)
    );
    for (name, b) in [
        ("input", &arch.input_buffer),
        ("weight", &arch.weight_buffer),
        ("output", &arch.output_buffer),
    ] {
        println!(
            "  {name:<6} buffer ({} B, {} banks of {} B)   {:>10.4} pJ/bit read, {:.4} pJ/bit write",
            b.capacity_bytes,
            b.banks(),
            b.bank_bytes(),
            t.sram_read_pj_per_bit(b.bank_bytes()),
            t.sram_write_pj_per_bit(b.bank_bytes())
        );
    }
    println!(
        "  DRAM ({})                  {:>10.4} pJ/bit",
        arch.dram.kind.as_str(),
        t.dram_pj_per_bit(arch.dram.kind)
    );
    let p = arch.vector.precision;
    println!(
        "  vector unit ({}) mult / add  {:>8.4} / {:.4} pJ",
        p.label(),
        t.vector_mult(p),
        t.vector_add(p)
    );
    let hw = Hardware::of(&arch);
    let d = hw.datapath;
    let clock_bits = if arch.pe.clock_gating {
        2 * d.lanes as u64 + 1
    } else {
        d.register_bits()
    };
    println!(
        "  clock of one PE per cycle      {:>10.4} pJ ({clock_bits} bits clocked when idle{})",
        t.clock_per_bit_cycle() * clock_bits as f64,
        if arch.pe.clock_gating { ", gated" } else { "" }
    );
    println!(
        "  leakage of the design per cycle {:>9.4} pJ ({:.4} mm^2 logic, {:.4} mm^2 SRAM)",
        t.leakage(
            hw.area.logic_mm2(),
            hw.area.sram_mm2(),
            1.0 / arch.clock_mhz
        ),
        hw.area.logic_mm2(),
        hw.area.sram_mm2()
    );
    Ok(())
}
