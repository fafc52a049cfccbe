//! The eager API: joins, clips, shuffles and overlays of frames in memory. Each call plans
//! the work as a [`LazyFrame`] over the frames and collects it at once, so eager and lazy
//! results are the same by construction; this layer sits above `plan`, which sits above
//! `io`, `ops`, `join` and `partition`.

mod overlay;

pub use overlay::overlay_intersection;

use crate::error::{Error, Result};
use crate::join::{How, Predicate};
use crate::partition::ShuffleMethod;
use crate::plan::{ExecuteOptions, LazyFrame};
use crate::GeoFrame;

/// `plan` collected with the default options, its errors without the task that hit them.
fn collect(plan: Result<LazyFrame>) -> Result<GeoFrame> {
    plan?
        .collect(&ExecuteOptions::default())
        .map_err(Error::into_root)
}

impl GeoFrame {
    /// Spatial join, as GeoPandas' `sjoin(left, right, how, predicate)`.
    ///
    /// One output row per (left row, right row) pair with `left <predicate> right`, plus
    /// the unmatched rows of the kept side for `Left` and `Right` joins. For `Inner` and
    /// `Left`, rows follow the left frame: left's columns (its geometry kept),
    /// `index_left`, `index_right` (row numbers in the inputs), then right's attribute
    /// columns, sorted by left row then right row. For `Right`, the roles swap: right's
    /// columns, `index_left`, `index_right`, left's attributes, sorted by right row then
    /// left row. Names that clash get `_left` / `_right` suffixes. Both frames must have
    /// equivalent CRSs (or both none).
    ///
    /// ```
    /// use geoframe::io::{read_shapefile, ShapefileOptions};
    /// use geoframe::join::{How, Predicate};
    /// let options = ShapefileOptions::default();
    /// let cities = read_shapefile("data/naturalearth_cities/naturalearth_cities.shp", &options)?;
    /// let countries = read_shapefile("data/naturalearth_lowres/naturalearth_lowres.shp", &options)?;
    /// assert_eq!(cities.sjoin(&countries, How::Inner, Predicate::Within)?.len(), 213);
    /// // Left join: the 30 cities outside every country polygon (small islands, coasts) stay.
    /// assert_eq!(cities.sjoin(&countries, How::Left, Predicate::Within)?.len(), 243);
    /// # Ok::<(), geoframe::Error>(())
    /// ```
    pub fn sjoin(&self, right: &GeoFrame, how: How, predicate: Predicate) -> Result<GeoFrame> {
        collect(LazyFrame::from(self.clone()).sjoin(
            &LazyFrame::from(right.clone()),
            how,
            predicate,
        ))
    }

    /// Nearest-neighbour join, as GeoPandas' `sjoin_nearest(left, right, how,
    /// max_distance, distance_col)`: each left row is joined with the right rows at the
    /// smallest Euclidean distance (all of them when several tie), in CRS units. Rows with
    /// no right row within `max_distance` are dropped (`How::Inner`) or kept once with
    /// nulls (`How::Left`). `distance_col` names an added column of distances. Right
    /// partitions are searched only where they may hold a nearest neighbour, so far-away
    /// partitions are never loaded. dask-geopandas has no nearest join.
    ///
    /// ```
    /// use geo::{point, Geometry};
    /// use geoframe::join::How;
    /// use geoframe::GeoFrame;
    /// let left = GeoFrame::from_geometries(vec![point!(x: 0.0, y: 0.0).into()], None)?;
    /// let right = GeoFrame::from_geometries(vec![point!(x: 3.0, y: 4.0).into(), point!(x: -4.0, y: 3.0).into(), point!(x: 9.0, y: 9.0).into()], None)?;
    /// let joined = left.sjoin_nearest(&right, How::Inner, None, Some("dist"))?;
    /// assert_eq!(joined.len(), 2); // two right points tie at distance 5
    /// # Ok::<(), geoframe::Error>(())
    /// ```
    pub fn sjoin_nearest(
        &self,
        right: &GeoFrame,
        how: How,
        max_distance: Option<f64>,
        distance_col: Option<&str>,
    ) -> Result<GeoFrame> {
        collect(LazyFrame::from(self.clone()).sjoin_nearest(
            &LazyFrame::from(right.clone()),
            how,
            max_distance,
            distance_col,
        ))
    }

