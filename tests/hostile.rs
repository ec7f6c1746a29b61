//! Hostile inputs (issue 13, point 6): a deterministic mutation campaign over every input kind
//! the binary reads, and the regression corpus of the audit (`tests/fixtures/hostile/`).
//!
//! Every mutant runs through the binary (`validate`, `run`, `import scalesim`, `sweep`, ...)
//! with a time limit, and the outcome must be: exit 0 or 2 (never 1, 101 or a signal; a time
//! out is a hang); on exit 2 a message naming one of the input files and a place (line/column,
//! field path, tensor, option); on failure no new file anywhere; on success no temp files, no
//! file outside the result path, no `NaN`/`inf`/`null` or saturated number in the outputs,
//! per-layer totals that add up, and, where the test knows the exact arithmetic (generated
//! convolutions, SCALE-Sim rows), the exact MACs.
//!
//! Mutants come from a fixed seed and a small hand-written PRNG, so a run is deterministic.
//! `scripts/mutation_campaign.py` runs the same mutators longer, outside CI, through these
//! environment variables: `PLUMSIM_HOSTILE_SEED` (another seed), `PLUMSIM_HOSTILE_SCALE` (N
//! times the mutants), `PLUMSIM_HOSTILE_KEEP=DIR` (the files and command of the first
//! reproducer of each distinct failure), `PLUMSIM_BIN` (another plumsim binary, e.g. the
//! release build).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A command slower than this is a hang.
const TIMEOUT: Duration = Duration::from_secs(10);
/// A kind stops after this many hangs (each costs the whole time limit).
const MAX_HANGS: usize = 3;
/// Address-space limit of every child: an allocation sized by hostile input aborts instead of
/// taking the machine's memory.
const MEMORY_LIMIT_BYTES: u64 = 6 << 30;

// ---------------------------------------------------------------- settings

fn seed() -> u64 {
    std::env::var("PLUMSIM_HOSTILE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_1313)
}

fn scale() -> usize {
    std::env::var("PLUMSIM_HOSTILE_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

fn binary() -> PathBuf {
    std::env::var_os("PLUMSIM_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_plumsim")))
}

fn keep_dir() -> Option<PathBuf> {
    std::env::var_os("PLUMSIM_HOSTILE_KEEP").map(PathBuf::from)
}

fn root() -> PathBuf {
    common::root()
}

fn root_str(rel: &str) -> String {
    common::path_str(&root().join(rel))
}

// ---------------------------------------------------------------- PRNG

/// SplitMix64: small, fast and the same on every platform.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: &str) -> Rng {
        let mut h = seed ^ 0xcbf2_9ce4_8422_2325;
        for b in stream.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        Rng(h)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        assert!(n > 0);
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    fn chance(&mut self, pct: u64) -> bool {
        self.next() % 100 < pct
    }
}

// ---------------------------------------------------------------- hostile values

/// Numbers as literal text (valid in JSON and TOML unless noted by the parser's answer).
const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "2147483648",
    "4294967296",
    "4611686018427387904",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551616",
    "1e-300",
    "1e308",
    "1e400",
    "-1e308",
    "1e-15",
    "0.5",
    "-0.0",
    "65537",
];
/// NaN-like values in JSON (bare ones are syntax errors).
const NAN_JSON: &[&str] = &[
    "NaN",
    "\"NaN\"",
    "Infinity",
    "-Infinity",
    "\"inf\"",
    "null",
    "1e999",
];
/// NaN-like values in TOML (`nan` and `inf` are TOML floats).
const NAN_TOML: &[&str] = &["nan", "inf", "-inf", "+nan", "\"NaN\"", "\"inf\"", "1e999"];
/// Values of another type.
const OTHER_TYPES: &[&str] = &["true", "[]", "[1, 2]", "{}", "\"8\"", "[[1]]"];

/// Hostile string contents (unquoted); `abs` is an absolute path inside the test's folder, so
/// a path-traversal bug writes where the test looks instead of into `/`.
fn strings(abs: &str) -> Vec<String> {
    vec![
        "../../x".into(),
        "../../../x".into(),
        format!("{abs}/x"),
        String::new(),
        "x".repeat(5000),
        "c/1".into(),
        "a\"b".into(),
        "tab\there\nnewline".into(),
        "\u{0}".into(),
        "é…∑".into(),
        ".".into(),
    ]
}

/// A string literal (JSON escapes are valid TOML basic-string escapes too).
fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// Bytes that are not UTF-8.
const INVALID_UTF8: &[&[u8]] = &[b"\xff\xfe", b"\xc3\x28", b"\xe2\x82", b"\xed\xa0\x80"];

/// One hostile scalar for a TOML or JSON value.
fn hostile_scalar(rng: &mut Rng, toml: bool, abs: &str) -> String {
    match rng.below(10) {
        0..=5 => rng.pick(NUMBERS).to_string(),
        6 => rng.pick(if toml { NAN_TOML } else { NAN_JSON }).to_string(),
        7 | 8 => quote(rng.pick::<String>(&strings(abs))),
        _ => rng.pick(OTHER_TYPES).to_string(),
    }
}

/// A byte-level or line-level mutation of any text file.
fn text_op(rng: &mut Rng, text: &[u8]) -> (Vec<u8>, String) {
    let mut b = text.to_vec();
    let len = b.len().max(1);
    match rng.below(5) {
        0 => {
            let at = rng.below(len);
            b.truncate(at);
            (b, format!("truncated to {at} bytes"))
        }
        1 => {
            let at = rng.below(len).min(b.len().saturating_sub(1));
            let bit = 1u8 << rng.below(8);
            if !b.is_empty() {
                b[at] ^= bit;
            }
            (b, format!("byte {at} xor {bit:#04x}"))
        }
        2 => {
            // Inside a string where there is one.
            let quotes: Vec<usize> = (0..b.len()).filter(|&i| b[i] == b'"').collect();
            let at = if quotes.is_empty() {
                rng.below(len)
            } else {
                rng.pick(&quotes) + 1
            };
            let bad = rng.pick(INVALID_UTF8);
            let at = at.min(b.len());
            b.splice(at..at, bad.iter().copied());
            (b, format!("invalid UTF-8 {bad:02x?} inserted at byte {at}"))
        }
        3 => {
            let mut lines: Vec<Vec<u8>> = b.split(|&c| c == b'\n').map(<[u8]>::to_vec).collect();
            let i = rng.below(lines.len());
            let l = lines[i].clone();
            lines.insert(i, l);
            (lines.join(&b'\n'), format!("line {} duplicated", i + 1))
        }
        _ => {
            let mut lines: Vec<Vec<u8>> = b.split(|&c| c == b'\n').map(<[u8]>::to_vec).collect();
            let i = rng.below(lines.len());
            lines.remove(i);
            (lines.join(&b'\n'), format!("line {} deleted", i + 1))
        }
    }
}

// ---------------------------------------------------------------- TOML line editing

/// The `key = value` lines of a TOML (or SCALE-Sim cfg) text: (line index, table, key,
/// value span in the line).
struct KeyLine {
    line: usize,
    table: String,
    key: String,
    value: std::ops::Range<usize>,
}

fn key_lines(text: &str, sep: char) -> Vec<KeyLine> {
    let mut out = Vec::new();
    let mut table = String::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') && !t.contains(sep) {
            table = t.trim_matches(|c| c == '[' || c == ']').trim().to_string();
            continue;
        }
        if t.starts_with('#') || t.is_empty() {
            continue;
        }
        let Some(eq) = line.find(sep) else { continue };
        // The value ends at a comment outside quotes.
        let mut end = line.len();
        let mut in_quote = false;
        for (j, c) in line.char_indices().skip(eq + 1) {
            match c {
                '"' => in_quote = !in_quote,
                '#' if !in_quote => {
                    end = j;
                    break;
                }
                _ => {}
            }
        }
        let start = eq + 1 + (line[eq + 1..end].len() - line[eq + 1..end].trim_start().len());
        let end = start + line[start..end].trim_end().len();
        out.push(KeyLine {
            line: i,
            table: table.clone(),
            key: line[..eq].trim().trim_matches('"').to_string(),
            value: start..end,
        });
    }
    out
}

fn replace_line_value(text: &str, kl: &KeyLine, value: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let l = &lines[kl.line];
    lines[kl.line] = format!("{}{}{}", &l[..kl.value.start], value, &l[kl.value.end..]);
    lines.join("\n") + "\n"
}

/// Set `table.key = value` in a TOML text: replace the value where the key is set, else add
/// the line under the table's header (or a new table at the end).
fn toml_set(text: &str, table: &str, key: &str, value: &str) -> String {
    let kls = key_lines(text, '=');
    if let Some(kl) = kls.iter().find(|k| k.table == table && k.key == key) {
        return replace_line_value(text, kl, value);
    }
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let line = format!("{key} = {value}");
    if table.is_empty() {
        lines.insert(0, line);
    } else if let Some(i) = lines.iter().position(|l| {
        l.trim().trim_matches(|c| c == '[' || c == ']').trim() == table && l.trim().starts_with('[')
    }) {
        lines.insert(i + 1, line);
    } else {
        lines.push(format!("[{table}]"));
        lines.push(line);
    }
    lines.join("\n") + "\n"
}

/// Fields an architecture may set, for mutants that add or change them.
const ARCH_FIELDS: &[(&str, &str)] = &[
    ("", "clock_mhz"),
    ("", "name"),
    ("array", "rows"),
    ("array", "cols"),
    ("array", "tile_m"),
    ("array", "sync_scope"),
    ("pe", "weight_bits"),
    ("pe", "activation_bits"),
    ("pe", "accumulator_bits"),
    ("pe", "lanes"),
    ("pe", "weights_per_lane"),
    ("pe", "lookahead"),
    ("pe", "lookaside"),
    ("pe", "skip"),
    ("buffers.input", "capacity_bytes"),
    ("buffers.input", "word_bits"),
    ("buffers.weight", "read_words_per_cycle"),
    ("buffers.weight", "capacity_bytes"),
    ("buffers.output", "write_words_per_cycle"),
    ("buffers.output", "capacity_bytes"),
    ("dram", "bandwidth_bytes_per_cycle"),
    ("dram", "ideal"),
    ("vector", "lanes"),
    ("vector", "precision"),
    ("energy", "tech_scale"),
    ("area", "tech_scale"),
    ("quant", "group_size"),
    ("quant", "shared_bits"),
    ("quant", "weight_bits"),
    ("quant", "threshold"),
];

/// One mutation of a TOML text (architecture or sweep spec): (text, short class, description).
fn toml_mutation(
    rng: &mut Rng,
    text: &str,
    fields: &[(&str, &str)],
    abs: &str,
) -> (Vec<u8>, String, String) {
    let kls = key_lines(text, '=');
    match rng.below(10) {
        0..=3 if !kls.is_empty() => {
            let kl = rng.pick(&kls);
            let v = hostile_scalar(rng, true, abs);
            let path = dotted(&kl.table, &kl.key);
            (
                replace_line_value(text, kl, &v).into_bytes(),
                format!("set {path}"),
                format!("`{path} = {}`", short(&v)),
            )
        }
        4 | 5 => {
            let (table, key) = *rng.pick(fields);
            let v = hostile_scalar(rng, true, abs);
            let path = dotted(table, key);
            (
                toml_set(text, table, key, &v).into_bytes(),
                format!("set {path}"),
                format!("`{path} = {}`", short(&v)),
            )
        }
        6 if !kls.is_empty() => {
            let kl = rng.pick(&kls);
            let mut lines: Vec<&str> = text.lines().collect();
            let path = dotted(&kl.table, &kl.key);
            lines.remove(kl.line);
            (
                (lines.join("\n") + "\n").into_bytes(),
                "delete field".into(),
                format!("`{path}` deleted"),
            )
        }
        7 if !kls.is_empty() => {
            let kl = rng.pick(&kls);
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            let v = hostile_scalar(rng, true, abs);
            let l = &lines[kl.line];
            let dup = format!("{}{}{}", &l[..kl.value.start], v, &l[kl.value.end..]);
            lines.insert(kl.line + 1, dup);
            let path = dotted(&kl.table, &kl.key);
            (
                (lines.join("\n") + "\n").into_bytes(),
                "duplicate key".into(),
                format!("`{path}` set twice, again to {}", short(&v)),
            )
        }
        _ => {
            let (b, d) = text_op(rng, text.as_bytes());
            (b, class_of(&d), d)
        }
    }
}

fn dotted(table: &str, key: &str) -> String {
    if table.is_empty() {
        key.to_string()
    } else {
        format!("{table}.{key}")
    }
}

/// The class of a text operation's description (for grouping hangs and leftovers).
fn class_of(desc: &str) -> String {
    desc.split_whitespace()
        .filter(|w| !w.starts_with(|c: char| c.is_ascii_digit() || c == '['))
        .collect::<Vec<_>>()
        .join(" ")
}

fn short(s: &str) -> String {
    clip(s, 60, 40)
}

/// `s` cut to `keep` bytes when longer than `max`.
fn clip(s: &str, max: usize, keep: usize) -> String {
    if s.len() > max {
        let mut end = keep;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}... ({} bytes)", &s[..end], s.len())
    } else {
        s.to_string()
    }
}

// ---------------------------------------------------------------- JSON mutation

#[derive(Clone, Debug)]
enum Seg {
    Key(String),
    Idx(usize),
}

fn path_text(p: &[Seg]) -> String {
    let mut s = String::new();
    for seg in p {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Idx(i) => {
                let _ = write!(s, "[{i}]");
            }
        }
    }
    s
}

/// Every node's path (containers included), depth first.
fn nodes(v: &Value, at: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                at.push(Seg::Key(k.clone()));
                nodes(x, at, out);
                at.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                at.push(Seg::Idx(i));
                nodes(x, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn node_mut<'a>(v: &'a mut Value, p: &[Seg]) -> &'a mut Value {
    p.iter().fold(v, |v, seg| match seg {
        Seg::Key(k) => &mut v[k.as_str()],
        Seg::Idx(i) => &mut v[*i],
    })
}

/// JSON text with raw literals (placeholders are strings `\u{1}N\u{1}`).
fn render_json(v: &Value, raw: &[String]) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap();
    for (i, r) in raw.iter().enumerate() {
        s = s.replace(&format!("\"\\u0001{i}\\u0001\""), r);
    }
    s + "\n"
}

fn placeholder(raw: &mut Vec<String>, literal: String) -> Value {
    raw.push(literal);
    Value::String(format!("\u{1}{}\u{1}", raw.len() - 1))
}

/// Layer keys worth setting on any layer.
const LAYER_KEYS: &[&str] = &[
    "padding",
    "stride",
    "kernel",
    "dilation",
    "groups",
    "out_channels",
    "out_features",
    "ceil_mode",
    "global",
    "name",
    "output",
];

