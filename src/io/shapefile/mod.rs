//! ESRI shapefiles: `.shp` geometries, `.shx` record index, `.dbf` attributes, `.prj` CRS
//! and `.cpg` text encoding.
//!
//! geoframe reads and writes the format itself rather than through the `shapefile` crate
//! or geozero's `with-shp` driver, because the reader has to:
//! - decode records straight into Arrow columns, partition by partition in parallel, using
//!   the `.shx` offsets to read only the byte range of each partition (geozero collects
//!   one geometry collection; `dbase` builds a map per row, which alone takes longer for
//!   10M rows than the whole read may);
//! - never trust a length in the file: every count and offset is checked against the file
//!   size before anything is allocated, so a hostile header is an error, not an abort;
//! - assemble polygons by ring containment as GDAL does (see `rings`), where the
//!   `shapefile` crate rejects rings with the wrong winding;
//! - name the file and record in every error.
//!
//! The byte layouts are small and fixed (ESRI Shapefile Technical Description, 1998;
//! dBase III), so owning them costs little.

mod dbf;
mod rings;
mod shp;
mod writer;

pub use writer::{write_shapefile, ShapefileSink};

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, BinaryArray, RecordBatch};
use arrow_schema::{Schema, SchemaRef};
use geo::Rect;

use crate::crs::Crs;
use crate::error::{Error, Result};
use crate::geometry;
use crate::io::source::{read_source, PartitionMeta, PartitionSource};
use crate::partition::Partition;
use crate::{GeoFrame, DEFAULT_GEOMETRY_COLUMN};

/// Options for [`read_shapefile`].
#[derive(Debug, Clone)]
pub struct ShapefileOptions {
    /// Rows per partition (the last partition may be shorter). Default 100,000.
    pub rows_per_partition: usize,
    /// Text encoding of the `.dbf` (a WHATWG label such as `"windows-1252"`), overriding
    /// the `.cpg` file. Without either, text is read as UTF-8, falling back to
    /// Windows-1252 for values that are not valid UTF-8.
    pub encoding: Option<String>,
}

impl Default for ShapefileOptions {
    fn default() -> Self {
        ShapefileOptions {
            rows_per_partition: 100_000,
            encoding: None,
        }
    }
}

/// The companion file of `shp` with extension `ext`, in lower or upper case.
fn sibling(shp: &Path, ext: &str) -> Option<PathBuf> {
    [ext.to_ascii_lowercase(), ext.to_ascii_uppercase()]
        .into_iter()
        .map(|e| shp.with_extension(e))
        .find(|p| p.exists())
}

fn open(path: &Path) -> Result<(File, u64)> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    Ok((file, len))
}

fn read_at(file: &File, path: &Path, offset: u64, len: usize) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    file.read_exact_at(&mut buf, offset)
        .map_err(|e| Error::io(path, e))?;
    Ok(buf)
}

/// The CRS in a `.prj` file (WKT, usually ESRI's dialect).
fn read_prj(path: &Path) -> Result<Crs> {
    let text = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let text = String::from_utf8(text)
        .map_err(|_| Error::format(path, None, "the .prj is not UTF-8 text"))?;
    Crs::from_user_input(text.trim()).map_err(|e| Error::format(path, None, format!("{e}")))
}

/// An open shapefile as a [`PartitionSource`]: the headers are read and checked, and each
/// partition (`rows_per_partition` records) is read from its byte ranges when asked for.
/// Partition bounds are the file's bounding box until the partitions are read.
pub struct ShapefileSource {
    shp_path: PathBuf,
    shx_path: PathBuf,
    dbf_path: PathBuf,
    shp: File,
    shp_len: u64,
    shx: File,
    dbf: File,
    header: shp::Header,
    table: dbf::Header,
    encoding: Option<&'static encoding_rs::Encoding>,
    schema: SchemaRef,
    crs: Option<Crs>,
    rows_per_partition: usize,
}

