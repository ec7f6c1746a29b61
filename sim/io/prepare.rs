//! From files to everything the engine needs: float weights (read or generated), their
//! quantized codes and per-layer quantization statistics.

use std::path::Path;

use rayon::prelude::*;

use crate::error::Result;
use crate::quant::{quantize, stats, QuantStats, QuantizedTensor};
use crate::workload::{Layer, Network};

/// Quantized weights of a network, one entry per layer (`None` for layers without weights
/// or not selected).
pub struct Prepared {
    pub codes: Vec<Option<QuantizedTensor>>,
    pub stats: Vec<Option<QuantStats>>,
}

/// Load or generate the weights of the weight layers `wanted` selects, quantize them with
/// each layer's scheme and summarize them. Files are read first (each opened once), then
/// layers are quantized in parallel and collected in order. `workload_path` anchors
/// relative weight paths; `weights_override` is `--weights FILE`.
pub fn prepare(
    net: &Network,
    workload_path: &Path,
    weights_override: Option<&Path>,
    wanted: impl Fn(&Layer) -> bool,
) -> Result<Prepared> {
    let mut loader = super::weights::WeightLoader::new();
    let weights: Vec<Option<Vec<f32>>> = net
        .layers
        .iter()
        .map(|l| match l.weight_shape() {
            Some(_) if wanted(l) => loader
                .layer_weights(l, weights_override, workload_path)
                .map(Some),
            _ => Ok(None),
        })
        .collect::<Result<_>>()?;
    let (codes, stats): (Vec<_>, Vec<_>) = net
        .layers
        .par_iter()
        .zip(weights.par_iter())
        .map(|(l, w)| match (w, l.weight_shape()) {
            (Some(w), Some(shape)) => {
                let q = quantize(w, &shape, &l.quant.scheme);
                let s = stats(w, &q);
                (Some(q), Some(s))
            }
            _ => (None, None),
        })
        .unzip();
    Ok(Prepared { codes, stats })
}

/// Read the activation tensors the workload names (for PEs that skip zeros) into each
/// layer's `activations.nonzero`, checking their size against the layer's input.
pub fn read_activations(net: &mut Network, workload_path: &Path) -> Result<()> {
    let mut loader = super::weights::WeightLoader::new();
    for i in 0..net.layers.len() {
        let Some((file, tensor)) = net.layers[i].activations.file.clone() else {
            continue;
        };
        let layer = &net.layers[i];
        let path = super::resolve_relative(workload_path, &file);
        let loaded = loader.load(&path, &tensor, Some(&layer.name))?;
        let want = layer
            .inputs
            .first()
            .map_or(0, |t| net.tensor(*t).elements())
            * net.batch;
        if loaded.data.len() as u64 != want {
            return Err(crate::Error::Weights {
                file: path.display().to_string(),
                tensor,
                layer: Some(layer.name.clone()),
                message: format!(
                    "{} activation values (shape {:?}), but the layer's input holds {want} (batch x {:?})",
                    loaded.data.len(),
                    loaded.shape,
                    layer.inputs.first().map(|t| net.tensor(*t).shape.clone()).unwrap_or_default()
                ),
            });
        }
        let flags = loaded.data.iter().map(|&v| v != 0.0).collect();
        net.layers[i].activations.nonzero = Some(std::sync::Arc::new(flags));
    }
    Ok(())
}

/// One design on one network, end to end: the design's native scheme applied, weights
/// prepared (every weight layer when `all_stats`, else only those whose timing needs codes or
/// whose weights come from files), simulated.
pub struct DesignRun {
    pub net: Network,
    pub prepared: Prepared,
    pub run: crate::engine::RunResult,
}

pub fn run_design(
    arch: &crate::arch::Arch,
    net: &Network,
    workload_path: &Path,
    weights_override: Option<&Path>,
    all_stats: bool,
) -> Result<DesignRun> {
    let mut net = match &arch.scheme {
        Some(s) => net.with_default_scheme(s),
        None => net.clone(),
    };
    if arch.pe.skip_zero_activations {
        read_activations(&mut net, workload_path)?;
    }
    let wanted = |l: &Layer| {
        all_stats
            || weights_override.is_some()
            || crate::engine::needs_codes(arch, l)
            || matches!(l.weights, Some(crate::workload::WeightSource::File { .. }))
    };
    let prepared = prepare(&net, workload_path, weights_override, wanted)?;
    let run = crate::engine::simulate_quantized(arch, &net, &prepared.codes)?;
    Ok(DesignRun { net, prepared, run })
}
