//! FlatGeobuf files, through the `flatgeobuf` crate and `geozero`.
//!
//! A FlatGeobuf file is a header, an optional packed Hilbert R-tree over the features'
//! boxes, and the features, in the tree's order. [`FlatGeobufSource`] makes a partition of
//! each run of `rows_per_partition` leaves of that tree: its bounds come from the leaves'
//! boxes and its bytes are one contiguous range, so partitions are spatially coherent and
//! read without touching each other. [`FlatGeobufSink`] writes such files.

mod write;

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::BinaryBuilder;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use flatgeobuf::packed_r_tree::{NodeItem, PackedRTree};
use flatgeobuf::{ColumnType, FallibleStreamingIterator, FgbReader};
use geo::Rect;
use geozero::{ColumnValue, CoordDimensions, FeatureProperties, PropertyProcessor, ToWkb};

use crate::crs::Crs;
use crate::error::{Error, Result};
use crate::io::attributes::{ColumnBuilder, Flat};
use crate::io::guard::guarded;
use crate::io::source::{read_source, PartitionMeta, PartitionSource};
use crate::partition::Partition;
use crate::{geometry, GeoFrame, DEFAULT_GEOMETRY_COLUMN};

pub use write::{write_flatgeobuf, FlatGeobufSink, FlatGeobufWriteOptions};

/// The bytes of one index node: four `f64` and a `u64` offset.
const NODE_BYTES: u64 = 40;
/// Magic bytes and the header's length prefix.
const PREFIX_BYTES: u64 = 12;

/// Reads a FlatGeobuf file into a frame of `rows_per_partition` rows per partition, decoded
/// in parallel (see [`FlatGeobufSource`]).
///
/// ```
/// use geoframe::io::{read_flatgeobuf, read_shapefile, write_flatgeobuf};
/// let cities = read_shapefile("data/naturalearth_cities/naturalearth_cities.shp", &Default::default())?;
/// let path = std::env::temp_dir().join("geoframe_read_flatgeobuf_doc.fgb");
/// write_flatgeobuf(&cities, &path)?;
/// let back = read_flatgeobuf(&path, 100)?;
/// assert_eq!(back.len(), cities.len());
/// assert_eq!(back.crs().and_then(|c| c.to_epsg()), Some(4326));
/// # Ok::<(), geoframe::Error>(())
/// ```
pub fn read_flatgeobuf(path: impl AsRef<Path>, rows_per_partition: usize) -> Result<GeoFrame> {
    read_source(&FlatGeobufSource::open(path, rows_per_partition)?)
}

/// One partition: a run of features, contiguous in the file.
#[derive(Debug, Clone, Copy)]
struct Run {
    first_row: u64,
    rows: u64,
    /// Offsets of the run's first feature, and of the end of its last one, from the start
    /// of the features.
    start: u64,
    end: u64,
    bounds: Option<Rect>,
}

/// A FlatGeobuf file as a [`PartitionSource`]. Opening reads the header and, when the file
/// has a spatial index, the index's leaves; each partition is `rows_per_partition`
/// consecutive leaves, bounded by their boxes. A file without an index is cut into
/// partitions of consecutive features, each bounded by the header's extent.
///
/// Attribute columns take the Arrow type of their FlatGeobuf type (`Long` is `Int64`,
/// `Double` is `Float64`, ...); `DateTime` and `Json` columns are read as text. The CRS
/// is the header's EPSG code, or its WKT. Coordinates beyond x and y are dropped.
///
/// ```
/// use geoframe::io::{write_flatgeobuf, read_shapefile, FlatGeobufSource, PartitionSource};
/// let countries = read_shapefile("data/naturalearth_lowres/naturalearth_lowres.shp", &Default::default())?;
/// let path = std::env::temp_dir().join("geoframe_flatgeobuf_source_doc.fgb");
/// write_flatgeobuf(&countries, &path)?;
/// let source = FlatGeobufSource::open(&path, 32)?;
/// let parts = source.partitions();
/// assert_eq!(parts.len(), 6); // 177 countries, 32 per partition
/// assert!(parts[0].bounds.is_some()); // from the index, before any feature is read
/// assert_eq!(source.read_partition(5)?.len(), 17);
/// # Ok::<(), geoframe::Error>(())
/// ```
pub struct FlatGeobufSource {
    path: PathBuf,
    /// The file's magic bytes, header length and header, as in the file.
    head: Vec<u8>,
    /// The size of the index between the header and the features.
    index_bytes: u64,
    columns: Vec<DataType>,
    schema: SchemaRef,
    crs: Option<Crs>,
    runs: Vec<Run>,
}

