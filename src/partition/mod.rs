//! Partitions: a slice of a frame's rows, held as one Arrow [`RecordBatch`], with the
//! bounds of its geometries; and the R-tree over the bounds of all partitions of a frame.

pub(crate) mod external;
mod filter;
mod index;
pub mod keys;
pub(crate) mod shuffle;

pub use index::PartitionIndex;
pub use shuffle::ShuffleMethod;

use arrow_array::{BinaryArray, RecordBatch};
use geo::{CoordsIter, Geometry, Rect};

use crate::error::{Error, Result};
use crate::geometry;

/// A partition of a [`crate::GeoFrame`]: attribute columns plus one WKB geometry column, and
/// the bounds of its geometries (`None` when every geometry is null or empty).
#[derive(Debug, Clone)]
pub struct Partition {
    batch: RecordBatch,
    geometry_column: usize,
    bounds: Option<Rect>,
}

impl Partition {
    /// Wraps a batch whose column `geometry_column` holds WKB geometries, computing bounds
    /// and rejecting NaN or infinite coordinates (rows are numbered from `first_row`).
    pub fn new(batch: RecordBatch, geometry_column: usize, first_row: u64) -> Result<Partition> {
        let name = batch.schema().field(geometry_column).name().clone();
        let array = geometry::as_wkb_array(batch.column(geometry_column), &name)?;
        let bounds = checked_bounds(array, first_row)?;
        Ok(Partition {
            batch,
            geometry_column,
            bounds,
        })
    }

    /// Wraps a batch whose bounds the caller computed from the same geometries, and whose
    /// geometry column is known to be a WKB `Binary` array.
    pub(crate) fn with_bounds(
        batch: RecordBatch,
        geometry_column: usize,
        bounds: Option<Rect>,
    ) -> Partition {
        Partition {
            batch,
            geometry_column,
            bounds,
        }
    }

    /// Wraps rows taken from partitions (a slice, a filter), whose coordinates were checked
    /// when those were made: only the bounds are computed again.
    pub(crate) fn from_checked_rows(
        batch: RecordBatch,
        geometry_column: usize,
    ) -> Result<Partition> {
        let name = batch.schema().field(geometry_column).name().clone();
        let bounds = geometry::array_bounds(geometry::as_wkb_array(
            batch.column(geometry_column),
            &name,
        )?)?;
        Ok(Partition::with_bounds(batch, geometry_column, bounds))
    }

    /// The columns at `indices`, in that order, with the geometry column at
    /// `geometry_column` of the output; bounds are kept.
    pub(crate) fn project(&self, indices: &[usize], geometry_column: usize) -> Result<Partition> {
        Ok(Partition::with_bounds(
            self.batch.project(indices)?,
            geometry_column,
            self.bounds,
        ))
    }

    /// The partition's rows as an Arrow batch.
    pub fn batch(&self) -> &RecordBatch {
        &self.batch
    }

    /// Position of the geometry column in the batch.
    pub fn geometry_column_index(&self) -> usize {
        self.geometry_column
    }

    /// The bounding box of all geometries in the partition.
    pub fn bounds(&self) -> Option<Rect> {
        self.bounds
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.batch.num_rows()
    }

    /// Whether the partition has no rows.
    pub fn is_empty(&self) -> bool {
        self.batch.num_rows() == 0
    }

    /// The geometry column as WKB.
    pub fn geometry_array(&self) -> &BinaryArray {
        self.batch
            .column(self.geometry_column)
            .as_any()
            .downcast_ref::<BinaryArray>()
            .expect("checked to be a Binary array when the partition was made")
    }

    /// Decodes the geometries (nulls stay `None`); `first_row` numbers rows in errors.
    pub fn geometries(&self, first_row: u64) -> Result<Vec<Option<Geometry>>> {
        geometry::decode_array(self.geometry_array(), first_row)
    }
}

/// Bounds of a WKB array, with every coordinate checked to be finite.
pub(crate) fn checked_bounds(array: &BinaryArray, first_row: u64) -> Result<Option<Rect>> {
    use arrow_array::Array;
    let mut bounds = geometry::BoundsFold::new();
    let nulls = array.null_count() > 0;
    for i in 0..array.len() {
        if nulls && array.is_null(i) {
            continue;
        }
        let row = first_row + i as u64;
        let bytes = array.value(i);
        match geometry::point_xy(bytes) {
            Some((x, y)) => {
                if !(x.is_finite() && y.is_finite()) {
                    return Err(non_finite(row));
                }
                bounds.point(x, y);
            }
            None => {
                let g = geometry::from_wkb(bytes, row)?;
                if g.coords_iter()
                    .any(|c| !(c.x.is_finite() && c.y.is_finite()))
                {
                    return Err(non_finite(row));
                }
                bounds.rect(geometry::bounds(&g));
            }
        }
    }
    Ok(bounds.finish())
}

fn non_finite(record: u64) -> Error {
    Error::InvalidGeometry {
        path: None,
        record,
        message: "NaN or infinite coordinate".into(),
    }
}
