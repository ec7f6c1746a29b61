//! Writing results: all or nothing, never through a planted symlink, never outside the folder
//! the user named (or the documented default).
//!
//! Every result file is first written into a private staging folder created exclusively
//! inside its final folder's parent (`.plumsim-stage-<pid>-<random>`, mode 0700 on unix): its
//! name cannot be predicted and `mkdir` fails on anything already there, a symlink included,
//! so no pre-existing path is ever followed. Files inside it are created with `create_new`.
//! Only when every file of the run is written are they moved into place:
//!
//! - a **result folder** ([`write_result_dir`]: `run`, `compare`, `quantize`) that is new or
//!   holds only this command's results is replaced as a whole: the staged folder is renamed
//!   onto the target (an atomic exchange where the platform has one), so old and new results
//!   are never mixed; the old folder is removed. A folder that holds other files too (`--out
//!   .`) keeps them: the results are staged inside it, renamed over their old files, and this
//!   command's stale files (a `fidelity.csv` the new run does not write) removed. An entry in
//!   the way (a folder named `summary.json`) is refused before any work ([`check_result_dir`]);
//! - **single files** ([`write_all_atomic`]: sweeps, merges, plots, imports, `reproduce`) are
//!   each renamed over their target; a rename replaces a symlink rather than following it.
//!
//! A staging folder left by a killed run is removed by the next run that writes beside it,
//! once its process (by the pid in its name) is gone.

use std::collections::{BTreeMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};

use crate::error::{Error, Problem, Result};

const STAGE: &str = ".plumsim-stage-";
const OLD: &str = ".plumsim-old-";

fn io(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        source,
    }
}

fn refuse(path: &Path, message: impl Into<String>, help: impl Into<String>) -> Error {
    Error::invalid(
        path.display().to_string(),
        vec![Problem::new("output", message).with_help(help)],
    )
}

/// A name written inside an input file (a design, workload, run or layer name) as one file-name
/// component: ASCII letters, digits, `.`, `-` and `_` are kept, anything else (a path
/// separator, `..`, a NUL) becomes `_`; leading dots become `_` too, so the result is never
/// hidden, never `.` or `..`, never empty, and at most 120 bytes.
pub fn file_component(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.starts_with('.') {
        s = s.replacen('.', "_", 1);
    }
    if s.is_empty() {
        s.push('_');
    }
    s.truncate(120);
    s
}

/// File-name stems for `names`, one per name, [`file_component`]s made unique: a stem that
/// another name already took (compared without case, as on case-insensitive file systems)
/// gets `~2`, `~3`, ... appended.
pub fn unique_stems<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut taken = HashSet::new();
    names
        .into_iter()
        .map(|n| {
            let base = file_component(n);
            let mut stem = base.clone();
            let mut k = 2;
            while !taken.insert(stem.to_ascii_lowercase()) {
                stem = format!("{base}~{k}");
                k += 1;
            }
            stem
        })
        .collect()
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Check, before any work, that `path` can take a result file: it is not a folder, and its
/// folder exists or can be created.
pub fn check_file_target(path: &Path) -> Result<()> {
    if path.as_os_str().is_empty() || path.file_name().is_none() {
        return Err(refuse(
            path,
            "names no file",
            "give a file path, e.g. results/x.csv",
        ));
    }
    if let Ok(m) = std::fs::symlink_metadata(path) {
        if m.is_dir() {
            return Err(refuse(
                path,
                "is a folder, and the output is one file",
                "give a file path, e.g. DIR/result.csv",
            ));
        }
    }
    check_parent(&parent_of(path))
}

/// Check, before any work, that files can be written into the folder `dir` (one that may
/// hold other files too, such as `results/`): it is a folder or can be created.
pub fn check_dir_target(dir: &Path) -> Result<()> {
    match std::fs::metadata(dir) {
        Ok(m) if !m.is_dir() => Err(refuse(
            dir,
            "is a file, and the output is a folder",
            "give a folder path",
        )),
        _ => check_parent(dir),
    }
}

fn check_parent(dir: &Path) -> Result<()> {
    // The nearest existing ancestor must be a folder (a file in the way cannot be created
    // through).
    let mut p = dir.to_path_buf();
    loop {
        match std::fs::metadata(&p) {
            Ok(m) if m.is_dir() => return Ok(()),
            Ok(_) => {
                return Err(refuse(
                    &p,
                    "is a file where a folder of the output path must be",
                    "choose an output path whose folders are folders",
                ))
            }
            Err(_) => match p.parent() {
                Some(q) if !q.as_os_str().is_empty() => p = q.to_path_buf(),
                _ => return Ok(()),
            },
        }
    }
}