/// Reads a shapefile into a [`GeoFrame`], `rows_per_partition` rows per partition.
///
/// `path` names the `.shp`; the `.shx` and `.dbf` beside it are required, the `.prj` (CRS)
/// and `.cpg` (encoding) are used when present. Geometries are read as 2D (Z and M values
/// are dropped, with a warning in the log); null shapes become null geometries; columns come
/// in `.dbf` order followed by `geometry`. `.dbf` numbers with no decimals become `Int64`,
/// other numbers `Float64`, `L` fields `Boolean`, `D` fields `Date32`, everything else
/// `Utf8`; blank values are null (an empty text field too, as in GDAL). Records marked
/// deleted in the `.dbf` are kept.
///
/// ```
/// use geoframe::io::{read_shapefile, ShapefileOptions};
/// let counties = read_shapefile("data/us_counties/us_counties.shp", &ShapefileOptions::default())?;
/// assert_eq!(counties.len(), 3231);
/// assert_eq!(counties.crs().unwrap().to_epsg(), Some(4326));
/// # Ok::<(), geoframe::Error>(())
/// ```
pub fn read_shapefile(path: impl AsRef<Path>, options: &ShapefileOptions) -> Result<GeoFrame> {
    read_source(&ShapefileSource::open(path, options)?)
}

impl PartitionSource for ShapefileSource {
    fn describe(&self) -> String {
        format!("shapefile {}", self.shp_path.display())
    }
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }
    fn geometry_column(&self) -> usize {
        self.schema.fields().len() - 1
    }
    fn crs(&self) -> Option<&Crs> {
        self.crs.as_ref()
    }
    fn partitions(&self) -> Vec<PartitionMeta> {
        let rows = self.table.records;
        let per = self.rows_per_partition as u64;
        (0..rows)
            .step_by(self.rows_per_partition)
            .map(|first| PartitionMeta {
                rows: per.min(rows - first),
                bounds: self.header.bbox,
            })
            .collect()
    }
    fn read_partition(&self, k: usize) -> Result<Partition> {
        let per = self.rows_per_partition as u64;
        let first = (k as u64).saturating_mul(per);
        let count = per.min(self.table.records.saturating_sub(first));
        self.read_rows(first, count as usize)
    }
}