impl FlatGeobufSource {
    /// Opens `path`, reading its header and index; `rows_per_partition` rows per partition.
    pub fn open(path: impl AsRef<Path>, rows_per_partition: usize) -> Result<FlatGeobufSource> {
        let path = path.as_ref();
        guarded(path, "the header and index", || {
            open_file(path, rows_per_partition.max(1))
        })
    }
}

fn open_file(path: &Path, rows_per_partition: usize) -> Result<FlatGeobufSource> {
    let bad = |message: String| Error::format(path, None, message);
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let file_len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let mut file = BufReader::new(file);
    let mut head = vec![0u8; PREFIX_BYTES as usize];
    file.read_exact(&mut head)
        .map_err(|_| bad("too short for a FlatGeobuf file".into()))?;
    let header_len = u64::from(u32::from_le_bytes([head[8], head[9], head[10], head[11]]));
    if PREFIX_BYTES + header_len > file_len {
        return Err(bad(format!(
            "the header claims {header_len} bytes; the file has {file_len}"
        )));
    }
    head.resize((PREFIX_BYTES + header_len) as usize, 0);
    file.read_exact(&mut head[PREFIX_BYTES as usize..])
        .map_err(|e| Error::io(path, e))?;
    let reader = FgbReader::open(head.as_slice()).map_err(|e| bad(format!("bad header: {e}")))?;
    let header = reader.header();

    let mut fields = Vec::new();
    let mut columns = Vec::new();
    for column in header.columns().iter().flatten() {
        let data_type = arrow_type(column.type_());
        fields.push(Field::new(column.name(), data_type.clone(), true));
        columns.push(data_type);
    }
    let mut geometry_name = DEFAULT_GEOMETRY_COLUMN.to_string();
    while fields.iter().any(|f| f.name() == &geometry_name) {
        geometry_name.push('_');
    }
    fields.push(geometry::geometry_field(&geometry_name));
    let crs = match header.crs() {
        None => None,
        Some(crs) => {
            let epsg = crs.org().is_none_or(|o| o.eq_ignore_ascii_case("EPSG"));
            match (crs.code(), crs.wkt()) {
                (code, _) if code > 0 && epsg => Some(Crs::epsg(code as u32)),
                (_, Some(wkt)) if !wkt.trim().is_empty() => Some(Crs::from_user_input(wkt)?),
                (code, _) if code > 0 => Some(Crs::from_user_input(&format!(
                    "{}:{code}",
                    crs.org().unwrap_or("EPSG")
                ))?),
                _ => None,
            }
        }
    };
    let extent = header
        .envelope()
        .filter(|e| e.len() >= 4)
        .map(|e| Rect::new((e.get(0), e.get(1)), (e.get(2), e.get(3))))
        .filter(|r| r.min().x.is_finite() && r.max().y.is_finite());

    let count = header.features_count();
    let node_size = header.index_node_size();
    let features_start = PREFIX_BYTES + header_len;
    let (index_bytes, runs) = if node_size > 0 && count > 0 {
        if node_size < 2 {
            return Err(bad(format!(
                "index node size {node_size}; it must be at least 2"
            )));
        }
        if count > (file_len - features_start) / NODE_BYTES {
            return Err(bad(format!(
                "{count} features do not fit a {file_len}-byte file"
            )));
        }
        let index_bytes = PackedRTree::index_size(count as usize, node_size) as u64;
        let features = features_start + index_bytes;
        if features > file_len {
            return Err(bad(format!(
                "the index of {count} features needs {index_bytes} bytes; the file ends first"
            )));
        }
        let leaves_start = features - count * NODE_BYTES;
        file.seek(SeekFrom::Start(leaves_start))
            .map_err(|e| Error::io(path, e))?;
        let runs = runs_from_leaves(&mut file, count, rows_per_partition, file_len - features)
            .map_err(bad)?;
        (index_bytes, runs)
    } else {
        file.seek(SeekFrom::Start(features_start))
            .map_err(|e| Error::io(path, e))?;
        let runs = runs_from_sizes(&mut file, count, rows_per_partition, extent)
            .map_err(|e| bad(e.to_string()))?;
        (0, runs)
    };
    Ok(FlatGeobufSource {
        path: path.to_path_buf(),
        head,
        index_bytes,
        columns,
        schema: Arc::new(Schema::new(fields)),
        crs,
        runs,
    })
}