/// One mutation of a workload JSON: (bytes, class, description).
fn json_mutation(rng: &mut Rng, doc: &Value, abs: &str) -> (Vec<u8>, String, String) {
    let mut v = doc.clone();
    let mut raw = Vec::new();
    let mut all = Vec::new();
    nodes(&v, &mut Vec::new(), &mut all);
    let leaves: Vec<&Vec<Seg>> = all
        .iter()
        .filter(|p| {
            !p.is_empty() && {
                let mut d = doc;
                for s in p.iter() {
                    d = match s {
                        Seg::Key(k) => &d[k.as_str()],
                        Seg::Idx(i) => &d[*i],
                    };
                }
                !d.is_object() && !d.is_array()
            }
        })
        .collect();
    let n_layers = doc["layers"].as_array().map_or(0, Vec::len);
    match rng.below(15) {
        12..=14 if n_layers > 0 => graph_mutation(rng, doc, n_layers),
        0..=3 if !leaves.is_empty() => {
            let p: Vec<Seg> = (*rng.pick(&leaves)).clone();
            let lit = hostile_scalar(rng, false, abs);
            *node_mut(&mut v, &p) = placeholder(&mut raw, lit.clone());
            let path = path_text(&p);
            (
                render_json(&v, &raw).into_bytes(),
                format!("set {}", generic_path(&path)),
                format!("`{path}` = {}", short(&lit)),
            )
        }
        4..=6 if n_layers > 0 => {
            let i = rng.below(n_layers);
            let key = *rng.pick(LAYER_KEYS);
            let lit = hostile_scalar(rng, false, abs);
            let value = match rng.below(3) {
                0 => format!("[{lit}, 1]"),
                1 => format!("[1, {lit}]"),
                _ => lit,
            };
            v["layers"][i][key] = placeholder(&mut raw, value.clone());
            (
                render_json(&v, &raw).into_bytes(),
                format!("set layers[].{key}"),
                format!("`layers[{i}].{key}` = {}", short(&value)),
            )
        }
        7 => {
            // An input dimension, the batch or a default.
            let (path, lit) = match rng.below(3) {
                0 => {
                    let name = doc["inputs"]
                        .as_object()
                        .and_then(|m| m.keys().next().cloned())
                        .unwrap_or_else(|| "x".into());
                    let dims = doc["inputs"][&name].as_array().map_or(1, Vec::len).max(1);
                    let d = rng.below(dims);
                    let lit = rng.pick(NUMBERS).to_string();
                    v["inputs"][&name][d] = placeholder(&mut raw, lit.clone());
                    (format!("inputs.{name}[{d}]"), lit)
                }
                1 => {
                    let lit = rng.pick(NUMBERS).to_string();
                    v["batch"] = placeholder(&mut raw, lit.clone());
                    ("batch".to_string(), lit)
                }
                _ => {
                    let (sect, key) = *rng.pick(&[
                        ("quant", "weight_bits"),
                        ("quant", "activation_bits"),
                        ("quant", "group_size"),
                        ("quant", "shared_bits"),
                        ("quant", "threshold"),
                        ("activations", "zero_density"),
                        ("activations", "seed"),
                    ]);
                    let lit = hostile_scalar(rng, false, abs);
                    if !v["defaults"].is_object() {
                        v["defaults"] = serde_json::json!({});
                    }
                    if !v["defaults"][sect].is_object() {
                        v["defaults"][sect] = serde_json::json!({});
                    }
                    v["defaults"][sect][key] = placeholder(&mut raw, lit.clone());
                    (format!("defaults.{sect}.{key}"), lit)
                }
            };
            (
                render_json(&v, &raw).into_bytes(),
                format!("set {}", generic_path(&path)),
                format!("`{path}` = {}", short(&lit)),
            )
        }
        8 if all.len() > 1 => {
            let p = all[1 + rng.below(all.len() - 1)].clone();
            let (last, parent) = p.split_last().unwrap();
            let parent = node_mut(&mut v, parent);
            match (last, parent) {
                (Seg::Key(k), Value::Object(m)) => {
                    m.remove(k);
                }
                (Seg::Idx(i), Value::Array(a)) => {
                    a.remove(*i);
                }
                _ => {}
            }
            let path = path_text(&p);
            (
                render_json(&v, &raw).into_bytes(),
                "delete field".into(),
                format!("`{path}` deleted"),
            )
        }
        9 => {
            // A duplicated member, the copy with a hostile value.
            let text = render_json(&v, &raw);
            let members: Vec<usize> = text
                .lines()
                .enumerate()
                .filter(|(_, l)| {
                    let t = l.trim();
                    t.starts_with('"')
                        && t.contains("\": ")
                        && !t.ends_with('{')
                        && !t.ends_with('[')
                })
                .map(|(i, _)| i)
                .collect();
            if members.is_empty() {
                let (b, d) = text_op(rng, text.as_bytes());
                return (b, class_of(&d), d);
            }
            let i = *rng.pick(&members);
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            let key = lines[i].trim().split("\": ").next().unwrap().to_string() + "\"";
            let indent = lines[i].len() - lines[i].trim_start().len();
            let lit = hostile_scalar(rng, false, abs);
            lines.insert(i, format!("{}{key}: {lit},", " ".repeat(indent)));
            (
                (lines.join("\n") + "\n").into_bytes(),
                "duplicate key".into(),
                format!(
                    "member {key} (line {}) duplicated as {}",
                    i + 1,
                    short(&lit)
                ),
            )
        }
        _ => {
            let (b, d) = text_op(rng, render_json(&v, &raw).as_bytes());
            (b, class_of(&d), d)
        }
    }
}

const OPS: &[&str] = &[
    "conv2d",
    "linear",
    "matmul",
    "max_pool",
    "avg_pool",
    "batch_norm",
    "relu",
    "prelu",
    "requantize",
    "add",
    "pad_channels",
];
/// Every scheme the validator accepts.
const SCHEMES: &[&str] = &plumsim::quant::spec::SCHEME_NAMES;

/// A structural change of a workload that may stay valid: another op, other inputs, a pool's
/// options, a per-layer quantization.
fn graph_mutation(rng: &mut Rng, doc: &Value, n_layers: usize) -> (Vec<u8>, String, String) {
    let mut v = doc.clone();
    let i = rng.below(n_layers);
    let tensors: Vec<String> = doc["inputs"]
        .as_object()
        .map(|m| m.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain(
            doc["layers"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|l| l["output"].as_str().map(str::to_string)),
        )
        .collect();
    let layer = &mut v["layers"][i];
    let (class, what) = match rng.below(4) {
        0 => {
            let op = *rng.pick(OPS);
            layer["op"] = Value::from(op);
            ("layer op".to_string(), format!("`layers[{i}].op` = {op}"))
        }
        1 => {
            let n = 1 + rng.below(2);
            let ins: Vec<Value> = (0..n)
                .map(|_| Value::from(rng.pick(&tensors).as_str()))
                .collect();
            let what = format!("`layers[{i}].inputs` = {}", Value::from(ins.clone()));
            layer["inputs"] = Value::from(ins);
            ("layer inputs".to_string(), what)
        }
        2 => {
            let key = *rng.pick(&["ceil_mode", "global"]);
            layer[key] = Value::from(true);
            if rng.chance(50) {
                layer["kernel"] = Value::from(*rng.pick(&[1u64, 2, 3, 7, 9, 64]));
                layer["padding"] = Value::from(*rng.pick(&[0u64, 1, 3, 4, 32]));
                layer["stride"] = Value::from(*rng.pick(&[1u64, 2, 3, 16, 65536]));
            }
            (
                "pool options".to_string(),
                format!("`layers[{i}]` = {}", layer),
            )
        }
        _ => {
            let scheme = *rng.pick(SCHEMES);
            let mut q = serde_json::json!({ "scheme": scheme });
            for (k, vals) in [
                ("weight_bits", &[2u64, 3, 8, 16][..]),
                ("activation_bits", &[1, 2, 8, 16, 31, 32]),
                ("group_size", &[1, 3, 8, 1024]),
                ("shared_bits", &[1, 2, 7, 15]),
            ] {
                if rng.chance(40) {
                    q[k] = Value::from(*rng.pick(vals));
                }
            }
            if rng.chance(20) {
                q["per_channel"] = Value::from(false);
            }
            let what = format!("`layers[{i}].quant` = {q}");
            layer["quant"] = q;
            ("layer quant".to_string(), what)
        }
    };
    (render_json(&v, &[]).into_bytes(), class, what)
}

/// `layers[3].padding` -> `layers[].padding`.
fn generic_path(p: &str) -> String {
    let mut out = String::new();
    let mut skip = false;
    for c in p.chars() {
        match c {
            '[' => {
                skip = true;
                out.push('[');
            }
            ']' => {
                skip = false;
                out.push(']');
            }
            _ if skip => {}
            _ => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------- running a command

#[derive(Debug, Clone, PartialEq)]
enum Status {
    Code(i32),
    Signal(i32),
    Hang,
}

struct Outcome {
    status: Status,
    stderr: String,
    secs: f64,
}

/// Run plumsim with `args` in `cwd`, killing it after `timeout`; stdout and stderr go to files
/// in `logs` (outside the folders the checks look at).
fn exec(args: &[String], cwd: &Path, logs: &Path, timeout: Duration) -> Outcome {
    fs::create_dir_all(logs).unwrap();
    let (out_p, err_p) = (logs.join("stdout"), logs.join("stderr"));
    let mut cmd = Command::new(binary());
    cmd.args(args)
        .current_dir(cwd)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out_p).unwrap())
        .stderr(fs::File::create(&err_p).unwrap());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                let lim = libc::rlimit {
                    rlim_cur: MEMORY_LIMIT_BYTES as libc::rlim_t,
                    rlim_max: MEMORY_LIMIT_BYTES as libc::rlim_t,
                };
                libc::setrlimit(libc::RLIMIT_AS, &lim);
                Ok(())
            });
        }
    }
    let start = Instant::now();
    let mut child = cmd.spawn().expect("start plumsim");
    let mut nap = Duration::from_millis(1);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for plumsim") {
            break Some(s);
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(nap);
        nap = (nap * 2).min(Duration::from_millis(20));
    };
    let secs = start.elapsed().as_secs_f64();
    let status = match status {
        None => Status::Hang,
        Some(s) => match s.code() {
            Some(c) => Status::Code(c),
            None => {
                #[cfg(unix)]
                {
                    use std::os::unix::process::ExitStatusExt;
                    Status::Signal(s.signal().unwrap_or(-1))
                }
                #[cfg(not(unix))]
                Status::Signal(-1)
            }
        },
    };
    let read = |p: &Path| String::from_utf8_lossy(&fs::read(p).unwrap_or_default()).into_owned();
    Outcome {
        status,
        stderr: read(&err_p),
        secs,
    }
}

