//! Per-row geometry operations, GeoPandas' vocabulary on a partitioned frame.
//!
//! Every operation runs partition by partition, in parallel:
//! - [`measure`]: per-row measures and properties as Arrow arrays (`area`, `length`,
//!   `bounds`, `geom_type`, `is_valid`, `x`, `y`, `distance`, and geodesic versions);
//! - [`constructive`]: a new geometry per row ([`GeometryOp`]: `centroid`, `buffer`,
//!   `simplify`, affine transforms, ...), `explode` and `points_from_xy`;
//! - [`binary`]: predicates of each row against one geometry, answered from the partition
//!   bounds alone where they allow;
//! - [`dissolve`]: group by attributes and union each group's geometries;
//! - `clip`: the parts of each row inside a polygon mask (one partition at a time; the
//!   frame-level [`GeoFrame::clip`] and `LazyFrame::clip` prune partitions first).

pub mod binary;
pub(crate) mod clip;
pub mod constructive;
mod coverage;
pub mod dissolve;
pub mod measure;

pub use binary::ColumnOp;
pub use constructive::{points_from_xy, GeometryOp, SimplifyMethod};
pub use dissolve::Aggregate;
pub use measure::Measure;

use geo::Geometry;

use crate::error::Result;
use crate::GeoFrame;

/// Operations geoframe has built, by their GeoPandas names. `tests/roadmap.rs` checks that
/// no `ROADMAP.md` entry still lists one of them.
pub const IMPLEMENTED: &[&str] = &[
    "area",
    "length",
    "bounds",
    "total_bounds",
    "geom_type",
    "is_empty",
    "is_valid",
    "is_valid_reason",
    "x",
    "y",
    "distance",
    "geodesic_area",
    "geodesic_length",
    "geodesic_distance",
    "centroid",
    "representative_point",
    "envelope",
    "convex_hull",
    "boundary",
    "simplify",
    "buffer",
    "translate",
    "rotate",
    "scale",
    "skew",
    "affine_transform",
    "explode",
    "make_valid",
    "points_from_xy",
    "intersects",
    "contains",
    "within",
    "covers",
    "covered_by",
    "touches",
    "crosses",
    "overlaps",
    "disjoint",
    "dwithin",
    "geom_equals",
    "to_crs",
    "set_crs",
    "estimate_utm_crs",
    "dissolve",
    "union_all",
    "overlay(how=\"intersection\")",
];

/// `f` applied to every non-null geometry of `frame`, partition by partition in parallel;
/// rows numbered across the frame for errors (the first bad row's error is returned).
/// Null geometries give `None`.
pub(crate) fn per_row<T: Send>(
    frame: &GeoFrame,
    f: impl Fn(&Geometry, u64) -> Result<T> + Sync,
) -> Result<Vec<Option<T>>> {
    let parts: Vec<Vec<Option<T>>> = frame.map_partitions(|p, first| {
        p.geometries(first)?
            .iter()
            .enumerate()
            .map(|(i, g)| g.as_ref().map(|g| f(g, first + i as u64)).transpose())
            .collect()
    })?;
    Ok(parts.into_iter().flatten().collect())
}
