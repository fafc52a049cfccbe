//! Writing a [`GeoFrame`] as a shapefile.

use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use arrow_schema::SchemaRef;

use geo::orient::{Direction, Orient};
use geo::{BoundingRect, Geometry, LineString, Polygon};
use rayon::prelude::*;

use super::dbf;
use super::shp::{self, ShapeType};
use crate::error::{CollectInOrder, Error, Result};
use crate::io::atomic::AtomicFile;
use crate::io::source::{PartitionSink, SinkLayout};
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
    crate::io::check_flat_columns(&SinkLayout::of(frame), path.as_ref(), "a .dbf field")?;
    write_files(frame, path.as_ref())
}

/// A shapefile being written (see [`write_shapefile`]). It holds the partitions it is
/// given and writes the files when it finishes: the `.dbf` header names each column's
/// width, which only the widest value decides.
pub struct ShapefileSink {
    path: PathBuf,
    schema: SchemaRef,
    geometry_column: usize,
    crs: Option<Crs>,
    partitions: Vec<Partition>,
}

impl ShapefileSink {
    /// Starts a shapefile of `schema` (its column `geometry_column` holds WKB) at `path`
    /// (the `.shp`); nothing is written before [`PartitionSink::finish`].
    pub fn create(path: impl AsRef<Path>, layout: &SinkLayout) -> Result<ShapefileSink> {
        crate::io::check_flat_columns(layout, path.as_ref(), "a .dbf field")?;
        Ok(ShapefileSink {
            path: path.as_ref().to_path_buf(),
            schema: layout.schema.clone(),
            geometry_column: layout.geometry_column,
            crs: layout.crs.clone(),
            partitions: Vec::new(),
        })
    }
}

