//! Spatial joins, run per pair of partitions whose bounds meet.
//!
//! Candidate partition pairs come from the two frames' partition R-trees, and only those
//! pairs become tasks. Each right partition that takes part is decoded and indexed once
//! (an R-tree over its geometry boxes) and the index is shared by every pair that needs it;
//! the exact predicate from `geo` decides. Each row lives in one partition, so each row
//! pair is tested at most once and the output has no duplicates.

mod clip;
mod nearest;
mod pair;
mod predicate;
mod prepared;

pub(crate) use clip::{clip_partition, mask_polygons};
pub(crate) use nearest::{nearest_pairs, start_radius};
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

/// Nearest-neighbour join, as GeoPandas' `sjoin_nearest(left, right, how, max_distance,
/// distance_col)`: each left row is joined with the right rows at the smallest Euclidean
/// distance (all of them when several tie), in CRS units. Rows with no right row within
/// `max_distance` are dropped (`How::Inner`) or kept once with nulls (`How::Left`).
/// `distance_col` names an added column of distances. Right partitions are searched only
/// where they may hold a nearest neighbour, so far-away partitions are never loaded.
/// dask-geopandas has no nearest join.
///
/// ```
/// use geo::{point, Geometry};
/// use geoframe::join::{sjoin_nearest, How};
/// use geoframe::GeoFrame;
/// let left = GeoFrame::from_geometries(vec![point!(x: 0.0, y: 0.0).into()], None)?;
/// let right = GeoFrame::from_geometries(vec![point!(x: 3.0, y: 4.0).into(), point!(x: -4.0, y: 3.0).into(), point!(x: 9.0, y: 9.0).into()], None)?;
/// let joined = sjoin_nearest(&left, &right, How::Inner, None, Some("dist"))?;
/// assert_eq!(joined.len(), 2); // two right points tie at distance 5
/// # Ok::<(), geoframe::Error>(())
/// ```
pub fn sjoin_nearest(
    left: &GeoFrame,
    right: &GeoFrame,
    how: How,
    max_distance: Option<f64>,
    distance_col: Option<&str>,
) -> Result<GeoFrame> {
    LazyFrame::from(left.clone())
        .sjoin_nearest(
            &LazyFrame::from(right.clone()),
            how,
            max_distance,
            distance_col,
        )?
        .collect(&ExecuteOptions::default())
        .map_err(crate::Error::into_root)
}

/// Clips `frame` to `mask` (a polygon or multipolygon), as GeoPandas' `clip`: rows whose
/// geometry misses the mask are dropped, the others keep their attributes with the
/// geometry cut to the mask (`geo`'s boolean operations; boundary contacts count, and a
/// part that only touches the mask may remain as a point or line). Partitions whose
/// bounds miss the mask's box are never read.
///
/// ```
/// use geoframe::io::{read_shapefile, ShapefileOptions};
/// let counties = read_shapefile("data/us_counties/us_counties.shp", &ShapefileOptions::default())?;
/// let mask: geo::Geometry = geo::Rect::new((-105.0, 37.0), (-100.0, 41.0)).into();
/// let clipped = geoframe::join::clip(&counties, &mask)?;
/// assert!(clipped.len() > 20 && clipped.len() < 200);
/// # Ok::<(), geoframe::Error>(())
/// ```
pub fn clip(frame: &GeoFrame, mask: &geo::Geometry) -> Result<GeoFrame> {
    LazyFrame::from(frame.clone())
        .clip(mask)?
        .collect(&ExecuteOptions::default())
        .map_err(crate::Error::into_root)
}
