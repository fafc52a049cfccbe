//! GeoJSON feature collections.

use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Float64Builder, Int64Builder, StringBuilder};
use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use serde_json::{Map, Value};

use crate::crs::Crs;
use crate::error::{Error, Result};
use crate::io::atomic::AtomicFile;
use crate::io::{date_from_days, ValueKind};
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

/// Reads a GeoJSON `FeatureCollection` (or a single `Feature`). Property columns appear in
/// order of first use; their types are inferred over all features (integers, numbers,
/// booleans, text; mixed or nested values become JSON text). The CRS is EPSG:4326 unless a
/// legacy `crs` member names another EPSG code.
pub fn read_geojson(path: impl AsRef<Path>, rows_per_partition: usize) -> Result<GeoFrame> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let root: Value = serde_json::from_str(&text)
        .map_err(|e| Error::format(path, None, format!("not JSON: {e}")))?;
    let features: Vec<&Value> = match root["type"].as_str() {
        Some("FeatureCollection") => root["features"]
            .as_array()
            .ok_or_else(|| Error::format(path, None, "`features` is not an array"))?
            .iter()
            .collect(),
        Some("Feature") => vec![&root],
        other => {
            return Err(Error::format(
                path,
                None,
                format!("expected a FeatureCollection or Feature, found type {other:?}"),
            ))
        }
    };
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

    let mut names: Vec<String> = Vec::new();
    let mut kinds: Vec<Kind> = Vec::new();
    let mut geometries = Vec::with_capacity(features.len());
    for (i, f) in features.iter().enumerate() {
        let g = match &f["geometry"] {
            Value::Null => None,
            g => {
                let parsed: geojson::Geometry = serde_json::from_value(g.clone()).map_err(|e| {
                    Error::format(path, Some(i as u64), format!("bad geometry: {e}"))
                })?;
                let g: geo::Geometry = parsed.try_into().map_err(|e: geojson::Error| {
                    Error::format(path, Some(i as u64), format!("bad geometry: {e}"))
                })?;
                Some(g)
            }
        };
        geometries.push(g);
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
    let mut fields: Vec<Field> = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    let value = |i: usize, name: &str| features[i]["properties"].get(name).unwrap_or(&Value::Null);
    for (name, kind) in names.iter().zip(&kinds) {
        let n = features.len();
        let (dt, array): (DataType, ArrayRef) = match kind {
            Kind::Int => {
                let mut b = Int64Builder::with_capacity(n);
                (0..n).for_each(|i| b.append_option(value(i, name).as_i64()));
                (DataType::Int64, Arc::new(b.finish()))
            }
            Kind::Float => {
                let mut b = Float64Builder::with_capacity(n);
                (0..n).for_each(|i| b.append_option(value(i, name).as_f64()));
                (DataType::Float64, Arc::new(b.finish()))
            }
            Kind::Bool => {
                let mut b = BooleanBuilder::with_capacity(n);
                (0..n).for_each(|i| b.append_option(value(i, name).as_bool()));
                (DataType::Boolean, Arc::new(b.finish()))
            }
            Kind::Text | Kind::Null => {
                let mut b = StringBuilder::new();
                for i in 0..n {
                    match value(i, name) {
                        Value::Null => b.append_null(),
                        Value::String(s) => b.append_value(s),
                        other => b.append_value(other.to_string()),
                    }
                }
                (DataType::Utf8, Arc::new(b.finish()))
            }
        };
        fields.push(Field::new(name, dt, true));
        columns.push(array);
    }
    let mut geometry_name = DEFAULT_GEOMETRY_COLUMN.to_string();
    while names.contains(&geometry_name) {
        geometry_name.push('_');
    }
    fields.push(geometry::geometry_field(&geometry_name));
    columns.push(Arc::new(geometry::encode_array(
        geometries.iter().map(Option::as_ref),
    )));
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    let frame = GeoFrame::from_record_batches(schema, vec![batch], &geometry_name, Some(crs))
        .map_err(|e| e.in_file(path))?;
    if frame.len() > rows_per_partition.max(1) {
        frame.repartition(rows_per_partition.max(1))
    } else {
        Ok(frame)
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

/// Writes `frame` as a GeoJSON `FeatureCollection`, attributes as properties. Frames in a
/// CRS other than EPSG:4326 get a legacy `crs` member naming their EPSG code (RFC 7946
/// readers expect longitude/latitude: reproject with [`GeoFrame::to_crs`] first).
pub fn write_geojson(frame: &GeoFrame, path: impl AsRef<Path>) -> Result<()> {
    use std::io::Write;
    let path = path.as_ref();
    let mut out = AtomicFile::create(path)?;
    let io = |e: std::io::Error| Error::io(path, e);
    let mut head = String::from("{\"type\":\"FeatureCollection\",");
    if let Some(code) = frame.crs().and_then(Crs::to_epsg).filter(|&c| c != 4326) {
        head.push_str(&format!(
            "\"crs\":{{\"type\":\"name\",\"properties\":{{\"name\":\"urn:ogc:def:crs:EPSG::{code}\"}}}},"
        ));
    }
    head.push_str("\"features\":[\n");
    out.write_all(head.as_bytes())?;
    let geometry_index = frame.geometry_column_index();
    let mut first = true;
    for (p, offset) in frame.partitions().iter().zip(frame.partition_offsets()) {
        let geometries = p.geometries(offset)?;
        let batch = p.batch();
        for (r, g) in geometries.iter().enumerate() {
            let mut props = Map::new();
            for (c, field) in batch.schema().fields().iter().enumerate() {
                if c != geometry_index {
                    props.insert(
                        field.name().clone(),
                        json_value(batch.column(c).as_ref(), r)?,
                    );
                }
            }
            let geometry = match g {
                Some(g) => serde_json::to_value(geojson::Geometry::new(geojson::Value::from(g)))
                    .map_err(|e| Error::InvalidArgument(format!("GeoJSON geometry: {e}")))?,
                None => Value::Null,
            };
            let feature =
                serde_json::json!({"type": "Feature", "properties": props, "geometry": geometry});
            if !first {
                out.write_all(b",\n")?;
            }
            first = false;
            serde_json::to_writer(out.writer(), &feature).map_err(|e| io(e.into()))?;
        }
    }
    out.write_all(b"\n]}\n")?;
    out.writer().flush().map_err(io)?;
    out.commit()
}
