//! Attribute values of the record-at-a-time formats (FlatGeobuf, GeoPackage): one value
//! of an Arrow column as such a format stores it ([`Flat`]), and Arrow columns built back
//! from such values ([`ColumnBuilder`]).

use std::borrow::Cow;
use std::sync::Arc;

use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, Date32Builder, Float32Builder, Float64Builder, Int16Builder,
    Int32Builder, Int64Builder, Int8Builder, StringBuilder, UInt16Builder, UInt32Builder,
    UInt64Builder, UInt8Builder,
};
use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;

use crate::error::Result;
use crate::io::date_from_days;

/// One attribute value, as a record-at-a-time format holds it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Flat<'a> {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Text(Cow<'a, str>),
    Bytes(&'a [u8]),
}

/// Row `i` of `array`. Dates are ISO 8601 text (`2024-03-01`); types with no flat
/// counterpart (decimals, times, intervals) are their Arrow display text.
pub(crate) fn flat_value(array: &dyn Array, i: usize) -> Result<Flat<'_>> {
    if array.is_null(i) {
        return Ok(Flat::Null);
    }
    Ok(match array.data_type() {
        DataType::Boolean => Flat::Bool(array.as_boolean().value(i)),
        DataType::Int8 => Flat::Int(array.as_primitive::<Int8Type>().value(i).into()),
        DataType::Int16 => Flat::Int(array.as_primitive::<Int16Type>().value(i).into()),
        DataType::Int32 => Flat::Int(array.as_primitive::<Int32Type>().value(i).into()),
        DataType::Int64 => Flat::Int(array.as_primitive::<Int64Type>().value(i)),
        DataType::UInt8 => Flat::UInt(array.as_primitive::<UInt8Type>().value(i).into()),
        DataType::UInt16 => Flat::UInt(array.as_primitive::<UInt16Type>().value(i).into()),
        DataType::UInt32 => Flat::UInt(array.as_primitive::<UInt32Type>().value(i).into()),
        DataType::UInt64 => Flat::UInt(array.as_primitive::<UInt64Type>().value(i)),
        DataType::Float32 => Flat::Float(array.as_primitive::<Float32Type>().value(i).into()),
        DataType::Float64 => Flat::Float(array.as_primitive::<Float64Type>().value(i)),
        DataType::Utf8 => Flat::Text(Cow::Borrowed(array.as_string::<i32>().value(i))),
        DataType::LargeUtf8 => Flat::Text(Cow::Borrowed(array.as_string::<i64>().value(i))),
        DataType::Utf8View => Flat::Text(Cow::Borrowed(array.as_string_view().value(i))),
        DataType::Binary => Flat::Bytes(array.as_binary::<i32>().value(i)),
        DataType::LargeBinary => Flat::Bytes(array.as_binary::<i64>().value(i)),
        DataType::Date32 => match date_from_days(array.as_primitive::<Date32Type>().value(i)) {
            Some(d) => Flat::Text(Cow::Owned(d.format("%Y-%m-%d").to_string())),
            None => Flat::Null,
        },
        _ => {
            let text = arrow_cast::display::ArrayFormatter::try_new(
                array,
                &arrow_cast::display::FormatOptions::default(),
            )?
            .value(i)
            .to_string();
            Flat::Text(Cow::Owned(text))
        }
    })
}

/// An Arrow column being built from [`Flat`] values, one per row.
pub(crate) enum ColumnBuilder {
    Bool(BooleanBuilder),
    Int8(Int8Builder),
    Int16(Int16Builder),
    Int32(Int32Builder),
    Int64(Int64Builder),
    UInt8(UInt8Builder),
    UInt16(UInt16Builder),
    UInt32(UInt32Builder),
    UInt64(UInt64Builder),
    Float32(Float32Builder),
    Float64(Float64Builder),
    Text(StringBuilder),
    Binary(BinaryBuilder),
    Date(Date32Builder),
}

