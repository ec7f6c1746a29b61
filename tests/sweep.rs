//! `plumsim sweep` / `merge` / `pareto` end to end on the tiny fixture workloads: rows match
//! `plumsim run`, invalid and unsupported points are recorded, shards join into the unsharded
//! file, a killed and resumed sweep equals an uninterrupted one, thread count does not
//! change a byte, and bad specs exit 2 naming the file and the field.

mod common;

use std::collections::BTreeMap;

use common::{ok, path_str, plumsim, read, root, rows, stderr, stdout, sweep, write_spec};

fn abs(rel: &str) -> String {
    path_str(&root().join(rel))
}

/// A spec over both tiny fixtures with two base files, an invalid value (rows = 0), an
/// unsupported combination (SWIS with 4 lanes but groups of 8) and a constraint.
fn spec_text() -> String {
    format!(
        r#"base = ["{swis}", "{bs}"]
workloads = ["{conv}", "{res}"]
[axes]
"pe.lanes" = [4, 8]
"quant.shared_bits" = {{ from = 2, to = 3, step = 1 }}
"array.rows" = [4, 8, 0]
"array.cols" = [4, 16]
[constraints]
max_pes = 64
[objectives]
minimize = ["total_cycles", "energy_pj"]
"#,
        swis = abs("arch/swis_pe16.toml"),
        bs = abs("arch/bitserial_pe16.toml"),
        conv = abs("tests/fixtures/workloads/tiny_conv.json"),
        res = abs("tests/fixtures/workloads/tiny_resblock.json"),
    )
}

#[test]
fn sweep_records_every_point_with_its_status() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), "s.toml", &spec_text());
    let out = dir.path().join("r.csv");
    let o = sweep(&spec, &out, &["--jobs", "2"]);
    ok(&o, "sweep");
    let text = read(&out);
    let header = text.lines().next().unwrap();
    assert!(
        header.starts_with(
            "point,base,pe.lanes,quant.shared_bits,array.rows,array.cols,workload,status,error,"
        ),
        "{header}"
    );
    assert!(
        header.contains(",total_cycles,") && header.contains(",energy_pj,"),
        "{header}"
    );
    let r = rows(&text);
    // 2 bases x 2 lanes x 2 N x 3 rows x 2 cols = 48 points; rows 8 x cols 16 = 128 PEs
    // breaks max_pes = 64 in 2 x 2 x 2 = 8 points: 40 points x 2 workloads.
    assert_eq!(r.len(), 80);
    assert!(!r
        .iter()
        .any(|x| x["array.rows"] == "8" && x["array.cols"] == "16"));
    // Sorted by point, then workload; ids are indices of the full product.
    let keys: Vec<(u64, String)> = r
        .iter()
        .map(|x| (x["point"].parse().unwrap(), x["workload"].clone()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert_eq!(keys[0], (0, "tiny_conv".to_string()));
    assert_eq!(r[0]["base"], abs("arch/swis_pe16.toml"));
    let count = |s: &str| r.iter().filter(|x| x["status"] == s).count();
    // rows = 0 is invalid on every base: 2 x 2 x 2 x 2 cols x 2 workloads = 32.
    assert_eq!(count("invalid"), 32);
    assert!(r
        .iter()
        .filter(|x| x["status"] == "invalid")
        .all(|x| x["array.rows"] == "0"
            && x["error"].contains("array.rows")
            && x["total_cycles"].is_empty()));
    // SWIS with 4 lanes and groups of 8 is unsupported: 2 N x 3 valid shapes x 2 workloads.
    assert_eq!(count("unsupported"), 12);
    assert!(r
        .iter()
        .filter(|x| x["status"] == "unsupported")
        .all(|x| x["pe.lanes"] == "4" && x["pe_kind"].is_empty() && !x["error"].is_empty()));
    assert_eq!(count("ok"), 80 - 32 - 12);
    assert!(r
        .iter()
        .filter(|x| x["status"] == "ok")
        .all(|x| x["total_cycles"].parse::<u64>().unwrap() > 0));
    // Parameters reach the architecture.
    assert!(r
        .iter()
        .filter(|x| x["status"] == "ok")
        .all(|x| x["array_rows"] == x["array.rows"] && x["array_cols"] == x["array.cols"]));
    // The objectives' front is printed per workload.
    let front = stdout(&o);
    assert!(front.starts_with("point,base,"), "{front}");
    assert!(
        front.contains("tiny_conv") && front.contains("tiny_resblock"),
        "{front}"
    );
    assert!(!dir.path().join("r.csv.partial").exists());
}

#[test]
fn sweep_row_equals_plumsim_run() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(
        dir.path(),
        "one.toml",
        &format!(
            "base = \"{}\"\nworkloads = [\"{}\"]\n",
            abs("arch/swis_pe16.toml"),
            abs("tests/fixtures/workloads/tiny_resblock.json")
        ),
    );
    let out = dir.path().join("one.csv");
    ok(&sweep(&spec, &out, &[]), "sweep");
    let r = rows(&read(&out));
    assert_eq!(r.len(), 1);
    let run = plumsim(&[
        "run",
        "arch/swis_pe16.toml",
        "tests/fixtures/workloads/tiny_resblock.json",
        "--format",
        "json",
        "--out",
        dir.path().join("run").to_str().unwrap(),
    ]);
    ok(&run, "run");
    let json: serde_json::Value = serde_json::from_str(&stdout(&run)).unwrap();
    for k in [
        "total_cycles",
        "compute_cycles",
        "dram_read_bytes",
        "energy_pj",
        "latency_us",
    ] {
        assert_eq!(r[0][k], json[k].to_string(), "{k}");
    }
    assert_eq!(r[0]["status"], "ok");
}

