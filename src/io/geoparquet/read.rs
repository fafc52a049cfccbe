//! Reading GeoParquet: [`GeoParquetSource`], one partition per row-group slice.

use std::fs::File;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Schema, SchemaRef};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ProjectionMask;
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};
use serde_json::Value;

use super::covering::Covering;
use super::{pages, parquet_error, GeoParquetOptions};
use crate::crs::Crs;
use crate::error::{Error, Result};
use crate::geometry::{native_to_wkb, NativeEncoding};
use crate::io::guard::{guarded, BoundedFile};
use crate::io::source::{read_source, read_source_bbox, PartitionMeta, PartitionSource};
use crate::partition::Partition;
use crate::{geometry, GeoFrame};

/// Reads a GeoParquet file (WKB or native GeoArrow encoding) into a [`GeoFrame`], its partitions read in
/// parallel (see [`GeoParquetSource`]).
///
/// `path` may also name a partitioned dataset, a directory or a `*` pattern (see
/// [`super::GeoParquetDataset`]).
pub fn read_geoparquet(path: impl AsRef<Path>, options: &GeoParquetOptions) -> Result<GeoFrame> {
    read_source(open_any(path.as_ref(), options)?.as_ref())
}

/// The file, or the dataset, at `path`.
pub(crate) fn open_any(
    path: &Path,
    options: &GeoParquetOptions,
) -> Result<Box<dyn PartitionSource>> {
    Ok(if super::is_dataset(path) {
        Box::new(super::GeoParquetDataset::open(path, options)?)
    } else {
        Box::new(GeoParquetSource::open(path, options)?)
    })
}

/// Reads the rows of a GeoParquet file whose bounding box meets `rect` (as GeoPandas'
/// `read_parquet(bbox=...)`). Row groups whose `bbox` covering statistics miss `rect` are
/// not read at all; files without a covering are read whole and filtered.
///
/// ```
/// # fn main() -> geoframe::Result<()> {
/// use geoframe::io::{read_geoparquet_bbox, write_geoparquet, read_shapefile, ShapefileOptions, GeoParquetOptions};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("cities.parquet");
/// let cities = read_shapefile("data/naturalearth_cities/naturalearth_cities.shp", &ShapefileOptions::default())?;
/// write_geoparquet(&cities, &path)?;
/// let europe = geo::Rect::new((-10.0, 35.0), (30.0, 60.0));
/// let read = read_geoparquet_bbox(&path, europe, &GeoParquetOptions::default())?;
/// assert!(read.len() > 10 && read.len() < cities.len());
/// # Ok(()) }
/// ```
pub fn read_geoparquet_bbox(
    path: impl AsRef<Path>,
    rect: geo::Rect,
    options: &GeoParquetOptions,
) -> Result<GeoFrame> {
    read_source_bbox(open_any(path.as_ref(), options)?.as_ref(), rect)
}

/// An open GeoParquet file (WKB, or a native GeoArrow encoding read as WKB) as a [`PartitionSource`]: each partition is a
/// slice of at most `rows_per_partition` rows of one row group. The primary geometry
/// column and the CRS come from the `geo` metadata; a missing `crs` key means OGC:CRS84
/// (longitude, latitude on WGS 84), an explicit `null` means no CRS. A partition's bounds
/// are its row group's box from the `bbox` covering column's statistics, else the file's
/// `bbox`, until the partitions are read. The covering column itself is not read (see
/// `covering.rs`: it would go stale).
pub struct GeoParquetSource {
    path: std::path::PathBuf,
    schema: SchemaRef,
    geometry_column: usize,
    crs: Option<Crs>,
    /// The native GeoArrow encoding of the geometry column, converted to WKB on reading.
    native: Option<NativeEncoding>,
    /// The `geo` bbox, and each row group's box from the covering statistics: the
    /// geometries must lie in both.
    bbox: Option<geo::Rect>,
    group_boxes: Vec<Option<geo::Rect>>,
    /// The columns read: all but the covering.
    projection: ProjectionMask,
    /// (row group, first row in it, rows) of each partition.
    slices: Vec<(usize, usize, usize)>,
    /// The checked footer and Arrow schema, parsed once for every partition read.
    reader_metadata: ArrowReaderMetadata,
    /// The file's length when opened: no read goes past it.
    file_len: u64,
    /// Set once a row group's page headers have passed [`pages::check_column_chunk`].
    pages_checked: Vec<OnceLock<()>>,
}

