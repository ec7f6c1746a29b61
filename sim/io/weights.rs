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
//!
//! Resources are checked before they are spent. Only regular files are opened
//! ([`super::files::open_regular`]). A tensor's header is read first (a `.npy` header, parsed
//! here with checked shape arithmetic, of at most 1 MiB; a `.safetensors` JSON header of at most
//! 100 MB, whose offsets must tile the file) and its dtype, shape and size are checked against
//! what the caller expects ([`Expect`]: a layer's shape, an element count) and against the bytes
//! the file or archive entry holds, before any data is read or allocated. An `.npz` entry is
//! decompressed as it is read and never past the bytes its header declares, so a deflate bomb
//! stops there; a `.safetensors` tensor is read alone from its offset.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use npyz::zip::result::ZipError;
use npyz::zip::ZipArchive;

use super::files::open_regular;
use crate::error::{Error, Problem, Result};
use crate::synth::synthetic_weights;
use crate::workload::MAX_TENSOR_ELEMENTS;
use crate::workload::{Layer, Network, WeightSource};

/// A loaded tensor: its shape and its values converted to f32 (row-major).
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedTensor {
    pub shape: Vec<u64>,
    pub data: Vec<f32>,
}

/// What a tensor must be, checked on its header (shape and dtype) before any of its data is
/// read or allocated. Every tensor also holds at most [`MAX_TENSOR_ELEMENTS`] elements, and its
/// data must be exactly what its file (or archive entry) holds after the header.
#[derive(Clone, Copy)]
pub enum Expect<'a> {
    /// Any shape.
    Any,
    /// Exactly this shape: a layer's weights.
    Shape(&'a [u64]),
    /// Whatever the check accepts, given the header's shape; its error is returned as it is.
    Check(&'a dyn Fn(&[u64]) -> Result<()>),
}

/// The longest `.npy` header read (numpy itself reads at most 10,000 bytes by default).
const MAX_NPY_HEADER: u64 = 1 << 20;
/// The longest `.safetensors` JSON header, as the safetensors crate allows.
const MAX_SAFETENSORS_HEADER: u64 = 100_000_000;

enum Opened {
    Npz {
        zip: ZipArchive<BufReader<File>>,
        names: Vec<String>,
    },
    Npy,
    Safetensors(Safetensors),
    /// An ONNX model's imported weights (PyTorch layout), by the names its workload uses.
    Onnx(HashMap<String, crate::onnx::Tensor>),
}

/// An open `.safetensors` file: its header, checked against the file's length; tensors are
/// read one at a time from their offsets.
struct Safetensors {
    file: File,
    /// Where the data section starts (8 + the header's length).
    data_start: u64,
    tensors: HashMap<String, safetensors::tensor::TensorInfo>,
    /// Tensor names, sorted (messages).
    names: Vec<String>,
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
        self.load_expecting(path, tensor, layer, Expect::Any)
    }

    /// Load tensor `tensor` from `path` if its header passes `expect`; nothing of its data is
    /// read (or allocated) before its shape, dtype and size are checked against `expect` and
    /// against what the file holds. `layer` only names the layer in errors.
    pub fn load_expecting(
        &mut self,
        path: &Path,
        tensor: &str,
        layer: Option<&str>,
        expect: Expect<'_>,
    ) -> Result<LoadedTensor> {
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
                "npz" => open_npz(path).map_err(|e| err(format!("cannot open as .npz: {e}")))?,
                "npy" => Opened::Npy,
                "safetensors" => Opened::Safetensors(open_safetensors(path).map_err(err)?),
                "onnx" => {
                    let options = super::onnx_options(path, &super::LoadOptions::default(), true);
                    let imported = super::onnx::import_file(path, &options)?;
                    Opened::Onnx(
                        imported
                            .tensors
                            .into_iter()
                            .map(|t| (t.name.clone(), t))
                            .collect(),
                    )
                }
                other => {
                    return Err(err(format!(
                        "unknown weight file type `.{other}` (help: use .npz, .npy, .safetensors or .onnx)"
                    )))
                }
            };
            self.files.insert(path.to_path_buf(), opened);
        }
        let check = |h: &Header| check_header(h, expect, &err);
        let loaded = match self.files.get_mut(path).expect("inserted above") {
            Opened::Npz { zip, names } => {
                let mut entry = match zip.by_name(&npyz::npz::file_name_from_array_name(tensor)) {
                    Ok(entry) => entry,
                    Err(ZipError::FileNotFound) => return Err(err(missing(tensor, names))),
                    Err(e) => return Err(err(format!("cannot read: {e}"))),
                };
                let declared = entry.size();
                let (header, header_bytes) = read_npy_header(&mut entry, declared)
                    .map_err(|m| err(format!("not a valid .npy array: {m}")))?;
                let (dtype, n, bytes) = check(&header)?;
                if header_bytes.checked_add(bytes) != Some(declared) {
                    return Err(err(format!(
                        "the archive entry declares {declared} bytes, but its header of {header_bytes} bytes declares {bytes} bytes of data ({})",
                        header.describe()
                    )));
                }
                // The entry is decompressed as it is read, never beyond the bytes its header
                // declares: a deflate bomb stops there.
                let data =
                    read_values(&mut (&mut entry).take(bytes), dtype, n, false).map_err(err)?;
                let mut probe = [0u8; 1];
                match entry.read(&mut probe) {
                    Ok(0) => {}
                    Ok(_) => {
                        return Err(err(format!(
                            "the archive entry holds more than the {bytes} bytes of data its header declares ({})",
                            header.describe()
                        )))
                    }
                    Err(e) => return Err(err(format!("cannot read the data: {e}"))),
                }
                finish(header, data)
            }
            Opened::Npy => {
                let (file, len) =
                    open_regular(path).map_err(|e| err(format!("cannot open: {e}")))?;
                let mut r = BufReader::new(file);
                let (header, header_bytes) = read_npy_header(&mut r, len)
                    .map_err(|m| err(format!("not a valid .npy file: {m}")))?;
                let (dtype, n, bytes) = check(&header)?;
                let held = len - header_bytes;
                if held != bytes {
                    return Err(err(format!(
                        "the file holds {held} bytes after its header, but the header declares {bytes} ({})",
                        header.describe()
                    )));
                }
                let data = read_values(&mut r.take(bytes), dtype, n, true).map_err(err)?;
                finish(header, data)
            }
            Opened::Onnx(tensors) => {
                let Some(t) = tensors.get(tensor) else {
                    let mut names: Vec<String> = tensors.keys().cloned().collect();
                    names.sort();
                    return Err(err(missing(tensor, &names)));
                };
                let header = Header {
                    dtype: Some(Dtype {
                        elem: Elem::F32,
                        big_endian: false,
                    }),
                    descr: "float32".into(),
                    shape: t.shape.clone(),
                    fortran: false,
                };
                check(&header)?;
                Ok(LoadedTensor {
                    shape: t.shape.clone(),
                    data: t.data.clone(),
                })
            }
            Opened::Safetensors(st) => {
                let Some(info) = st.tensors.get(tensor) else {
                    return Err(err(missing(tensor, &st.names)));
                };
                let header = Header {
                    dtype: safetensors_elem(info.dtype).map(|elem| Dtype {
                        elem,
                        big_endian: false,
                    }),
                    descr: format!("{:?}", info.dtype),
                    shape: info.shape.iter().map(|&d| d as u64).collect(),
                    fortran: false,
                };
                let (dtype, n, bytes) = check(&header)?;
                // The header was checked against the file's length when it was opened.
                let start = st.data_start + info.data_offsets.0 as u64;
                st.file
                    .seek(SeekFrom::Start(start))
                    .map_err(|e| err(format!("cannot read the data: {e}")))?;
                let data =
                    read_values(&mut (&mut st.file).take(bytes), dtype, n, true).map_err(err)?;
                finish(header, data)
            }
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
        Ok(self
            .load_expecting(path, tensor, Some(layer), Expect::Shape(expected))?
            .data)
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

/// The element types read, all converted to f32.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Elem {
    F16,
    Bf16,
    F32,
    F64,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
}

