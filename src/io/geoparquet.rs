//! GeoParquet 1.1: WKB geometry columns described by the `geo` file metadata (encoding,
//! geometry types, bbox, CRS as PROJJSON).

use std::collections::{BTreeSet, HashSet};
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Schema, SchemaRef};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::arrow_writer::{compute_leaves, ArrowColumnChunk, ArrowRowGroupWriterFactory};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use rayon::prelude::*;
use serde_json::{json, Value};

use crate::crs::Crs;
use crate::error::{Error, Result};
use crate::io::atomic::AtomicFile;
use crate::{geometry, GeoFrame};

/// Options for [`read_geoparquet`].
#[derive(Debug, Clone)]
pub struct GeoParquetOptions {
    /// Rows per partition when reading: a partition never spans row groups, and a row
    /// group with more rows is cut. Default 1,000,000, so that files from common writers
    /// read one row group per partition (a cut row group decodes part of its pages twice).
    pub rows_per_partition: usize,
}

impl Default for GeoParquetOptions {
    fn default() -> Self {
        GeoParquetOptions {
            rows_per_partition: 1_000_000,
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
    // Geometry types present, one set per partition in parallel.
    let types: BTreeSet<&'static str> = frame
        .partitions()
        .par_iter()
        .map(|p| {
            let a = p.geometry_array();
            let mut types = BTreeSet::new();
            let mut last: Option<&[u8]> = None;
            for i in 0..a.len() {
                if a.is_valid(i) {
                    // Only the 5-byte header decides the type: skip repeats cheaply.
                    let header = a.value(i).get(..5);
                    if header.is_some() && header == last {
                        continue;
                    }
                    last = header;
                    if let Some(t) = wkb_type_name(a.value(i)) {
                        types.insert(t);
                    }
                }
            }
            types
        })
        .reduce(BTreeSet::new, |mut a, b| {
            a.extend(b);
            a
        });
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
    let mut props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_key_value_metadata(Some(vec![KeyValue::new(
            "geo".to_string(),
            geo.to_string(),
        )]))
        // WKB's byte order says nothing about where a geometry lies, so min/max statistics
        // on it only cost time; every geometry is distinct, so a dictionary would too.
        .set_column_statistics_enabled(
            ColumnPath::from(frame.geometry_column()),
            EnabledStatistics::None,
        )
        .set_column_dictionary_enabled(ColumnPath::from(frame.geometry_column()), false);
    // Attributes whose values mostly differ (ids, measurements) skip the dictionary too:
    // parquet would hash every value before giving up on it.
    if let Some(sample) = frame.batches().find(|b| b.num_rows() >= 64) {
        for (field, column) in sample.schema().fields().iter().zip(sample.columns()) {
            if mostly_distinct(column.as_ref()) {
                let name = ColumnPath::from(field.name().as_str());
                props = props.set_column_dictionary_enabled(name.clone(), false);
                // Integers (ids, row numbers) store far smaller, and faster, as deltas.
                if matches!(field.data_type(), DataType::Int32 | DataType::Int64) {
                    props = props.set_column_encoding(name, Encoding::DELTA_BINARY_PACKED);
                }
            }
        }
    }
    let props = props.build();
    let mut out = AtomicFile::create(path)?;
    {
        let writer = ArrowWriter::try_new(out.writer(), frame.schema().clone(), Some(props))
            .map_err(parquet_error(path))?;
        let (mut file, factory) = writer
            .into_serialized_writer()
            .map_err(parquet_error(path))?;
        // Row groups are encoded (the costly part) in parallel, a window at a time so that
        // memory stays bounded, while another thread appends the previous window to the
        // file in partition order.
        let partitions = frame.partitions();
        let window = 2 * rayon::current_num_threads().max(1);
        std::thread::scope(|scope| -> Result<()> {
            let (send, receive) = std::sync::mpsc::sync_channel::<Vec<Vec<ArrowColumnChunk>>>(1);
            let appender = scope.spawn(move || -> parquet::errors::Result<()> {
                for encoded in receive {
                    for chunks in encoded {
                        let mut row_group = file.next_row_group()?;
                        for chunk in chunks {
                            chunk.append_to_row_group(&mut row_group)?;
                        }
                        row_group.close()?;
                    }
                }
                file.close().map(|_| ())
            });
            for (w, group) in partitions.chunks(window).enumerate() {
                let encoded: Vec<Vec<ArrowColumnChunk>> = group
                    .par_iter()
                    .enumerate()
                    .map(|(k, p)| encode_row_group(&factory, w * window + k, p.batch()))
                    .collect::<std::result::Result<_, _>>()
                    .map_err(parquet_error(path))?;
                if send.send(encoded).is_err() {
                    // The appender stopped on an error: it is reported below.
                    break;
                }
            }
            drop(send);
            match appender.join() {
                Ok(result) => result.map_err(parquet_error(path)),
                Err(_) => Err(Error::InvalidArgument(format!(
                    "{}: the GeoParquet appender thread panicked",
                    path.display()
                ))),
            }
        })?;
    }
    out.commit()
}

/// Whether more than half of the first 1,024 values of `column` differ. Types other than
/// primitives and strings/binaries answer `false`.
fn mostly_distinct(column: &dyn Array) -> bool {
    use arrow_array::cast::AsArray;
    let n = column.len().min(1024);
    let mut seen: HashSet<&[u8]> = HashSet::with_capacity(n);
    let data = column.to_data();
    match column.data_type() {
        t if t.is_primitive() => {
            let Some(width) = t.primitive_width() else {
                return false;
            };
            let Some(buffer) = data.buffers().first() else {
                return false;
            };
            let bytes = buffer.as_slice();
            for i in data.offset()..data.offset() + n {
                if let Some(v) = bytes.get(i * width..(i + 1) * width) {
                    seen.insert(v);
                }
            }
        }
        DataType::Utf8 => {
            let a = column.as_string::<i32>();
            seen.extend((0..n).map(|i| a.value(i).as_bytes()));
        }
        DataType::LargeUtf8 => {
            let a = column.as_string::<i64>();
            seen.extend((0..n).map(|i| a.value(i).as_bytes()));
        }
        DataType::Binary => {
            let a = column.as_binary::<i32>();
            seen.extend((0..n).map(|i| a.value(i)));
        }
        DataType::LargeBinary => {
            let a = column.as_binary::<i64>();
            seen.extend((0..n).map(|i| a.value(i)));
        }
        _ => return false,
    }
    seen.len() * 2 > n
}

/// Encodes one batch as the column chunks of row group `index`.
fn encode_row_group(
    factory: &ArrowRowGroupWriterFactory,
    index: usize,
    batch: &RecordBatch,
) -> parquet::errors::Result<Vec<ArrowColumnChunk>> {
    let mut writers = factory.create_column_writers(index)?.into_iter();
    let mut chunks = Vec::new();
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        for leaf in compute_leaves(field, column)? {
            let mut writer = writers.next().ok_or_else(|| {
                parquet::errors::ParquetError::General(format!(
                    "no column writer for a leaf of `{}`",
                    field.name()
                ))
            })?;
            writer.write(&leaf)?;
            chunks.push(writer.close()?);
        }
    }
    Ok(chunks)
}

/// Reads a GeoParquet file (WKB encoding) into a [`GeoFrame`]: [`scan_geoparquet`],
/// computed.
pub fn read_geoparquet(path: impl AsRef<Path>, options: &GeoParquetOptions) -> Result<GeoFrame> {
    scan_geoparquet(path, options)?
        .collect(&crate::plan::ExecuteOptions::default())
        .map_err(Error::into_root)
}

/// A lazy frame over a GeoParquet file (WKB encoding): each partition is a slice of at most
/// `rows_per_partition` rows of one row group, read by its own task when needed. The primary
/// geometry column and the CRS come from the `geo` metadata; a missing `crs` key means
/// OGC:CRS84 (read as EPSG:4326, longitude first), an explicit `null` means no CRS.
/// Partition bounds are the file's `bbox` until the partitions are read.
pub fn scan_geoparquet(
    path: impl AsRef<Path>,
    options: &GeoParquetOptions,
) -> Result<crate::plan::LazyFrame> {
    let source = GeoParquetSource::open(path.as_ref(), options.rows_per_partition)?;
    Ok(crate::plan::LazyFrame::from_geoparquet(Arc::new(source)))
}

/// An open GeoParquet file, cut into partitions of row-group slices.
pub(crate) struct GeoParquetSource {
    path: std::path::PathBuf,
    pub(crate) schema: SchemaRef,
    pub(crate) geometry_column: usize,
    pub(crate) crs: Option<Crs>,
    pub(crate) bbox: Option<geo::Rect>,
    /// (row group, first row in it, rows) of each partition.
    pub(crate) slices: Vec<(usize, usize, usize)>,
}

impl GeoParquetSource {
    fn open(path: &Path, rows_per_partition: usize) -> Result<GeoParquetSource> {
        if rows_per_partition == 0 {
            return Err(Error::InvalidArgument(
                "rows_per_partition must be at least 1".into(),
            ));
        }
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let builder =
            ParquetRecordBatchReaderBuilder::try_new(file).map_err(parquet_error(path))?;
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
        let bbox = column["bbox"].as_array().and_then(|b| {
            let v: Vec<f64> = b.iter().filter_map(Value::as_f64).collect();
            (v.len() == 4).then(|| geo::Rect::new((v[0], v[1]), (v[2], v[3])))
        });
        let arrow_schema = builder.schema().clone();
        let geometry_column = crate::frame::column_index(&arrow_schema, &primary)?;
        let mut fields: Vec<arrow_schema::FieldRef> =
            arrow_schema.fields().iter().cloned().collect();
        fields[geometry_column] = Arc::new(geometry::geometry_field(&primary));
        let mut slices = Vec::new();
        for (g, rg) in builder.metadata().row_groups().iter().enumerate() {
            let rows = usize::try_from(rg.num_rows()).unwrap_or(0);
            let mut start = 0;
            while start < rows {
                let len = rows_per_partition.min(rows - start);
                slices.push((g, start, len));
                start += len;
            }
        }
        Ok(GeoParquetSource {
            path: path.to_path_buf(),
            schema: Arc::new(Schema::new(fields)),
            geometry_column,
            crs,
            bbox,
            slices,
        })
    }