impl ShapefileSource {
    /// Opens the shapefile whose `.shp` is `path` (see [`read_shapefile`] for what is
    /// read and how), checking its headers; no record is read.
    pub fn open(path: impl AsRef<Path>, options: &ShapefileOptions) -> Result<ShapefileSource> {
        let shp_path = path.as_ref().to_path_buf();
        if options.rows_per_partition == 0 {
            return Err(Error::InvalidArgument(
                "rows_per_partition must be at least 1".into(),
            ));
        }
        let (shp, shp_len) = open(&shp_path)?;
        let header = shp::parse_header(
            &read_at(&shp, &shp_path, 0, shp_len.min(shp::HEADER_LEN) as usize)?,
            &shp_path,
        )?;
        if header.file_len > shp_len {
            return Err(Error::format(
                &shp_path,
                None,
                format!(
                    "truncated: the header says {} bytes, the file has {shp_len}",
                    header.file_len
                ),
            ));
        }
        if header.extra != shp::Extra::None {
            log::warn!(
                "{}: {:?} values are dropped; geometries are read as 2D",
                shp_path.display(),
                header.extra
            );
        }
        let shx_path = sibling(&shp_path, "shx").ok_or_else(|| Error::MissingFile {
            path: shp_path.with_extension("shx"),
            what: "the .shx record index of the shapefile",
        })?;
        let (shx, shx_len) = open(&shx_path)?;
        if shx_len < shp::HEADER_LEN || !(shx_len - shp::HEADER_LEN).is_multiple_of(8) {
            return Err(Error::format(
                &shx_path,
                None,
                format!("{shx_len} bytes is not a 100-byte header plus 8-byte entries"),
            ));
        }
        let shapes = (shx_len - shp::HEADER_LEN) / 8;
        let dbf_path = sibling(&shp_path, "dbf").ok_or_else(|| Error::MissingFile {
            path: shp_path.with_extension("dbf"),
            what: "the .dbf attribute table of the shapefile",
        })?;
        let (dbf, dbf_len) = open(&dbf_path)?;
        let first = read_at(&dbf, &dbf_path, 0, dbf_len.min(32) as usize)?;
        let header_len = if first.len() >= 10 {
            u64::from(u16::from_le_bytes([first[8], first[9]]))
        } else {
            32
        };
        let table = dbf::parse_header(
            &read_at(&dbf, &dbf_path, 0, dbf_len.min(header_len.max(32)) as usize)?,
            dbf_len,
            &dbf_path,
        )?;
        if table.records != shapes {
            return Err(Error::format(
                &dbf_path,
                None,
                format!(
                    "the .dbf has {} records but the .shx indexes {shapes} shapes",
                    table.records
                ),
            ));
        }
        let cpg = match sibling(&shp_path, "cpg") {
            Some(p) => Some(std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?),
            None => None,
        };
        let label = options.encoding.as_deref().or(cpg.as_deref());
        let encoding = dbf::encoding_for(label);
        if label.is_some() && encoding.is_none() {
            log::warn!(
                "{}: unknown encoding {label:?}; reading text as UTF-8",
                dbf_path.display()
            );
        }
        let mut fields = table.arrow_fields();
        let mut geometry_name = DEFAULT_GEOMETRY_COLUMN.to_string();
        while fields.iter().any(|f| f.name() == &geometry_name) {
            geometry_name.push('_');
        }
        fields.push(geometry::geometry_field(&geometry_name));
        let crs = match sibling(&shp_path, "prj") {
            Some(prj) => Some(read_prj(&prj)?),
            None => None,
        };
        Ok(ShapefileSource {
            crs,
            shp_path,
            shx_path,
            dbf_path,
            shp,
            shp_len,
            shx,
            dbf,
            header,
            table,
            encoding,
            schema: Arc::new(Schema::new(fields)),
            rows_per_partition: options.rows_per_partition,
        })
    }

