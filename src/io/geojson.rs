//! GeoJSON feature collections.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Float64Builder, Int64Builder, StringBuilder};
use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use serde_json::{Map, Value};

use crate::crs::Crs;
use crate::error::{Error, Result};
use crate::io::atomic::AtomicFile;
use crate::io::guard::guarded;
use crate::io::source::{
    read_source, write_frame, PartitionMeta, PartitionSink, PartitionSource, SinkLayout,
};
use crate::io::{date_from_days, ValueKind};
use crate::partition::Partition;
use crate::{geometry, GeoFrame, DEFAULT_GEOMETRY_COLUMN};

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Null,
    Int,
    Float,
    Bool,
    Text,
}

fn kind_of(v: &Value) -> Kind {
    match v {
        Value::Null => Kind::Null,
        Value::Bool(_) => Kind::Bool,
        Value::Number(n) if n.is_i64() => Kind::Int,
        Value::Number(_) => Kind::Float,
        _ => Kind::Text,
    }
}

fn widen(a: Kind, b: Kind) -> Kind {
    match (a, b) {
        (Kind::Null, k) | (k, Kind::Null) => k,
        (a, b) if a == b => a,
        (Kind::Int, Kind::Float) | (Kind::Float, Kind::Int) => Kind::Float,
        _ => Kind::Text,
    }
}

/// Reads a GeoJSON `FeatureCollection` (or a single `Feature`) into a frame of
/// `rows_per_partition` rows per partition, decoded in parallel (see [`GeoJsonSource`]).
pub fn read_geojson(path: impl AsRef<Path>, rows_per_partition: usize) -> Result<GeoFrame> {
    read_source(&GeoJsonSource::open(path, rows_per_partition)?)
}

/// A GeoJSON `FeatureCollection` (or a single `Feature`) as a [`PartitionSource`].
/// Opening parses the document once, to infer the columns and to bound each partition
/// from its coordinates; each partition's geometries and properties are decoded into Arrow
/// when it is read. Property columns appear in order of first use; their types are inferred
/// over all features (integers, numbers, booleans, text; mixed or nested values become JSON
/// text). The CRS is EPSG:4326 unless a legacy `crs` member names another EPSG code.
///
/// ```
/// use geoframe::io::{GeoJsonSource, PartitionSource};
/// let path = std::env::temp_dir().join("geoframe_geojson_source_doc.geojson");
/// std::fs::write(&path, r#"{"type": "FeatureCollection", "features": [
///   {"type": "Feature", "properties": {"n": 1}, "geometry": {"type": "Point", "coordinates": [1, 2]}},
///   {"type": "Feature", "properties": {"n": 2}, "geometry": {"type": "Point", "coordinates": [5, 6]}}]}"#)?;
/// let source = GeoJsonSource::open(&path, 1)?;
/// let meta = source.partitions();
/// assert_eq!(meta.len(), 2);
/// assert_eq!(meta[1].bounds.unwrap().min().x, 5.0); // known before the partition is read
/// assert_eq!(source.read_partition(1)?.len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct GeoJsonSource {
    path: PathBuf,
    features: Vec<Value>,
    names: Vec<String>,
    kinds: Vec<Kind>,
    schema: SchemaRef,
    crs: Crs,
    rows_per_partition: usize,
}

impl GeoJsonSource {
    /// Parses `path` and infers its columns; `rows_per_partition` rows per partition.
    pub fn open(path: impl AsRef<Path>, rows_per_partition: usize) -> Result<GeoJsonSource> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let mut root: Value = serde_json::from_str(&text)
            .map_err(|e| Error::format(path, None, format!("not JSON: {e}")))?;
        drop(text);
        let crs = match root["crs"]["properties"]["name"].as_str() {
            Some(name) => {
                let code = name.rsplit(':').next().and_then(|c| c.parse::<u32>().ok());
                match code {
                    Some(84) | None if name.contains("CRS84") => Crs::epsg(4326),
                    Some(c) => Crs::epsg(c),
                    None => Crs::from_user_input(name)?,
                }
            }
            None => Crs::epsg(4326),
        };
        let features: Vec<Value> = match root["type"].as_str() {
            Some("FeatureCollection") => match root["features"].take() {
                Value::Array(features) => features,
                _ => return Err(Error::format(path, None, "`features` is not an array")),
            },
            Some("Feature") => vec![root],
            other => {
                return Err(Error::format(
                    path,
                    None,
                    format!("expected a FeatureCollection or Feature, found type {other:?}"),
                ))
            }
        };
        let mut names: Vec<String> = Vec::new();
        let mut kinds: Vec<Kind> = Vec::new();
        for f in &features {
            if let Some(props) = f["properties"].as_object() {
                for (k, v) in props {
                    match names.iter().position(|n| n == k) {
                        Some(c) => kinds[c] = widen(kinds[c], kind_of(v)),
                        None => {
                            names.push(k.clone());
                            kinds.push(kind_of(v));
                        }
                    }
                }
            }
        }
        let mut fields: Vec<Field> = names
            .iter()
            .zip(&kinds)
            .map(|(name, kind)| Field::new(name, kind.data_type(), true))
            .collect();
        let mut geometry_name = DEFAULT_GEOMETRY_COLUMN.to_string();
        while names.contains(&geometry_name) {
            geometry_name.push('_');
        }
        fields.push(geometry::geometry_field(&geometry_name));
        Ok(GeoJsonSource {
            path: path.to_path_buf(),
            features,
            names,
            kinds,
            schema: Arc::new(Schema::new(fields)),
            crs,
            rows_per_partition: rows_per_partition.max(1),
        })
    }
}

