//! Polygon assembly from the rings of one shapefile record.
//!
//! The specification says outer rings are clockwise and holes counter-clockwise, and that
//! a hole follows its outer ring, but real files break those rules (`us_counties` does).
//! geoframe reproduces what GDAL's shapefile driver does, so that a frame read here equals
//! one read by GeoPandas ring for ring:
//!
//! 1. If some ring after the first is clockwise, or every later ring has an extreme vertex
//!    strictly inside the first ring (with meeting boxes), the winding is trusted:
//!    - with exactly one clockwise ring, it is the outer ring and all others are holes;
//!    - otherwise each counter-clockwise ring becomes a hole of the smallest clockwise
//!      ring whose box holds its box and whose ring holds its points.
//! 2. Otherwise the winding is ignored: rings are ranked by area and each becomes a hole of
//!    the smallest larger ring that holds it, unless that ring is itself a hole.
//! 3. A ring of fewer than four points makes every ring a polygon of its own.
//!
//! Zero-area rings count as counter-clockwise. Outer rings come out in file order, each
//! with its holes in file order.

use geo::algorithm::coordinate_position::{coord_pos_relative_to_ring, CoordPos};
use geo::{BoundingRect, Coord, Geometry, LineString, MultiPolygon, Polygon, Rect};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Method {
    TrustWinding,
    IgnoreWinding,
}

/// Builds a `Polygon` (one outer ring) or `MultiPolygon` from the rings of one record;
/// `None` for a record with no rings (GDAL reads it as a null geometry).
pub(crate) fn assemble(mut rings: Vec<LineString>) -> Option<Geometry> {
    let raw_points: Vec<usize> = rings.iter().map(|r| r.0.len()).collect();
    for r in &mut rings {
        r.close();
    }
    match rings.len() {
        0 => return None,
        1 => {
            return rings
                .pop()
                .map(|r| Geometry::Polygon(Polygon::new(r, vec![])))
        }
        _ => {}
    }
    if raw_points.iter().any(|&n| n < 4) {
        let all = rings.into_iter().map(|r| Polygon::new(r, vec![])).collect();
        return Some(Geometry::MultiPolygon(MultiPolygon(all)));
    }
    let signed: Vec<f64> = rings.iter().map(ring_area).collect();
    let clockwise: Vec<bool> = signed.iter().map(|&a| a < 0.0).collect();
    let boxes: Vec<Rect> = rings
        .iter()
        .map(|r| {
            r.bounding_rect()
                .unwrap_or(Rect::new((0.0, 0.0), (0.0, 0.0)))
        })
        .collect();
    let method = if clockwise[1..].iter().any(|&cw| cw) || later_rings_inside_first(&rings, &boxes)
    {
        Method::TrustWinding
    } else {
        Method::IgnoreWinding
    };

    let n = rings.len();
    let mut enclosing: Vec<Option<usize>> = vec![None; n];
    let outer_count = clockwise.iter().filter(|&&cw| cw).count();
    if method == Method::TrustWinding && outer_count == 1 {
        let outer = clockwise.iter().position(|&cw| cw).unwrap_or(0);
        for (i, e) in enclosing.iter_mut().enumerate() {
            if i != outer {
                *e = Some(outer);
            }
        }
        return Some(build(rings, &enclosing));
    }

    let mut ranked: Vec<usize> = (0..n).collect();
    ranked.sort_by(|&a, &b| signed[b].abs().total_cmp(&signed[a].abs()).then(a.cmp(&b)));
    let mut top_level = vec![false; n];
    top_level[ranked[0]] = true;
    for k in 1..n {
        let i = ranked[k];
        if method == Method::TrustWinding && clockwise[i] {
            top_level[i] = true;
            continue;
        }
        let mut holder = None;
        for (rank_j, &j) in ranked[..k].iter().enumerate().rev() {
            if method == Method::TrustWinding && !clockwise[j] {
                continue;
            }
            if !contains_box(boxes[j], boxes[i]) {
                continue;
            }
            // In trusted winding, the largest clockwise ring is the last resort: a
            // counter-clockwise ring must be in it.
            let inside = (method == Method::TrustWinding && rank_j == 0)
                || ring_inside(&rings[i], &rings[j]);
            if inside {
                holder = Some(j);
                break;
            }
        }
        match holder {
            Some(j) if top_level[j] => enclosing[i] = Some(j),
            _ => top_level[i] = true,
        }
    }
    Some(build(rings, &enclosing))
}

