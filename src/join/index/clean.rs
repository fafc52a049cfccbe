//! Whether a prepared polygon is clean enough for the edge-based predicates of
//! `join::areal`: no two edges meet except consecutive edges of a ring at their shared
//! vertex (no self-touching or crossing rings, no spikes, no rings touching each other),
//! every hole inside its own shell, and shells and holes nested as a valid polygon nests
//! them (checked by the parity of the rings around each ring's first vertex). This is
//! OGC validity without the rings that touch at a point; those pairs go through `Relate`.
//!
//! Every test looks up edges through the polygon's bands, so the check costs about the
//! number of edges times the edges of a band, once per polygon.

use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo::{Coord, Geometry, LineString, Rect};

use super::edges::Edges;

/// `v` on the segment `pq` (ends included).
pub(crate) fn on_segment(p: Coord, q: Coord, v: Coord) -> bool {
    v.x >= p.x.min(q.x)
        && v.x <= p.x.max(q.x)
        && v.y >= p.y.min(q.y)
        && v.y <= p.y.max(q.y)
        && RobustKernel::orient2d(p, q, v) == Orientation::Collinear
}

/// Whether the ray from `v` to the right crosses the edge `ab` (half-open in y).
pub(crate) fn crosses_ray(a: Coord, b: Coord, v: Coord) -> bool {
    if (a.y > v.y) == (b.y > v.y) {
        return false;
    }
    let orientation = RobustKernel::orient2d(a, b, v);
    if b.y > a.y {
        orientation == Orientation::CounterClockwise
    } else {
        orientation == Orientation::Clockwise
    }
}

/// Whether the closed ring `ring` bounds a strictly convex polygon: every turn goes the
/// same way and none is straight, and the edges wind round once (each coordinate of the
/// edge direction changes sign twice). Such a ring alone is a clean polygon with an area,
/// found with a few orientation tests instead of [`is_clean`]'s edge lookups.
pub(crate) fn is_convex_ring(ring: &[Coord]) -> bool {
    let n = ring.len().saturating_sub(1);
    if n < 3 || ring[0] != ring[n] {
        return false;
    }
    // Sign changes of each coordinate of the edge direction around the ring, zero ones
    // skipped, counted from the last edge that has a sign.
    let last_sign = |d: fn(Coord) -> f64| {
        ring.windows(2)
            .rev()
            .map(|w| d(w[1] - w[0]))
            .find(|v| *v != 0.0)
            .unwrap_or(0.0)
            > 0.0
    };
    let (mut up_x, mut up_y) = (last_sign(|c| c.x), last_sign(|c| c.y));
    let (mut flips_x, mut flips_y) = (0u32, 0u32);
    let turn = RobustKernel::orient2d(ring[n - 1], ring[0], ring[1]);
    if turn == Orientation::Collinear {
        return false;
    }
    let mut previous = ring[n - 1];
    for w in ring.windows(2) {
        let (vertex, next) = (w[0], w[1]);
        if RobustKernel::orient2d(previous, vertex, next) != turn {
            return false;
        }
        let d = next - vertex;
        if d.x != 0.0 && (d.x > 0.0) != up_x {
            up_x = !up_x;
            flips_x += 1;
        }
        if d.y != 0.0 && (d.y > 0.0) != up_y {
            up_y = !up_y;
            flips_y += 1;
        }
        previous = vertex;
    }
    flips_x <= 2 && flips_y <= 2
}

fn ring_crossings(ring: &LineString, v: Coord) -> usize {
    ring.0
        .windows(2)
        .filter(|w| w[0] != w[1] && crosses_ray(w[0], w[1], v))
        .count()
}

