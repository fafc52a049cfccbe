//! Writing a [`GeoFrame`] as a shapefile.

use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use geo::orient::{Direction, Orient};
use geo::{BoundingRect, Geometry, LineString, Polygon};
use rayon::prelude::*;

use super::dbf;
use super::shp::{self, ShapeType};
use crate::error::{CollectInOrder, Error, Result};
use crate::io::atomic::AtomicFile;
use crate::io::source::{write_frame, PartitionSink, SinkLayout};
use crate::partition::Partition;
use crate::{Crs, GeoFrame};

/// Writes `frame` as a shapefile: `path` (the `.shp`) plus `.shx`, `.dbf`, `.cpg` (UTF-8)
/// and, when the frame has a CRS, `.prj` (ESRI WKT).
///
/// All non-null geometries must map to one shapefile type: points; multipoints; line
/// strings and multi line strings; or polygons and multipolygons (outer rings are written
/// clockwise and holes counter-clockwise, as the format asks). Column names are cut to the
/// format's 10 bytes (made unique with a suffix); text longer than 254 bytes is an error.
/// Every file is written to a temporary name and renamed when complete.
pub fn write_shapefile(frame: &GeoFrame, path: impl AsRef<Path>) -> Result<()> {
    write_frame(frame, ShapefileSink::create(path, &SinkLayout::of(frame))?)
}

/// A shapefile being written (see [`write_shapefile`]), partition by partition: shapes go
/// to the `.shp` and `.shx` at once; attribute values, formatted, go to a temporary spill
/// file, since the `.dbf` header names each field's width, which only the widest value
/// decides. The `.dbf` is written from the spill when the sink finishes, and only then do
/// the files take their names. Memory stays that of one partition.
///
/// A `.shp` is limited to 8 GiB (its offsets count 16-bit words in 32 bits; some readers
/// stop at 2 GiB) and a `.dbf` to 2^32 - 1 records: a sink that would pass either fails
/// with [`Error::Unwritable`], leaving no file behind.
pub struct ShapefileSink {
    path: PathBuf,
    crs: Option<Crs>,
    /// Positions of the attribute columns, and their `.dbf` names.
    columns: Vec<usize>,
    names: Vec<String>,
    /// Field kinds and the widest value so far.
    fields: Vec<dbf::OutField>,
    shape_type: ShapeType,
    shp: AtomicFile,
    shx: AtomicFile,
    spill: AtomicFile,
    /// Bytes of the `.shp` so far.
    position: u64,
    bbox: Option<geo::Rect>,
    records: u64,
}

impl ShapefileSink {
    /// Starts a shapefile of `layout` at `path` (the `.shp`); no file takes its name
    /// before [`PartitionSink::finish`].
    pub fn create(path: impl AsRef<Path>, layout: &SinkLayout) -> Result<ShapefileSink> {
        let path = path.as_ref().to_path_buf();
        crate::io::check_flat_columns(layout, &path, "a .dbf field")?;
        let columns: Vec<usize> = (0..layout.schema.fields().len())
            .filter(|&i| i != layout.geometry_column)
            .collect();
        let names = dbf_names(
            columns
                .iter()
                .map(|&i| layout.schema.field(i).name().as_str()),
        );
        let empty = arrow_array::RecordBatch::new_empty(layout.schema.clone());
        let fields = format_columns(&empty, &columns, &names, &path)?;
        let mut shp = AtomicFile::create(&path)?;
        let mut shx = AtomicFile::create(&path.with_extension("shx"))?;
        shp.write_all(&[0u8; 100])?;
        shx.write_all(&[0u8; 100])?;
        // The spill is a temporary file that never takes a name of its own.
        let spill = AtomicFile::create(&path.with_extension("dbf"))?;
        Ok(ShapefileSink {
            crs: layout.crs.clone(),
            columns,
            names,
            fields,
            shape_type: ShapeType::Null,
            shp,
            shx,
            spill,
            position: 100,
            bbox: None,
            records: 0,
            path,
        })
    }

    fn unwritable(&self, message: String) -> Error {
        Error::Unwritable {
            path: self.path.clone(),
            message,
        }
    }
}

/// The `.dbf` cells of `columns` of `batch`.
fn format_columns(
    batch: &arrow_array::RecordBatch,
    columns: &[usize],
    names: &[String],
    path: &Path,
) -> Result<Vec<dbf::OutField>> {
    columns
        .iter()
        .zip(names)
        .map(|(&i, name)| dbf::format_column(name, batch.column(i).as_ref(), path))
        .collect()
}

/// One partition made ready to append: its shape records and formatted attributes.
struct Encoded {
    kind: ShapeType,
    /// Each record's content (shape type onwards), back to back, and where each ends.
    shapes: Vec<u8>,
    ends: Vec<usize>,
    bbox: Option<geo::Rect>,
    fields: Vec<dbf::OutField>,
}

