//! plumsim: a cycle-level simulator for low-precision DNN inference accelerators.
//!
//! The core (`arch`, `workload`, `quant`, `synth`, `engine`, `report`) is plain deterministic
//! code that does no IO; `io` and the binary's `cli` live at the edge. See ARCHITECTURE.md.

pub mod arch;
pub mod area;
pub mod columns;
pub mod compare;
pub mod design;
pub mod energy;
pub mod engine;
pub mod entries;
pub mod error;
pub mod functional;
pub mod io;
pub mod onnx;
pub mod pareto;
pub mod pe;
pub mod pipeline;
pub mod plot;
pub mod quant;
pub mod report;
pub mod report_html;
pub mod scalesim;
pub mod shipped;
pub mod studies;
pub mod sweep;
pub mod synth;
pub mod table;
pub mod tech;
pub mod trace;
pub mod units;
pub mod workload;

pub use error::{Error, Problem, Result};
