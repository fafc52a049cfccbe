//! Writing GeoParquet: [`GeoParquetSink`] encodes the row groups of a window of partitions
//! in parallel while a thread of its own appends the previous window to the file.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::mpsc::SyncSender;
use std::sync::Arc;
use std::thread::JoinHandle;

use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch, StructArray};
use arrow_buffer::NullBuffer;
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};
use parquet::arrow::arrow_writer::{
    compute_leaves, ArrowColumnChunk, ArrowRowGroupWriterFactory, ArrowWriterOptions,
};
use parquet::arrow::{encode_arrow_schema, ArrowWriter, ARROW_SCHEMA_META_KEY};
use parquet::basic::Encoding;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::ColumnPath;
use rayon::prelude::*;
use serde_json::{json, Value};
use tempfile::NamedTempFile;

use super::{parquet_error, GeoParquetWriteOptions, GeometryEncoding};
use crate::crs::Crs;
use crate::error::{Error, Result};
use crate::geometry::{self, wkb_envelope, wkb_to_native, NativeEncoding};
use crate::io::atomic::AtomicFile;
use crate::io::source::{write_frame, PartitionSink, SinkLayout};
use crate::partition::Partition;
use crate::GeoFrame;

type FileWriter = SerializedFileWriter<BufWriter<NamedTempFile>>;

/// Writes `frame` as GeoParquet 1.1 with the default [`GeoParquetWriteOptions`] (WKB
/// encoding, a `bbox` covering column), one row group per partition, through a
/// [`GeoParquetSink`]. The `geo` metadata, in the Parquet footer and in the Arrow schema,
/// records the geometry types present, the bbox, the covering, the creator and the CRS as
/// PROJJSON (`null` when the frame has none).
///
/// ```no_run
/// # use geoframe::{GeoFrame, io::write_geoparquet};
/// # fn f(frame: &GeoFrame) -> geoframe::Result<()> {
/// write_geoparquet(frame, "counties.parquet")?;
/// # Ok(()) }
/// ```
pub fn write_geoparquet(frame: &GeoFrame, path: impl AsRef<Path>) -> Result<()> {
    write_geoparquet_with(frame, path, &GeoParquetWriteOptions::default())
}

/// [`write_geoparquet`] with a choice of compression and covering column.
///
/// ```no_run
/// # use geoframe::{GeoFrame, io::{write_geoparquet_with, GeoParquetWriteOptions}};
/// # fn f(frame: &GeoFrame) -> geoframe::Result<()> {
/// let options = GeoParquetWriteOptions { compression: "zstd".parse()?, covering: false, ..Default::default() };
/// write_geoparquet_with(frame, "counties.parquet", &options)?;
/// # Ok(()) }
/// ```
pub fn write_geoparquet_with(
    frame: &GeoFrame,
    path: impl AsRef<Path>,
    options: &GeoParquetWriteOptions,
) -> Result<()> {
    write_frame(
        frame,
        GeoParquetSink::create_with(path, &SinkLayout::of(frame), options)?,
    )
}

/// A GeoParquet file being written, one row group per partition (see
/// [`write_geoparquet`]). The file appears under its name only when the sink finishes.
pub struct GeoParquetSink {
    path: PathBuf,
    /// The frame's schema, and the file's (the frame's and the covering column).
    schema: SchemaRef,
    file_schema: SchemaRef,
    /// `file_schema` as the Parquet writer sees it: the WKB column's extension metadata,
    /// from which it derives the GEOMETRY logical type, is there only when asked for.
    writer_schema: SchemaRef,
    geometry_logical_type: bool,
    /// The covering column's name, when one is written.
    covering: Option<String>,
    compression: parquet::basic::Compression,
    encoding: GeometryEncoding,
    /// Rows written so far, to number rows in errors.
    rows: u64,
    geometry_column: usize,
    crs: Option<Crs>,
    /// The temporary file until the first write opens the Parquet writer on it.
    pending: Option<AtomicFile>,
    open: Option<Open>,
    types: BTreeSet<&'static str>,
    bbox: Option<geo::Rect>,
}

/// The Parquet writer once open: the factory encodes row groups on any thread, the
/// appender thread owns the file and appends encoded row groups in order.
struct Open {
    factory: ArrowRowGroupWriterFactory,
    next_row_group: usize,
    send: SyncSender<Vec<Vec<ArrowColumnChunk>>>,
    appender: JoinHandle<parquet::errors::Result<FileWriter>>,
}

impl GeoParquetSink {
    /// Starts writing a GeoParquet file of `layout` at `path`, through a temporary file
    /// beside it, with the default [`GeoParquetWriteOptions`].
    pub fn create(path: impl AsRef<Path>, layout: &SinkLayout) -> Result<GeoParquetSink> {
        Self::create_with(path, layout, &GeoParquetWriteOptions::default())
    }

