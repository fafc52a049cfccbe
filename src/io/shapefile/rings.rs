//! Polygon assembly from shapefile rings, by containment.
//!
//! The specification says outer rings are clockwise and holes counter-clockwise, but real
//! files break that rule (`us_counties` does). Like GDAL, geoframe ignores winding: a ring
//! nested inside an odd number of other rings is a hole of the smallest ring that holds
//! it; every other ring starts a polygon of its own.

use geo::algorithm::coordinate_position::{coord_pos_relative_to_ring, CoordPos};
use geo::{Coord, Geometry, LineString, MultiPolygon, Polygon, Rect};

/// Builds a `Polygon` (one outer ring) or `MultiPolygon` from the rings of one record.
pub(crate) fn assemble(mut rings: Vec<LineString>) -> Geometry {
    for r in &mut rings {
        r.close();
    }
    if rings.len() <= 1 {
        let exterior = rings.pop().unwrap_or_else(|| LineString(vec![]));
        if exterior.0.is_empty() {
            return Geometry::MultiPolygon(MultiPolygon(vec![]));
        }
        return Geometry::Polygon(Polygon::new(exterior, vec![]));
    }
    let areas: Vec<f64> = rings.iter().map(|r| ring_area(r).abs()).collect();
    let boxes: Vec<Option<Rect>> = rings.iter().map(ring_box).collect();
    let mut by_area: Vec<usize> = (0..rings.len()).collect();
    by_area.sort_by(|&a, &b| areas[b].total_cmp(&areas[a]).then(a.cmp(&b)));

    // parent[r]: the ring that directly holds r; depth[r]: how many rings hold it.
    let mut parent: Vec<Option<usize>> = vec![None; rings.len()];
    let mut depth = vec![0usize; rings.len()];
    for (k, &r) in by_area.iter().enumerate() {
        // Earlier rings are at least as large; the last one that holds r is the smallest.
        for &candidate in by_area[..k].iter().rev() {
            if holds(&rings[candidate], boxes[candidate], &rings[r], boxes[r]) {
                parent[r] = Some(candidate);
                depth[r] = depth[candidate] + 1;
                break;
            }
        }
    }

    // Outer rings in file order, each with its holes in file order.
    let mut exterior_slot = vec![usize::MAX; rings.len()];
    let mut polygons: Vec<(LineString, Vec<LineString>)> = Vec::new();
    let mut holes: Vec<(usize, LineString)> = Vec::new();
    for (i, ring) in rings.into_iter().enumerate() {
        if depth[i] % 2 == 0 {
            exterior_slot[i] = polygons.len();
            polygons.push((ring, Vec::new()));
        } else {
            holes.push((parent[i].unwrap_or(i), ring));
        }
    }
    for (owner, ring) in holes {
        polygons[exterior_slot[owner]].1.push(ring);
    }
    let mut polygons: Vec<Polygon> = polygons
        .into_iter()
        .map(|(exterior, interiors)| Polygon::new(exterior, interiors))
        .collect();
    if polygons.len() == 1 {
        Geometry::Polygon(polygons.pop().unwrap_or_else(|| Polygon::new(LineString(vec![]), vec![])))
    } else {
        Geometry::MultiPolygon(MultiPolygon(polygons))
    }
}

fn ring_area(ring: &LineString) -> f64 {
    ring.0
        .windows(2)
        .map(|w| w[0].x * w[1].y - w[1].x * w[0].y)
        .sum::<f64>()
        / 2.0
}

fn ring_box(ring: &LineString) -> Option<Rect> {
    use geo::BoundingRect;
    ring.bounding_rect()
}

/// Whether `outer` holds `inner`: its box covers inner's, and a vertex of `inner` that is
/// not on `outer`'s boundary lies inside (rings that touch share boundary vertices).
fn holds(outer: &LineString, outer_box: Option<Rect>, inner: &LineString, inner_box: Option<Rect>) -> bool {
    let (Some(ob), Some(ib)) = (outer_box, inner_box) else {
        return false;
    };
    if ib.min().x < ob.min().x || ib.min().y < ob.min().y || ib.max().x > ob.max().x || ib.max().y > ob.max().y {
        return false;
    }
    for &c in &inner.0 {
        match coord_pos_relative_to_ring(c, outer) {
            CoordPos::Inside => return true,
            CoordPos::Outside => return false,
            CoordPos::OnBoundary => continue,
        }
    }
    // Every vertex on the boundary: decide by an edge midpoint.
    inner.0.windows(2).any(|w| {
        let mid = Coord {
            x: (w[0].x + w[1].x) / 2.0,
            y: (w[0].y + w[1].y) / 2.0,
        };
        coord_pos_relative_to_ring(mid, outer) == CoordPos::Inside
    })
}
