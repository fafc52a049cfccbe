//! Writing FlatGeobuf files.

use std::path::Path;

use arrow_array::Array;
use arrow_schema::DataType;
use flatgeobuf::{ColumnType, FgbCrs, FgbWriter, FgbWriterOptions, GeometryType};
use geozero::{ColumnValue, GeomProcessor, GeozeroGeometry, PropertyProcessor};

use crate::error::{Error, Result};
use crate::io::atomic::AtomicFile;
use crate::io::attributes::{flat_value, Flat};
use crate::io::source::{write_frame, PartitionSink, SinkLayout};
use crate::partition::Partition;
use crate::GeoFrame;

/// How a FlatGeobuf file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlatGeobufWriteOptions {
    /// Write the packed Hilbert R-tree that lets readers (and [`super::FlatGeobufSource`]'s
    /// partitions) skip to a box. The features are then stored in the tree's order, not
    /// the frame's, as GDAL's writer does too. Without it the rows keep their order.
    pub spatial_index: bool,
}

impl Default for FlatGeobufWriteOptions {
    fn default() -> Self {
        FlatGeobufWriteOptions {
            spatial_index: true,
        }
    }
}

/// Writes `frame` as a FlatGeobuf file with a spatial index (see [`FlatGeobufSink`]).
pub fn write_flatgeobuf(frame: &GeoFrame, path: impl AsRef<Path>) -> Result<()> {
    let sink = FlatGeobufSink::create(path, &SinkLayout::of(frame), &Default::default())?;
    write_frame(frame, sink)
}

/// A FlatGeobuf file being written; it appears under its name only when the sink finishes.
///
/// Features are held in a temporary file until then, since the index and the order of the
/// features depend on all of them. The geometry type in the header is `Unknown` (each
/// feature carries its own, so frames may mix types), the CRS is written as its EPSG code
/// (or its WKT), and attribute columns keep their type where FlatGeobuf has it; dates and
/// timestamps are `DateTime` text, other flat types text. A FlatGeobuf feature always has
/// a geometry, so a null one is written as an empty line string (GDAL 3.12 cannot read an
/// empty collection). Nested columns are refused before anything is written.
///
/// ```
/// use geoframe::io::{read_flatgeobuf, read_shapefile, FlatGeobufSink, FlatGeobufWriteOptions, PartitionSink, SinkLayout};
/// let cities = read_shapefile("data/naturalearth_cities/naturalearth_cities.shp", &Default::default())?;
/// let path = std::env::temp_dir().join("geoframe_flatgeobuf_sink_doc.fgb");
/// let keep_order = FlatGeobufWriteOptions { spatial_index: false };
/// let mut sink = FlatGeobufSink::create(&path, &SinkLayout::of(&cities), &keep_order)?;
/// sink.write(cities.partitions())?;
/// Box::new(sink).finish()?;
/// let back = read_flatgeobuf(&path, 1000)?;
/// assert_eq!(back.partitions()[0].batch().column(0), cities.partitions()[0].batch().column(0));
/// # Ok::<(), geoframe::Error>(())
/// ```
pub struct FlatGeobufSink {
    out: AtomicFile,
    writer: FgbWriter<'static>,
    /// (column in the frame, its FlatGeobuf type, its name) of every attribute.
    columns: Vec<(usize, ColumnType, String)>,
    rows: u64,
}

