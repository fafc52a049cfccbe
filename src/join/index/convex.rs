//! Whether a ring bounds a strictly convex polygon: such a ring alone is a clean polygon
//! with an area, recognised with a few orientation tests.

use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo::Coord;

/// Whether the closed ring `ring` bounds a strictly convex polygon: every turn goes the
/// same way and none is straight, and the edges wind round once (each coordinate of the
/// edge direction changes sign twice). Such a ring alone is a clean polygon with an area,
/// found with a few orientation tests instead of `clean::cleanliness`' edge lookups.
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
