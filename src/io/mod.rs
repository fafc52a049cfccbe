//! Reading and writing geospatial files: ESRI shapefiles, GeoParquet, GeoJSON, FlatGeobuf
//! and GeoPackage.
//!
//! Each format is a [`PartitionSource`] (partitions read on demand, by a plan's tasks or
//! in parallel by the `read_*` functions) and a [`PartitionSink`] (partitions written in
//! order, by the `write_*` functions); formats know nothing of plans.
//!
//! Every writer writes to a temporary file beside the target and renames it when the file
//! is complete, so a failed write never leaves a half file under the target name.

pub(crate) mod atomic;
mod attributes;
pub mod flatgeobuf;
pub mod geojson;
pub mod geopackage;
pub mod geoparquet;
mod guard;
pub mod shapefile;
mod source;

pub use self::flatgeobuf::{
    read_flatgeobuf, write_flatgeobuf, FlatGeobufSink, FlatGeobufSource, FlatGeobufWriteOptions,
};
pub use self::geojson::{read_geojson, write_geojson, GeoJsonSink, GeoJsonSource};
pub use self::geopackage::{
    read_geopackage, write_geopackage, GeoPackageOptions, GeoPackageSink, GeoPackageSource,
};
pub use self::geoparquet::{
    native_encoding_for, read_geoparquet, read_geoparquet_bbox, write_geoparquet,
    write_geoparquet_with, GeoParquetDataset, GeoParquetDatasetSink, GeoParquetOptions,
    GeoParquetSink, GeoParquetSource, GeoParquetWriteOptions, GeometryEncoding, ParquetCompression,
};
pub use self::shapefile::{
    read_shapefile, write_shapefile, ShapefileOptions, ShapefileSink, ShapefileSource,
};
pub(crate) use source::MemorySource;
pub use source::{read_source, PartitionMeta, PartitionSink, PartitionSource, SinkLayout};

/// How writers that know only a few value types (`.dbf`, GeoJSON) store an Arrow column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueKind {
    Bool,
    /// Integers that fit an `i64`.
    Int,
    /// Floats, and `UInt64`, which may not fit an `i64`.
    Float,
    Date,
    /// Everything else, as text.
    Text,
}

impl ValueKind {
    pub(crate) fn of(data_type: &arrow_schema::DataType) -> ValueKind {
        use arrow_schema::DataType::*;
        match data_type {
            Boolean => ValueKind::Bool,
            Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 => ValueKind::Int,
            Float16 | Float32 | Float64 | UInt64 => ValueKind::Float,
            Date32 => ValueKind::Date,
            _ => ValueKind::Text,
        }
    }
}

/// Refuses, before anything is written, a layout with a nested attribute column (struct,
/// list, map, union): `format` (a `.dbf` field, a GeoJSON property as geoframe writes it)
/// holds only flat values, and a cast would fail midway with a message naming no column.
pub(crate) fn check_flat_columns(
    layout: &SinkLayout,
    path: &std::path::Path,
    format: &str,
) -> crate::Result<()> {
    for (i, field) in layout.schema.fields().iter().enumerate() {
        if i != layout.geometry_column && field.data_type().is_nested() {
            return Err(crate::Error::Unwritable {
                path: path.to_path_buf(),
                message: format!(
                    "column {:?} is {}: {format} cannot hold nested values; select it away first (GeoParquet can hold it)",
                    field.name(),
                    field.data_type()
                ),
            });
        }
    }
    Ok(())
}

/// The date `days` after 1970-01-01 (an Arrow `Date32`), if it is a representable date.
pub(crate) fn date_from_days(days: i32) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?
        .checked_add_signed(chrono::Duration::days(i64::from(days)))
}