impl Elem {
    fn size(self) -> u64 {
        match self {
            Elem::I8 | Elem::U8 => 1,
            Elem::F16 | Elem::Bf16 | Elem::I16 | Elem::U16 => 2,
            Elem::F32 | Elem::I32 | Elem::U32 => 4,
            Elem::F64 | Elem::I64 | Elem::U64 => 8,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Dtype {
    elem: Elem,
    big_endian: bool,
}

/// A tensor's header: what its file says it holds, before any data is read.
#[derive(Debug, Clone, PartialEq)]
struct Header {
    /// None when plumsim does not read the dtype.
    dtype: Option<Dtype>,
    /// The dtype as the file writes it (messages).
    descr: String,
    shape: Vec<u64>,
    fortran: bool,
}

impl Header {
    fn describe(&self) -> String {
        format!("shape {:?} of `{}`", self.shape, self.descr)
    }
}

/// Check a header against `expect` and the limits every tensor has, before any data is read:
/// its element count and data bytes, both computed without overflow.
fn check_header(
    h: &Header,
    expect: Expect<'_>,
    err: &dyn Fn(String) -> Error,
) -> Result<(Dtype, u64, u64)> {
    let Some(dtype) = h.dtype else {
        return Err(err(format!("unsupported dtype `{}` ({ALLOWED})", h.descr)));
    };
    let counts = h
        .shape
        .iter()
        .try_fold(1u64, |a, &d| a.checked_mul(d))
        .and_then(|n| Some((n, n.checked_mul(dtype.elem.size())?)));
    let Some((n, bytes)) = counts else {
        return Err(err(format!(
            "shape {:?} has more elements than a 64-bit count holds (help: the header is corrupt)",
            h.shape
        )));
    };
    match expect {
        Expect::Any => {}
        Expect::Shape(want) => {
            if h.shape != want {
                return Err(err(format!(
                    "shape {:?} does not match the layer's weight shape {want:?} (help: PyTorch layout: conv [out, in/groups, kh, kw], linear [out, in], matmul [n, k])",
                    h.shape
                )));
            }
        }
        Expect::Check(f) => f(&h.shape)?,
    }
    if n > MAX_TENSOR_ELEMENTS {
        return Err(err(format!(
            "shape {:?} has {n} elements (help: at most {MAX_TENSOR_ELEMENTS} per tensor)",
            h.shape
        )));
    }
    Ok((dtype, n, bytes))
}

/// Read exactly `n` values of `dtype` from `r` (a reader limited to their bytes), converting
/// them to f32 as they arrive. `reserve` allocates all of them up front, for data whose size
/// was checked against the file; otherwise (a compressed entry) memory grows with the data
/// actually read.
fn read_values(r: &mut impl Read, dtype: Dtype, n: u64, reserve: bool) -> Result<Vec<f32>, String> {
    let total = n * dtype.elem.size();
    let mut out = Vec::with_capacity(if reserve { n } else { n.min(1 << 20) } as usize);
    let mut buf = vec![0u8; 1 << 16];
    let mut done = 0u64;
    while done < total {
        let want = (total - done).min(buf.len() as u64) as usize;
        let mut filled = 0;
        while filled < want {
            match r.read(&mut buf[filled..want]) {
                Ok(0) => {
                    return Err(format!(
                        "the data ends after {} of the {total} bytes its header declares",
                        done + filled as u64
                    ))
                }
                Ok(k) => filled += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("cannot read the data: {e}")),
            }
        }
        decode(dtype, &buf[..want], &mut out);
        done += want as u64;
    }
    Ok(out)
}

/// Append the values in `bytes` (whole elements) to `out` as f32 (integers and f64 round to
/// nearest).
fn decode(dtype: Dtype, bytes: &[u8], out: &mut Vec<f32>) {
    let big = dtype.big_endian;
    macro_rules! go {
        ($t:ty, $f:expr) => {{
            const N: usize = std::mem::size_of::<$t>();
            out.extend(bytes.chunks_exact(N).map(|c| {
                let a: [u8; N] = c.try_into().expect("chunk size");
                $f(if big {
                    <$t>::from_be_bytes(a)
                } else {
                    <$t>::from_le_bytes(a)
                })
            }))
        }};
    }
    match dtype.elem {
        Elem::F32 => go!(f32, |x: f32| x),
        Elem::F16 => go!(u16, |x: u16| half::f16::from_bits(x).to_f32()),
        Elem::Bf16 => go!(u16, |x: u16| half::bf16::from_bits(x).to_f32()),
        Elem::F64 => go!(f64, |x: f64| x as f32),
        Elem::I8 => go!(i8, |x: i8| x as f32),
        Elem::I16 => go!(i16, |x: i16| x as f32),
        Elem::I32 => go!(i32, |x: i32| x as f32),
        Elem::I64 => go!(i64, |x: i64| x as f32),
        Elem::U8 => go!(u8, |x: u8| x as f32),
        Elem::U16 => go!(u16, |x: u16| x as f32),
        Elem::U32 => go!(u32, |x: u32| x as f32),
        Elem::U64 => go!(u64, |x: u64| x as f32),
    }
}

fn finish(header: Header, data: Vec<f32>) -> Result<LoadedTensor, String> {
    let data = if header.fortran {
        fortran_to_c(&header.shape, &data)
    } else {
        data
    };
    Ok(LoadedTensor {
        shape: header.shape,
        data,
    })
}

/// Reorder column-major (Fortran) data into row-major (C) order. Keras-exported arrays,
/// such as the MLPerf Tiny ResNet-8 weights, are stored this way. `data` holds the product of
/// `shape` values (checked from the header before it was read).
fn fortran_to_c(shape: &[u64], data: &[f32]) -> Vec<f32> {
    let dims: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
    debug_assert_eq!(dims.iter().product::<usize>(), data.len());
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

fn open_npz(path: &Path) -> std::io::Result<Opened> {
    let (file, _) = open_regular(path)?;
    let zip = ZipArchive::new(BufReader::new(file))
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))?;
    let names = zip
        .file_names()
        .filter_map(npyz::npz::array_name_from_file_name)
        .map(str::to_string)
        .collect();
    Ok(Opened::Npz { zip, names })
}

/// Read a `.npy` header from `r` (at most `limit` bytes long, the file's or the archive
/// entry's size): the header and its length in bytes, after which the data starts.
fn read_npy_header(r: &mut impl Read, limit: u64) -> Result<(Header, u64), String> {
    let mut pre = [0u8; 12];
    r.read_exact(&mut pre[..8])
        .map_err(|_| "too short for the .npy magic and version".to_string())?;
    if &pre[..6] != b"\x93NUMPY" {
        return Err("no .npy magic (\\x93NUMPY) at its start".into());
    }
    let (major, minor) = (pre[6], pre[7]);
    let (len, pre_len) = match major {
        1 => {
            r.read_exact(&mut pre[8..10])
                .map_err(|_| "too short for its header length".to_string())?;
            (u16::from_le_bytes([pre[8], pre[9]]) as u64, 10)
        }
        2 | 3 => {
            r.read_exact(&mut pre[8..12])
                .map_err(|_| "too short for its header length".to_string())?;
            (
                u32::from_le_bytes([pre[8], pre[9], pre[10], pre[11]]) as u64,
                12,
            )
        }
        _ => return Err(format!("unsupported .npy version {major}.{minor}")),
    };
    if len > MAX_NPY_HEADER {
        return Err(format!(
            "a header of {len} bytes (help: at most {MAX_NPY_HEADER})"
        ));
    }
    if pre_len + len > limit {
        return Err(format!(
            "a header of {len} bytes, but only {} bytes follow its length",
            limit.saturating_sub(pre_len)
        ));
    }
    let mut text = vec![0u8; len as usize];
    r.read_exact(&mut text)
        .map_err(|e| format!("cannot read its header: {e}"))?;
    let text = std::str::from_utf8(&text).map_err(|_| "its header is not text".to_string())?;
    Ok((parse_npy_header(text)?, pre_len + len))
}

/// A Python literal as `.npy` headers write them.
#[derive(Debug, Clone, PartialEq)]
enum Py {
    Str(String),
    Bool(bool),
    None,
    /// The digits as written (a shape may hold values beyond any integer type).
    Int(String),
    Seq(Vec<Py>),
    Dict(Vec<(Py, Py)>),
}

/// Parse the header dict `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`.
fn parse_npy_header(text: &str) -> Result<Header, String> {
    let mut p = PyParser {
        s: text.as_bytes(),
        i: 0,
        depth: 0,
    };
    let value = p.value()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!(
            "its header has text after the dict at byte {}",
            p.i
        ));
    }
    let Py::Dict(entries) = value else {
        return Err("its header is not a dict".into());
    };
    let get = |key: &str| {
        entries
            .iter()
            .find(|(k, _)| *k == Py::Str(key.into()))
            .map(|(_, v)| v)
            .ok_or_else(|| format!("its header has no `{key}`"))
    };
    let fortran = match get("fortran_order")? {
        Py::Bool(b) => *b,
        other => return Err(format!("`fortran_order` is {other:?}, not True or False")),
    };
    let Py::Seq(dims) = get("shape")? else {
        return Err("`shape` is not a tuple".into());
    };
    let shape = dims
        .iter()
        .map(|d| match d {
            Py::Int(s) => s
                .trim_end_matches(['L', 'l'])
                .parse::<u64>()
                .map_err(|_| format!("shape dimension `{s}` is not a size (0..=2^64-1)")),
            other => Err(format!("shape dimension {other:?} is not an integer")),
        })
        .collect::<Result<Vec<u64>, String>>()?;
    let (dtype, descr) = match get("descr")? {
        Py::Str(d) => (npy_dtype(d), d.clone()),
        other => (None, format!("{other:?}")),
    };
    Ok(Header {
        dtype,
        descr,
        shape,
        fortran,
    })
}

