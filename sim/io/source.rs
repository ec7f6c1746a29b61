//! Tensors from files: the [`TensorSource`] the command line uses. Weight layers read their
//! tensor from the workload's weight files (paths relative to the workload) or from one file
//! given for the run (`--weights FILE`), or generate seeded synthetic weights; activation
//! tensors are read from the files the workload names.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::weights::WeightLoader;
use crate::error::{Error, Result};
use crate::pipeline::TensorSource;
use crate::synth::synthetic_weights;
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
        let loaded = self.loader().load(&path, tensor, Some(&layer.name))?;
        let input = layer.inputs.first().map(|t| net.tensor(*t));
        let want = input.map_or(0, |t| t.elements()) * net.batch;
        if loaded.data.len() as u64 != want {
            return Err(Error::Weights {
                file: path.display().to_string(),
                tensor: tensor.clone(),
                layer: Some(layer.name.clone()),
                message: format!(
                    "{} activation values (shape {:?}), but the layer's input holds {want} (batch x {:?})",
                    loaded.data.len(),
                    loaded.shape,
                    input.map(|t| t.shape.clone()).unwrap_or_default()
                ),
            });
        }
        Ok(Some(loaded.data.iter().map(|&v| v != 0.0).collect()))
    }

    fn param(&self, layer: &Layer, file: &str, tensor: &str) -> Result<Vec<f32>> {
        let path = super::resolve_relative(&self.workload, file);
        Ok(self.loader().load(&path, tensor, Some(&layer.name))?.data)
    }

    fn key(&self) -> String {
        format!("file {:?}", (&self.workload, &self.weights_override))
    }

    fn overrides_weights(&self) -> bool {
        self.weights_override.is_some()
    }
}