/// The Arrow type a FlatGeobuf column is read as.
fn arrow_type(column: ColumnType) -> DataType {
    match column {
        ColumnType::Byte => DataType::Int8,
        ColumnType::UByte => DataType::UInt8,
        ColumnType::Bool => DataType::Boolean,
        ColumnType::Short => DataType::Int16,
        ColumnType::UShort => DataType::UInt16,
        ColumnType::Int => DataType::Int32,
        ColumnType::UInt => DataType::UInt32,
        ColumnType::Long => DataType::Int64,
        ColumnType::ULong => DataType::UInt64,
        ColumnType::Float => DataType::Float32,
        ColumnType::Double => DataType::Float64,
        ColumnType::Binary => DataType::Binary,
        _ => DataType::Utf8,
    }
}

/// Partitions from the index's leaves, which the reader is at: `count` nodes, each a box
/// and its feature's offset, in the order of the features.
fn runs_from_leaves(
    file: &mut impl Read,
    count: u64,
    rows_per_partition: usize,
    features_bytes: u64,
) -> std::result::Result<Vec<Run>, String> {
    let mut runs: Vec<Run> = Vec::new();
    let mut previous: Option<u64> = None;
    for i in 0..count {
        let node = NodeItem::from_reader(&mut *file).map_err(|e| format!("index leaf {i}: {e}"))?;
        let ordered = match previous {
            None => node.offset == 0,
            Some(p) => node.offset > p,
        };
        if !ordered || node.offset >= features_bytes {
            return Err(format!(
                "index leaf {i} points at byte {} of the features: leaves must follow the features in order",
                node.offset
            ));
        }
        previous = Some(node.offset);
        let leaf = (node.min_x <= node.max_x && node.min_y <= node.max_y)
            .then(|| Rect::new((node.min_x, node.min_y), (node.max_x, node.max_y)));
        if i % rows_per_partition as u64 == 0 {
            if let Some(run) = runs.last_mut() {
                run.end = node.offset;
            }
            runs.push(Run {
                first_row: i,
                rows: 0,
                start: node.offset,
                end: features_bytes,
                bounds: None,
            });
        }
        if let Some(run) = runs.last_mut() {
            run.rows += 1;
            run.bounds = geometry::merge_bounds(run.bounds, leaf);
        }
    }
    Ok(runs)
}

/// Partitions of a file without an index, whose reader is at the first feature: each
/// feature's length prefix is read and its body skipped. `count` is the header's feature
/// count (0 when the writer did not know it: then features run to the end of the file).
fn runs_from_sizes(
    file: &mut BufReader<File>,
    count: u64,
    rows_per_partition: usize,
    extent: Option<Rect>,
) -> std::io::Result<Vec<Run>> {
    let bounds = Some(extent.unwrap_or_else(geometry::everywhere));
    let mut runs: Vec<Run> = Vec::new();
    let (mut offset, mut i) = (0u64, 0u64);
    loop {
        if count > 0 && i == count {
            break;
        }
        let mut size = [0u8; 4];
        match file.read_exact(&mut size) {
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && count == 0 => break,
            Err(_) => {
                return Err(std::io::Error::other(format!(
                    "the header counts {count} features; the file ends after {i}"
                )))
            }
            Ok(()) => {}
        }
        let body = u64::from(u32::from_le_bytes(size));
        if i % rows_per_partition as u64 == 0 {
            runs.push(Run {
                first_row: i,
                rows: 0,
                start: offset,
                end: offset,
                bounds,
            });
        }
        file.seek_relative(body as i64)?;
        offset += 4 + body;
        if let Some(run) = runs.last_mut() {
            run.rows += 1;
            run.end = offset;
        }
        i += 1;
    }
    Ok(runs)
}

