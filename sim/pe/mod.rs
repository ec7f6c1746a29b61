//! Processing-element kinds as plug-ins.
//!
//! A PE kind is one file in this folder implementing [`Kind`]: its `[pe]` option fields and
//! their checks, the step-cost model it uses for a layer's weight scheme ([`Kind::layer_cost`]
//! returns a [`StepCost`]), the per-step cycles and actions of one PE from the codes it holds,
//! the register widths the energy model prices, and the shared window sums it may use. [`KINDS`]
//! lists them; architecture validation, the fast engine, `plumsim compare`'s default designs,
//! the docs' kind table and the differential tests all iterate it. The per-cycle reference
//! engine keeps its own, independently written program per kind
//! (`engine/reference/kinds/`). How to add a kind: ARCHITECTURE.md.
//!
//! A PE holds `lanes x weights_per_lane` consecutive reduction (K) indices of one filter:
//! slot `s`, lane `l` holds K offset `s * lanes + l`. Weight-side costs are constant over a
//! fold's steps (the weights stay put), which is what lets the fast engine use closed forms.
//!
//! This module depends on the weight schemes and the error type only, so the architecture can
//! hold a [`Pe`] and the engine can price it without either depending on the other.

use crate::quant::Code;
use std::fmt;
use std::sync::LazyLock;

use serde::{Deserialize, Deserializer};

use crate::error::{check_range, Problem};
use crate::quant::prefix::GroupPrefix;
use crate::quant::QuantSpec;

pub mod binary;
pub mod bit_serial;
pub mod bit_sparse;
pub mod datapath;
pub mod dense;
pub mod loom;
pub mod pragmatic;
pub mod signed_binary;
pub mod skip;
pub mod swis;
pub mod ternary;

pub use bit_serial::SerialOperand;
pub use bit_sparse::{csd_digits, effectual_digits, BitEncoding};
pub use datapath::{Datapath, ShifterPlacement};
pub use skip::{SkipKind, SkipNetwork};

/// Every PE kind, in the order the docs and reports list them.
pub static KINDS: &[&dyn Kind] = &[
    &dense::Dense,
    &binary::Binary,
    &ternary::Ternary,
    &signed_binary::SignedBinary,
    &bit_serial::BitSerial,
    &bit_sparse::BitSparse,
    &swis::Swis,
    &pragmatic::Pragmatic,
    &loom::Loom,
];

/// A PE micro-architecture.
pub trait Kind: Sync {
    /// The name written as `[pe] kind`.
    fn name(&self) -> &'static str;
    /// The rows of the docs' kind table (arch/README.md): configuration, cycles per step and
    /// what a PE performs per step. A kind with an option that changes its cost has a row per
    /// setting.
    fn doc(&self) -> &'static [KindDoc];
    /// The `[pe]` option fields this kind reads (the common fields apply to every kind).
    fn options(&self) -> &'static [PeOption] {
        &[]
    }
    /// Modelled on the weight-stationary dataflow only (weight-dependent costs need the
    /// weights held still in the PEs).
    fn weight_stationary_only(&self) -> bool {
        true
    }
    /// Whether `skip_zero_activations = true` is modelled.
    fn skips_zero_activations(&self) -> bool {
        false
    }
    /// Whether the step cost depends on the activations' values (PEs serial in the
    /// activations' bits): the engine then hands each step its activations
    /// ([`StepCost::activation_step`]).
    fn reads_activations(&self, _pe: &Pe) -> bool {
        false
    }
    /// Whether `sync_scope = "brick"` is modelled: the step costs come per slot
    /// ([`StepCost::slot_cycles`]).
    fn brick_lockstep(&self) -> bool {
        false
    }
    /// Checks of a configuration of this kind beyond the generic ones (problems under `pe.`).
    fn check(&self, _pe: &Pe, _problems: &mut Vec<Problem>) {}
    /// How this PE runs a layer quantized with `scheme`, or why it cannot (the reason becomes
    /// an "unsupported" error naming the layer).
    /// `quant.activation_bits` are the layer's (what an activation-serial PE streams).
    fn layer_cost(&self, pe: &Pe, quant: &QuantSpec) -> Result<Box<dyn StepCost>, String>;
    /// How this PE multiplies two activations (attention's `Q K^T`, `P V`): the stationary
    /// operand is an activation tensor, `quant.scheme` an int-k of its width, and nothing of
    /// it is known offline, so no code-dependent shortcut applies. By default the PE runs it
    /// one bit plane of the stationary operand per cycle through its shifter (the fallback
    /// every weight-format PE has for schemes it lacks); kinds with a multiplier or a
    /// generic serial datapath override this.
    fn dynamic_cost(&self, _pe: &Pe, quant: &QuantSpec) -> Result<Box<dyn StepCost>, String> {
        Ok(bit_serial::Serial::fallback(&quant.scheme))
    }
    /// The hardware one PE of this configuration is built from (area, clock, widths).
    fn datapath(&self, pe: &Pe) -> Datapath;
    /// The shipped design of this kind (a file under `arch/`), which `plumsim compare` runs
    /// when no design is named; `None` for kinds left out of that comparison.
    fn compare_design(&self) -> Option<&'static str> {
        None
    }
    /// Extra `[pe]` lines of the configurations the differential tests check against the
    /// reference engine (each with every weight scheme the kind accepts).
    fn test_configs(&self) -> &'static [&'static str] {
        &[""]
    }
}