impl ColumnBuilder {
    /// A builder for `data_type`, which must be one that [`ColumnBuilder::data_type`] gives
    /// back; other types build text.
    pub(crate) fn new(data_type: &DataType) -> ColumnBuilder {
        match data_type {
            DataType::Boolean => ColumnBuilder::Bool(BooleanBuilder::new()),
            DataType::Int8 => ColumnBuilder::Int8(Int8Builder::new()),
            DataType::Int16 => ColumnBuilder::Int16(Int16Builder::new()),
            DataType::Int32 => ColumnBuilder::Int32(Int32Builder::new()),
            DataType::Int64 => ColumnBuilder::Int64(Int64Builder::new()),
            DataType::UInt8 => ColumnBuilder::UInt8(UInt8Builder::new()),
            DataType::UInt16 => ColumnBuilder::UInt16(UInt16Builder::new()),
            DataType::UInt32 => ColumnBuilder::UInt32(UInt32Builder::new()),
            DataType::UInt64 => ColumnBuilder::UInt64(UInt64Builder::new()),
            DataType::Float32 => ColumnBuilder::Float32(Float32Builder::new()),
            DataType::Float64 => ColumnBuilder::Float64(Float64Builder::new()),
            DataType::Binary => ColumnBuilder::Binary(BinaryBuilder::new()),
            DataType::Date32 => ColumnBuilder::Date(Date32Builder::new()),
            _ => ColumnBuilder::Text(StringBuilder::new()),
        }
    }

    /// Appends `value`, converted to the column's type; `Err` with the reason when it does
    /// not fit (the caller names the file, row and column).
    pub(crate) fn append(&mut self, value: Flat<'_>) -> std::result::Result<(), String> {
        fn int<T: TryFrom<i64> + TryFrom<u64>>(value: &Flat<'_>) -> Option<Option<T>> {
            match *value {
                Flat::Null => Some(None),
                Flat::Int(v) => T::try_from(v).ok().map(Some),
                Flat::UInt(v) => T::try_from(v).ok().map(Some),
                Flat::Bool(b) => T::try_from(i64::from(b)).ok().map(Some),
                _ => None,
            }
        }
        fn float(value: &Flat<'_>) -> Option<Option<f64>> {
            match *value {
                Flat::Null => Some(None),
                Flat::Float(v) => Some(Some(v)),
                Flat::Int(v) => Some(Some(v as f64)),
                Flat::UInt(v) => Some(Some(v as f64)),
                _ => None,
            }
        }
        /// Appends a converted value, or says it does not fit.
        fn put<T>(converted: Option<Option<T>>, mut append: impl FnMut(Option<T>)) -> bool {
            converted.map(&mut append).is_some()
        }
        let fits = match self {
            ColumnBuilder::Bool(b) => match value {
                Flat::Null => put(Some(None), |v| b.append_option(v)),
                Flat::Bool(v) => put(Some(Some(v)), |v| b.append_option(v)),
                Flat::Int(v @ (0 | 1)) => put(Some(Some(v == 1)), |v| b.append_option(v)),
                _ => false,
            },
            ColumnBuilder::Int8(b) => put(int(&value), |v| b.append_option(v)),
            ColumnBuilder::Int16(b) => put(int(&value), |v| b.append_option(v)),
            ColumnBuilder::Int32(b) => put(int(&value), |v| b.append_option(v)),
            ColumnBuilder::Int64(b) => put(int(&value), |v| b.append_option(v)),
            ColumnBuilder::UInt8(b) => put(int(&value), |v| b.append_option(v)),
            ColumnBuilder::UInt16(b) => put(int(&value), |v| b.append_option(v)),
            ColumnBuilder::UInt32(b) => put(int(&value), |v| b.append_option(v)),
            ColumnBuilder::UInt64(b) => put(int(&value), |v| b.append_option(v)),
            ColumnBuilder::Float32(b) => {
                put(float(&value), |v| b.append_option(v.map(|v| v as f32)))
            }
            ColumnBuilder::Float64(b) => put(float(&value), |v| b.append_option(v)),
            ColumnBuilder::Binary(b) => match &value {
                Flat::Null => put(Some(None::<&[u8]>), |v| b.append_option(v)),
                Flat::Bytes(v) => put(Some(Some(*v)), |v| b.append_option(v)),
                Flat::Text(v) => put(Some(Some(v.as_bytes())), |v| b.append_option(v)),
                _ => false,
            },
            ColumnBuilder::Date(b) => match &value {
                Flat::Null => put(Some(None), |v| b.append_option(v)),
                Flat::Text(t) => put(days_of(t).map(Some), |v| b.append_option(v)),
                _ => false,
            },
            ColumnBuilder::Text(b) => {
                match &value {
                    Flat::Null => b.append_null(),
                    Flat::Text(v) => b.append_value(v),
                    Flat::Bool(v) => b.append_value(v.to_string()),
                    Flat::Int(v) => b.append_value(v.to_string()),
                    Flat::UInt(v) => b.append_value(v.to_string()),
                    Flat::Float(v) => b.append_value(v.to_string()),
                    Flat::Bytes(v) => b.append_value(String::from_utf8_lossy(v)),
                }
                true
            }
        };
        if fits {
            return Ok(());
        }
        Err(format!(
            "{value:?} does not fit a column of {}",
            self.data_type()
        ))
    }