/// Every path under `dir` (not following symbolic links), relative to it.
fn snapshot(dir: &Path) -> BTreeSet<PathBuf> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeSet<PathBuf>) {
        let Ok(rd) = fs::read_dir(dir) else { return };
        for e in rd.flatten() {
            let p = e.path();
            out.insert(p.strip_prefix(base).unwrap().to_path_buf());
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                walk(base, &p, out);
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

fn is_temp_name(p: &Path) -> bool {
    p.components().any(|c| {
        let s = c.as_os_str().to_string_lossy();
        s.contains("tmp-plumsim") || s.contains(".plumsim-stage-") || s.ends_with(".partial")
    })
}

/// The message says where: a line/column, a field path, a tensor, an option or the OS error of
/// the file it names.
fn has_place(stderr: &str) -> bool {
    let digits_after_colon = stderr
        .as_bytes()
        .windows(2)
        .any(|w| w[0] == b':' && w[1].is_ascii_digit());
    digits_after_colon
        || stderr.lines().any(|l| l.starts_with("  - "))
        || [
            "tensor `",
            "layer `",
            "line ",
            "row ",
            "column ",
            "(os error",
            "'--",
            "`--",
            "field `",
            "key `",
            "layers[",
        ]
        .iter()
        .any(|s| stderr.contains(s))
        || stderr
            .split(|c: char| c.is_whitespace() || "`'\":,()".contains(c))
            .any(is_field_path)
}

/// `pe.kind`, `buffers.weight.capacity_bytes`: a dotted field path (not a file name).
fn is_field_path(w: &str) -> bool {
    let files = [
        ".toml",
        ".json",
        ".csv",
        ".npy",
        ".npz",
        ".safetensors",
        ".cfg",
        ".svg",
        ".png",
        ".partial",
    ];
    let parts: Vec<&str> = w.split('.').collect();
    parts.len() >= 2
        && !w.contains('/')
        && !files.iter().any(|f| w.ends_with(f))
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.starts_with(|c: char| c.is_ascii_lowercase())
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
}

// ---------------------------------------------------------------- output checks

const NAN_CELLS: &[&str] = &[
    "nan",
    "-nan",
    "+nan",
    "inf",
    "-inf",
    "+inf",
    "infinity",
    "-infinity",
    "+infinity",
];

/// Columns of names and labels: a layer may be called `inf`.
const TEXT_COLUMNS: &[&str] = &[
    "layer",
    "op",
    "arch",
    "workload",
    "base",
    "scheme",
    "status",
    "error",
    "dataflow",
    "pe_kind",
    "sync_scope",
    "skip_network",
    "plumsim_version",
    "name",
];

/// Problems with the numbers of a finished run's files: NaN/inf/null, saturated counts, totals
/// that do not add up, MACs that do not match `exact` (layer name -> MACs).
fn check_outputs(target: &Path, exact: Option<&BTreeMap<String, u128>>) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let files: Vec<PathBuf> = if target.is_dir() {
        snapshot(target)
            .into_iter()
            .map(|p| target.join(p))
            .filter(|p| p.is_file())
            .collect()
    } else if target.is_file() {
        vec![target.to_path_buf()]
    } else {
        return vec![(
            "missing output".into(),
            format!("{} was not written", target.display()),
        )];
    };
    let mut seen_layers = BTreeSet::new();
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = fs::read(f).unwrap_or_default();
        if name.ends_with(".svg") {
            let text = String::from_utf8_lossy(&bytes);
            for bad in ["NaN", "\"inf", "-inf\""] {
                if text.contains(bad) {
                    found.push((format!("{bad} in an SVG"), format!("{name} holds `{bad}`")));
                }
            }
        } else if name.ends_with(".json") {
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(v) => json_numbers(&v, &name, &mut String::new(), &mut found),
                Err(e) => found.push(("unparseable output".into(), format!("{name}: {e}"))),
            }
        } else if name.ends_with(".csv") {
            let mut r = csv::ReaderBuilder::new()
                .flexible(true)
                .trim(csv::Trim::All)
                .from_reader(&bytes[..]);
            let header: Vec<String> = match r.headers() {
                Ok(h) => h.iter().map(str::to_string).collect(),
                Err(e) => {
                    found.push(("unparseable output".into(), format!("{name}: {e}")));
                    continue;
                }
            };
            let col = |n: &str| header.iter().position(|h| h == n);
            for rec in r.records() {
                let rec = match rec {
                    Ok(r) => r,
                    Err(e) => {
                        found.push(("unparseable output".into(), format!("{name}: {e}")));
                        break;
                    }
                };
                let row_name = rec.get(0).unwrap_or("?").to_string();
                if col("status").is_some_and(|c| rec.get(c) != Some("ok")) {
                    continue;
                }
                for (j, cell) in rec.iter().enumerate() {
                    let what = header.get(j).map_or("?", String::as_str);
                    if TEXT_COLUMNS.contains(&what) {
                        continue;
                    }
                    if NAN_CELLS.contains(&cell.to_ascii_lowercase().as_str()) {
                        found.push((
                            format!("{what} = {cell}"),
                            format!("{name}: row `{row_name}`, column `{what}` = {cell}"),
                        ));
                    } else if cell.parse::<u128>().is_ok_and(|x| x >= 1 << 63) {
                        found.push((
                            format!("{what} saturated"),
                            format!("{name}: row `{row_name}`, column `{what}` = {cell} (>= 2^63)"),
                        ));
                    }
                }
                let num = |n: &str| {
                    col(n)
                        .and_then(|c| rec.get(c))
                        .and_then(|s| s.parse::<u128>().ok())
                };
                if let (Some(t), Some(c), Some(s), Some(m), Some(v)) = (
                    num("total_cycles"),
                    num("compute_cycles"),
                    num("sram_stall_cycles"),
                    num("memory_stall_cycles"),
                    num("vector_exposed_cycles"),
                ) {
                    if t != c + s + m + v {
                        found.push((
                            "total_cycles do not add up".into(),
                            format!("{name}: row `{row_name}`: total_cycles {t} != compute {c} + sram stall {s} + memory stall {m} + vector exposed {v}"),
                        ));
                    }
                }
                if name == "layers.csv" {
                    if let (Some(macs), Some(gm), Some(gn), Some(gk), Some(g)) = (
                        num("macs"),
                        num("gemm_m"),
                        num("gemm_n"),
                        num("gemm_k"),
                        num("groups"),
                    ) {
                        if gm > 0 && macs != gm * gn * gk * g.max(1) {
                            found.push((
                                "macs != m*n*k*groups".into(),
                                format!(
                                    "{name}: row `{row_name}`: macs {macs} != {gm}*{gn}*{gk}*{g}"
                                ),
                            ));
                        }
                        if let Some(want) = exact.and_then(|e| e.get(&row_name)) {
                            seen_layers.insert(row_name.clone());
                            if macs != *want {
                                found.push((
                                    "macs differ from exact arithmetic".into(),
                                    format!(
                                        "{name}: layer `{row_name}`: macs {macs}, exact {want}"
                                    ),
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
    if let Some(e) = exact {
        if files.iter().any(|f| f.ends_with("layers.csv")) {
            for k in e.keys().filter(|k| !seen_layers.contains(*k)) {
                found.push((
                    "layer missing from layers.csv".into(),
                    format!("layer `{k}` (exact MACs {}) has no row", e[k]),
                ));
            }
        }
    }
    found
}

/// Fidelity measures against labels: null when no input is labelled.
const LABEL_MEASURES: &[&str] = &[
    "reference_correct",
    "reference_top1_pct",
    "quantized_correct",
    "quantized_top1_pct",
];

/// Sequence-model figures: null for a workload without a phase (a CNN).
const SEQUENCE_MEASURES: &[&str] = &["tokens", "tokens_per_s", "energy_per_token_pj"];

fn json_numbers(v: &Value, file: &str, at: &mut String, found: &mut Vec<(String, String)>) {
    match v {
        Value::Null => found.push((format!("null in {file}"), format!("{file}: `{at}` is null"))),
        Value::Number(n) if n.as_u64().is_some_and(|x| x >= 1 << 63) => found.push((
            format!("{file}: saturated"),
            format!("{file}: `{at}` = {n} (>= 2^63)"),
        )),
        Value::Object(m) => {
            for (k, x) in m {
                // Measures that need labels (or reference logits) are null without them.
                let unlabelled = m.get("labelled_inputs").and_then(Value::as_u64) == Some(0);
                let no_phase = m.get("phase").and_then(Value::as_str) == Some("");
                if x.is_null()
                    && ((unlabelled && LABEL_MEASURES.contains(&k.as_str()))
                        || (no_phase && SEQUENCE_MEASURES.contains(&k.as_str()))
                        || k == "reference_logits_max_rel_error")
                {
                    continue;
                }
                let len = at.len();
                if !at.is_empty() {
                    at.push('.');
                }
                at.push_str(k);
                json_numbers(x, file, at, found);
                at.truncate(len);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                let len = at.len();
                let _ = write!(at, "[{i}]");
                json_numbers(x, file, at, found);
                at.truncate(len);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------- the campaign

/// One command of a mutant. `{in}`, `{out}` and `{root}` in `args` are replaced by the
/// mutant's input folder, its output parent and the checkout.
struct Cmd {
    args: Vec<String>,
    /// The result path (relative to `{out}`) a successful run writes.
    result: Option<String>,
    /// File names a message may name (basenames).
    names: Vec<String>,
    /// After a successful `import scalesim`, validate what it wrote.
    validate_import: bool,
    /// Check the numbers of what it wrote (not for outputs that copy the input's cells).
    check_numbers: bool,
}

impl Cmd {
    fn new(args: &[&str], result: Option<&str>, names: &[&str]) -> Cmd {
        Cmd {
            args: args.iter().map(|s| s.to_string()).collect(),
            result: result.map(str::to_string),
            names: names.iter().map(|s| s.to_string()).collect(),
            validate_import: false,
            check_numbers: true,
        }
    }
}

struct Mutant {
    /// Short class of the mutation, e.g. `set dram.bandwidth_bytes_per_cycle`.
    class: String,
    /// What was done to which base file.
    desc: String,
    files: Vec<(String, Vec<u8>)>,
    /// Files already in `{out}` before the commands (e.g. a sweep's partial file).
    out_files: Vec<(String, Vec<u8>)>,
    /// Symbolic links to create: (name in `{in}`, target).
    links: Vec<(String, PathBuf)>,
    commands: Vec<Cmd>,
    /// Layer name -> exact MACs, when the test knows them.
    exact: Option<BTreeMap<String, u128>>,
    /// The arithmetic says this input is invalid: exit 0 is a finding.
    must_fail: Option<String>,
}

impl Mutant {
    fn new(class: impl Into<String>, desc: impl Into<String>) -> Mutant {
        Mutant {
            class: class.into(),
            desc: desc.into(),
            files: Vec::new(),
            out_files: Vec::new(),
            links: Vec::new(),
            commands: Vec::new(),
            exact: None,
            must_fail: None,
        }
    }
}

#[derive(Default)]
struct Tally {
    mutants: usize,
    commands: usize,
    /// `subcommand exit` -> count.
    exits: BTreeMap<String, usize>,
    by_kind: BTreeMap<&'static str, usize>,
}

struct Finding {
    kind: &'static str,
    signature: String,
    reproducer: String,
}

struct Campaign {
    name: &'static str,
    dir: tempfile::TempDir,
    tally: Tally,
    findings: Vec<Finding>,
    hangs: usize,
    slowest: f64,
}

/// Digits to `#` and the temp folder to `T`: messages of the same failure become equal.
fn normalize(s: &str, tmp: &str) -> String {
    // Paths (of inputs, outputs and the checkout) to PATH.
    let s = s
        .replace(tmp, "T")
        .split(' ')
        .map(|w| {
            if w.contains('/') && !w.starts_with('`') {
                let tail: String = w
                    .chars()
                    .rev()
                    .take_while(|c| ":,;)".contains(*c))
                    .collect();
                format!("PATH{}", tail.chars().rev().collect::<String>())
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    let mut out = String::new();
    let mut last_digit = false;
    for c in s.chars() {
        if c.is_ascii_digit() {
            if !last_digit {
                out.push('#');
            }
            last_digit = true;
        } else {
            out.push(c);
            last_digit = false;
        }
    }
    clip(&out, 200, 160)
}

impl Campaign {
    fn new(name: &'static str) -> Campaign {
        Campaign {
            name,
            dir: tempfile::tempdir().unwrap(),
            tally: Tally::default(),
            findings: Vec::new(),
            hangs: 0,
            slowest: 0.0,
        }
    }

    fn stopped(&self) -> bool {
        self.hangs >= MAX_HANGS
    }

    fn run(&mut self, m: Mutant) {
        if self.stopped() {
            return;
        }
        let idx = self.tally.mutants;
        self.tally.mutants += 1;
        // Nested, so `../../x` from the output folder still lands inside `case`.
        let case = self.dir.path().join(format!("m{idx}"));
        let work = case.join("a/b/c");
        let (input, out) = (work.join("in"), work.join("out"));
        fs::create_dir_all(&input).unwrap();
        fs::create_dir_all(&out).unwrap();
        for (name, bytes) in &m.files {
            fs::write(input.join(name), bytes).unwrap();
        }
        for (name, bytes) in &m.out_files {
            fs::write(out.join(name), bytes).unwrap();
        }
        #[cfg(unix)]
        for (name, target) in &m.links {
            std::os::unix::fs::symlink(target, input.join(name)).unwrap();
        }
        let logs = self.dir.path().join(format!("log{idx}"));
        let subst = |s: &str| {
            s.replace("{in}", &common::path_str(&input))
                .replace("{out}", &common::path_str(&out))
                .replace("{root}", &common::path_str(&root()))
        };
        for c in &m.commands {
            let args: Vec<String> = c.args.iter().map(|a| subst(a)).collect();
            let before = snapshot(&case);
            let o = exec(&args, &work, &logs, TIMEOUT);
            self.tally.commands += 1;
            let code = match o.status {
                Status::Code(c) => c.to_string(),
                Status::Signal(s) => format!("signal {s}"),
                Status::Hang => "hang".into(),
            };
            *self
                .tally
                .exits
                .entry(format!("{} {code}", args[0]))
                .or_default() += 1;
            self.slowest = self.slowest.max(o.secs);
            let after = snapshot(&case);
            let result = c.result.as_ref().map(|r| out.join(r));
            let mut problems = self.judge(&o, c, &m, &before, &after, &case, result.as_deref());
            if o.status == Status::Code(0) && c.validate_import {
                problems.extend(self.validate_imported(&out.join("imp"), &work, &logs));
            }
            for (kind, sig) in problems {
                self.record(kind, sig, &m, &args, &o, &input);
            }
            if o.status == Status::Hang {
                self.hangs += 1;
                if self.stopped() {
                    break;
                }
            }
        }
        let _ = fs::remove_dir_all(&case);
        let _ = fs::remove_dir_all(&logs);
    }

    #[allow(clippy::too_many_arguments)]
    fn judge(
        &self,
        o: &Outcome,
        c: &Cmd,
        m: &Mutant,
        before: &BTreeSet<PathBuf>,
        after: &BTreeSet<PathBuf>,
        case: &Path,
        result: Option<&Path>,
    ) -> Vec<(&'static str, String)> {
        let tmp = common::path_str(self.dir.path());
        let sub = c.args.first().cloned().unwrap_or_default();
        // The first line, and the first problem of a list of problems.
        let first_line = |s: &str| {
            let mut lines = s
                .lines()
                .filter(|l| !l.trim().is_empty() && !l.starts_with("note:"));
            let l = lines.next().unwrap_or("(no message)");
            match lines.next() {
                Some(p) if l.ends_with("problem:") || l.ends_with("problems:") => {
                    normalize(&format!("{l} {}", p.trim()), &tmp)
                }
                _ => normalize(l, &tmp),
            }
        };
        let mut p: Vec<(&'static str, String)> = Vec::new();
        match &o.status {
            Status::Hang => p.push((
                "hang",
                format!("{sub}: {} (no answer in {TIMEOUT:?})", m.class),
            )),
            Status::Signal(s) => p.push((
                "signal",
                format!(
                    "{sub}: signal {s}: {}",
                    first_line(o.stderr.lines().last().unwrap_or(""))
                ),
            )),
            Status::Code(101) => {
                let at = o
                    .stderr
                    .lines()
                    .find_map(|l| l.split("panicked at ").nth(1))
                    .unwrap_or("?");
                let msg = o
                    .stderr
                    .lines()
                    .skip_while(|l| !l.contains("panicked at "))
                    .nth(1)
                    .unwrap_or("");
                p.push((
                    "panic",
                    format!("panicked at {at} {}", normalize(msg, &tmp)),
                ));
            }
            Status::Code(1) => p.push(("exit-1", format!("{sub}: {}", first_line(&o.stderr)))),
            Status::Code(0) | Status::Code(2) => {}
            Status::Code(n) => p.push((
                "exit-other",
                format!("{sub}: exit {n}: {}", first_line(&o.stderr)),
            )),
        }
        let new: Vec<&PathBuf> = after.difference(before).collect();
        if o.status == Status::Code(2) {
            // A message about a command-line option names the option, not a file.
            let about_option = o
                .stderr
                .lines()
                .find(|l| l.starts_with("error:"))
                .is_some_and(|l| l.starts_with("error: --") || l.contains("for '--"));
            if !about_option
                && !c.names.is_empty()
                && !c.names.iter().any(|n| o.stderr.contains(n.as_str()))
            {
                p.push((
                    "message-names-no-file",
                    format!("{sub}: {}", first_line(&o.stderr)),
                ));
            }
            if !has_place(&o.stderr) {
                p.push((
                    "message-names-no-place",
                    format!("{sub}: {}", first_line(&o.stderr)),
                ));
            }
        }
        if o.status != Status::Code(0) && !new.is_empty() {
            p.push((
                "files-left",
                format!(
                    "{sub} ({:?}) left {}",
                    o.status,
                    new.iter()
                        .take(3)
                        .map(|p| normalize(&p.display().to_string(), &tmp))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        if let Some(t) = after.iter().find(|p| is_temp_name(p)) {
            if o.status == Status::Code(0) || new.contains(&t) {
                p.push((
                    "temp-left",
                    format!("{sub}: {}", normalize(&t.display().to_string(), &tmp)),
                ));
            }
        }
        if o.status == Status::Code(0) {
            if let Some(r) = result {
                let rel = r.strip_prefix(case).unwrap();
                if let Some(x) = new
                    .iter()
                    .find(|n| !n.starts_with(rel) && !rel.starts_with(n))
                {
                    p.push((
                        "escaped",
                        format!(
                            "{sub}: wrote {} outside its result path",
                            normalize(&x.display().to_string(), &tmp)
                        ),
                    ));
                }
                let found = if c.check_numbers {
                    check_outputs(r, m.exact.as_ref())
                } else {
                    Vec::new()
                };
                for (sig, _detail) in found {
                    p.push(("wrong-number", format!("{sub}: {sig}")));
                }
            }
            if let (Some(why), true) = (&m.must_fail, sub == "run" || sub == "validate") {
                p.push(("accepted-invalid", format!("{sub}: {why}")));
            }
        }
        p
    }

    /// What `import scalesim` wrote must validate.
    fn validate_imported(
        &self,
        imp: &Path,
        work: &Path,
        logs: &Path,
    ) -> Vec<(&'static str, String)> {
        let files = snapshot(imp);
        let pick = |ext: &str| {
            files
                .iter()
                .find(|f| f.extension().is_some_and(|e| e == ext))
                .map(|f| common::path_str(&imp.join(f)))
        };
        let (Some(toml), Some(json)) = (pick("toml"), pick("json")) else {
            return Vec::new();
        };
        let o = exec(&["validate".to_string(), toml, json], work, logs, TIMEOUT);
        if o.status == Status::Code(0) {
            Vec::new()
        } else {
            let tmp = common::path_str(self.dir.path());
            vec![(
                "import-wrote-invalid",
                format!(
                    "validate of the imported files: {:?}: {}",
                    o.status,
                    normalize(o.stderr.lines().next().unwrap_or(""), &tmp)
                ),
            )]
        }
    }

    fn record(
        &mut self,
        kind: &'static str,
        sig: String,
        m: &Mutant,
        args: &[String],
        o: &Outcome,
        input: &Path,
    ) {
        *self.tally.by_kind.entry(kind).or_default() += 1;
        let signature = format!("{kind}: {sig}");
        if self.findings.iter().any(|f| f.signature == signature) {
            return;
        }
        let tmp = common::path_str(self.dir.path());
        let mut r = String::new();
        let _ = writeln!(r, "    mutant: {} ({})", m.desc, m.class);
        let _ = writeln!(
            r,
            "    command: plumsim {}",
            args.iter()
                .map(|a| normalize_path(a, &tmp))
                .collect::<Vec<_>>()
                .join(" ")
        );
        for (name, bytes) in &m.files {
            if bytes.len() <= 1500
                && std::str::from_utf8(bytes).is_ok()
                && m.desc.starts_with("generated")
            {
                let _ = writeln!(
                    r,
                    "    {name}: {}",
                    String::from_utf8_lossy(bytes).replace('\n', " ")
                );
            }
        }
        let _ = writeln!(r, "    outcome: {:?} after {:.2} s", o.status, o.secs);
        for l in o.stderr.lines().filter(|l| !l.trim().is_empty()).take(4) {
            let _ = writeln!(r, "    | {}", clip(&normalize_path(l, &tmp), 400, 300));
        }
        if let Some(k) = keep_dir() {
            let d = k.join(self.name).join(format!("{}", self.findings.len()));
            fs::create_dir_all(&d).unwrap();
            for (name, bytes) in &m.files {
                fs::write(d.join(name), bytes).unwrap();
            }
            let _ = input;
            fs::write(d.join("finding.txt"), format!("{signature}\n{r}")).unwrap();
        }
        self.findings.push(Finding {
            kind,
            signature,
            reproducer: r,
        });
    }

    /// Print the tally (and a machine-readable line for the campaign script); fail with every
    /// distinct finding.
    fn finish(self) {
        let mut s = format!(
            "hostile {}: {} mutants, {} commands ({}), slowest {:.2} s",
            self.name,
            self.tally.mutants,
            self.tally.commands,
            self.tally
                .exits
                .iter()
                .map(|(k, n)| format!("{k}: {n}"))
                .collect::<Vec<_>>()
                .join(", "),
            self.slowest
        );
        if self.stopped() {
            let _ = write!(s, " (stopped after {MAX_HANGS} hangs)");
        }
        println!("{s}");
        let summary = serde_json::json!({
            "kind": self.name,
            "mutants": self.tally.mutants,
            "commands": self.tally.commands,
            "exits": self.tally.exits,
            "findings": self.tally.by_kind,
            "distinct": self.findings.iter().map(|f| serde_json::json!({"kind": f.kind, "signature": f.signature, "reproducer": f.reproducer})).collect::<Vec<_>>(),
        });
        println!("hostile-summary {summary}");
        if self.findings.is_empty() {
            return;
        }
        let mut msg = format!(
            "{s}: {} findings ({:?}), {} distinct:\n",
            self.tally.by_kind.values().sum::<usize>(),
            self.tally.by_kind,
            self.findings.len()
        );
        for f in &self.findings {
            let _ = write!(msg, "- {}\n{}", f.signature, f.reproducer);
        }
        panic!("{msg}");
    }
}

fn normalize_path(s: &str, tmp: &str) -> String {
    s.replace(tmp, "T")
        .replace(&common::path_str(&root()), "ROOT")
}

fn arch_files() -> Vec<PathBuf> {
    toml_files("arch")
}

/// The `.toml` files of a folder of the checkout, sorted.
fn toml_files(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(root().join(dir))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    v
}

fn file_name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

// ---------------------------------------------------------------- kinds

const TINY: &[&str] = &[
    "tests/fixtures/workloads/tiny_conv.json",
    "tests/fixtures/workloads/tiny_gemm.json",
    "tests/fixtures/workloads/depthwise.json",
    "tests/fixtures/workloads/tiny_resblock.json",
];

/// The allowed extremes of architecture fields (arch/README.md): valid designs where the
/// arithmetic is at its largest or smallest.
const ARCH_EXTREMES: &[(&str, &str, &[&str])] = &[
    ("", "clock_mhz", &["1", "100000", "1.0000001"]),
    ("array", "rows", &["1", "4096"]),
    ("array", "cols", &["1", "4096"]),
    ("array", "tile_m", &["false", "true"]),
    ("pe", "weight_bits", &["1", "16"]),
    ("pe", "activation_bits", &["1", "16"]),
    ("pe", "accumulator_bits", &["8", "64"]),
    ("pe", "lanes", &["1", "64"]),
    ("pe", "weights_per_lane", &["1", "64"]),
    ("pe", "lookahead", &["0", "63"]),
    ("pe", "lookaside", &["0", "63"]),
    ("buffers.input", "capacity_bytes", &["1125899906842624"]),
    ("buffers.weight", "capacity_bytes", &["1125899906842624"]),
    ("buffers.output", "capacity_bytes", &["1125899906842624"]),
    ("buffers.input", "word_bits", &["8", "1024"]),
    ("buffers.weight", "word_bits", &["8", "1024"]),
    ("buffers.output", "word_bits", &["8", "1024"]),
    (
        "buffers.input",
        "read_words_per_cycle",
        &["0.0009765625", "4096"],
    ),
    (
        "buffers.weight",
        "read_words_per_cycle",
        &["0.0009765625", "4096"],
    ),
    (
        "buffers.output",
        "write_words_per_cycle",
        &["0.0009765625", "4096"],
    ),
    (
        "dram",
        "bandwidth_bytes_per_cycle",
        &["0.0009765625", "1000000"],
    ),
    ("vector", "lanes", &["1", "4096"]),
    (
        "vector",
        "precision",
        &["\"int2\"", "\"int32\"", "\"fp16\""],
    ),
    ("energy", "tech_scale", &["0.001", "1000"]),
    ("area", "tech_scale", &["0.001", "1000"]),
    ("quant", "group_size", &["1", "1024"]),
    ("quant", "shared_bits", &["1", "15"]),
];

/// One to four fields set to their allowed extremes at once.
fn arch_extremes(rng: &mut Rng, text: &str) -> (Vec<u8>, String, String) {
    let mut t = text.to_string();
    let mut set = Vec::new();
    for _ in 0..1 + rng.below(4) {
        let (table, key, values) = *rng.pick(ARCH_EXTREMES);
        let v = *rng.pick(values);
        t = toml_set(&t, table, key, v);
        set.push(format!("{} = {v}", dotted(table, key)));
    }
    (
        t.into_bytes(),
        "allowed extremes".into(),
        format!("`{}`", set.join("`, `")),
    )
}

/// A campaign of `n` mutants of the designs in arch/, each on one of the small workloads:
/// the allowed extremes in `extremes_pct` of 100, a hostile mutation otherwise. `commands`
/// adds a mutant's commands, given the design and the workload as arguments (`{in}/...`,
/// `{root}/...`) and their file names.
fn design_campaign(
    kind: &'static str,
    n: usize,
    extremes_pct: u64,
    mut commands: impl FnMut(&mut Rng, &mut Mutant, [&str; 2], &[&str; 2]),
) {
    let mut c = Campaign::new(kind);
    let mut rng = Rng::new(seed(), kind);
    let archs = arch_files();
    let abs = common::path_str(c.dir.path());
    for i in 0..n * scale() {
        let base = &archs[i % archs.len()];
        let text = fs::read_to_string(base).unwrap();
        let (bytes, class, what) = if rng.chance(extremes_pct) {
            arch_extremes(&mut rng, &text)
        } else {
            toml_mutation(&mut rng, &text, ARCH_FIELDS, &format!("{abs}/m{i}"))
        };
        let name = file_name(base);
        let wl = *rng.pick(TINY);
        let wl_name = file_name(Path::new(wl));
        let mut m = Mutant::new(class, format!("arch/{name}: {what}"));
        m.files.push((name.clone(), bytes));
        let a = format!("{{in}}/{name}");
        let w = format!("{{root}}/{wl}");
        commands(&mut rng, &mut m, [&a, &w], &[&name, &wl_name]);
        c.run(m);
    }
    c.finish();
}

#[test]
fn mutated_architectures() {
    design_campaign("arch", 120, 30, |rng, m, [a, w], names| {
        m.commands.push(Cmd::new(&["validate", a, w], None, names));
        m.commands.push(Cmd::new(
            &["run", a, w, "--out", "{out}/res"],
            Some("res"),
            names,
        ));
        match rng.below(4) {
            0 => m
                .commands
                .push(Cmd::new(&["energy-table", a], None, &names[..1])),
            1 => m
                .commands
                .push(Cmd::new(&["area-table", a], None, &names[..1])),
            _ => {}
        }
    });
}

/// The per-cycle reference engine (`run --reference`) and the traces (`run --trace`) on
/// mutated designs, the small workloads.
#[test]
fn mutated_designs_on_the_reference_engine() {
    design_campaign("reference", 48, 50, |_, m, [a, w], names| {
        m.commands.push(Cmd::new(
            &["run", a, w, "--reference", "--out", "{out}/ref"],
            Some("ref"),
            names,
        ));
        m.commands.push(Cmd::new(
            &["run", a, w, "--trace", "{out}/tr", "--out", "{out}/tr"],
            Some("tr"),
            names,
        ));
    });
}

#[test]
fn mutated_workloads() {
    let mut c = Campaign::new("workload");
    let mut rng = Rng::new(seed(), "workload");
    let abs = common::path_str(c.dir.path());
    // (path, arch, mutants, weights file to make absolute)
    let mut bases: Vec<(String, &str, usize)> = TINY
        .iter()
        .map(|t| (t.to_string(), "arch/dense_pe16.toml", 24 * scale()))
        .collect();
    bases.push((
        "workloads/resnet18.json".into(),
        "arch/dense_pe16.toml",
        8 * scale(),
    ));
    let shared =
        common::shared_or_skip("the workload mutants of resnet8_cifar10.json (trained weights)");
    if shared.is_some() {
        bases.push((
            "workloads/resnet8_cifar10.json".into(),
            "arch/dense_pe16.toml",
            12 * scale(),
        ));
    }
    let archs = arch_files();
    for (path, arch, n) in &bases {
        let text = fs::read_to_string(root().join(path)).unwrap();
        let mut doc: Value = serde_json::from_str(&text).unwrap();
        // Weight files relative to the shipped workload become absolute (the mutant sits elsewhere).
        if let Some(f) = doc["defaults"]["weights"]["file"].as_str() {
            let p = root().join(path).parent().unwrap().join(f);
            doc["defaults"]["weights"]["file"] = Value::String(common::path_str(&p));
        }
        let name = file_name(Path::new(path));
        // A message may name the weight file the workload reads.
        let weights_name = doc["defaults"]["weights"]["file"]
            .as_str()
            .map(|f| file_name(Path::new(f)));
        for i in 0..*n {
            let (bytes, class, what) =
                json_mutation(&mut rng, &doc, &format!("{abs}/m{}", c.tally.mutants));
            let mut m = Mutant::new(class, format!("{path}: {what}"));
            m.files.push((name.clone(), bytes));
            // The small workloads also meet every shipped design.
            let arch = if path.starts_with("tests/") && i % 2 == 1 {
                common::path_str(rng.pick::<PathBuf>(&archs))
            } else {
                root_str(arch)
            };
            let arch_name = file_name(Path::new(&arch));
            let w = format!("{{in}}/{name}");
            m.commands.push(Cmd::new(
                &["validate", &arch, &w],
                None,
                &[&name, &arch_name],
            ));
            m.commands.push(Cmd::new(
                &["run", &arch, &w, "--out", "{out}/res"],
                Some("res"),
                &[&name, &arch_name],
            ));
            if rng.below(4) == 0 {
                m.commands.push(Cmd::new(
                    &["quantize", &w, "--out", "{out}/q"],
                    Some("q"),
                    &[&name],
                ));
            }
            if let Some(wn) = &weights_name {
                for c in &mut m.commands {
                    c.names.push(wn.clone());
                }
            }
            c.run(m);
        }
    }
    c.finish();
}

/// A value for a conv parameter: mostly small and valid, sometimes hostile.
#[derive(Clone, Copy)]
enum P {
    Int(i128),
    Raw(&'static str),
}

impl P {
    fn text(self) -> String {
        match self {
            P::Int(v) => v.to_string(),
            P::Raw(s) => s.to_string(),
        }
    }
    fn int(self) -> Option<i128> {
        match self {
            P::Int(v) => Some(v),
            P::Raw(_) => None,
        }
    }
}

const HOSTILE_INTS: &[i128] = &[
    0,
    -1,
    2147483648,
    4294967296,
    4611686018427387904,
    9223372036854775807,
    9223372036854775808,
    18446744073709551615,
    65537,
];
const HOSTILE_RAW: &[&str] = &["1e308", "2.5", "1e-300", "\"3\"", "18446744073709551616"];

fn param(rng: &mut Rng, valid: &[i128], hostile: bool) -> P {
    if hostile {
        if rng.chance(80) {
            P::Int(*rng.pick(HOSTILE_INTS))
        } else {
            P::Raw(HOSTILE_RAW[rng.below(HOSTILE_RAW.len())])
        }
    } else {
        P::Int(*rng.pick(valid))
    }
}

/// Parameter `j` of a generated conv: hostile when it is the forced one, or now and then.
fn conv_param(rng: &mut Rng, forced: Option<usize>, j: usize, valid: &[i128]) -> P {
    let hostile = forced == Some(j) || rng.chance(4);
    param(rng, valid, hostile)
}

/// Output size of a conv along one axis (None: no window fits or a parameter is out of range).
fn conv_out(input: i128, k: i128, s: i128, p: i128, d: i128) -> Option<i128> {
    if input < 1 || k < 1 || s < 1 || p < 0 || d < 1 {
        return None;
    }
    let span = d.checked_mul(k - 1)? + 1;
    let padded = input + 2 * p;
    (padded >= span).then(|| (padded - span) / s + 1)
}

#[test]
fn generated_convolutions_have_exact_macs() {
    let mut c = Campaign::new("conv");
    let mut rng = Rng::new(seed(), "conv");
    let archs = arch_files();
    for i in 0..120 * scale() {
        // Ten parameters; one forced hostile in most mutants, any other one now and then.
        let forced = if rng.chance(75) {
            Some(rng.below(11))
        } else {
            None
        };
        let ic = conv_param(&mut rng, forced, 0, &[1, 2, 3, 4, 8, 16]);
        let ih = conv_param(&mut rng, forced, 1, &[1, 3, 5, 8, 13, 16]);
        let iw = conv_param(&mut rng, forced, 2, &[1, 4, 7, 8, 16]);
        let kh = conv_param(&mut rng, forced, 3, &[1, 2, 3, 5, 7]);
        let kw = if rng.chance(70) {
            kh
        } else {
            conv_param(&mut rng, forced, 3, &[1, 3, 5])
        };
        let s = conv_param(&mut rng, forced, 4, &[1, 1, 2, 3]);
        let pad = conv_param(&mut rng, forced, 5, &[0, 0, 1, 2, 3]);
        let d = conv_param(&mut rng, forced, 6, &[1, 1, 1, 2]);
        let g = conv_param(&mut rng, forced, 7, &[1, 1, 1, 2, 4]);
        let oc = conv_param(&mut rng, forced, 8, &[1, 4, 8, 16, 24]);
        let batch = conv_param(&mut rng, forced, 9, &[1, 1, 2, 3]);
        let fc = if rng.chance(30) {
            Some(conv_param(&mut rng, forced, 10, &[1, 7, 10]))
        } else {
            None
        };
        let kernel = if kh.text() == kw.text() {
            kh.text()
        } else {
            format!("[{}, {}]", kh.text(), kw.text())
        };
        let mut layers = format!(
            r#"{{"name": "c", "op": "conv2d", "inputs": ["x"], "output": "y", "out_channels": {}, "kernel": {kernel}, "stride": {}, "padding": {}, "dilation": {}, "groups": {}}}"#,
            oc.text(),
            s.text(),
            pad.text(),
            d.text(),
            g.text()
        );
        if let Some(f) = fc {
            let _ = write!(
                layers,
                r#", {{"name": "fc", "op": "linear", "inputs": ["y"], "output": "z", "out_features": {}}}"#,
                f.text()
            );
        }
        let text = format!(
            "{{\"name\": \"gen\", \"batch\": {}, \"inputs\": {{\"x\": [{}, {}, {}]}},\n \"layers\": [{layers}]}}\n",
            batch.text(), ic.text(), ih.text(), iw.text()
        );
        // The exact arithmetic.
        let mut m = Mutant::new(
            if forced.is_some() {
                "hostile conv parameter"
            } else {
                "conv"
            },
            format!("generated conv #{i}"),
        );
        let ints: Option<Vec<i128>> = [ic, ih, iw, kh, kw, s, pad, d, g, oc, batch]
            .iter()
            .map(|p| p.int())
            .collect();
        let fc_int = fc.map(P::int);
        let mut heavy = false;
        match ints {
            Some(v) if fc_int != Some(None) => {
                let [ic, ih, iw, kh, kw, s, pad, d, g, oc, batch] = v[..] else {
                    unreachable!()
                };
                let oh = conv_out(ih, kh, s, pad, d);
                let ow = conv_out(iw, kw, s, pad, d);
                let fc_ok = fc_int.flatten().is_none_or(|f| f >= 1);
                match (oh, ow) {
                    (Some(oh), Some(ow)) if ic >= 1 && oc >= 1 && g >= 1 && batch >= 1 && ic % g == 0 && oc % g == 0 && fc_ok => {
                        let mut e = BTreeMap::new();
                        let macs = (|| batch.checked_mul(oh)?.checked_mul(ow)?.checked_mul(oc)?.checked_mul(ic / g)?.checked_mul(kh)?.checked_mul(kw))();
                        // Valid but heavy work (hundreds of millions of weights to
                        // generate and quantize) is slow, not hung: validate only.
                        let weights = (|| {
                            let conv = oc.checked_mul(ic / g)?.checked_mul(kh)?.checked_mul(kw)?;
                            let fc = match fc_int.flatten() {
                                Some(f) => oc.checked_mul(oh)?.checked_mul(ow)?.checked_mul(f)?,
                                None => 0,
                            };
                            conv.checked_add(fc)
                        })();
                        heavy = weights.is_none_or(|w| w > 1 << 22)
                            || macs.is_none_or(|x| x > 1 << 34);
                        if let Some(macs) = macs.filter(|&x| x >= 0) {
                            e.insert("c".to_string(), macs as u128);
                            if let Some(f) = fc_int.flatten() {
                                if let Some(x) = (|| batch.checked_mul(oc)?.checked_mul(oh)?.checked_mul(ow)?.checked_mul(f))() {
                                    e.insert("fc".to_string(), x as u128);
                                }
                            }
                            m.exact = Some(e);
                        }
                    }
                    _ => m.must_fail = Some(format!("accepted an impossible conv: input [{ic}, {ih}, {iw}] x batch {batch}, kernel {kh}x{kw}, stride {s}, padding {pad}, dilation {d}, groups {g}, out_channels {oc}")),
                }
            }
            _ => m.must_fail = Some("accepted a non-integer conv parameter".into()),
        }
        m.files.push(("gen.json".into(), text.into_bytes()));
        let arch = common::path_str(&archs[i % archs.len()]);
        let an = file_name(Path::new(&arch));
        m.commands.push(Cmd::new(
            &["validate", &arch, "{in}/gen.json"],
            None,
            &["gen.json", &an],
        ));
        if !heavy {
            m.commands.push(Cmd::new(
                &["run", &arch, "{in}/gen.json", "--out", "{out}/res"],
                Some("res"),
                &["gen.json", &an],
            ));
        }
        c.run(m);
    }
    c.finish();
}

// ---------------------------------------------------------------- weight files

/// The conv weights `[8, 4, 3, 3]` and the input activations `[4, 8, 8]` the weight-file
/// mutants start from.
fn ramp(n: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|i| ((i as f32 - n as f32 / 2.0) / 100.0).to_le_bytes())
        .collect()
}

#[derive(Clone, Copy, PartialEq)]
enum Role {
    /// The conv's weights, named by the workload.
    Weights,
    /// The conv's input activations, named by the workload (read by zero-skipping PEs).
    Activations,
    /// Real inputs for `run --inputs` (`[N, C, H, W]`, `input` in an .npz).
    Inputs,
}

impl Role {
    fn shape(self) -> (&'static str, &'static [u64]) {
        match self {
            Role::Weights => ("conv.weight", &[8, 4, 3, 3]),
            Role::Activations => ("x", &[4, 8, 8]),
            Role::Inputs => ("input", &[2, 4, 8, 8]),
        }
    }
}

fn npy_file(major: u8, header: &str, len_override: Option<u64>, data: &[u8]) -> Vec<u8> {
    let fixed = if major >= 2 { 12 } else { 10 };
    let mut h = header.as_bytes().to_vec();
    while (fixed + h.len() + 1) % 64 != 0 {
        h.push(b' ');
    }
    h.push(b'\n');
    let mut b = b"\x93NUMPY".to_vec();
    b.push(major);
    b.push(0);
    let len = len_override.unwrap_or(h.len() as u64);
    if major >= 2 {
        b.extend((len as u32).to_le_bytes());
    } else {
        b.extend((len as u16).to_le_bytes());
    }
    b.extend(h);
    b.extend(data);
    b
}

fn npy_header(descr: &str, fortran: &str, shape: &str) -> String {
    format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}")
}

fn shape_tuple(s: &[u64]) -> String {
    if s.len() == 1 {
        format!("({},)", s[0])
    } else {
        format!(
            "({})",
            s.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
        )
    }
}

const DESCRS: &[&str] = &[
    "<f4", "<f8", "<f2", "|i1", "|u1", "<i2", "<i8", "|b1", "<c8", ">f4", "<U10", "|O", "|V4",
    "<f16", "", "<f4<f4",
];
const FORTRAN: &[&str] = &["False", "True", "1", "None", "'yes'"];
const SHAPES: &[&str] = &[
    "()",
    "(0,)",
    "(9223372036854775809, 2)",
    "(4611686018427387904, 4611686018427387904)",
    "(18446744073709551615,)",
    "(18446744073709551616,)",
    "(-1, 4, 3, 3)",
    "(8, 4, 3)",
    "(288,)",
    "(8, 4, 3, 3, 1)",
    "(2, 4, 3, 3)",
    "(1e3,)",
    "(8, 4, 3, 3",
    "[8, 4, 3, 3]",
    "(2147483648, 2147483648, 2147483648, 2147483648)",
    "(4294967296, 0)",
    "(4, 8, 8)",
    "(2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2)",
];

/// A mutated `.npy` (class, description, bytes).
fn npy_mutant(rng: &mut Rng, role: Role) -> (String, String, Vec<u8>) {
    let (_, shape) = role.shape();
    let n: u64 = shape.iter().product();
    let data = ramp(n as usize);
    let good = shape_tuple(shape);
    match rng.below(9) {
        0..=2 => {
            let mut descr = "<f4";
            let mut fortran = "False";
            let mut sh = good.as_str();
            let mut changed = Vec::new();
            while changed.is_empty() {
                if rng.chance(40) {
                    descr = *rng.pick(DESCRS);
                    changed.push(format!("descr '{descr}'"));
                }
                if rng.chance(40) {
                    fortran = *rng.pick(FORTRAN);
                    changed.push(format!("fortran_order {fortran}"));
                }
                if rng.chance(60) {
                    sh = *rng.pick(SHAPES);
                    changed.push(format!("shape {sh}"));
                }
            }
            let data = match rng.below(4) {
                0 => data[..8].to_vec(),
                1 => Vec::new(),
                _ => data,
            };
            let what = format!("{} over {} data bytes", changed.join(", "), data.len());
            (
                "npy header field".into(),
                what,
                npy_file(1, &npy_header(descr, fortran, sh), None, &data),
            )
        }
        3 => {
            let header = npy_header("<f4", "False", &good);
            let real = npy_file(1, &header, None, &[]).len() as u64 - 10;
            let len = *rng.pick(&[0, 1, 10, 65535, real + 1, real - 1, real + 64]);
            (
                "npy header length".into(),
                format!("header length field {len} (real {real})"),
                npy_file(1, &header, Some(len), &data),
            )
        }
        4 => {
            let major = *rng.pick(&[2u8, 3, 0, 255]);
            let header = npy_header("<f4", "False", &good);
            let len = if rng.chance(50) {
                None
            } else {
                Some(*rng.pick(&[u32::MAX as u64, 1 << 31, 0]))
            };
            (
                "npy version".into(),
                format!("version {major}.0, header length {len:?}"),
                npy_file(major, &header, len, &data),
            )
        }
        5 => {
            let header = match rng.below(6) {
                0 => format!(
                    "{{'descr': '<f4', 'descr': '<f8', 'fortran_order': False, 'shape': {good}, }}"
                ),
                1 => "{'descr': '<f4', 'fortran_order': False, }".to_string(),
                2 => format!(
                    "{{'descr': '<f4', 'fortran_order': False, 'shape': {good}, 'extra': 1, }}"
                ),
                3 => format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {good}"),
                4 => format!(
                    "{{'descr': '<f4', 'fortran_order': False, 'shape': ({}**2,), }}",
                    n
                ),
                _ => format!(
                    "{{'descr': '\u{e9}\u{e9}', 'fortran_order': False, 'shape': {good}, }}"
                ),
            };
            (
                "npy header text".into(),
                format!("header {header}"),
                npy_file(1, &header, None, &data),
            )
        }
        _ => {
            let valid = npy_file(1, &npy_header("<f4", "False", &good), None, &data);
            let (b, d) = byte_op(rng, &valid);
            (class_of(&d), format!("valid .npy, {d}"), b)
        }
    }
}

/// Byte flips, truncation, garbage appended: for binary files.
fn byte_op(rng: &mut Rng, b: &[u8]) -> (Vec<u8>, String) {
    let mut b = b.to_vec();
    match rng.below(4) {
        0 => {
            let at = rng.below(b.len());
            b.truncate(at);
            (b, format!("truncated to {at} bytes"))
        }
        1 => {
            // Mostly in the first 128 bytes: the headers.
            let at = if rng.chance(70) {
                rng.below(b.len().min(128))
            } else {
                rng.below(b.len())
            };
            let x = (rng.next() % 255 + 1) as u8;
            b[at] ^= x;
            (b, format!("byte {at} xor {x:#04x}"))
        }
        2 => {
            let n = 1 + rng.below(4);
            let mut s = Vec::new();
            for _ in 0..n {
                let at = rng.below(b.len());
                b[at] = 0xff;
                s.push(at.to_string());
            }
            (b, format!("bytes {} set to 0xff", s.join(", ")))
        }
        _ => {
            b.extend(std::iter::repeat_n(0xabu8, 1 + rng.below(100)));
            (b, "garbage appended".into())
        }
    }
}

fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xedb8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// A stored (uncompressed) zip of `entries`; `sizes` overrides the sizes both headers declare.
fn zip_stored(entries: &[(Vec<u8>, Vec<u8>)], sizes: Option<u32>, count: Option<u16>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let offset = out.len() as u32;
        let crc = crc32(data);
        let size = sizes.unwrap_or(data.len() as u32);
        let le16 = |v: u16| v.to_le_bytes();
        let le32 = |v: u32| v.to_le_bytes();
        // What the local and the central header share, from "version needed" to the name's
        // length: stored, no flags, a fixed date.
        let shared = |h: &mut Vec<u8>| {
            h.extend(le16(20));
            h.extend(le16(0));
            h.extend(le16(0));
            h.extend(le16(0));
            h.extend(le16(0x21));
            h.extend(le32(crc));
            h.extend(le32(size));
            h.extend(le32(size));
            h.extend(le16(name.len() as u16));
        };
        out.extend(le32(0x0403_4b50));
        shared(&mut out);
        out.extend(le16(0));
        out.extend(name);
        out.extend(data);
        central.extend(le32(0x0201_4b50));
        central.extend(le16(20));
        shared(&mut central);
        central.extend([0u8; 12]);
        central.extend(le32(offset));
        central.extend(name);
    }
    let cd_offset = out.len() as u32;
    let n = count.unwrap_or(entries.len() as u16);
    out.extend(&central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0u8; 4]);
    out.extend(n.to_le_bytes());
    out.extend(n.to_le_bytes());
    out.extend((central.len() as u32).to_le_bytes());
    out.extend(cd_offset.to_le_bytes());
    out.extend([0u8; 2]);
    out
}

fn npz_mutant(rng: &mut Rng, role: Role) -> (String, String, Vec<u8>) {
    let (tensor, shape) = role.shape();
    let entry = format!("{tensor}.npy").into_bytes();
    let valid_npy = npy_file(
        1,
        &npy_header("<f4", "False", &shape_tuple(shape)),
        None,
        &ramp(shape.iter().product::<u64>() as usize),
    );
    match rng.below(6) {
        0 | 1 => {
            let (class, what, npy) = npy_mutant(rng, role);
            (
                format!("npz member: {class}"),
                format!("member {}: {what}", String::from_utf8_lossy(&entry)),
                zip_stored(&[(entry, npy)], None, None),
            )
        }
        2 => {
            let (name, what): (Vec<u8>, &str) = match rng.below(5) {
                0 => (tensor.as_bytes().to_vec(), "member without .npy"),
                1 => (format!("../{tensor}.npy").into_bytes(), "member name ../"),
                2 => (
                    format!("/{tensor}.npy").into_bytes(),
                    "absolute member name",
                ),
                3 => ([&b"\xff\xfe"[..], &entry].concat(), "member name not UTF-8"),
                _ => (Vec::new(), "empty member name"),
            };
            (
                "npz member name".into(),
                what.into(),
                zip_stored(&[(name, valid_npy)], None, None),
            )
        }
        3 => {
            let other = npy_file(1, &npy_header("<f8", "True", "(2, 2)"), None, &[0u8; 32]);
            (
                "npz duplicate member".into(),
                "the member twice, the second a 2x2 f8".into(),
                zip_stored(&[(entry.clone(), valid_npy), (entry, other)], None, None),
            )
        }
        4 => {
            let (sizes, count) = match rng.below(4) {
                0 => (Some(u32::MAX), None),
                1 => (Some(0), None),
                2 => (None, Some(u16::MAX)),
                _ => (Some(valid_npy.len() as u32 + 1), None),
            };
            (
                "npz sizes".into(),
                format!("declared sizes {sizes:?}, entry count {count:?}"),
                zip_stored(&[(entry, valid_npy)], sizes, count),
            )
        }
        _ => {
            let (b, d) = byte_op(rng, &zip_stored(&[(entry, valid_npy)], None, None));
            (
                format!("npz {}", class_of(&d)),
                format!("valid .npz, {d}"),
                b,
            )
        }
    }
}

fn safetensors_file(header: &str, len_override: Option<u64>, data: &[u8]) -> Vec<u8> {
    let mut h = header.as_bytes().to_vec();
    while h.len() % 8 != 0 {
        h.push(b' ');
    }
    let mut b = len_override
        .unwrap_or(h.len() as u64)
        .to_le_bytes()
        .to_vec();
    b.extend(h);
    b.extend(data);
    b
}

const ST_DTYPES: &[&str] = &[
    "\"F32\"",
    "\"F16\"",
    "\"BF16\"",
    "\"F64\"",
    "\"I8\"",
    "\"U8\"",
    "\"I32\"",
    "\"I64\"",
    "\"BOOL\"",
    "\"F8_E4M3\"",
    "\"XX\"",
    "7",
    "null",
];
const ST_SHAPES: &[&str] = &[
    "[]",
    "[0]",
    "[288]",
    "[8,4,3]",
    "[2,4,3,3]",
    "[4611686018427387904,4611686018427387904]",
    "[9223372036854775809,2]",
    "[18446744073709551616]",
    "[-1,4,3,3]",
    "[1e3]",
    "[8,4,3,3,1]",
    "\"8\"",
    "[4,8,8]",
    "[2147483648,2147483648,2147483648,2147483648]",
];

fn safetensors_mutant(rng: &mut Rng, role: Role) -> (String, String, Vec<u8>) {
    let (tensor, shape) = role.shape();
    let n: u64 = shape.iter().product();
    let data = ramp(n as usize);
    let good_shape = format!(
        "[{}]",
        shape
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(",")
    );
    let bytes = n * 4;
    let good_off = format!("[0,{bytes}]");
    let header = |dtype: &str, sh: &str, off: &str| {
        format!(
            r#"{{"__metadata__":{{"format":"pt"}},"{tensor}":{{"dtype":{dtype},"shape":{sh},"data_offsets":{off}}}}}"#
        )
    };
    match rng.below(8) {
        0..=2 => {
            let (mut dt, mut sh, mut off) = ("\"F32\"", good_shape.as_str(), good_off.clone());
            let mut changed = Vec::new();
            while changed.is_empty() {
                if rng.chance(35) {
                    dt = *rng.pick(ST_DTYPES);
                    changed.push(format!("dtype {dt}"));
                }
                if rng.chance(50) {
                    sh = *rng.pick(ST_SHAPES);
                    changed.push(format!("shape {sh}"));
                }
                if rng.chance(40) {
                    off = rng
                        .pick(&[
                            "[0,8]".to_string(),
                            "[0,9223372036854775808]".to_string(),
                            format!("[{bytes},0]"),
                            "[0,18446744073709551615]".to_string(),
                            format!("[0,{}]", bytes + 1),
                            "[0]".to_string(),
                            format!("[8,{}]", bytes + 8),
                            format!("[0,{bytes},5]"),
                            "\"0\"".to_string(),
                            "[0,18446744073709551616]".to_string(),
                        ])
                        .clone();
                    changed.push(format!("data_offsets {off}"));
                }
            }
            (
                "safetensors header field".into(),
                changed.join(", "),
                safetensors_file(&header(dt, sh, &off), None, &data),
            )
        }
        3 => {
            let h = header("\"F32\"", &good_shape, &good_off);
            let real = h.len().div_ceil(8) as u64 * 8;
            let len = *rng.pick(&[
                0,
                1,
                7,
                real - 1,
                real + 1,
                1 << 63,
                u64::MAX,
                100_000_000,
                1 << 32,
            ]);
            (
                "safetensors header length".into(),
                format!("header length {len} (real {real})"),
                safetensors_file(&h, Some(len), &data),
            )
        }
        4 => {
            let h = match rng.below(5) {
                0 => format!(
                    r#"{{"{tensor}":{{"dtype":"F32","shape":{good_shape},"data_offsets":{good_off}}},"{tensor}":{{"dtype":"F64","shape":[2],"data_offsets":[0,16]}}}}"#
                ),
                1 => format!(r#"{{"{tensor}":{{"dtype":"F32","shape":{good_shape}"#),
                2 => format!(
                    r#"{{"{tensor}":{{"dtype":"F32","shape":{good_shape},"data_offsets":{good_off}}},"y":{{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}}}"#
                ),
                3 => format!(
                    r#"{{"{tensor}":{{"dtype":"F32","shape":{good_shape},"data_offsets":{good_off},"extra":1}}}}"#
                ),
                _ => "[]".to_string(),
            };
            (
                "safetensors header text".into(),
                format!("header {h}"),
                safetensors_file(&h, None, &data),
            )
        }
        5 => {
            let mut h = header("\"F32\"", &good_shape, &good_off).into_bytes();
            let at = 1 + rng.below(h.len() - 2);
            h.splice(at..at, rng.pick(INVALID_UTF8).iter().copied());
            let mut b = (h.len() as u64).to_le_bytes().to_vec();
            b.extend(&h);
            b.extend(&data);
            (
                "safetensors header not UTF-8".into(),
                format!("invalid UTF-8 at header byte {at}"),
                b,
            )
        }
        _ => {
            let (b, d) = byte_op(
                rng,
                &safetensors_file(&header("\"F32\"", &good_shape, &good_off), None, &data),
            );
            (
                format!("safetensors {}", class_of(&d)),
                format!("valid .safetensors, {d}"),
                b,
            )
        }
    }
}

/// The workload the weight-file mutants read: tiny_conv with its weights (or input
/// activations) in `file`.
fn weight_workload(role: Role, file: &str) -> String {
    let source = match role {
        Role::Weights => format!(r#", "weights": {{"file": "{file}", "tensor": "conv.weight"}}"#),
        Role::Activations => format!(r#", "activations": {{"file": "{file}", "tensor": "x"}}"#),
        Role::Inputs => String::new(),
    };
    format!(
        r#"{{"name": "wt", "inputs": {{"x": [4, 8, 8]}}, "layers": [
  {{"name": "conv", "op": "conv2d", "inputs": ["x"], "output": "y", "out_channels": 8, "kernel": 3, "padding": 1{source}}},
  {{"name": "relu", "op": "relu", "inputs": ["y"], "output": "z"}}]}}
"#
    )
}

type FileMutator = fn(&mut Rng, Role) -> (String, String, Vec<u8>);

fn weight_campaign(kind: &'static str, ext: &str, mutate: FileMutator, n: usize) {
    let mut c = Campaign::new(kind);
    let mut rng = Rng::new(seed(), kind);
    let dense = root_str("arch/dense_pe16.toml");
    // Reads activation values (and files) for its timing.
    let pragmatic = root_str("arch/pragmatic_pe16.toml");
    let tiny = root_str("tests/fixtures/workloads/tiny_conv.json");
    for i in 0..n * scale() {
        // Real-input tensors are .npy or .npz only.
        let role = match i % 4 {
            2 => Role::Activations,
            3 if ext != "safetensors" => Role::Inputs,
            _ => Role::Weights,
        };
        let (class, what, bytes) = mutate(&mut rng, role);
        let file = format!("t.{ext}");
        let role_name = match role {
            Role::Weights => "weights",
            Role::Activations => "activations",
            Role::Inputs => "inputs",
        };
        let mut m = Mutant::new(class, format!("{role_name} file {file}: {what}"));
        m.files.push((file.clone(), bytes));
        let w = format!("{{in}}/{file}");
        if role == Role::Inputs {
            m.commands.push(Cmd::new(
                &["run", &dense, &tiny, "--inputs", &w, "--out", "{out}/res"],
                Some("res"),
                &[&file],
            ));
            c.run(m);
            continue;
        }
        m.files
            .push(("wt.json".into(), weight_workload(role, &file).into_bytes()));
        let arch = if role == Role::Weights {
            &dense
        } else {
            &pragmatic
        };
        let an = file_name(Path::new(arch));
        m.commands.push(Cmd::new(
            &["validate", arch, "{in}/wt.json"],
            None,
            &[&file, "wt.json", &an],
        ));
        m.commands.push(Cmd::new(
            &["run", arch, "{in}/wt.json", "--out", "{out}/res"],
            Some("res"),
            &[&file, "wt.json", &an],
        ));
        if role == Role::Weights && rng.chance(25) {
            m.commands.push(Cmd::new(
                &["run", arch, &tiny, "--weights", &w, "--out", "{out}/res2"],
                Some("res2"),
                &[&file, "tiny_conv.json"],
            ));
        }
        c.run(m);
    }
    c.finish();
}

#[test]
fn mutated_npy_files() {
    weight_campaign("npy", "npy", npy_mutant, 75);
}

#[test]
fn mutated_npz_files() {
    weight_campaign("npz", "npz", npz_mutant, 60);
}

#[test]
fn mutated_safetensors_files() {
    weight_campaign("safetensors", "safetensors", safetensors_mutant, 75);
}

// ---------------------------------------------------------------- SCALE-Sim

const SCALESIM_CFG: &str = "[general]
run_name = hostile_ws_16x16

[architecture_presets]
ArrayHeight:    16
ArrayWidth:     16
IfmapSramSzkB:   64
FilterSramSzkB:  64
OfmapSramSzkB:   64
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Bandwidth : 10
Dataflow : ws
MemoryBanks:   1

[run_presets]
InterfaceBandwidth: CALC
";

const CONV_HEADER: &str = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,";
const GEMM_HEADER: &str = "Layer Name, M, N, K,";

fn topo_rows(gemm: bool) -> Vec<Vec<String>> {
    let rows: &[&[&str]] = if gemm {
        &[
            &["G1", "64", "32", "16"],
            &["G2", "16", "16", "16"],
            &["G3", "100", "17", "33"],
        ]
    } else {
        &[
            &["Conv1", "32", "32", "3", "3", "3", "16", "1"],
            &["Conv2", "16", "16", "3", "3", "16", "32", "2"],
            &["Conv3", "8", "8", "1", "1", "32", "64", "1"],
        ]
    };
    rows.iter()
        .map(|r| r.iter().map(|s| s.to_string()).collect())
        .collect()
}

fn render_topo(header: &str, rows: &[Vec<String>]) -> String {
    let mut s = format!("{header}\n");
    for r in rows {
        s.push_str(&r.join(","));
        s.push_str(",\n");
    }
    s
}

/// Exact MACs of topology rows, when every row is a valid integer row (SCALE-Sim's output size
/// ceil((H - F + S) / S); rows with a stride above the filter are left unchecked).
fn topo_macs(rows: &[Vec<String>], gemm: bool) -> Result<Option<BTreeMap<String, u128>>, String> {
    let mut e = BTreeMap::new();
    let mut names = BTreeSet::new();
    for r in rows {
        let nums: Option<Vec<i128>> = r[1..]
            .iter()
            .map(|c| c.trim().parse::<i128>().ok())
            .collect();
        let width = if gemm { 4 } else { 8 };
        let Some(n) = nums.filter(|n| r.len() == width && n.iter().all(|&x| x >= 1)) else {
            return Ok(None);
        };
        if !names.insert(r[0].trim().to_string()) {
            return Ok(None);
        }
        let macs = if gemm {
            n[0].checked_mul(n[1]).and_then(|x| x.checked_mul(n[2]))
        } else {
            let (h, w, fh, fw, ch, nf, s) = (n[0], n[1], n[2], n[3], n[4], n[5], n[6]);
            if h < fh || w < fw {
                return Err(format!(
                    "accepted a filter larger than its ifmap in row `{}`",
                    r[0]
                ));
            }
            if s > fh || s > fw {
                return Ok(None);
            }
            let oh = (h - fh + s + s - 1) / s;
            let ow = (w - fw + s + s - 1) / s;
            (|| {
                oh.checked_mul(ow)?
                    .checked_mul(fh)?
                    .checked_mul(fw)?
                    .checked_mul(ch)?
                    .checked_mul(nf)
            })()
        };
        match macs {
            Some(m) => e.insert(r[0].trim().to_string(), m as u128),
            None => return Ok(None),
        };
    }
    Ok(Some(e))
}

#[test]
fn mutated_scalesim_inputs() {
    let mut c = Campaign::new("scalesim");
    let mut rng = Rng::new(seed(), "scalesim");
    let abs = common::path_str(c.dir.path());
    let dense_ws = root_str("arch/dense_ws16.toml");
    for i in 0..90 * scale() {
        let gemm = i % 2 == 1;
        let header = if gemm { GEMM_HEADER } else { CONV_HEADER };
        let mut rows = topo_rows(gemm);
        let mut cfg = SCALESIM_CFG.to_string();
        let mut topo: Option<Vec<u8>> = None;
        let (class, what);
        let abs_i = format!("{abs}/m{}", c.tally.mutants);
        match rng.below(8) {
            0..=2 => {
                let r = rng.below(rows.len());
                let col = 1 + rng.below(rows[r].len() - 1);
                let v = if rng.chance(75) {
                    rng.pick(NUMBERS).to_string()
                } else {
                    rng.pick(&[
                        "",
                        "abc",
                        "1.5",
                        "+5",
                        " 7 ",
                        "0x10",
                        "NaN",
                        "inf",
                        "9223372036854775807",
                    ])
                    .to_string()
                };
                what = format!(
                    "topology row {} column {} = `{}`",
                    r + 2,
                    col + 1,
                    short(&v)
                );
                class = "topology cell".to_string();
                rows[r][col] = v;
            }
            3 => {
                let r = rng.below(rows.len());
                let v = match rng.below(4) {
                    0 => rows[(r + 1) % rows.len()][0].clone(),
                    _ => rng.pick(&strings(&abs_i)).replace([',', '\n'], " "),
                };
                what = format!("topology row {} name `{}`", r + 2, short(&v));
                class = "topology name".to_string();
                rows[r][0] = v;
            }
            4 => {
                let r = rng.below(rows.len());
                if rng.chance(50) {
                    rows[r].pop();
                    what = format!("topology row {} lost its last cell", r + 2);
                } else {
                    rows[r].push("7".into());
                    what = format!("topology row {} has an extra cell", r + 2);
                }
                class = "topology row width".to_string();
            }
            5 => {
                let (b, d) = text_op(&mut rng, render_topo(header, &rows).as_bytes());
                what = format!("topology: {d}");
                class = format!("topology {}", class_of(&d));
                topo = Some(b);
            }
            _ => {
                let kls = key_lines(SCALESIM_CFG, ':');
                let runs = key_lines(SCALESIM_CFG, '=');
                if rng.chance(70) {
                    let kl = rng.pick(&kls);
                    let v = rng
                        .pick(&[
                            "0",
                            "-1",
                            "1e308",
                            "1e-300",
                            "nan",
                            "inf",
                            "18446744073709551616",
                            "4294967297",
                            "abc",
                            "",
                            "0.0001",
                            "ws; rm",
                        ])
                        .to_string();
                    cfg = replace_line_value(SCALESIM_CFG, kl, &v);
                    what = format!("config `{}: {}`", kl.key, v);
                    class = format!("config {}", kl.key);
                } else if rng.chance(60) {
                    let v = rng.pick(&strings(&abs_i)).replace('\n', " ");
                    cfg = replace_line_value(SCALESIM_CFG, &runs[0], &v);
                    what = format!("config `run_name = {}`", short(&v));
                    class = "config run_name".to_string();
                } else {
                    let (b, d) = text_op(&mut rng, SCALESIM_CFG.as_bytes());
                    cfg = String::from_utf8_lossy(&b).into_owned();
                    what = format!("config: {d}");
                    class = format!("config {}", class_of(&d));
                }
            }
        }
        let mut m = Mutant::new(class, what);
        let exact = if topo.is_none() {
            topo_macs(&rows, gemm)
        } else {
            Ok(None)
        };
        match exact {
            Ok(e) => m.exact = e,
            Err(why) => m.must_fail = Some(why),
        }
        let topo = topo.unwrap_or_else(|| render_topo(header, &rows).into_bytes());
        m.files.push(("topology.csv".into(), topo));
        m.files.push(("config.cfg".into(), cfg.into_bytes()));
        let mut import = Cmd::new(
            &[
                "import",
                "scalesim",
                "{in}/config.cfg",
                "{in}/topology.csv",
                "--out",
                "{out}/imp",
            ],
            Some("imp"),
            &["config.cfg", "topology.csv"],
        );
        import.validate_import = true;
        m.commands.push(import);
        m.commands.push(Cmd::new(
            &["run", &dense_ws, "{in}/topology.csv", "--out", "{out}/res"],
            Some("res"),
            &["topology.csv"],
        ));
        c.run(m);
    }
    c.finish();
}

// ---------------------------------------------------------------- sweeps

/// A shipped sweep spec made tiny: its designs and the tiny conv workload by absolute path, no
/// real inputs, at most three axes of at most two values.
fn tiny_spec(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap();
    let mut v: toml::Table = toml::from_str(&text).unwrap();
    let dir = path.parent().unwrap();
    let abs =
        |x: &toml::Value| toml::Value::String(common::path_str(&dir.join(x.as_str().unwrap())));
    let base = match v.get("base") {
        Some(toml::Value::Array(a)) => toml::Value::Array(a.iter().take(2).map(abs).collect()),
        Some(s) => abs(s),
        None => panic!("{}: no base", path.display()),
    };
    v.insert("base".into(), base);
    v.insert(
        "workloads".into(),
        toml::Value::Array(vec![toml::Value::String(root_str(
            "tests/fixtures/workloads/tiny_conv.json",
        ))]),
    );
    if v.remove("inputs").is_some() {
        // The fidelity objectives need real inputs.
        if let Some(toml::Value::Table(o)) = v.get_mut("objectives") {
            o.remove("maximize");
        }
    }
    if let Some(toml::Value::Table(axes)) = v.get_mut("axes") {
        let keys: Vec<String> = axes.keys().cloned().collect();
        for (j, k) in keys.iter().enumerate() {
            if j >= 3 {
                axes.remove(k);
                continue;
            }
            let two = match &axes[k] {
                toml::Value::Array(a) => a.iter().take(2).cloned().collect(),
                toml::Value::Table(t) => {
                    let from = t["from"].as_integer().unwrap();
                    let next = t
                        .get("factor")
                        .and_then(toml::Value::as_integer)
                        .map(|f| from * f)
                        .or_else(|| {
                            t.get("step")
                                .and_then(toml::Value::as_integer)
                                .map(|s| from + s)
                        })
                        .unwrap_or(from);
                    vec![toml::Value::Integer(from), toml::Value::Integer(next)]
                }
                x => vec![x.clone()],
            };
            axes.insert(k.clone(), toml::Value::Array(two));
        }
        // Ties to removed axes would be spec errors of our own making.
        let kept: BTreeSet<String> = axes.keys().cloned().collect();
        if let Some(toml::Value::Table(tie)) = v.get_mut("tie") {
            tie.retain(|_, to| to.as_str().is_some_and(|t| kept.contains(t)));
        }
    }
    toml::to_string(&v).unwrap()
}

const SWEEP_FIELDS: &[(&str, &str)] = &[
    ("axes", "\"array.rows\""),
    ("axes", "\"pe.lanes\""),
    ("axes", "\"clock_mhz\""),
    ("axes", "\"dram.bandwidth_bytes_per_cycle\""),
    ("axes", "\"energy.tech_scale\""),
    ("axes", "\"buffers.weight.capacity_bytes\""),
    ("axes", "\"name\""),
    ("axes", "\"no.such.field\""),
    ("constraints", "max_pes"),
    ("constraints", "max_lanes"),
    ("constraints", "max_area_mm2"),
    ("objectives", "minimize"),
    ("", "seed"),
];

#[test]
fn mutated_sweep_specs() {
    let mut c = Campaign::new("sweep");
    let mut rng = Rng::new(seed(), "sweep");
    let specs = toml_files("scripts/sweeps");
    let abs = common::path_str(c.dir.path());
    for i in 0..48 * scale() {
        let spec = &specs[i % specs.len()];
        let base = tiny_spec(spec);
        let abs_i = format!("{abs}/m{}", c.tally.mutants);
        let (bytes, class, what) = if rng.chance(40) {
            // A hostile axis: a list of one valid and one hostile value.
            let (table, key) = *rng.pick(SWEEP_FIELDS);
            let v = hostile_scalar(&mut rng, true, &abs_i);
            let value = if table == "axes" { format!("[{v}]") } else { v };
            (
                toml_set(&base, table, key, &value).into_bytes(),
                format!("set {}", dotted(table, key)),
                format!("`{} = {}`", dotted(table, key), short(&value)),
            )
        } else {
            toml_mutation(&mut rng, &base, SWEEP_FIELDS, &abs_i)
        };
        let name = file_name(spec);
        let mut m = Mutant::new(class, format!("scripts/sweeps/{name} (made tiny): {what}"));
        m.files.push((name.clone(), bytes));
        m.commands.push(Cmd::new(
            &[
                "sweep",
                &format!("{{in}}/{name}"),
                "--out",
                "{out}/s.csv",
                "--jobs",
                "1",
                "-q",
            ],
            Some("s.csv"),
            &[&name],
        ));
        c.run(m);
    }
    c.finish();
}

// ---------------------------------------------------------------- regression corpus

fn corpus_dir() -> PathBuf {
    root().join("tests/fixtures/hostile")
}

fn manifest() -> Vec<toml::Table> {
    let text = fs::read_to_string(corpus_dir().join("cases.toml")).unwrap();
    let t: toml::Table =
        toml::from_str(&text).unwrap_or_else(|e| panic!("tests/fixtures/hostile/cases.toml: {e}"));
    t["case"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_table().unwrap().clone())
        .collect()
}

fn strs(t: &toml::Table, key: &str) -> Vec<String> {
    t.get(key)
        .and_then(toml::Value::as_array)
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// Run one case of `cases.toml`: every command, each held to the case's expectations.
fn run_case(name: &str) {
    let cases = manifest();
    let case = cases
        .iter()
        .find(|c| c["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no case `{name}` in tests/fixtures/hostile/cases.toml"));
    if case.get("needs_shared").and_then(toml::Value::as_bool) == Some(true)
        && common::shared_or_skip(name).is_none()
    {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().join("t");
    let logs = tmp.path().join("logs");
    fs::create_dir_all(t.join("out")).unwrap();
    let here = corpus_dir();
    let subst = |s: &str| {
        s.replace("{root}", &common::path_str(&root()))
            .replace("{here}", &common::path_str(&here))
            .replace("{tmp}", &common::path_str(&t))
            .replace("{out}", &common::path_str(&t.join("out/res")))
    };
    // Setups that need binary files, links or absolute paths.
    for s in strs(case, "setup") {
        match s.as_str() {
            "npy_fortran_huge" => {
                let header = npy_header("<f4", "True", "(9223372036854775809, 2)");
                fs::write(
                    t.join("fortran_huge.npy"),
                    npy_file(1, &header, None, &[0u8; 8]),
                )
                .unwrap();
                fs::copy(
                    here.join("npy_fortran_huge.json"),
                    t.join("npy_fortran_huge.json"),
                )
                .unwrap();
            }
            "dev_zero_safetensors" => {
                #[cfg(unix)]
                std::os::unix::fs::symlink("/dev/zero", t.join("w.safetensors")).unwrap();
                fs::copy(here.join("dev_zero.json"), t.join("dev_zero.json")).unwrap();
            }
            "summary_json_dir" => fs::create_dir_all(t.join("out/res/summary.json")).unwrap(),
            "arch_name_abs" => {
                let text = fs::read_to_string(here.join("arch_name_dotdot.toml")).unwrap();
                let abs = common::path_str(&t.join("abs/x"));
                fs::write(
                    t.join("arch_name_abs.toml"),
                    text.replace("\"../../../x\"", &quote(&abs)),
                )
                .unwrap();
            }
            "cwd" => fs::create_dir_all(t.join("a/b/c")).unwrap(),
            "partial_invalid_utf8" => {
                let args: Vec<String> = [
                    "sweep",
                    &common::path_str(&here.join("resume_spec.toml")),
                    "--out",
                    &common::path_str(&t.join("out/s.csv")),
                    "--stop-after",
                    "2",
                    "--jobs",
                    "1",
                    "-q",
                ]
                .iter()
                .map(|s| s.to_string())
                .collect();
                let o = exec(&args, &t, &logs, TIMEOUT);
                assert_eq!(o.status, Status::Code(0), "{}", o.stderr);
                let p = t.join("out/s.csv.partial");
                let mut b = fs::read(&p).unwrap();
                // Into line 3 (the second row), after its first cell.
                let line3 = b
                    .iter()
                    .enumerate()
                    .filter(|(_, &c)| c == b'\n')
                    .nth(1)
                    .unwrap()
                    .0
                    + 3;
                b.insert(line3, 0xff);
                fs::write(&p, b).unwrap();
            }
            other => panic!("{name}: unknown setup `{other}`"),
        }
    }
    let cwd = case
        .get("cwd")
        .and_then(toml::Value::as_str)
        .map_or_else(root, |c| PathBuf::from(subst(c)));
    let exits: Vec<i64> = case["exit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_integer().unwrap())
        .collect();
    let names = strs(case, "names");
    let places = strs(case, "place");
    let max_secs = case
        .get("max_secs")
        .and_then(toml::Value::as_float)
        .unwrap_or(10.0);
    let mut failures = Vec::new();
    for cmd in case["commands"].as_array().unwrap() {
        let args: Vec<String> = cmd
            .as_array()
            .unwrap()
            .iter()
            .map(|a| subst(a.as_str().unwrap()))
            .collect();
        let line = format!("plumsim {}", args.join(" "));
        let before = snapshot(&t);
        let o = exec(
            &args,
            &cwd,
            &logs,
            Duration::from_secs_f64(max_secs.max(10.0)),
        );
        let after = snapshot(&t);
        let new: Vec<&PathBuf> = after.difference(&before).collect();
        let mut fail = |what: String| {
            failures.push(format!("{line}\n  {what}\n  stderr: {}", o.stderr.trim()))
        };
        let code = match o.status {
            Status::Code(c) => i64::from(c),
            ref s => {
                fail(format!("{s:?} after {:.1} s", o.secs));
                continue;
            }
        };
        if !exits.contains(&code) {
            fail(format!("exit {code}, expected one of {exits:?}"));
            continue;
        }
        if o.secs > max_secs {
            fail(format!(
                "took {:.2} s, at most {max_secs} s allowed",
                o.secs
            ));
        }
        if code == 2 {
            if !names.is_empty() && !names.iter().any(|n| o.stderr.contains(n.as_str())) {
                fail(format!("the message names none of {names:?}"));
            }
            if !places.is_empty() && !places.iter().any(|p| o.stderr.contains(p.as_str())) {
                fail(format!("the message names none of the places {places:?}"));
            }
            if !new.is_empty() {
                fail(format!("exit 2 but wrote {new:?}"));
            }
        }
        if let Some(t2) = after
            .iter()
            .find(|p| is_temp_name(p) && (code == 0 || !before.contains(*p)))
        {
            fail(format!("temp file left: {}", t2.display()));
        }
        if code == 0 {
            let out = t.join("out/res");
            if out.exists() {
                for (_, d) in check_outputs(&out, None) {
                    fail(format!("wrong number: {d}"));
                }
            }
        }
        for chk in strs(case, "check") {
            match chk.as_str() {
                "distinct_traces" if code == 0 => {
                    let tr: Vec<String> = snapshot(&t.join("tr"))
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect();
                    let want = ["_sram.csv", "_dram.csv", "_lanes.csv"];
                    for w in want {
                        let n = tr.iter().filter(|f| f.ends_with(w)).count();
                        if n != 2 {
                            fail(format!(
                                "{n} distinct `*{w}` trace files for two layers: {tr:?}"
                            ));
                        }
                    }
                }
                "distinct_traces" => {}
                "only_under_out" => {
                    let rel = Path::new("out/res");
                    if let Some(x) = new
                        .iter()
                        .find(|n| !n.starts_with(rel) && !rel.starts_with(n))
                    {
                        fail(format!("wrote {} outside {}", x.display(), rel.display()));
                    }
                }
                "imported_validates" if code == 0 => {
                    let files = snapshot(&t.join("out/res"));
                    let pick = |ext: &str| {
                        files
                            .iter()
                            .find(|f| f.extension().is_some_and(|e| e == ext))
                            .map(|f| common::path_str(&t.join("out/res").join(f)))
                    };
                    match (pick("toml"), pick("json")) {
                        (Some(a), Some(w)) => {
                            let v = exec(&["validate".into(), a, w], &t, &logs, TIMEOUT);
                            if v.status != Status::Code(0) {
                                fail(format!(
                                    "the imported files do not validate: {}",
                                    v.stderr.trim()
                                ));
                            }
                        }
                        _ => fail(format!(
                            "import wrote {files:?}, not an arch and a workload"
                        )),
                    }
                }
                "imported_validates" => {}
                "no_layers_csv" => {
                    if t.join("out/res/layers.csv").exists() {
                        fail("layers.csv written beside the summary.json folder".into());
                    }
                }
                "only_under_results" => {
                    let rel = cwd.strip_prefix(&t).unwrap().join("results");
                    if let Some(x) = new
                        .iter()
                        .find(|n| !n.starts_with(&rel) && !rel.starts_with(n))
                    {
                        fail(format!("wrote {} outside {}", x.display(), rel.display()));
                    }
                    if code == 0 && !new.iter().any(|n| n.ends_with("summary.json")) {
                        fail("no summary.json under results/".into());
                    }
                }
                macs if macs.starts_with("macs:") => {
                    // macs:LAYER=VALUE on layers.csv
                    let (layer, want) = macs[5..].split_once('=').unwrap();
                    let csv = fs::read_to_string(t.join("out/res/layers.csv")).unwrap_or_default();
                    let mut lines = csv.lines();
                    let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
                    let col = header.iter().position(|h| *h == "macs");
                    let got = lines
                        .find(|l| l.split(',').next() == Some(layer))
                        .and_then(|l| l.split(',').nth(col?));
                    if got != Some(want) {
                        fail(format!("layer `{layer}`: macs {got:?}, exact {want}"));
                    }
                }
                other => panic!("{name}: unknown check `{other}`"),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "case `{name}` ({}):\n{}",
        case.get("about")
            .and_then(toml::Value::as_str)
            .unwrap_or(""),
        failures.join("\n")
    );
}

macro_rules! corpus {
    ($($(#[$meta:meta])* $name:ident),* $(,)?) => {
        mod corpus {
            $( $(#[$meta])* #[test] fn $name() { super::run_case(stringify!($name)); } )*
            pub const CASES: &[&str] = &[$(stringify!($name)),*];
        }
    };
}

corpus! {
    out_channels_2_62,
    out_channels_2_31,
    out_features_2_62,
    out_features_2_31,
    topology_cell_i64_max,
    padded_conv_input_h_2_62,
    swis_input_c_2_62,
    npy_fortran_huge_shape,
    padding_2_62,
    input_dim_i64_max,
    dram_bandwidth_1e_15,
    energy_tech_scale_1e308,
    area_tech_scale_1e308,
    clock_mhz_1e_300,
    trace_names_collide,
    summary_json_is_a_directory,
    arch_name_dotdot_default_out,
    arch_name_absolute_default_out,
    threads_100000,
    safetensors_dev_zero,
    gemm_macs_above_2_32,
    layer_named_inf,
    import_run_name_too_long,
    resume_partial_invalid_utf8,
    reference_on_output_stationary,
}

#[test]
fn every_corpus_case_has_a_test() {
    let names: BTreeSet<String> = manifest()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    let fns: BTreeSet<String> = corpus::CASES.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        names, fns,
        "tests/fixtures/hostile/cases.toml and the corpus! list differ"
    );
    for f in fs::read_dir(corpus_dir()).unwrap().flatten() {
        let len = f.metadata().unwrap().len();
        assert!(
            len < 20_000,
            "{}: {len} bytes; corpus files stay under 20 KB",
            f.path().display()
        );
    }
}

/// `kill -9` while the results are being staged: the next start leaves no temp files behind.
#[test]
fn a_killed_run_leaves_no_temp_files_after_the_next_start() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    fs::create_dir_all(&out).unwrap();
    let args = [
        "run".to_string(),
        root_str("arch/swis_pe16.toml"),
        root_str("workloads/resnet18.json"),
        "--out".to_string(),
        common::path_str(&out.join("res")),
        "-q".to_string(),
    ];
    let mut child = Command::new(binary())
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let mut killed_staging = false;
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if snapshot(&out).iter().any(|p| is_temp_name(p))
            || start.elapsed() > Duration::from_secs(30)
        {
            child.kill().unwrap();
            child.wait().unwrap();
            killed_staging = true;
            break;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    println!("killed while staging: {killed_staging}");
    let o = exec(
        &[
            "run".to_string(),
            root_str("arch/dense_pe16.toml"),
            root_str("tests/fixtures/workloads/tiny_conv.json"),
            "--out".to_string(),
            common::path_str(&out.join("res2")),
        ],
        tmp.path(),
        &tmp.path().join("logs"),
        TIMEOUT,
    );
    assert_eq!(o.status, Status::Code(0), "{}", o.stderr);
    let left: Vec<PathBuf> = snapshot(&out)
        .into_iter()
        .filter(|p| is_temp_name(p))
        .collect();
    assert!(left.is_empty(), "temp files after the next start: {left:?}");
}

// ---------------------------------------------------------------- results files and resume

/// One mutation of a CSV text: a cell, a header, a column or a row, or a text operation.
fn csv_mutation(rng: &mut Rng, text: &str) -> (Vec<u8>, String, String) {
    let mut rows: Vec<Vec<String>> = text
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    let long = "x".repeat(5000);
    let values: Vec<&str> = NUMBERS
        .iter()
        .copied()
        .chain([
            "NaN",
            "inf",
            "-inf",
            "",
            "abc",
            "\"unterminated",
            long.as_str(),
        ])
        .collect();
    let render = |rows: &[Vec<String>]| {
        rows.iter()
            .map(|r| r.join(","))
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    };
    if rows.len() < 2 {
        let (b, d) = text_op(rng, text.as_bytes());
        return (b, class_of(&d), d);
    }
    match rng.below(8) {
        0..=2 => {
            let r = 1 + rng.below(rows.len() - 1);
            let c = rng.below(rows[r].len());
            let v = *rng.pick(&values);
            let col = rows[0].get(c).cloned().unwrap_or_default();
            rows[r][c] = v.to_string();
            (
                render(&rows).into_bytes(),
                format!("cell {col}"),
                format!("row {} column `{col}` = `{}`", r + 1, short(v)),
            )
        }
        3 => {
            let c = rng.below(rows[0].len());
            let old = rows[0][c].clone();
            let v = if rng.chance(50) {
                rows[0][(c + 1) % rows[0].len()].clone()
            } else {
                String::new()
            };
            rows[0][c] = v.clone();
            (
                render(&rows).into_bytes(),
                "header".into(),
                format!("header `{old}` renamed `{v}`"),
            )
        }
        4 => {
            let c = rng.below(rows[0].len());
            let col = rows[0][c].clone();
            for r in &mut rows {
                if c < r.len() {
                    r.remove(c);
                }
            }
            (
                render(&rows).into_bytes(),
                "column deleted".into(),
                format!("column `{col}` deleted"),
            )
        }
        5 => {
            let r = 1 + rng.below(rows.len() - 1);
            if rng.chance(50) {
                rows[r].pop();
            } else {
                rows[r].push("7".into());
            }
            (
                render(&rows).into_bytes(),
                "row width".into(),
                format!("row {} has another width", r + 1),
            )
        }
        6 => {
            let r = 1 + rng.below(rows.len() - 1);
            let dup = rows[r].clone();
            rows.insert(r, dup);
            (
                render(&rows).into_bytes(),
                "row duplicated".into(),
                format!("row {} duplicated", r + 1),
            )
        }
        _ => {
            let (b, d) = text_op(rng, text.as_bytes());
            (b, class_of(&d), d)
        }
    }
}

/// A tiny sweep spec (swis_gnl made tiny), its full CSV, a partial file of its first 3 rows,
/// and a layers.csv: the bases of the results and resume mutants.
struct ResultBases {
    spec: String,
    sweep_csv: String,
    partial: String,
    layers_csv: String,
}

fn result_bases() -> ResultBases {
    let d = tempfile::tempdir().unwrap();
    let spec = tiny_spec(&root().join("scripts/sweeps/swis_gnl.toml"));
    let spec_path = d.path().join("spec.toml");
    fs::write(&spec_path, &spec).unwrap();
    let sp = common::path_str(&spec_path);
    let go = |args: &[&str]| {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let o = exec(&args, d.path(), &d.path().join("logs"), TIMEOUT);
        assert_eq!(o.status, Status::Code(0), "{args:?}: {}", o.stderr);
    };
    go(&["sweep", &sp, "--out", "full.csv", "--jobs", "1", "-q"]);
    go(&[
        "sweep",
        &sp,
        "--out",
        "part.csv",
        "--jobs",
        "1",
        "-q",
        "--stop-after",
        "3",
    ]);
    go(&[
        "run",
        &root_str("arch/dense_pe16.toml"),
        &root_str("tests/fixtures/workloads/tiny_resblock.json"),
        "--out",
        "res",
        "-q",
    ]);
    let read = |p: &str| fs::read_to_string(d.path().join(p)).unwrap();
    ResultBases {
        spec,
        sweep_csv: read("full.csv"),
        partial: read("part.csv.partial"),
        layers_csv: read("res/layers.csv"),
    }
}

#[test]
fn mutated_results_files() {
    let mut c = Campaign::new("results");
    let mut rng = Rng::new(seed(), "results");
    let b = result_bases();
    for i in 0..48 * scale() {
        let layers = i % 3 == 2;
        let base = if layers { &b.layers_csv } else { &b.sweep_csv };
        let (bytes, class, what) = csv_mutation(&mut rng, base);
        let name = if layers { "layers.csv" } else { "sweep.csv" };
        let mut m = Mutant::new(class, format!("{name}: {what}"));
        m.files.push((name.into(), bytes));
        let f = format!("{{in}}/{name}");
        if layers {
            m.commands.push(Cmd::new(
                &[
                    "plot",
                    &f,
                    "--bars",
                    "compute_cycles,memory_stall_cycles",
                    "--stack",
                    "--out",
                    "{out}/b.svg",
                ],
                Some("b.svg"),
                &[name],
            ));
        } else {
            let mut front = Cmd::new(
                &[
                    "pareto",
                    &f,
                    "--x",
                    "total_cycles",
                    "--y",
                    "energy_pj",
                    "--out",
                    "{out}/front.csv",
                ],
                Some("front.csv"),
                &[name],
            );
            // The front copies the input's cells, hostile ones included.
            front.check_numbers = false;
            m.commands.push(front);
            let ext = if i % 2 == 0 { "svg" } else { "png" };
            let out = format!("{{out}}/p.{ext}");
            m.commands.push(Cmd::new(
                &[
                    "plot",
                    &f,
                    "--x",
                    "total_cycles",
                    "--y",
                    "energy_pj",
                    "--pareto",
                    "--out",
                    &out,
                ],
                Some(&format!("p.{ext}")),
                &[name],
            ));
        }
        c.run(m);
    }
    c.finish();
}

#[test]
fn mutated_sweep_partial_files_on_resume() {
    let mut c = Campaign::new("resume");
    let mut rng = Rng::new(seed(), "resume");
    let b = result_bases();
    for _ in 0..40 * scale() {
        let (bytes, class, what) = csv_mutation(&mut rng, &b.partial);
        let mut m = Mutant::new(
            class,
            format!("s.csv.partial of the tiny swis_gnl sweep: {what}"),
        );
        m.files
            .push(("spec.toml".into(), b.spec.clone().into_bytes()));
        m.out_files.push(("s.csv.partial".into(), bytes));
        m.commands.push(Cmd::new(
            &[
                "sweep",
                "{in}/spec.toml",
                "--out",
                "{out}/s.csv",
                "--resume",
                "--jobs",
                "1",
                "-q",
            ],
            Some("s.csv"),
            &["s.csv.partial", "spec.toml"],
        ));
        c.run(m);
    }
    c.finish();
}
