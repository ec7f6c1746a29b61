//! `plumsim sweep --resume` and `plumsim merge` against a hostile or careless user: a second
//! sweep on the same partial file, edited rows, a partial of another shard, spec or version,
//! a planted symlink, `--out` naming a folder, a missing or repeated shard, a spec too large to
//! enumerate. Small specs on the tiny fixture workloads; every test checks exit codes, row
//! counts and messages.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{ok, path_str, plumsim, read, root, rows, stderr, sweep, write_spec};

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn abs(rel: &str) -> String {
    path_str(&root().join(rel))
}

/// 3 rows x 3 cols = 9 points on two workloads: 18 rows, in well under a second.
fn spec_text(cols: &str) -> String {
    format!(
        r#"base = "{base}"
workloads = ["{conv}", "{res}"]
[axes]
"array.rows" = [4, 8, 16]
"array.cols" = {cols}
"#,
        base = abs("arch/bitserial_pe16.toml"),
        conv = abs("tests/fixtures/workloads/tiny_conv.json"),
        res = abs("tests/fixtures/workloads/tiny_resblock.json"),
    )
}

const ROWS: usize = 18;

fn refused(o: &std::process::Output, needles: &[&str]) {
    assert_eq!(o.status.code(), Some(2), "expected exit 2:\n{}", stderr(o));
    for n in needles {
        assert!(stderr(o).contains(n), "no `{n}` in:\n{}", stderr(o));
    }
}

fn partial_of(out: &Path) -> PathBuf {
    PathBuf::from(format!("{}.partial", out.display()))
}

/// The spec, its uninterrupted result, and a partial file of `kept` rows beside `k.csv`.
struct Setup {
    dir: tempfile::TempDir,
    spec: PathBuf,
    full: String,
    out: PathBuf,
    partial: PathBuf,
}

fn setup(kept: usize) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), "s.toml", &spec_text("[4, 8, 16]"));
    let full_path = dir.path().join("full.csv");
    ok(&sweep(&spec, &full_path, &[]), "uninterrupted");
    let full = read(&full_path);
    assert_eq!(rows(&full).len(), ROWS);
    let out = dir.path().join("k.csv");
    let partial = partial_of(&out);
    ok(
        &sweep(&spec, &out, &["--stop-after", &kept.to_string()]),
        "stopped run",
    );
    assert_eq!(rows(&read(&partial)).len(), kept);
    Setup {
        dir,
        spec,
        full,
        out,
        partial,
    }
}

#[test]
fn partial_files_carry_a_fingerprint_and_row_checks_and_final_files_neither() {
    let s = setup(5);
    let text = read(&s.partial);
    let header = text.lines().next().unwrap();
    let last = header.rsplit(',').next().unwrap();
    assert!(
        last.starts_with("row_check (plumsim-sweep-partial v1 spec=")
            && last.ends_with(&format!(" shard=0/1 version={VERSION})")),
        "{last}"
    );
    let full_header = s.full.lines().next().unwrap();
    assert_eq!(header, format!("{full_header},{last}"));
    for r in rows(&text) {
        let check = &r[last];
        assert_eq!(check.len(), 16, "{check}");
        assert!(check.chars().all(|c| c.is_ascii_hexdigit()), "{check}");
    }
    ok(&sweep(&s.spec, &s.out, &["--resume"]), "resume");
    assert_eq!(read(&s.out), s.full);
    assert!(!s.full.contains("row_check") && !s.full.contains("plumsim-sweep-partial"));
    assert!(!s.partial.exists());
}

#[cfg(unix)]
#[test]
fn a_second_sweep_on_a_locked_partial_exits_2_at_once() {
    use std::os::fd::AsRawFd;
    let s = setup(6);
    let before = read(&s.partial);
    // Hold the lock as a running sweep does.
    let held = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&s.partial)
        .unwrap();
    // SAFETY: flock on a descriptor `held` owns.
    assert_eq!(
        unsafe { libc::flock(held.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) },
        0
    );
    let message = format!(
        "another plumsim sweep is writing {} (lock held)",
        s.partial.display()
    );
    for extra in [&["--resume"][..], &[][..]] {
        let t = Instant::now();
        let o = sweep(&s.spec, &s.out, extra);
        refused(&o, &[&message]);
        assert!(t.elapsed() < Duration::from_secs(20));
    }
    assert_eq!(read(&s.partial), before, "the partial file is untouched");
    assert!(!s.out.exists());
    drop(held);
    ok(
        &sweep(&s.spec, &s.out, &["--resume"]),
        "resume after unlock",
    );
    assert_eq!(read(&s.out), s.full);
}

