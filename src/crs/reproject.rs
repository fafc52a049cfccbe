//! Reprojecting the geometries of one partition, the step shared by the eager
//! [`crate::GeoFrame::to_crs`] and the lazy plan's `to_crs` tasks.

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use geo::MapCoords;

use crate::error::{Error, Result};
use crate::geometry;
use crate::partition::Partition;

/// `partition` with every geometry transformed by `proj`; bounds are recomputed. Errors
/// name the row (`first_row` is the partition's first row in its frame).
pub(crate) fn reproject_partition(
    partition: &Partition,
    proj: &proj::Proj,
    first_row: u64,
) -> Result<Partition> {
    let geometries = partition.geometries(first_row)?;
    let mut out = Vec::with_capacity(geometries.len());
    for (i, g) in geometries.into_iter().enumerate() {
        out.push(match g {
            None => None,
            Some(g) => Some(
                g.try_map_coords(|c| {
                    let (x, y) = proj.convert((c.x, c.y))?;
                    Ok::<_, proj::ProjError>(geo::coord! { x: x, y: y })
                })
                .map_err(|e| Error::Crs(format!("row {}: {e}", first_row + i as u64)))?,
            ),
        });
    }
    let array = geometry::encode_array(out.iter().map(Option::as_ref));
    let geometry_column = partition.geometry_column_index();
    let mut columns: Vec<ArrayRef> = partition.batch().columns().to_vec();
    columns[geometry_column] = Arc::new(array);
    let batch = RecordBatch::try_new(partition.batch().schema(), columns)?;
    Partition::new(batch, geometry_column, first_row)
}
