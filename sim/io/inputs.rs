//! Real inputs for functional runs (`--inputs PATH`): a folder of PNG/JPEG images, or a
//! `.npy`/`.npz` file of tensors already in the network's input form.
//!
//! * **Images** (`.png`, `.jpg`, `.jpeg`, in file-name order) go through the workload's
//!   `input_transform`: the shorter side resized to `resize` (bilinear, half-pixel centres,
//!   no antialiasing), the centre `crop` x `crop` cut, then `(pixel * scale - mean[c]) /
//!   std[c]` per channel (pixels 0..=255; 16-bit PNGs are scaled to that range). The result
//!   must have the network input's `[C, H, W]`: a grey image feeds a 1-channel input, an RGB
//!   one a 3-channel input; anything else is an error naming the file. A file named
//!   `..._L.png` with a number `L` after its last `_` gives label `L`; labels count only
//!   when every image has one.
//! * **Tensors**: a `.npy` holding `[N, C, H, W]` (or one `[C, H, W]`), or a `.npz` holding
//!   it under `input` (or the network input's name), optionally with `labels` (`[N]`
//!   integers) and `logits` (`[N, classes]`, reference outputs to check the fp32 path
//!   against). No transform is applied: they are the network's input.
//! * `--labels FILE`: one integer class per line, in input order, replaces the labels above.
//!
//! Bad input is an error naming the file and what was expected; nothing is run.

use std::io::BufReader;
use std::path::{Path, PathBuf};

use super::files::{not_regular, open_regular};
use super::weights::{Expect, LoadedTensor, WeightLoader};
use crate::error::{Error, Problem, Result};
use crate::workload::{InputTransform, Network};

/// Inputs as the functional run takes them.
#[derive(Debug, Clone)]
pub struct InputSet {
    /// Where they came from (messages, reports).
    pub origin: String,
    /// A name per input (file names, or `name[i]` for tensors).
    pub names: Vec<String>,
    /// Each input's values, the network input's per-sample shape.
    pub values: Vec<Vec<f32>>,
    pub labels: Option<Vec<u32>>,
    pub reference_logits: Option<Vec<Vec<f32>>>,
}

fn bad(file: &Path, message: impl Into<String>, help: impl Into<String>) -> Error {
    Error::invalid(
        file.display().to_string(),
        vec![Problem::new("input", message).with_help(help)],
    )
}

/// Most pixels of an image, decoded or resized.
const MAX_PIXELS: usize = 1 << 28;

/// Most inputs one run takes (each is run through two networks).
pub const MAX_INPUTS: usize = 100_000;

/// The network's one input shape, `[C, H, W]` or any other per-sample shape.
fn input_shape(net: &Network) -> Result<Vec<u64>> {
    let inputs: Vec<&crate::workload::Tensor> = net
        .tensors
        .iter()
        .filter(|t| t.producer.is_none())
        .collect();
    match inputs[..] {
        [t] => Ok(t.shape.clone()),
        _ => Err(Error::Unsupported(format!(
            "--inputs: workload `{}` has {} input tensors; functional runs take one",
            net.name,
            inputs.len()
        ))),
    }
}

/// Load the inputs at `path` for `net`, with labels from `labels` when given.
pub fn load_inputs(path: &Path, net: &Network, labels: Option<&Path>) -> Result<InputSet> {
    let shape = input_shape(net)?;
    let meta = std::fs::metadata(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })?;
    let mut set = if meta.is_dir() {
        load_images(path, net, &shape)?
    } else if meta.is_file() {
        load_tensors(path, net, &shape)?
    } else {
        return Err(Error::Io {
            path: path.display().to_string(),
            source: not_regular(&meta),
        });
    };
    if let Some(l) = labels {
        set.labels = Some(read_labels(l, set.values.len())?);
    }
    Ok(set)
}

fn is_image(p: &Path) -> bool {
    p.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .is_some_and(|e| matches!(e.as_str(), "png" | "jpg" | "jpeg"))
}

