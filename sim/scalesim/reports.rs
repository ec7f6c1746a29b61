//! SCALE-Sim's three report files, byte for byte as its `simulator.generate_reports` writes
//! them: `LayerID, ` then each value as Python's `str()` prints it, `, `-separated, with a
//! trailing comma.

use super::memory::{Access, LayerMemory};

/// The file names SCALE-Sim writes into its run folder.
pub const COMPUTE_REPORT: &str = "COMPUTE_REPORT.csv";
pub const BANDWIDTH_REPORT: &str = "BANDWIDTH_REPORT.csv";
pub const DETAILED_ACCESS_REPORT: &str = "DETAILED_ACCESS_REPORT.csv";

const COMPUTE_HEADER: &str =
    "LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, Compute Util %,\n";
const BANDWIDTH_HEADER: &str = "LayerID, Avg IFMAP SRAM BW, Avg FILTER SRAM BW, Avg OFMAP SRAM BW, Avg IFMAP DRAM BW, Avg FILTER DRAM BW, Avg OFMAP DRAM BW,\n";
const DETAILED_HEADER: &str = "LayerID, SRAM IFMAP Start Cycle, SRAM IFMAP Stop Cycle, SRAM IFMAP Reads, SRAM Filter Start Cycle, SRAM Filter Stop Cycle, SRAM Filter Reads, SRAM OFMAP Start Cycle, SRAM OFMAP Stop Cycle, SRAM OFMAP Writes, DRAM IFMAP Start Cycle, DRAM IFMAP Stop Cycle, DRAM IFMAP Reads, DRAM Filter Start Cycle, DRAM Filter Stop Cycle, DRAM Filter Reads, DRAM OFMAP Start Cycle, DRAM OFMAP Stop Cycle, DRAM OFMAP Writes,\n";

/// A float as Python's `repr`/`str` prints it: the shortest digits that read back to the
/// same value, positional from 1e-4 to below 1e16 (with `.0` when whole), scientific
/// otherwise (`1e-05`, `1.5e+16`).
pub fn py_float(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "1.2345e3", "-5e-7".
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("{:e} exponent is an integer");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-4..16).contains(&exp) {
        let point = exp + 1; // digits before the decimal point
        let body = if point <= 0 {
            format!("0.{}{}", "0".repeat((-point) as usize), digits)
        } else if point as usize >= digits.len() {
            format!("{}{}.0", digits, "0".repeat(point as usize - digits.len()))
        } else {
            let (a, b) = digits.split_at(point as usize);
            format!("{a}.{b}")
        };
        format!("{sign}{body}")
    } else {
        let m = if digits.len() == 1 {
            digits
        } else {
            format!("{}.{}", &digits[..1], &digits[1..])
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{m}e{esign}{:02}", exp.abs())
    }
}

/// A cycle stamp SCALE-Sim holds as a numpy float (`17.0`).
fn cycle(c: i64) -> String {
    py_float(c as f64)
}

fn line(id: usize, cells: &[String]) -> String {
    format!("{id}, {},\n", cells.join(", "))
}

/// `COMPUTE_REPORT.csv`.
pub fn compute_csv(layers: &[LayerMemory]) -> String {
    let mut s = String::from(COMPUTE_HEADER);
    for (i, l) in layers.iter().enumerate() {
        s += &line(
            i,
            &[
                l.total_cycles.to_string(),
                l.stall_cycles.to_string(),
                py_float(l.overall_util_pct()),
                py_float(l.mapping_efficiency * 100.0),
                py_float(l.compute_utilization * 100.0),
            ],
        );
    }
    s
}

/// Words per cycle over an SRAM trace: SCALE-Sim divides by the layer's `Total Cycles`.
fn sram_bw(count: u64, total_cycles: i64) -> String {
    py_float(count as f64 / total_cycles as f64)
}

/// Words per cycle over a DRAM trace: SCALE-Sim divides by its own start-to-stop span.
fn dram_bw(a: &Access) -> String {
    py_float(a.count as f64 / (a.stop_cycle as f64 - a.start_cycle as f64 + 1.0))
}

/// `BANDWIDTH_REPORT.csv`.
pub fn bandwidth_csv(layers: &[LayerMemory]) -> String {
    let mut s = String::from(BANDWIDTH_HEADER);
    for (i, l) in layers.iter().enumerate() {
        let mut cells: Vec<String> = l
            .sram
            .iter()
            .map(|a| sram_bw(a.count, l.total_cycles))
            .collect();
        cells.extend(l.dram.iter().map(dram_bw));
        s += &line(i, &cells);
    }
    s
}

/// `DETAILED_ACCESS_REPORT.csv`.
pub fn detailed_access_csv(layers: &[LayerMemory]) -> String {
    let mut s = String::from(DETAILED_HEADER);
    for (i, l) in layers.iter().enumerate() {
        let cells: Vec<String> = l
            .sram
            .iter()
            .chain(l.dram.iter())
            .flat_map(|a| {
                [
                    cycle(a.start_cycle),
                    cycle(a.stop_cycle),
                    a.count.to_string(),
                ]
            })
            .collect();
        s += &line(i, &cells);
    }
    s
}

/// All three reports, named as SCALE-Sim names them.
pub fn all(layers: &[LayerMemory]) -> [(&'static str, String); 3] {
    [
        (COMPUTE_REPORT, compute_csv(layers)),
        (BANDWIDTH_REPORT, bandwidth_csv(layers)),
        (DETAILED_ACCESS_REPORT, detailed_access_csv(layers)),
    ]
}

#[cfg(test)]
mod tests {
    use super::py_float;

    #[test]
    fn floats_print_as_python_prints_them() {
        for (x, py) in [
            (17.0, "17.0"),
            (-3259.0, "-3259.0"),
            (11.771171980242478, "11.771171980242478"),
            (0.003286794818464639, "0.003286794818464639"),
            (100.0, "100.0"),
            (51.200000000000024, "51.200000000000024"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (1.5e16, "1.5e+16"),
            (1e16, "1e+16"),
            (9999999999999998.0, "9999999999999998.0"),
            (123456789.0, "123456789.0"),
            (-2.5e-7, "-2.5e-07"),
            (0.0, "0.0"),
            (16.0, "16.0"),
        ] {
            assert_eq!(py_float(x), py, "{x:e}");
        }
    }
}