impl Kind {
    fn data_type(self) -> DataType {
        match self {
            Kind::Int => DataType::Int64,
            Kind::Float => DataType::Float64,
            Kind::Bool => DataType::Boolean,
            Kind::Text | Kind::Null => DataType::Utf8,
        }
    }
}

/// Grows `acc` over every position in a GeoJSON geometry's `coordinates` (or its
/// collection's members), without building the geometry.
fn coordinate_bounds(geometry: &Value, acc: &mut geometry::BoundsFold) {
    fn walk(v: &Value, acc: &mut geometry::BoundsFold) {
        if let Value::Array(items) = v {
            match (
                items.first().and_then(Value::as_f64),
                items.get(1).and_then(Value::as_f64),
            ) {
                (Some(x), Some(y)) => acc.point(x, y),
                _ => items.iter().for_each(|item| walk(item, acc)),
            }
        }
    }
    walk(&geometry["coordinates"], acc);
    if let Some(members) = geometry["geometries"].as_array() {
        members.iter().for_each(|g| coordinate_bounds(g, acc));
    }
}

impl PartitionSource for GeoJsonSource {
    fn describe(&self) -> String {
        format!("geojson {}", self.path.display())
    }
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }
    fn geometry_column(&self) -> usize {
        self.names.len()
    }
    fn crs(&self) -> Option<&Crs> {
        Some(&self.crs)
    }
    fn partitions(&self) -> Vec<PartitionMeta> {
        self.features
            .chunks(self.rows_per_partition)
            .map(|features| {
                let mut bounds = geometry::BoundsFold::new();
                for f in features {
                    coordinate_bounds(&f["geometry"], &mut bounds);
                }
                PartitionMeta {
                    rows: features.len() as u64,
                    bounds: bounds.finish(),
                }
            })
            .collect()
    }
    fn read_partition(&self, k: usize) -> Result<Partition> {
        guarded(&self.path, &format!("partition {k}"), || {
            self.read_features(k)
        })
    }
}

impl GeoJsonSource {
    fn read_features<'a>(&'a self, k: usize) -> Result<Partition> {
        let path = &self.path;
        let first = k
            .saturating_mul(self.rows_per_partition)
            .min(self.features.len());
        let end = (first + self.rows_per_partition).min(self.features.len());
        let features = &self.features[first..end];
        let mut geometries = Vec::with_capacity(features.len());
        for (i, f) in features.iter().enumerate() {
            let record = Some((first + i) as u64);
            geometries.push(match &f["geometry"] {
                Value::Null => None,
                g => {
                    let parsed: geojson::Geometry = serde_json::from_value(g.clone())
                        .map_err(|e| Error::format(path, record, format!("bad geometry: {e}")))?;
                    let g: geo::Geometry = parsed.try_into().map_err(|e: geojson::Error| {
                        Error::format(path, record, format!("bad geometry: {e}"))
                    })?;
                    Some(g)
                }
            });
        }
        static NULL: Value = Value::Null;
        let value =
            |f: &'a Value, name: &str| -> &'a Value { f["properties"].get(name).unwrap_or(&NULL) };
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.names.len() + 1);
        for (name, kind) in self.names.iter().zip(&self.kinds) {
            let n = features.len();
            columns.push(match kind {
                Kind::Int => {
                    let mut b = Int64Builder::with_capacity(n);
                    features
                        .iter()
                        .for_each(|f| b.append_option(value(f, name).as_i64()));
                    Arc::new(b.finish())
                }
                Kind::Float => {
                    let mut b = Float64Builder::with_capacity(n);
                    features
                        .iter()
                        .for_each(|f| b.append_option(value(f, name).as_f64()));
                    Arc::new(b.finish())
                }
                Kind::Bool => {
                    let mut b = BooleanBuilder::with_capacity(n);
                    features
                        .iter()
                        .for_each(|f| b.append_option(value(f, name).as_bool()));
                    Arc::new(b.finish())
                }
                Kind::Text | Kind::Null => {
                    let mut b = StringBuilder::new();
                    for f in features {
                        match value(f, name) {
                            Value::Null => b.append_null(),
                            Value::String(s) => b.append_value(s),
                            other => b.append_value(other.to_string()),
                        }
                    }
                    Arc::new(b.finish())
                }
            });
        }
        columns.push(Arc::new(geometry::encode_array(
            geometries.iter().map(Option::as_ref),
        )));
        let batch = RecordBatch::try_new(self.schema.clone(), columns)?;
        Partition::new(batch, self.names.len(), first as u64).map_err(|e| e.in_file(path))
    }
}

