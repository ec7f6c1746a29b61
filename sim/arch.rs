//! Architecture description: the raw TOML mirror ([`RawArch`]) and the validated model ([`Arch`]).
//!
//! Parsing is pure (text in, value out): the caller reads the file. Every field is documented
//! with its unit and default in `arch/README.md`; keep the two in step.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::{check_range, Problem};
pub use crate::pe::{BitEncoding, Pe, PeKind, RawPe, SerialOperand};
pub use crate::tech::{DramKind, VectorPrecision};

/// How operands are held in the systolic array (SCALE-Sim naming).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dataflow {
    /// Weight-stationary: a fold holds a K-slice (rows) x N-slice (columns) of weights; M streams.
    Ws,
    /// Output-stationary: a fold holds an M-slice x N-slice of outputs; K streams.
    Os,
    /// Input-stationary: a fold holds a K-slice x M-slice of inputs; N streams.
    Is,
}

impl Dataflow {
    pub fn as_str(self) -> &'static str {
        match self {
            Dataflow::Ws => "ws",
            Dataflow::Os => "os",
            Dataflow::Is => "is",
        }
    }
}

/// Which units advance in lock-step: a step of a synchronization domain costs the slowest
/// member's cycles; domains are decoupled from each other by FIFOs but still wait for the
/// data they consume (activations from the left, partial sums from above).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncScope {
    /// Each lane of a PE runs through its weight slots on its own.
    Lane,
    /// Each PE steps on its own; its lanes advance together.
    Pe,
    /// All PEs of a row advance together.
    Row,
    /// All PEs of a column advance together.
    Column,
    /// The whole array advances one wavefront step at a time.
    Array,
    /// The whole array advances one weight slot (a brick of `lanes` weights) at a time:
    /// Pragmatic's brick lock-step, as DNNsim's `BitPragmatic` synchronizes its columns. A
    /// wavefront step costs the sum over slots of the slowest active PE's slot.
    Brick,
}

impl SyncScope {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncScope::Lane => "lane",
            SyncScope::Pe => "pe",
            SyncScope::Row => "row",
            SyncScope::Column => "column",
            SyncScope::Array => "array",
            SyncScope::Brick => "brick",
        }
    }
}