impl ShapefileSink {
    fn encode(&self, p: &Partition, first: u64) -> Result<Encoded> {
        let geometries = p.geometries(first)?;
        let mut kind = ShapeType::Null;
        for (i, g) in geometries.iter().enumerate() {
            if let Some(g) = g {
                kind = merge_kind(
                    kind,
                    shape_kind(g, first + i as u64, &self.path)?,
                    first + i as u64,
                    &self.path,
                )?;
            }
        }
        // Records are encoded with the file's type: the partition's, or the one before it.
        let file_type = merge_kind(self.shape_type, kind, first, &self.path)?;
        let mut shapes = Vec::new();
        let mut ends = Vec::with_capacity(geometries.len());
        let mut bbox = None;
        for g in &geometries {
            encode_shape(g.as_ref(), file_type, &mut shapes);
            ends.push(shapes.len());
            if let Some(g) = g {
                bbox = crate::geometry::merge_bounds(bbox, g.bounding_rect());
            }
        }
        let fields = format_columns(p.batch(), &self.columns, &self.names, &self.path)?;
        Ok(Encoded {
            kind,
            shapes,
            ends,
            bbox,
            fields,
        })
    }

    fn append(&mut self, e: Encoded) -> Result<()> {
        self.shape_type = merge_kind(self.shape_type, e.kind, self.records, &self.path)?;
        let mut start = 0;
        for &end in &e.ends {
            let content = &e.shapes[start..end];
            start = end;
            let next = self.position + 8 + content.len() as u64;
            if next > u64::from(u32::MAX) * 2 {
                return Err(self.unwritable(format!(
                    "record {}: a .shp file cannot exceed 8 GiB; write GeoParquet, or split the output",
                    self.records
                )));
            }
            let words = (content.len() / 2) as u32;
            let record = u32::try_from(self.records + 1).map_err(|_| {
                self.unwritable("a shapefile holds at most 2^32 - 1 records".into())
            })?;
            let mut header = [0u8; 8];
            header[..4].copy_from_slice(&record.to_be_bytes());
            header[4..].copy_from_slice(&words.to_be_bytes());
            self.shp.write_all(&header)?;
            self.shp.write_all(content)?;
            let mut entry = [0u8; 8];
            entry[..4].copy_from_slice(&((self.position / 2) as u32).to_be_bytes());
            entry[4..].copy_from_slice(&words.to_be_bytes());
            self.shx.write_all(&entry)?;
            self.position = next;
            self.records += 1;
        }
        self.bbox = crate::geometry::merge_bounds(self.bbox, e.bbox);
        for (field, part) in self.fields.iter_mut().zip(&e.fields) {
            field.len = field.len.max(part.len);
        }
        let mut cells = Vec::new();
        dbf::spill_records(&e.fields, e.ends.len(), &mut cells);
        self.spill.write_all(&cells)
    }
}