#[test]
fn concurrent_resumes_write_every_row_once() {
    let s = setup(3);
    let spawn = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_plumsim"))
            .args([
                "sweep",
                s.spec.to_str().unwrap(),
                "--out",
                s.out.to_str().unwrap(),
                "--resume",
                "--quiet",
                "--jobs",
                "1",
            ])
            .current_dir(root())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    let won = outs.iter().filter(|o| o.status.success()).count();
    assert!(won >= 1, "{}\n{}", stderr(&outs[0]), stderr(&outs[1]));
    for o in &outs {
        if !o.status.success() {
            refused(o, &["another plumsim sweep is writing", "(lock held)"]);
        }
    }
    // Every row once, byte for byte the uninterrupted sweep.
    assert_eq!(rows(&read(&s.out)).len(), ROWS);
    assert_eq!(read(&s.out), s.full);
    assert!(!s.partial.exists());
}

#[test]
fn edited_or_damaged_rows_are_dropped_named_and_run_again() {
    let s = setup(8);
    let text = read(&s.partial);
    let mut r = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    let mut recs: Vec<Vec<String>> = r
        .records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (cycles, status, wl) = (col("total_cycles"), col("status"), col("workload"));
    let key = |c: &[String]| format!("point {} ({})", c[0], c[wl]);
    // Line 2: a better total_cycles; line 4: another status; line 6: one cell more.
    recs[0][cycles] = "1".into();
    recs[2][status] = "invalid".into();
    recs[4].push("x".into());
    let edited = [key(&recs[0]), key(&recs[2]), key(&recs[4])];
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    w.write_record(&header).unwrap();
    for rec in &recs {
        w.write_record(rec).unwrap();
    }
    std::fs::write(&s.partial, w.into_inner().unwrap()).unwrap();

    // Said even with --quiet.
    let o = sweep(&s.spec, &s.out, &["--resume"]);
    ok(&o, "resume");
    let e = stderr(&o);
    assert!(
        e.contains("3 rows failed their check (edited or damaged) and will be run again"),
        "{e}"
    );
    for k in &edited {
        assert!(e.contains(k.as_str()), "no `{k}` in {e}");
    }
    assert!(e.contains("at line 2") && e.contains("at line 4") && e.contains("at line 6"));
    // The final file is the uninterrupted sweep's: the edits did not survive.
    assert_eq!(read(&s.out), s.full);
    assert_eq!(rows(&s.full).len(), ROWS);
}

#[test]
fn a_partial_of_another_shard_spec_or_version_is_refused() {
    let s = setup(2);
    let dir = s.dir.path();
    // Another shard.
    let out = dir.join("sh.csv");
    let partial = partial_of(&out);
    ok(
        &sweep(&s.spec, &out, &["--shard", "1/3", "--stop-after", "2"]),
        "shard 1/3",
    );
    let before = read(&partial);
    assert_eq!(rows(&before).len(), 2);
    let o = sweep(&s.spec, &out, &["--shard", "2/3", "--resume"]);
    refused(
        &o,
        &[
            &partial.display().to_string(),
            "written for shard 1/3, this run is shard 2/3",
        ],
    );
    let o = sweep(&s.spec, &out, &["--resume"]);
    refused(
        &o,
        &["written for shard 1/3, this run is the whole sweep (no --shard)"],
    );
    assert_eq!(read(&partial), before, "a refused resume changes nothing");
    assert!(!out.exists());
    ok(
        &sweep(&s.spec, &out, &["--shard", "1/3", "--resume"]),
        "1/3",
    );
    let r = rows(&read(&out));
    // Points 1, 4, 7 on two workloads.
    assert_eq!(r.len(), 6);
    assert!(r
        .iter()
        .all(|x| x["point"].parse::<u64>().unwrap() % 3 == 1));

    // A finished shard file resumed as another shard: its manifest tells.
    let o = sweep(&s.spec, &out, &["--shard", "2/3", "--resume"]);
    refused(
        &o,
        &[
            "sh.csv.shard",
            "written for shard 1/3, this run is shard 2/3",
        ],
    );

    // Another spec (one axis value changed): same columns, other points.
    let edited = write_spec(dir, "s.toml", &spec_text("[4, 8, 32]"));
    let o = sweep(&edited, &s.out, &["--resume"]);
    refused(&o, &["written for another sweep (spec fingerprint"]);

    // Another version: the header's fingerprint says so.
    let spec = write_spec(dir, "s.toml", &spec_text("[4, 8, 16]"));
    let text = read(&s.partial).replacen(&format!("version={VERSION})"), "version=0.0.1-old)", 1);
    std::fs::write(&s.partial, &text).unwrap();
    let o = sweep(&spec, &s.out, &["--resume"]);
    refused(
        &o,
        &[&format!(
            "written by plumsim 0.0.1-old, this is plumsim {VERSION}"
        )],
    );

    // A partial without a fingerprint (an older plumsim's): refused, not guessed at.
    let plain: Vec<&str> = s.full.lines().take(3).collect();
    std::fs::write(&s.partial, plain.join("\n") + "\n").unwrap();
    let o = sweep(&spec, &s.out, &["--resume"]);
    refused(
        &o,
        &["has no `row_check (plumsim-sweep-partial v1 ...)` fingerprint column"],
    );
}

