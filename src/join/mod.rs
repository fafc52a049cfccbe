//! Spatial joins, run per pair of partitions whose bounds meet.
//!
//! Candidate partition pairs come from the two frames' partition R-trees, and only those
//! pairs become tasks. Each right partition that takes part is decoded and indexed once
//! (an R-tree over its geometry boxes) and the index is shared by every pair that needs it;
//! the exact predicate from `geo` decides. Each row lives in one partition, so each row
//! pair is tested at most once and the output has no duplicates.

use geo::{Contains, Geometry, Intersects, Within};

use crate::error::Result;
use crate::plan::{ExecuteOptions, LazyFrame};
use crate::GeoFrame;

/// The spatial relation a joined pair must satisfy (left geometry *predicate* right).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Predicate {
    /// The geometries share at least one point.
    Intersects,
    /// Left lies inside right (no point of left outside right, interiors meet).
    Within,
    /// Right lies inside left.
    Contains,
}

impl Predicate {
    pub(crate) fn test(self, left: &Geometry, right: &Geometry) -> bool {
        match self {
            Predicate::Intersects => left.intersects(right),
            Predicate::Within => left.is_within(right),
            Predicate::Contains => left.contains(right),
        }
    }
}

/// Inner spatial join: one output row per (left row, right row) pair that satisfies
/// `predicate`, sorted by left row then right row. Columns: left's columns (its geometry
/// kept), `index_left` and `index_right` (row numbers in the inputs), then right's
/// attribute columns; names that clash get `_left` / `_right` suffixes as in GeoPandas.
/// Both frames must have equivalent CRSs (or both none). Output partition `k` holds the
/// matches of the `k`-th left partition that has any.
pub fn sjoin(left: &GeoFrame, right: &GeoFrame, predicate: Predicate) -> Result<GeoFrame> {
    LazyFrame::from(left.clone())
        .sjoin(&LazyFrame::from(right.clone()), predicate)?
        .collect(&ExecuteOptions::default())
        .map_err(crate::Error::into_root)
}
