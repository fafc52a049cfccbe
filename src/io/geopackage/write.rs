//! Writing one GeoPackage layer.

use std::collections::BTreeSet;
use std::path::Path;

use arrow_schema::DataType;
use geo::Rect;
use geozero::wkb::Wkb;
use geozero::{CoordDimensions, ToWkb};
use rusqlite::types::Value;
use rusqlite::{params, Connection};

use super::quoted;
use crate::error::{Error, Result};
use crate::geometry::wkb_envelope;
use crate::io::atomic::AtomicFile;
use crate::io::attributes::{flat_value, Flat};
use crate::io::source::{write_frame, PartitionSink, SinkLayout};
use crate::partition::Partition;
use crate::{geometry, GeoFrame};

/// Writes `frame` as a GeoPackage whose one layer is named after the file (see
/// [`GeoPackageSink`]).
pub fn write_geopackage(frame: &GeoFrame, path: impl AsRef<Path>) -> Result<()> {
    write_frame(frame, GeoPackageSink::create(path, &SinkLayout::of(frame))?)
}

/// A GeoPackage being written: one feature table named after the file, with an R-tree
/// spatial index (`gpkg_rtree_index`, with the triggers that keep it in step with later
/// edits). The file appears under its name only when the sink finishes.
///
/// Rows keep their order, with feature ids from 1; a frame column named `fid` makes the id
/// column `fid_`. Columns get the GeoPackage type of their Arrow type (`Int64` is
/// `INTEGER`, `Int32` `MEDIUMINT`, `Float64` `DOUBLE`, `Boolean` `BOOLEAN`, `Date32`
/// `DATE`, timestamps `DATETIME`, others `TEXT`); the CRS is written as its EPSG code with
/// its WKT. Nested columns are refused before anything is written.
///
/// ```
/// use geoframe::io::{read_geopackage, read_shapefile, GeoPackageOptions, GeoPackageSink, PartitionSink, SinkLayout};
/// let countries = read_shapefile("data/naturalearth_lowres/naturalearth_lowres.shp", &Default::default())?;
/// let path = std::env::temp_dir().join("geoframe_geopackage_sink_doc.gpkg");
/// let mut sink = GeoPackageSink::create(&path, &SinkLayout::of(&countries))?;
/// sink.write(countries.partitions())?;
/// Box::new(sink).finish()?;
/// let options = GeoPackageOptions { layer: Some("geoframe_geopackage_sink_doc".into()), rows_per_partition: 50 };
/// let back = read_geopackage(&path, &options)?;
/// assert_eq!(back.partitions().len(), 4);
/// assert_eq!(back.partitions()[0].batch().column(2), &countries.partitions()[0].batch().column(2).slice(0, 50));
/// # Ok::<(), geoframe::Error>(())
/// ```
pub struct GeoPackageSink {
    out: AtomicFile,
    db: Connection,
    table: String,
    geometry_name: String,
    id_column: String,
    insert: String,
    /// The frame's attribute columns, in order.
    columns: Vec<usize>,
    srs_id: i64,
    extent: Option<Rect>,
    /// WKB type names of the geometries written.
    types: BTreeSet<&'static str>,
    rows: u64,
}

/// The GeoPackage column type of an Arrow type.
fn sql_type(data_type: &DataType) -> &'static str {
    match data_type {
        DataType::Boolean => "BOOLEAN",
        DataType::Int8 => "TINYINT",
        DataType::Int16 | DataType::UInt8 => "SMALLINT",
        DataType::Int32 | DataType::UInt16 => "MEDIUMINT",
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => "INTEGER",
        DataType::Float32 => "FLOAT",
        DataType::Float64 => "DOUBLE",
        DataType::Binary | DataType::LargeBinary => "BLOB",
        DataType::Date32 => "DATE",
        DataType::Date64 | DataType::Timestamp(..) => "DATETIME",
        _ => "TEXT",
    }
}

