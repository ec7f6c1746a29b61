//! ONNX files: the model's bytes and its initializers' external data read for
//! [`crate::onnx::import`], and the imported weights written as `.safetensors` or `.npz`.
//!
//! External data is read only from inside the model's folder: its `location` must be a
//! relative path without `..`, and the file it names (after symlinks) must lie in that folder.
//! An absent external file makes its tensors shape-only (synthetic weights, with a warning).

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path};

use super::files::open_regular;
use crate::error::{Error, Problem, Result};
use crate::onnx::{import, ExternalRef, ImportOptions, Imported, Tensor};

/// The largest model file read: protobuf's own limit for one message (2 GiB).
pub const MAX_MODEL_BYTES: u64 = 2 << 30;

/// Import the model at `path` (see [`crate::onnx`]).
pub fn import_file(path: &Path, options: &ImportOptions) -> Result<Imported> {
    let origin = path.display().to_string();
    let io_err = |source: std::io::Error| Error::Io {
        path: origin.clone(),
        source,
    };
    let (mut file, len) = open_regular(path).map_err(io_err)?;
    if len > MAX_MODEL_BYTES {
        return Err(Error::invalid(
            &origin,
            vec![Problem::new(
                "file",
                format!("{len} bytes: larger than an ONNX protobuf can be (2 GiB)"),
            )
            .with_help("a model this large keeps its weights as external data beside it")],
        ));
    }
    super::check_memory(&format!("reading {origin}"), len as u128 * 2)?;
    let mut bytes = Vec::with_capacity(len as usize);
    file.read_to_end(&mut bytes).map_err(io_err)?;
    let folder = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let mut external = |r: &ExternalRef| read_external(&folder, &origin, r);
    import(&bytes, &origin, options, &mut external)
}

fn read_external(folder: &Path, origin: &str, r: &ExternalRef) -> Result<Option<Vec<u8>>> {
    let err = |message: String| Error::Weights {
        file: origin.to_string(),
        tensor: r.tensor.clone(),
        layer: None,
        message,
    };
    let rel = Path::new(&r.location);
    let escapes = rel.is_absolute()
        || rel
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir));
    if escapes || r.location.is_empty() {
        return Err(err(format!(
            "external data location `{}` leaves the model's folder (help: it must be a path relative to the model's folder, without `..`)",
            r.location
        )));
    }
    let full = folder.join(rel);
    if !full.exists() {
        return Ok(None);
    }
    // A symlink inside the folder must not lead out of it.
    let (canon_folder, canon) = (
        folder
            .canonicalize()
            .map_err(|e| err(format!("cannot resolve the model's folder: {e}")))?,
        full.canonicalize()
            .map_err(|e| err(format!("cannot resolve `{}`: {e}", r.location)))?,
    );
    if !canon.starts_with(&canon_folder) {
        return Err(err(format!(
            "external data location `{}` resolves to {}, outside the model's folder",
            r.location,
            canon.display()
        )));
    }
    let (mut f, len) =
        open_regular(&full).map_err(|e| err(format!("cannot open `{}`: {e}", r.location)))?;
    let length = match r.length {
        Some(l) => l,
        None => len.saturating_sub(r.offset),
    };
    if r.offset.checked_add(length).is_none_or(|end| end > len) {
        return Err(err(format!(
            "external data at offset {} with length {length} runs past the end of `{}` ({len} bytes)",
            r.offset, r.location
        )));
    }
    if length > crate::workload::MAX_TENSOR_ELEMENTS * 8 {
        return Err(err(format!(
            "external data of {length} bytes is larger than any tensor plumsim reads"
        )));
    }
    super::check_memory(&format!("reading tensor `{}`", r.tensor), length as u128)?;
    f.seek(SeekFrom::Start(r.offset))
        .map_err(|e| err(format!("cannot read `{}`: {e}", r.location)))?;
    let mut buf = vec![0u8; length as usize];
    f.read_exact(&mut buf)
        .map_err(|e| err(format!("cannot read `{}`: {e}", r.location)))?;
    Ok(Some(buf))
}

/// The imported tensors as a `.safetensors` file (f32).
pub fn safetensors_bytes(tensors: &[Tensor]) -> Result<Vec<u8>> {
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|t| t.data.iter().flat_map(|v| v.to_le_bytes()).collect())
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = tensors
        .iter()
        .zip(&bytes)
        .map(|(t, b)| {
            let shape: Vec<usize> = t.shape.iter().map(|&d| d as usize).collect();
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape, b)
                .map(|v| (t.name.clone(), v))
                .map_err(|e| Error::Internal(format!("tensor `{}`: {e}", t.name)))
        })
        .collect::<Result<_>>()?;
    let mut meta = BTreeMap::new();
    meta.insert("format".to_string(), "pt".to_string());
    safetensors::tensor::serialize(views, &Some(meta.into_iter().collect()))
        .map_err(|e| Error::Internal(format!("writing safetensors: {e}")))
}

/// The imported tensors as an `.npz` archive (f32 arrays, stored uncompressed).
pub fn npz_bytes(tensors: &[Tensor]) -> Result<Vec<u8>> {
    use npyz::WriterBuilder;
    let internal = |e: std::io::Error| Error::Internal(format!("writing npz: {e}"));
    let mut cursor = std::io::Cursor::new(Vec::new());
    {
        let mut npz = npyz::npz::NpzWriter::new(&mut cursor);
        for t in tensors {
            let mut w = npz
                .array::<f32>(&t.name, Default::default())
                .map_err(|e| Error::Internal(format!("writing npz: {e}")))?
                .default_dtype()
                .shape(&t.shape)
                .begin_nd()
                .map_err(internal)?;
            w.extend(t.data.iter().copied()).map_err(internal)?;
            w.finish().map_err(internal)?;
        }
    }
    Ok(cursor.into_inner())
}