/// One row of the docs' kind table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindDoc {
    /// The configuration the row describes, e.g. `binary` or `binary`, `exploit_repetition`.
    pub config: &'static str,
    pub cycles_per_step: &'static str,
    pub per_step: &'static str,
}

/// What a PE costs per step on one layer; chosen by the kind from the layer's scheme.
pub trait StepCost: Send + Sync + fmt::Debug {
    /// True when the step cost depends on code values (not only on how many are held).
    fn needs_codes(&self) -> bool;
    /// Cycles and actions of one step of a PE holding `w`. Before [`finish`], cycles may be 0.
    fn step(&self, ctx: &StepContext, w: &PeWeights) -> PeStep;
    /// One step when zero activations are skipped: `items` (weight, activation) pairs remain
    /// of the `held` ones, which the skip network serves in `batches` cycles of parallel work.
    /// `None`: not modelled (validation keeps such designs out).
    fn skipping_step(&self, _batches: u64, _held: u64, _items: u64) -> Option<PeStep> {
        None
    }
    /// One step given the magnitudes `acts[i]` of the activations paired with the held
    /// weights (0 for a zero activation or padding), for kinds that read activation values.
    /// `None`: not modelled.
    fn activation_step(&self, _ctx: &StepContext, _w: &PeWeights, _acts: &[u16]) -> Option<PeStep> {
        None
    }
    /// With zero activations skipped, a pair also drops out when its weight is zero.
    fn skips_zero_weights(&self) -> bool {
        false
    }
    /// Bits a PE reads from its weight register per busy lane-cycle, for codes of `code_bits`:
    /// the code for parallel datapaths, one bit (or one shared position) for serial ones.
    fn weight_reg_bits(&self, code_bits: u32) -> u32;
    /// One window sum of the activations per row and step, shared by the fold's filters
    /// (binary repetition: y = 2 S+ - W).
    fn shares_window_sums(&self) -> bool {
        false
    }
    /// Cycles of each occupied slot of one step (brick lock-step); kinds whose lanes do not
    /// advance slot by slot leave it empty.
    fn slot_cycles(&self, _ctx: &StepContext, _w: &PeWeights) -> Vec<u64> {
        Vec::new()
    }
    /// The layer's weights carry the skip network's offline index (stored, moved and loaded
    /// beside the codes).
    fn uses_skip_index(&self) -> bool {
        false
    }
    /// Whether [`StepCost::step`] reads the SWIS groups' prefix sums
    /// ([`PeWeights::group_prefix`]) when they are given (built on first use, so only for
    /// costs that read them).
    fn reads_group_prefix(&self) -> bool {
        false
    }
    /// Of one filter's `codes`, held `kpp` to a PE, how many the PEs' schedules take (each
    /// stores an index).
    fn indexed_weights(&self, _codes: &[Code], _kpp: usize) -> u64 {
        0
    }
}

/// Of two position lists a PE may accumulate instead of each other (repetition: the +1 or the
/// -1 weights; the non-zero or the zero ones), the one the skip network serves in fewer
/// cycles (on a tie the one with fewer positions, then the first): its (cycles, positions).
pub fn cheaper_list(ctx: &StepContext, a: &[u64], b: &[u64]) -> (u64, u64) {
    let cost = |w: &[u64]| {
        (
            ctx.skip.cycles(ctx.lanes, ctx.slots, w),
            w.iter().map(|x| x.count_ones() as u64).sum::<u64>(),
        )
    };
    cost(a).min(cost(b))
}

