//! [`PartitionIndex`]: the R-tree over a frame's partition bounds, and the partition pairs
//! of two frames whose bounds meet.

use geo::Rect;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

type Entry = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// An R-tree over the bounding boxes of a frame's partitions: which partitions can hold a
/// geometry in a given box, and which partition pairs of two frames can meet.
#[derive(Debug, Clone, Default)]
pub struct PartitionIndex {
    tree: RTree<Entry>,
}

fn envelope(rect: Rect) -> AABB<[f64; 2]> {
    AABB::from_corners([rect.min().x, rect.min().y], [rect.max().x, rect.max().y])
}

impl PartitionIndex {
    /// Bulk-loads the index; partitions with no bounds (only null or empty geometries) are
    /// left out, since no query can hit them.
    pub fn new(bounds: &[Option<Rect>]) -> PartitionIndex {
        let entries = bounds
            .iter()
            .enumerate()
            .filter_map(|(i, b)| {
                b.map(|r| {
                    let e = envelope(r);
                    GeomWithData::new(Rectangle::from_corners(e.lower(), e.upper()), i)
                })
            })
            .collect();
        PartitionIndex {
            tree: RTree::bulk_load(entries),
        }
    }

    /// Partitions whose bounds meet `rect` (boundaries included), in ascending order.
    pub fn query(&self, rect: Rect) -> Vec<usize> {
        let mut hits: Vec<usize> = self
            .tree
            .locate_in_envelope_intersecting(&envelope(rect))
            .map(|e| e.data)
            .collect();
        hits.sort_unstable();
        hits
    }

    /// Pairs `(i, j)` of a partition of `self` and one of `other` whose bounds meet, sorted.
    pub fn intersecting_pairs(&self, other: &PartitionIndex) -> Vec<(usize, usize)> {
        let mut pairs: Vec<(usize, usize)> = self
            .tree
            .intersection_candidates_with_other_tree(&other.tree)
            .map(|(a, b)| (a.data, b.data))
            .collect();
        pairs.sort_unstable();
        pairs
    }

    /// Number of indexed partitions.
    pub fn len(&self) -> usize {
        self.tree.size()
    }

    /// Whether no partition is indexed.
    pub fn is_empty(&self) -> bool {
        self.tree.size() == 0
    }
}
