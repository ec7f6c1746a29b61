//! Loading weight tensors from `.npz`, `.npy` and `.safetensors` files, and a layer's float
//! weights from its [`WeightSource`].
//!
//! Tensors are in PyTorch layout (conv `[out, in/groups, kh, kw]`, linear `[out, in]`, matmul
//! `[n, k]`). Supported dtypes: f32, f16, bf16 (safetensors), f64 and 8/16/32/64-bit signed and
//! unsigned integers, all converted to f32. A missing tensor, a shape that does not match the
//! layer, an unsupported dtype or a non-finite value is an [`Error::Weights`]
//! naming the file, the tensor and the layer. Fortran-order arrays are reordered to C order.
//!
//! A `.npy` file holds one unnamed array: the tensor name given with it is only used in
//! messages. [`WeightLoader`] keeps opened files, so loading all layers of a network reads each
//! file once.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use npyz::npz::NpzArchive;
use npyz::{DType, NpyFile, Order, TypeChar};

use crate::error::{Error, Problem, Result};
use crate::synth::synthetic_weights;
use crate::workload::{Layer, Network, WeightSource};

/// A loaded tensor: its shape and its values converted to f32 (row-major).
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedTensor {
    pub shape: Vec<u64>,
    pub data: Vec<f32>,
}

enum Opened {
    Npz(NpzArchive<BufReader<File>>),
    Npy,
    Safetensors(Vec<u8>),
}

/// Loads tensors, keeping each opened file for later calls.
#[derive(Default)]
pub struct WeightLoader {
    files: HashMap<PathBuf, Opened>,
}