impl PartitionSource for GeoParquetSource {
    fn describe(&self) -> String {
        format!("geoparquet {}", self.path.display())
    }
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }
    fn geometry_column(&self) -> usize {
        self.geometry_column
    }
    fn crs(&self) -> Option<&Crs> {
        self.crs.as_ref()
    }
    fn partitions(&self) -> Vec<PartitionMeta> {
        self.slices
            .iter()
            .map(|&(group, _, rows)| PartitionMeta {
                rows: rows as u64,
                // Without a box in the metadata, a partition could be anywhere.
                bounds: Some(self.declared_bounds(group)),
            })
            .collect()
    }
    fn read_partition(&self, k: usize) -> Result<Partition> {
        self.read_slice(k)
    }
    fn partition_files(&self) -> Option<Vec<std::path::PathBuf>> {
        (self.slices.len() == 1 && self.native.is_none()).then(|| vec![self.path.clone()])
    }
}

impl GeoParquetSource {
    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens `path` and reads its footer and `geo` metadata; no row is read. The footer is
    /// checked before anything is planned from it: row counts non-negative and adding up
    /// to the file's, every column chunk's byte range inside the file and its value count
    /// matching its row group's rows.
    pub fn open(path: impl AsRef<Path>, options: &GeoParquetOptions) -> Result<GeoParquetSource> {
        let path = path.as_ref();
        let rows_per_partition = options.rows_per_partition;
        if rows_per_partition == 0 {
            return Err(Error::InvalidArgument(
                "rows_per_partition must be at least 1".into(),
            ));
        }
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let file_len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        let file = BoundedFile::new(file, file_len);
        let metadata = guarded(path, "footer", || {
            ParquetMetaDataReader::new()
                .parse_and_finish(&file)
                .map_err(parquet_error(path))
        })?;
        let row_groups = check_footer(path, &metadata, file_len)?;
        let metadata = Arc::new(metadata);
        let reader_metadata = guarded(path, "ARROW:schema footer value", || {
            ArrowReaderMetadata::try_new(metadata.clone(), ArrowReaderOptions::new())
                .map_err(parquet_error(path))
        })?;
        let geo = metadata
            .file_metadata()
            .key_value_metadata()
            .and_then(|kv| kv.iter().find(|k| k.key == "geo"))
            .and_then(|k| k.value.clone())
            .ok_or_else(|| Error::format(path, None, "no `geo` metadata: not a GeoParquet file"))?;
        let geo = GeoMetadata::parse(path, &geo)?;
        let covering = Covering::find(
            path,
            &geo.column_metadata,
            metadata.file_metadata().schema_descr(),
        )?;
        let full_schema = reader_metadata.schema().clone();
        let kept: Vec<usize> = (0..full_schema.fields().len())
            .filter(|&i| {
                covering
                    .as_ref()
                    .is_none_or(|c| full_schema.field(i).name() != &c.column)
            })
            .collect();
        let projection = ProjectionMask::roots(
            metadata.file_metadata().schema_descr(),
            kept.iter().copied(),
        );
        let arrow_schema = full_schema.project(&kept)?;
        let geometry_column = arrow_schema.index_of(&geo.primary).map_err(|_| {
            Error::format(
                path,
                None,
                format!(
                    "the `geo` primary_column {:?} is not a column of the file",
                    geo.primary
                ),
            )
        })?;
        let group_boxes = metadata
            .row_groups()
            .iter()
            .map(|group| covering.as_ref().and_then(|c| c.row_group_box(group)))
            .collect();
        let mut fields: Vec<arrow_schema::FieldRef> =
            arrow_schema.fields().iter().cloned().collect();
        fields[geometry_column] = Arc::new(geometry::geometry_field(&geo.primary));
        // A partition needs at least a byte of its file: more partitions than bytes is a
        // forged row count, refused before a slice is allocated.
        let partitions: u64 = row_groups
            .iter()
            .map(|&rows| rows.div_ceil(rows_per_partition as u64))
            .sum();
        if partitions > file_len {
            return Err(Error::format(
                path,
                None,
                format!(
                    "the footer claims {} rows, {partitions} partitions of {rows_per_partition} rows: more than a file of {file_len} bytes can hold (forged counts, or rows_per_partition too small)",
                    row_groups.iter().sum::<u64>()
                ),
            ));
        }
        let mut slices = Vec::with_capacity(partitions as usize);
        for (g, &rows) in row_groups.iter().enumerate() {
            let mut start = 0;
            while start < rows {
                let len = (rows_per_partition as u64).min(rows - start);
                slices.push((g, start as usize, len as usize));
                start += len;
            }
        }
        Ok(GeoParquetSource {
            path: path.to_path_buf(),
            schema: Arc::new(Schema::new(fields)),
            geometry_column,
            crs: geo.crs,
            native: geo.native,
            bbox: geo.bbox,
            group_boxes,
            projection,
            slices,
            pages_checked: (0..row_groups.len()).map(|_| OnceLock::new()).collect(),
            reader_metadata,
            file_len,
        })
    }

