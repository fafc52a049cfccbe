//! Clipping to a polygon mask, one partition at a time: the step shared by the eager
//! [`crate::GeoFrame::clip`] and the lazy plan's clip tasks.

use std::sync::Arc;

use arrow_array::{ArrayRef, BooleanArray, RecordBatch};
use geo::{BooleanOps, Geometry, Intersects, MultiLineString, MultiPolygon};

use crate::error::{Error, Result};
use crate::geometry;
use crate::partition::Partition;

/// The mask as a multipolygon; other geometry types cannot mask.
pub(crate) fn mask_polygons(mask: &Geometry) -> Result<MultiPolygon> {
    match mask {
        Geometry::Polygon(p) => Ok(MultiPolygon(vec![p.clone()])),
        Geometry::MultiPolygon(mp) => Ok(mp.clone()),
        Geometry::Rect(r) => Ok(MultiPolygon(vec![r.to_polygon()])),
        other => Err(Error::InvalidArgument(format!(
            "clip needs a Polygon or MultiPolygon mask, not a {}",
            geometry::type_name(other)
        ))),
    }
}

fn simplest(g: Geometry) -> Option<Geometry> {
    match g {
        Geometry::MultiPolygon(mut mp) => match mp.0.len() {
            0 => None,
            1 => mp.0.pop().map(Geometry::Polygon),
            _ => Some(Geometry::MultiPolygon(mp)),
        },
        Geometry::MultiLineString(mut ml) => {
            ml.0.retain(|l| l.0.len() > 1);
            match ml.0.len() {
                0 => None,
                1 => ml.0.pop().map(Geometry::LineString),
                _ => Some(Geometry::MultiLineString(ml)),
            }
        }
        Geometry::MultiPoint(mp) if mp.0.is_empty() => None,
        other => Some(other),
    }
}

/// The parts of one geometry inside `mask` (boundary included); `None` when nothing is.
fn clip_one(g: &Geometry, mask: &MultiPolygon) -> Option<Geometry> {
    if !g.intersects(mask) {
        return None;
    }
    match g {
        Geometry::Point(_) => Some(g.clone()),
        Geometry::MultiPoint(mp) => simplest(Geometry::MultiPoint(geo::MultiPoint(
            mp.0.iter()
                .filter(|p| p.intersects(mask))
                .copied()
                .collect(),
        ))),
        Geometry::Line(l) => simplest(Geometry::MultiLineString(mask.clip(
            &MultiLineString(vec![geo::LineString(vec![l.start, l.end])]),
            false,
        ))),
        Geometry::LineString(l) => simplest(Geometry::MultiLineString(
            mask.clip(&MultiLineString(vec![l.clone()]), false),
        )),
        Geometry::MultiLineString(ml) => simplest(Geometry::MultiLineString(mask.clip(ml, false))),
        Geometry::Polygon(p) => simplest(Geometry::MultiPolygon(
            mask.intersection(&MultiPolygon(vec![p.clone()])),
        )),
        Geometry::MultiPolygon(mp) => simplest(Geometry::MultiPolygon(mask.intersection(mp))),
        Geometry::Rect(r) => simplest(Geometry::MultiPolygon(
            mask.intersection(&MultiPolygon(vec![r.to_polygon()])),
        )),
        Geometry::Triangle(t) => simplest(Geometry::MultiPolygon(
            mask.intersection(&MultiPolygon(vec![t.to_polygon()])),
        )),
        Geometry::GeometryCollection(gc) => {
            let parts: Vec<Geometry> = gc.0.iter().filter_map(|g| clip_one(g, mask)).collect();
            (!parts.is_empty())
                .then_some(Geometry::GeometryCollection(geo::GeometryCollection(parts)))
        }
    }
}

/// Clips one partition: rows whose geometry misses the mask are dropped, the others keep
/// their attributes with the geometry cut to the mask.
pub(crate) fn clip_partition(
    p: &Partition,
    first_row: u64,
    mask: &MultiPolygon,
) -> Result<Partition> {
    let geoms = p.geometries(first_row)?;
    let clipped: Vec<Option<Geometry>> = geoms
        .iter()
        .map(|g| g.as_ref().and_then(|g| clip_one(g, mask)))
        .collect();
    let keep = BooleanArray::from(clipped.iter().map(Option::is_some).collect::<Vec<_>>());
    let kept: Vec<&Geometry> = clipped.iter().flatten().collect();
    let geometry_column = p.geometry_column_index();
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(p.batch().num_columns());
    for (c, column) in p.batch().columns().iter().enumerate() {
        if c == geometry_column {
            columns.push(Arc::new(geometry::encode_array(
                kept.iter().map(|g| Some(*g)),
            )));
        } else {
            columns.push(arrow_select::filter::filter(column.as_ref(), &keep)?);
        }
    }
    let batch = RecordBatch::try_new(p.batch().schema(), columns)?;
    Partition::new(batch, geometry_column, first_row)
}