fn json_value(array: &dyn Array, i: usize) -> Result<Value> {
    use arrow_array::types::{Date32Type, Float64Type, Int64Type};
    if array.is_null(i) {
        return Ok(Value::Null);
    }
    Ok(match ValueKind::of(array.data_type()) {
        ValueKind::Bool => Value::Bool(array.as_boolean().value(i)),
        ValueKind::Int => {
            let a = arrow_cast::cast(&array.slice(i, 1), &DataType::Int64)?;
            Value::from(a.as_primitive::<Int64Type>().value(0))
        }
        ValueKind::Float => {
            let a = arrow_cast::cast(&array.slice(i, 1), &DataType::Float64)?;
            serde_json::Number::from_f64(a.as_primitive::<Float64Type>().value(0))
                .map_or(Value::Null, Value::Number)
        }
        ValueKind::Date => date_from_days(array.as_primitive::<Date32Type>().value(i))
            .map_or(Value::Null, |d| {
                Value::String(d.format("%Y-%m-%d").to_string())
            }),
        ValueKind::Text if array.data_type() == &DataType::Utf8 => {
            Value::String(array.as_string::<i32>().value(i).to_string())
        }
        ValueKind::Text => {
            let a = arrow_cast::cast(&array.slice(i, 1), &DataType::Utf8)?;
            Value::String(a.as_string::<i32>().value(0).to_string())
        }
    })
}

/// Writes `frame` as a GeoJSON `FeatureCollection` through a [`GeoJsonSink`].
pub fn write_geojson(frame: &GeoFrame, path: impl AsRef<Path>) -> Result<()> {
    write_frame(frame, GeoJsonSink::create(path, &SinkLayout::of(frame))?)
}

/// A GeoJSON `FeatureCollection` being written, attributes as properties; the file appears
/// under its name only when the sink finishes. Frames in a CRS other than EPSG:4326 get a
/// legacy `crs` member naming their EPSG code (RFC 7946 readers expect
/// longitude/latitude: reproject with [`GeoFrame::to_crs`] first).
pub struct GeoJsonSink {
    out: AtomicFile,
    geometry_column: usize,
    schema: SchemaRef,
    /// Rows written so far, to number rows in errors.
    rows: u64,
}

impl GeoJsonSink {
    /// Starts writing a GeoJSON file of `schema` (its column `geometry_column` holds WKB)
    /// at `path`, through a temporary file beside it.
    pub fn create(path: impl AsRef<Path>, layout: &SinkLayout) -> Result<GeoJsonSink> {
        super::check_flat_columns(layout, path.as_ref(), "a GeoJSON property")?;
        let mut out = AtomicFile::create(path.as_ref())?;
        let mut head = String::from("{\"type\":\"FeatureCollection\",");
        if let Some(code) = layout
            .crs
            .as_ref()
            .and_then(Crs::to_epsg)
            .filter(|&c| c != 4326)
        {
            head.push_str(&format!(
                "\"crs\":{{\"type\":\"name\",\"properties\":{{\"name\":\"urn:ogc:def:crs:EPSG::{code}\"}}}},"
            ));
        }
        head.push_str("\"features\":[\n");
        out.write_all(head.as_bytes())?;
        Ok(GeoJsonSink {
            out,
            geometry_column: layout.geometry_column,
            schema: layout.schema.clone(),
            rows: 0,
        })
    }
}

impl PartitionSink for GeoJsonSink {
    fn write(&mut self, partitions: &[Partition]) -> Result<()> {
        let target = self.out.target().to_path_buf();
        for p in partitions {
            let geometries = p.geometries(self.rows)?;
            let batch = p.batch();
            for (r, g) in geometries.iter().enumerate() {
                let mut props = Map::new();
                for (c, field) in self.schema.fields().iter().enumerate() {
                    if c != self.geometry_column {
                        props.insert(
                            field.name().clone(),
                            json_value(batch.column(c).as_ref(), r)?,
                        );
                    }
                }
                let geometry = match g {
                    Some(g) => {
                        serde_json::to_value(geojson::Geometry::new(geojson::Value::from(g)))
                            .map_err(|e| {
                                Error::format(
                                    &target,
                                    Some(self.rows + r as u64),
                                    format!("GeoJSON geometry: {e}"),
                                )
                            })?
                    }
                    None => Value::Null,
                };
                let feature = serde_json::json!({"type": "Feature", "properties": props, "geometry": geometry});
                if self.rows + r as u64 > 0 {
                    self.out.write_all(b",\n")?;
                }
                serde_json::to_writer(self.out.writer(), &feature)
                    .map_err(|e| Error::io(&target, e.into()))?;
            }
            self.rows += p.len() as u64;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.out.write_all(b"\n]}\n")?;
        self.out.commit()
    }
}