// ---------------------------------------------------------------- raw (file mirror)

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawArch {
    pub name: String,
    pub clock_mhz: Option<f64>,
    pub array: RawArray,
    pub pe: RawPe,
    pub buffers: RawBuffers,
    pub dram: Option<RawDram>,
    /// The design's native weight format (same fields as a workload's `quant`).
    pub quant: Option<crate::quant::RawQuant>,
    pub vector: Option<RawVector>,
    pub energy: Option<BTreeMap<String, f64>>,
    pub area: Option<BTreeMap<String, f64>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawArray {
    pub rows: i64,
    pub cols: i64,
    pub dataflow: Dataflow,
    pub sync_scope: Option<SyncScope>,
    pub schedule: Option<bool>,
    pub tile_m: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBuffers {
    pub input: RawBuffer,
    pub weight: RawBuffer,
    pub output: RawBuffer,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBuffer {
    pub capacity_bytes: i64,
    pub word_bits: Option<i64>,
    pub read_words_per_cycle: Option<RawPortRate>,
    pub write_words_per_cycle: Option<RawPortRate>,
    pub double_buffered: Option<bool>,
}

/// A port rate as written: words per cycle, or `"unlimited"` (the ideal SRAM).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawPortRate {
    Words(f64),
    Name(String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDram {
    #[serde(rename = "type")]
    pub kind: Option<DramKind>,
    pub bandwidth_bytes_per_cycle: Option<f64>,
    pub ideal: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVector {
    pub lanes: Option<i64>,
    pub precision: Option<String>,
    pub overlap: Option<bool>,
}

// ---------------------------------------------------------------- validated model

/// The elementwise (vector) unit: batch norm, activations, requantization scaling,
/// residual adds and pooling run here (PikeLPN's point: they are not free).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Vector {
    /// Elements processed per cycle, one operation each.
    pub lanes: u32,
    pub precision: VectorPrecision,
    /// Runs concurrently with the array (its cycles hide behind the array's) or not.
    pub overlap: bool,
}

/// A validated accelerator description. Engine code takes this, never the raw form.
#[derive(Debug, Clone, PartialEq)]
pub struct Arch {
    pub name: String,
    pub clock_mhz: f64,
    pub rows: u32,
    pub cols: u32,
    pub dataflow: Dataflow,
    /// Lock-step scope (see [`SyncScope`]).
    pub sync_scope: SyncScope,
    /// Offline scheduling: order filters by work so lock-step units get similar work.
    pub schedule: bool,
    /// Weight-stationary: split M into tiles that fit the input and output buffers.
    pub tile_m: bool,
    pub pe: Pe,
    pub input_buffer: Buffer,
    pub weight_buffer: Buffer,
    pub output_buffer: Buffer,
    pub dram: Dram,
    pub vector: Vector,
    /// The design's native weight scheme: replaces the workload's default scheme on every
    /// weight layer that does not name its own (see `Network::with_default_scheme`).
    pub scheme: Option<crate::quant::Scheme>,
    /// Energy-table overrides in pJ, keyed by action name (used by the energy model).
    pub energy_overrides: BTreeMap<String, f64>,
    /// Area-table overrides, keyed by entry name (used by the area model).
    pub area_overrides: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Buffer {
    pub capacity_bytes: u64,
    pub word_bits: u32,
    /// Words the array side can read per cycle; `None`: unlimited (an ideal SRAM that
    /// delivers whatever the array demands, an upper bound).
    pub read_words_per_cycle: Option<f64>,
    pub write_words_per_cycle: Option<f64>,
    pub double_buffered: bool,
}

impl Buffer {
    /// Banks the macro is built from: one single-ported bank per word a cycle of each side,
    /// reads and writes going to different banks (as the halves of a double buffer do); an
    /// unlimited side counts one bank (its cost is not modelled).
    pub fn banks(&self) -> u64 {
        let rate = |r: Option<f64>| r.map_or(1.0, |r| r.ceil());
        (rate(self.read_words_per_cycle) + rate(self.write_words_per_cycle)) as u64
    }

    /// Bytes of one bank.
    pub fn bank_bytes(&self) -> u64 {
        (self.capacity_bytes / self.banks()).max(1)
    }

    /// Bytes one tile may occupy: half the capacity when double-buffered.
    pub fn usable_bytes(&self) -> u64 {
        if self.double_buffered {
            self.capacity_bytes / 2
        } else {
            self.capacity_bytes
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dram {
    pub kind: DramKind,
    pub bandwidth_bytes_per_cycle: f64,
    /// Never stall on DRAM (SCALE-Sim's CALC bandwidth mode); traffic is still counted.
    pub ideal: bool,
}

impl Arch {
    pub fn pes(&self) -> u64 {
        self.rows as u64 * self.cols as u64
    }

    /// The idealizations this design uses (upper bounds, not buildable hardware), as notes.
    pub fn idealizations(&self) -> Vec<String> {
        let mut v = Vec::new();
        if self.pe.has_skip_network() && self.pe.skip == crate::pe::SkipNetwork::Ideal {
            v.push(
                "pe.skip = \"ideal\": a full crossbar, an upper bound on zero skipping".to_string(),
            );
        }
        for (name, b) in [
            ("input", &self.input_buffer),
            ("weight", &self.weight_buffer),
            ("output", &self.output_buffer),
        ] {
            if b.read_words_per_cycle.is_none() || b.write_words_per_cycle.is_none() {
                v.push(format!(
                    "buffers.{name}: \"unlimited\" ports, an ideal SRAM (no port stalls, no bank area)"
                ));
            }
        }
        if self.dram.ideal {
            v.push("dram.ideal = true: DRAM never stalls the array".to_string());
        }
        v
    }

    /// Whether the buffers hold one `rows x cols` tile of their operands (the validation rule
    /// for `capacity_bytes`, for an array resized after validation).
    pub fn buffers_hold_tiles(&self, rows: u32, cols: u32) -> bool {
        let fits = |b: &Buffer, bits: u32, depth: u64| {
            b.capacity_bytes >= tile_need_bytes(rows, cols, bits, depth, b.double_buffered)
        };
        fits(&self.input_buffer, self.pe.activation_bits, 1)
            && fits(&self.weight_buffer, self.pe.weight_bits, self.pe.k_per_pe())
            && fits(&self.output_buffer, self.pe.accumulator_bits, 1)
    }
}

/// Bytes a buffer needs for one `rows x cols` tile of `elem_bits`-bit values, `depth` per PE,
/// twice when double-buffered.
pub fn tile_need_bytes(rows: u32, cols: u32, elem_bits: u32, depth: u64, double: bool) -> u64 {
    let tile = (rows as u64 * cols as u64 * elem_bits as u64 * depth).div_ceil(8);
    if double {
        2 * tile
    } else {
        tile
    }
}

pub const DEFAULT_CLOCK_MHZ: f64 = 1000.0;
pub const DEFAULT_WORD_BITS: i64 = 8;
pub const DEFAULT_DRAM_BANDWIDTH_BYTES_PER_CYCLE: f64 = 10.0;
pub const MAX_ARRAY_DIM: i64 = 4096;
/// A buffer port without a stated rate: one word per cycle (a single-ported macro).
pub const DEFAULT_WORDS_PER_CYCLE: f64 = 1.0;
pub const MAX_WORDS_PER_CYCLE: f64 = 4096.0;
/// The slowest port: one word every 1,024 cycles.
pub const MIN_WORDS_PER_CYCLE: f64 = 1.0 / 1024.0;

/// The slowest clock plumsim models, in MHz (latencies stay finite and in range).
pub const MIN_CLOCK_MHZ: f64 = 1.0;
pub const MAX_CLOCK_MHZ: f64 = 1.0e5;
/// The slowest DRAM interface: one byte every 1,024 cycles, as the slowest buffer port.
pub const MIN_DRAM_BYTES_PER_CYCLE: f64 = 1.0 / 1024.0;
pub const MAX_DRAM_BYTES_PER_CYCLE: f64 = 1.0e6;
/// The largest buffer: 2^50 bytes (1 PiB), so bit counts of a buffer fit in 64 bits.
pub const MAX_CAPACITY_BYTES: i64 = 1 << 50;

fn check_between(problems: &mut Vec<Problem>, path: &str, value: f64, lo: f64, hi: f64) {
    if !(value >= lo && value <= hi) {
        problems.push(
            Problem::new(
                path,
                format!("{} is out of range", crate::error::show_number(value)),
            )
            .with_help(format!("allowed: a number from {lo} to {hi}")),
        );
    }
}

/// Check the raw mirror against the architecture's rules, pushing every problem: the array,
/// the PE (common fields, the kind's options and checks, see [`crate::pe`]), buffers, DRAM,
/// the native weight scheme and the vector unit. Energy overrides are checked by
/// `design.rs`, which is the entry point for a whole architecture file.
pub(crate) fn validate_arch(raw: RawArch, p: &mut Vec<Problem>) -> Arch {
    if raw.name.trim().is_empty() {
        p.push(Problem::new("name", "must not be empty"));
    }
    let clock_mhz = raw.clock_mhz.unwrap_or(DEFAULT_CLOCK_MHZ);
    check_between(p, "clock_mhz", clock_mhz, MIN_CLOCK_MHZ, MAX_CLOCK_MHZ);
    let rows = check_range(p, "array.rows", raw.array.rows, 1, MAX_ARRAY_DIM);
    let cols = check_range(p, "array.cols", raw.array.cols, 1, MAX_ARRAY_DIM);

    let pe = crate::pe::validate_pe(&raw.pe, p);
    let kind = pe.kind;
    if pe.skip_zero_activations && raw.array.dataflow != Dataflow::Ws {
        p.push(Problem::new(
            "pe.skip_zero_activations",
            "needs dataflow = \"ws\"",
        ));
    }
    if kind.model().weight_stationary_only() && raw.array.dataflow != Dataflow::Ws {
        p.push(
            Problem::new("array.dataflow", format!("pe.kind = \"{}\" is modelled on the weight-stationary dataflow only", kind.as_str()))
                .with_help("use dataflow = \"ws\": weight-dependent PE costs need the weights held still in the PEs"),
        );
    }
    let sync_scope = raw.array.sync_scope.unwrap_or(SyncScope::Array);
    if sync_scope == SyncScope::Brick {
        if !kind.model().brick_lockstep() {
            p.push(
                Problem::new(
                    "array.sync_scope",
                    format!("\"brick\" is not modelled for pe.kind = \"{}\"", kind.as_str()),
                )
                .with_help("brick lock-step needs PEs whose lanes advance slot by slot with value-dependent slot costs: kind = \"bit_sparse\""),
            );
        }
        if pe.skip_zero_activations {
            p.push(Problem::new(
                "array.sync_scope",
                "\"brick\" is not modelled together with pe.skip_zero_activations",
            ));
        }
    }
    let (activation_bits, weight_bits, accumulator_bits) =
        (pe.activation_bits, pe.weight_bits, pe.accumulator_bits);

    let mut buffer = |name: &str, b: &RawBuffer, elem_bits: u32, tile_depth: u64| -> Buffer {
        let path = format!("buffers.{name}");
        let capacity_bytes = if !(1..=MAX_CAPACITY_BYTES).contains(&b.capacity_bytes) {
            p.push(
                Problem::new(
                    format!("{path}.capacity_bytes"),
                    format!("{} is out of range", b.capacity_bytes),
                )
                .with_help(format!(
                    "allowed: a whole number of bytes from 1 to {MAX_CAPACITY_BYTES} (2^50)"
                )),
            );
            1
        } else {
            b.capacity_bytes as u64
        };
        let word_bits = b.word_bits.unwrap_or(DEFAULT_WORD_BITS);
        let word_bits = if !(8..=1024).contains(&word_bits) || word_bits % 8 != 0 {
            p.push(
                Problem::new(
                    format!("{path}.word_bits"),
                    format!("{word_bits} is not allowed"),
                )
                .with_help("allowed: a multiple of 8 from 8 to 1024"),
            );
            8
        } else {
            word_bits as u32
        };
        let mut rate = |field: &str, v: &Option<RawPortRate>| -> Option<f64> {
            let at = format!("{path}.{field}");
            match v {
                None => Some(DEFAULT_WORDS_PER_CYCLE),
                Some(RawPortRate::Words(w)) => {
                    if !(*w >= MIN_WORDS_PER_CYCLE && *w <= MAX_WORDS_PER_CYCLE) {
                        p.push(Problem::new(at, format!("{w} is out of range")).with_help(format!(
                            "allowed: {MIN_WORDS_PER_CYCLE} to {MAX_WORDS_PER_CYCLE} words per cycle, or \"unlimited\""
                        )));
                    }
                    Some(*w)
                }
                Some(RawPortRate::Name(s)) if s == "unlimited" => None,
                Some(RawPortRate::Name(s)) => {
                    p.push(
                        Problem::new(at, format!("`{s}` is not a port rate"))
                            .with_help(format!("allowed: {MIN_WORDS_PER_CYCLE} to {MAX_WORDS_PER_CYCLE} words per cycle, or \"unlimited\" (an ideal SRAM)")),
                    );
                    None
                }
            }
        };
        let read_words_per_cycle = rate("read_words_per_cycle", &b.read_words_per_cycle);
        let write_words_per_cycle = rate("write_words_per_cycle", &b.write_words_per_cycle);
        let double_buffered = b.double_buffered.unwrap_or(true);
        let need = tile_need_bytes(rows, cols, elem_bits, tile_depth, double_buffered);
        if capacity_bytes < need {
            p.push(
                Problem::new(
                    format!("{path}.capacity_bytes"),
                    format!(
                        "{capacity_bytes} bytes cannot hold one {rows}x{cols} tile of {elem_bits}-bit values{}",
                        if double_buffered { " twice (double-buffered)" } else { "" }
                    ),
                )
                .with_help(format!("allowed: >= {need} bytes for this array")),
            );
        }
        Buffer {
            capacity_bytes,
            word_bits,
            read_words_per_cycle,
            write_words_per_cycle,
            double_buffered,
        }
    };
    let input_buffer = buffer("input", &raw.buffers.input, activation_bits, 1);
    // A fold's weight tile is lanes x weights_per_lane weights per PE.
    let weight_buffer = buffer("weight", &raw.buffers.weight, weight_bits, pe.k_per_pe());
    let output_buffer = buffer("output", &raw.buffers.output, accumulator_bits, 1);

    let raw_dram = raw.dram.unwrap_or(RawDram {
        kind: None,
        bandwidth_bytes_per_cycle: None,
        ideal: None,
    });
    let bandwidth = raw_dram
        .bandwidth_bytes_per_cycle
        .unwrap_or(DEFAULT_DRAM_BANDWIDTH_BYTES_PER_CYCLE);
    check_between(
        p,
        "dram.bandwidth_bytes_per_cycle",
        bandwidth,
        MIN_DRAM_BYTES_PER_CYCLE,
        MAX_DRAM_BYTES_PER_CYCLE,
    );
    let dram = Dram {
        kind: raw_dram.kind.unwrap_or(DramKind::Lpddr4),
        bandwidth_bytes_per_cycle: bandwidth,
        ideal: raw_dram.ideal.unwrap_or(false),
    };

    let scheme = raw.quant.as_ref().map(|q| {
        if q.activation_bits.is_some() {
            p.push(Problem::new("quant.activation_bits", "is set by the workload, not the architecture").with_help("set pe.activation_bits for the datapath; the workload's quant sets each layer's activations"));
        }
        crate::quant::resolve_quant(q, "quant", p).scheme
    });
    let rv = raw.vector.unwrap_or_default();
    let vector = Vector {
        lanes: check_range(p, "vector.lanes", rv.lanes.unwrap_or(16), 1, 4096),
        precision: match rv
            .precision
            .as_deref()
            .map(|s| (s, VectorPrecision::parse(s)))
        {
            None => VectorPrecision::Fp32,
            Some((_, Some(v))) => v,
            Some((s, None)) => {
                p.push(
                    Problem::new("vector.precision", format!("`{s}` is not a precision"))
                        .with_help("allowed: fp32, fp16, int2 .. int32"),
                );
                VectorPrecision::Fp32
            }
        },
        overlap: rv.overlap.unwrap_or(true),
    };
    let energy_overrides = raw.energy.unwrap_or_default();
    let area_overrides = raw.area.unwrap_or_default();
    Arch {
        name: raw.name,
        clock_mhz,
        rows,
        cols,
        dataflow: raw.array.dataflow,
        sync_scope,
        schedule: raw.array.schedule.unwrap_or(true),
        tile_m: raw.array.tile_m.unwrap_or(true),
        pe,
        input_buffer,
        weight_buffer,
        output_buffer,
        dram,
        vector,
        scheme,
        energy_overrides,
        area_overrides,
    }
}