/// Cycles of a PE whose held weight i keeps its lane busy `cost(i)` cycles: lanes advance
/// slot by slot (a slot costs its slowest lane), or with `lane_scope` each lane walks its own
/// slots and the PE waits for the slowest lane.
pub fn lane_cycles(ctx: &StepContext, held: u64, cost: &dyn Fn(u64) -> u64) -> u64 {
    let lanes = ctx.lanes;
    if ctx.lane_scope {
        (0..lanes.min(held))
            .map(|l| (l..held).step_by(lanes as usize).map(cost).sum::<u64>())
            .max()
            .unwrap_or(0)
    } else {
        (0..held.div_ceil(lanes))
            .map(|s| {
                (s * lanes..((s + 1) * lanes).min(held))
                    .map(cost)
                    .max()
                    .unwrap_or(0)
            })
            .sum()
    }
}

/// Cost of one PE per step under `cost`, at least one cycle (a PE always passes its operands on).
pub fn pe_step(cost: &dyn StepCost, ctx: &StepContext, w: &PeWeights) -> PeStep {
    finish(cost.step(ctx, w))
}

/// A step takes at least one cycle.
pub fn finish(mut st: PeStep) -> PeStep {
    st.cycles = st.cycles.max(1);
    st
}

/// One step of a PE that skips zero activations: `items` (weight, activation) pairs of the
/// `held` ones remain, served in `batches` parallel cycles by the skip network, `bits` cycles a
/// batch (1 for parallel datapaths); each pair is one add per bit and a multiply with `mults`;
/// a serial PE shifts per busy lane-cycle or once per cycle, as its shifters sit.
pub fn pairs_step(
    batches: u64,
    held: u64,
    items: u64,
    bits: u64,
    mults: bool,
    shifts: Option<ShifterPlacement>,
) -> PeStep {
    let cycles = batches * bits;
    finish(PeStep {
        cycles,
        held,
        mults: if mults { items } else { 0 },
        adds: items * bits,
        shifts: shifts.map_or(0, |s| s.shifts(items * bits, cycles)),
        busy_lane_cycles: items * bits,
        selects: items,
    })
}

/// The array's shape as one PE sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepContext {
    pub lanes: u64,
    /// Weight slots per lane.
    pub slots: u64,
    /// Lanes walk their own slots (`sync_scope = "lane"`); otherwise they advance slot by slot.
    pub lane_scope: bool,
    /// Which held positions a lane can take in a cycle when zeros are skipped.
    pub skip: SkipNetwork,
}

/// Per-step cost and actions of one PE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PeStep {
    /// Cycles the PE needs per step (at least 1 once [`finish`]ed).
    pub cycles: u64,
    /// Weights held (valid K indices).
    pub held: u64,
    /// Multiplications per step (dense MACs).
    pub mults: u64,
    /// Additions/subtractions into the accumulator per step.
    pub adds: u64,
    /// Shifter operations per step (SWIS shared shifter, bit-serial shift-accumulate).
    pub shifts: u64,
    /// Lane-cycles doing effectual work per step.
    pub busy_lane_cycles: u64,
    /// Operand selections per step: a lane switching to a new (weight, activation) pair, once
    /// per held weight it processes (a serial lane keeps its pair for all its bit cycles).
    pub selects: u64,
}

/// The codes a PE holds, as a slice of one filter's codes from K offset `k0`.
pub struct PeWeights<'a> {
    /// The filter's codes (all K), or None when the cost model does not need values.
    pub codes: Option<&'a [Code]>,
    /// SWIS N_g of the filter's groups (group = `lanes` consecutive weights), if any.
    pub group_bits: Option<&'a [u8]>,
    /// The same groups' prefix sums (of the code set, shared by every design) and the
    /// filter's index in them, when built: a SWIS PE's cost is then two differences.
    pub group_prefix: Option<(&'a GroupPrefix, usize)>,
    /// Filter length (K).
    pub k: u64,
    /// First K index the PE holds.
    pub k0: u64,
}

impl PeWeights<'_> {
    /// Weights held by a PE of `ctx`.
    pub fn held(&self, ctx: &StepContext) -> u64 {
        self.k.saturating_sub(self.k0).min(ctx.lanes * ctx.slots)
    }

    /// Code of the i-th held weight (1 when values are not given).
    pub fn code(&self, i: u64) -> i32 {
        self.codes.map_or(1, |c| c[(self.k0 + i) as usize].into())
    }

    /// The held positions whose code satisfies `keep`, as a bit set (bit i = held weight i).
    pub fn positions(&self, ctx: &StepContext, keep: impl Fn(i32) -> bool) -> Vec<u64> {
        let held = self.held(ctx);
        let mut bits = vec![0u64; (held as usize).div_ceil(64).max(1)];
        for i in 0..held {
            if keep(self.code(i)) {
                bits[(i / 64) as usize] |= 1 << (i % 64);
            }
        }
        bits
    }
}

