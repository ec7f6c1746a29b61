//! The transformer ops: shapes and their errors, where each op runs, and what it costs,
//! against hand counts.

use plumsim::design::parse_arch;
use plumsim::engine::{simulate, RunResult};
use plumsim::workload::{parse_workload, Network, Op};

fn arch(name: &str, extra: &str) -> plumsim::arch::Arch {
    let path = format!("{}/arch/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap() + extra;
    parse_arch(&text, &path).unwrap()
}

fn net(inputs: &str, layers: &str, top: &str) -> Result<Network, String> {
    let text = format!(r#"{{"name": "t", {top} "inputs": {{{inputs}}}, "layers": [{layers}]}}"#);
    parse_workload(&text, "t.json").map_err(|e| e.to_string())
}

fn shape(n: &Network, tensor: &str) -> Vec<u64> {
    n.tensors
        .iter()
        .find(|t| t.name == tensor)
        .unwrap()
        .shape
        .clone()
}

fn err(inputs: &str, layers: &str) -> String {
    net(inputs, layers, "").expect_err("the workload is invalid")
}

#[test]
fn shapes_follow_each_ops_rule() {
    let n = net(
        r#""x": [6, 16], "kc": [2, 5, 4], "ids": [6]"#,
        r#"{"name": "q3", "op": "reshape", "inputs": ["x"], "output": "q3", "shape": [6, 4, -1]},
           {"name": "qt", "op": "transpose", "inputs": ["q3"], "output": "qt", "perm": [1, 0, 2]},
           {"name": "kn", "op": "slice", "inputs": ["qt"], "output": "kn", "axis": 0, "start": 0, "end": 4, "step": 2},
           {"name": "ka", "op": "concat", "inputs": ["kc", "kn"], "output": "ka", "axis": 1},
           {"name": "s", "op": "matmul", "inputs": ["qt", "ka"], "output": "s", "transpose_b": true},
           {"name": "p", "op": "softmax", "inputs": ["s"], "output": "p"},
           {"name": "o", "op": "matmul", "inputs": ["p", "ka"], "output": "o"},
           {"name": "r", "op": "rope", "inputs": ["o"], "output": "r"},
           {"name": "g", "op": "mul", "inputs": ["r", "ka"], "output": "g_bad_is_not_used"},
           {"name": "e", "op": "embedding", "inputs": ["ids"], "output": "e", "num_embeddings": 100, "embedding_dim": 16},
           {"name": "last", "op": "slice", "inputs": ["e"], "output": "last", "axis": 0, "start": -1},
           {"name": "b", "op": "mul", "inputs": ["e", "last"], "output": "b"},
           {"name": "ln", "op": "layer_norm", "inputs": ["b"], "output": "ln"},
           {"name": "rn", "op": "rms_norm", "inputs": ["ln"], "output": "rn", "axis": -1}"#,
        "",
    );
    // `g` multiplies [4, 6, 4] by [2, 11, 4]: 6 and 11 do not broadcast.
    let e = n.expect_err("g does not broadcast");
    assert!(
        e.contains("layers[8] (g)") && e.contains("[4, 6, 4]") && e.contains("[2, 11, 4]"),
        "{e}"
    );
    let n = net(
        r#""x": [6, 16], "kc": [2, 5, 4], "ids": [6]"#,
        r#"{"name": "q3", "op": "reshape", "inputs": ["x"], "output": "q3", "shape": [6, 4, -1]},
           {"name": "qt", "op": "transpose", "inputs": ["q3"], "output": "qt", "perm": [1, 0, 2]},
           {"name": "kn", "op": "slice", "inputs": ["qt"], "output": "kn", "axis": 0, "start": 0, "end": 4, "step": 2},
           {"name": "ka", "op": "concat", "inputs": ["kc", "kn"], "output": "ka", "axis": 1},
           {"name": "s", "op": "matmul", "inputs": ["qt", "ka"], "output": "s", "transpose_b": true},
           {"name": "p", "op": "softmax", "inputs": ["s"], "output": "p"},
           {"name": "o", "op": "matmul", "inputs": ["p", "ka"], "output": "o"},
           {"name": "e", "op": "embedding", "inputs": ["ids"], "output": "e", "num_embeddings": 100, "embedding_dim": 16},
           {"name": "last", "op": "slice", "inputs": ["e"], "output": "last", "axis": 0, "start": -1},
           {"name": "b", "op": "mul", "inputs": ["e", "last"], "output": "b"}"#,
        "",
    )
    .unwrap();
    assert_eq!(shape(&n, "q3"), [6, 4, 4]);
    assert_eq!(shape(&n, "qt"), [4, 6, 4]);
    // Heads 0 and 2 of the four: a [2, 6, 4] new entry appended to a 5-token cache.
    assert_eq!(shape(&n, "kn"), [2, 6, 4]);
    assert_eq!(shape(&n, "ka"), [2, 11, 4]);
    // Four query heads over two KV heads (grouped-query attention).
    assert_eq!(shape(&n, "s"), [4, 6, 11]);
    assert_eq!(shape(&n, "o"), [4, 6, 4]);
    assert_eq!(shape(&n, "e"), [6, 16]);
    assert_eq!(shape(&n, "last"), [1, 16]);
    assert_eq!(shape(&n, "b"), [6, 16]);
    let s = n.layer_by_name("s").unwrap();
    match s.op {
        Op::ActMatmul(a) => assert_eq!((a.heads, a.kv_heads, a.m, a.k, a.n), (4, 2, 6, 4, 11)),
        ref other => panic!("{other:?}"),
    }
    // One GEMM per KV head: its two query heads stream 2 x 6 rows through it.
    let g = s.gemm(&n).unwrap();
    assert_eq!((g.m, g.n, g.k, g.groups), (12, 11, 4, 2));
    assert_eq!(g.macs(), 4 * 6 * 11 * 4);
    assert!(s.weight_shape().is_none(), "no weights");
}

#[test]
fn bad_transformer_graphs_name_the_layer_the_tensors_and_their_shapes() {
    let e = err(
        r#""q": [3, 6, 8], "k": [2, 6, 8]"#,
        r#"{"name": "s", "op": "matmul", "inputs": ["q", "k"], "output": "s", "transpose_b": true}"#,
    );
    assert!(
        e.contains("layers[0] (s)")
            && e.contains("mismatched head counts")
            && e.contains("`q` [3, 6, 8] has 3 heads")
            && e.contains("`k` [2, 6, 8] has 2"),
        "{e}"
    );
    let e = err(
        r#""q": [2, 6, 8], "k": [2, 6, 4]"#,
        r#"{"name": "s", "op": "matmul", "inputs": ["q", "k"], "output": "s", "transpose_b": true}"#,
    );
    assert!(e.contains("K = 8") && e.contains("K = 4"), "{e}");
    let e = err(
        r#""x": [2, 6, 8]"#,
        r#"{"name": "p", "op": "softmax", "inputs": ["x"], "output": "p", "axis": 3}"#,
    );
    assert!(
        e.contains("layers[0] (p).axis")
            && e.contains("axis 3 does not exist")
            && e.contains("`x` [2, 6, 8] has 3 axes"),
        "{e}"
    );
    let e = err(
        r#""x": [2, 6, 8]"#,
        r#"{"name": "p", "op": "softmax", "inputs": ["x"], "output": "p", "axis": 1}"#,
    );
    assert!(e.contains("last axis only"), "{e}");
    let e = err(
        r#""a": [4, 8], "b": [3, 8]"#,
        r#"{"name": "m", "op": "mul", "inputs": ["a", "b"], "output": "m"}"#,
    );
    assert!(
        e.contains("do not broadcast") && e.contains("[4, 8]") && e.contains("[3, 8]"),
        "{e}"
    );
    let e = err(
        r#""a": [4, 8], "b": [3, 7]"#,
        r#"{"name": "c", "op": "concat", "inputs": ["a", "b"], "output": "c", "axis": 0}"#,
    );
    assert!(e.contains("every other axis equal"), "{e}");
    let e = err(
        r#""a": [4, 8]"#,
        r#"{"name": "r", "op": "reshape", "inputs": ["a"], "output": "r", "shape": [5, -1]}"#,
    );
    assert!(e.contains("does not hold the input's 32 elements"), "{e}");
    let e = err(
        r#""a": [4, 8]"#,
        r#"{"name": "t", "op": "transpose", "inputs": ["a"], "output": "t", "perm": [0, 0]}"#,
    );
    assert!(e.contains("not a permutation"), "{e}");
    let e = err(
        r#""a": [4, 8]"#,
        r#"{"name": "s", "op": "slice", "inputs": ["a"], "output": "s", "axis": 0, "start": 3, "end": 3}"#,
    );
    assert!(e.contains("is empty"), "{e}");
    let e = err(
        r#""a": [4, 8]"#,
        r#"{"name": "r", "op": "rope", "inputs": ["a"], "output": "r", "perm": [1, 0]}"#,
    );
    assert!(
        e.contains("layers[0] (r).perm") && e.contains("not read by op `rope`"),
        "{e}"
    );
    let e = err(
        r#""a": [4, 8]"#,
        r#"{"name": "m", "op": "matmul", "inputs": ["a"], "output": "m", "out_features": 4, "transpose_b": true}"#,
    );
    assert!(e.contains("transpose_b") && e.contains("one input"), "{e}");
    let e = err(
        r#""a": [4, 7]"#,
        r#"{"name": "r", "op": "rope", "inputs": ["a"], "output": "r"}"#,
    );
    assert!(e.contains("odd last axis"), "{e}");
}

#[test]
fn a_kv_cache_longer_than_the_stated_limit_is_refused() {
    let layers = r#"{"name": "ka", "op": "concat", "inputs": ["kc", "kn"], "output": "ka", "axis": 1},
                    {"name": "s", "op": "matmul", "inputs": ["q", "ka"], "output": "s", "transpose_b": true}"#;
    let inputs = r#""q": [2, 1, 8], "kn": [2, 1, 8], "kc": [2, 64, 8]"#;
    let ok = net(
        inputs,
        layers,
        r#""sequence": {"phase": "decode", "context": 64, "max_context": 65},"#,
    )
    .unwrap();
    let seq = ok.sequence.unwrap();
    assert_eq!((seq.new_tokens, seq.context), (1, 64));
    // 64 cached + 1 new = 65 keys, over a limit of 60: both the declared context and the
    // attention that reads 65 keys are reported.
    let e = net(
        inputs,
        layers,
        r#""sequence": {"phase": "decode", "context": 64, "max_context": 60},"#,
    )
    .unwrap_err();
    assert!(e.contains("64 + 1 tokens exceed max_context = 60"), "{e}");
    assert!(
        e.contains("layer `s`")
            && e.contains("attends to 65 keys")
            && e.contains("`ka` [2, 65, 8]"),
        "{e}"
    );
    let e = net(inputs, layers, r#""sequence": {"phase": "prefill"},"#).unwrap_err();
    assert!(
        e.contains("sequence.seq_len") && e.contains("required for prefill"),
        "{e}"
    );
    let e = net(
        inputs,
        layers,
        r#""sequence": {"phase": "decode", "seq_len": 4, "context": 3},"#,
    )
    .unwrap_err();
    assert!(
        e.contains("sequence.seq_len") && e.contains("not read in decode"),
        "{e}"
    );
}

fn run(arch: &plumsim::arch::Arch, n: &Network) -> RunResult {
    simulate(arch, n).unwrap()
}

#[test]
fn act_by_act_matmuls_run_on_the_array_multipliers_at_once_weight_format_pes_bit_plane_by_bit_plane(
) {
    let n = net(
        r#""q": [4, 6, 16], "k": [2, 20, 16]"#,
        r#"{"name": "s", "op": "matmul", "inputs": ["q", "k"], "output": "s", "transpose_b": true}"#,
        r#""batch": 2,"#,
    )
    .unwrap();
    let macs = 2 * 4 * 6 * 20 * 16;
    let dense = run(&arch("dense_pe16", ""), &n);
    let ternary = run(&arch("ternary_pe16", ""), &n);
    for r in [&dense, &ternary] {
        let l = &r.layers[0];
        assert_eq!(l.unit, "array_act");
        assert_eq!(l.macs, macs);
        // The stationary operand is the key tensor at 8 bits, read once: 2 x 2 x 20 x 16
        // bytes; the queries stream: 2 x 4 x 6 x 16 bytes.
        assert_eq!(l.traffic.dram_weight_read_bytes, 2 * 2 * 20 * 16);
        assert_eq!(l.traffic.dram_input_read_bytes, 2 * 4 * 6 * 16);
        // One rescale per output element on the vector unit.
        assert_eq!(l.vector.mults, 2 * 4 * 6 * 20);
    }
    // A multiplier does one MAC per busy lane-cycle; the ternary PE adds one bit plane of
    // the 8-bit stationary operand per cycle: eight adds per MAC.
    assert_eq!(dense.layers[0].actions.busy_lane_cycles, macs);
    assert_eq!(dense.layers[0].actions.mults, macs);
    assert_eq!(ternary.layers[0].actions.busy_lane_cycles, 8 * macs);
    assert_eq!(ternary.layers[0].actions.adds, 8 * macs);
    assert_eq!(ternary.layers[0].actions.mults, 0);
    assert!(ternary.layers[0].compute_cycles > dense.layers[0].compute_cycles);
    // A stationary register narrower than the operand is refused, naming the layer.
    let narrow = arch("dense_pe16", "").clone();
    let mut narrow = narrow;
    narrow.pe.weight_bits = 4;
    let e = simulate(&narrow, &n).unwrap_err().to_string();
    assert!(
        e.contains("layer `s`") && e.contains("8-bit activations"),
        "{e}"
    );
}

#[test]
fn vector_ops_cost_their_hand_counts() {
    let n = net(
        r#""x": [3, 5, 40]"#,
        r#"{"name": "p", "op": "softmax", "inputs": ["x"], "output": "p"},
           {"name": "ln", "op": "layer_norm", "inputs": ["p"], "output": "ln"},
           {"name": "rn", "op": "rms_norm", "inputs": ["ln"], "output": "rn"},
           {"name": "g", "op": "gelu", "inputs": ["rn"], "output": "g"},
           {"name": "si", "op": "silu", "inputs": ["g"], "output": "si"},
           {"name": "r2", "op": "relu2", "inputs": ["si"], "output": "r2"},
           {"name": "m", "op": "mul", "inputs": ["r2", "x"], "output": "m"},
           {"name": "ro", "op": "rope", "inputs": ["m"], "output": "ro"},
           {"name": "v", "op": "reshape", "inputs": ["ro"], "output": "v", "shape": [15, 40]}"#,
        "",
    )
    .unwrap();
    let a = arch("dense_pe16", "\n[vector]\nlanes = 16\noverlap = false\n");
    let r = run(&a, &n);
    let (elems, rows, lanes) = (3 * 5 * 40u64, 15u64, 16u64);
    let per_row_cycles = 40u64.div_ceil(lanes); // 3
    let by_name = |name: &str| r.layers.iter().find(|l| l.name == name).unwrap();
    // softmax: per element 4 multiplies (i-exp's 3, the 1 / sum scale) and 8 adds (max,
    // subtract, i-exp's 5, sum); per row a reciprocal (4 multiplies, 2 adds).
    let p = by_name("p");
    assert_eq!(
        (p.vector.mults, p.vector.adds),
        (4 * elems + 4 * rows, 8 * elems + 2 * rows)
    );
    assert_eq!((p.vector.exps, p.vector.divides), (elems, rows));
    assert_eq!(p.vector.cycles, rows * (per_row_cycles * 12 + 6));
    // layer norm: 3 + 4 per element; per row mean, variance, + eps and 1 / sqrt (6 + 2).
    let ln = by_name("ln");
    assert_eq!(
        (ln.vector.mults, ln.vector.adds),
        (3 * elems + 8 * rows, 4 * elems + 3 * rows)
    );
    assert_eq!(ln.vector.cycles, rows * (per_row_cycles * 7 + 11));
    let rn = by_name("rn");
    assert_eq!(
        (rn.vector.mults, rn.vector.adds),
        (3 * elems + 7 * rows, elems + 3 * rows)
    );
    assert_eq!(rn.vector.divides, rows);
    let ew = elems.div_ceil(lanes); // 38 cycles per operation over all elements
    for (name, m, a) in [
        ("g", 2, 8),
        ("si", 8, 8),
        ("r2", 1, 1),
        ("m", 1, 0),
        ("ro", 2, 1),
    ] {
        let l = by_name(name);
        assert_eq!(
            (l.vector.mults, l.vector.adds),
            (m * elems, a * elems),
            "{name}"
        );
        assert_eq!(l.vector.cycles, ew * (m + a), "{name}");
        assert_eq!(l.unit, "vector");
    }
    assert_eq!(by_name("si").vector.exps, elems);
    let v = by_name("v");
    assert_eq!(
        (v.unit, v.vector.cycles, v.traffic.dram_read_bytes()),
        ("view", 0, 0)
    );
    // Nothing hides without overlap: every vector cycle shows.
    assert_eq!(r.total_cycles(), r.vector_cycles());
}

#[test]
fn an_embedding_reads_its_rows_from_dram_and_decode_reports_per_token() {
    let n = net(
        r#""ids": [1]"#,
        r#"{"name": "e", "op": "embedding", "inputs": ["ids"], "output": "e", "num_embeddings": 32000, "embedding_dim": 4096}"#,
        r#""batch": 4, "sequence": {"phase": "decode", "context": 100},"#,
    )
    .unwrap();
    let a = arch("dense_pe16", "");
    let r = run(&a, &n);
    let e = &r.layers[0];
    assert_eq!(e.unit, "dram");
    // Four sequences' rows of 4096 8-bit entries, at 10 bytes per cycle.
    assert_eq!(e.traffic.dram_weight_read_bytes, 4 * 4096);
    assert_eq!(e.memory_stall_cycles, (4 * 4096u64).div_ceil(10));
    let s = plumsim::report::Summary::new(&a, &r);
    assert_eq!((s.phase, s.tokens), ("decode", Some(4)));
    let per_token = s.energy_per_token_pj.unwrap();
    assert!((per_token - s.energy_pj / 4.0).abs() <= 1e-6 * s.energy_pj);
    let rate = s.tokens_per_s.unwrap();
    assert!((rate - 4.0 / (s.latency_us * 1e-6)).abs() <= 1e-6 * rate);
}