    /// Reads partition `k`.
    pub(crate) fn read_row_group(&self, k: usize) -> Result<crate::partition::Partition> {
        use parquet::arrow::arrow_reader::{RowSelection, RowSelector};
        let path = &self.path;
        let &(group, start, len) = self.slices.get(k).ok_or_else(|| {
            Error::InvalidArgument(format!("{}: no partition {k}", path.display()))
        })?;
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(parquet_error(path))?
            .with_row_groups(vec![group])
            .with_row_selection(RowSelection::from(vec![
                RowSelector::skip(start),
                RowSelector::select(len),
            ]))
            .with_batch_size(len.max(1))
            .build()
            .map_err(parquet_error(path))?;
        let mut batches = Vec::new();
        for batch in reader {
            let batch = batch?;
            let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
            if columns[self.geometry_column].data_type() != &DataType::Binary {
                columns[self.geometry_column] =
                    arrow_cast::cast(&columns[self.geometry_column], &DataType::Binary)?;
            }
            batches.push(RecordBatch::try_new(self.schema.clone(), columns)?);
        }
        let batch = arrow_select::concat::concat_batches(&self.schema, &batches)?;
        let first_row: u64 = self.slices[..k].iter().map(|s| s.2 as u64).sum();
        crate::partition::Partition::new(batch, self.geometry_column, first_row)
            .map_err(|e| e.in_file(path))
    }
}
