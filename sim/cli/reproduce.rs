//! `plumsim reproduce [--reduced] [--out DIR]`: regenerate the evidence in `results/` that
//! holds plumsim against PLUM, SWIS and PikeLPN (see `results/README.md`). The studies live in
//! the library (`plumsim::studies`); this writes what they return, all or nothing.

use std::path::PathBuf;

use plumsim::io;
use plumsim::studies::{self, Runner};

use super::progress::Verbosity;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "The shipped designs and workloads are built into the binary, so this runs from any folder; the trained ResNet-20 parts read ../shared/weights beside the repository the binary was built from, and are skipped with a note when it is absent."
)]
pub struct ReproduceArgs {
    /// Output folder (relative to the working directory).
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Only the quick part (PLUM on synthetic ResNet-18, PikeLPN's elementwise share).
    #[arg(long, conflicts_with = "transformers")]
    pub reduced: bool,
    /// Only the transformer study: Llama-2-7B and BitNet b1.58 2B4T decode and BERT-base on
    /// int8, absmean ternary, signed binary, SWIS and bit-serial designs (minutes: not part
    /// of the default run).
    #[arg(long)]
    pub transformers: bool,
}

pub fn run(args: ReproduceArgs, v: Verbosity) -> anyhow::Result<()> {
    io::output::check_dir_target(&args.out)?;
    let selection = if args.transformers {
        studies::Selection::Transformers
    } else if args.reduced {
        studies::Selection::Reduced
    } else {
        studies::Selection::All
    };
    let trained = io::shared_weights_present();
    // The fidelity study's inputs: the CIFAR-10 test images, through ResNet-20's transform.
    let dir = plumsim::shipped::shared_images_dir();
    let images = if trained && selection == studies::Selection::All && dir.is_dir() {
        let (_, net) = plumsim::shipped::workload("resnet20_cifar10.json")?;
        Some(io::load_inputs(&dir, &net, None)?)
    } else {
        None
    };
    let samples = images.as_ref().map(|set| plumsim::functional::Samples {
        values: &set.values,
        labels: set.labels.as_deref(),
        reference_logits: None,
        calibration: plumsim::functional::Calibrate::Max,
    });
    let bar = v.bar(
        studies::design_count(selection, trained, images.is_some()),
        "designs",
    );
    let progress = |label: &str| bar.step(label);
    let runner = Runner::new(&progress);
    let r = studies::reproduce(&args.out, selection, trained, samples, &runner);
    bar.finish();
    let r = r?;
    for n in &r.notes {
        v.note(format!("note: {n}"));
    }
    let (made, distinct) = runner.quantized_weights();
    v.detail(format!(
        "quantized {:.1} M weights, {:.1} M of distinct code sets (code cache: {} MiB)",
        made as f64 / 1e6,
        distinct as f64 / 1e6,
        plumsim::pipeline::CODE_CACHE_BYTES >> 20
    ));
    io::write_all_atomic(&r.files)?;
    print!("{}", r.report);
    for (p, _) in &r.files {
        println!("wrote {}", p.display());
    }
    Ok(())
}
