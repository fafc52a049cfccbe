//! The build side of a partition pair: a partition decoded once, its polygons prepared,
//! its boxes in an R-tree and, for point probes, a grid; shared by every pair task that
//! meets the partition.

pub(crate) mod clean;
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
    pub(crate) grid: Option<Grid>,
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
        Ok(PartitionIndexed {
            points: points.map(RTree::bulk_load),
            grid: Grid::new(&rects, &geometries, &prepared),
            geometries,
            prepared,
            tree: RTree::bulk_load(boxes),
        })
    }
}