impl FlatGeobufSink {
    /// Starts writing a FlatGeobuf file of `layout` at `path`.
    pub fn create(
        path: impl AsRef<Path>,
        layout: &SinkLayout,
        options: &FlatGeobufWriteOptions,
    ) -> Result<FlatGeobufSink> {
        let path = path.as_ref();
        super::super::check_flat_columns(layout, path, "a FlatGeobuf property")?;
        let out = AtomicFile::create(path)?;
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let wkt = layout
            .crs
            .as_ref()
            .filter(|c| c.to_epsg().is_none())
            .map(|c| c.definition().to_string());
        let crs = match &layout.crs {
            None => FgbCrs::default(),
            Some(c) => FgbCrs {
                org: c.to_epsg().map(|_| "EPSG"),
                code: c.to_epsg().and_then(|c| i32::try_from(c).ok()).unwrap_or(0),
                wkt: wkt.as_deref(),
                ..Default::default()
            },
        };
        let unwritable = |e: flatgeobuf::Error| Error::Unwritable {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let mut writer = FgbWriter::create_with_options(
            name,
            GeometryType::Unknown,
            FgbWriterOptions {
                write_index: options.spatial_index,
                detect_type: false,
                promote_to_multi: false,
                crs,
                ..Default::default()
            },
        )
        .map_err(unwritable)?;
        let mut columns = Vec::new();
        for (i, field) in layout.schema.fields().iter().enumerate() {
            if i == layout.geometry_column {
                continue;
            }
            let column_type = fgb_type(field.data_type());
            writer.add_column(field.name(), column_type, |_, column| {
                column.nullable = true
            });
            columns.push((i, column_type, field.name().clone()));
        }
        Ok(FlatGeobufSink {
            out,
            writer,
            columns,
            rows: 0,
        })
    }
}

/// The FlatGeobuf type an Arrow column is written as.
fn fgb_type(data_type: &DataType) -> ColumnType {
    match data_type {
        DataType::Boolean => ColumnType::Bool,
        DataType::Int8 => ColumnType::Byte,
        DataType::UInt8 => ColumnType::UByte,
        DataType::Int16 => ColumnType::Short,
        DataType::UInt16 => ColumnType::UShort,
        DataType::Int32 => ColumnType::Int,
        DataType::UInt32 => ColumnType::UInt,
        DataType::Int64 => ColumnType::Long,
        DataType::UInt64 => ColumnType::ULong,
        DataType::Float32 => ColumnType::Float,
        DataType::Float64 => ColumnType::Double,
        DataType::Binary | DataType::LargeBinary => ColumnType::Binary,
        DataType::Date32 | DataType::Date64 | DataType::Timestamp(..) => ColumnType::DateTime,
        _ => ColumnType::String,
    }
}

/// `value` as a FlatGeobuf property of type `column_type`; `None` for a null, which
/// FlatGeobuf stores by leaving the property out.
fn column_value<'a>(
    column_type: ColumnType,
    value: &'a Flat<'a>,
) -> std::result::Result<Option<ColumnValue<'a>>, String> {
    // Values come from columns of the Arrow type that `fgb_type` maps to `column_type`,
    // so the narrowing conversions below lose nothing.
    Ok(Some(match (column_type, value) {
        (_, Flat::Null) => return Ok(None),
        (ColumnType::Bool, Flat::Bool(v)) => ColumnValue::Bool(*v),
        (ColumnType::Byte, Flat::Int(v)) => ColumnValue::Byte(*v as i8),
        (ColumnType::Short, Flat::Int(v)) => ColumnValue::Short(*v as i16),
        (ColumnType::Int, Flat::Int(v)) => ColumnValue::Int(*v as i32),
        (ColumnType::Long, Flat::Int(v)) => ColumnValue::Long(*v),
        (ColumnType::UByte, Flat::UInt(v)) => ColumnValue::UByte(*v as u8),
        (ColumnType::UShort, Flat::UInt(v)) => ColumnValue::UShort(*v as u16),
        (ColumnType::UInt, Flat::UInt(v)) => ColumnValue::UInt(*v as u32),
        (ColumnType::ULong, Flat::UInt(v)) => ColumnValue::ULong(*v),
        (ColumnType::Float, Flat::Float(v)) => ColumnValue::Float(*v as f32),
        (ColumnType::Double, Flat::Float(v)) => ColumnValue::Double(*v),
        (ColumnType::Binary, Flat::Bytes(v)) => ColumnValue::Binary(v),
        (ColumnType::DateTime, Flat::Text(v)) => ColumnValue::DateTime(v),
        (ColumnType::String, Flat::Text(v)) => ColumnValue::String(v),
        (column_type, value) => {
            return Err(format!("{value:?} in a FlatGeobuf {column_type:?} column"))
        }
    }))
}