    /// [`GeoParquetSink::create`] with a choice of compression and covering column.
    pub fn create_with(
        path: impl AsRef<Path>,
        layout: &SinkLayout,
        options: &GeoParquetWriteOptions,
    ) -> Result<GeoParquetSink> {
        let path = path.as_ref().to_path_buf();
        let compression = options.compression.to_parquet()?;
        let geometry_name = layout.schema.field(layout.geometry_column).name();
        let covering = options
            .covering
            .then(|| covering_name(&layout.schema, geometry_name));
        let mut fields: Vec<Field> = layout
            .schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        if let GeometryEncoding::Native(native) = options.encoding {
            fields[layout.geometry_column] = native.field(geometry_name);
        }
        if let Some(name) = &covering {
            fields.push(Field::new(name, DataType::Struct(covering_fields()), true));
        }
        let mut writer_fields = fields.clone();
        if options.encoding == GeometryEncoding::Wkb {
            let field = &writer_fields[layout.geometry_column];
            writer_fields[layout.geometry_column] = if options.geometry_logical_type {
                logical_type_field(field, layout.crs.as_ref())?
            } else {
                field.clone().with_metadata(HashMap::new())
            };
        }
        Ok(GeoParquetSink {
            pending: Some(AtomicFile::create(&path)?),
            path,
            writer_schema: Arc::new(Schema::new(writer_fields)),
            geometry_logical_type: options.geometry_logical_type
                && options.encoding == GeometryEncoding::Wkb,
            file_schema: Arc::new(Schema::new(fields)),
            covering,
            compression,
            encoding: options.encoding,
            rows: 0,
            schema: layout.schema.clone(),
            geometry_column: layout.geometry_column,
            crs: layout.crs.clone(),
            open: None,
            types: BTreeSet::new(),
            bbox: None,
        })
    }

    fn geometry_name(&self) -> &str {
        self.schema.field(self.geometry_column).name()
    }

    /// Opens the Parquet writer, with column settings chosen from `sample`.
    fn open(&mut self, sample: Option<&RecordBatch>) -> Result<&mut Open> {
        if self.open.is_none() {
            let path = &self.path;
            let file = self
                .pending
                .take()
                .ok_or_else(|| Error::Internal(format!("{}: written twice", path.display())))?;
            let (_, writer) = file.into_parts();
            let props = self.properties(sample);
            // The Arrow schema is written at the end, with the `geo` metadata in it.
            let options = ArrowWriterOptions::new()
                .with_properties(props)
                .with_skip_arrow_metadata(true);
            let writer =
                ArrowWriter::try_new_with_options(writer, self.writer_schema.clone(), options)
                    .map_err(parquet_error(path))?;
            let (mut file, factory) = writer
                .into_serialized_writer()
                .map_err(parquet_error(path))?;
            let (send, receive) = std::sync::mpsc::sync_channel::<Vec<Vec<ArrowColumnChunk>>>(1);
            let appender = std::thread::spawn(move || {
                for encoded in receive {
                    for chunks in encoded {
                        let mut row_group = file.next_row_group()?;
                        for chunk in chunks {
                            chunk.append_to_row_group(&mut row_group)?;
                        }
                        row_group.close()?;
                    }
                }
                Ok(file)
            });
            self.open = Some(Open {
                factory,
                next_row_group: 0,
                send,
                appender,
            });
        }
        self.open
            .as_mut()
            .ok_or_else(|| Error::Internal("the GeoParquet writer did not open".into()))
    }

