//! Whether a prepared polygon is clean enough for the edge-based predicates of
//! `join::areal`: no two edges meet except consecutive edges of a ring at their shared
//! vertex (no self-touching or crossing rings, no spikes, no rings touching each other),
//! every hole inside its own shell, and shells and holes nested as a valid polygon nests
//! them (checked by the parity of the rings around a point of each ring). This is OGC
//! validity without the rings that touch at a point.
//!
//! A polygon that is not clean may still be sound: its rings touch at points (a shell
//! pinched round an inverted hole, a hole touching its shell, a figure eight), or some are
//! degenerate, but none crosses or runs along another. Around every touch point each
//! ring's edges alternate in and out, and every other ring keeps to one of its sectors.
//! Parity then places every point off the boundary where geo's winding-number location
//! does, so points and polygons that meet no edge are placed by the bands, in time that
//! does not grow with the polygon's vertex count (borders at 1:10m are full of such
//! pinches). See [`Cleanliness`].
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

/// How far a polygon's rings keep apart, which decides what may be said of it from its
/// edges alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cleanliness {
    /// No two edges meet except consecutive edges at their shared vertex, and the rings
    /// nest as a valid polygon's do: every edge-based predicate applies.
    Clean,
    /// Rings touch at points (a ring itself, or a hole its shell), but no ring crosses or
    /// runs along another or itself, and the rings nest as a valid polygon's do. The
    /// even-odd rule then places every point off the boundary where geo's (and GEOS')
    /// point location does, so a point or a polygon that meets no edge is placed by
    /// parity, and away from the touch points every edge has the interior on one side and
    /// the exterior on the other.
    Touching,
    /// As `Touching`, and some rings are degenerate (no area): points are still placed by
    /// parity, but what a degenerate ring's edges meet is left to `Relate`.
    Sound,
    /// Anything else: rings that cross or overlap, holes outside their shells.
    Unsound,
}

/// Whether a ring has no area: all its points on one line.
fn is_degenerate(ring: &LineString) -> bool {
    let Some(&first) = ring.0.first() else {
        return true;
    };
    match ring.0.iter().find(|&&c| c != first) {
        None => true,
        Some(&second) => ring
            .0
            .iter()
            .all(|&c| RobustKernel::orient2d(first, second, c) == Orientation::Collinear),
    }
}

/// Where two rings meet at a point other than a ring's own consecutive edges.
#[derive(Default)]
struct Touches {
    /// Points where edges touch.
    points: Vec<Coord>,
    /// (touch point, ring, edge) for a touch inside an edge rather than at its end.
    inside_edges: Vec<(Coord, usize, Coord, Coord)>,
}

/// What the edges near `(p, q)` (an edge of ring `ring`) show: `false` where an edge
/// crosses it or runs along it; touch points are noted in `touches`.
fn edge_meets_soundly(
    prepared: &impl Edges,
    ring: usize,
    p: Coord,
    q: Coord,
    touches: &mut Touches,
) -> bool {
    let (mut itself, mut at_p, mut at_q) = (0, 0, 0);
    for (u, v, _) in prepared.edges_near(Rect::new(p, q)) {
        if (u, v) == (p, q) {
            itself += 1;
        } else if (u, v) == (q, p) {
            return false;
        } else if u == q || v == q || u == p || v == p {
            let other = if u == q || u == p { v } else { u };
            if on_segment(p, q, other) || on_segment(u, v, if u == q || v == q { p } else { q }) {
                return false;
            }
            if u == q || v == q {
                at_q += 1;
            } else {
                at_p += 1;
            }
        } else {
            let on = [
                (on_segment(p, q, u), u),
                (on_segment(p, q, v), v),
                (on_segment(u, v, p), p),
                (on_segment(u, v, q), q),
            ];
            match on.iter().filter(|(hit, _)| *hit).count() {
                0 => {
                    if RobustKernel::orient2d(p, q, u) != RobustKernel::orient2d(p, q, v)
                        && RobustKernel::orient2d(u, v, p) != RobustKernel::orient2d(u, v, q)
                    {
                        return false;
                    }
                }
                1 => {
                    let &(_, t) = on.iter().find(|(hit, _)| *hit).expect("one hit");
                    touches.points.push(t);
                    if t == u || t == v {
                        touches.inside_edges.push((t, ring, p, q));
                    }
                }
                _ => return false,
            }
        }
    }
    if itself != 1 || at_p == 0 || at_q == 0 {
        return false;
    }
    for (count, t) in [(at_p, p), (at_q, q)] {
        if count > 1 {
            touches.points.push(t);
        }
    }
    true
}