/// An option field of `[pe]` that only some kinds read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeOption {
    SerialOperand,
    Encoding,
    ExploitRepetition,
    /// `skip` (and `lookahead`, `lookaside` with `skip = "window"`); any kind takes it with
    /// `skip_zero_activations = true`.
    Skip,
    Shifter,
    DynamicPrecision,
}

impl PeOption {
    pub const ALL: [PeOption; 6] = [
        PeOption::SerialOperand,
        PeOption::Encoding,
        PeOption::ExploitRepetition,
        PeOption::Skip,
        PeOption::Shifter,
        PeOption::DynamicPrecision,
    ];

    pub fn field(self) -> &'static str {
        match self {
            PeOption::SerialOperand => "serial_operand",
            PeOption::Encoding => "encoding",
            PeOption::ExploitRepetition => "exploit_repetition",
            PeOption::Skip => "skip",
            PeOption::Shifter => "shifter",
            PeOption::DynamicPrecision => "dynamic_precision",
        }
    }
}

/// A handle to a registered kind: what an architecture's `[pe] kind` names.
#[derive(Clone, Copy)]
pub struct PeKind(&'static dyn Kind);

impl PeKind {
    /// The kind named `name`, if one is registered.
    pub fn by_name(name: &str) -> Option<PeKind> {
        KINDS.iter().find(|k| k.name() == name).map(|k| PeKind(*k))
    }

    /// Every registered kind.
    pub fn all() -> impl Iterator<Item = PeKind> {
        KINDS.iter().map(|k| PeKind(*k))
    }

    pub fn as_str(self) -> &'static str {
        self.0.name()
    }

    pub fn model(self) -> &'static dyn Kind {
        self.0
    }
}

impl PartialEq for PeKind {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for PeKind {}

impl std::hash::Hash for PeKind {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl fmt::Debug for PeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PeKind({})", self.as_str())
    }
}

static KIND_NAMES: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| KINDS.iter().map(|k| k.name()).collect());

/// The registered kind names, in registry order.
pub fn kind_names() -> &'static [&'static str] {
    &KIND_NAMES
}

impl<'de> Deserialize<'de> for PeKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        PeKind::by_name(&name).ok_or_else(|| serde::de::Error::unknown_variant(&name, kind_names()))
    }
}

/// `[pe]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPe {
    pub kind: PeKind,
    pub weight_bits: Option<i64>,
    pub activation_bits: Option<i64>,
    pub accumulator_bits: Option<i64>,
    pub lanes: Option<i64>,
    pub weights_per_lane: Option<i64>,
    pub serial_operand: Option<SerialOperand>,
    pub encoding: Option<BitEncoding>,
    pub exploit_repetition: Option<bool>,
    pub skip_zero_activations: Option<bool>,
    pub skip: Option<SkipKind>,
    pub lookahead: Option<i64>,
    pub lookaside: Option<i64>,
    pub shifter: Option<ShifterPlacement>,
    pub dynamic_precision: Option<bool>,
    pub clock_gating: Option<bool>,
}

impl RawPe {
    fn is_set(&self, o: PeOption) -> bool {
        match o {
            PeOption::SerialOperand => self.serial_operand.is_some(),
            PeOption::Encoding => self.encoding.is_some(),
            PeOption::ExploitRepetition => self.exploit_repetition.is_some(),
            PeOption::Skip => self.skip.is_some(),
            PeOption::Shifter => self.shifter.is_some(),
            PeOption::DynamicPrecision => self.dynamic_precision.is_some(),
        }
    }
}

