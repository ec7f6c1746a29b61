//! ONNX tensors as values: a `TensorProto`'s elements (typed fields or `raw_data`, little
//! endian; or external data the caller reads) checked against its dims and converted to f32 or
//! i64. A tensor whose data is absent (a shape-only export) keeps its dims and no values.

use super::proto::tensor_proto::DataType;
use super::proto::TensorProto;
use crate::workload::MAX_TENSOR_ELEMENTS;

/// Values of a constant tensor.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    F32(Vec<f32>),
    I64(Vec<i64>),
    /// Dims only: no data in the file (a shape-only export) or a placeholder fill.
    Missing,
}

/// A constant tensor: initializer, `Constant` node or folded subgraph.
#[derive(Debug, Clone, PartialEq)]
pub struct Const {
    pub dims: Vec<u64>,
    pub data: Data,
    /// Why the values are missing (a warning's words), when they are.
    pub missing: Option<String>,
    /// Integer codes this tensor was dequantized from (`DequantizeLinear` of a constant).
    pub quantized: Option<QuantInfo>,
    /// The initializer or Constant output it is (through views and casts), for naming.
    pub origin: Option<String>,
}

/// A weight tensor quantized elsewhere: `w = scale[c] * (q - zero_point[c])`.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantInfo {
    pub codes: Vec<i64>,
    pub scales: Vec<f32>,
    pub zero_points: Vec<i64>,
    /// The axis the scales run along (None: one scale for the tensor).
    pub axis: Option<usize>,
    /// Bits of the integer type (8 for int8/uint8).
    pub bits: u32,
    pub signed: bool,
}

impl Const {
    pub fn elements(&self) -> u64 {
        self.dims.iter().product()
    }

    pub fn f32s(&self) -> Option<Vec<f32>> {
        match &self.data {
            Data::F32(v) => Some(v.clone()),
            Data::I64(v) => Some(v.iter().map(|&x| x as f32).collect()),
            Data::Missing => None,
        }
    }

    pub fn i64s(&self) -> Option<Vec<i64>> {
        match &self.data {
            Data::I64(v) => Some(v.clone()),
            Data::F32(v) => v
                .iter()
                .map(|&x| (x.fract() == 0.0 && x.is_finite()).then_some(x as i64))
                .collect(),
            Data::Missing => None,
        }
    }

    /// The single value of a one-element tensor.
    pub fn scalar(&self) -> Option<f64> {
        if self.elements() != 1 {
            return None;
        }
        match &self.data {
            Data::F32(v) => Some(v[0] as f64),
            Data::I64(v) => Some(v[0] as f64),
            Data::Missing => None,
        }
    }

    pub fn i64_vec(dims: Vec<u64>, v: Vec<i64>) -> Const {
        Const {
            dims,
            data: Data::I64(v),
            missing: None,
            quantized: None,
            origin: None,
        }
    }

    pub fn f32_vec(dims: Vec<u64>, v: Vec<f32>) -> Const {
        Const {
            dims,
            data: Data::F32(v),
            missing: None,
            quantized: None,
            origin: None,
        }
    }

    pub fn missing(dims: Vec<u64>, why: String) -> Const {
        Const {
            dims,
            data: Data::Missing,
            missing: Some(why),
            quantized: None,
            origin: None,
        }
    }
}

/// The element type's name, for messages.
pub fn type_name(t: i32) -> String {
    DataType::try_from(t)
        .map(|d| d.as_str_name().to_ascii_lowercase())
        .unwrap_or_else(|_| format!("type {t}"))
}

/// Bytes per element of the types plumsim reads, None for the others.
fn width(t: DataType) -> Option<usize> {
    use DataType::*;
    Some(match t {
        Float | Int32 | Uint32 => 4,
        Double | Int64 | Uint64 => 8,
        Float16 | Bfloat16 | Int16 | Uint16 => 2,
        Int8 | Uint8 | Bool => 1,
        _ => return None,
    })
}