impl PartitionSink for ShapefileSink {
    fn write(&mut self, partitions: &[Partition]) -> Result<()> {
        self.partitions.extend_from_slice(partitions);
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<()> {
        let sink = *self;
        let frame =
            GeoFrame::from_parts(sink.schema, sink.geometry_column, sink.crs, sink.partitions);
        write_files(&frame, &sink.path)
    }
}

fn write_files(frame: &GeoFrame, path: &Path) -> Result<()> {
    let shape_type = shape_type_of(frame, path)?;
    let offsets = frame.partition_offsets();

    let mut shp_out = AtomicFile::create(path)?;
    let mut shx_out = AtomicFile::create(&path.with_extension("shx"))?;
    shp_out.write_all(&[0u8; 100])?;
    shx_out.write_all(&[0u8; 100])?;
    let mut position: u64 = 100;
    let mut bbox: Option<geo::Rect> = None;
    let mut record_number: u32 = 1;
    let mut content = Vec::new();
    for (p, &first) in frame.partitions().iter().zip(&offsets) {
        let geometries = p.geometries(first)?;
        for g in &geometries {
            content.clear();
            encode_shape(g.as_ref(), shape_type, &mut content);
            let mut header = [0u8; 8];
            header[..4].copy_from_slice(&record_number.to_be_bytes());
            header[4..].copy_from_slice(&((content.len() / 2) as u32).to_be_bytes());
            shp_out.write_all(&header)?;
            shp_out.write_all(&content)?;
            let mut entry = [0u8; 8];
            entry[..4].copy_from_slice(&((position / 2) as u32).to_be_bytes());
            entry[4..].copy_from_slice(&((content.len() / 2) as u32).to_be_bytes());
            shx_out.write_all(&entry)?;
            position += 8 + content.len() as u64;
            if position > u64::from(u32::MAX) * 2 {
                return Err(Error::Unwritable {
                    path: path.to_path_buf(),
                    message: "a .shp file cannot exceed 8 GiB".into(),
                });
            }
            if let Some(g) = g {
                bbox = crate::geometry::merge_bounds(bbox, g.bounding_rect());
            }
            record_number += 1;
        }
    }
    let bbox = bbox.map_or([0.0; 4], |r| [r.min().x, r.min().y, r.max().x, r.max().y]);
    let rows = frame.len() as u64;
    for (out, len) in [(&mut shp_out, position), (&mut shx_out, 100 + 8 * rows)] {
        let mut header = Vec::with_capacity(100);
        shp::write_header(&mut header, shape_type, len, bbox);
        let target = out.target().to_path_buf();
        let w = out.writer();
        w.seek(SeekFrom::Start(0))
            .map_err(|e| Error::io(&target, e))?;
        w.write_all(&header).map_err(|e| Error::io(&target, e))?;
        w.seek(SeekFrom::End(0))
            .map_err(|e| Error::io(&target, e))?;
    }

    let dbf_path = path.with_extension("dbf");
    let dbf_out = write_dbf(frame, &dbf_path)?;
    let mut prj_out = None;
    if let Some(crs) = frame.crs() {
        let mut f = AtomicFile::create(&path.with_extension("prj"))?;
        f.write_all(crs.to_esri_wkt()?.as_bytes())?;
        prj_out = Some(f);
    }
    let mut cpg_out = AtomicFile::create(&path.with_extension("cpg"))?;
    cpg_out.write_all(b"UTF-8")?;

    // Everything is written: only now do the target names change.
    shp_out.commit()?;
    shx_out.commit()?;
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

fn write_dbf(frame: &GeoFrame, path: &Path) -> Result<AtomicFile> {
    let geometry = frame.geometry_column_index();
    let columns: Vec<usize> = (0..frame.schema().fields().len())
        .filter(|&i| i != geometry)
        .collect();
    let names = dbf_names(
        columns
            .iter()
            .map(|&i| frame.schema().field(i).name().as_str()),
    );
    // Pass 1: the width of each field over all partitions. Pass 2 formats again and
    // writes, so no more than one partition's text is held at a time.
    let format_partition = |batch: &arrow_array::RecordBatch| -> Result<Vec<dbf::OutField>> {
        columns
            .iter()
            .zip(&names)
            .map(|(&i, name)| dbf::format_column(name, batch.column(i).as_ref(), path))
            .collect()
    };
    let mut layout: Vec<dbf::OutField> = Vec::new();
    let widths: Vec<Vec<(usize, u8)>> = frame
        .partitions()
        .par_iter()
        .map(|p| {
            Ok(format_partition(p.batch())?
                .iter()
                .map(|f| (f.len, f.kind))
                .collect())
        })
        .collect_in_order()?;
    if let Some(p) = frame.partitions().first() {
        layout = format_partition(&p.batch().slice(0, 0))?;
    }
    if layout.is_empty() && !columns.is_empty() {
        let empty = arrow_array::RecordBatch::new_empty(frame.schema().clone());
        layout = format_partition(&empty)?;
    }
    for w in &widths {
        for (field, &(len, _)) in layout.iter_mut().zip(w) {
            field.len = field.len.max(len);
        }
    }
    let mut out = AtomicFile::create(path)?;
    let rows = frame.len();
    let mut header = Vec::new();
    dbf::write_header(&layout, rows, &mut header);
    out.write_all(&header)?;
    let mut buf = Vec::new();
    for p in frame.partitions() {
        let mut fields = format_partition(p.batch())?;
        for (f, l) in fields.iter_mut().zip(&layout) {
            f.len = l.len;
        }
        buf.clear();
        dbf::write_records(&fields, p.len(), &mut buf);
        out.write_all(&buf)?;
    }
    out.write_all(&[0x1A])?;
    Ok(out)
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

fn shape_type_of(frame: &GeoFrame, path: &Path) -> Result<ShapeType> {
    let offsets = frame.partition_offsets();
    let kinds = frame
        .partitions()
        .par_iter()
        .zip(offsets)
        .map(|(p, first)| {
            let mut kind = ShapeType::Null;
            for (i, g) in p.geometries(first)?.iter().enumerate() {
                let this = match g {
                    None => continue,
                    Some(Geometry::Point(_)) => ShapeType::Point,
                    Some(Geometry::MultiPoint(_)) => ShapeType::MultiPoint,
                    Some(
                        Geometry::LineString(_) | Geometry::MultiLineString(_) | Geometry::Line(_),
                    ) => ShapeType::PolyLine,
                    Some(
                        Geometry::Polygon(_)
                        | Geometry::MultiPolygon(_)
                        | Geometry::Rect(_)
                        | Geometry::Triangle(_),
                    ) => ShapeType::Polygon,
                    Some(Geometry::GeometryCollection(_)) => {
                        return Err(Error::Unwritable {
                            path: path.to_path_buf(),
                            message: format!(
                                "row {}: a shapefile cannot hold a GeometryCollection",
                                first + i as u64
                            ),
                        })
                    }
                };
                kind = merge_kind(kind, this, first + i as u64, path)?;
            }
            Ok(kind)
        })
        .collect_in_order()?;
    kinds
        .into_iter()
        .try_fold(ShapeType::Null, |acc, k| merge_kind(acc, k, 0, path))
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
        Geometry::GeometryCollection(_) => {} // rejected by shape_type_of
    }
}