    fn properties(&self, sample: Option<&RecordBatch>) -> WriterProperties {
        let geometry = ColumnPath::from(self.geometry_name());
        // WKB's byte order says nothing about where a geometry lies, so min/max statistics
        // on it only cost time; every geometry is distinct, so a dictionary would too. With
        // the GEOMETRY logical type, chunk statistics are its geospatial ones (boxes).
        let statistics = match self.geometry_logical_type {
            true => EnabledStatistics::Chunk,
            false => EnabledStatistics::None,
        };
        let mut props = WriterProperties::builder()
            .set_compression(self.compression)
            .set_column_statistics_enabled(geometry.clone(), statistics)
            .set_column_dictionary_enabled(geometry, false);
        // Attributes whose values mostly differ (ids, measurements) skip the dictionary
        // too: parquet would hash every value before giving up on it.
        if let Some(sample) = sample {
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
        props.build()
    }

    /// The `geo` metadata of what was written.
    fn geo_metadata(&self) -> Result<Value> {
        let crs = match &self.crs {
            Some(c) => serde_json::from_str::<Value>(&c.to_projjson()?)
                .map_err(|e| Error::Crs(format!("PROJ wrote invalid PROJJSON: {e}")))?,
            None => Value::Null,
        };
        let encoding = match self.encoding {
            GeometryEncoding::Wkb => "WKB",
            GeometryEncoding::Native(native) => native.name(),
        };
        let mut column = json!({
            "encoding": encoding,
            "geometry_types": self.types.iter().collect::<Vec<_>>(),
            "crs": crs,
        });
        if let Some(b) = self.bbox {
            column["bbox"] = json!([b.min().x, b.min().y, b.max().x, b.max().y]);
        }
        if let Some(name) = &self.covering {
            column["covering"] = json!({ "bbox": {
                "xmin": [name, "xmin"],
                "ymin": [name, "ymin"],
                "xmax": [name, "xmax"],
                "ymax": [name, "ymax"],
            }});
        }
        Ok(json!({
            "version": "1.1.0",
            "primary_column": self.geometry_name(),
            "columns": { self.geometry_name(): column },
            "creator": { "library": "geoframe", "version": env!("CARGO_PKG_VERSION") },
        }))
    }
}

impl Drop for GeoParquetSink {
    /// A sink dropped before it finished: the appender thread owns the temporary file, so
    /// wait for it to stop, and the file to be removed, before returning.
    fn drop(&mut self) {
        if let Some(Open { send, appender, .. }) = self.open.take() {
            drop(send);
            let _ = appender.join();
        }
    }
}

impl PartitionSink for GeoParquetSink {
    fn write(&mut self, partitions: &[Partition]) -> Result<()> {
        let sample = partitions
            .iter()
            .find(|p| p.len() >= 64)
            .map(|p| p.batch().clone());
        self.types.extend(partition_types(partitions));
        for p in partitions {
            self.bbox = geometry::merge_bounds(self.bbox, p.bounds());
        }
        let path = self.path.clone();
        let file_schema = self.file_schema.clone();
        let with_covering = self.covering.is_some();
        let encoding = self.encoding;
        let mut first_rows = Vec::with_capacity(partitions.len());
        for p in partitions {
            first_rows.push(self.rows);
            self.rows += p.len() as u64;
        }
        let open = self.open(sample.as_ref())?;
        let first = open.next_row_group;
        let factory = &open.factory;
        let encoded: Vec<Vec<ArrowColumnChunk>> = partitions
            .par_iter()
            .enumerate()
            .map(|(k, p)| {
                let mut columns = p.batch().columns().to_vec();
                if let GeometryEncoding::Native(native) = encoding {
                    columns[p.geometry_column_index()] =
                        wkb_to_native(p.geometry_array(), native, first_rows[k])
                            .map_err(|e| e.in_file(&path))?;
                }
                if with_covering {
                    columns.push(covering_array(p.geometry_array()));
                }
                let batch = RecordBatch::try_new(file_schema.clone(), columns)?;
                encode_row_group(factory, first + k, &batch).map_err(parquet_error(&path))
            })
            .collect::<Result<_>>()?;
        open.next_row_group += partitions.len();
        if open.send.send(encoded).is_err() {
            // The appender stopped on an error: report that error.
            let stopped = self.open.take().map(|o| o.appender.join());
            return Err(match stopped {
                Some(Ok(Err(e))) => parquet_error(&path)(e),
                _ => Error::Internal(format!(
                    "{}: the GeoParquet appender stopped early",
                    path.display()
                )),
            });
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.open(None)?;
        let geo = self.geo_metadata()?;
        let path = self.path.clone();
        let Open { send, appender, .. } = self
            .open
            .take()
            .ok_or_else(|| Error::Internal("the GeoParquet writer did not open".into()))?;
        drop(send);
        let mut file = match appender.join() {
            Ok(result) => result.map_err(parquet_error(&path))?,
            Err(_) => {
                return Err(Error::Internal(format!(
                    "{}: the GeoParquet appender thread panicked",
                    path.display()
                )))
            }
        };
        let geo = geo.to_string();
        // Readers that look for `geo` in the Arrow schema (dask-geopandas) find it there.
        let arrow_schema = Schema::new_with_metadata(
            self.file_schema.fields().clone(),
            HashMap::from([("geo".to_string(), geo.clone())]),
        );
        file.append_key_value_metadata(KeyValue::new(
            ARROW_SCHEMA_META_KEY.to_string(),
            encode_arrow_schema(&arrow_schema),
        ));
        file.append_key_value_metadata(KeyValue::new("geo".to_string(), geo));
        let writer = file.into_inner().map_err(parquet_error(&path))?;
        AtomicFile::from_parts(path, writer).commit()
    }
}

/// The WKB field `field` with the `geoarrow.wkb` extension metadata from which the
/// `parquet` crate writes the GEOMETRY logical type: longitude/latitude CRSs as the type's
/// default (OGC:CRS84), others as `EPSG:<code>` or PROJJSON, none as `srid:0`.
fn logical_type_field(field: &Field, crs: Option<&Crs>) -> Result<Field> {
    let crs = match crs {
        None => serde_json::Value::Null,
        Some(c) => match c.to_epsg() {
            Some(4326) => "OGC:CRS84".into(),
            Some(code) => format!("EPSG:{code}").into(),
            None => serde_json::from_str(&c.to_projjson()?)
                .map_err(|e| Error::Crs(format!("PROJ's PROJJSON does not parse: {e}")))?,
        },
    };
    let mut extension = serde_json::Map::new();
    if !crs.is_null() {
        extension.insert("crs".into(), crs);
    }
    Ok(field.clone().with_metadata(HashMap::from([
        (
            "ARROW:extension:name".to_string(),
            geometry::WKB_EXTENSION.to_string(),
        ),
        (
            "ARROW:extension:metadata".to_string(),
            serde_json::Value::Object(extension).to_string(),
        ),
    ])))
}

/// The covering column's fields: GeoParquet 1.1's `xmin`, `ymin`, `xmax`, `ymax`.
fn covering_fields() -> Fields {
    ["xmin", "ymin", "xmax", "ymax"]
        .into_iter()
        .map(|name| Field::new(name, DataType::Float64, false))
        .collect()
}

/// The covering column's name: `bbox` as GeoPandas writes it, unless a column has it.
fn covering_name(schema: &Schema, geometry: &str) -> String {
    ["bbox".to_string(), format!("{geometry}_bbox")]
        .into_iter()
        .chain((1..).map(|k| format!("bbox_{k}")))
        .find(|name| schema.index_of(name).is_err())
        .unwrap_or_default()
}

/// Each row's bounding box as a covering struct; null where the geometry is null or empty.
fn covering_array(array: &arrow_array::BinaryArray) -> ArrayRef {
    let n = array.len();
    let mut coords: [Vec<f64>; 4] = std::array::from_fn(|_| Vec::with_capacity(n));
    let mut valid = Vec::with_capacity(n);
    for i in 0..n {
        let rect = array
            .is_valid(i)
            .then(|| wkb_envelope(array.value(i)))
            .flatten();
        let (x0, y0, x1, y1) = rect.map_or((0.0, 0.0, 0.0, 0.0), |r| {
            (r.min().x, r.min().y, r.max().x, r.max().y)
        });
        for (column, v) in coords.iter_mut().zip([x0, y0, x1, y1]) {
            column.push(v);
        }
        valid.push(rect.is_some());
    }
    let columns: Vec<ArrayRef> = coords
        .into_iter()
        .map(|c| Arc::new(Float64Array::from(c)) as ArrayRef)
        .collect();
    let nulls = valid.contains(&false).then(|| NullBuffer::from(valid));
    Arc::new(StructArray::new(covering_fields(), columns, nulls))
}

/// The GeoJSON type names of the geometries of `partitions`, from their WKB headers.
fn partition_types(partitions: &[Partition]) -> BTreeSet<&'static str> {
    partitions
        .par_iter()
        .map(|p| geometry_types(p.geometry_array()))
        .reduce(BTreeSet::new, |mut a, b| {
            a.extend(b);
            a
        })
}

/// The narrowest native GeoArrow encoding that holds every geometry of `frame` (see
/// [`NativeEncoding::holding`]), read from the WKB headers alone; `None` when the frame
/// mixes geometry families or holds collections.
///
/// ```
/// use geoframe::geometry::NativeEncoding;
/// use geoframe::io::{native_encoding_for, read_shapefile, ShapefileOptions};
/// let countries = read_shapefile("data/naturalearth_lowres/naturalearth_lowres.shp", &ShapefileOptions::default())?;
/// assert_eq!(native_encoding_for(&countries), Some(NativeEncoding::MultiPolygon));
/// # Ok::<(), geoframe::Error>(())
/// ```
pub fn native_encoding_for(frame: &GeoFrame) -> Option<NativeEncoding> {
    NativeEncoding::holding(partition_types(frame.partitions()))
}

/// The GeoJSON type names of the WKB values in `array`.
fn geometry_types(array: &arrow_array::BinaryArray) -> BTreeSet<&'static str> {
    let mut types = BTreeSet::new();
    let mut last: Option<&[u8]> = None;
    for i in 0..array.len() {
        if array.is_valid(i) {
            // Only the 5-byte header decides the type: skip repeats cheaply.
            let header = array.value(i).get(..5);
            if header.is_some() && header == last {
                continue;
            }
            last = header;
            if let Some(t) = wkb_type_name(array.value(i)) {
                types.insert(t);
            }
        }
    }
    types
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