/// Checked element count of `dims` (each at least 0), bounded by [`MAX_TENSOR_ELEMENTS`].
pub fn element_count(dims: &[i64]) -> Result<u64, String> {
    let mut n: u64 = 1;
    for &d in dims {
        if d < 0 {
            return Err(format!("dims {dims:?} hold a negative size"));
        }
        n = n
            .checked_mul(d as u64)
            .filter(|&n| n <= MAX_TENSOR_ELEMENTS)
            .ok_or_else(|| {
                format!("dims {dims:?} hold more than {MAX_TENSOR_ELEMENTS} elements")
            })?;
    }
    Ok(n)
}

/// A tensor's values from its own fields, or from `external` (its external data, as read by the
/// caller; None when the file is absent). Errors are messages about the tensor.
pub fn decode(t: &TensorProto, external: Option<Option<&[u8]>>) -> Result<Const, String> {
    let n = element_count(&t.dims)?;
    let dims: Vec<u64> = t.dims.iter().map(|&d| d as u64).collect();
    let dtype = DataType::try_from(t.data_type)
        .ok()
        .filter(|&d| width(d).is_some())
        .ok_or_else(|| {
            format!(
                "element type {} is not read (help: float, float16, bfloat16, double, int8/16/32/64, uint8/16/32/64, bool)",
                type_name(t.data_type)
            )
        })?;
    let w = width(dtype).expect("filtered above");
    let raw: Option<&[u8]> = match external {
        Some(Some(bytes)) => Some(bytes),
        Some(None) => {
            return Ok(Const::missing(
                dims,
                "its external data file is absent".into(),
            ))
        }
        None if !t.raw_data.is_empty() => Some(&t.raw_data),
        None => None,
    };
    if let Some(raw) = raw {
        let want = n as u128 * w as u128;
        if raw.len() as u128 != want {
            return Err(format!(
                "holds {} bytes of data, but dims {:?} of {} need {want}",
                raw.len(),
                t.dims,
                type_name(t.data_type)
            ));
        }
        return Ok(from_le(dims, dtype, raw));
    }
    // Typed fields: which one holds the values depends on the type (onnx.proto's table).
    use DataType::*;
    let typed_len = match dtype {
        Float => t.float_data.len(),
        Double => t.double_data.len(),
        Int64 => t.int64_data.len(),
        Uint64 | Uint32 => t.uint64_data.len(),
        _ => t.int32_data.len(),
    };
    if typed_len == 0 && n > 0 {
        return Ok(Const::missing(dims, "it has dims but no data".into()));
    }
    // float16 and bfloat16 are stored as their bits in int32_data, one per element.
    if typed_len as u64 != n {
        return Err(format!(
            "holds {typed_len} values, but dims {:?} need {n}",
            t.dims
        ));
    }
    Ok(match dtype {
        Float => Const::f32_vec(dims, t.float_data.clone()),
        Double => Const::f32_vec(dims, t.double_data.iter().map(|&v| v as f32).collect()),
        Float16 => Const::f32_vec(
            dims,
            t.int32_data
                .iter()
                .map(|&b| half::f16::from_bits(b as u16).to_f32())
                .collect(),
        ),
        Bfloat16 => Const::f32_vec(
            dims,
            t.int32_data
                .iter()
                .map(|&b| half::bf16::from_bits(b as u16).to_f32())
                .collect(),
        ),
        Int64 => Const::i64_vec(dims, t.int64_data.clone()),
        Uint64 | Uint32 => Const::i64_vec(dims, t.uint64_data.iter().map(|&v| v as i64).collect()),
        Int8 => Const::i64_vec(dims, t.int32_data.iter().map(|&v| v as i8 as i64).collect()),
        Uint8 => Const::i64_vec(dims, t.int32_data.iter().map(|&v| v as u8 as i64).collect()),
        Int16 => Const::i64_vec(
            dims,
            t.int32_data.iter().map(|&v| v as i16 as i64).collect(),
        ),
        Uint16 => Const::i64_vec(
            dims,
            t.int32_data.iter().map(|&v| v as u16 as i64).collect(),
        ),
        _ => Const::i64_vec(dims, t.int32_data.iter().map(|&v| v as i64).collect()),
    })
}