#[cfg(unix)]
#[test]
fn a_symlink_at_the_partial_path_is_refused_and_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), "s.toml", &spec_text("[4, 8, 16]"));
    let out = dir.path().join("r.csv");
    let partial = partial_of(&out);
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    std::os::unix::fs::symlink(&victim, &partial).unwrap();
    for extra in [&[][..], &["--resume"][..]] {
        let o = sweep(&spec, &out, extra);
        refused(&o, &[&partial.display().to_string(), "is a symlink"]);
        assert_eq!(read(&victim), "precious\n");
        assert!(!out.exists());
    }
    // A dangling link is not created through either.
    let absent = dir.path().join("absent.txt");
    std::fs::remove_file(&partial).unwrap();
    std::os::unix::fs::symlink(&absent, &partial).unwrap();
    refused(&sweep(&spec, &out, &[]), &["is a symlink"]);
    assert!(!absent.exists());
    // A folder there is refused by name too.
    std::fs::remove_file(&partial).unwrap();
    std::fs::create_dir(&partial).unwrap();
    refused(&sweep(&spec, &out, &[]), &["is not a regular file"]);
}

#[test]
fn a_bad_out_is_refused_before_any_work_leaving_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // A spec that would itself fail to load: the --out check must come first.
    let bad = write_spec(
        dir.path(),
        "bad.toml",
        "base = \"missing.toml\"\nworkloads = []\n",
    );
    let good = write_spec(dir.path(), "s.toml", &spec_text("[4, 8, 16]"));
    let target = dir.path().join("results");
    std::fs::create_dir(&target).unwrap();
    let before: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    for spec in [&bad, &good] {
        let o = sweep(spec, &target, &[]);
        refused(
            &o,
            &[
                &target.display().to_string(),
                "is a directory; the result is one CSV file",
            ],
        );
    }
    assert!(!partial_of(&target).exists());
    assert_eq!(std::fs::read_dir(&target).unwrap().count(), 0);
    // A file where a folder of the path must be.
    let file = dir.path().join("plain.txt");
    std::fs::write(&file, "x").unwrap();
    let o = sweep(&bad, &file.join("r.csv"), &[]);
    refused(&o, &["plain.txt", "is not a directory, so"]);
    // The spec itself as the output.
    let o = sweep(&good, &good, &[]);
    refused(&o, &["is the spec file itself"]);
    assert!(read(&good).contains("[axes]"));
    let after: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(after.len(), before.len() + 1, "only plain.txt was added");
}