    /// Walks row group `group`'s page headers once, before parquet decodes any of them.
    fn check_pages(&self, file: &BoundedFile, group: usize) -> Result<()> {
        if self.pages_checked[group].get().is_some() {
            return Ok(());
        }
        let metadata = self.reader_metadata.metadata().row_group(group);
        for column in metadata.columns() {
            pages::check_column_chunk(file, column).map_err(|message| {
                Error::format(
                    &self.path,
                    None,
                    format!(
                        "row group {group}, column {}: {message}",
                        column.column_path().string()
                    ),
                )
            })?;
        }
        let _ = self.pages_checked[group].set(());
        Ok(())
    }

    fn read_slice(&self, k: usize) -> Result<Partition> {
        use parquet::arrow::arrow_reader::{RowSelection, RowSelector};
        let path = &self.path;
        let &(group, start, len) = self
            .slices
            .get(k)
            .ok_or_else(|| Error::Internal(format!("{}: no partition {k}", path.display())))?;
        let what = format!("row group {group}");
        let first_row: u64 = self.slices[..k].iter().map(|s| s.2 as u64).sum();
        // Pages and WKB are untrusted: decoded inside the guard.
        let partition = guarded(path, &what, || {
            let file = File::open(path).map_err(|e| Error::io(path, e))?;
            let file = BoundedFile::new(file, self.file_len);
            self.check_pages(&file, group)?;
            let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(
                file,
                self.reader_metadata.clone(),
            )
            .with_row_groups(vec![group])
            .with_projection(self.projection.clone())
            .with_row_selection(RowSelection::from(vec![
                RowSelector::skip(start),
                RowSelector::select(len),
            ]))
            .with_batch_size(len.max(1))
            .build()
            .map_err(parquet_error(path))?;
            let mut batches = Vec::new();
            for batch in reader {
                let batch = batch.map_err(|e| Error::format(path, None, format!("{what}: {e}")))?;
                let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
                if let Some(encoding) = self.native {
                    let wkb = native_to_wkb(&columns[self.geometry_column], encoding)
                        .map_err(|e| Error::format(path, None, format!("{what}: {e}")))?;
                    columns[self.geometry_column] = Arc::new(wkb);
                } else if columns[self.geometry_column].data_type() != &DataType::Binary {
                    columns[self.geometry_column] =
                        arrow_cast::cast(&columns[self.geometry_column], &DataType::Binary)?;
                }
                batches.push(RecordBatch::try_new(self.schema.clone(), columns)?);
            }
            let delivered: usize = batches.iter().map(RecordBatch::num_rows).sum();
            if delivered != len {
                return Err(Error::format(
                    path,
                    None,
                    format!(
                        "{what} delivered {delivered} rows from row {start} where its metadata promises {len}"
                    ),
                ));
            }
            let batch = arrow_select::concat::concat_batches(&self.schema, &batches)?;
            Partition::new(batch, self.geometry_column, first_row).map_err(|e| e.in_file(path))
        })?;
        // Plans pruned partition pairs with the declared boxes: data outside them would
        // make joins silently miss pairs.
        let claims = [
            (self.bbox, "the `geo` bbox"),
            (self.group_boxes[group], "its `bbox` covering statistics"),
        ];
        for (claim, source) in claims {
            if let (Some(declared), Some(actual)) = (claim, partition.bounds()) {
                // Writers that round the bbox's decimals are allowed a hair of slack.
                let slack = |v: f64| 1e-9 * (v.abs() + 1.0);
                let inside = declared.min().x - slack(declared.min().x) <= actual.min().x
                    && declared.min().y - slack(declared.min().y) <= actual.min().y
                    && declared.max().x + slack(declared.max().x) >= actual.max().x
                    && declared.max().y + slack(declared.max().y) >= actual.max().y;
                if !inside {
                    return Err(Error::format(
                        path,
                        None,
                        format!(
                            "{what}: geometries reach {actual:?}, outside {source} {declared:?}"
                        ),
                    ));
                }
            }
        }
        Ok(partition)
    }