impl std::fmt::Debug for WeightLoader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WeightLoader")
            .field("files", &self.files.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl WeightLoader {
    pub fn new() -> Self {
        Self::default()
    }

    /// Load tensor `tensor` from `path`. `layer` only names the layer in errors.
    pub fn load(&mut self, path: &Path, tensor: &str, layer: Option<&str>) -> Result<LoadedTensor> {
        let err = |message: String| Error::Weights {
            file: path.display().to_string(),
            tensor: tensor.to_string(),
            layer: layer.map(str::to_string),
            message,
        };
        if !self.files.contains_key(path) {
            let ext = path
                .extension()
                .map(|e| e.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_default();
            let opened = match ext.as_str() {
                "npz" => Opened::Npz(
                    NpzArchive::open(path).map_err(|e| err(format!("cannot open as .npz: {e}")))?,
                ),
                "npy" => Opened::Npy,
                "safetensors" => Opened::Safetensors(
                    std::fs::read(path).map_err(|e| err(format!("cannot read: {e}")))?,
                ),
                other => {
                    return Err(err(format!(
                        "unknown weight file type `.{other}` (help: use .npz, .npy or .safetensors)"
                    )))
                }
            };
            self.files.insert(path.to_path_buf(), opened);
        }
        let loaded = match self.files.get_mut(path).expect("inserted above") {
            Opened::Npz(archive) => {
                let names: Vec<String> = archive.array_names().map(str::to_string).collect();
                match archive
                    .by_name(tensor)
                    .map_err(|e| err(format!("cannot read: {e}")))?
                {
                    Some(npy) => read_npy(npy),
                    None => Err(missing(tensor, &names)),
                }
            }
            Opened::Npy => {
                let file = File::open(path).map_err(|e| err(format!("cannot open: {e}")))?;
                let npy = NpyFile::new(BufReader::new(file))
                    .map_err(|e| err(format!("not a valid .npy file: {e}")))?;
                read_npy(npy)
            }
            Opened::Safetensors(bytes) => read_safetensors(bytes, tensor),
        };
        let loaded = loaded.map_err(err)?;
        if let Some(i) = loaded.data.iter().position(|v| !v.is_finite()) {
            return Err(err(format!(
                "value {} at flat index {i} is not finite",
                loaded.data[i]
            )));
        }
        Ok(loaded)
    }

    /// Load tensor `tensor` from `path` and check its shape is `expected` (the layer's).
    pub fn load_shaped(
        &mut self,
        path: &Path,
        tensor: &str,
        layer: &str,
        expected: &[u64],
    ) -> Result<Vec<f32>> {
        let t = self.load(path, tensor, Some(layer))?;
        if t.shape != expected {
            return Err(Error::Weights {
                file: path.display().to_string(),
                tensor: tensor.to_string(),
                layer: Some(layer.to_string()),
                message: format!(
                    "shape {:?} does not match the layer's weight shape {expected:?} (help: PyTorch layout: conv [out, in/groups, kh, kw], linear [out, in], matmul [n, k])",
                    t.shape
                ),
            });
        }
        Ok(t.data)
    }

    /// The float weights of a weight layer: synthetic (from its seed) or read from its file.
    ///
    /// A file path written in the workload is resolved relative to `workload_path`'s folder.
    /// With `weights_override` (`--weights FILE`) every weight layer reads from that file: a
    /// file source keeps its tensor name; a synthetic layer uses the tensor named like the layer,
    /// else `<layer>.weight`. A layer without weights is an [`Error::Invalid`].
    pub fn layer_weights(
        &mut self,
        layer: &Layer,
        weights_override: Option<&Path>,
        workload_path: &Path,
    ) -> Result<Vec<f32>> {
        let (Some(shape), Some(source)) = (layer.weight_shape(), layer.weights.as_ref()) else {
            return Err(Error::invalid(
                workload_path.display().to_string(),
                vec![Problem::new(
                    format!("layer `{}`", layer.name),
                    format!("op `{}` has no weights", layer.op.kind().as_str()),
                )],
            ));
        };
        match (source, weights_override) {
            (WeightSource::File { tensor, .. }, Some(file)) => {
                self.load_shaped(file, tensor, &layer.name, &shape)
            }
            (WeightSource::File { path, tensor }, None) => {
                let file = super::resolve_relative(workload_path, path);
                self.load_shaped(&file, tensor, &layer.name, &shape)
            }
            (WeightSource::Synthetic { .. }, Some(file)) => {
                let dotted = format!("{}.weight", layer.name);
                match self.load_shaped(file, &layer.name, &layer.name, &shape) {
                    Err(Error::Weights { message, .. }) if message.starts_with("no tensor") => {
                        self.load_shaped(file, &dotted, &layer.name, &shape)
                    }
                    other => other,
                }
            }
            (
                WeightSource::Synthetic {
                    distribution,
                    seed,
                    scale,
                },
                None,
            ) => Ok(synthetic_weights(&shape, *distribution, *seed, *scale)),
        }
    }
}

/// Load one tensor from a file (no shape check).
pub fn load_tensor(path: &Path, tensor: &str) -> Result<LoadedTensor> {
    WeightLoader::new().load(path, tensor, None)
}

/// The float weights of one weight layer; see [`WeightLoader::layer_weights`].
pub fn layer_weights(
    layer: &Layer,
    weights_override: Option<&Path>,
    workload_path: &Path,
) -> Result<Vec<f32>> {
    WeightLoader::new().layer_weights(layer, weights_override, workload_path)
}

/// The float weights of every layer of `net` (`None` for layers without weights), opening each
/// weight file once. Index = layer index.
pub fn network_weights(
    net: &Network,
    weights_override: Option<&Path>,
    workload_path: &Path,
) -> Result<Vec<Option<Vec<f32>>>> {
    let mut loader = WeightLoader::new();
    net.layers
        .iter()
        .map(|l| match l.weight_shape() {
            Some(_) => loader
                .layer_weights(l, weights_override, workload_path)
                .map(Some),
            None => Ok(None),
        })
        .collect()
}

fn missing(tensor: &str, names: &[String]) -> String {
    let shown: Vec<&str> = names.iter().take(8).map(String::as_str).collect();
    format!(
        "no tensor `{tensor}` in the file (help: it holds {} tensors{}{})",
        names.len(),
        if shown.is_empty() { "" } else { ", e.g. " },
        shown.join(", ")
    )
}

const ALLOWED: &str = "allowed: f32, f16, bf16 (safetensors), f64, i8..i64, u8..u64";

fn read_npy<R: Read>(npy: NpyFile<R>) -> Result<LoadedTensor, String> {
    let fortran = npy.order() == Order::Fortran;
    let shape = npy.shape().to_vec();
    let dtype = npy.dtype();
    let DType::Plain(ts) = &dtype else {
        return Err(format!("unsupported dtype `{}` ({ALLOWED})", dtype.descr()));
    };
    let io = |e: std::io::Error| format!("cannot read the data: {e}");
    let data: Vec<f32> = match (ts.type_char(), ts.size_field()) {
        (TypeChar::Float, 4) => npy.into_vec::<f32>().map_err(io)?,
        (TypeChar::Float, 2) => npy
            .into_vec::<half::f16>()
            .map_err(io)?
            .into_iter()
            .map(f32::from)
            .collect(),
        (TypeChar::Float, 8) => conv(npy.into_vec::<f64>().map_err(io)?),
        (TypeChar::Int, 1) => conv(npy.into_vec::<i8>().map_err(io)?),
        (TypeChar::Int, 2) => conv(npy.into_vec::<i16>().map_err(io)?),
        (TypeChar::Int, 4) => conv(npy.into_vec::<i32>().map_err(io)?),
        (TypeChar::Int, 8) => conv(npy.into_vec::<i64>().map_err(io)?),
        (TypeChar::Uint, 1) => conv(npy.into_vec::<u8>().map_err(io)?),
        (TypeChar::Uint, 2) => conv(npy.into_vec::<u16>().map_err(io)?),
        (TypeChar::Uint, 4) => conv(npy.into_vec::<u32>().map_err(io)?),
        (TypeChar::Uint, 8) => conv(npy.into_vec::<u64>().map_err(io)?),
        _ => return Err(format!("unsupported dtype `{ts}` ({ALLOWED})")),
    };
    let data = if fortran {
        fortran_to_c(&shape, &data)
    } else {
        data
    };
    Ok(LoadedTensor { shape, data })
}

/// Reorder column-major (Fortran) data into row-major (C) order. Keras-exported arrays,
/// such as the MLPerf Tiny ResNet-8 weights, are stored this way.
fn fortran_to_c(shape: &[u64], data: &[f32]) -> Vec<f32> {
    let dims: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
    let mut f_strides = vec![1usize; dims.len()];
    for d in 1..dims.len() {
        f_strides[d] = f_strides[d - 1] * dims[d - 1];
    }
    let mut out = Vec::with_capacity(data.len());
    let mut idx = vec![0usize; dims.len()];
    for _ in 0..data.len() {
        out.push(
            data[idx
                .iter()
                .zip(&f_strides)
                .map(|(i, s)| i * s)
                .sum::<usize>()],
        );
        // Advance the C-order multi-index (last axis fastest).
        for d in (0..dims.len()).rev() {
            idx[d] += 1;
            if idx[d] < dims[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    out
}

/// Numeric conversion to f32 (integers and f64 round to nearest).
trait ToF32: Copy {
    fn to_f32(self) -> f32;
}

macro_rules! to_f32 {
    ($($t:ty),*) => {$(impl ToF32 for $t { fn to_f32(self) -> f32 { self as f32 } })*};
}
to_f32!(f64, i8, i16, i32, i64, u8, u16, u32, u64);

fn conv<T: ToF32>(v: Vec<T>) -> Vec<f32> {
    v.into_iter().map(ToF32::to_f32).collect()
}

fn read_safetensors(bytes: &[u8], tensor: &str) -> Result<LoadedTensor, String> {
    use safetensors::{Dtype, SafeTensorError, SafeTensors};
    let st = SafeTensors::deserialize(bytes)
        .map_err(|e| format!("not a valid .safetensors file: {e}"))?;
    let view = match st.tensor(tensor) {
        Ok(v) => v,
        Err(SafeTensorError::TensorNotFound(_)) => {
            let mut names: Vec<String> = st.names().into_iter().cloned().collect();
            names.sort();
            return Err(missing(tensor, &names));
        }
        Err(e) => return Err(format!("cannot read: {e}")),
    };
    let shape: Vec<u64> = view.shape().iter().map(|&d| d as u64).collect();
    let b = view.data();
    macro_rules! le {
        ($t:ty, $n:expr, $f:expr) => {
            b.chunks_exact($n)
                .map(|c| $f(<$t>::from_le_bytes(c.try_into().expect("chunk size"))))
                .collect::<Vec<f32>>()
        };
    }
    let data = match view.dtype() {
        Dtype::F32 => le!(f32, 4, |x: f32| x),
        Dtype::F16 => le!(u16, 2, |x: u16| half::f16::from_bits(x).to_f32()),
        Dtype::BF16 => le!(u16, 2, |x: u16| half::bf16::from_bits(x).to_f32()),
        Dtype::F64 => le!(f64, 8, |x: f64| x as f32),
        Dtype::I8 => le!(i8, 1, |x: i8| x as f32),
        Dtype::I16 => le!(i16, 2, |x: i16| x as f32),
        Dtype::I32 => le!(i32, 4, |x: i32| x as f32),
        Dtype::I64 => le!(i64, 8, |x: i64| x as f32),
        Dtype::U8 => le!(u8, 1, |x: u8| x as f32),
        Dtype::U16 => le!(u16, 2, |x: u16| x as f32),
        Dtype::U32 => le!(u32, 4, |x: u32| x as f32),
        Dtype::U64 => le!(u64, 8, |x: u64| x as f32),
        other => return Err(format!("unsupported dtype `{other:?}` ({ALLOWED})")),
    };
    Ok(LoadedTensor { shape, data })
}