    /// Clips to `mask` (a polygon or multipolygon), as GeoPandas' `clip`: rows whose
    /// geometry misses the mask are dropped, the others keep their attributes with the
    /// geometry cut to the mask (`geo`'s boolean operations; boundary contacts count, and a
    /// part that only touches the mask may remain as a point or line). Partitions whose
    /// bounds miss the mask's box are never read.
    ///
    /// ```
    /// use geoframe::io::{read_shapefile, ShapefileOptions};
    /// let counties = read_shapefile("data/us_counties/us_counties.shp", &ShapefileOptions::default())?;
    /// let mask: geo::Geometry = geo::Rect::new((-105.0, 37.0), (-100.0, 41.0)).into();
    /// let clipped = counties.clip(&mask)?;
    /// assert!(clipped.len() > 20 && clipped.len() < 200);
    /// # Ok::<(), geoframe::Error>(())
    /// ```
    pub fn clip(&self, mask: &geo::Geometry) -> Result<GeoFrame> {
        collect(LazyFrame::from(self.clone()).clip(mask))
    }

    /// Reorders the rows into `npartitions` partitions of equal row counts (within one) so
    /// that each partition covers a compact area; partition bounds and the partition R-tree
    /// are recomputed. Every row lands in exactly one partition; rows with null or empty
    /// geometries go last. Ties are broken by the original row order, so the result does
    /// not depend on the input's partitioning or on the number of workers. Runs as a task
    /// graph (keys per partition, one ordering task, one gather task per output
    /// partition); see [`LazyFrame::spatial_shuffle`] to choose the workers.
    ///
    /// ```
    /// use geo::{point, Geometry};
    /// use geoframe::partition::ShuffleMethod;
    /// let points: Vec<Geometry> = (0..10_000).map(|i| point!(x: (i * 7919 % 10_000) as f64, y: (i % 100) as f64).into()).collect();
    /// let points = geoframe::GeoFrame::from_geometries(points, None)?.repartition(1_000)?;
    /// let shuffled = points.spatial_shuffle(ShuffleMethod::Hilbert, 16)?;
    /// let area = |f: &geoframe::GeoFrame| -> f64 {
    ///     f.partition_bounds().iter().flatten().map(|r| r.width() * r.height()).sum()
    /// };
    /// assert!(area(&shuffled) < area(&points) / 8.0);
    /// # Ok::<(), geoframe::Error>(())
    /// ```
    pub fn spatial_shuffle(&self, method: ShuffleMethod, npartitions: usize) -> Result<GeoFrame> {
        LazyFrame::from(self.clone())
            .spatial_shuffle(method, npartitions, &ExecuteOptions::default())
            .map_err(Error::into_root)
    }

    /// The pieces where this frame's polygons overlap `right`'s: see
    /// [`overlay_intersection`].
    pub fn overlay_intersection(&self, right: &GeoFrame) -> Result<GeoFrame> {
        overlay_intersection(self, right)
    }
}

/// Spatial join of two frames: [`GeoFrame::sjoin`].
pub fn sjoin(
    left: &GeoFrame,
    right: &GeoFrame,
    how: How,
    predicate: Predicate,
) -> Result<GeoFrame> {
    left.sjoin(right, how, predicate)
}

/// Nearest-neighbour join of two frames: [`GeoFrame::sjoin_nearest`].
pub fn sjoin_nearest(
    left: &GeoFrame,
    right: &GeoFrame,
    how: How,
    max_distance: Option<f64>,
    distance_col: Option<&str>,
) -> Result<GeoFrame> {
    left.sjoin_nearest(right, how, max_distance, distance_col)
}

/// Clips a frame to a polygon mask: [`GeoFrame::clip`].
pub fn clip(frame: &GeoFrame, mask: &geo::Geometry) -> Result<GeoFrame> {
    frame.clip(mask)
}
