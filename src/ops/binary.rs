//! Predicates of each row against one geometry (GeoPandas' `frame.intersects(geom)` and
//! friends), pruned by partition bounds: a partition whose bounds miss the geometry's box
//! answers `false` for every row without decoding anything.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, BooleanArray, RecordBatch};
use arrow_schema::{DataType, Field, FieldRef, Schema};
use geo::{Geometry, Intersects, Rect};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::measure::Measure;
use crate::error::{CollectInOrder, Result};
use crate::join::Predicate;
use crate::partition::Partition;
use crate::{geometry, GeoFrame};

fn grow(r: Rect, by: f64) -> Rect {
    Rect::new(
        (r.min().x - by, r.min().y - by),
        (r.max().x + by, r.max().y + by),
    )
}

/// `row <predicate> other` for each row of one partition (`other_box`: `other`'s box);
/// `false` for null rows, and for every row of a partition whose bounds miss the box.
pub(crate) fn relate_rows(
    p: &Partition,
    first_row: u64,
    predicate: Predicate,
    other: &Geometry,
    other_box: Rect,
) -> Result<Vec<bool>> {
    let reach = predicate.reach();
    let meets = p
        .bounds()
        .is_some_and(|b| grow(b, reach).intersects(&other_box));
    if !meets {
        return Ok(vec![false; p.len()]);
    }
    Ok(p.geometries(first_row)?
        .iter()
        .map(|g| {
            g.as_ref().is_some_and(|g| {
                geometry::bounds(g).is_some_and(|b| grow(b, reach).intersects(&other_box))
                    && predicate.test(g, other)
            })
        })
        .collect())
}

/// A column computed per row from the geometry, as a task of a `LazyFrame`'s graph
/// (`LazyFrame::with_column_op`). Plain data, so plans stay serializable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ColumnOp {
    /// A [`Measure`] (Float64).
    Measure(Measure),
    /// Whether `row <predicate> geometry` (Boolean), the geometry as WKB.
    Relate {
        /// The predicate.
        predicate: Predicate,
        /// The geometry every row is tested against, as WKB.
        geometry: Vec<u8>,
    },
}

impl ColumnOp {
    /// The Arrow type of the column.
    pub fn data_type(&self) -> DataType {
        match self {
            ColumnOp::Measure(_) => DataType::Float64,
            ColumnOp::Relate { .. } => DataType::Boolean,
        }
    }

    /// One partition with the column `name` appended.
    pub(crate) fn apply(&self, name: &str, p: &Partition, first_row: u64) -> Result<Partition> {
        let column: ArrayRef = match self {
            ColumnOp::Measure(m) => Arc::new(m.of_partition(p, first_row)?),
            ColumnOp::Relate {
                predicate,
                geometry,
            } => {
                let other = geometry::from_wkb(geometry, 0)?;
                let answers = match geometry::bounds(&other) {
                    Some(other_box) => relate_rows(p, first_row, *predicate, &other, other_box)?,
                    None => vec![false; p.len()],
                };
                Arc::new(BooleanArray::from(answers))
            }
        };
        let schema = p.batch().schema();
        let mut fields: Vec<FieldRef> = schema.fields().iter().cloned().collect();
        fields.push(Arc::new(Field::new(name, self.data_type(), true)));
        let schema = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
        let mut columns = p.batch().columns().to_vec();
        columns.push(column);
        let batch = RecordBatch::try_new(schema, columns)?;
        Ok(Partition::with_bounds(
            batch,
            p.geometry_column_index(),
            p.bounds(),
        ))
    }
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
        predicate.check()?;
        let Some(other_box) = geometry::bounds(other) else {
            // An empty geometry meets nothing.
            return Ok(BooleanArray::from(vec![false; self.len()]));
        };
        let offsets = self.partition_offsets();
        let parts: Vec<Vec<bool>> = self
            .partitions()
            .par_iter()
            .zip(offsets)
            .map(|(p, first)| relate_rows(p, first, predicate, other, other_box))
            .collect_in_order()?;
        Ok(BooleanArray::from(
            parts.into_iter().flatten().collect::<Vec<bool>>(),
        ))
    }

    /// Whether each row shares no point with `other` (`false` for null geometries).
    pub fn disjoint(&self, other: &Geometry) -> Result<BooleanArray> {
        let meets = self.relate_to(Predicate::Intersects, other)?;
        let present = self.partitions().iter().flat_map(|p| {
            let g = p.geometry_array();
            (0..g.len()).map(move |i| g.is_valid(i))
        });
        Ok(meets
            .values()
            .iter()
            .zip(present)
            .map(|(meets, present)| Some(present && !meets))
            .collect())
    }
}