impl GeoPackageSink {
    /// Starts writing a GeoPackage of `layout` at `path`.
    pub fn create(path: impl AsRef<Path>, layout: &SinkLayout) -> Result<GeoPackageSink> {
        let path = path.as_ref();
        super::super::check_flat_columns(layout, path, "a GeoPackage column")?;
        let mut out = AtomicFile::create(path)?;
        let temp = out.writer().get_ref().path().to_path_buf();
        let failed = |e: rusqlite::Error| Error::Unwritable {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let db = Connection::open(&temp).map_err(failed)?;
        let table = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("layer")
            .to_string();
        let fields = layout.schema.fields();
        let geometry_name = fields[layout.geometry_column].name().clone();
        let mut id_column = "fid".to_string();
        while fields
            .iter()
            .any(|f| f.name().eq_ignore_ascii_case(&id_column))
        {
            id_column.push('_');
        }
        let (srs_id, organization, wkt) = match &layout.crs {
            None => (-1, "NONE", "undefined".to_string()),
            Some(crs) => {
                let wkt = crs.to_wkt1()?;
                match crs.to_epsg() {
                    Some(code) => (i64::from(code), "EPSG", wkt),
                    None => (100_000, "NONE", wkt),
                }
            }
        };
        let mut definitions = vec![format!(
            "{} INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL",
            quoted(&id_column)
        )];
        let mut columns = Vec::new();
        for (i, field) in fields.iter().enumerate() {
            if i == layout.geometry_column {
                definitions.push(format!("{} GEOMETRY", quoted(&geometry_name)));
            } else {
                definitions.push(format!(
                    "{} {}",
                    quoted(field.name()),
                    sql_type(field.data_type())
                ));
                columns.push(i);
            }
        }
        let rtree = quoted(&format!("rtree_{table}_{geometry_name}"));
        let schema = format!(
            "PRAGMA application_id = 1196444487;
             PRAGMA user_version = 10400;
             PRAGMA journal_mode = OFF;
             PRAGMA synchronous = OFF;
             CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY,
               organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
               definition TEXT NOT NULL, description TEXT);
             CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
               identifier TEXT UNIQUE, description TEXT DEFAULT '',
               last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
               min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
               CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
             CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
               geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
               CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
               CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
               CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
             CREATE TABLE gpkg_extensions (table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL,
               definition TEXT NOT NULL, scope TEXT NOT NULL,
               CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
             INSERT INTO gpkg_spatial_ref_sys VALUES
               ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
               ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system');
             CREATE TABLE {} ({});
             CREATE VIRTUAL TABLE {rtree} USING rtree(id, minx, maxx, miny, maxy);",
            quoted(&table),
            definitions.join(", ")
        );
        db.execute_batch(&schema).map_err(failed)?;
        if srs_id > 0 {
            db.execute(
                "INSERT INTO gpkg_spatial_ref_sys VALUES (?1, ?2, ?3, ?4, ?5, NULL)",
                params![
                    layout.crs.as_ref().map(|c| c.definition().to_string()),
                    srs_id,
                    organization,
                    srs_id,
                    wkt
                ],
            )
            .map_err(failed)?;
        }
        let mut names: Vec<String> = columns.iter().map(|&i| quoted(fields[i].name())).collect();
        names.push(quoted(&geometry_name));
        let slots: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
        let insert = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            quoted(&table),
            names.join(", "),
            slots.join(", ")
        );
        Ok(GeoPackageSink {
            out,
            db,
            table,
            geometry_name,
            id_column,
            insert,
            columns,
            srs_id,
            extent: None,
            types: BTreeSet::new(),
            rows: 0,
        })
    }

    fn rtree(&self) -> String {
        format!("rtree_{}_{}", self.table, self.geometry_name)
    }
}

