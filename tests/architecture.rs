//! The code's shape, checked: no dependency circles between the library's modules, and no
//! file access outside the IO edge (`io`; the binary's `cli`). See ARCHITECTURE.md.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

mod common;

/// Library modules (`sim/`, minus the binary and the benchmarks) by path, with their text
/// (comments and unit tests stripped).
fn modules() -> BTreeMap<Vec<String>, String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let root = common::root().join("sim");
    let mut files = Vec::new();
    walk(&root, &mut files);
    let mut mods = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(&root).unwrap().with_extension("");
        let mut parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if ["cli", "benches", "main", "lib"].contains(&parts[0].as_str()) {
            continue;
        }
        if parts.last().is_some_and(|p| p == "mod") {
            parts.pop();
        }
        let text = std::fs::read_to_string(&f).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        let code: String = code
            .lines()
            .map(|l| l.split("//").next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n");
        mods.insert(parts, code);
    }
    mods
}

/// The longest module prefix of `path`.
fn resolve(mods: &BTreeMap<Vec<String>, String>, path: &[String]) -> Option<Vec<String>> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|p| mods.contains_key(p))
}

/// Identifiers after `prefix` (`crate::a::b`, `super::x`), with `{a, b}` groups expanded one
/// level.
fn references(code: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    for (i, _) in code.match_indices(prefix) {
        if code[..i].chars().next_back().is_some_and(ident) {
            continue;
        }
        let rest = &code[i + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `crate::{a::X, b::Y}`: each item is a path of its own.
            let mut depth = 0usize;
            let mut end = group.len();
            for (j, ch) in group.char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        end = j;
                        break;
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            let mut item = String::new();
            let mut depth = 0usize;
            for ch in group[..end].chars().chain([',']) {
                match ch {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        let segs: Vec<String> = item
                            .split("::")
                            .map(|x| x.trim().to_string())
                            .take_while(|x| !x.is_empty() && x.chars().all(ident))
                            .collect();
                        if !segs.is_empty() {
                            out.push(segs);
                        }
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(ch);
            }
            continue;
        }
        let mut segs = Vec::new();
        let mut s = rest;
        loop {
            let end = s.find(|c: char| !ident(c)).unwrap_or(s.len());
            if end == 0 {
                break;
            }
            segs.push(s[..end].to_string());
            s = &s[end..];
            if let Some(t) = s.strip_prefix("::") {
                if let Some(group) = t.strip_prefix('{') {
                    let close = group.find('}').unwrap_or(group.len());
                    for item in group[..close].split(',') {
                        let item = item.trim().split("::").next().unwrap_or("").trim();
                        if !item.is_empty() {
                            let mut v = segs.clone();
                            v.push(item.to_string());
                            out.push(v);
                        }
                    }
                    break;
                }
                s = t;
            } else {
                break;
            }
        }
        out.push(segs);
    }
    out
}

/// Module -> modules it uses, at the first `depth` path segments.
fn graph(depth: usize) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let mods = modules();
    let cut = |p: &[String]| p[..p.len().min(depth)].to_vec();
    let mut g: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (m, code) in &mods {
        let mut deps = BTreeSet::new();
        for r in references(code, "crate::") {
            deps.extend(resolve(&mods, &r));
        }
        let parent = &m[..m.len() - 1];
        for r in references(code, "super::") {
            let mut p = parent.to_vec();
            p.extend(r);
            deps.extend(resolve(&mods, &p));
        }
        let from = cut(m);
        let entry = g.entry(from.clone()).or_default();
        for d in deps {
            let to = cut(&d);
            // A module and its own submodules are one unit at this depth.
            if !to.starts_with(&from) && !from.starts_with(&to) {
                entry.insert(to);
            }
        }
    }
    g
}

/// A cycle of `g`, if there is one (depth-first search).
fn find_cycle(g: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Option<Vec<String>> {
    fn visit(
        v: &Vec<String>,
        g: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        state: &mut BTreeMap<Vec<String>, u8>,
        stack: &mut Vec<Vec<String>>,
    ) -> Option<Vec<String>> {
        state.insert(v.clone(), 1);
        stack.push(v.clone());
        for w in g.get(v).into_iter().flatten() {
            match state.get(w).copied().unwrap_or(0) {
                0 => {
                    if let Some(c) = visit(w, g, state, stack) {
                        return Some(c);
                    }
                }
                1 => {
                    let at = stack.iter().position(|x| x == w).unwrap();
                    let mut c: Vec<String> = stack[at..].iter().map(|p| p.join("::")).collect();
                    c.push(w.join("::"));
                    return Some(c);
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(v.clone(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for v in g.keys() {
        if state.get(v).copied().unwrap_or(0) == 0 {
            if let Some(c) = visit(v, g, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn no_dependency_circles_between_modules() {
    for depth in [1, 2, 3] {
        let g = graph(depth);
        assert!(g.len() > 10, "found only {} modules", g.len());
        if let Some(c) = find_cycle(&g) {
            panic!(
                "modules depend on each other in a circle: {}",
                c.join(" -> ")
            );
        }
    }
}

#[test]
fn the_checker_finds_a_circle() {
    let mut g: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    let m = |s: &str| vec![s.to_string()];
    g.entry(m("a")).or_default().insert(m("b"));
    g.entry(m("b")).or_default().insert(m("c"));
    g.entry(m("c")).or_default().insert(m("a"));
    assert_eq!(find_cycle(&g).unwrap(), vec!["a", "b", "c", "a"]);
    g.get_mut(&m("c")).unwrap().clear();
    assert_eq!(find_cycle(&g), None);
    assert_eq!(
        references(
            "use crate::{arch::Arch, engine::{self, Actions}};",
            "crate::"
        ),
        vec![
            vec!["arch".to_string(), "Arch".into()],
            vec!["engine".to_string()],
        ]
    );
    assert_eq!(
        references("use crate::engine::{reference, LayerResult};", "crate::"),
        vec![
            vec!["engine".to_string(), "reference".into()],
            vec!["engine".into(), "LayerResult".into()],
            vec!["engine".into()],
        ]
    );
}

#[test]
fn only_the_io_edge_touches_files() {
    for (m, code) in modules() {
        if m[0] == "io" {
            continue;
        }
        for needle in [
            "std::fs",
            "File::",
            "fs::read",
            "fs::write",
            "OpenOptions",
            ".is_file()",
            ".is_dir()",
            ".exists()",
            "metadata(",
            "read_dir(",
            "canonicalize(",
        ] {
            assert!(
                !code.contains(needle),
                "sim/{} uses `{needle}`: file access belongs in sim/io (the core does no IO)",
                m.join("/")
            );
        }
    }
}
