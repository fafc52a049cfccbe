//! GeoPackage feature tables (SQLite through `rusqlite`, geometries through `geozero`).
//!
//! [`GeoPackageSource`] makes a partition of each run of `rows_per_partition` feature ids;
//! its bounds come from the layer's R-tree index when it has one. [`GeoPackageSink`] writes
//! one layer.

mod write;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::BinaryBuilder;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use geo::Rect;
use geozero::wkb::GpkgWkb;
use geozero::{CoordDimensions, ToWkb};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::crs::Crs;
use crate::error::{Error, Result};
use crate::io::attributes::{ColumnBuilder, Flat};
use crate::io::guard::guarded;
use crate::io::source::{read_source, PartitionMeta, PartitionSource};
use crate::partition::Partition;
use crate::{geometry, GeoFrame};

pub use write::{write_geopackage, GeoPackageSink};

/// Which layer of a GeoPackage to read, and how to partition it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeoPackageOptions {
    /// The feature table to read; `None` reads the first one in `gpkg_contents`.
    pub layer: Option<String>,
    /// Rows per partition.
    pub rows_per_partition: usize,
}

impl Default for GeoPackageOptions {
    fn default() -> Self {
        GeoPackageOptions {
            layer: None,
            rows_per_partition: 100_000,
        }
    }
}

/// Reads a GeoPackage layer into a frame, its partitions decoded in parallel (see
/// [`GeoPackageSource`]).
///
/// ```
/// use geoframe::io::{read_geopackage, read_shapefile, write_geopackage, GeoPackageOptions};
/// let cities = read_shapefile("data/naturalearth_cities/naturalearth_cities.shp", &Default::default())?;
/// let path = std::env::temp_dir().join("geoframe_read_geopackage_doc.gpkg");
/// write_geopackage(&cities, &path)?;
/// let back = read_geopackage(&path, &GeoPackageOptions::default())?;
/// assert_eq!(back.len(), cities.len());
/// assert_eq!(back.crs().and_then(|c| c.to_epsg()), Some(4326));
/// # Ok::<(), geoframe::Error>(())
/// ```
pub fn read_geopackage(path: impl AsRef<Path>, options: &GeoPackageOptions) -> Result<GeoFrame> {
    read_source(&GeoPackageSource::open(path, options)?)
}

/// One partition: the rows whose feature ids are in `first_id..=last_id`.
#[derive(Debug, Clone, Copy)]
struct Run {
    first_row: u64,
    rows: u64,
    first_id: i64,
    last_id: i64,
    bounds: Option<Rect>,
}

/// A GeoPackage feature table as a [`PartitionSource`]. Opening reads the layer's
/// metadata and its feature ids; each partition is a run of `rows_per_partition` ids in
/// order, read with its own connection. Bounds come from the layer's R-tree
/// (`rtree_<table>_<column>`) when there is one, else from the layer's extent in
/// `gpkg_contents`.
///
/// Columns take the Arrow type of their declared SQL type (`INTEGER` is `Int64`,
/// `MEDIUMINT` `Int32`, `DOUBLE`/`REAL` `Float64`, `BOOLEAN` `Boolean`, `DATE` `Date32`,
/// `DATETIME` and `TEXT` text, `BLOB` binary); the feature id column is not read as an
/// attribute. The CRS is the layer's `gpkg_spatial_ref_sys` entry: its EPSG code, or its
/// WKT; the undefined systems (ids 0 and -1) give none.
pub struct GeoPackageSource {
    path: PathBuf,
    table: String,
    id_column: String,
    geometry_sql: String,
    columns: Vec<(String, DataType)>,
    schema: SchemaRef,
    crs: Option<Crs>,
    runs: Vec<Run>,
}

/// `name` quoted as an SQL identifier.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The feature id column in SQL: quoted, except SQLite's own `rowid`.
fn id_sql(column: &str) -> String {
    match column {
        "rowid" => column.to_string(),
        _ => quoted(column),
    }
}

fn open_read_only(path: &Path) -> Result<Connection> {
    Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| Error::format(path, None, format!("not a GeoPackage: {e}")))
}