impl PartitionSource for FlatGeobufSource {
    fn describe(&self) -> String {
        format!("flatgeobuf {}", self.path.display())
    }
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }
    fn geometry_column(&self) -> usize {
        self.columns.len()
    }
    fn crs(&self) -> Option<&Crs> {
        self.crs.as_ref()
    }
    fn partitions(&self) -> Vec<PartitionMeta> {
        self.runs
            .iter()
            .map(|run| PartitionMeta {
                rows: run.rows,
                bounds: run.bounds,
            })
            .collect()
    }
    fn read_partition(&self, k: usize) -> Result<Partition> {
        guarded(&self.path, &format!("partition {k}"), || self.read_run(k))
    }
}

impl FlatGeobufSource {
    fn read_run(&self, k: usize) -> Result<Partition> {
        let path = &self.path;
        let run = *self.runs.get(k).ok_or_else(|| {
            Error::InvalidArgument(format!("{}: no partition {k}", path.display()))
        })?;
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let features_at = self.head.len() as u64 + self.index_bytes;
        let body = features_at + run.start..features_at + run.end;
        let spliced = Spliced::new(&self.head, self.index_bytes, file, body)
            .map_err(|e| Error::io(path, e))?;
        let bad = |row: u64, message: String| Error::format(path, Some(row), message);
        let mut features = FgbReader::open(spliced)
            .and_then(FgbReader::select_all)
            .map_err(|e| bad(run.first_row, e.to_string()))?;
        let mut builders: Vec<ColumnBuilder> =
            self.columns.iter().map(ColumnBuilder::new).collect();
        let mut geometries = BinaryBuilder::new();
        let mut properties = Properties {
            builders: &mut builders,
            seen: vec![false; self.columns.len()],
            error: None,
        };
        for row in run.first_row..run.first_row + run.rows {
            let feature = features
                .next()
                .map_err(|e| bad(row, e.to_string()))?
                .ok_or_else(|| bad(row, "the file ends before this feature".into()))?;
            match feature.geometry() {
                None => geometries.append_null(),
                Some(_) => {
                    let wkb = feature
                        .to_wkb(CoordDimensions::xy())
                        .map_err(|e| bad(row, format!("bad geometry: {e}")))?;
                    geometries.append_value(wkb);
                }
            }
            properties.seen.fill(false);
            feature
                .process_properties(&mut properties)
                .map_err(|e| bad(row, format!("bad properties: {e}")))?;
            if let Some(message) = properties.error.take() {
                return Err(bad(row, message));
            }
            for (builder, seen) in properties.builders.iter_mut().zip(&properties.seen) {
                if !seen {
                    builder
                        .append(Flat::Null)
                        .map_err(|message| bad(row, message))?;
                }
            }
        }
        let mut columns: Vec<ArrayRef> = builders.iter_mut().map(ColumnBuilder::finish).collect();
        columns.push(Arc::new(geometries.finish()));
        let batch = RecordBatch::try_new(self.schema.clone(), columns)?;
        Partition::new(batch, self.columns.len(), run.first_row).map_err(|e| e.in_file(path))
    }
}

/// Collects one feature's properties into the column builders.
struct Properties<'b> {
    builders: &'b mut [ColumnBuilder],
    seen: Vec<bool>,
    error: Option<String>,
}

