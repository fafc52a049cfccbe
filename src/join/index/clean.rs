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