/// Writes one feature's non-null `values` into `feature`.
fn write_properties(
    feature: &mut impl PropertyProcessor,
    columns: &[(usize, ColumnType, String)],
    values: &[Flat<'_>],
) -> std::result::Result<(), String> {
    for (k, ((_, column_type, name), value)) in columns.iter().zip(values).enumerate() {
        let written = column_value(*column_type, value).and_then(|v| match v {
            Some(v) => feature.property(k, name, &v).map_err(|e| e.to_string()),
            None => Ok(false),
        });
        written.map_err(|e| format!("column {name:?}: {e}"))?;
    }
    Ok(())
}

/// A null geometry, written as an empty line string.
struct NoGeometry;

impl GeozeroGeometry for NoGeometry {
    fn process_geom<P: GeomProcessor>(&self, processor: &mut P) -> geozero::error::Result<()> {
        processor.linestring_begin(true, 0, 0)?;
        processor.linestring_end(true, 0)
    }
}

impl PartitionSink for FlatGeobufSink {
    fn write(&mut self, partitions: &[Partition]) -> Result<()> {
        let target = self.out.target().to_path_buf();
        for p in partitions {
            let batch = p.batch();
            let geometries = p.geometry_array();
            for r in 0..p.len() {
                let record = self.rows + r as u64;
                let mut values = Vec::with_capacity(self.columns.len());
                for &(c, _, _) in &self.columns {
                    values.push(flat_value(batch.column(c).as_ref(), r)?);
                }
                let mut failed = None;
                let columns = &self.columns;
                let added = if geometries.is_null(r) {
                    self.writer.add_feature_geom(NoGeometry, |feature| {
                        failed = write_properties(feature, columns, &values).err();
                    })
                } else {
                    let wkb = geozero::wkb::Wkb(geometries.value(r));
                    self.writer.add_feature_geom(wkb, |feature| {
                        failed = write_properties(feature, columns, &values).err();
                    })
                };
                if let Some(message) = failed {
                    return Err(Error::format(&target, Some(record), message));
                }
                added.map_err(|e| Error::format(&target, Some(record), e.to_string()))?;
            }
            self.rows += p.len() as u64;
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<()> {
        let target = self.out.target().to_path_buf();
        let FlatGeobufSink {
            mut out, writer, ..
        } = *self;
        writer.write(out.writer()).map_err(|e| Error::Unwritable {
            path: target,
            message: e.to_string(),
        })?;
        out.commit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_arrow_type_has_a_property_type_and_its_values_fit() {
        let cases = [
            (DataType::Int8, Flat::Int(-3), ColumnValue::Byte(-3)),
            (
                DataType::UInt64,
                Flat::UInt(u64::MAX),
                ColumnValue::ULong(u64::MAX),
            ),
            (
                DataType::Float64,
                Flat::Float(0.25),
                ColumnValue::Double(0.25),
            ),
            (
                DataType::Date32,
                Flat::Text("2024-03-01".into()),
                ColumnValue::DateTime("2024-03-01"),
            ),
            (
                DataType::Utf8,
                Flat::Text("x".into()),
                ColumnValue::String("x"),
            ),
        ];
        for (data_type, flat, expected) in cases {
            assert_eq!(
                column_value(fgb_type(&data_type), &flat),
                Ok(Some(expected))
            );
        }
        assert_eq!(column_value(ColumnType::Long, &Flat::Null), Ok(None));
        assert!(column_value(ColumnType::Long, &Flat::Float(1.5)).is_err());
    }
}