/// Outer rings (no enclosing ring) in file order, each with its holes in file order.
fn build(rings: Vec<LineString>, enclosing: &[Option<usize>]) -> Geometry {
    let mut slot = vec![usize::MAX; rings.len()];
    let mut polygons: Vec<(LineString, Vec<LineString>)> = Vec::new();
    let mut holes: Vec<(usize, LineString)> = Vec::new();
    for (i, ring) in rings.into_iter().enumerate() {
        match enclosing[i] {
            None => {
                slot[i] = polygons.len();
                polygons.push((ring, Vec::new()));
            }
            Some(owner) => holes.push((owner, ring)),
        }
    }
    for (owner, ring) in holes {
        polygons[slot[owner]].1.push(ring);
    }
    let mut polygons: Vec<Polygon> = polygons
        .into_iter()
        .map(|(exterior, interiors)| Polygon::new(exterior, interiors))
        .collect();
    match polygons.len() {
        1 => Geometry::Polygon(polygons.remove(0)),
        _ => Geometry::MultiPolygon(MultiPolygon(polygons)),
    }
}

/// Shoelace area: positive for counter-clockwise rings.
fn ring_area(ring: &LineString) -> f64 {
    ring.0
        .windows(2)
        .map(|w| w[0].x * w[1].y - w[1].x * w[0].y)
        .sum::<f64>()
        / 2.0
}

fn contains_box(outer: Rect, inner: Rect) -> bool {
    inner.min().x >= outer.min().x
        && inner.min().y >= outer.min().y
        && inner.max().x <= outer.max().x
        && inner.max().y <= outer.max().y
}

fn boxes_meet(a: Rect, b: Rect) -> bool {
    a.min().x <= b.max().x
        && b.min().x <= a.max().x
        && a.min().y <= b.max().y
        && b.min().y <= a.max().y
}

/// Whether the file follows the "holes after one outer ring" layout even though no later
/// ring is clockwise: each later ring meets the first ring's box and has one of its
/// leftmost, rightmost, lowest or highest vertices strictly inside the first ring.
fn later_rings_inside_first(rings: &[LineString], boxes: &[Rect]) -> bool {
    (1..rings.len()).all(|i| {
        if !boxes_meet(boxes[0], boxes[i]) {
            return false;
        }
        let pts = &rings[i].0[..rings[i].0.len().saturating_sub(1)];
        let pick = |better: &dyn Fn(&Coord, &Coord) -> bool| {
            pts.iter()
                .copied()
                .reduce(|best, p| if better(&p, &best) { p } else { best })
        };
        let extremes = [
            pick(&|p, b| p.x < b.x || (p.x == b.x && p.y < b.y)),
            pick(&|p, b| p.x > b.x || (p.x == b.x && p.y > b.y)),
            pick(&|p, b| p.y < b.y || (p.y == b.y && p.x > b.x)),
            pick(&|p, b| p.y > b.y || (p.y == b.y && p.x < b.x)),
        ];
        extremes
            .into_iter()
            .flatten()
            .any(|p| coord_pos_relative_to_ring(p, &rings[0]) == CoordPos::Inside)
    })
}

/// Whether ring `inner` lies inside ring `outer`, judged by its first vertex that is not on
/// `outer`'s boundary; if every vertex is on the boundary, by the midpoints of its edges.
fn ring_inside(inner: &LineString, outer: &LineString) -> bool {
    let decide = |points: &mut dyn Iterator<Item = Coord>| -> Option<bool> {
        for p in points {
            match coord_pos_relative_to_ring(p, outer) {
                CoordPos::OnBoundary => continue,
                CoordPos::Inside => return Some(true),
                CoordPos::Outside => return Some(false),
            }
        }
        None
    };
    if let Some(answer) = decide(&mut inner.0.iter().copied()) {
        return answer;
    }
    let mut midpoints = inner.0.windows(2).filter(|w| w[0] != w[1]).map(|w| Coord {
        x: (w[0].x + w[1].x) / 2.0,
        y: (w[0].y + w[1].y) / 2.0,
    });
    decide(&mut midpoints).unwrap_or(false)
}