fn load_images(dir: &Path, net: &Network, shape: &[u64]) -> Result<InputSet> {
    let io = |source| Error::Io {
        path: dir.display().to_string(),
        source,
    };
    // Every entry named like an image is read (one that is not a regular file is refused by
    // name when it is opened); the listing stops past the most inputs a run takes.
    let mut files: Vec<PathBuf> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let p = entry.map_err(io)?.path();
        if is_image(&p) {
            files.push(p);
            if files.len() > MAX_INPUTS {
                return Err(bad(
                    dir,
                    format!("more than {MAX_INPUTS} images"),
                    format!("at most {MAX_INPUTS} inputs per run"),
                ));
            }
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(bad(
            dir,
            "no .png, .jpg or .jpeg files in this folder",
            "give a folder of images, or a .npy/.npz tensor file",
        ));
    }
    let [c, h, w] = shape[..] else {
        return Err(bad(
            dir,
            format!("images cannot feed an input of shape {shape:?}"),
            "images feed a [C, H, W] input; give a .npy/.npz tensor file instead",
        ));
    };
    let default = InputTransform {
        scale: 1.0 / 255.0,
        mean: vec![0.0; c as usize],
        std: vec![1.0; c as usize],
        resize: None,
        crop: None,
    };
    let t = net.input_transform.as_ref().unwrap_or(&default);
    let mismatch = |f: &Path, nh: usize, nw: usize| {
        bad(
            f,
            format!("{nh} x {nw} pixels after the workload's transform"),
            format!(
                "the network input is {h} x {w}: give images of that size, or set input_transform.resize and .crop in the workload"
            ),
        )
    };
    let mut values = Vec::with_capacity(files.len());
    let mut labels = Vec::new();
    for f in &files {
        // The size the transform makes of the header's, checked before decoding.
        let fits = |h0: usize, w0: usize| -> Result<()> {
            match geometry(h0, w0, t) {
                None => Err(bad(
                    f,
                    format!(
                        "{h0} x {w0} pixels: resized to a shorter side of {:?} it would be too large",
                        t.resize
                    ),
                    "at most 2^28 pixels after the resize",
                )),
                Some((nh, nw)) if (nh as u64, nw as u64) != (h, w) => Err(mismatch(f, nh, nw)),
                Some(_) => Ok(()),
            }
        };
        let img = decode(f, &fits)?;
        if img.channels as u64 != c {
            return Err(bad(
                f,
                format!("{} channel(s)", img.channels),
                format!(
                    "the network input has {c} channel(s) ([C, H, W] = {shape:?}): give {} images",
                    if c == 1 { "grey" } else { "RGB" }
                ),
            ));
        }
        let (h0, w0) = (img.height, img.width);
        let Some(img) = transform_geometry(img, t) else {
            return Err(bad(
                f,
                format!(
                    "{h0} x {w0} pixels: resized to a shorter side of {:?} it would be too large",
                    t.resize
                ),
                "at most 2^28 pixels after the resize",
            ));
        };
        if (img.height as u64, img.width as u64) != (h, w) {
            return Err(mismatch(f, img.height, img.width));
        }
        values.push(normalize(&img, t));
        labels.push(label_of(f));
    }
    Ok(InputSet {
        origin: dir.display().to_string(),
        names: files
            .iter()
            .map(|f| {
                f.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect(),
        values,
        labels: labels.into_iter().collect(),
        reference_logits: None,
    })
}

/// The label in a file name `..._L.ext`.
fn label_of(f: &Path) -> Option<u32> {
    let stem = f.file_stem()?.to_string_lossy().into_owned();
    let (_, last) = stem.rsplit_once('_')?;
    last.parse().ok()
}

/// Decoded pixels, row-major `[H, W, C]`, 0..=255.
#[derive(Debug, Clone)]
struct Image {
    width: usize,
    height: usize,
    channels: usize,
    pixels: Vec<f32>,
}

/// Decode `f`; `check(height, width)` runs on the header's size, before any pixel is
/// allocated or decoded.
fn decode(f: &Path, check: &dyn Fn(usize, usize) -> Result<()>) -> Result<Image> {
    // Decoded as it is read: nothing is allocated for the pixels before their count is
    // checked against MAX_PIXELS.
    let (file, _) = open_regular(f).map_err(|source| Error::Io {
        path: f.display().to_string(),
        source,
    })?;
    let reader = BufReader::new(file);
    let too_large = |w: usize, h: usize| {
        bad(
            f,
            format!("{w} x {h} pixels"),
            "at most 2^28 pixels per image",
        )
    };
    let ext = f
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let unreadable = |e: String| {
        bad(
            f,
            format!("cannot decode: {e}"),
            "give a valid PNG or baseline/progressive JPEG file",
        )
    };
    if ext == "png" {
        let mut decoder = png::Decoder::new(reader);
        decoder.set_transformations(png::Transformations::EXPAND);
        let mut reader = decoder.read_info().map_err(|e| unreadable(e.to_string()))?;
        let (w, h) = (reader.info().width as usize, reader.info().height as usize);
        if w.saturating_mul(h) > MAX_PIXELS {
            return Err(too_large(w, h));
        }
        check(h, w)?;
        let mut buf = vec![0u8; reader.output_buffer_size()];
        let frame = reader
            .next_frame(&mut buf)
            .map_err(|e| unreadable(e.to_string()))?;
        let (ct, depth) = (frame.color_type, frame.bit_depth);
        let samples: Vec<f32> = match depth {
            png::BitDepth::Sixteen => buf[..frame.buffer_size()]
                .chunks(2)
                .map(|b| u16::from_be_bytes([b[0], b[1]]) as f32 * 255.0 / 65535.0)
                .collect(),
            _ => buf[..frame.buffer_size()]
                .iter()
                .map(|&b| b as f32)
                .collect(),
        };
        let channels = match ct {
            png::ColorType::Grayscale => 1,
            png::ColorType::Rgb => 3,
            png::ColorType::GrayscaleAlpha | png::ColorType::Rgba => {
                return Err(bad(
                    f,
                    "has an alpha channel",
                    "give grey or RGB images without transparency",
                ))
            }
            png::ColorType::Indexed => unreachable!("EXPAND turns palettes into RGB"),
        };
        Ok(Image {
            width: w,
            height: h,
            channels,
            pixels: samples,
        })
    } else {
        let mut d = jpeg_decoder::Decoder::new(reader);
        d.read_info().map_err(|e| unreadable(e.to_string()))?;
        let info = d
            .info()
            .ok_or_else(|| unreadable("no image header".into()))?;
        let (w, h) = (info.width as usize, info.height as usize);
        if w.saturating_mul(h) > MAX_PIXELS {
            return Err(too_large(w, h));
        }
        check(h, w)?;
        let pixels = d.decode().map_err(|e| unreadable(e.to_string()))?;
        let channels = match info.pixel_format {
            jpeg_decoder::PixelFormat::L8 => 1,
            jpeg_decoder::PixelFormat::RGB24 => 3,
            other => {
                return Err(bad(
                    f,
                    format!("pixel format {other:?}"),
                    "give grey or RGB JPEG images",
                ))
            }
        };
        Ok(Image {
            width: info.width as usize,
            height: info.height as usize,
            channels,
            pixels: pixels.iter().map(|&b| b as f32).collect(),
        })
    }
}

/// The size after resizing the shorter side of `h x w` to `r`, as torchvision's `Resize(r)`
/// computes it: the longer side scaled and truncated.
fn resized(h: usize, w: usize, r: usize) -> (usize, usize) {
    let long = |l: usize, s: usize| ((r as u128 * l as u128) / s as u128).max(1) as usize;
    if h <= w {
        (r, long(w, h))
    } else {
        (long(h, w), r)
    }
}

/// The size [`transform_geometry`] makes of an `h x w` image, from the sizes alone; `None`
/// when the resized image would be too large.
fn geometry(h: usize, w: usize, t: &InputTransform) -> Option<(usize, usize)> {
    let (h, w) = match t.resize {
        Some(r) => resized(h, w, r as usize),
        None => (h, w),
    };
    if h.saturating_mul(w) > MAX_PIXELS {
        return None;
    }
    Some(match t.crop {
        Some(c) if (c as usize) <= h && (c as usize) <= w => (c as usize, c as usize),
        _ => (h, w),
    })
}

/// Resize (shorter side) and centre crop, as the transform says; `None` when the resized
/// image would be too large.
fn transform_geometry(img: Image, t: &InputTransform) -> Option<Image> {
    let img = match t.resize {
        Some(r) => {
            let (nh, nw) = resized(img.height, img.width, r as usize);
            if nh.saturating_mul(nw) > MAX_PIXELS {
                return None;
            }
            bilinear(&img, nh, nw)
        }
        None => img,
    };
    // torchvision's CenterCrop: offsets round((size - crop) / 2), ties to even.
    let offset = |size: usize, c: usize| ((size - c) as f64 / 2.0).round_ties_even() as usize;
    Some(match t.crop {
        Some(c) if (c as usize) <= img.height && (c as usize) <= img.width => {
            let c = c as usize;
            let top = offset(img.height, c);
            let left = offset(img.width, c);
            let ch = img.channels;
            let mut px = Vec::with_capacity(c * c * ch);
            for y in top..top + c {
                let row = (y * img.width + left) * ch;
                px.extend_from_slice(&img.pixels[row..row + c * ch]);
            }
            Image {
                width: c,
                height: c,
                channels: ch,
                pixels: px,
            }
        }
        _ => img,
    })
}

/// Bilinear resampling with half-pixel centres (edges clamped).
fn bilinear(img: &Image, nh: usize, nw: usize) -> Image {
    let ch = img.channels;
    let (sy, sx) = (img.height as f64 / nh as f64, img.width as f64 / nw as f64);
    let mut px = vec![0f32; nh * nw * ch];
    let tap = |v: f64, len: usize| {
        let p = v.max(0.0);
        let i0 = (p.floor() as usize).min(len - 1);
        let i1 = (i0 + 1).min(len - 1);
        (i0, i1, p - i0 as f64)
    };
    for y in 0..nh {
        let (y0, y1, fy) = tap((y as f64 + 0.5) * sy - 0.5, img.height);
        for x in 0..nw {
            let (x0, x1, fx) = tap((x as f64 + 0.5) * sx - 0.5, img.width);
            for c in 0..ch {
                let at = |yy: usize, xx: usize| img.pixels[(yy * img.width + xx) * ch + c] as f64;
                let top = at(y0, x0) * (1.0 - fx) + at(y0, x1) * fx;
                let bot = at(y1, x0) * (1.0 - fx) + at(y1, x1) * fx;
                px[(y * nw + x) * ch + c] = (top * (1.0 - fy) + bot * fy) as f32;
            }
        }
    }
    Image {
        width: nw,
        height: nh,
        channels: ch,
        pixels: px,
    }
}

/// `[H, W, C]` pixels to the normalized `[C, H, W]` input.
fn normalize(img: &Image, t: &InputTransform) -> Vec<f32> {
    let (h, w, ch) = (img.height, img.width, img.channels);
    let mut out = vec![0f32; ch * h * w];
    for c in 0..ch {
        let (m, s) = (t.mean[c], t.std[c]);
        for i in 0..h * w {
            let p = img.pixels[i * ch + c] as f64;
            out[c * h * w + i] = ((p * t.scale - m) / s) as f32;
        }
    }
    out
}

/// The per-sample element count of the network's one output (a tensor no layer reads), when
/// it has exactly one.
fn output_elements(net: &Network) -> Option<u64> {
    let read: std::collections::HashSet<u32> = net
        .layers
        .iter()
        .flat_map(|l| l.inputs.iter().map(|t| t.0))
        .collect();
    let mut outputs = net
        .tensors
        .iter()
        .enumerate()
        .filter(|(i, t)| t.producer.is_some() && !read.contains(&(*i as u32)));
    match (outputs.next(), outputs.next()) {
        (Some((_, t)), None) => t.shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d)),
        _ => None,
    }
}

