//! SWIS: N = 1..7 (fixed), variable N and truncation against the bit-serial design of the
//! same array (both with one shifter per PE, as Stripes and SWIS build them; a bit-serial
//! design with a shifter per lane beside them), and the fair int8 design for context.

use crate::plot::labels::network_name;
use std::path::Path;

use super::{comparison, int, s, Files, Runner, Variant};
use crate::compare::markdown;
use crate::error::Result;

/// Designs one run of the study simulates.
pub fn design_count() -> u64 {
    designs().len() as u64
}

/// Bit-serial int8 (the baseline), SWIS with N = 1..7, variable N (N_max 4, error bound
/// 0.02), truncation, bit-serial with a shifter per lane, and the int8 design.
pub fn designs() -> Vec<Variant> {
    let sw = "swis_pe16.toml";
    let mut v = vec![Variant::shipped("bitserial_pe16.toml")];
    for n in 1..=7 {
        v.push(Variant::new(
            sw,
            &format!("swis_g8_n{n}"),
            vec![("quant.shared_bits", int(n))],
        ));
    }
    v.push(
        Variant::new(
            sw,
            "swis_g8_variable_n4",
            vec![
                ("quant.max_shared_bits", int(4)),
                ("quant.error_bound", toml::Value::Float(0.02)),
            ],
        )
        .unset(&["quant.shared_bits"]),
    );
    v.push(
        Variant::new(
            sw,
            "truncate_n3",
            vec![
                ("quant.scheme", s("truncate")),
                ("quant.shared_bits", int(3)),
            ],
        )
        .unset(&["quant.group_size"]),
    );
    v.push(Variant::new(
        "bitserial_pe16.toml",
        "bitserial_pe16_lane_shifters",
        vec![("pe.shifter", s("lane"))],
    ));
    v.push(Variant::shipped("dense_pe16.toml"));
    v
}

/// Run the study on shipped workload `wl`, files named `swis/<stem>*`; returns the markdown
/// comparison.
pub fn study(files: &mut Files, out: &Path, r: &Runner, wl: &str, stem: &str) -> Result<String> {
    let (net, designs) = r.designs(&designs(), wl)?;
    let rows = comparison(
        files,
        &designs,
        &out.join(format!("swis/{stem}")),
        &format!(
            "{}: energy of SWIS and bit-serial designs",
            network_name(&net.name)
        ),
    )?;
    Ok(markdown(&rows, "bitserial_pe16", &net.name))
}