/// The SQLite value of `flat`.
fn sql_value(flat: Flat<'_>) -> std::result::Result<Value, String> {
    Ok(match flat {
        Flat::Null => Value::Null,
        Flat::Bool(b) => Value::Integer(i64::from(b)),
        Flat::Int(v) => Value::Integer(v),
        Flat::UInt(v) => Value::Integer(
            i64::try_from(v).map_err(|_| format!("{v} does not fit a GeoPackage INTEGER"))?,
        ),
        Flat::Float(v) => Value::Real(v),
        Flat::Text(t) => Value::Text(t.into_owned()),
        Flat::Bytes(b) => Value::Blob(b.to_vec()),
    })
}

/// The geometry type name of a WKB geometry (ISO or extended codes).
fn wkb_type_name(wkb: &[u8]) -> &'static str {
    let code = match wkb.get(..5) {
        Some([0, a, b, c, d]) => u32::from_be_bytes([*a, *b, *c, *d]),
        Some([1, a, b, c, d]) => u32::from_le_bytes([*a, *b, *c, *d]),
        _ => 0,
    };
    match (code & 0x0fff_ffff) % 1000 {
        1 => "POINT",
        2 => "LINESTRING",
        3 => "POLYGON",
        4 => "MULTIPOINT",
        5 => "MULTILINESTRING",
        6 => "MULTIPOLYGON",
        7 => "GEOMETRYCOLLECTION",
        _ => "GEOMETRY",
    }
}

impl PartitionSink for GeoPackageSink {
    fn write(&mut self, partitions: &[Partition]) -> Result<()> {
        let target = self.out.target().to_path_buf();
        let sql = |record: u64| {
            let target = target.clone();
            move |e: rusqlite::Error| Error::format(target, Some(record), e.to_string())
        };
        let transaction = self.db.unchecked_transaction().map_err(sql(self.rows))?;
        {
            let mut insert = transaction
                .prepare_cached(&self.insert)
                .map_err(sql(self.rows))?;
            let mut index = transaction
                .prepare_cached(&format!(
                    "INSERT INTO {} VALUES (?1, ?2, ?3, ?4, ?5)",
                    quoted(&self.rtree())
                ))
                .map_err(sql(self.rows))?;
            for p in partitions {
                let batch = p.batch();
                let wkbs = p.geometry_array();
                for r in 0..p.len() {
                    let record = self.rows + r as u64;
                    let mut values = Vec::with_capacity(self.columns.len() + 1);
                    for &c in &self.columns {
                        let flat = flat_value(batch.column(c).as_ref(), r)?;
                        values.push(sql_value(flat).map_err(|m| {
                            Error::format(&target, Some(record), format!("column {c}: {m}"))
                        })?);
                    }
                    let wkb = (!arrow_array::Array::is_null(wkbs, r)).then(|| wkbs.value(r));
                    let envelope = wkb.and_then(wkb_envelope);
                    match wkb {
                        None => values.push(Value::Null),
                        Some(wkb) => {
                            let type_name = wkb_type_name(wkb);
                            self.types.insert(type_name);
                            let boxed = match envelope {
                                Some(e) if type_name != "POINT" => {
                                    vec![e.min().x, e.max().x, e.min().y, e.max().y]
                                }
                                _ => Vec::new(),
                            };
                            let blob = Wkb(wkb)
                                .to_gpkg_wkb(CoordDimensions::xy(), Some(self.srs_id as i32), boxed)
                                .map_err(|e| Error::format(&target, Some(record), e.to_string()))?;
                            values.push(Value::Blob(blob));
                        }
                    }
                    insert
                        .execute(rusqlite::params_from_iter(values))
                        .map_err(sql(record))?;
                    if let Some(e) = envelope {
                        let id = transaction.last_insert_rowid();
                        index
                            .execute(params![id, e.min().x, e.max().x, e.min().y, e.max().y])
                            .map_err(sql(record))?;
                        self.extent = geometry::merge_bounds(self.extent, Some(e));
                    }
                }
                self.rows += p.len() as u64;
            }
        }
        transaction.commit().map_err(sql(self.rows))
    }