    /// Reads records `first..first + count` into one partition: one `.shx` read, one
    /// `.shp` read for the partition's byte span (records are contiguous in practice; an
    /// index that jumps around falls back to a read per record), one `.dbf` read.
    /// Fails when two `.shx` entries of a partition point at overlapping bytes: a record
    /// read twice would let a small file decode to any size.
    fn check_disjoint(&self, first: u64, spans: &[(u64, u64)]) -> Result<()> {
        let mut order: Vec<usize> = (0..spans.len()).collect();
        order.sort_unstable_by_key(|&i| (spans[i].0, i));
        for pair in order.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            if spans[a].0 + 8 + spans[a].1 > spans[b].0 {
                let (earlier, later) = (a.min(b), a.max(b));
                return Err(Error::format(
                    &self.shx_path,
                    Some(first + later as u64),
                    format!(
                        "the record at byte {} overlaps record {} (at byte {}): each record must have bytes of its own",
                        spans[later].0,
                        first + earlier as u64,
                        spans[earlier].0
                    ),
                ));
            }
        }
        Ok(())
    }

    fn read_rows(&self, first: u64, count: usize) -> Result<Partition> {
        let index = read_at(
            &self.shx,
            &self.shx_path,
            shp::HEADER_LEN + first * 8,
            count * 8,
        )?;
        let mut spans = Vec::with_capacity(count);
        for i in 0..count {
            let e = &index[i * 8..i * 8 + 8];
            let offset = u64::from(u32::from_be_bytes([e[0], e[1], e[2], e[3]])) * 2;
            let len = u64::from(u32::from_be_bytes([e[4], e[5], e[6], e[7]])) * 2;
            let record = first + i as u64;
            if offset < shp::HEADER_LEN || offset + 8 + len > self.shp_len {
                return Err(Error::format(
                    &self.shx_path,
                    Some(record),
                    format!(
                        "record at byte {offset} with {len} content bytes lies outside the .shp ({} bytes)",
                        self.shp_len
                    ),
                ));
            }
            spans.push((offset, len));
        }
        let contiguous = spans.windows(2).all(|w| w[0].0 + 8 + w[0].1 == w[1].0);
        if !contiguous {
            self.check_disjoint(first, &spans)?;
        }
        let (base, buffer) = match (spans.first(), spans.last()) {
            (Some(&(start, _)), Some(&(last, last_len))) if contiguous => (
                start,
                read_at(
                    &self.shp,
                    &self.shp_path,
                    start,
                    (last + 8 + last_len - start) as usize,
                )?,
            ),
            _ => (0, Vec::new()),
        };

        let mut wkb: Vec<u8> = Vec::with_capacity(count * 21);
        let mut offsets: Vec<i32> = Vec::with_capacity(count + 1);
        offsets.push(0);
        let mut valid = Vec::with_capacity(count);
        let mut bounds: Option<Rect> = None;
        let (mut minx, mut miny, mut maxx, mut maxy) = (
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        );
        let mut single;
        for (i, &(offset, len)) in spans.iter().enumerate() {
            let record = first + i as u64;
            let bytes: &[u8] = if contiguous {
                let at = (offset - base) as usize;
                &buffer[at..at + 8 + len as usize]
            } else {
                single = read_at(&self.shp, &self.shp_path, offset, 8 + len as usize)?;
                &single
            };
            let stated =
                u64::from(u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]])) * 2;
            if stated != len {
                return Err(Error::format(
                    &self.shp_path,
                    Some(record),
                    format!("record header says {stated} content bytes, the .shx says {len}"),
                ));
            }
            match shp::parse_record(&bytes[8..], self.header.shape_type, &self.shp_path, record)? {
                shp::Shape::Null => valid.push(false),
                shp::Shape::Point(x, y) => {
                    wkb.push(1);
                    wkb.extend_from_slice(&1u32.to_le_bytes());
                    wkb.extend_from_slice(&x.to_le_bytes());
                    wkb.extend_from_slice(&y.to_le_bytes());
                    minx = minx.min(x);
                    maxx = maxx.max(x);
                    miny = miny.min(y);
                    maxy = maxy.max(y);
                    valid.push(true);
                }
                shp::Shape::Geometry(g) => {
                    geometry::write_wkb(&mut wkb, &g);
                    bounds = geometry::merge_bounds(bounds, geometry::bounds(&g));
                    valid.push(true);
                }
            }
            let end = i32::try_from(wkb.len()).map_err(|_| {
                Error::InvalidArgument(format!(
                    "{}: partition starting at record {first} holds over 2 GiB of geometry; use fewer rows per partition",
                    self.shp_path.display()
                ))
            })?;
            offsets.push(end);
        }
        drop(buffer);
        if minx <= maxx {
            bounds = geometry::merge_bounds(bounds, Some(Rect::new((minx, miny), (maxx, maxy))));
        }
        let geometry = BinaryArray::new(
            arrow_buffer::OffsetBuffer::new(offsets.into()),
            wkb.into(),
            Some(arrow_buffer::NullBuffer::from(valid)),
        );

        let rec = self.table.record_len;
        let rows = read_at(
            &self.dbf,
            &self.dbf_path,
            self.table.header_len + first * rec as u64,
            count * rec,
        )?;
        let mut columns: Vec<ArrayRef> = dbf::decode_columns(
            &self.table,
            &rows,
            count,
            first,
            self.encoding,
            &self.dbf_path,
        )?;
        columns.push(Arc::new(geometry));
        let batch = RecordBatch::try_new(self.schema.clone(), columns)?;
        Ok(Partition::with_bounds(
            batch,
            self.schema.fields().len() - 1,
            bounds,
        ))
    }
}