impl PartitionSink for ShapefileSink {
    fn write(&mut self, partitions: &[Partition]) -> Result<()> {
        let mut first = Vec::with_capacity(partitions.len());
        let mut next = self.records;
        for p in partitions {
            first.push(next);
            next += p.len() as u64;
        }
        let encoded = partitions
            .par_iter()
            .zip(first)
            .map(|(p, first)| self.encode(p, first))
            .collect_in_order()?;
        for e in encoded {
            self.append(e)?;
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<()> {
        let mut sink = *self;
        let path = sink.path.clone();
        let bbox = sink
            .bbox
            .map_or([0.0; 4], |r| [r.min().x, r.min().y, r.max().x, r.max().y]);
        let shx_len = 100 + 8 * sink.records;
        for (out, len) in [(&mut sink.shp, sink.position), (&mut sink.shx, shx_len)] {
            let mut header = Vec::with_capacity(100);
            shp::write_header(&mut header, sink.shape_type, len, bbox);
            let target = out.target().to_path_buf();
            let w = out.writer();
            w.seek(SeekFrom::Start(0))
                .map_err(|e| Error::io(&target, e))?;
            w.write_all(&header).map_err(|e| Error::io(&target, e))?;
            w.seek(SeekFrom::End(0))
                .map_err(|e| Error::io(&target, e))?;
        }
        let records = usize::try_from(sink.records).unwrap_or(usize::MAX);
        let dbf_path = path.with_extension("dbf");
        let mut dbf_out = AtomicFile::create(&dbf_path)?;
        let mut header = Vec::new();
        dbf::write_header(&sink.fields, records, &mut header);
        dbf_out.write_all(&header)?;
        let spill = sink.spill.rewind()?;
        dbf::unspill_records(&sink.fields, records, spill, dbf_out.writer())
            .map_err(|e| Error::io(&dbf_path, e))?;
        dbf_out.write_all(&[0x1A])?;
        let mut prj_out = None;
        if let Some(crs) = &sink.crs {
            let mut f = AtomicFile::create(&path.with_extension("prj"))?;
            f.write_all(crs.to_esri_wkt()?.as_bytes())?;
            prj_out = Some(f);
        }
        let mut cpg_out = AtomicFile::create(&path.with_extension("cpg"))?;
        cpg_out.write_all(b"UTF-8")?;

        // Everything is written: only now do the target names change.
        sink.shp.commit()?;
        sink.shx.commit()?;
        dbf_out.commit()?;
        cpg_out.commit()?;
        match prj_out {
            Some(f) => f.commit()?,
            None => {
                // A stale .prj from an earlier file would give the new one a wrong CRS.
                let stale = path.with_extension("prj");
                if stale.exists() {
                    std::fs::remove_file(&stale).map_err(|e| Error::io(&stale, e))?;
                }
            }
        }
        Ok(())
    }
}

/// Field names cut to 10 bytes (on a character boundary) and made unique.
fn dbf_names<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let cut = |s: &str, max: usize| -> String {
        let mut end = s.len().min(max);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s[..end].to_string()
    };
    let mut out: Vec<String> = Vec::new();
    for name in names {
        let mut candidate = cut(name, 10);
        let mut n = 1;
        while out.iter().any(|o| o.eq_ignore_ascii_case(&candidate)) {
            let suffix = format!("_{n}");
            candidate = format!("{}{suffix}", cut(name, 10 - suffix.len()));
            n += 1;
        }
        out.push(candidate);
    }
    out
}

/// The shapefile type that holds `g` (row `row`, for errors).
fn shape_kind(g: &Geometry, row: u64, path: &Path) -> Result<ShapeType> {
    Ok(match g {
        Geometry::Point(_) => ShapeType::Point,
        Geometry::MultiPoint(_) => ShapeType::MultiPoint,
        Geometry::LineString(_) | Geometry::MultiLineString(_) | Geometry::Line(_) => {
            ShapeType::PolyLine
        }
        Geometry::Polygon(_)
        | Geometry::MultiPolygon(_)
        | Geometry::Rect(_)
        | Geometry::Triangle(_) => ShapeType::Polygon,
        Geometry::GeometryCollection(_) => {
            return Err(Error::Unwritable {
                path: path.to_path_buf(),
                message: format!("row {row}: a shapefile cannot hold a GeometryCollection"),
            })
        }
    })
}

fn merge_kind(acc: ShapeType, this: ShapeType, row: u64, path: &Path) -> Result<ShapeType> {
    match (acc, this) {
        (ShapeType::Null, k) | (k, ShapeType::Null) => Ok(k),
        (a, b) if a == b => Ok(a),
        (a, b) => Err(Error::Unwritable {
            path: path.to_path_buf(),
            message: format!(
                "a shapefile holds one geometry type; found {a:?} and {b:?} (near row {row})"
            ),
        }),
    }
}

fn put_f64(out: &mut Vec<u8>, v: f64) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_i32(out: &mut Vec<u8>, v: i32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_box(out: &mut Vec<u8>, g: &Geometry) {
    match g.bounding_rect() {
        Some(r) => {
            for v in [r.min().x, r.min().y, r.max().x, r.max().y] {
                put_f64(out, v);
            }
        }
        None => out.extend_from_slice(&[0u8; 32]),
    }
}

fn put_parts(out: &mut Vec<u8>, g: &Geometry, parts: &[&LineString]) {
    put_box(out, g);
    put_i32(out, parts.len() as i32);
    put_i32(out, parts.iter().map(|p| p.0.len()).sum::<usize>() as i32);
    let mut start = 0;
    for p in parts {
        put_i32(out, start);
        start += p.0.len() as i32;
    }
    for p in parts {
        for c in &p.0 {
            put_f64(out, c.x);
            put_f64(out, c.y);
        }
    }
}

/// The record content (shape type onwards) of one geometry.
fn encode_shape(g: Option<&Geometry>, file_type: ShapeType, out: &mut Vec<u8>) {
    let Some(g) = g else {
        put_i32(out, 0);
        return;
    };
    put_i32(out, file_type.code());
    match g {
        Geometry::Point(p) => {
            put_f64(out, p.x());
            put_f64(out, p.y());
        }
        Geometry::MultiPoint(mp) => {
            put_box(out, g);
            put_i32(out, mp.0.len() as i32);
            for p in &mp.0 {
                put_f64(out, p.x());
                put_f64(out, p.y());
            }
        }
        Geometry::Line(l) => put_parts(out, g, &[&LineString(vec![l.start, l.end])]),
        Geometry::LineString(ls) => put_parts(out, g, &[ls]),
        Geometry::MultiLineString(mls) => put_parts(out, g, &mls.0.iter().collect::<Vec<_>>()),
        Geometry::Polygon(_)
        | Geometry::MultiPolygon(_)
        | Geometry::Rect(_)
        | Geometry::Triangle(_) => {
            let polygons: Vec<Polygon> = match g {
                Geometry::Polygon(p) => vec![p.orient(Direction::Reversed)],
                Geometry::MultiPolygon(mp) => {
                    mp.0.iter().map(|p| p.orient(Direction::Reversed)).collect()
                }
                Geometry::Rect(r) => vec![r.to_polygon().orient(Direction::Reversed)],
                Geometry::Triangle(t) => vec![t.to_polygon().orient(Direction::Reversed)],
                _ => Vec::new(),
            };
            let rings: Vec<&LineString> = polygons
                .iter()
                .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
                .filter(|r| !r.0.is_empty())
                .collect();
            put_parts(out, g, &rings);
        }
        Geometry::GeometryCollection(_) => {} // rejected by shape_kind
    }
}
