//! Spatial joins, run per pair of partitions whose bounds meet.
//!
//! Candidate partition pairs come from the two frames' partition R-trees, and only those
//! pairs become tasks. Each right partition that takes part is decoded and indexed once
//! (an R-tree over its geometry boxes) and the index is shared by every pair that needs it;
//! the exact predicate from `geo` decides. Each row lives in one partition, so each row
//! pair is tested at most once and the output has no duplicates.

mod pair;
mod predicate;
mod prepared;

pub(crate) use pair::{build_index, join_pair, join_schema, merge, Indexed};
pub use predicate::Predicate;

use crate::error::Result;
use crate::plan::{ExecuteOptions, LazyFrame};
use crate::GeoFrame;

/// Which rows a join keeps, as GeoPandas' `how`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum How {
    /// Only matching pairs.
    #[default]
    Inner,
    /// Every left row: its matches, or once with nulls on the right.
    Left,
    /// Every right row: its matches, or once with nulls on the left. Rows follow the right
    /// frame and keep its geometry.
    Right,
}

/// Spatial join, as GeoPandas' `sjoin(left, right, how, predicate)`.
///
/// One output row per (left row, right row) pair with `left <predicate> right`, plus the
/// unmatched rows of the kept side for `Left` and `Right` joins. For `Inner` and `Left`,
/// rows follow the left frame: left's columns (its geometry kept), `index_left`,
/// `index_right` (row numbers in the inputs), then right's attribute columns, sorted by left
/// row then right row. For `Right`, the roles swap: right's columns, `index_left`,
/// `index_right`, left's attributes, sorted by right row then left row. Names that clash
/// get `_left` / `_right` suffixes. Both frames must have equivalent CRSs (or both none).
///
/// ```
/// use geoframe::io::{read_shapefile, ShapefileOptions};
/// use geoframe::join::{sjoin, How, Predicate};
/// let options = ShapefileOptions::default();
/// let cities = read_shapefile("data/naturalearth_cities/naturalearth_cities.shp", &options)?;
/// let countries = read_shapefile("data/naturalearth_lowres/naturalearth_lowres.shp", &options)?;
/// assert_eq!(sjoin(&cities, &countries, How::Inner, Predicate::Within)?.len(), 213);
/// // Left join: the 30 cities outside every country polygon (small islands, coasts) stay.
/// assert_eq!(sjoin(&cities, &countries, How::Left, Predicate::Within)?.len(), 243);
/// # Ok::<(), geoframe::Error>(())
/// ```
pub fn sjoin(
    left: &GeoFrame,
    right: &GeoFrame,
    how: How,
    predicate: Predicate,
) -> Result<GeoFrame> {
    LazyFrame::from(left.clone())
        .sjoin(&LazyFrame::from(right.clone()), how, predicate)?
        .collect(&ExecuteOptions::default())
        .map_err(crate::Error::into_root)
}
