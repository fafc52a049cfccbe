//! Keeping the rows whose bounding box meets a query box, as GeoPandas'
//! `read_parquet(bbox=...)` selects: the row step of `LazyFrame::filter_bbox` and of
//! `read_geoparquet_bbox`, which prune whole partitions by their bounds first.

use arrow_array::{Array, BooleanArray};
use geo::{Intersects, Rect};

use crate::error::Result;
use crate::geometry::wkb_envelope;
use crate::partition::Partition;

impl Partition {
    /// The rows whose geometry's bounding box meets `rect` (boundaries included); null
    /// and empty geometries never do. Geometries are kept whole (cutting them is `clip`).
    ///
    /// ```
    /// use geoframe::GeoFrame;
    /// let points = (0..10).map(|i| geo::Geometry::Point(geo::Point::new(i as f64, 0.0))).collect();
    /// let frame = GeoFrame::from_geometries(points, None).unwrap();
    /// let kept = frame.partitions()[0].filter_bbox(geo::Rect::new((2.5, -1.0), (5.0, 1.0))).unwrap();
    /// assert_eq!(kept.len(), 3);
    /// ```
    pub fn filter_bbox(&self, rect: Rect) -> Result<Partition> {
        if self.bounds().is_some_and(|b| rect_contains(rect, b)) {
            return Ok(self.clone());
        }
        let array = self.geometry_array();
        let keep: BooleanArray = (0..array.len())
            .map(|i| {
                Some(
                    array.is_valid(i)
                        && wkb_envelope(array.value(i)).is_some_and(|e| e.intersects(&rect)),
                )
            })
            .collect();
        let batch = arrow_select::filter::filter_record_batch(self.batch(), &keep)?;
        Partition::from_checked_rows(batch, self.geometry_column_index())
    }
}

/// Whether `outer` holds all of `inner`.
fn rect_contains(outer: Rect, inner: Rect) -> bool {
    outer.min().x <= inner.min().x
        && outer.min().y <= inner.min().y
        && inner.max().x <= outer.max().x
        && inner.max().y <= outer.max().y
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::GeoFrame;
    use crate::geometry;
    use geo::{line_string, point, Geometry, Intersects};

    #[test]
    fn keeps_exactly_the_rows_whose_box_meets_the_query() {
        let geoms: Vec<Geometry> = (0..200)
            .map(|i| {
                let (x, y) = (f64::from(i % 20), f64::from(i / 20));
                if i % 3 == 0 {
                    Geometry::Point(point!(x: x, y: y))
                } else {
                    Geometry::LineString(line_string![(x: x, y: y), (x: x + 0.5, y: y + 1.5)])
                }
            })
            .collect();
        let frame = GeoFrame::from_geometries(geoms.clone(), None).unwrap();
        let rect = Rect::new((3.2, 2.0), (7.0, 4.4));
        let p = &frame.partitions()[0];
        let kept = p.filter_bbox(rect).unwrap();
        let expected: Vec<&Geometry> = geoms
            .iter()
            .filter(|g| geometry::bounds(g).is_some_and(|b| b.intersects(&rect)))
            .collect();
        assert!(!expected.is_empty() && expected.len() < geoms.len());
        let got = kept.geometries(0).unwrap();
        assert_eq!(got.len(), expected.len());
        for (g, e) in got.iter().zip(expected) {
            assert_eq!(g.as_ref(), Some(e));
        }
    }
}