/// A numpy type string (`<f4`, `|u1`, `>i2`) as a [`Dtype`], when it is one plumsim reads.
fn npy_dtype(descr: &str) -> Option<Dtype> {
    let (big_endian, rest) = match descr.as_bytes().first()? {
        b'<' | b'|' => (false, &descr[1..]),
        b'>' => (true, &descr[1..]),
        b'=' => (cfg!(target_endian = "big"), &descr[1..]),
        _ => (cfg!(target_endian = "big"), descr),
    };
    let elem = match rest {
        "f2" => Elem::F16,
        "f4" => Elem::F32,
        "f8" => Elem::F64,
        "i1" => Elem::I8,
        "i2" => Elem::I16,
        "i4" => Elem::I32,
        "i8" => Elem::I64,
        "u1" => Elem::U8,
        "u2" => Elem::U16,
        "u4" => Elem::U32,
        "u8" => Elem::U64,
        _ => return None,
    };
    Some(Dtype { elem, big_endian })
}

/// Recursive descent over a Python literal, nested at most 16 deep.
struct PyParser<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
}

impl PyParser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn fail(&self, what: &str) -> String {
        format!(
            "its header is not a Python literal: {what} at byte {}",
            self.i
        )
    }

    fn value(&mut self) -> Result<Py, String> {
        self.ws();
        match self.peek() {
            Some(b'{') => self.nested(b'}'),
            Some(b'(') => self.nested(b')'),
            Some(b'[') => self.nested(b']'),
            Some(q @ (b'\'' | b'"')) => self.string(q),
            Some(c) if c.is_ascii_digit() || c == b'-' || c == b'+' => {
                let start = self.i;
                self.i += 1;
                while self.peek().is_some_and(|c| c.is_ascii_alphanumeric()) {
                    self.i += 1;
                }
                Ok(Py::Int(
                    String::from_utf8_lossy(&self.s[start..self.i]).into_owned(),
                ))
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let start = self.i;
                while self.peek().is_some_and(|c| c.is_ascii_alphanumeric()) {
                    self.i += 1;
                }
                match &self.s[start..self.i] {
                    b"True" => Ok(Py::Bool(true)),
                    b"False" => Ok(Py::Bool(false)),
                    b"None" => Ok(Py::None),
                    _ => {
                        self.i = start;
                        Err(self.fail("an unknown name"))
                    }
                }
            }
            Some(_) => Err(self.fail("an unexpected character")),
            None => Err(self.fail("the end of the text")),
        }
    }

    fn string(&mut self, quote: u8) -> Result<Py, String> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return Err(self.fail("an unterminated string")),
                Some(c) if c == quote => {
                    self.i += 1;
                    return Ok(Py::Str(String::from_utf8_lossy(&out).into_owned()));
                }
                Some(b'\\') => {
                    self.i += 1;
                    let Some(c) = self.peek() else {
                        return Err(self.fail("an unterminated string"));
                    };
                    out.push(c);
                    self.i += 1;
                }
                Some(c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }

    /// A dict, tuple or list, up to its `close`; trailing commas allowed.
    fn nested(&mut self, close: u8) -> Result<Py, String> {
        self.depth += 1;
        if self.depth > 16 {
            return Err(self.fail("nesting deeper than 16"));
        }
        self.i += 1;
        let mut items = Vec::new();
        let mut entries = Vec::new();
        loop {
            self.ws();
            if self.peek() == Some(close) {
                self.i += 1;
                break;
            }
            let v = self.value()?;
            if close == b'}' {
                self.ws();
                if self.peek() != Some(b':') {
                    return Err(self.fail("a dict key without `:`"));
                }
                self.i += 1;
                entries.push((v, self.value()?));
            } else {
                items.push(v);
            }
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(c) if c == close => {}
                None => return Err(self.fail("the end of the text")),
                _ => return Err(self.fail("a missing `,`")),
            }
        }
        self.depth -= 1;
        Ok(if close == b'}' {
            Py::Dict(entries)
        } else {
            Py::Seq(items)
        })
    }
}