#[test]
fn thread_count_does_not_change_a_byte() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), "s.toml", &spec_text());
    let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
    ok(&sweep(&spec, &a, &["--jobs", "1"]), "1 thread");
    ok(&sweep(&spec, &b, &["--jobs", "2"]), "2 threads");
    assert_eq!(read(&a), read(&b));
}

#[test]
fn shards_join_into_the_unsharded_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), "s.toml", &spec_text());
    let full = dir.path().join("full.csv");
    ok(&sweep(&spec, &full, &[]), "unsharded");
    let mut shards = Vec::new();
    for i in 0..3 {
        let p = dir.path().join(format!("shard{i}.csv"));
        ok(&sweep(&spec, &p, &["--shard", &format!("{i}/3")]), "shard");
        let r = rows(&read(&p));
        assert!(!r.is_empty());
        assert!(r
            .iter()
            .all(|x| x["point"].parse::<u64>().unwrap() % 3 == i));
        shards.push(p);
    }
    let merged = dir.path().join("merged.csv");
    let mut args = vec!["merge", merged.to_str().unwrap()];
    args.extend(shards.iter().map(|p| p.to_str().unwrap()));
    args.extend(["--spec", spec.to_str().unwrap()]);
    ok(&plumsim(&args), "merge");
    assert_eq!(
        read(&merged),
        read(&full),
        "merged shards differ from the unsharded sweep"
    );

    // A missing shard is reported with the missing points; a shard given twice is refused.
    let o = plumsim(&[
        "merge",
        merged.to_str().unwrap(),
        shards[0].to_str().unwrap(),
        shards[1].to_str().unwrap(),
        "--spec",
        spec.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("rows missing: 2 (tiny_conv)"),
        "{}",
        stderr(&o)
    );
    let o = plumsim(&[
        "merge",
        merged.to_str().unwrap(),
        shards[0].to_str().unwrap(),
        shards[0].to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is also in"), "{}", stderr(&o));
}

#[test]
fn killed_and_resumed_equals_uninterrupted() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), "s.toml", &spec_text());
    let full = dir.path().join("full.csv");
    ok(&sweep(&spec, &full, &[]), "uninterrupted");

    let out = dir.path().join("k.csv");
    let partial = dir.path().join("k.csv.partial");
    ok(
        &sweep(&spec, &out, &["--stop-after", "23", "--jobs", "2"]),
        "stopped run",
    );
    assert!(
        !out.exists(),
        "a stopped sweep must not write the final file"
    );
    let kept = rows(&read(&partial));
    assert_eq!(kept.len(), 23, "every finished row is kept");
    // A kill may cut the last line short: append half a row without its newline.
    let mut text = read(&partial);
    text.push_str("47,");
    std::fs::write(&partial, text).unwrap();

    // Without --resume the partial rows are not overwritten.
    let o = sweep(&spec, &out, &[]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--resume"), "{}", stderr(&o));

    // Stop again part way, then finish.
    ok(
        &sweep(&spec, &out, &["--resume", "--stop-after", "30"]),
        "second stop",
    );
    assert_eq!(rows(&read(&partial)).len(), 53);
    ok(&sweep(&spec, &out, &["--resume", "--jobs", "1"]), "resume");
    assert_eq!(
        read(&out),
        read(&full),
        "resumed sweep differs from the uninterrupted one"
    );
    assert!(!partial.exists());
    // Resuming a finished sweep runs nothing and leaves the same file.
    ok(&sweep(&spec, &out, &["--resume"]), "resume finished");
    assert_eq!(read(&out), read(&full));
}