/// Whether the sides of the point `t` around which `half_edges` (ring, far end, whether
/// the ring leaves `t` along it) go keep each ring out of the others' way: around `t`
/// each ring's edges alternate in and out (so a ring that touches itself winds no more
/// than once round any point) and every other ring keeps within one of its sectors.
fn touch_is_sound(t: Coord, half_edges: &mut [(usize, Coord, bool)]) -> bool {
    let upper = |c: Coord| c.y > t.y || (c.y == t.y && c.x > t.x);
    half_edges.sort_by(|a, b| {
        upper(b.1)
            .cmp(&upper(a.1))
            .then_with(|| match RobustKernel::orient2d(t, a.1, b.1) {
                Orientation::CounterClockwise => std::cmp::Ordering::Less,
                Orientation::Clockwise => std::cmp::Ordering::Greater,
                Orientation::Collinear => std::cmp::Ordering::Equal,
            })
    });
    let n = half_edges.len();
    for k in 0..n {
        let (a, b) = (half_edges[k].1, half_edges[(k + 1) % n].1);
        if n > 1
            && upper(a) == upper(b)
            && RobustKernel::orient2d(t, a, b) == Orientation::Collinear
        {
            // Two edges leave along one line: they run along each other.
            return false;
        }
    }
    let mut rings: Vec<usize> = half_edges.iter().map(|h| h.0).collect();
    rings.sort_unstable();
    rings.dedup();
    for &ring in &rings {
        let own: Vec<bool> = half_edges
            .iter()
            .filter(|h| h.0 == ring)
            .map(|h| h.2)
            .collect();
        if own.len() % 2 == 1 || (0..own.len()).any(|k| own[k] == own[(k + 1) % own.len()]) {
            return false;
        }
        let mut before = 0;
        let mut sectors: Vec<(usize, usize)> = Vec::new();
        for h in half_edges.iter() {
            if h.0 == ring {
                before += 1;
                continue;
            }
            let sector = before % own.len();
            match sectors.iter().find(|s| s.0 == h.0) {
                Some(s) if s.1 != sector => return false,
                Some(_) => {}
                None => sectors.push((h.0, sector)),
            }
        }
    }
    true
}