/// A validated PE.
#[derive(Debug, Clone, PartialEq)]
pub struct Pe {
    pub kind: PeKind,
    pub weight_bits: u32,
    pub activation_bits: u32,
    pub accumulator_bits: u32,
    /// Arithmetic lanes per PE; each lane holds one weight of a slot.
    pub lanes: u32,
    /// Weight slots per lane held during a fold: a PE covers lanes x weights_per_lane
    /// consecutive reduction (K) indices.
    pub weights_per_lane: u32,
    /// bit_serial: which operand is streamed bit by bit.
    pub serial_operand: SerialOperand,
    /// bit_sparse: weight encoding whose non-zero digits cost a cycle each.
    pub encoding: BitEncoding,
    /// binary/signed_binary: share the accumulation of equal weights (UCNN/SumMerge idea).
    pub exploit_repetition: bool,
    /// Skip (weight, activation) pairs whose activation is zero: the skip network serves the
    /// pairs that remain.
    pub skip_zero_activations: bool,
    /// The zero-skipping network (kinds that skip zero weights, or with skip_zero_activations).
    pub skip: SkipNetwork,
    /// Where serial PEs shift (`bit_serial`, `swis`, `loom`).
    pub shifter: ShifterPlacement,
    /// Activation-serial `bit_serial`: each slot streams only the bits its activations need
    /// (dynamic Stripes' leading-zero trimming), measured on the real activations.
    pub dynamic_precision: bool,
    /// Idle lanes' clocks are gated (see the energy model's clock component).
    pub clock_gating: bool,
}

impl Pe {
    /// Reduction indices one PE covers in a fold.
    pub fn k_per_pe(&self) -> u64 {
        self.lanes as u64 * self.weights_per_lane as u64
    }

    /// The step-cost model of this PE on a layer quantized as `quant`, or why it cannot run
    /// it: operands wider than the datapath are not run (there is no multi-pass mode), every
    /// other reason is the kind's.
    pub fn layer_cost(&self, quant: &QuantSpec) -> Result<Box<dyn StepCost>, String> {
        let wb = quant.scheme.weight_bits();
        if wb > self.weight_bits {
            return Err(format!(
                "its {wb}-bit weights are wider than the datapath (pe.weight_bits = {}); raise pe.weight_bits or quantize the layer to at most {} bits",
                self.weight_bits, self.weight_bits
            ));
        }
        if quant.activation_bits > self.activation_bits {
            return Err(format!(
                "its {}-bit activations are wider than the datapath (pe.activation_bits = {}); raise pe.activation_bits or give the layer at most {} activation bits",
                quant.activation_bits, self.activation_bits, self.activation_bits
            ));
        }
        self.kind.model().layer_cost(self, quant)
    }

    /// The step-cost model of this PE on a matmul of two activations of `bits` bits (the
    /// stationary operand is the second input): see [`Kind::dynamic_cost`].
    pub fn dynamic_cost(&self, bits: u32) -> Result<Box<dyn StepCost>, String> {
        if bits > self.weight_bits || bits > self.activation_bits {
            return Err(format!(
                "a matmul of two {bits}-bit activations needs a stationary register of {bits} bits (pe.weight_bits = {}, pe.activation_bits = {}); give the layer at most {} activation bits",
                self.weight_bits,
                self.activation_bits,
                self.weight_bits.min(self.activation_bits)
            ));
        }
        let quant = QuantSpec {
            scheme: crate::quant::Scheme::Int {
                bits,
                per_channel: false,
            },
            activation_bits: bits,
        };
        self.kind.model().dynamic_cost(self, &quant)
    }

    /// The hardware of one PE: the kind's, with the skip network's wider multiplexer when
    /// zero activations are skipped (pairs are picked at run time, so no index is stored).
    pub fn datapath(&self) -> Datapath {
        let d = self.kind.model().datapath(self);
        if self.skip_zero_activations {
            Datapath {
                mux_inputs: d
                    .mux_inputs
                    .max(self.skip.mux_inputs(self.lanes, self.weights_per_lane)),
                ..d
            }
        } else {
            d
        }
    }

    /// Whether this PE's cycles depend on the activations' values.
    pub fn reads_activations(&self) -> bool {
        self.kind.model().reads_activations(self)
    }

