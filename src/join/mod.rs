//! Spatial joins inside one pair of partitions, by phase: `index` (the build side: a
//! partition decoded once, prepared polygons, an R-tree and a grid), `probe` (each row of
//! the other partition looked up and tested with the exact predicate; `areal` decides it
//! for two polygons from their prepared edges), `output` (the joined rows assembled), and
//! `nearest` (nearest-neighbour search).
//!
//! Which partition pairs meet is decided by the plan (`plan::prune`), from the two frames'
//! partition R-trees; only those pairs become tasks. Each row lives in one partition, so
//! each row pair is tested at most once and the output has no duplicates. The entry points
//! are [`crate::GeoFrame::sjoin`] and [`crate::plan::LazyFrame::sjoin`].

mod areal;
mod clip;
mod index;
mod nearest;
mod output;
mod predicate;
mod probe;

pub(crate) use index::PartitionIndexed;
pub(crate) use nearest::{nearest_pairs, start_radius, NearestParams};
pub(crate) use output::{assemble_rows, join_schema, OutputSpec};
pub use predicate::Predicate;
pub(crate) use probe::probe;

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
