//! Predicates of each row against one geometry (GeoPandas' `frame.intersects(geom)` and
//! friends), pruned by partition bounds: a partition whose bounds miss the geometry's box
//! answers `false` for every row without decoding anything.

use arrow_array::{Array, BooleanArray};
use geo::{BoundingRect, Geometry, Intersects, Rect};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::join::Predicate;
use crate::GeoFrame;

fn grow(r: Rect, by: f64) -> Rect {
    Rect::new(
        (r.min().x - by, r.min().y - by),
        (r.max().x + by, r.max().y + by),
    )
}

impl GeoFrame {
    /// Whether `row <predicate> other` for each row (`false` for null geometries, as in
    /// GeoPandas). Every predicate of [`Predicate`] needs the boxes to meet (within the
    /// distance of `DWithin`), so partitions and rows whose boxes miss `other`'s are
    /// answered from their boxes.
    ///
    /// ```
    /// use geo::{point, Geometry, Rect};
    /// use geoframe::{join::Predicate, GeoFrame};
    /// let points: Vec<Geometry> = (0..10).map(|i| point!(x: i as f64, y: 0.0).into()).collect();
    /// let frame = GeoFrame::from_geometries(points, None)?.repartition(3)?;
    /// let area: Geometry = Rect::new((1.5, -1.0), (4.5, 1.0)).to_polygon().into();
    /// let inside = frame.relate_to(Predicate::Within, &area)?;
    /// assert_eq!(inside.true_count(), 3); // x = 2, 3, 4
    /// # Ok::<(), geoframe::Error>(())
    /// ```
    pub fn relate_to(&self, predicate: Predicate, other: &Geometry) -> Result<BooleanArray> {
        if let Predicate::DWithin(d) = predicate {
            if !(d >= 0.0 && d.is_finite()) {
                return Err(Error::InvalidArgument(format!(
                    "dwithin distance must be finite and >= 0, not {d}"
                )));
            }
        }
        let Some(other_box) = other.bounding_rect() else {
            // An empty geometry meets nothing.
            return Ok(BooleanArray::from(vec![false; self.len()]));
        };
        let reach = predicate.reach();
        let offsets = self.partition_offsets();
        let parts: Vec<Vec<bool>> = self
            .partitions()
            .par_iter()
            .zip(offsets)
            .map(|(p, first)| {
                let meets = p
                    .bounds()
                    .is_some_and(|b| grow(b, reach).intersects(&other_box));
                if !meets {
                    return Ok(vec![false; p.len()]);
                }
                Ok(p.geometries(first)?
                    .iter()
                    .map(|g| {
                        g.as_ref().is_some_and(|g| {
                            g.bounding_rect()
                                .is_some_and(|b| grow(b, reach).intersects(&other_box))
                                && predicate.test(g, other)
                        })
                    })
                    .collect())
            })
            .collect::<Result<_>>()?;
        Ok(BooleanArray::from(
            parts.into_iter().flatten().collect::<Vec<bool>>(),
        ))
    }

    /// Whether each row shares no point with `other` (`false` for null geometries).
    pub fn disjoint(&self, other: &Geometry) -> Result<BooleanArray> {
        let meets = self.relate_to(Predicate::Intersects, other)?;
        let geometry = self.column(self.geometry_column())?;
        Ok((0..meets.len())
            .map(|i| Some(!geometry.is_null(i) && !meets.value(i)))
            .collect())
    }
}
