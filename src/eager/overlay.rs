//! `overlay(how="intersection")`: the pieces where the polygons of two frames overlap, one
//! row per overlapping pair, built on the partition-pair join.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Int64Array, RecordBatch};
use geo::orient::Direction;
use geo::{BooleanOps, Geometry, MultiPolygon, Orient};

use crate::error::{Error, Result};
use crate::join::{How, Predicate};
use crate::{geometry, GeoFrame};

fn polygonal(g: &Geometry) -> Option<MultiPolygon> {
    match g {
        Geometry::Polygon(p) => Some(MultiPolygon::new(vec![p.orient(Direction::Default)])),
        Geometry::MultiPolygon(m) => Some(m.orient(Direction::Default)),
        Geometry::Rect(r) => Some(MultiPolygon::new(vec![r.to_polygon()])),
        Geometry::Triangle(t) => Some(MultiPolygon::new(vec![t
            .to_polygon()
            .orient(Direction::Default)])),
        _ => None,
    }
}

/// The intersection of every pair of overlapping polygons of `left` and `right`
/// (GeoPandas' `overlay(left, right, how="intersection")` with `keep_geom_type=True`).
/// Candidate pairs come from [`GeoFrame::sjoin`] with `Intersects` (partition pairs pruned by their
/// bounds); pairs whose intersection has no area (shared edges, corners) are dropped.
/// Columns are those of the join: left's attributes, `index_left`, `index_right`, right's
/// attributes (clashing names suffixed `_left` / `_right`), and the intersection as the
/// geometry. Rows are sorted by (left row, right row).
///
/// Both frames must hold only polygons (or nulls). Invalid polygons are handled as in
/// [`GeoFrame::dissolve`]: rings are oriented and overlaps counted by winding.
///
/// ```
/// use geo::{Geometry, Rect};
/// use geoframe::{overlay_intersection, GeoFrame};
/// let a: Geometry = Rect::new((0., 0.), (2., 2.)).to_polygon().into();
/// let b: Geometry = Rect::new((1., 1.), (3., 3.)).to_polygon().into();
/// let left = GeoFrame::from_geometries(vec![a], None)?;
/// let right = GeoFrame::from_geometries(vec![b], None)?;
/// let pieces = overlay_intersection(&left, &right)?;
/// assert_eq!(pieces.area()?.value(0), 1.0);
/// # Ok::<(), geoframe::Error>(())
/// ```
pub fn overlay_intersection(left: &GeoFrame, right: &GeoFrame) -> Result<GeoFrame> {
    let right_polygons: Vec<Option<MultiPolygon>> = crate::ops::per_row(right, |g, row| {
        polygonal(g).ok_or_else(|| not_polygonal(row, g, "right"))
    })?;
    let joined = left.sjoin(right, How::Inner, Predicate::Intersects)?;
    let schema = joined.schema().clone();
    let gcol = joined.geometry_column_index();
    let right_index = schema.index_of("index_right")?;
    let batches = joined.map_partitions(|p, first| {
        let rights = p
            .batch()
            .column(right_index)
            .as_any()
            .downcast_ref::<Int64Array>()
            .ok_or_else(|| Error::Internal("index_right is not Int64".into()))?
            .clone();
        let mut keep = Vec::new();
        let mut pieces = Vec::new();
        for (i, g) in p.geometries(first)?.into_iter().enumerate() {
            let Some(g) = g else { continue };
            let a = polygonal(&g).ok_or_else(|| not_polygonal(first + i as u64, &g, "left"))?;
            let Some(Some(b)) = right_polygons.get(rights.value(i) as usize) else {
                continue;
            };
            let piece = a.intersection(b);
            if geo::Area::unsigned_area(&piece) > 0.0 {
                keep.push(i as u64);
                pieces.push(Some(Geometry::from(piece)));
            }
        }
        let taken = arrow_select::take::take_record_batch(
            p.batch(),
            &arrow_array::UInt64Array::from(keep),
        )?;
        let mut columns: Vec<ArrayRef> = taken.columns().to_vec();
        columns[gcol] = Arc::new(geometry::encode_array(pieces.iter().map(Option::as_ref)));
        Ok(RecordBatch::try_new(schema.clone(), columns)?)
    })?;
    // Bounds are computed once, by `from_record_batches`.
    let batches: Vec<RecordBatch> = batches.into_iter().filter(|b| b.num_rows() > 0).collect();
    let name = joined.geometry_column().to_string();
    GeoFrame::from_record_batches(schema, batches, &name, joined.crs().cloned())
}

fn not_polygonal(row: u64, g: &Geometry, side: &str) -> Error {
    Error::InvalidGeometry {
        path: None,
        record: row,
        message: format!(
            "overlay needs polygons; the {side} frame has a {}",
            geometry::type_name(g)
        ),
    }
}
