//! The plain single-core baseline the benchmarks compare against: a bulk-loaded `rstar`
//! tree of geometry boxes, queried per candidate. Shared by the benchmark examples and the
//! criterion benches.

use geo::BoundingRect;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::RTree;

/// The boxes of `geoms`, each with its index, bulk-loaded into an R-tree.
pub fn boxes(geoms: &[geo::Geometry]) -> RTree<GeomWithData<Rectangle<[f64; 2]>, usize>> {
    RTree::bulk_load(
        geoms
            .iter()
            .enumerate()
            .filter_map(|(i, g)| {
                let r = g.bounding_rect()?;
                Some(GeomWithData::new(
                    Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                    i,
                ))
            })
            .collect(),
    )
}
