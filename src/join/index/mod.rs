//! The build side of a partition pair: a partition decoded once, its polygons prepared,
//! its boxes in an R-tree and, for point probes, a grid; shared by every pair task that
//! meets the partition.

pub(crate) mod clean;
pub(crate) mod convex;
pub(crate) mod edges;
mod grid;
pub(crate) mod prepared;

pub(crate) use grid::{CellPosition, Grid};

use geo::Geometry;
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use crate::error::Result;
use crate::partition::Partition;
use prepared::PreparedPolygon;

/// One right partition decoded once, its polygons prepared, with an R-tree over the boxes
/// of its geometries: shared by every pair task that meets this partition.
pub(crate) struct PartitionIndexed {
    pub(crate) geometries: Vec<Option<Geometry>>,
    pub(crate) prepared: Vec<Option<PreparedPolygon>>,
    pub(crate) tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
    /// The boxes of the geometries, by row, for the grid.
    rects: Vec<(usize, geo::Rect)>,
    /// The median width and height of those boxes.
    pub(crate) median_box: (f64, f64),
    /// Built when a probe first asks (`grid`): only points and small polygons use it.
    grid: std::sync::OnceLock<Option<Grid>>,
    /// When every geometry is a point, a tree of the points themselves: rstar's nearest
    /// neighbour search on degenerate boxes falls back to its slower iterator.
    pub(crate) points: Option<RTree<GeomWithData<[f64; 2], usize>>>,
}

impl PartitionIndexed {
    /// Right geometries whose boxes meet `env`, as (row in partition, geometry).
    pub(crate) fn candidates_in<'a>(
        &'a self,
        env: &AABB<[f64; 2]>,
    ) -> impl Iterator<Item = (usize, &'a Geometry)> + 'a {
        self.tree
            .locate_in_envelope_intersecting(env)
            .filter_map(|c| self.geometries[c.data].as_ref().map(|g| (c.data, g)))
    }

    /// The grid over the geometries' boxes, built on first use.
    pub(crate) fn grid(&self) -> Option<&Grid> {
        self.grid
            .get_or_init(|| Grid::new(&self.rects, &self.geometries, &self.prepared))
            .as_ref()
    }

    /// Decodes `p` (its rows numbered from `first_row` in errors), prepares its polygons
    /// and indexes their boxes.
    pub(crate) fn build(p: &Partition, first_row: u64) -> Result<PartitionIndexed> {
        let geometries = p.geometries(first_row)?;
        let prepared: Vec<Option<PreparedPolygon>> = geometries
            .par_iter()
            .map(|g| g.as_ref().and_then(PreparedPolygon::new))
            .collect();
        // Boxes of every ring: an (invalid) hole outside its shell is still boundary, which
        // `intersects`, `touches` and distances see.
        let rects: Vec<(usize, geo::Rect)> = geometries
            .iter()
            .enumerate()
            .filter_map(|(i, g)| Some((i, crate::geometry::bounds(g.as_ref()?)?)))
            .collect();
        let boxes = rects
            .iter()
            .map(|&(i, r)| {
                GeomWithData::new(
                    Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                    i,
                )
            })
            .collect();
        let points: Option<Vec<GeomWithData<[f64; 2], usize>>> = geometries
            .iter()
            .enumerate()
            .filter_map(|(i, g)| Some((i, g.as_ref()?)))
            .map(|(i, g)| match g {
                Geometry::Point(p) => Some(GeomWithData::new([p.x(), p.y()], i)),
                _ => None,
            })
            .collect();
        let median = |side: fn(geo::Rect) -> f64| {
            let mut v: Vec<f64> = rects.iter().map(|&(_, r)| side(r)).collect();
            let mid = v.len() / 2;
            if v.is_empty() {
                return 0.0;
            }
            *v.select_nth_unstable_by(mid, f64::total_cmp).1
        };
        let median_box = (median(geo::Rect::width), median(geo::Rect::height));
        Ok(PartitionIndexed {
            median_box,
            points: points.map(RTree::bulk_load),
            grid: std::sync::OnceLock::new(),
            rects,
            geometries,
            prepared,
            tree: RTree::bulk_load(boxes),
        })
    }
}