/// How a result folder is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The folder does not exist, or holds only this command's results: it is replaced as a
    /// whole.
    Replace,
    /// The folder holds other entries too (a user's files, a symlinked folder): this command's
    /// files are renamed over theirs one by one, its stale ones removed, nothing else touched.
    Merge,
}

/// Check, before any work, that the folder `dir` can take this command's results (whose file
/// names `owns` accepts): it does not exist yet (its parent can be created), or it is a
/// folder in which no entry this command would write is anything but a regular file (a
/// folder named `summary.json` is refused: a file cannot replace it).
pub fn check_result_dir(dir: &Path, owns: &dyn Fn(&str) -> bool) -> Result<()> {
    result_dir_mode(dir, owns).map(|_| ())
}

fn result_dir_mode(dir: &Path, owns: &dyn Fn(&str) -> bool) -> Result<Mode> {
    let link = match std::fs::symlink_metadata(dir) {
        Err(_) => {
            check_parent(&parent_of(dir))?;
            return Ok(Mode::Replace);
        }
        Ok(m) => m.file_type().is_symlink(),
    };
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        _ => {
            return Err(refuse(
                dir,
                "is not a folder, and the output is a folder",
                "give a folder path, e.g. results/run/NAME",
            ))
        }
    }
    let entries = std::fs::read_dir(dir).map_err(|e| io(dir, e))?;
    let mut foreign = link;
    for e in entries {
        let e = e.map_err(|e| io(dir, e))?;
        let name = e.file_name().to_string_lossy().into_owned();
        let is_file = e.file_type().map(|t| t.is_file()).unwrap_or(false);
        if owns(&name) && !is_file {
            return Err(refuse(
                &dir.join(&name),
                "is in the way: this command writes a file of that name, and this is not a file",
                "move it away, or choose another folder with --out",
            ));
        }
        foreign |= !owns(&name);
    }
    Ok(if foreign { Mode::Merge } else { Mode::Replace })
}

fn random_suffix() -> String {
    // std's RandomState is seeded from the operating system's random source per process.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    format!("{:016x}", h.finish())
}

/// Whether the process with this pid is alive (unknown: assumed alive).
fn alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let proc = Path::new("/proc");
    if !proc.is_dir() {
        return true;
    }
    proc.join(pid.to_string()).exists()
}

/// Remove staging and old-result folders that dead plumsim processes left in `dir`.
fn clean_stale(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(STAGE).or_else(|| name.strip_prefix(OLD)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        // Only real folders (never a symlink) of processes that are gone.
        let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
        if is_dir && !alive(pid) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// A private staging folder, removed when dropped unless its contents were moved away.
struct Stage {
    dir: PathBuf,
}

impl Stage {
    fn new(parent: &Path) -> Result<Stage> {
        std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        clean_stale(parent);
        let dir = parent.join(format!("{STAGE}{}-{}", std::process::id(), random_suffix()));
        let mut b = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(&dir).map_err(|e| io(&dir, e))?;
        Ok(Stage { dir })
    }

    fn write(&self, name: &str, bytes: &[u8]) -> Result<PathBuf> {
        use std::io::Write;
        let path = self.dir.join(name);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).map_err(|e| io(p, e))?;
        }
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| io(&path, e))?;
        f.write_all(bytes).map_err(|e| io(&path, e))?;
        Ok(path)
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Atomically exchange two paths where the platform can (Linux `renameat2`), else report
/// that it cannot.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let (Ok(ca), Ok(cb)) = (
        std::ffi::CString::new(a.as_os_str().as_bytes()),
        std::ffi::CString::new(b.as_os_str().as_bytes()),
    ) else {
        return false;
    };
    // SAFETY: both are valid NUL-terminated paths; renameat2 touches no memory of ours.
    unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        ) == 0
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> bool {
    false
}

/// A result folder written in full beside its target (or, for a folder holding other files,
/// inside it), not yet moved into place.
pub struct StagedDir {
    stage: Stage,
    dir: PathBuf,
    parent: PathBuf,
    mode: Mode,
    names: Vec<String>,
    /// In a merge: this command's old files the run does not write again.
    stale: Vec<PathBuf>,
}