/// How clean `geometry` is (see [`Cleanliness`]), with `prepared` made from it.
pub(crate) fn cleanliness(prepared: &impl Edges, geometry: &Geometry) -> Cleanliness {
    let polygons: &[geo::Polygon] = match geometry {
        Geometry::Polygon(p) => std::slice::from_ref(p),
        Geometry::MultiPolygon(m) => &m.0,
        _ => return Cleanliness::Unsound,
    };
    let rings: Vec<&LineString> = polygons
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .collect();
    let mut degenerate = vec![false; rings.len()];
    let mut any_degenerate = false;
    let mut touches = Touches::default();
    for (r, ring) in rings.iter().enumerate() {
        if ring.0.first() != ring.0.last() {
            return Cleanliness::Unsound;
        }
        if ring.0.len() < 4 || is_degenerate(ring) {
            // A ring with no area bounds nothing; what is inside is the same without it.
            any_degenerate = true;
            degenerate[r] = true;
            continue;
        }
        for w in ring.0.windows(2) {
            if w[0] != w[1] && !edge_meets_soundly(prepared, r, w[0], w[1], &mut touches) {
                return Cleanliness::Unsound;
            }
        }
    }
    // An edge is noted once for each edge of the ring that touches it.
    let key = |h: &(Coord, usize, Coord, Coord)| (h.1, [h.0, h.2, h.3].map(|c| c.x_y()));
    touches.inside_edges.sort_by(|a, b| {
        let (ka, kb) = (key(a), key(b));
        ka.0.cmp(&kb.0).then_with(|| {
            ka.1.iter()
                .zip(&kb.1)
                .map(|(x, y)| x.0.total_cmp(&y.0).then(x.1.total_cmp(&y.1)))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        })
    });
    touches.inside_edges.dedup();
    touches
        .points
        .sort_by(|a, b| a.x.total_cmp(&b.x).then(a.y.total_cmp(&b.y)));
    touches.points.dedup();
    let touch_at = |c: &Coord| {
        touches
            .points
            .binary_search_by(|t| t.x.total_cmp(&c.x).then(t.y.total_cmp(&c.y)))
            .is_ok()
    };
    if !touches.points.is_empty() {
        let mut half_edges: Vec<(Coord, usize, Coord, bool)> = Vec::new();
        for (r, ring) in rings.iter().enumerate().filter(|(r, _)| !degenerate[*r]) {
            for w in ring.0.windows(2).filter(|w| w[0] != w[1]) {
                if touch_at(&w[0]) {
                    half_edges.push((w[0], r, w[1], true));
                }
                if touch_at(&w[1]) {
                    half_edges.push((w[1], r, w[0], false));
                }
            }
        }
        for &(t, r, p, q) in &touches.inside_edges {
            half_edges.push((t, r, q, true));
            half_edges.push((t, r, p, false));
        }
        half_edges.sort_by(|a, b| a.0.x.total_cmp(&b.0.x).then(a.0.y.total_cmp(&b.0.y)));
        for group in half_edges.chunk_by(|a, b| a.0 == b.0) {
            let mut around: Vec<(usize, Coord, bool)> =
                group.iter().map(|h| (h.1, h.2, h.3)).collect();
            if !touch_is_sound(group[0].0, &mut around) {
                return Cleanliness::Unsound;
            }
        }
    }
    // Nesting: around a point of a shell (one no other ring touches) an even number of
    // other rings, around a hole's an odd number, its own shell among them.
    let mut first_ring = 0;
    for polygon in polygons {
        let count = 1 + polygon.interiors().len();
        let shell = first_ring;
        for r in first_ring..first_ring + count {
            if degenerate[r] {
                continue;
            }
            let Some(&v) = rings[r].0.iter().find(|c| !touch_at(c)) else {
                return Cleanliness::Unsound;
            };
            let others = prepared.ray_crossings(v) - ring_crossings(rings[r], v);
            let is_hole = r > shell;
            if others.is_multiple_of(2) == is_hole
                || (is_hole
                    && (degenerate[shell] || ring_crossings(rings[shell], v).is_multiple_of(2)))
            {
                return Cleanliness::Unsound;
            }
        }
        first_ring += count;
    }
    // A clean polygon's edges meet nowhere but at their ends: no touch point was found.
    match (touches.points.is_empty(), any_degenerate) {
        (_, true) => Cleanliness::Sound,
        (true, false) => Cleanliness::Clean,
        (false, false) => Cleanliness::Touching,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn polygon(shell: &[(f64, f64)], holes: &[&[(f64, f64)]]) -> Geometry {
        let ring = |points: &[(f64, f64)]| LineString::from(points.to_vec());
        Geometry::Polygon(geo::Polygon::new(
            ring(shell),
            holes.iter().map(|h| ring(h)).collect(),
        ))
    }

    fn cleanliness_of(g: &Geometry) -> Cleanliness {
        crate::join::index::prepared::PreparedPolygon::new(g)
            .expect("a polygon")
            .cleanliness(g)
    }

    const SQUARE: [(f64, f64); 4] = [(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0)];

    #[test]
    fn rings_that_touch_at_points() {
        assert_eq!(cleanliness_of(&polygon(&SQUARE, &[])), Cleanliness::Clean);
        // A hole with a vertex on its shell's edge, and one on its shell's vertex.
        let hole = [(0.0, 2.0), (2.0, 1.0), (2.0, 3.0)];
        assert_eq!(
            cleanliness_of(&polygon(&SQUARE, &[&hole])),
            Cleanliness::Touching
        );
        let hole = [(0.0, 0.0), (2.0, 1.0), (1.0, 2.0)];
        assert_eq!(
            cleanliness_of(&polygon(&SQUARE, &[&hole])),
            Cleanliness::Touching
        );
        // A shell touching itself round an inverted hole.
        let inverted = [
            (0.0, 0.0),
            (4.0, 0.0),
            (4.0, 4.0),
            (2.0, 4.0),
            (3.0, 2.0),
            (1.0, 2.0),
            (2.0, 4.0),
            (0.0, 4.0),
        ];
        assert_eq!(
            cleanliness_of(&polygon(&inverted, &[])),
            Cleanliness::Touching
        );
        // A figure eight: two squares meeting at a corner, one ring.
        let eight = [
            (0.0, 0.0),
            (2.0, 0.0),
            (2.0, 2.0),
            (4.0, 2.0),
            (4.0, 4.0),
            (2.0, 4.0),
            (2.0, 2.0),
            (0.0, 2.0),
        ];
        assert_eq!(cleanliness_of(&polygon(&eight, &[])), Cleanliness::Touching);
        // A degenerate hole inside and one outside the shell.
        let line = [(1.0, 1.0), (2.0, 3.0), (1.0, 1.0)];
        assert_eq!(
            cleanliness_of(&polygon(&SQUARE, &[&line])),
            Cleanliness::Sound
        );
        let far = [(9.0, 9.0), (9.0, 9.0), (9.0, 9.0), (9.0, 9.0)];
        assert_eq!(
            cleanliness_of(&polygon(&SQUARE, &[&far])),
            Cleanliness::Sound
        );
    }

    #[test]
    fn rings_that_cross_overlap_or_nest_wrongly() {
        // A ring winding twice round a diamond, touching itself where it crosses.
        let twice = [
            (0.0, 2.0),
            (0.0, 0.0),
            (4.0, 0.0),
            (4.0, 4.0),
            (0.0, 4.0),
            (0.0, 2.0),
            (2.0, 1.0),
            (3.0, 2.0),
            (2.0, 3.0),
        ];
        assert_eq!(cleanliness_of(&polygon(&twice, &[])), Cleanliness::Unsound);
        // A hole leaving its shell through the shell's vertex.
        let hole = [(0.0, 0.0), (2.0, 1.0), (-1.0, 1.0)];
        assert_eq!(
            cleanliness_of(&polygon(&SQUARE, &[&hole])),
            Cleanliness::Unsound
        );
        // A hole of two lobes meeting on the shell's edge, one inside the shell, one in a
        // notch outside it: the hole crosses the shell where it touches itself.
        let notched = [
            (0.0, 0.0),
            (4.0, 0.0),
            (4.0, 4.0),
            (0.0, 4.0),
            (0.0, 3.0),
            (3.0, 3.0),
            (3.0, 1.0),
            (0.0, 1.0),
        ];
        let lobes = [
            (3.0, 2.0),
            (3.5, 1.5),
            (3.5, 2.5),
            (3.0, 2.0),
            (2.0, 2.5),
            (2.0, 1.5),
        ];
        assert_eq!(
            cleanliness_of(&polygon(&notched, &[&lobes])),
            Cleanliness::Unsound
        );
        // Where the inner lobe is inside the other, the hole is sound.
        let lobes = [
            (3.0, 2.0),
            (3.5, 1.5),
            (3.5, 2.5),
            (3.0, 2.0),
            (3.25, 2.1),
            (3.25, 1.9),
        ];
        assert_eq!(
            cleanliness_of(&polygon(&notched, &[&lobes])),
            Cleanliness::Touching
        );
        // A hole outside, a hole along the shell's edge, a bow tie, a spike.
        let outside = [(5.0, 0.0), (6.0, 0.0), (6.0, 1.0)];
        assert_eq!(
            cleanliness_of(&polygon(&SQUARE, &[&outside])),
            Cleanliness::Unsound
        );
        let along = [(0.0, 1.0), (2.0, 2.0), (0.0, 3.0)];
        assert_eq!(
            cleanliness_of(&polygon(&SQUARE, &[&along])),
            Cleanliness::Unsound
        );
        // (Touching the shell at two points is sound.)
        let twice = [(0.0, 1.0), (2.0, 2.0), (0.0, 3.0), (1.0, 2.0)];
        assert_eq!(
            cleanliness_of(&polygon(&SQUARE, &[&twice])),
            Cleanliness::Touching
        );
        let bow = [(0.0, 0.0), (2.0, 2.0), (2.0, 0.0), (0.0, 2.0)];
        assert_eq!(cleanliness_of(&polygon(&bow, &[])), Cleanliness::Unsound);
        let spike = [
            (0.0, 0.0),
            (4.0, 0.0),
            (4.0, 4.0),
            (6.0, 4.0),
            (4.0, 4.0),
            (0.0, 4.0),
        ];
        assert_eq!(cleanliness_of(&polygon(&spike, &[])), Cleanliness::Unsound);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 1024, .. proptest::prelude::ProptestConfig::default() })]

        /// Rings of random vertices on a small lattice, looping out of one point, touch, cross
        /// and overlap in every way;
        /// wherever one is judged sound, parity places every point off the boundary as geo's
        /// winding-number location does.
        #[test]
        fn sound_rings_are_placed_by_parity(
            loops in proptest::collection::vec((0usize..4, 1i32..4, 0i32..3, 0i32..3, proptest::bool::ANY), 1..5),
            holes in proptest::collection::vec(proptest::collection::vec((0i32..7, 0i32..7), 3..5), 0..2),
        ) {
            use geo::algorithm::coordinate_position::{CoordPos, CoordinatePosition};
            // The shell: triangles out of and back to one point, each in a quadrant and either
            // way round, so that it touches itself there (or crosses, or runs along itself).
            let shell: Vec<(i32, i32)> = loops
                .iter()
                .flat_map(|&(q, r, i, j, ccw)| {
                    let (sx, sy) = [(1, 1), (-1, 1), (-1, -1), (1, -1)][q];
                    let (i, j) = (i.min(r - 1), j.min(r - 1));
                    let (a, b) = ((3 + sx * r, 3 + sy * i), (3 + sx * j, 3 + sy * r));
                    let (a, b) = if ccw { (a, b) } else { (b, a) };
                    [(3, 3), a, b]
                })
                .collect();
            let to_ring = |v: &Vec<(i32, i32)>| LineString::from(v.iter().map(|&(x, y)| (x as f64, y as f64)).collect::<Vec<_>>());
            let g = Geometry::Polygon(geo::Polygon::new(to_ring(&shell), holes.iter().map(to_ring).collect()));
            let Some(prepared) = crate::join::index::prepared::PreparedPolygon::new(&g) else { return Ok(()) };
            if !prepared.is_sound(&g) {
                return Ok(());
            }
            for i in 0..26 {
                for j in 0..26 {
                    let (x, y) = (i as f64 / 4.0 - 0.125, j as f64 / 4.0 - 0.125);
                    let ours = prepared.position(x, y);
                    let geos = g.coordinate_position(&Coord { x, y });
                    if ours != CoordPos::OnBoundary && geos != CoordPos::OnBoundary {
                        proptest::prop_assert_eq!(ours, geos, "{:?} at {:?}", g, (x, y));
                    }
                }
            }
        }
    }
}
