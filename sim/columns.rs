//! Result columns, declared once. A [`Record`] is a struct whose fields are columns (name and
//! unit), declared with the [`record!`](crate::record) macro: the struct, its column list and
//! its serialization (CSV rows, JSON objects; a nested record's columns flattened in place)
//! all come from that one declaration. The sweep's header, the docs and the unit checks read
//! the column lists; nothing simulates to learn them.

use std::fmt;

/// The unit of a column. Columns of a unit with a suffix carry it in their name
/// ([`Unit::suffix`]); counts of events, labels and flags are plain nouns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Cycles,
    Bytes,
    Bits,
    Picojoules,
    Microjoules,
    Microseconds,
    PicojouleMicroseconds,
    MicrojouleMicroseconds,
    Megahertz,
    SquareMillimetres,
    Percent,
    /// Decibels (signal-to-noise ratios).
    Decibels,
    BitOps,
    /// 10^9 bit operations.
    GigaBitOps,
    TopsPerWatt,
    /// Events per second (tokens/s).
    PerSecond,
    /// A count of events or things (MACs, reads, folds, PEs, layers).
    Count,
    /// A plain number without a unit (a density, a ratio, bits per weight averaged).
    Number,
    /// Text: names, labels, kinds.
    Label,
    /// true / false.
    Flag,
}

impl Unit {
    /// The name suffix a column of this unit carries, if any.
    pub fn suffix(self) -> Option<&'static str> {
        match self {
            Unit::Cycles => Some("_cycles"),
            Unit::Bytes => Some("_bytes"),
            Unit::Bits => Some("_bits"),
            Unit::Picojoules => Some("_pj"),
            Unit::Microjoules => Some("_uj"),
            Unit::Microseconds => Some("_us"),
            Unit::PicojouleMicroseconds => Some("_pj_us"),
            Unit::MicrojouleMicroseconds => Some("_uj_us"),
            Unit::Megahertz => Some("_mhz"),
            Unit::SquareMillimetres => Some("_mm2"),
            Unit::Percent => Some("_pct"),
            Unit::Decibels => Some("_db"),
            Unit::BitOps => Some("_bit_ops"),
            Unit::GigaBitOps => Some("_gbit_ops"),
            Unit::TopsPerWatt => Some("_per_w"),
            Unit::PerSecond => Some("_per_s"),
            Unit::Count | Unit::Number | Unit::Label | Unit::Flag => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Cycles => "cycles",
            Unit::Bytes => "bytes",
            Unit::Bits => "bits",
            Unit::Picojoules => "pJ",
            Unit::Microjoules => "uJ",
            Unit::Microseconds => "us",
            Unit::PicojouleMicroseconds => "pJ x us",
            Unit::MicrojouleMicroseconds => "uJ x us",
            Unit::Megahertz => "MHz",
            Unit::SquareMillimetres => "mm^2",
            Unit::Percent => "%",
            Unit::Decibels => "dB",
            Unit::BitOps => "bit operations",
            Unit::GigaBitOps => "10^9 bit operations",
            Unit::TopsPerWatt => "TOPS/W",
            Unit::PerSecond => "1/s",
            Unit::Count => "count",
            Unit::Number => "number",
            Unit::Label => "text",
            Unit::Flag => "true/false",
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One result column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub unit: Unit,
    /// What the column holds.
    pub doc: &'static str,
}

/// A struct whose fields are result columns (see [`record!`](crate::record)).
pub trait Record {
    /// The columns, in order, nested records flattened in place.
    fn columns() -> Vec<Column>;
    /// Serialize the fields into an enclosing struct (how nested records flatten).
    fn write_fields<S: serde::ser::SerializeStruct>(&self, s: &mut S) -> Result<(), S::Error>;
}

/// Round for output so that text files do not carry float noise.
pub fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Column names of a record, in order.
pub fn names<R: Record>() -> Vec<&'static str> {
    R::columns().iter().map(|c| c.name).collect()
}

/// Declare a [`Record`]: a struct of columns, each `name: Type = Unit` (a field) or
/// `flatten name: Type` (a nested record whose columns appear in its place).
///
/// ```ignore
/// record! {
///     /// Energy by component.
///     #[derive(Debug, Clone, Copy, Default)]
///     pub struct Energy {
///         /// Multiplies and adds.
///         pub pe_arith_pj: f64 = Picojoules,
///     }
/// }
/// ```
#[macro_export]
macro_rules! record {
    (
        $(#[$meta:meta])*
        pub struct $name:ident { $($body:tt)* }
    ) => {
        $crate::record!(@struct [$(#[$meta])*] $name [] $($body)*);

        impl $crate::columns::Record for $name {
            #[allow(clippy::vec_init_then_push)]
            fn columns() -> Vec<$crate::columns::Column> {
                #[allow(unused_mut)]
                let mut v = Vec::new();
                $crate::record!(@cols v $($body)*);
                v
            }
            fn write_fields<S: serde::ser::SerializeStruct>(
                &self,
                s: &mut S,
            ) -> Result<(), S::Error> {
                $crate::record!(@write self s $($body)*);
                let _ = s;
                Ok(())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeStruct;
                let n = <$name as $crate::columns::Record>::columns().len();
                let mut s = ser.serialize_struct(stringify!($name), n)?;
                $crate::columns::Record::write_fields(self, &mut s)?;
                s.end()
            }
        }
    };

    // The struct: fields gathered into `[...]`, then emitted.
    (@struct [$($meta:tt)*] $name:ident [$($fields:tt)*]) => {
        $($meta)*
        pub struct $name { $($fields)* }
    };
    (@struct [$($meta:tt)*] $name:ident [$($fields:tt)*]
        $(#[doc = $d:literal])* flatten pub $f:ident : $t:ty, $($rest:tt)*) => {
        $crate::record!(@struct [$($meta)*] $name [$($fields)* $(#[doc = $d])* pub $f: $t,] $($rest)*);
    };
    (@struct [$($meta:tt)*] $name:ident [$($fields:tt)*]
        $(#[doc = $d:literal])* pub $f:ident : $t:ty = $unit:ident, $($rest:tt)*) => {
        $crate::record!(@struct [$($meta)*] $name [$($fields)* $(#[doc = $d])* pub $f: $t,] $($rest)*);
    };

    // The column list.
    (@cols $v:ident) => {};
    (@cols $v:ident $(#[doc = $d:literal])* flatten pub $f:ident : $t:ty, $($rest:tt)*) => {
        $v.extend(<$t as $crate::columns::Record>::columns());
        $crate::record!(@cols $v $($rest)*);
    };
    (@cols $v:ident $(#[doc = $d:literal])* pub $f:ident : $t:ty = $unit:ident, $($rest:tt)*) => {
        $v.push($crate::columns::Column {
            name: stringify!($f),
            unit: $crate::columns::Unit::$unit,
            doc: concat!($($d, )* ""),
        });
        $crate::record!(@cols $v $($rest)*);
    };

    // Serialization, field by field.
    (@write $self:ident $s:ident) => {};
    (@write $self:ident $s:ident $(#[doc = $d:literal])* flatten pub $f:ident : $t:ty, $($rest:tt)*) => {
        $crate::columns::Record::write_fields(&$self.$f, $s)?;
        $crate::record!(@write $self $s $($rest)*);
    };
    (@write $self:ident $s:ident $(#[doc = $d:literal])* pub $f:ident : $t:ty = $unit:ident, $($rest:tt)*) => {
        $s.serialize_field(stringify!($f), &$self.$f)?;
        $crate::record!(@write $self $s $($rest)*);
    };
}