/// Stage a result folder: `files` (names relative to `dir`, checked: plain, unique even
/// without case) are written into a private folder. `owns` is the predicate
/// [`check_result_dir`] was given (checked again here, so a folder that changed during the
/// run is still never clobbered). Nothing is visible until [`StagedDir::commit`].
pub fn stage_result_dir(
    dir: &Path,
    files: &[(String, Vec<u8>)],
    owns: &dyn Fn(&str) -> bool,
) -> Result<StagedDir> {
    let mode = result_dir_mode(dir, owns)?;
    check_names(dir, files.iter().map(|(n, _)| n.as_str()))?;
    let parent = parent_of(dir);
    // A merge renames file by file inside `dir`, so the stage lives there (the same file
    // system, whatever `dir` links to).
    let stage = Stage::new(if mode == Mode::Replace { &parent } else { dir })?;
    for (name, bytes) in files {
        stage.write(name, bytes)?;
    }
    let names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    let mut stale = Vec::new();
    if mode == Mode::Merge {
        let keep: HashSet<&str> = names.iter().map(String::as_str).collect();
        for e in std::fs::read_dir(dir).map_err(|e| io(dir, e))?.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let is_file = e.file_type().map(|t| t.is_file()).unwrap_or(false);
            if is_file && owns(&name) && !keep.contains(name.as_str()) {
                stale.push(e.path());
            }
        }
    }
    Ok(StagedDir {
        stage,
        dir: dir.to_path_buf(),
        parent,
        mode,
        names,
        stale,
    })
}

impl StagedDir {
    /// Move the staged results into place: a folder of this command's own results is
    /// replaced as a whole (an atomic exchange where the platform has one) and the old one
    /// removed; in a folder holding other files, each result is renamed over its old file
    /// and this command's files the run did not write again are removed.
    pub fn commit(self) -> Result<()> {
        let StagedDir {
            stage,
            dir,
            parent,
            mode,
            names,
            stale,
        } = self;
        if mode == Mode::Merge {
            for n in &names {
                let target = dir.join(n);
                if let Some(p) = target.parent() {
                    std::fs::create_dir_all(p).map_err(|e| io(p, e))?;
                }
                std::fs::rename(stage.dir.join(n), &target).map_err(|e| io(&target, e))?;
            }
            for p in stale {
                let _ = std::fs::remove_file(p);
            }
            return Ok(());
        }
        if std::fs::symlink_metadata(&dir).is_err() {
            std::fs::rename(&stage.dir, &dir).map_err(|e| io(&dir, e))?;
            std::mem::forget(stage);
            return Ok(());
        }
        if exchange(&stage.dir, &dir) {
            // The stage now holds the old results; dropping it removes them.
            return Ok(());
        }
        let old = parent.join(format!("{OLD}{}-{}", std::process::id(), random_suffix()));
        std::fs::rename(&dir, &old).map_err(|e| io(&dir, e))?;
        if let Err(e) = std::fs::rename(&stage.dir, &dir) {
            let _ = std::fs::rename(&old, &dir);
            return Err(io(&dir, e));
        }
        std::mem::forget(stage);
        let _ = std::fs::remove_dir_all(&old);
        Ok(())
    }
}

/// Write a result folder all or nothing: [`stage_result_dir`], then [`StagedDir::commit`].
pub fn write_result_dir(
    dir: &Path,
    files: &[(String, Vec<u8>)],
    owns: &dyn Fn(&str) -> bool,
) -> Result<()> {
    stage_result_dir(dir, files, owns)?.commit()
}

/// Names of files inside one result folder must be plain relative names, unique even without
/// case.
fn check_names<'a>(dir: &Path, names: impl Iterator<Item = &'a str>) -> Result<()> {
    let mut seen = HashSet::new();
    for n in names {
        let p = Path::new(n);
        let plain = !n.is_empty()
            && p.components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !plain {
            return Err(Error::Internal(format!(
                "result file name `{n}` in {} is not a plain relative name",
                dir.display()
            )));
        }
        if !seen.insert(n.to_ascii_lowercase()) {
            return Err(refuse(
                &dir.join(n),
                "would be written twice by this run (two results share one file name)",
                "rename one of the layers whose names map to this file",
            ));
        }
    }
    Ok(())
}