impl GeoPackageSource {
    /// Opens the layer `options.layer` (or the first feature table) of `path`.
    pub fn open(path: impl AsRef<Path>, options: &GeoPackageOptions) -> Result<GeoPackageSource> {
        let path = path.as_ref();
        if !path.is_file() {
            return Err(Error::io(
                path,
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such GeoPackage file"),
            ));
        }
        let sql = |e: rusqlite::Error| Error::format(path, None, e.to_string());
        let db = open_read_only(path)?;
        let layers: Vec<(String, i64, [Option<f64>; 4])> = db
            .prepare(
                "SELECT table_name, srs_id, min_x, min_y, max_x, max_y FROM gpkg_contents \
                 WHERE data_type = 'features' ORDER BY rowid",
            )
            .and_then(|mut s| {
                s.query_map([], |r| {
                    Ok((
                        r.get(0)?,
                        r.get::<_, Option<i64>>(1)?.unwrap_or(0),
                        [r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?],
                    ))
                })?
                .collect()
            })
            .map_err(|e| Error::format(path, None, format!("not a GeoPackage: {e}")))?;
        let names = || {
            layers
                .iter()
                .map(|l| l.0.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let (table, _, extent) = match &options.layer {
            None => layers.first(),
            Some(name) => layers.iter().find(|l| &l.0 == name),
        }
        .cloned()
        .ok_or_else(|| {
            Error::InvalidArgument(format!(
                "{}: no feature layer {}; it has: {}",
                path.display(),
                options.layer.as_deref().unwrap_or(""),
                names()
            ))
        })?;
        let (geometry_column, srs_id): (String, i64) = db
            .query_row(
                "SELECT column_name, srs_id FROM gpkg_geometry_columns WHERE table_name = ?1",
                [&table],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(sql)?;
        let crs = layer_crs(&db, srs_id).map_err(sql)?.transpose()?;

        let mut id_column = None;
        let mut columns = Vec::new();
        let mut info = db
            .prepare(&format!("PRAGMA table_info({})", quoted(&table)))
            .map_err(sql)?;
        let described: Vec<(String, String, i64)> = info
            .query_map([], |r| {
                Ok((
                    r.get(1)?,
                    r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                    r.get(5)?,
                ))
            })
            .and_then(|rows| rows.collect())
            .map_err(sql)?;
        for (name, declared, primary_key) in described {
            if primary_key > 0 && declared.eq_ignore_ascii_case("INTEGER") && id_column.is_none() {
                id_column = Some(name);
            } else if name != geometry_column {
                columns.push((name, arrow_type(&declared)));
            }
        }
        let id_column = id_column.unwrap_or_else(|| "rowid".into());
        let mut fields: Vec<Field> = columns
            .iter()
            .map(|(name, t)| Field::new(name, t.clone(), true))
            .collect();
        fields.push(geometry::geometry_field(&geometry_column));

        let mut runs: Vec<Run> = Vec::new();
        let rows_per_partition = options.rows_per_partition.max(1) as u64;
        let mut ids = db
            .prepare(&format!(
                "SELECT {} FROM {} ORDER BY 1",
                id_sql(&id_column),
                quoted(&table)
            ))
            .map_err(sql)?;
        let mut rows = ids.query([]).map_err(sql)?;
        let mut row_number = 0u64;
        while let Some(row) = rows.next().map_err(sql)? {
            let id: i64 = row.get(0).map_err(sql)?;
            if row_number.is_multiple_of(rows_per_partition) {
                runs.push(Run {
                    first_row: row_number,
                    rows: 0,
                    first_id: id,
                    last_id: id,
                    bounds: None,
                });
            }
            if let Some(run) = runs.last_mut() {
                run.rows += 1;
                run.last_id = id;
            }
            row_number += 1;
        }
        drop(rows);
        drop(ids);
        let rtree = format!("rtree_{table}_{geometry_column}");
        let indexed = db
            .query_row(
                "SELECT 1 FROM sqlite_master WHERE name = ?1",
                [&rtree],
                |_| Ok(()),
            )
            .optional()
            .map_err(sql)?
            .is_some();
        if indexed {
            bounds_from_rtree(&db, &rtree, &mut runs).map_err(sql)?;
        } else {
            let extent = match extent {
                [Some(a), Some(b), Some(c), Some(d)] if a <= c && b <= d => {
                    Rect::new((a, b), (c, d))
                }
                _ => geometry::everywhere(),
            };
            runs.iter_mut().for_each(|r| r.bounds = Some(extent));
        }
        Ok(GeoPackageSource {
            path: path.to_path_buf(),
            geometry_sql: quoted(&geometry_column),
            table,
            id_column,
            columns,
            schema: Arc::new(Schema::new(fields)),
            crs,
            runs,
        })
    }
}

/// The CRS of `srs_id`: `None` for the undefined systems.
fn layer_crs(db: &Connection, srs_id: i64) -> rusqlite::Result<Option<Result<Crs>>> {
    if srs_id <= 0 {
        return Ok(None);
    }
    let (organization, code, definition): (String, i64, String) = db.query_row(
        "SELECT organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys WHERE srs_id = ?1",
        [srs_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    Ok(Some(match u32::try_from(code) {
        Ok(code) if code > 0 && organization.eq_ignore_ascii_case("EPSG") => Ok(Crs::epsg(code)),
        _ if definition.trim() != "undefined" => Crs::from_user_input(&definition),
        _ => return Ok(None),
    }))
}

/// Fills each run's bounds from the layer's R-tree, in one pass over it.
fn bounds_from_rtree(db: &Connection, rtree: &str, runs: &mut [Run]) -> rusqlite::Result<()> {
    let mut all = db.prepare(&format!(
        "SELECT id, minx, miny, maxx, maxy FROM {}",
        quoted(rtree)
    ))?;
    let mut rows = all.query([])?;
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let (a, b, c, d): (f64, f64, f64, f64) =
            (row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?);
        let k = runs.partition_point(|r| r.last_id < id);
        if let Some(run) = runs.get_mut(k).filter(|r| r.first_id <= id) {
            let rect = (a <= c && b <= d).then(|| Rect::new((a, b), (c, d)));
            run.bounds = geometry::merge_bounds(run.bounds, rect);
        }
    }
    Ok(())
}

/// The Arrow type of a column declared as `declared`.
fn arrow_type(declared: &str) -> DataType {
    let upper = declared.to_ascii_uppercase();
    let base = upper.split('(').next().unwrap_or_default().trim();
    match base {
        "BOOLEAN" => DataType::Boolean,
        "TINYINT" => DataType::Int8,
        "SMALLINT" => DataType::Int16,
        "MEDIUMINT" => DataType::Int32,
        "INT" | "INTEGER" | "BIGINT" => DataType::Int64,
        "FLOAT" => DataType::Float32,
        "DOUBLE" | "REAL" => DataType::Float64,
        "BLOB" => DataType::Binary,
        "DATE" => DataType::Date32,
        _ => DataType::Utf8,
    }
}

impl PartitionSource for GeoPackageSource {
    fn describe(&self) -> String {
        format!("geopackage {} layer {}", self.path.display(), self.table)
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
            .map(|r| PartitionMeta {
                rows: r.rows,
                bounds: r.bounds,
            })
            .collect()
    }
    fn read_partition(&self, k: usize) -> Result<Partition> {
        guarded(&self.path, &format!("partition {k}"), || self.read_run(k))
    }
}

impl GeoPackageSource {
    fn read_run(&self, k: usize) -> Result<Partition> {
        let path = &self.path;
        let run = *self.runs.get(k).ok_or_else(|| {
            Error::InvalidArgument(format!("{}: no partition {k}", path.display()))
        })?;
        let db = open_read_only(path)?;
        let id = id_sql(&self.id_column);
        let mut select: Vec<String> = self.columns.iter().map(|(n, _)| quoted(n)).collect();
        select.push(self.geometry_sql.clone());
        let query = format!(
            "SELECT {} FROM {} WHERE {id} BETWEEN ?1 AND ?2 ORDER BY {id}",
            select.join(", "),
            quoted(&self.table)
        );
        let bad = |row: u64, message: String| Error::format(path, Some(row), message);
        let sql =
            |row: u64| move |e: rusqlite::Error| Error::format(path, Some(row), e.to_string());
        let mut statement = db.prepare(&query).map_err(sql(run.first_row))?;
        let mut rows = statement
            .query([run.first_id, run.last_id])
            .map_err(sql(run.first_row))?;
        let mut builders: Vec<ColumnBuilder> = self
            .columns
            .iter()
            .map(|(_, t)| ColumnBuilder::new(t))
            .collect();
        let mut geometries = BinaryBuilder::new();
        let mut record = run.first_row;
        while let Some(row) = rows.next().map_err(sql(record))? {
            for (c, builder) in builders.iter_mut().enumerate() {
                let value = row.get_ref(c).map_err(sql(record))?;
                let flat = match value {
                    ValueRef::Null => Flat::Null,
                    ValueRef::Integer(v) => Flat::Int(v),
                    ValueRef::Real(v) => Flat::Float(v),
                    ValueRef::Text(t) => Flat::Text(String::from_utf8_lossy(t)),
                    ValueRef::Blob(b) => Flat::Bytes(b),
                };
                builder
                    .append(flat)
                    .map_err(|m| bad(record, format!("column {:?}: {m}", self.columns[c].0)))?;
            }
            match row.get_ref(builders.len()).map_err(sql(record))? {
                ValueRef::Null => geometries.append_null(),
                ValueRef::Blob(blob) => {
                    let wkb = GpkgWkb(blob)
                        .to_wkb(CoordDimensions::xy())
                        .map_err(|e| bad(record, format!("bad geometry: {e}")))?;
                    geometries.append_value(wkb);
                }
                other => {
                    return Err(bad(
                        record,
                        format!("the geometry is {:?}, not a blob", other.data_type()),
                    ))
                }
            }
            record += 1;
        }
        if record != run.first_row + run.rows {
            return Err(bad(
                record,
                format!(
                    "{} rows where the layer had {} when it was opened",
                    record - run.first_row,
                    run.rows
                ),
            ));
        }
        let mut columns: Vec<ArrayRef> = builders.iter_mut().map(ColumnBuilder::finish).collect();
        columns.push(Arc::new(geometries.finish()));
        let batch = RecordBatch::try_new(self.schema.clone(), columns)?;
        Partition::new(batch, self.columns.len(), run.first_row).map_err(|e| e.in_file(path))
    }
}