    /// Whether this PE has a zero-skipping network (its kind skips zero weights, or it skips
    /// zero activations).
    pub fn has_skip_network(&self) -> bool {
        self.skip_zero_activations || self.datapath().index_bits > 0
    }
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Validate `[pe]`: common fields, which options apply to the kind, the kind's own checks.
/// Dataflow rules are the architecture's (see `arch`).
pub fn validate_pe(raw: &RawPe, p: &mut Vec<Problem>) -> Pe {
    let kind = raw.kind;
    let model = kind.model();
    let weight_bits = check_range(p, "pe.weight_bits", raw.weight_bits.unwrap_or(8), 1, 16);
    let activation_bits = check_range(
        p,
        "pe.activation_bits",
        raw.activation_bits.unwrap_or(8),
        1,
        16,
    );
    let accumulator_bits = check_range(
        p,
        "pe.accumulator_bits",
        raw.accumulator_bits.unwrap_or(32),
        8,
        64,
    );
    let lanes = check_range(p, "pe.lanes", raw.lanes.unwrap_or(1), 1, 64);
    let weights_per_lane = check_range(
        p,
        "pe.weights_per_lane",
        raw.weights_per_lane.unwrap_or(1),
        1,
        64,
    );
    let skip_zero_activations = raw.skip_zero_activations.unwrap_or(false);
    for o in PeOption::ALL {
        let applies =
            model.options().contains(&o) || (o == PeOption::Skip && skip_zero_activations);
        if raw.is_set(o) && !applies {
            let takers: Vec<&str> = KINDS
                .iter()
                .filter(|k| k.options().contains(&o))
                .map(|k| k.name())
                .collect();
            let allowed = if takers.len() == 1 {
                format!("kind = \"{}\"", takers[0])
            } else {
                format!("kinds {}", and_list(&takers))
            };
            p.push(Problem::new(
                format!("pe.{}", o.field()),
                format!("only applies to {allowed}, not \"{}\"", kind.as_str()),
            ));
        }
    }
    let skip = skip_network(raw, p);
    if skip_zero_activations {
        if !model.skips_zero_activations() {
            let takers: Vec<&str> = KINDS
                .iter()
                .filter(|k| k.skips_zero_activations())
                .map(|k| k.name())
                .collect();
            p.push(
                Problem::new(
                    "pe.skip_zero_activations",
                    format!("is not modelled for kind = \"{}\"", kind.as_str()),
                )
                .with_help(format!("allowed for {} PEs", and_list(&takers))),
            );
        }
        if raw.exploit_repetition == Some(true) {
            p.push(
                Problem::new(
                    "pe.skip_zero_activations",
                    "is not modelled together with exploit_repetition",
                )
                .with_help("turn one of them off"),
            );
        }
    }
    let pe = Pe {
        kind,
        weight_bits,
        activation_bits,
        accumulator_bits,
        lanes,
        weights_per_lane,
        serial_operand: raw.serial_operand.unwrap_or(SerialOperand::Weight),
        encoding: raw.encoding.unwrap_or(BitEncoding::Binary),
        exploit_repetition: raw.exploit_repetition.unwrap_or(false),
        skip_zero_activations,
        skip,
        shifter: raw.shifter.unwrap_or(ShifterPlacement::Pe),
        dynamic_precision: raw.dynamic_precision.unwrap_or(false),
        clock_gating: raw.clock_gating.unwrap_or(true),
    };
    model.check(&pe, p);
    pe
}

/// `pe.skip` with its window distances; `lane` when not given (the simplest buildable
/// network: each lane skips its own zeros).
fn skip_network(raw: &RawPe, p: &mut Vec<Problem>) -> SkipNetwork {
    let kind = raw.skip.unwrap_or(SkipKind::Lane);
    for (field, v) in [("lookahead", raw.lookahead), ("lookaside", raw.lookaside)] {
        if v.is_some() && kind != SkipKind::Window {
            p.push(Problem::new(
                format!("pe.{field}"),
                "only applies to skip = \"window\"",
            ));
        }
    }
    match kind {
        SkipKind::Ideal => SkipNetwork::Ideal,
        SkipKind::Lane => SkipNetwork::Lane,
        SkipKind::Window => {
            let lookahead = check_range(
                p,
                "pe.lookahead",
                raw.lookahead.unwrap_or(skip::DEFAULT_LOOKAHEAD as i64),
                0,
                63,
            );
            let lookaside = check_range(
                p,
                "pe.lookaside",
                raw.lookaside.unwrap_or(skip::DEFAULT_LOOKASIDE as i64),
                0,
                63,
            );
            SkipNetwork::Window {
                lookahead,
                lookaside,
            }
        }
    }
}

/// The docs' kind table (arch/README.md, "What each PE kind models"), from the registry.
pub fn kind_table_markdown() -> String {
    let mut s = String::from("| kind | cycles per step | per step it performs |\n|---|---|---|\n");
    for k in KINDS {
        for d in k.doc() {
            s.push_str(&format!(
                "| {} | {} | {} |\n",
                d.config, d.cycles_per_step, d.per_step
            ));
        }
    }
    s
}