fn safetensors_elem(dtype: safetensors::Dtype) -> Option<Elem> {
    use safetensors::Dtype as D;
    Some(match dtype {
        D::F32 => Elem::F32,
        D::F16 => Elem::F16,
        D::BF16 => Elem::Bf16,
        D::F64 => Elem::F64,
        D::I8 => Elem::I8,
        D::I16 => Elem::I16,
        D::I32 => Elem::I32,
        D::I64 => Elem::I64,
        D::U8 => Elem::U8,
        D::U16 => Elem::U16,
        D::U32 => Elem::U32,
        D::U64 => Elem::U64,
        _ => return None,
    })
}

/// Open a `.safetensors` file and read its header only: the 8-byte length, then the JSON
/// header (at most [`MAX_SAFETENSORS_HEADER`] bytes), whose tensors must tile the data section
/// exactly, each its shape's bytes, as the format requires. Tensor data is read later, one
/// tensor at a time.
fn open_safetensors(path: &Path) -> Result<Safetensors, String> {
    let invalid = |m: String| format!("not a valid .safetensors file: {m}");
    let (mut file, len) = open_regular(path).map_err(|e| format!("cannot read: {e}"))?;
    let mut n = [0u8; 8];
    if len < 8 || file.read_exact(&mut n).is_err() {
        return Err(invalid(format!(
            "{len} bytes, too short for its 8-byte header length"
        )));
    }
    let n = u64::from_le_bytes(n);
    if n > MAX_SAFETENSORS_HEADER {
        return Err(invalid(format!(
            "a header of {n} bytes (help: at most {MAX_SAFETENSORS_HEADER})"
        )));
    }
    if n > len - 8 {
        return Err(invalid(format!(
            "a header of {n} bytes, but only {} bytes follow its length",
            len - 8
        )));
    }
    let mut text = vec![0u8; n as usize];
    file.read_exact(&mut text)
        .map_err(|e| invalid(format!("cannot read its header: {e}")))?;
    let meta: safetensors::tensor::Metadata = serde_json::from_slice(&text)
        .map_err(|e| invalid(format!("its header is not valid: {e}")))?;
    let tensors: HashMap<String, safetensors::tensor::TensorInfo> = meta
        .tensors()
        .into_iter()
        .map(|(k, v)| (k, v.clone()))
        .collect();
    let mut order: Vec<(&String, &safetensors::tensor::TensorInfo)> = tensors.iter().collect();
    order.sort_by(|a, b| (a.1.data_offsets, a.0).cmp(&(b.1.data_offsets, b.0)));
    let mut end = 0u64;
    for (name, info) in &order {
        let (s, e) = (info.data_offsets.0 as u64, info.data_offsets.1 as u64);
        if s != end || e < s {
            return Err(invalid(format!(
                "tensor `{name}` at bytes {s}..{e} of the data does not start where the previous one ends ({end})"
            )));
        }
        let bytes = info
            .shape
            .iter()
            .try_fold(1u64, |a, &d| a.checked_mul(d as u64))
            .and_then(|k| k.checked_mul(info.dtype.size() as u64));
        if bytes != Some(e - s) {
            return Err(invalid(format!(
                "tensor `{name}` spans {} bytes, but its shape {:?} of {:?} needs {}",
                e - s,
                info.shape,
                info.dtype,
                bytes.map_or("more than 2^64".into(), |b| b.to_string())
            )));
        }
        end = e;
    }
    let data_len = len - 8 - n;
    if end != data_len {
        return Err(invalid(format!(
            "its tensors span {end} bytes of data, but the file holds {data_len} after the header"
        )));
    }
    let mut names: Vec<String> = tensors.keys().cloned().collect();
    names.sort();
    Ok(Safetensors {
        file,
        data_start: 8 + n,
        tensors,
        names,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(text: &str) -> Result<Header, String> {
        parse_npy_header(text)
    }

    #[test]
    fn npy_headers_parse_as_numpy_writes_them() {
        let h = header("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }          \n")
            .unwrap();
        assert_eq!(
            (h.shape, h.fortran, h.dtype),
            (
                vec![3, 4],
                false,
                Some(Dtype {
                    elem: Elem::F32,
                    big_endian: false
                })
            )
        );
        // Python 2 longs, big-endian data, a 0-d array, double quotes, no trailing comma.
        let h = header(r#"{"descr": ">i2", "fortran_order": True, "shape": (2L, 5L)}"#).unwrap();
        assert_eq!(
            (h.shape, h.fortran, h.dtype.map(|d| d.big_endian)),
            (vec![2, 5], true, Some(true))
        );
        assert_eq!(
            header("{'descr': '|u1', 'fortran_order': False, 'shape': ()}")
                .unwrap()
                .shape,
            Vec::<u64>::new()
        );
        let mut out = Vec::new();
        decode(
            Dtype {
                elem: Elem::I16,
                big_endian: true,
            },
            &[0xff, 0xfe, 0x01, 0x00],
            &mut out,
        );
        assert_eq!(out, vec![-2.0, 256.0]);
    }

    #[test]
    fn bad_npy_headers_are_errors_not_panics() {
        let e = |t: &str| header(t).unwrap_err();
        let err = |m: String| Error::Internal(m);
        let dtype_error = |t: &str| {
            check_header(&header(t).unwrap(), Expect::Any, &err)
                .unwrap_err()
                .to_string()
        };
        assert!(
            dtype_error("{'descr': '|b1', 'fortran_order': False, 'shape': (2,)}")
                .contains("unsupported dtype `|b1`")
        );
        assert!(
            dtype_error("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}")
                .contains("unsupported dtype")
        );
        assert!(
            e("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}")
                .contains("shape dimension `-1` is not a size")
        );
        assert!(
            e("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,)}")
                .contains("is not a size")
        );
        assert!(e("{'descr': '<f4', 'shape': (2,)}").contains("no `fortran_order`"));
        assert!(
            e(&format!("{}{}", "(".repeat(100_000), ")".repeat(100_000)))
                .contains("nesting deeper than 16")
        );
        assert!(e("{'descr': '<f4'").contains("the end of the text"));
        assert!(e("{'descr': '<f4', 'fortran_order': Maybe}").contains("an unknown name"));
        assert!(e("{} trailing").contains("text after the dict"));
        // Every header check passes the shape product through checked arithmetic.
        let h =
            header("{'descr': '<f8', 'fortran_order': True, 'shape': (4611686018427387904, 4)}")
                .unwrap();
        let msg = check_header(&h, Expect::Any, &err).unwrap_err().to_string();
        assert!(
            msg.contains("more elements than a 64-bit count holds"),
            "{msg}"
        );
    }

    #[test]
    fn fortran_order_is_reordered_to_c_order() {
        // Element (i, j) of a 2 x 3 array stored column-major at i + 2 j.
        let f = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(
            fortran_to_c(&[2, 3], &f),
            vec![f[0], f[2], f[4], f[1], f[3], f[5]]
        );
    }
}
