//! `plumsim merge OUT.csv SHARD.csv...`: check and join the shard files of one sweep.

use std::path::PathBuf;

use plumsim::sweep::{merge, Sweep, Table};

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The joined CSV to write (rows sorted by point, then workload).
    pub out: PathBuf,
    /// Shard CSVs (`plumsim sweep SPEC --shard I/N --out ...`).
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// The sweep's spec: also check that no point is missing.
    #[arg(long)]
    pub spec: Option<PathBuf>,
}

pub fn run(args: MergeArgs, v: super::progress::Verbosity) -> anyhow::Result<()> {
    let mut parts = Vec::new();
    for s in &args.shards {
        let origin = s.display().to_string();
        let text = plumsim::io::read_text(s)?;
        parts.push((origin.clone(), Table::parse(&text, &origin)?));
    }
    let expected = match &args.spec {
        Some(spec) => {
            let sweep = Sweep::load(spec)?;
            if let Some((o, t)) = parts.first() {
                if t.headers != sweep.headers {
                    anyhow::bail!("{o}: the columns differ from those of {} (help: merge shards of this spec)", spec.display());
                }
            }
            Some(sweep.jobs(None).iter().map(|j| sweep.key(j)).collect())
        }
        None => None,
    };
    let merged = merge(&parts, expected.as_ref())?;
    plumsim::io::write_all_atomic(&[(args.out.clone(), merged.to_csv().into_bytes())])?;
    v.note(format!(
        "wrote {} ({} rows from {} shards)",
        args.out.display(),
        merged.rows.len(),
        parts.len()
    ));
    Ok(())
}
