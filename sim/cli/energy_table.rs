//! `plumsim energy-table ARCH`: the energy table in force, with the source of every entry.

use std::path::PathBuf;

use plumsim::energy::EnergyTable;
use plumsim::io;

#[derive(Debug, clap::Args)]
pub struct EnergyTableArgs {
    /// Architecture TOML whose `[energy]` overrides apply.
    pub arch: PathBuf,
}

pub fn run(args: EnergyTableArgs, _v: super::progress::Verbosity) -> anyhow::Result<()> {
    let arch = io::load_arch(&args.arch)?;
    let t = EnergyTable::for_arch(&arch);
    println!(
        "energy table for `{}` ({} entries; * = overridden in {})",
        arch.name,
        t.entries().len(),
        args.arch.display()
    );
    println!("{:<34} {:>12} {:<16} source", "entry", "value", "unit");
    for (e, v, overridden) in t.entries() {
        let source = if overridden {
            format!("* {} (default {})", args.arch.display(), e.value)
        } else {
            e.source.to_string()
        };
        println!("{:<34} {:>12} {:<16} {}", e.key, v, e.unit, source);
    }
    println!();
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
            "  {name:<6} buffer ({:>8} B)   {:>10.4} pJ/bit read, {:.4} pJ/bit write",
            b.capacity_bytes,
            t.sram_read_pj_per_bit(b.capacity_bytes),
            t.sram_write_pj_per_bit(b.capacity_bytes)
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
    Ok(())
}
