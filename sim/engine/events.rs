//! What the per-cycle reference engine reports while it runs: every SRAM access and every
//! lane's state, to a [`TraceSink`]. The events and the sink live in the engine; turning them
//! into files is the edge's business (`trace.rs` renders them as CSV).

/// Address bases of the operands (SCALE-Sim's default ifmap, filter and ofmap offsets).
pub const INPUT_BASE: u64 = 0;
pub const WEIGHT_BASE: u64 = 10_000_000;
pub const OUTPUT_BASE: u64 = 20_000_000;
/// DRAM address base of spilled partial sums.
pub const PSUM_BASE: u64 = 30_000_000;

/// An on-chip buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SramBuffer {
    Input,
    Weight,
    Output,
}

impl SramBuffer {
    pub fn as_str(self) -> &'static str {
        match self {
            SramBuffer::Input => "input",
            SramBuffer::Weight => "weight",
            SramBuffer::Output => "output",
        }
    }
}

/// Direction of an access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    Read,
    Write,
}

impl Access {
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
        }
    }
}

/// One element read from or written to an on-chip buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SramAccess {
    pub cycle: u64,
    pub buffer: SramBuffer,
    pub kind: Access,
    pub address: u64,
    pub bytes: u32,
}

/// What a lane does in one cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LaneState {
    /// Effectual work.
    Busy,
    /// Holds weights but waits: on its lock-step domain, its PE's slower lanes, or data
    /// from its neighbours (fill and drain included).
    LockstepWait,
    /// The array waits for DRAM.
    MemoryStall,
    /// Holds no weight in this fold, or the fold is loading weights.
    Idle,
}

impl LaneState {
    pub fn as_str(self) -> &'static str {
        match self {
            LaneState::Busy => "busy",
            LaneState::LockstepWait => "lockstep_wait",
            LaneState::MemoryStall => "memory_stall",
            LaneState::Idle => "idle",
        }
    }
}

/// Receives the reference engine's events. Cycles are compute cycles counted from the
/// layer's first cycle; per lane, spans arrive in cycle order.
pub trait TraceSink {
    /// False to let the engine skip building events.
    fn enabled(&self) -> bool {
        true
    }
    /// A fold (its weight load) starts at `cycle`.
    fn fold_start(&mut self, cycle: u64);
    /// One buffer access.
    fn sram(&mut self, access: SramAccess);
    /// Lane `lane` of PE (`pe_row`, `pe_col`) is in `state` during `[start, end)`.
    fn lanes(
        &mut self,
        start: u64,
        end: u64,
        pe_row: u32,
        pe_col: u32,
        lane: u32,
        state: LaneState,
    );
}

/// A sink that records nothing (plain simulation).
pub struct NoTrace;

impl TraceSink for NoTrace {
    fn enabled(&self) -> bool {
        false
    }
    fn fold_start(&mut self, _: u64) {}
    fn sram(&mut self, _: SramAccess) {}
    fn lanes(&mut self, _: u64, _: u64, _: u32, _: u32, _: u32, _: LaneState) {}
}