    /// The box row group `group`'s geometries lie in, by the file's metadata: the covering
    /// statistics' box within the `geo` bbox, or everywhere when neither says.
    fn declared_bounds(&self, group: usize) -> geo::Rect {
        let clamp = |inner: geo::Rect, outer: geo::Rect| {
            let (x0, y0) = (
                inner.min().x.max(outer.min().x),
                inner.min().y.max(outer.min().y),
            );
            let (x1, y1) = (
                inner.max().x.min(outer.max().x),
                inner.max().y.min(outer.max().y),
            );
            // Claims that do not overlap: the covering is kept, and reading finds the lie.
            (x0 <= x1 && y0 <= y1).then(|| geo::Rect::new((x0, y0), (x1, y1)))
        };
        match (self.group_boxes[group], self.bbox) {
            (Some(g), Some(b)) => clamp(g, b).unwrap_or(g),
            (g, b) => g.or(b).unwrap_or_else(geometry::everywhere),
        }
    }
}

/// What geoframe takes from the `geo` metadata of the primary column.
struct GeoMetadata {
    primary: String,
    /// The native GeoArrow encoding of the primary column; `None` for WKB.
    native: Option<NativeEncoding>,
    /// The primary column's entry of `columns`.
    column_metadata: Value,
    crs: Option<Crs>,
    bbox: Option<geo::Rect>,
}