fn elements(shape: &[u64]) -> Option<u64> {
    shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d))
}

/// `.npy`/`.npz` inputs. Every array's header is checked against the network (the input's
/// per-sample shape, one label and one row of logits per input) before its data is read.
fn load_tensors(path: &Path, net: &Network, shape: &[u64]) -> Result<InputSet> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let input_name = net
        .tensors
        .iter()
        .find(|t| t.producer.is_none())
        .map(|t| t.name.clone())
        .unwrap_or_default();
    let samples = |s: &[u64]| -> Result<u64> {
        let n = if s == shape {
            Some(1)
        } else if s.len() == shape.len() + 1 && s[1..] == *shape {
            Some(s[0])
        } else {
            None
        };
        let Some(n) = n else {
            return Err(bad(
                path,
                format!("input array of shape {s:?}"),
                format!(
                    "the network input is {shape:?} per sample: give [N, {}]",
                    shape
                        .iter()
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        };
        if n == 0 || n > MAX_INPUTS as u64 {
            return Err(bad(
                path,
                format!("{n} inputs"),
                format!("1..={MAX_INPUTS} inputs per run"),
            ));
        }
        Ok(n)
    };
    let check_input = |s: &[u64]| samples(s).map(|_| ());
    let mut loader = WeightLoader::new();
    let (input, names) = match ext.as_str() {
        "npy" => (
            loader.load_expecting(path, "input", None, Expect::Check(&check_input))?,
            Vec::new(),
        ),
        "npz" => {
            let (file, _) = open_regular(path).map_err(|source| Error::Io {
                path: path.display().to_string(),
                source,
            })?;
            let names: Vec<String> = npyz::npz::NpzArchive::new(BufReader::new(file))
                .map_err(|e| {
                    bad(
                        path,
                        format!("cannot open as .npz: {e}"),
                        "give a valid .npz file",
                    )
                })?
                .array_names()
                .map(str::to_string)
                .collect();
            let key = ["input".to_string(), input_name.clone()]
                .into_iter()
                .find(|k| names.contains(k))
                .ok_or_else(|| {
                    bad(
                        path,
                        format!(
                            "no array `input` or `{input_name}` (it holds {})",
                            names.join(", ")
                        ),
                        "store the inputs as `input`, [N, C, H, W]",
                    )
                })?;
            (
                loader.load_expecting(path, &key, None, Expect::Check(&check_input))?,
                names,
            )
        }
        other => {
            return Err(bad(
                path,
                format!("`.{other}` is not an input format"),
                "give a folder of .png/.jpg images, or a .npy/.npz tensor file",
            ))
        }
    };
    let n = samples(&input.shape)?;
    let per = elements(shape).unwrap_or(0);
    let values: Vec<Vec<f32>> = input
        .data
        .chunks(per.max(1) as usize)
        .map(<[f32]>::to_vec)
        .collect();
    let mut get = |k: &str, check: &dyn Fn(&[u64]) -> Result<()>| -> Result<Option<LoadedTensor>> {
        if names.iter().any(|name| name == k) {
            loader
                .load_expecting(path, k, None, Expect::Check(check))
                .map(Some)
        } else {
            Ok(None)
        }
    };
    let check_labels = |s: &[u64]| {
        if elements(s) == Some(n) {
            Ok(())
        } else {
            Err(bad(
                path,
                format!("`labels` of shape {s:?}"),
                format!("{n} non-negative integer labels, one per input"),
            ))
        }
    };
    let labels = match get("labels", &check_labels)? {
        Some(l) => {
            if l.data
                .iter()
                .any(|v| *v < 0.0 || v.fract() != 0.0 || *v > u32::MAX as f32)
            {
                return Err(bad(
                    path,
                    format!("`labels` of shape {:?}", l.shape),
                    format!("{n} non-negative integer labels, one per input"),
                ));
            }
            Some(l.data.iter().map(|&v| v as u32).collect())
        }
        None => None,
    };
    // One row per input, as long as the network's output when it has one.
    let out = output_elements(net);
    let check_logits = |s: &[u64]| {
        let total = elements(s);
        let ok = s.first() == Some(&n)
            && match out {
                Some(o) => total == n.checked_mul(o),
                None => total.is_some_and(|t| t % n == 0),
            };
        if ok {
            Ok(())
        } else {
            Err(bad(
                path,
                format!("`logits` of shape {s:?}"),
                match out {
                    Some(o) => {
                        format!("[{n}, {o}]: one row of the network's {o} outputs per input")
                    }
                    None => format!("[{n}, classes]: one row per input"),
                },
            ))
        }
    };
    let reference_logits = get("logits", &check_logits)?.map(|l| {
        let per = l.data.len() / n as usize;
        l.data.chunks(per.max(1)).map(<[f32]>::to_vec).collect()
    });
    Ok(InputSet {
        origin: path.display().to_string(),
        names: (0..n).map(|i| format!("input[{i}]")).collect(),
        values,
        labels,
        reference_logits,
    })
}

fn read_labels(path: &Path, n: usize) -> Result<Vec<u32>> {
    let text = super::read_text(path)?;
    let mut labels = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let v = line.parse::<u32>().map_err(|_| Error::Parse {
            origin: path.display().to_string(),
            line: Some(i + 1),
            column: Some(1),
            message: format!(
                "`{line}` is not a class number (help: one non-negative integer per line)"
            ),
        })?;
        labels.push(v);
    }
    if labels.len() != n {
        return Err(bad(
            path,
            format!("{} labels for {n} inputs", labels.len()),
            "one label per input, in input order (file-name order for a folder)",
        ));
    }
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resize_and_crop_keep_a_constant_image_constant_and_sized() {
        let img = Image {
            width: 6,
            height: 4,
            channels: 3,
            pixels: vec![100.0; 6 * 4 * 3],
        };
        let t = InputTransform {
            scale: 1.0 / 255.0,
            mean: vec![0.5; 3],
            std: vec![0.25; 3],
            resize: Some(8),
            crop: Some(8),
        };
        let out = transform_geometry(img, &t).unwrap();
        assert_eq!((out.height, out.width), (8, 8));
        // torchvision: Resize(256) of 427 x 640 is 256 x 383 (truncated), CenterCrop offsets
        // round half to even.
        assert_eq!(resized(427, 640, 256), (256, 383));
        assert_eq!(resized(640, 427, 256), (383, 256));
        assert!(out.pixels.iter().all(|&p| (p - 100.0).abs() < 1e-4));
        let x = normalize(&out, &t);
        assert!((x[0] - ((100.0 / 255.0 - 0.5) / 0.25) as f32).abs() < 1e-6);
    }

    #[test]
    fn the_size_checked_before_decoding_is_the_size_the_transform_makes() {
        for (h, w) in [(4, 6), (7, 3), (32, 32), (5, 5), (1, 9)] {
            for (resize, crop) in [
                (None, None),
                (Some(8), Some(8)),
                (Some(3), None),
                (None, Some(4)),
                (Some(2), Some(5)),
            ] {
                let t = InputTransform {
                    scale: 1.0,
                    mean: vec![0.0],
                    std: vec![1.0],
                    resize,
                    crop,
                };
                let img = Image {
                    width: w,
                    height: h,
                    channels: 1,
                    pixels: vec![0.0; h * w],
                };
                let out = transform_geometry(img, &t).unwrap();
                assert_eq!(
                    geometry(h, w, &t),
                    Some((out.height, out.width)),
                    "{h}x{w} {resize:?} {crop:?}"
                );
            }
        }
    }

    #[test]
    fn labels_come_from_the_last_underscore() {
        assert_eq!(label_of(Path::new("cifar10_03_0.png")), Some(0));
        assert_eq!(label_of(Path::new("img_17.jpg")), Some(17));
        assert_eq!(label_of(Path::new("cat.png")), None);
    }
}