#[test]
fn pareto_command_prints_the_front() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), "s.toml", &spec_text());
    let out = dir.path().join("r.csv");
    ok(&sweep(&spec, &out, &[]), "sweep");
    let o = plumsim(&[
        "pareto",
        out.to_str().unwrap(),
        "--x",
        "total_cycles",
        "--y",
        "dram_read_bytes",
        "--where",
        "workload=tiny_resblock",
    ]);
    ok(&o, "pareto");
    let front = rows(&stdout(&o));
    let all: Vec<_> = rows(&read(&out))
        .into_iter()
        .filter(|x| x["status"] == "ok" && x["workload"] == "tiny_resblock")
        .collect();
    let v = |x: &BTreeMap<String, String>| {
        (
            x["total_cycles"].parse::<f64>().unwrap(),
            x["dram_read_bytes"].parse::<f64>().unwrap(),
        )
    };
    let expected: Vec<String> = all
        .iter()
        .filter(|a| {
            let (ax, ay) = v(a);
            !all.iter().any(|b| {
                let (bx, by) = v(b);
                bx <= ax && by <= ay && (bx < ax || by < ay)
            })
        })
        .map(|a| a["point"].clone())
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(
        front.iter().map(|x| x["point"].clone()).collect::<Vec<_>>(),
        expected
    );
    assert!(front
        .iter()
        .all(|x| x.contains_key("pe.lanes") && x.contains_key("dram_read_bytes")));
}

#[test]
fn bad_specs_exit_2_naming_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let base = spec_text();
    let cases = [
        (
            "\"pe.lanes\" = [4, 8]",
            "\"pe.lanez\" = [4, 8]",
            "axes.\"pe.lanez\"",
            "unknown field `lanez`",
        ),
        (
            "{ from = 2, to = 3, step = 1 }",
            "{ from = 3, to = 2, step = 1 }",
            "axes.\"quant.shared_bits\"",
            "range from 3 to 2 is empty",
        ),
        (
            "{ from = 2, to = 3, step = 1 }",
            "{ from = 2, to = 3, step = 0 }",
            "axes.\"quant.shared_bits\"",
            "not positive",
        ),
        (
            "\"array.cols\" = [4, 16]",
            "\"array.cols\" = [\"four\"]",
            "axes.\"array.cols\"",
            "value \"four\"",
        ),
        (
            "\"energy_pj\"]",
            "\"energy_joules\"]",
            "objectives.minimize",
            "no column `energy_joules`",
        ),
        (
            "max_pes = 64",
            "max_pez = 64",
            "bad.toml",
            "unknown field `max_pez`",
        ),
    ];
    for (from, to, field, msg) in cases {
        assert!(base.contains(from), "{from}");
        let spec = write_spec(dir.path(), "bad.toml", &base.replacen(from, to, 1));
        let o = sweep(&spec, &dir.path().join("x.csv"), &[]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{to}: {err}");
        assert!(
            err.contains("bad.toml") && err.contains(field) && err.contains(msg),
            "{to}: {err}"
        );
        assert!(!err.contains("panicked"));
        assert!(!dir.path().join("x.csv").exists() && !dir.path().join("x.csv.partial").exists());
    }
}
