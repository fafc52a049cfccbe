//! GeoParquet 1.1: WKB geometry columns described by the `geo` file metadata (encoding,
//! geometry types, bbox, CRS as PROJJSON).

use std::collections::BTreeSet;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use serde_json::{json, Value};

use crate::crs::Crs;
use crate::error::{Error, Result};
use crate::io::atomic::AtomicFile;
use crate::{geometry, GeoFrame};

/// Options for [`read_geoparquet`].
#[derive(Debug, Clone)]
pub struct GeoParquetOptions {
    /// Rows per partition when reading. Default 100,000.
    pub rows_per_partition: usize,
}

impl Default for GeoParquetOptions {
    fn default() -> Self {
        GeoParquetOptions {
            rows_per_partition: 100_000,
        }
    }
}

fn parquet_error(path: &Path) -> impl FnOnce(parquet::errors::ParquetError) -> Error + '_ {
    move |source| Error::Parquet {
        path: path.to_path_buf(),
        source,
    }
}

/// The GeoJSON type name of a WKB value, read from its header.
fn wkb_type_name(bytes: &[u8]) -> Option<&'static str> {
    let code = match bytes.first()? {
        1 => u32::from_le_bytes(bytes.get(1..5)?.try_into().ok()?),
        0 => u32::from_be_bytes(bytes.get(1..5)?.try_into().ok()?),
        _ => return None,
    };
    Some(match code % 1000 {
        1 => "Point",
        2 => "LineString",
        3 => "Polygon",
        4 => "MultiPoint",
        5 => "MultiLineString",
        6 => "MultiPolygon",
        7 => "GeometryCollection",
        _ => return None,
    })
}

/// Writes `frame` as GeoParquet 1.1 (WKB encoding, snappy compression), one row group per
/// partition. The `geo` metadata records the geometry types present, the bbox and the CRS
/// as PROJJSON (`null` when the frame has none).
///
/// ```no_run
/// # use geoframe::{GeoFrame, io::write_geoparquet};
/// # fn f(frame: &GeoFrame) -> geoframe::Result<()> {
/// write_geoparquet(frame, "counties.parquet")?;
/// # Ok(()) }
/// ```
pub fn write_geoparquet(frame: &GeoFrame, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let mut types = BTreeSet::new();
    for p in frame.partitions() {
        let a = p.geometry_array();
        for i in 0..a.len() {
            if a.is_valid(i) {
                if let Some(t) = wkb_type_name(a.value(i)) {
                    types.insert(t);
                }
            }
        }
    }
    let crs = match frame.crs() {
        Some(c) => serde_json::from_str::<Value>(&c.to_projjson()?)
            .map_err(|e| Error::Crs(format!("PROJ wrote invalid PROJJSON: {e}")))?,
        None => Value::Null,
    };
    let mut column = json!({
        "encoding": "WKB",
        "geometry_types": types.into_iter().collect::<Vec<_>>(),
        "crs": crs,
    });
    if let Some(b) = frame.total_bounds() {
        column["bbox"] = json!([b.min().x, b.min().y, b.max().x, b.max().y]);
    }
    let geo = json!({
        "version": "1.1.0",
        "primary_column": frame.geometry_column(),
        "columns": { frame.geometry_column(): column },
    });
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_key_value_metadata(Some(vec![KeyValue::new(
            "geo".to_string(),
            geo.to_string(),
        )]))
        .build();
    let mut out = AtomicFile::create(path)?;
    {
        let mut writer = ArrowWriter::try_new(out.writer(), frame.schema().clone(), Some(props))
            .map_err(parquet_error(path))?;
        for batch in frame.batches() {
            writer.write(batch).map_err(parquet_error(path))?;
            writer.flush().map_err(parquet_error(path))?;
        }
        writer.close().map_err(parquet_error(path))?;
    }
    out.commit()
}

/// Reads a GeoParquet file (WKB encoding) into a [`GeoFrame`]. The primary geometry column
/// and the CRS come from the `geo` metadata; a missing `crs` key means OGC:CRS84 (read as
/// EPSG:4326, longitude first), an explicit `null` means no CRS.
pub fn read_geoparquet(path: impl AsRef<Path>, options: &GeoParquetOptions) -> Result<GeoFrame> {
    let path = path.as_ref();
    if options.rows_per_partition == 0 {
        return Err(Error::InvalidArgument(
            "rows_per_partition must be at least 1".into(),
        ));
    }
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(parquet_error(path))?;
    let geo = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .and_then(|kv| kv.iter().find(|k| k.key == "geo"))
        .and_then(|k| k.value.clone())
        .ok_or_else(|| Error::format(path, None, "no `geo` metadata: not a GeoParquet file"))?;
    let geo: Value = serde_json::from_str(&geo)
        .map_err(|e| Error::format(path, None, format!("`geo` metadata is not JSON: {e}")))?;
    let primary = geo["primary_column"]
        .as_str()
        .ok_or_else(|| Error::format(path, None, "`geo` metadata has no primary_column"))?
        .to_string();
    let column = &geo["columns"][&primary];
    let encoding = column["encoding"].as_str().unwrap_or("");
    if !encoding.eq_ignore_ascii_case("wkb") {
        return Err(Error::NotImplemented {
            op: "read_geoparquet with native GeoArrow encoding",
            roadmap: "geoparquet-native-encodings",
        });
    }
    let crs = match column.get("crs") {
        None => Some(Crs::epsg(4326)),
        Some(Value::Null) => None,
        Some(Value::String(s)) => Some(Crs::from_user_input(s)?),
        Some(v) => Some(Crs::from_user_input(&v.to_string())?),
    };
    let reader = builder
        .with_batch_size(options.rows_per_partition)
        .build()
        .map_err(parquet_error(path))?;
    let arrow_schema = arrow_array::RecordBatchReader::schema(&reader);
    let geometry_index = crate::frame::column_index(&arrow_schema, &primary)?;
    let mut fields: Vec<arrow_schema::FieldRef> = arrow_schema.fields().iter().cloned().collect();
    fields[geometry_index] = Arc::new(geometry::geometry_field(&primary));
    let schema = Arc::new(Schema::new(fields));
    let mut batches = Vec::new();
    for batch in reader {
        let batch = batch?;
        let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
        if columns[geometry_index].data_type() != &DataType::Binary {
            columns[geometry_index] =
                arrow_cast::cast(&columns[geometry_index], &DataType::Binary)?;
        }
        batches.push(RecordBatch::try_new(schema.clone(), columns)?);
    }
    GeoFrame::from_record_batches(schema, batches, &primary, crs).map_err(|e| match e {
        Error::InvalidGeometry {
            record, message, ..
        } => Error::InvalidGeometry {
            path: Some(path.to_path_buf()),
            record,
            message,
        },
        other => other,
    })
}
