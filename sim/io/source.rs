//! Tensors from files: the [`TensorSource`] the command line uses. Weight layers read their
//! tensor from the workload's weight files (paths relative to the workload) or from one file
//! given for the run (`--weights FILE`), or generate seeded synthetic weights; activation
//! tensors are read from the files the workload names.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::weights::{Expect, WeightLoader};
use crate::error::{Error, Result};
use crate::pipeline::TensorSource;
use crate::synth::synthetic_weights;
use crate::workload::MAX_LAYER_WEIGHTS;
use crate::workload::{Layer, Network, WeightSource};

/// The tensors of one workload file.
pub struct FileSource {
    workload: PathBuf,
    weights_override: Option<PathBuf>,
    loader: Mutex<WeightLoader>,
}

impl FileSource {
    /// Tensors of the workload at `workload` (relative paths in it resolve from its folder);
    /// `weights_override` is `--weights FILE`.
    pub fn new(workload: &Path, weights_override: Option<&Path>) -> Self {
        FileSource {
            workload: workload.to_path_buf(),
            weights_override: weights_override.map(Path::to_path_buf),
            loader: Mutex::new(WeightLoader::new()),
        }
    }

    fn loader(&self) -> std::sync::MutexGuard<'_, WeightLoader> {
        self.loader.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl TensorSource for FileSource {
    fn weights(&self, layer: &Layer) -> Result<Vec<f32>> {
        match (&layer.weights, &self.weights_override, layer.weight_shape()) {
            // Generated without holding the file loader: layers generate in parallel.
            (
                Some(WeightSource::Synthetic {
                    distribution,
                    seed,
                    scale,
                }),
                None,
                Some(shape),
            ) => Ok(synthetic_weights(&shape, *distribution, *seed, *scale)),
            _ => {
                self.loader()
                    .layer_weights(layer, self.weights_override.as_deref(), &self.workload)
            }
        }
    }

    fn activations(&self, net: &Network, layer: &Layer) -> Result<Option<Vec<bool>>> {
        let Some((file, tensor)) = &layer.activations.file else {
            return Ok(None);
        };
        let path = super::resolve_relative(&self.workload, file);
        let input = layer.inputs.first().map(|t| net.tensor(*t));
        let want = input
            .and_then(|t| t.shape.iter().try_fold(net.batch, |a, &d| a.checked_mul(d)))
            .unwrap_or(0);
        // The element count is checked on the file's header, before its data is read.
        let check = |shape: &[u64]| {
            let n = shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d));
            if n == Some(want) {
                return Ok(());
            }
            Err(Error::Weights {
                file: path.display().to_string(),
                tensor: tensor.clone(),
                layer: Some(layer.name.clone()),
                message: format!(
                    "{} activation values (shape {shape:?}), but the layer's input holds {want} (batch x {:?})",
                    n.map_or("too many".into(), |n| n.to_string()),
                    input.map(|t| t.shape.clone()).unwrap_or_default()
                ),
            })
        };
        let loaded = self.loader().load_expecting(
            &path,
            tensor,
            Some(&layer.name),
            Expect::Check(&check),
        )?;
        Ok(Some(loaded.data.iter().map(|&v| v != 0.0).collect()))
    }

    fn param(&self, layer: &Layer, file: &str, tensor: &str) -> Result<Vec<f32>> {
        let path = super::resolve_relative(&self.workload, file);
        // One value per channel: a weight layer's channels are its weights' first axis; other
        // layers' (batch norm, PReLU) are bounded as a layer's weights are. The caller checks
        // the count against the channels.
        let channels = layer.weight_shape().and_then(|s| s.first().copied());
        let check = |shape: &[u64]| {
            let n = shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d));
            let ok = match channels {
                Some(c) => n == Some(c),
                None => n.is_some_and(|n| n <= MAX_LAYER_WEIGHTS),
            };
            if ok {
                return Ok(());
            }
            Err(Error::Weights {
                file: file.to_string(),
                tensor: tensor.to_string(),
                layer: Some(layer.name.clone()),
                message: match channels {
                    Some(c) => format!(
                        "{} values (shape {shape:?}), but the layer has {c} channels (one value per channel)",
                        n.map_or("too many".into(), |n| n.to_string())
                    ),
                    None => format!(
                        "shape {shape:?}: too many values for a per-channel parameter (help: at most {MAX_LAYER_WEIGHTS})"
                    ),
                },
            })
        };
        Ok(self
            .loader()
            .load_expecting(&path, tensor, Some(&layer.name), Expect::Check(&check))?
            .data)
    }

    fn key(&self) -> String {
        format!("file {:?}", (&self.workload, &self.weights_override))
    }

    fn overrides_weights(&self) -> bool {
        self.weights_override.is_some()
    }
}
