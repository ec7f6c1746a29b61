//! `plumsim merge OUT.csv SHARD.csv...`: check and join the shard files of one sweep.
//!
//! A shard file carries its identity in its manifest beside it (`SHARD.csv.shard`, written by
//! `plumsim sweep --shard I/N`): the sweep's fingerprint, the shard and the hash of the CSV.
//! The merge refuses a file changed since its manifest was written, shards of different
//! sweeps, splits or versions, a shard given twice, and (unless `--allow-missing`) a missing
//! shard. Without manifests (files of an older plumsim) only the rows can be checked: no
//! (point, workload) twice, and with `--spec` none missing.

use std::path::PathBuf;

use plumsim::sweep::{
    check_shard_set, manifest_path, merge, missing_shards, ShardManifest, Sweep, Table,
};
use plumsim::{Error, Problem};

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The joined CSV to write (rows sorted by point, then workload).
    pub out: PathBuf,
    /// Shard CSVs (`plumsim sweep SPEC --shard I/N --out ...`), each with its manifest
    /// (`SHARD.csv.shard`) beside it.
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// The sweep's spec: also check that no point is missing.
    #[arg(long)]
    pub spec: Option<PathBuf>,
    /// Merge even when shards (by their manifests) or rows (with --spec) are missing; what
    /// is missing is said on stderr.
    #[arg(long)]
    pub allow_missing: bool,
}

pub fn run(args: MergeArgs, v: super::progress::Verbosity) -> anyhow::Result<()> {
    let mut parts = Vec::new();
    let mut manifests = Vec::new();
    for s in &args.shards {
        let origin = s.display().to_string();
        let text = plumsim::io::read_text(s)?;
        let mpath = manifest_path(s);
        let manifest = if mpath.is_file() {
            let m = ShardManifest::parse(
                &plumsim::io::read_text(&mpath)?,
                &mpath.display().to_string(),
            )?;
            if !m.describes(text.as_bytes()) {
                return Err(Error::invalid(
                    &origin,
                    vec![Problem::new(
                        "file",
                        format!(
                            "was changed after plumsim wrote it (its manifest {} records other bytes)",
                            mpath.display()
                        ),
                    )
                    .with_help("merge the shard files as the sweep wrote them (rerun the shard), or delete the manifest to merge without shard checks")],
                )
                .into());
            }
            Some(m)
        } else {
            None
        };
        parts.push((origin.clone(), Table::parse(&text, &origin)?));
        manifests.push((origin, manifest));
    }
    let expected = match &args.spec {
        Some(spec) => {
            let sweep = Sweep::load(spec)?;
            if let Some((o, t)) = parts.first() {
                if t.headers != sweep.headers {
                    anyhow::bail!("{o}: the columns differ from those of {} (help: merge shards of this spec)", spec.display());
                }
            }
            let hash = sweep.spec_hash();
            if let Some((o, m)) = manifests
                .iter()
                .filter_map(|(o, m)| m.as_ref().map(|m| (o, m)))
                .find(|(_, m)| m.fingerprint.spec != hash)
            {
                return Err(Error::invalid(
                    format!("{o}.shard"),
                    vec![Problem::new(
                        "spec",
                        format!(
                            "is a shard of another sweep than {} (spec fingerprint {}, the spec's is {hash})",
                            spec.display(),
                            m.fingerprint.spec
                        ),
                    )
                    .with_help("merge shards of this spec")],
                )
                .into());
            }
            Some(sweep.jobs(None).iter().map(|j| sweep.key(j)).collect())
        }
        None => None,
    };
    // The shards' identities, then the rows, then what is missing (rows first: with --spec
    // they name the missing points).
    let shards = check_shard_set(&manifests)?;
    let merged = merge(&parts, expected.as_ref(), args.allow_missing)?;
    match &shards {
        Some((count, missing)) if !missing.is_empty() && !args.allow_missing => {
            return Err(missing_shards(*count, missing).into())
        }
        Some((count, missing)) if !missing.is_empty() => eprintln!(
            "warning: merging without {} of {count} shards (--allow-missing): {}",
            missing.len(),
            missing
                .iter()
                .map(|i| format!("{i}/{count}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None if expected.is_none() => v.note(
            "note: the shard files have no manifests (SHARD.csv.shard), so missing shards cannot be told; pass --spec SPEC to check every row is there",
        ),
        _ => {}
    }
    if let Some(e) = &expected {
        if merged.rows.len() < e.len() {
            eprintln!(
                "warning: merging without {} of {} rows of the spec (--allow-missing)",
                e.len() - merged.rows.len(),
                e.len()
            );
        }
    }
    plumsim::io::write_all_atomic(&[(args.out.clone(), merged.to_csv().into_bytes())])?;
    v.note(format!(
        "wrote {} ({} rows from {} shards)",
        args.out.display(),
        merged.rows.len(),
        parts.len()
    ));
    Ok(())
}