    /// The Arrow type of the column.
    pub(crate) fn data_type(&self) -> DataType {
        match self {
            ColumnBuilder::Bool(_) => DataType::Boolean,
            ColumnBuilder::Int8(_) => DataType::Int8,
            ColumnBuilder::Int16(_) => DataType::Int16,
            ColumnBuilder::Int32(_) => DataType::Int32,
            ColumnBuilder::Int64(_) => DataType::Int64,
            ColumnBuilder::UInt8(_) => DataType::UInt8,
            ColumnBuilder::UInt16(_) => DataType::UInt16,
            ColumnBuilder::UInt32(_) => DataType::UInt32,
            ColumnBuilder::UInt64(_) => DataType::UInt64,
            ColumnBuilder::Float32(_) => DataType::Float32,
            ColumnBuilder::Float64(_) => DataType::Float64,
            ColumnBuilder::Text(_) => DataType::Utf8,
            ColumnBuilder::Binary(_) => DataType::Binary,
            ColumnBuilder::Date(_) => DataType::Date32,
        }
    }

    pub(crate) fn finish(&mut self) -> ArrayRef {
        match self {
            ColumnBuilder::Bool(b) => Arc::new(b.finish()),
            ColumnBuilder::Int8(b) => Arc::new(b.finish()),
            ColumnBuilder::Int16(b) => Arc::new(b.finish()),
            ColumnBuilder::Int32(b) => Arc::new(b.finish()),
            ColumnBuilder::Int64(b) => Arc::new(b.finish()),
            ColumnBuilder::UInt8(b) => Arc::new(b.finish()),
            ColumnBuilder::UInt16(b) => Arc::new(b.finish()),
            ColumnBuilder::UInt32(b) => Arc::new(b.finish()),
            ColumnBuilder::UInt64(b) => Arc::new(b.finish()),
            ColumnBuilder::Float32(b) => Arc::new(b.finish()),
            ColumnBuilder::Float64(b) => Arc::new(b.finish()),
            ColumnBuilder::Text(b) => Arc::new(b.finish()),
            ColumnBuilder::Binary(b) => Arc::new(b.finish()),
            ColumnBuilder::Date(b) => Arc::new(b.finish()),
        }
    }
}

/// Days since 1970-01-01 of an ISO 8601 date (`2024-03-01`, or the date part of a date
/// and time).
fn days_of(text: &str) -> Option<i32> {
    let date = chrono::NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d").ok()?;
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?;
    i32::try_from((date - epoch).num_days()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Date32Array, Int32Array, StringArray};

    #[test]
    fn values_go_back_into_columns_of_their_type() {
        let dates = Date32Array::from(vec![Some(19_783), None]);
        let mut builder = ColumnBuilder::new(&DataType::Date32);
        for i in 0..2 {
            builder.append(flat_value(&dates, i).unwrap()).unwrap();
        }
        assert_eq!(
            flat_value(&dates, 0).unwrap(),
            Flat::Text("2024-03-01".into())
        );
        assert_eq!(builder.finish().as_ref(), &dates as &dyn Array);

        let ints = Int32Array::from(vec![Some(-7), None]);
        let mut builder = ColumnBuilder::new(&DataType::Int8);
        builder.append(flat_value(&ints, 0).unwrap()).unwrap();
        builder.append(flat_value(&ints, 1).unwrap()).unwrap();
        assert_eq!(builder.finish().len(), 2);
        assert!(builder.append(Flat::Int(300)).is_err(), "300 is not an i8");
        assert!(builder.append(Flat::Text("x".into())).is_err());

        let mut text = ColumnBuilder::new(&DataType::Utf8);
        text.append(Flat::Float(0.5)).unwrap();
        let built = text.finish();
        assert_eq!(built.as_string::<i32>(), &StringArray::from(vec!["0.5"]));
    }
}