impl GeoMetadata {
    fn parse(path: &Path, text: &str) -> Result<GeoMetadata> {
        let bad = |message: String| Error::format(path, None, message);
        let geo: Value = serde_json::from_str(text)
            .map_err(|e| bad(format!("`geo` metadata is not JSON: {e}")))?;
        let primary = geo["primary_column"]
            .as_str()
            .ok_or_else(|| bad("`geo` metadata has no primary_column".into()))?
            .to_string();
        let column = &geo["columns"][&primary];
        if !column.is_object() {
            return Err(bad(format!(
                "`geo` metadata does not describe the primary column {primary:?}"
            )));
        }
        let native = match column["encoding"].as_str() {
            Some(e) if e.eq_ignore_ascii_case("wkb") => None,
            Some(e) => Some(e.parse::<NativeEncoding>().map_err(|()| {
                bad(format!(
                    "unknown geometry encoding {e:?} of column {primary:?}"
                ))
            })?),
            None => return Err(bad(format!("no geometry encoding for column {primary:?}"))),
        };
        let crs = match column.get("crs") {
            None => Some(Ok(Crs::from_definition("OGC:CRS84"))),
            Some(Value::Null) => None,
            Some(Value::String(s)) => Some(Crs::from_user_input(s)),
            Some(v) => Some(Crs::from_user_input(&v.to_string())),
        }
        .transpose()
        .map_err(|e| bad(format!("the `geo` crs of {primary:?}: {e}")))?;
        let bbox = match column.get("bbox") {
            None | Some(Value::Null) => None,
            Some(b) => {
                let v: Vec<f64> = b
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_f64).collect())
                    .unwrap_or_default();
                // 2D boxes only ([minx, miny, maxx, maxy]); a 3D box has 6 numbers.
                let (x0, y0, x1, y1) = match *v.as_slice() {
                    [a, b, c, d] => (a, b, c, d),
                    [a, b, _, d, e, _] => (a, b, d, e),
                    _ => return Err(bad(format!("the `geo` bbox {b} is not 4 or 6 numbers"))),
                };
                if !(x0 <= x1 && y0 <= y1) {
                    return Err(bad(format!(
                        "the `geo` bbox {b} has its minimum above its maximum"
                    )));
                }
                Some(geo::Rect::new((x0, y0), (x1, y1)))
            }
        };
        Ok(GeoMetadata {
            native,
            column_metadata: column.clone(),
            primary,
            crs,
            bbox,
        })
    }
}

/// The row count of each row group, once the footer has been checked: counts that are
/// non-negative and add up to the file's, column chunks whose byte ranges lie inside the
/// file and whose value counts fit their row group's rows.
fn check_footer(path: &Path, metadata: &ParquetMetaData, file_len: u64) -> Result<Vec<u64>> {
    let bad = |message: String| Error::format(path, None, message);
    let claimed = metadata.file_metadata().num_rows();
    let claimed =
        u64::try_from(claimed).map_err(|_| bad(format!("the footer claims {claimed} rows")))?;
    let mut rows = Vec::with_capacity(metadata.num_row_groups());
    for (g, group) in metadata.row_groups().iter().enumerate() {
        let n = u64::try_from(group.num_rows())
            .map_err(|_| bad(format!("row group {g} claims {} rows", group.num_rows())))?;
        for column in group.columns() {
            let name = column.column_path().string();
            let start = column
                .dictionary_page_offset()
                .unwrap_or_else(|| column.data_page_offset());
            let size = column.compressed_size();
            let inside = u64::try_from(start)
                .ok()
                .zip(u64::try_from(size).ok())
                .and_then(|(start, size)| start.checked_add(size))
                .is_some_and(|end| end <= file_len);
            if !inside {
                return Err(bad(format!(
                    "row group {g}, column {name}: bytes {start}..+{size} are not inside the file ({file_len} bytes)"
                )));
            }
            // A flat column holds at most one value per row (writers count nulls, or may
            // not); more values than rows means the row count was forged smaller.
            let values = column.num_values();
            let flat = column.column_descr().max_rep_level() == 0;
            let fits = u64::try_from(values).is_ok_and(|v| !flat || v <= n);
            if !fits {
                return Err(bad(format!(
                    "row group {g}, column {name}: {values} values for {n} rows"
                )));
            }
        }
        rows.push(n);
    }
    let total = rows.iter().try_fold(0u64, |a, &b| a.checked_add(b));
    if total != Some(claimed) {
        return Err(bad(format!(
            "the row groups hold {} rows, the footer claims {claimed}",
            total.map_or("more than 2^64".to_string(), |t| t.to_string())
        )));
    }
    Ok(rows)
}