pub(crate) fn is_clean(prepared: &impl Edges, geometry: &Geometry) -> bool {
    let polygons: &[geo::Polygon] = match geometry {
        Geometry::Polygon(p) => std::slice::from_ref(p),
        Geometry::MultiPolygon(m) => &m.0,
        _ => return false,
    };
    let rings = || {
        polygons
            .iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
    };
    // Edges meet only where consecutive edges share a vertex.
    for ring in rings() {
        if ring.0.len() < 4 || ring.0.first() != ring.0.last() {
            return false;
        }
        for w in ring.0.windows(2) {
            let (p, q) = (w[0], w[1]);
            if p == q {
                continue;
            }
            let (mut itself, mut at_p, mut at_q) = (0, 0, 0);
            for (u, v, _) in prepared.edges_near(Rect::new(p, q)) {
                if (u, v) == (p, q) {
                    itself += 1;
                } else if (u, v) == (q, p) {
                    return false;
                } else if u == q || v == q || u == p || v == p {
                    let other = if u == q || u == p { v } else { u };
                    if on_segment(p, q, other)
                        || on_segment(u, v, if u == q || v == q { p } else { q })
                    {
                        return false;
                    }
                    if u == q || v == q {
                        at_q += 1;
                    } else {
                        at_p += 1;
                    }
                } else if on_segment(p, q, u)
                    || on_segment(p, q, v)
                    || on_segment(u, v, p)
                    || on_segment(u, v, q)
                    || (RobustKernel::orient2d(p, q, u) != RobustKernel::orient2d(p, q, v)
                        && RobustKernel::orient2d(u, v, p) != RobustKernel::orient2d(u, v, q))
                {
                    return false;
                }
            }
            if itself != 1 || at_p != 1 || at_q != 1 {
                return false;
            }
        }
    }
    // Nesting: around a shell's first vertex an even number of other rings, around a
    // hole's an odd number, its own shell among them.
    for polygon in polygons {
        let shell = polygon.exterior();
        for (k, ring) in std::iter::once(shell)
            .chain(polygon.interiors())
            .enumerate()
        {
            let v = ring.0[0];
            let others = prepared.ray_crossings(v) - ring_crossings(ring, v);
            let is_hole = k > 0;
            if others.is_multiple_of(2) == is_hole
                || (is_hole && ring_crossings(shell, v).is_multiple_of(2))
            {
                return false;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(points: &[(f64, f64)]) -> Vec<Coord> {
        let mut r: Vec<Coord> = points.iter().map(|&(x, y)| Coord { x, y }).collect();
        r.push(r[0]);
        r
    }

    #[test]
    fn convex_rings() {
        // A diamond either way round, a triangle, a box.
        let diamond = ring(&[(1.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (0.0, -1.0)]);
        assert!(is_convex_ring(&diamond));
        let reversed: Vec<Coord> = diamond.iter().rev().copied().collect();
        assert!(is_convex_ring(&reversed));
        assert!(is_convex_ring(&ring(&[(0.0, 0.0), (2.0, 0.0), (0.0, 3.0)])));
        assert!(is_convex_ring(&ring(&[
            (0.0, 0.0),
            (2.0, 0.0),
            (2.0, 1.0),
            (0.0, 1.0)
        ])));
    }

    #[test]
    fn rings_that_are_not_convex() {
        // Non-convex, a bow tie, a straight turn, a repeated vertex, a line there and back,
        // an open ring, too few points.
        assert!(!is_convex_ring(&ring(&[
            (0.0, 0.0),
            (2.0, 0.0),
            (2.0, 1.0),
            (1.0, 1.0),
            (1.0, 2.0),
            (0.0, 2.0)
        ])));
        assert!(!is_convex_ring(&ring(&[
            (0.0, 0.0),
            (1.0, 1.0),
            (1.0, 0.0),
            (0.0, 1.0)
        ])));
        assert!(!is_convex_ring(&ring(&[
            (0.0, 0.0),
            (1.0, 0.0),
            (2.0, 0.0),
            (1.0, 1.0)
        ])));
        assert!(!is_convex_ring(&ring(&[
            (0.0, 0.0),
            (1.0, 0.0),
            (1.0, 0.0),
            (1.0, 1.0)
        ])));
        assert!(!is_convex_ring(&ring(&[(0.0, 0.0), (1.0, 1.0)])));
        assert!(!is_convex_ring(&[
            Coord { x: 0.0, y: 0.0 },
            Coord { x: 1.0, y: 0.0 },
            Coord { x: 0.0, y: 1.0 }
        ]));
        assert!(!is_convex_ring(&[]));
        // A pentagram turns the same way at every vertex but winds twice.
        let star: Vec<(f64, f64)> = (0..5)
            .map(|k| {
                let t = (k * 2) as f64 * std::f64::consts::TAU / 5.0;
                (t.cos(), t.sin())
            })
            .collect();
        assert!(!is_convex_ring(&ring(&star)));
    }
}
