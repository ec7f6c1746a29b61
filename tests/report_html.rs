//! `plumsim report`: a page for each kind of results (run, compare, sweep) made from shipped
//! inputs with the built binary, then opened in headless Chromium: the screenshot is not
//! blank, the rendered DOM holds the tables (one row per layer, design or front point) and
//! the SVG charts, a `#sort=` address sorts the tables and header clicks sort them (driven
//! from a harness page of the test). Bad folders exit 2 naming the file and leave no page
//! behind. Without /usr/bin/chromium the browser checks say so and skip, except under
//! CI=true, where they fail. PLUMSIM_KEEP_SCREENSHOTS=DIR keeps the screenshots to look at.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{ci, ok, path_str, plumsim, read, root, rows, stderr, write_spec};

const CHROMIUM: &str = "/usr/bin/chromium";

fn abs(rel: &str) -> String {
    path_str(&root().join(rel))
}

/// `plumsim run` of the tiny convolution on `dense_pe16` into `out`, with `extra` options.
fn run_tiny(out: &Path, extra: &[&str]) {
    let mut args = vec![
        "run".to_string(),
        abs("arch/dense_pe16.toml"),
        abs("tests/fixtures/workloads/tiny_conv.json"),
        "--out".into(),
        path_str(out),
        "--format".into(),
        "json".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(&plumsim(&args), "run");
}

/// The browser, or None (with a plain note) when it is not installed; under CI its absence
/// is a failure.
fn chromium(what: &str) -> Option<PathBuf> {
    let p = PathBuf::from(CHROMIUM);
    if p.is_file() {
        return Some(p);
    }
    assert!(
        !ci(),
        "CI=true but {CHROMIUM} is missing: {what} cannot be skipped in CI (apt-get install -y chromium)"
    );
    println!("skipping {what}: {CHROMIUM} is not installed (apt-get install -y chromium)");
    None
}

/// Run headless Chromium on `url` with `extra` flags (a fresh profile each time), killed
/// after 90 s.
fn browse(bin: &Path, extra: &[String], url: &str) -> Output {
    let profile = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(format!("--user-data-dir={}", profile.path().display()));
    args.extend(extra.iter().cloned());
    args.push(url.to_string());
    let mut child = Command::new(bin)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    // Both pipes are drained while the browser runs (a DOM larger than a pipe's buffer
    // would otherwise block it).
    let drain = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            panic!("chromium did not finish on {url} within 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

fn url(page: &Path, fragment: &str) -> String {
    format!("file://{}{fragment}", page.display())
}

/// The DOM after the page's script ran.
fn dom(bin: &Path, page: &Path, fragment: &str) -> String {
    let o = browse(
        bin,
        &[
            "--run-all-compositor-stages-before-draw".into(),
            "--virtual-time-budget=3000".into(),
            "--dump-dom".into(),
        ],
        &url(page, fragment),
    );
    let d = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        d.contains("</html>"),
        "no DOM from chromium for {}: {}",
        page.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    d
}

/// Screenshot `page` and check it is not blank: many colours, a fair share not white.
fn screenshot(bin: &Path, page: &Path, png: &Path) {
    let o = browse(
        bin,
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1280,2000".into(),
        ],
        &url(page, ""),
    );
    assert!(
        png.is_file(),
        "no screenshot of {}: {}",
        page.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    let decoder = png::Decoder::new(std::fs::File::open(png).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    assert!(channels >= 3, "{:?}", info.color_type);
    let px = &buf[..info.buffer_size()];
    let mut colours = std::collections::HashSet::new();
    let mut not_white = 0usize;
    let n = px.len() / channels;
    for p in px.chunks(channels) {
        colours.insert((p[0], p[1], p[2]));
        if p[0] < 240 || p[1] < 240 || p[2] < 240 {
            not_white += 1;
        }
    }
    assert!(
        (info.width, info.height) == (1280, 2000),
        "{}x{}",
        info.width,
        info.height
    );
    assert!(
        colours.len() > 200,
        "{}: only {} colours",
        png.display(),
        colours.len()
    );
    let share = not_white as f64 / n as f64;
    assert!(
        share > 0.10,
        "{}: {:.1}% of the pixels are not white",
        png.display(),
        100.0 * share
    );
}

/// The rows of table `id` in a DOM: each row's cells' text (tags stripped).
fn table_rows(dom: &str, id: &str) -> Vec<Vec<String>> {
    let start = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no table {id}"));
    let body = &dom[start..];
    let body = &body[body.find("<tbody>").expect("a tbody")..];
    let body = &body[..body.find("</tbody>").expect("its end")];
    body.split("<tr")
        .skip(1)
        .map(|tr| {
            tr.split("<td")
                .skip(1)
                .map(|td| {
                    let inner = &td[td.find('>').unwrap() + 1..];
                    let inner = &inner[..inner.find("</td>").unwrap_or(inner.len())];
                    unescape(&strip_tags(inner))
                })
                .collect()
        })
        .collect()
}

/// Text without its tags (`<wbr>` break hints, `<b>`).
fn strip_tags(s: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in s.chars() {
        match c {
            '<' => inside = true,
            '>' if inside => inside = false,
            c if !inside => out.push(c),
            _ => {}
        }
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The header of table `id`: its columns' `data-col` names, and the `aria-sort` of each.
fn table_heads(dom: &str, id: &str) -> Vec<(String, Option<String>)> {
    let start = dom.find(&format!("id=\"{id}\"")).unwrap();
    let head = &dom[start..];
    let head = &head[..head.find("</thead>").unwrap()];
    head.split("<th")
        .skip(1)
        .map(|th| {
            let tag = &th[..th.find('>').unwrap()];
            let attr = |a: &str| {
                tag.find(&format!("{a}=\"")).map(|i| {
                    let v = &tag[i + a.len() + 2..];
                    v[..v.find('"').unwrap()].to_string()
                })
            };
            (attr("data-col").unwrap_or_default(), attr("aria-sort"))
        })
        .collect()
}

fn report(target: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["report", target.to_str().unwrap()];
    args.extend_from_slice(extra);
    plumsim(&args)
}

/// The page must not reach for anything outside itself.
fn self_contained(html: &str) {
    for bad in ["<link", "src=", "@import", "url(", "https://"] {
        assert!(!html.contains(bad), "the page holds `{bad}`");
    }
    let http: Vec<&str> = html.matches("http://").collect();
    assert_eq!(
        http.len(),
        html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count(),
        "only the SVG namespace may name an address"
    );
}

/// Shipped inputs, small enough for seconds: ResNet-8 on CIFAR-10.
const WORKLOAD: &str = "workloads/resnet8_cifar10.json";

#[test]
fn a_run_report_shows_the_summary_charts_and_every_layer_sortable() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    ok(
        &plumsim(&[
            "run",
            &abs("arch/swis_pe16.toml"),
            &abs(WORKLOAD),
            "--out",
            out.to_str().unwrap(),
            "--format",
            "json",
        ]),
        "run",
    );
    let o = report(&out, &[]);
    ok(&o, "report");
    let page = out.join("report.html");
    let html = read(&page);
    self_contained(&html);
    // The same folder gives the same bytes.
    ok(&report(&out, &[]), "report again");
    assert_eq!(read(&page), html, "the page is not deterministic");
    let layers = rows(&read(&out.join("layers.csv")));
    assert!(html.contains(&format!("plumsim {}", env!("CARGO_PKG_VERSION"))));
    assert!(html.contains("resnet8_cifar10") && html.contains("swis_pe16"));
    // Key figures are scaled to their unit.
    let summary: serde_json::Value =
        serde_json::from_str(&read(&out.join("summary.json"))).unwrap();
    use plumsim::report_html::format::Quantity;
    for shown in [
        Quantity::TimeUs.show(summary["latency_us"].as_f64().unwrap()),
        Quantity::EnergyPj.show(summary["energy_pj"].as_f64().unwrap()),
    ] {
        assert!(
            html.contains(&format!("<div class=\"v\">{shown}</div>")),
            "no key figure {shown}"
        );
    }
    assert!(
        html.contains("mm²") && html.contains("MHz"),
        "units on the key figures"
    );

    let Some(bin) = chromium("the browser checks of the run report") else {
        return;
    };
    let png = dir.path().join("run.png");
    screenshot(&bin, &page, &png);
    keep_screenshot(&png, "run");
    let d = dom(&bin, &page, "");
    assert!(
        d.matches("<svg").count() >= 3,
        "energy by component, energy per layer, cycles per layer"
    );
    let shown = table_rows(&d, "layers");
    assert_eq!(shown.len(), layers.len(), "one table row per layer");
    assert_eq!(shown[0][0], layers[0]["layer"], "unsorted: network order");

    // Sorted by address: descending total cycles puts the slowest layer first.
    let d = dom(&bin, &page, "#sort=-total_cycles");
    let shown = table_rows(&d, "layers");
    let cycles = |name: &str| -> u64 {
        layers.iter().find(|r| r["layer"] == name).unwrap()["total_cycles"]
            .parse()
            .unwrap()
    };
    let max = layers
        .iter()
        .map(|r| r["total_cycles"].parse::<u64>().unwrap())
        .max()
        .unwrap();
    assert_eq!(cycles(&shown[0][0]), max, "{:?}", shown[0]);
    let seq: Vec<u64> = shown.iter().map(|r| cycles(&r[0])).collect();
    assert!(
        seq.windows(2).all(|w| w[0] >= w[1]),
        "not descending: {seq:?}"
    );
    let heads = table_heads(&d, "layers");
    let sorted: Vec<&(String, Option<String>)> =
        heads.iter().filter(|(_, s)| s.is_some()).collect();
    assert_eq!(
        sorted,
        [&("total_cycles".to_string(), Some("descending".to_string()))]
    );
    // Clicks on a header sort its table, then the other way, and the address follows. The
    // page is driven from a harness page of this test (file pages may reach each other with
    // --allow-file-access-from-files); the report itself has no test hook.
    let harness = dir.path().join("harness.html");
    std::fs::write(&harness, CLICK_HARNESS.replace("REPORT", &url(&page, ""))).unwrap();
    let o = browse(
        &bin,
        &[
            "--allow-file-access-from-files".into(),
            "--run-all-compositor-stages-before-draw".into(),
            "--virtual-time-budget=5000".into(),
            "--dump-dom".into(),
        ],
        &url(&harness, ""),
    );
    let d = String::from_utf8_lossy(&o.stdout).into_owned();
    let tag = "<pre id=\"out\">";
    let start = d.find(tag).expect("the harness's output") + tag.len();
    let lines: Vec<&str> = d[start..d[start..].find("</pre>").unwrap() + start]
        .lines()
        .collect();
    let energy: Vec<f64> = layers
        .iter()
        .map(|r| r["energy_pj"].parse().unwrap())
        .collect();
    for (line, sense, hash) in [
        (lines[0], "ascending", "#sort=energy_pj"),
        (lines[1], "descending", "#sort=-energy_pj"),
    ] {
        let words: Vec<&str> = line.split(' ').collect();
        assert_eq!(&words[..2], [sense, hash], "{lines:?}");
        let shown: Vec<f64> = words[2].split(',').map(|v| v.parse().unwrap()).collect();
        let mut want = energy.clone();
        want.sort_by(f64::total_cmp);
        if sense == "descending" {
            want.reverse();
        }
        assert_eq!(shown, want, "{sense}");
    }
    // Ascending by name, text compared with numbers in order (conv2 before conv10).
    let d = dom(&bin, &page, "#sort=layer");
    let names: Vec<String> = table_rows(&d, "layers")
        .iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(names.len(), layers.len());
    assert_ne!(
        names,
        layers
            .iter()
            .map(|r| r["layer"].clone())
            .collect::<Vec<_>>(),
        "sorting by name changes the order"
    );
}

/// Clicks the energy header of the report's layer table twice; after each click, one line:
/// the header's aria-sort, the page's address fragment and the column's values in row order.
const CLICK_HARNESS: &str = r#"<!DOCTYPE html>
<html><body><pre id="out">no result</pre>
<iframe id="f" src="REPORT" width="1200" height="800"></iframe>
<script>
document.getElementById("f").addEventListener("load", function () {
  var out = [];
  try {
    var w = this.contentWindow, t = this.contentDocument.getElementById("layers");
    var heads = t.tHead.rows[0].cells, k = -1;
    for (var i = 0; i < heads.length; i++) {
      if (heads[i].getAttribute("data-col") === "energy_pj") { k = i; }
    }
    for (var n = 0; n < 2; n++) {
      heads[k].querySelector("button").click();
      var v = [], rows = t.tBodies[0].rows;
      for (var r = 0; r < rows.length; r++) { v.push(rows[r].cells[k].getAttribute("data-v")); }
      out.push(heads[k].getAttribute("aria-sort") + " " + w.location.hash + " " + v.join(","));
    }
  } catch (e) { out.push("error " + e); }
  document.getElementById("out").textContent = out.join("\n");
});
</script></body></html>
"#;

/// Keep a screenshot for a person to look at when PLUMSIM_KEEP_SCREENSHOTS names a folder.
fn keep_screenshot(png: &Path, name: &str) {
    if let Ok(dir) = std::env::var("PLUMSIM_KEEP_SCREENSHOTS") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(png, Path::new(&dir).join(format!("{name}.png"))).unwrap();
    }
}

#[test]
fn a_compare_report_lists_every_design_with_its_charts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cmp");
    let o = plumsim(&[
        "compare",
        &abs(WORKLOAD),
        &abs("arch/dense_pe16.toml"),
        &abs("arch/swis_pe16.toml"),
        &abs("arch/bitserial_pe16.toml"),
        &abs("arch/ternary_pe16.toml"),
        "--out",
        out.to_str().unwrap(),
    ]);
    ok(&o, "compare");
    ok(&report(&out, &[]), "report");
    let page = out.join("report.html");
    let html = read(&page);
    self_contained(&html);
    let designs = rows(&read(&out.join("compare.csv")));
    for d in &designs {
        assert!(html.contains(&d["design"]), "{}", d["design"]);
    }
    let Some(bin) = chromium("the browser checks of the compare report") else {
        return;
    };
    let png = dir.path().join("compare.png");
    screenshot(&bin, &page, &png);
    keep_screenshot(&png, "compare");
    let d = dom(&bin, &page, "#sort=energy_uj");
    assert!(d.matches("<svg").count() >= 2, "energy and latency charts");
    let shown = table_rows(&d, "designs");
    assert_eq!(shown.len(), designs.len(), "one row per design");
    let energy = |name: &str| -> f64 {
        designs.iter().find(|r| r["design"] == name).unwrap()["energy_uj"]
            .parse()
            .unwrap()
    };
    let seq: Vec<f64> = shown.iter().map(|r| energy(&r[0])).collect();
    assert!(
        seq.windows(2).all(|w| w[0] <= w[1]),
        "not ascending: {seq:?}"
    );
}

#[test]
fn a_sweep_report_draws_the_front_and_lists_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(
        dir.path(),
        "space.toml",
        &format!(
            r#"base = ["{dense}", "{swis}"]
workloads = ["{wl}"]
[axes]
"array.rows" = [8, 16, 0]
"array.cols" = [8, 16]
"#,
            dense = abs("arch/dense_pe16.toml"),
            swis = abs("arch/swis_pe16.toml"),
            wl = abs(WORKLOAD),
        ),
    );
    let folder = dir.path().join("sweep");
    std::fs::create_dir(&folder).unwrap();
    let csv = folder.join("space.csv");
    ok(&common::sweep(&spec, &csv, &["--jobs", "2"]), "sweep");
    // The folder and the CSV both name the sweep; the CSV's page goes beside it.
    ok(&report(&folder, &[]), "report on the folder");
    ok(&report(&csv, &[]), "report on the CSV");
    let page = folder.join("report.html");
    let beside = folder.join("space_report.html");
    let html = read(&page);
    self_contained(&html);
    assert_eq!(
        read(&beside).replace(&path_str(&csv), "X"),
        html.replace(&path_str(&folder), "X"),
        "one page, whichever path names the sweep"
    );
    let all = rows(&read(&csv));
    let okay: Vec<_> = all.iter().filter(|r| r["status"] == "ok").collect();
    let failed = all.len() - okay.len();
    assert!(failed > 0 && !okay.is_empty(), "rows = 0 is invalid");
    // The front the page lists is the library's front of latency and energy.
    let t = plumsim::table::Table::parse(&read(&csv), "space.csv")
        .unwrap()
        .select(&[], "space.csv")
        .unwrap();
    let front = plumsim::pareto::front_rows(
        &t,
        &[
            ("latency_us".into(), plumsim::pareto::Sense::Minimize),
            ("energy_pj".into(), plumsim::pareto::Sense::Minimize),
        ],
        Some("workload"),
        "space.csv",
    )
    .unwrap();
    assert!(!front.is_empty());

    let Some(bin) = chromium("the browser checks of the sweep report") else {
        return;
    };
    let png = dir.path().join("sweep.png");
    screenshot(&bin, &page, &png);
    keep_screenshot(&png, "sweep");
    let d = dom(&bin, &page, "");
    assert!(d.matches("<svg").count() >= 1, "the front chart");
    assert!(
        d.matches("<circle").count() >= okay.len(),
        "a marker per evaluated row"
    );
    let shown = table_rows(&d, "front-rows");
    let mut ids: Vec<String> = shown.iter().map(|r| r[0].clone()).collect();
    let mut want: Vec<String> = front.iter().map(|&i| t.rows[i][0].clone()).collect();
    ids.sort();
    want.sort();
    assert_eq!(ids, want, "the front's points");
    assert_eq!(table_rows(&d, "points").len(), okay.len());
    assert_eq!(table_rows(&d, "failed").len(), failed);
}

#[test]
fn names_from_files_are_text_on_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = "<img src=x onerror=alert(1)><script>alert('x')</script>&amp;";
    let wl = read(&root().join("tests/fixtures/workloads/tiny_conv.json"))
        .replace(
            "\"name\": \"conv\"",
            &format!("\"name\": {}", serde_json::to_string(hostile).unwrap()),
        )
        .replace(
            "\"name\": \"tiny_conv\"",
            "\"name\": \"</title><script>alert(2)</script>\"",
        );
    let wl_path = dir.path().join("w.json");
    std::fs::write(&wl_path, wl).unwrap();
    let out = dir.path().join("run");
    ok(
        &plumsim(&[
            "run",
            &abs("arch/dense_pe16.toml"),
            wl_path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--format",
            "json",
        ]),
        "run",
    );
    ok(&report(&out, &[]), "report");
    let html = read(&out.join("report.html"));
    assert_eq!(
        html.matches("<script").count(),
        1,
        "only the page's own script"
    );
    assert!(!html.contains("<img"), "no markup from the layer name");
    assert!(!html.contains("</title><script"));
    let Some(bin) = chromium("the browser check of escaped names") else {
        return;
    };
    let d = dom(&bin, &out.join("report.html"), "");
    let shown = table_rows(&d, "layers");
    assert_eq!(shown[0][0], hostile, "the name is shown as written");
}

#[test]
fn bad_folders_exit_2_naming_the_file_and_leave_no_page() {
    let dir = tempfile::tempdir().unwrap();
    let expect_2 = |target: &Path, needles: &[&str]| {
        let o = report(target, &[]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let e = stderr(&o);
        for n in needles {
            assert!(e.contains(n), "`{n}` not in: {e}");
        }
        assert!(!o.status.success());
    };
    let missing = dir.path().join("nope");
    expect_2(&missing, &["nope", "no such file or folder"]);
    assert!(!missing.exists());

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    std::fs::write(empty.join("notes.csv"), "a,b\n1,2\n").unwrap();
    expect_2(&empty, &["empty", "holds no results", "summary.json"]);
    assert!(!empty.join("report.html").exists());

    // A run folder whose files are broken: each refusal names its file.
    let out = dir.path().join("run");
    run_tiny(&out, &[]);
    let summary = read(&out.join("summary.json"));
    let layers = read(&out.join("layers.csv"));
    std::fs::write(out.join("summary.json"), &summary[..summary.len() / 2]).unwrap();
    expect_2(&out, &["summary.json"]);
    std::fs::write(
        out.join("summary.json"),
        summary.replace("\"energy_pj\"", "\"energy\""),
    )
    .unwrap();
    expect_2(&out, &["summary.json", "energy_pj"]);
    std::fs::write(out.join("summary.json"), &summary).unwrap();
    std::fs::write(
        out.join("layers.csv"),
        layers.replacen("total_cycles", "cycles", 1),
    )
    .unwrap();
    expect_2(&out, &["layers.csv", "total_cycles"]);
    let mut lines: Vec<String> = layers.lines().map(str::to_string).collect();
    let col = lines[0].split(',').position(|c| c == "energy_pj").unwrap();
    let mut cells: Vec<String> = lines[1].split(',').map(str::to_string).collect();
    cells[col] = "lots".into();
    lines[1] = cells.join(",");
    std::fs::write(out.join("layers.csv"), lines.join("\n") + "\n").unwrap();
    expect_2(&out, &["layers.csv:2", "energy_pj", "lots"]);
    std::fs::write(
        out.join("layers.csv"),
        layers.lines().take(2).collect::<Vec<_>>().join("\n") + "\n",
    )
    .unwrap();
    expect_2(&out, &["layers.csv", "not from one run"]);
    std::fs::remove_file(out.join("layers.csv")).unwrap();
    expect_2(&out, &["layers.csv", "missing"]);
    assert!(!out.join("report.html").exists());

    // A compare.csv that is not one.
    let cmp = dir.path().join("cmp");
    std::fs::create_dir(&cmp).unwrap();
    std::fs::write(cmp.join("compare.csv"), "design,pe_kind\nx,dense\n").unwrap();
    expect_2(&cmp, &["compare.csv", "latency_us"]);
    assert!(!cmp.join("report.html").exists());

    // A CSV that is not a sweep's, named directly.
    let other = dir.path().join("other.csv");
    std::fs::write(&other, "a,b\n1,2\n").unwrap();
    expect_2(&other, &["other.csv", "point"]);
    assert!(!dir.path().join("other_report.html").exists());
}

#[test]
fn a_run_on_real_inputs_shows_its_fidelity() {
    use npyz::WriterBuilder;
    let dir = tempfile::tempdir().unwrap();
    let x = dir.path().join("x.npy");
    let data: Vec<f32> = (0..2 * 4 * 8 * 8)
        .map(|i| ((i * 37 % 23) as f32 - 11.0) / 7.0)
        .collect();
    let mut w = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&[2, 4, 8, 8])
        .writer(std::io::BufWriter::new(std::fs::File::create(&x).unwrap()))
        .begin_nd()
        .unwrap();
    w.extend(data.iter().copied()).unwrap();
    w.finish().unwrap();
    let out = dir.path().join("run");
    run_tiny(&out, &["--inputs", x.to_str().unwrap()]);
    ok(&report(&out, &[]), "report");
    let html = read(&out.join("report.html"));
    let fidelity = rows(&read(&out.join("fidelity.csv")));
    assert_eq!(table_rows(&html, "fidelity").len(), fidelity.len());
    assert!(html.contains("Top-1 agreement with fp32"));
    assert!(html.contains("<li><code>fidelity.csv</code></li>"));
}

#[test]
fn a_new_run_removes_the_page_of_the_old_results() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let run = || run_tiny(&out, &[]);
    run();
    ok(&report(&out, &[]), "report");
    assert!(out.join("report.html").is_file());
    run();
    assert!(
        !out.join("report.html").exists(),
        "a page of the old results beside the new ones"
    );
    // A folder the user shares with other files keeps them; the stale page still goes.
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    ok(&report(&out, &[]), "report");
    run();
    assert!(out.join("notes.txt").is_file() && !out.join("report.html").exists());
}