#[test]
fn merge_refuses_a_missing_repeated_or_edited_shard() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), "s.toml", &spec_text("[4, 8, 16]"));
    let full = dir.path().join("full.csv");
    ok(&sweep(&spec, &full, &[]), "unsharded");
    let mut shards = Vec::new();
    for i in 0..3 {
        let p = dir.path().join(format!("shard-{i}.csv"));
        ok(&sweep(&spec, &p, &["--shard", &format!("{i}/3")]), "shard");
        let manifest = read(&PathBuf::from(format!("{}.shard", p.display())));
        assert!(
            manifest.starts_with("plumsim-sweep-shard v1 spec=")
                && manifest.contains(&format!(" shard={i}/3 version={VERSION} rows=6 csv=")),
            "{manifest}"
        );
        shards.push(p.to_str().unwrap().to_string());
    }
    let merged = dir.path().join("merged.csv");
    let m = merged.to_str().unwrap();
    let merge = |files: &[&str], extra: &[&str]| {
        let mut args = vec!["merge", m];
        args.extend_from_slice(files);
        args.extend_from_slice(extra);
        plumsim(&args)
    };
    // All three, without --spec: the manifests say the set is complete.
    ok(&merge(&[&shards[0], &shards[1], &shards[2]], &[]), "merge");
    assert_eq!(read(&merged), read(&full));
    std::fs::remove_file(&merged).unwrap();

    // Shard 1 missing, without --spec: refused, naming it.
    let o = merge(&[&shards[0], &shards[2]], &[]);
    refused(&o, &["1 of 3 shards missing: 1/3", "--allow-missing"]);
    assert!(!merged.exists());
    // ... unless allowed, which says what is left out.
    let o = merge(&[&shards[0], &shards[2]], &["--allow-missing"]);
    ok(&o, "merge --allow-missing");
    assert!(stderr(&o).contains("merging without 1 of 3 shards (--allow-missing): 1/3"));
    let r = rows(&read(&merged));
    assert_eq!(r.len(), 12);
    assert!(r
        .iter()
        .all(|x| x["point"].parse::<u64>().unwrap() % 3 != 1));
    // With --spec too.
    let o = merge(
        &[&shards[0], &shards[2]],
        &["--spec", spec.to_str().unwrap(), "--allow-missing"],
    );
    ok(&o, "merge --spec --allow-missing");
    assert!(stderr(&o).contains("merging without 6 of 18 rows of the spec"));

    // A shard given twice.
    let o = merge(&[&shards[0], &shards[0], &shards[1], &shards[2]], &[]);
    refused(&o, &["is also in"]);

    // A shard of another split: rerun shard 1 as 1/2 beside the 3-way files.
    let other = dir.path().join("half.csv");
    ok(&sweep(&spec, &other, &["--shard", "1/2"]), "1/2");
    let o = merge(&[&shards[0], other.to_str().unwrap()], &["--allow-missing"]);
    refused(&o, &["half.csv.shard", "of a split into 2"]);

    // An edited shard file.
    let text = read(Path::new(&shards[2])).replacen("ok", "invalid", 1);
    std::fs::write(&shards[2], text).unwrap();
    let o = merge(&[&shards[0], &shards[1], &shards[2]], &[]);
    refused(&o, &["shard-2.csv", "was changed after plumsim wrote it"]);
}

/// A spec on the tiny conv whose axes each run from 1 to their `to`, step 1.
fn ranged_spec_text(axes: &[(&str, u64)]) -> String {
    let mut text = format!(
        "base = \"{}\"\nworkloads = [\"{}\"]\n[axes]\n",
        abs("arch/bitserial_pe16.toml"),
        abs("tests/fixtures/workloads/tiny_conv.json"),
    );
    for (axis, to) in axes {
        text += &format!("\"{axis}\" = {{ from = 1, to = {to}, step = 1 }}\n");
    }
    text
}

#[test]
fn a_spec_over_the_point_bound_is_refused_before_enumerating() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("big.csv");
    // The spec refused within ten seconds, naming `needles`.
    let refused_at_once = |name: &str, axes: &[(&str, u64)], needles: &[&str]| {
        let spec = write_spec(dir.path(), name, &ranged_spec_text(axes));
        let t = Instant::now();
        let o = sweep(&spec, &out, &[]);
        refused(&o, needles);
        assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    };
    // 1001 x 1000 = 1,001,000 points, just over the bound.
    refused_at_once(
        "big.toml",
        &[("array.rows", 1001), ("array.cols", 1000)],
        &[
            "big.toml",
            "axes: the axes span 1001000 points (1001 x 1000), more than the bound of 1000000",
        ],
    );
    assert!(!out.exists() && !partial_of(&out).exists());

    // A product past 2^64 is counted without overflow.
    refused_at_once(
        "huge.toml",
        &[
            ("array.rows", 100000),
            ("array.cols", 100000),
            ("pe.lanes", 100000),
            ("pe.weights_per_lane", 100000),
        ],
        &["the axes span more than 2^64 points (100000 x 100000 x 100000 x 100000)"],
    );
}