impl PropertyProcessor for Properties<'_> {
    fn property(
        &mut self,
        i: usize,
        name: &str,
        value: &ColumnValue,
    ) -> geozero::error::Result<bool> {
        let flat = match *value {
            ColumnValue::Byte(v) => Flat::Int(v.into()),
            ColumnValue::UByte(v) => Flat::UInt(v.into()),
            ColumnValue::Bool(v) => Flat::Bool(v),
            ColumnValue::Short(v) => Flat::Int(v.into()),
            ColumnValue::UShort(v) => Flat::UInt(v.into()),
            ColumnValue::Int(v) => Flat::Int(v.into()),
            ColumnValue::UInt(v) => Flat::UInt(v.into()),
            ColumnValue::Long(v) => Flat::Int(v),
            ColumnValue::ULong(v) => Flat::UInt(v),
            ColumnValue::Float(v) => Flat::Float(v.into()),
            ColumnValue::Double(v) => Flat::Float(v),
            ColumnValue::String(v) | ColumnValue::Json(v) | ColumnValue::DateTime(v) => {
                Flat::Text(v.into())
            }
            ColumnValue::Binary(v) => Flat::Bytes(v),
        };
        let outcome = match (self.builders.get_mut(i), self.seen.get(i)) {
            (Some(_), Some(true)) => Err(format!("property {name:?} appears twice")),
            (Some(builder), Some(false)) => builder.append(flat),
            _ => Err(format!("property {i} ({name:?}) has no column")),
        };
        match outcome {
            Ok(()) => self.seen[i] = true,
            Err(message) => {
                self.error = Some(format!("column {name:?}: {message}"));
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// A reader that shows the `flatgeobuf` crate a file of the header, then (past the index,
/// which is never read) one partition's features: the crate reads features from the
/// start, and this lets it start at any feature.
///
/// It also checks each feature's length prefix against the bytes the partition has left,
/// since the crate allocates what the prefix claims (4 GB for a forged one) before reading.
struct Spliced<'h> {
    head: &'h [u8],
    index_bytes: u64,
    body: BufReader<File>,
    /// The partition's bytes in the file.
    range: std::ops::Range<u64>,
    pos: u64,
    /// Where (in `pos` terms) the next length prefix is.
    next_prefix: u64,
}

impl<'h> Spliced<'h> {
    fn new(
        head: &'h [u8],
        index_bytes: u64,
        file: File,
        range: std::ops::Range<u64>,
    ) -> std::io::Result<Self> {
        let mut body = BufReader::with_capacity(1 << 16, file);
        body.seek(SeekFrom::Start(range.start))?;
        let features_at = head.len() as u64 + index_bytes;
        Ok(Spliced {
            head,
            index_bytes,
            body,
            range,
            pos: 0,
            next_prefix: features_at,
        })
    }

    fn features_at(&self) -> u64 {
        self.head.len() as u64 + self.index_bytes
    }

    /// Bytes of the partition after `pos`.
    fn left(&self) -> u64 {
        let offset = self.range.start + (self.pos - self.features_at());
        self.range.end.saturating_sub(offset)
    }
}

impl Read for Spliced<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = if self.pos < self.head.len() as u64 {
            let mut rest = &self.head[self.pos as usize..];
            rest.read(buf)?
        } else if self.pos < self.features_at() {
            return Err(std::io::Error::other("the index is not read"));
        } else if self.pos == self.next_prefix && buf.len() >= 4 {
            let left = self.left();
            let mut prefix = [0u8; 4];
            self.body.read_exact(&mut prefix)?;
            let size = u64::from(u32::from_le_bytes(prefix));
            if size + 4 > left {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("a feature claims {size} bytes; its partition has {left} left"),
                ));
            }
            buf[..4].copy_from_slice(&prefix);
            self.next_prefix = self.pos + 4 + size;
            4
        } else {
            let left = usize::try_from(self.left()).unwrap_or(usize::MAX);
            let want = buf.len().min(left);
            self.body.read(&mut buf[..want])?
        };
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Spliced<'_> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let pos = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            SeekFrom::End(_) => None,
        }
        .ok_or_else(|| std::io::Error::other("seek outside the partition"))?;
        if pos >= self.features_at() {
            if pos != self.pos {
                // Only the crate's skip over the index moves the position.
                self.next_prefix = pos;
            }
            self.body.seek(SeekFrom::Start(
                self.range.start + (pos - self.features_at()),
            ))?;
        }
        self.pos = pos;
        Ok(pos)
    }
}