fn from_le(dims: Vec<u64>, dtype: DataType, raw: &[u8]) -> Const {
    use DataType::*;
    macro_rules! each {
        ($n:expr, $f:expr) => {
            raw.chunks_exact($n)
                .map(|c| $f(c.try_into().expect("chunk width")))
                .collect()
        };
    }
    match dtype {
        Float => Const::f32_vec(dims, each!(4, f32::from_le_bytes)),
        Double => Const::f32_vec(dims, each!(8, |b| f64::from_le_bytes(b) as f32)),
        Float16 => Const::f32_vec(
            dims,
            each!(2, |b| half::f16::from_bits(u16::from_le_bytes(b)).to_f32()),
        ),
        Bfloat16 => Const::f32_vec(
            dims,
            each!(2, |b| half::bf16::from_bits(u16::from_le_bytes(b)).to_f32()),
        ),
        Int64 => Const::i64_vec(dims, each!(8, i64::from_le_bytes)),
        Uint64 => Const::i64_vec(dims, each!(8, |b| u64::from_le_bytes(b) as i64)),
        Int32 => Const::i64_vec(dims, each!(4, |b| i32::from_le_bytes(b) as i64)),
        Uint32 => Const::i64_vec(dims, each!(4, |b| u32::from_le_bytes(b) as i64)),
        Int16 => Const::i64_vec(dims, each!(2, |b| i16::from_le_bytes(b) as i64)),
        Uint16 => Const::i64_vec(dims, each!(2, |b| u16::from_le_bytes(b) as i64)),
        Int8 => Const::i64_vec(dims, raw.iter().map(|&b| b as i8 as i64).collect()),
        _ => Const::i64_vec(dims, raw.iter().map(|&b| b as i64).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor(dims: &[i64], dtype: DataType) -> TensorProto {
        TensorProto {
            dims: dims.to_vec(),
            data_type: dtype as i32,
            ..Default::default()
        }
    }

    #[test]
    fn raw_data_is_little_endian_and_sized_by_dims() {
        let mut t = tensor(&[2], DataType::Float);
        t.raw_data = [1.5f32.to_le_bytes(), (-2.0f32).to_le_bytes()].concat();
        assert_eq!(decode(&t, None).unwrap().data, Data::F32(vec![1.5, -2.0]));
        t.raw_data.pop();
        let e = decode(&t, None).unwrap_err();
        assert!(e.contains("holds 7 bytes") && e.contains("need 8"), "{e}");
    }

    #[test]
    fn typed_fields_half_and_int8() {
        let mut t = tensor(&[2], DataType::Float16);
        t.int32_data = vec![
            half::f16::from_f32(0.5).to_bits() as i32,
            half::f16::from_f32(-3.0).to_bits() as i32,
        ];
        assert_eq!(decode(&t, None).unwrap().data, Data::F32(vec![0.5, -3.0]));
        let mut t = tensor(&[3], DataType::Int8);
        t.int32_data = vec![-128, 5, 127];
        assert_eq!(
            decode(&t, None).unwrap().data,
            Data::I64(vec![-128, 5, 127])
        );
        t.int32_data.pop();
        assert!(decode(&t, None).unwrap_err().contains("holds 2 values"));
    }

    #[test]
    fn dims_without_data_are_a_shape_only_tensor() {
        let t = tensor(&[4, 3], DataType::Float);
        let c = decode(&t, None).unwrap();
        assert_eq!((c.dims.clone(), c.data), (vec![4, 3], Data::Missing));
        let c = decode(&t, Some(None)).unwrap();
        assert!(c.missing.unwrap().contains("external data file is absent"));
    }

    #[test]
    fn absurd_dims_are_refused_before_anything_is_allocated() {
        let t = tensor(&[1 << 40, 1 << 40], DataType::Float);
        assert!(decode(&t, None).unwrap_err().contains("more than"));
        let t = tensor(&[-1], DataType::Float);
        assert!(decode(&t, None).unwrap_err().contains("negative"));
        let t = tensor(&[1], DataType::String);
        assert!(decode(&t, None).unwrap_err().contains("not read"));
    }
}