    fn finish(self: Box<Self>) -> Result<()> {
        let target = self.out.target().to_path_buf();
        let failed = |e: rusqlite::Error| Error::Unwritable {
            path: target.clone(),
            message: e.to_string(),
        };
        let type_name = match self.types.len() {
            1 => self.types.first().copied().unwrap_or("GEOMETRY"),
            _ => "GEOMETRY",
        };
        let (t, g, id) = (
            quoted(&self.table),
            quoted(&self.geometry_name),
            quoted(&self.id_column),
        );
        let rtree = self.rtree();
        let r = quoted(&rtree);
        let (min_x, min_y, max_x, max_y) = match self.extent {
            Some(e) => (
                Some(e.min().x),
                Some(e.min().y),
                Some(e.max().x),
                Some(e.max().y),
            ),
            None => (None, None, None, None),
        };
        self.db
            .execute(
                "INSERT INTO gpkg_contents (table_name, data_type, identifier, min_x, min_y, max_x, max_y, srs_id)
                 VALUES (?1, 'features', ?1, ?2, ?3, ?4, ?5, ?6)",
                params![self.table, min_x, min_y, max_x, max_y, self.srs_id],
            )
            .map_err(failed)?;
        self.db
            .execute(
                "INSERT INTO gpkg_geometry_columns VALUES (?1, ?2, ?3, ?4, 0, 0)",
                params![self.table, self.geometry_name, type_name, self.srs_id],
            )
            .map_err(failed)?;
        self.db
            .execute(
                "INSERT INTO gpkg_extensions VALUES (?1, ?2, 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
                params![self.table, self.geometry_name],
            )
            .map_err(failed)?;
        // Created last: they call GeoPackage SQL functions (ST_MinX, ...) that readers
        // such as GDAL register and plain SQLite does not have.
        let triggers = format!(
            "CREATE TRIGGER {ins} AFTER INSERT ON {t} WHEN (new.{g} NOT NULL AND NOT ST_IsEmpty(NEW.{g}))
             BEGIN INSERT OR REPLACE INTO {r} VALUES (NEW.{id}, ST_MinX(NEW.{g}), ST_MaxX(NEW.{g}), ST_MinY(NEW.{g}), ST_MaxY(NEW.{g})); END;
             CREATE TRIGGER {upd} AFTER UPDATE ON {t}
             BEGIN DELETE FROM {r} WHERE id = OLD.{id};
               INSERT INTO {r} SELECT NEW.{id}, ST_MinX(NEW.{g}), ST_MaxX(NEW.{g}), ST_MinY(NEW.{g}), ST_MaxY(NEW.{g})
               WHERE NEW.{g} NOT NULL AND NOT ST_IsEmpty(NEW.{g}); END;
             CREATE TRIGGER {del} AFTER DELETE ON {t} WHEN old.{g} NOT NULL
             BEGIN DELETE FROM {r} WHERE id = OLD.{id}; END;",
            ins = quoted(&format!("{rtree}_insert")),
            upd = quoted(&format!("{rtree}_update")),
            del = quoted(&format!("{rtree}_delete")),
        );
        self.db.execute_batch(&triggers).map_err(failed)?;
        let GeoPackageSink { out, db, .. } = *self;
        db.close().map_err(|(_, e)| failed(e))?;
        out.commit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wkb_type_names_come_from_either_byte_order() {
        let point = geometry::to_wkb(&geo::Geometry::Point(geo::Point::new(1.0, 2.0)));
        assert_eq!(wkb_type_name(&point), "POINT");
        assert_eq!(wkb_type_name(&[0, 0, 0, 0, 6]), "MULTIPOLYGON");
        assert_eq!(wkb_type_name(&[1, 0xEB, 0x03, 0, 0]), "POLYGON"); // 1003, Z
        assert_eq!(wkb_type_name(&[]), "GEOMETRY");
        assert_eq!(sql_value(Flat::UInt(u64::MAX)).map_err(|_| ()), Err(()));
    }
}