/// Write files all or nothing, each renamed over its target only when every file is written
/// (staged per target folder, see the module docs). Targets must be distinct; a target that
/// is a folder is refused before anything is written.
pub fn write_all_atomic(files: &[(PathBuf, Vec<u8>)]) -> Result<()> {
    // Per target folder: (file name, bytes, target path).
    type Group<'a> = Vec<(String, &'a [u8], &'a Path)>;
    let mut by_dir: BTreeMap<PathBuf, Group> = BTreeMap::new();
    let mut seen = HashSet::new();
    for (path, bytes) in files {
        check_file_target(path)?;
        let key = path.to_string_lossy().to_ascii_lowercase();
        if !seen.insert(key) {
            return Err(refuse(
                path,
                "would be written twice by this run (two results share one file name)",
                "give each result its own name",
            ));
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        by_dir
            .entry(parent_of(path))
            .or_default()
            .push((name, bytes.as_slice(), path.as_path()));
    }
    let mut staged = Vec::new();
    let mut stages = Vec::new();
    for (dir, group) in &by_dir {
        let stage = Stage::new(dir)?;
        for (i, (name, bytes, target)) in group.iter().enumerate() {
            // Numbered, so two names differing only in case never meet in the stage.
            let tmp = stage.write(&format!("{i}-{name}"), bytes)?;
            staged.push((tmp, *target));
        }
        stages.push(stage);
    }
    for (tmp, target) in &staged {
        std::fs::rename(tmp, target).map_err(|e| io(target, e))?;
    }
    drop(stages);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_single_components() {
        assert_eq!(file_component("../../../x"), "_._.._.._x");
        assert_eq!(file_component("/etc/passwd"), "_etc_passwd");
        assert_eq!(file_component(".."), "_.");
        assert_eq!(file_component(""), "_");
        assert_eq!(file_component("a b/c"), "a_b_c");
        assert_eq!(file_component(&"x".repeat(500)).len(), 120);
        assert_eq!(
            unique_stems(["c/1", "c_1", "C_1", "d"]),
            ["c_1", "c_1~2", "C_1~3", "d"]
        );
    }

    #[test]
    fn a_result_dir_is_replaced_whole_and_a_shared_folder_keeps_other_files() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("out");
        let owns = |n: &str| n.ends_with(".csv") || n == "summary.json";
        write_result_dir(
            &dir,
            &[
                ("a.csv".into(), b"1".to_vec()),
                ("summary.json".into(), b"{}".to_vec()),
            ],
            &owns,
        )
        .unwrap();
        write_result_dir(&dir, &[("b.csv".into(), b"2".to_vec())], &owns).unwrap();
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["b.csv"], "old results are not mixed with new ones");
        // A folder holding a user's file: it is kept, the results replaced file by file.
        std::fs::write(dir.join("notes.txt"), "mine").unwrap();
        write_result_dir(&dir, &[("c.csv".into(), b"3".to_vec())], &owns).unwrap();
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["c.csv", "notes.txt"],
            "b.csv was this command's, now stale"
        );
        // An entry in the way is refused.
        std::fs::create_dir(dir.join("summary.json")).unwrap();
        let e = check_result_dir(&dir, &owns).unwrap_err().to_string();
        assert!(
            e.contains("summary.json") && e.contains("in the way"),
            "{e}"
        );
        // Nothing but the result folder is left beside it.
        let left: Vec<_> = std::fs::read_dir(t.path()).unwrap().collect();
        assert_eq!(left.len(), 1);
    }

    #[test]
    fn files_replace_symlinks_instead_of_following_them_and_collisions_are_refused() {
        let t = tempfile::tempdir().unwrap();
        let victim = t.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let target = t.path().join("r.csv");
        #[cfg(unix)]
        std::os::unix::fs::symlink(&victim, &target).unwrap();
        write_all_atomic(&[(target.clone(), b"new".to_vec())]).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        let e = write_all_atomic(&[
            (t.path().join("x.csv"), b"1".to_vec()),
            (t.path().join("X.csv"), b"2".to_vec()),
        ])
        .unwrap_err()
        .to_string();
        assert!(e.contains("twice"), "{e}");
        assert!(!t.path().join("x.csv").exists());
        let e = write_all_atomic(&[(t.path().to_path_buf(), b"1".to_vec())]).unwrap_err();
        assert!(e.to_string().contains("folder"), "{e}");
    }

    #[test]
    fn stale_stages_of_dead_processes_are_removed() {
        let t = tempfile::tempdir().unwrap();
        // pid 0 is never a live user process in /proc.
        let stale = t.path().join(format!("{STAGE}0-abc"));
        std::fs::create_dir(&stale).unwrap();
        std::fs::write(stale.join("layers.csv"), "x").unwrap();
        write_all_atomic(&[(t.path().join("a.csv"), b"1".to_vec())]).unwrap();
        assert!(!stale.exists());
    }
}
