//! Predicates between two polygons (or multipolygons) from their prepared edges, without a
//! full DE-9IM matrix: the cost of a pair depends on the smaller side and on the edges of
//! the larger side near it, not on all of the larger side's vertices.
//!
//! Every edge of the small side `a` is cut where it meets the boundary of the large side
//! `b` (found through `b`'s bands), and each piece is placed inside, outside or on `b`'s
//! boundary; likewise the edges of `b` near `a` against `a`. A proper crossing of the two
//! boundaries decides everything at once (the interiors meet and neither covers the other).
//! Otherwise a connected interior that no boundary of the other side passes through lies
//! wholly inside or outside it, so the pieces decide. A piece that lies on the other's
//! boundary is placed by the sides its two interiors lie on (each edge knows the side of
//! its polygon's interior, from its ring's orientation): on the same side, the interior
//! next to it is inside the other; on opposite sides, outside. Orientation tests are geo's
//! robust predicates; only the placing of a piece's midpoint is in floating point.
//!
//! This holds for valid polygons with an area whose rings do not touch (`index::clean`),
//! and for those whose rings touch only at points (`Cleanliness::Touching`): there a
//! polygon's interior may fall apart into lobes joined at a point, but every lobe's
//! boundary is made of pieces, and each piece places the interior next to it, even where
//! a lobe's whole boundary lies on the other's. Other pairs go through `Relate`.

use geo::algorithm::coordinate_position::CoordPos;
use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo::{Coord, Geometry, InteriorPoint, Rect};

use super::index::clean::{on_segment, Cleanliness};
use super::index::edges::{all_edges, all_sided_edges, polygons_of, Edges, SidedEdge};
use super::Predicate;

/// What the boundaries of `a` and `b` do to each other.
#[derive(Debug, Default, Clone, Copy)]
struct Facts {
    /// The boundaries meet.
    contact: bool,
    /// Some part of `a`'s boundary is strictly inside `b` / strictly outside `b`.
    a_in: bool,
    a_out: bool,
    /// The same for `b`'s boundary against `a`.
    b_in: bool,
    b_out: bool,
    /// Every polygon of `a` is within `b`'s closure side (its interior inside `b`).
    a_all_in: bool,
    /// Every polygon of `b` has its interior inside `a`.
    b_all_in: bool,
    /// The interiors meet.
    interiors_meet: bool,
}

/// Whether a polygon this clean has, away from its touch points, the interior on one side
/// of every edge and the exterior on the other, as the pieces below need.
fn edge_based(cleanliness: Cleanliness) -> bool {
    matches!(cleanliness, Cleanliness::Clean | Cleanliness::Touching)
}

/// `a <predicate> b`, or `None` when the pair is not two areal geometries with an area
/// (then `Relate` decides). `a` and `b` are the geometries `pa` and `pb` were prepared from.
pub(crate) fn test(
    predicate: Predicate,
    a: &Geometry,
    pa: &impl Edges,
    b: &Geometry,
    pb: &impl Edges,
) -> Option<bool> {
    let (ba, bb) = (pa.bbox(), pb.bbox());
    if !boxes_meet(ba, bb) {
        return match predicate {
            Predicate::DWithin(_) => None,
            _ => Some(false),
        };
    }
    if predicate == Predicate::Intersects {
        if let Some(answer) = intersects_whatever_clean(a, pa, b, pb) {
            return Some(answer);
        }
    }
    let (ca, cb) = (pa.cleanliness(a), pb.cleanliness(b));
    if !edge_based(ca) || !edge_based(cb) {
        return None;
    }
    match predicate {
        Predicate::Intersects => return Some(intersects(a, pa, pb)),
        Predicate::Crosses => return Some(false),
        Predicate::Within | Predicate::CoveredBy if !box_within(ba, bb) => return Some(false),
        Predicate::Contains | Predicate::Covers if !box_within(bb, ba) => return Some(false),
        Predicate::Equals if ba != bb => return Some(false),
        Predicate::DWithin(_) => return None,
        _ => {}
    }
    let facts = match facts(a, pa, b, pb) {
        Some(f) => f,
        // A proper crossing: the interiors meet, neither covers the other.
        None => return predicate.polygons_cross(),
    };
    let covered_by = !facts.a_out && !facts.b_in && facts.a_all_in;
    let covers = !facts.b_out && !facts.a_in && facts.b_all_in;
    Some(match predicate {
        Predicate::Within | Predicate::CoveredBy => covered_by,
        Predicate::Contains | Predicate::Covers => covers,
        Predicate::Equals => covered_by && covers,
        Predicate::Touches => (facts.contact || facts.a_in || facts.b_in) && !facts.interiors_meet,
        Predicate::Overlaps => facts.interiors_meet && !covered_by && !covers,
        Predicate::Intersects | Predicate::Crosses | Predicate::DWithin(_) => {
            unreachable!("decided above")
        }
    })
}

fn boxes_meet(a: Rect, b: Rect) -> bool {
    a.min().x <= b.max().x
        && b.min().x <= a.max().x
        && a.min().y <= b.max().y
        && b.min().y <= a.max().y
}

/// `a` lies in `b`.
fn box_within(a: Rect, b: Rect) -> bool {
    a.min().x >= b.min().x
        && a.max().x <= b.max().x
        && a.min().y >= b.min().y
        && a.max().y <= b.max().y
}

/// How the segment `pq` meets the segment `uv`.
enum Meeting {
    Apart,
    /// They cross at a point inside both.
    Proper,
    /// They touch or overlap; the ends of either that lie on the other are the contacts.
    Touch,
}

fn meet(p: Coord, q: Coord, u: Coord, v: Coord) -> Meeting {
    let o1 = RobustKernel::orient2d(p, q, u);
    let o2 = RobustKernel::orient2d(p, q, v);
    if o1 == o2 && o1 != Orientation::Collinear {
        return Meeting::Apart;
    }
    let o3 = RobustKernel::orient2d(u, v, p);
    let o4 = RobustKernel::orient2d(u, v, q);
    if o3 == o4 && o3 != Orientation::Collinear {
        return Meeting::Apart;
    }
    let collinear = Orientation::Collinear;
    if o1 != collinear && o2 != collinear && o3 != collinear && o4 != collinear {
        return Meeting::Proper;
    }
    let touches = (o1 == collinear && on_segment(p, q, u))
        || (o2 == collinear && on_segment(p, q, v))
        || (o3 == collinear && on_segment(u, v, p))
        || (o4 == collinear && on_segment(u, v, q));
    if touches {
        Meeting::Touch
    } else {
        Meeting::Apart
    }
}

/// How the boundary of another polygon meets a convex polygon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Contact {
    /// Not at all: the convex polygon lies wholly inside or wholly outside the other.
    Apart,
    /// An edge crosses the convex polygon's boundary at a point inside both edges: the
    /// interiors meet and neither polygon covers the other.
    Proper,
    /// The boundaries touch, or the other boundary runs inside the convex polygon.
    Other,
}

/// How the `edges` (all of another polygon's edges near it) meet the convex polygon
/// bounded by the closed ring `ring`, whose turns all go `turn`.
pub(crate) fn convex_contact(
    ring: &[Coord],
    turn: Orientation,
    edges: impl Iterator<Item = (Coord, Coord, u32)>,
) -> Contact {
    let mut contact = Contact::Apart;
    for (u, v, _) in edges {
        if misses_convex(ring, turn, u, v) {
            continue;
        }
        if ring
            .windows(2)
            .any(|w| matches!(meet(w[0], w[1], u, v), Meeting::Proper))
        {
            return Contact::Proper;
        }
        contact = Contact::Other;
    }
    contact
}

/// Whether the segment `uv` misses the convex polygon: a line through an edge of the ring,
/// or the segment's own line, separates them (two convex sets that do not meet are
/// separated by one of these lines).
fn misses_convex(ring: &[Coord], turn: Orientation, u: Coord, v: Coord) -> bool {
    let outward = match turn {
        Orientation::CounterClockwise => Orientation::Clockwise,
        _ => Orientation::CounterClockwise,
    };
    let by_edge = ring.windows(2).any(|w| {
        RobustKernel::orient2d(w[0], w[1], u) == outward
            && RobustKernel::orient2d(w[0], w[1], v) == outward
    });
    by_edge || {
        let side = RobustKernel::orient2d(u, v, ring[0]);
        side != Orientation::Collinear
            && ring[1..]
                .iter()
                .all(|&c| RobustKernel::orient2d(u, v, c) == side)
    }
}

/// `a` intersects `b`: the boundaries meet, or a vertex of one lies inside the other.
fn intersects(a: &Geometry, pa: &impl Edges, pb: &impl Edges) -> bool {
    if boundaries_meet(a, pb) {
        return true;
    }
    // The boundaries are apart: one polygon of `a` is inside `b` if its first vertex is,
    // and a ring of `b` inside `a` has all its vertices in `a`'s box.
    if polygons_of(a)
        .iter()
        .filter_map(|p| p.exterior().0.first())
        .any(|c| pb.position(c.x, c.y) != CoordPos::Outside)
    {
        return true;
    }
    pb.edges_near(pa.bbox())
        .any(|(u, _, _)| pa.position(u.x, u.y) != CoordPos::Outside)
}

/// Whether an edge of `a` meets (crosses or touches) an edge `pb` finds near it.
fn boundaries_meet(a: &Geometry, pb: &impl Edges) -> bool {
    all_edges(a).any(|(p, q, _)| {
        pb.edges_near(Rect::new(p, q))
            .any(|(u, v, _)| !matches!(meet(p, q, u, v), Meeting::Apart))
    })
}

/// Polygons with at most this many edges are placed by geo's point location, which walks
/// them, rather than through their bands, which need the clean check.
const WALKED_EDGES: usize = 1024;

/// `a` intersects `b`, decided without the clean check where geo's `Intersects` (which
/// `Predicate::test` asks, valid input or not) is sure to say the same: for a single
/// polygon `a` without holes against a single polygon `b`, geo says yes when their
/// exteriors' boxes meet and `a`'s edges touch any of `b`'s rings, or the first vertex of
/// either exterior is not outside the other. `None` for other pairs, where a ring of `b`
/// may lie beyond its exterior's box (out of reach of `edges_near`), or where a large `b`
/// would need its clean check to be placed by its bands.
fn intersects_whatever_clean(
    a: &Geometry,
    pa: &impl Edges,
    b: &Geometry,
    pb: &impl Edges,
) -> Option<bool> {
    let (Geometry::Polygon(polygon_a), Geometry::Polygon(polygon_b)) = (a, b) else {
        return None;
    };
    if !polygon_a.interiors().is_empty() || !pb.finds_every_edge() {
        return None;
    }
    if boundaries_meet(a, pb) {
        return Some(true);
    }
    let (Some(&a0), Some(&b0)) = (
        polygon_a.exterior().0.first(),
        polygon_b.exterior().0.first(),
    ) else {
        return Some(false);
    };
    Some(
        locate_as_geo(b, pb, a0)? != CoordPos::Outside
            || locate_as_geo(a, pa, b0)? != CoordPos::Outside,
    )
}

/// Where `c` lies against `g` (prepared as `pg`) as geo's point location says: by walking
/// a small polygon, through the bands of a large one whose rings are clean or only touch
/// (where parity and geo agree); `None` for a large one otherwise.
fn locate_as_geo(g: &Geometry, pg: &impl Edges, c: Coord) -> Option<CoordPos> {
    use geo::algorithm::coordinate_position::CoordinatePosition;
    if pg.size() <= WALKED_EDGES {
        Some(g.coordinate_position(&c))
    } else if edge_based(pg.cleanliness(g)) {
        Some(pg.position(c.x, c.y))
    } else {
        None
    }
}

/// Where the pieces of one side's edges lie against the other side: whether any meets its
/// boundary, lies inside or lies outside, and per polygon (some piece inside, some outside).
struct Pieces {
    contact: bool,
    inside: bool,
    outside: bool,
    per_polygon: Vec<(bool, bool)>,
}

/// Cuts `own_edges` (the edges of one side, or those of them near the other's box) at their
/// contacts with `other`'s boundary and places the pieces; `None` at the first proper
/// crossing. A piece on `other`'s boundary is placed by the sides of the two interiors:
/// where they lie on the same side of it, this side's interior next to the piece is inside
/// `other`; where they lie on opposite sides, it is outside.
fn pieces<'e>(
    own_edges: impl Iterator<Item = SidedEdge> + 'e,
    polygons: usize,
    other: &impl Edges,
) -> Option<Pieces> {
    let mut out = Pieces {
        contact: false,
        inside: false,
        outside: false,
        per_polygon: vec![(false, false); polygons],
    };
    let mut cuts: Vec<Coord> = Vec::new();
    let mut near: Vec<(Coord, Coord, bool)> = Vec::new();
    for (p, q, k, left) in own_edges {
        cuts.clear();
        near.clear();
        for (u, v, _, other_left) in other.sided_edges_near(Rect::new(p, q)) {
            match meet(p, q, u, v) {
                Meeting::Apart => {}
                Meeting::Proper => return None,
                Meeting::Touch => {
                    for w in [u, v] {
                        if w != p && w != q && on_segment(p, q, w) {
                            cuts.push(w);
                        }
                    }
                    near.push((u, v, other_left));
                }
            }
        }
        let place = |c: Coord| other.position(c.x, c.y);
        let mark = |position: CoordPos, out: &mut Pieces| match position {
            CoordPos::Inside => {
                out.inside = true;
                out.per_polygon[k as usize].0 = true;
            }
            CoordPos::Outside => {
                out.outside = true;
                out.per_polygon[k as usize].1 = true;
            }
            CoordPos::OnBoundary => {}
        };
        if near.is_empty() {
            // No contact: the whole edge is on one side; its first end says which.
            mark(place(p), &mut out);
            continue;
        }
        out.contact = true;
        // Cuts in order along the edge (they lie on it, so one coordinate orders them).
        if (q.x - p.x).abs() >= (q.y - p.y).abs() {
            let s = (q.x - p.x).signum();
            cuts.sort_by(|a, b| (s * a.x).total_cmp(&(s * b.x)));
        } else {
            let s = (q.y - p.y).signum();
            cuts.sort_by(|a, b| (s * a.y).total_cmp(&(s * b.y)));
        }
        cuts.dedup();
        let mut from = p;
        for to in cuts.iter().copied().chain(std::iter::once(q)) {
            let shared = near
                .iter()
                .find(|&&(u, v, _)| on_segment(u, v, from) && on_segment(u, v, to));
            match shared {
                Some(&(u, v, other_left)) => {
                    // The other edge runs the same way as this one, or against it.
                    let along = (to.x - from.x) * (v.x - u.x) + (to.y - from.y) * (v.y - u.y) > 0.0;
                    // The piece itself is on the boundary, not inside; only the interior
                    // next to it is placed. Outside, it keeps this side from being covered.
                    if left == (other_left == along) {
                        out.per_polygon[k as usize].0 = true;
                    } else {
                        out.outside = true;
                        out.per_polygon[k as usize].1 = true;
                    }
                }
                None => {
                    let mid = Coord {
                        x: from.x + (to.x - from.x) / 2.0,
                        y: from.y + (to.y - from.y) / 2.0,
                    };
                    mark(place(mid), &mut out);
                }
            }
            from = to;
        }
    }
    Some(out)
}

/// A point inside polygon `k` of `g`.
fn interior_point(g: &Geometry, k: usize) -> Option<Coord> {
    polygons_of(g).get(k)?.interior_point().map(|p| p.0)
}

fn facts(a: &Geometry, pa: &impl Edges, b: &Geometry, pb: &impl Edges) -> Option<Facts> {
    let a_pieces = pieces(all_sided_edges(a), pa.polygons(), pb)?;
    // `b`'s edges near `a`: beyond `a`'s box they are outside `a`.
    let b_pieces = pieces(pb.sided_edges_near(pa.bbox()), pb.polygons(), pa)?;
    let b_beyond = !box_within(pb.bbox(), pa.bbox());
    // A polygon with no piece inside or outside has its whole boundary on the other's:
    // one interior point places it.
    let placed_in_b =
        |k: usize| interior_point(a, k).is_some_and(|c| pb.position(c.x, c.y) == CoordPos::Inside);
    let placed_in_a =
        |k: usize| interior_point(b, k).is_some_and(|c| pa.position(c.x, c.y) == CoordPos::Inside);
    let a_polygon_in = |k: usize| match a_pieces.per_polygon[k] {
        (true, _) => true,
        (false, true) => false,
        (false, false) => placed_in_b(k),
    };
    let a_all_in = (0..pa.polygons()).all(a_polygon_in);
    let interiors_meet = a_pieces.inside || b_pieces.inside || (0..pa.polygons()).any(a_polygon_in);
    let b_all_in = !b_beyond
        && (0..pb.polygons()).all(|k| match b_pieces.per_polygon[k] {
            (true, _) => true,
            (false, true) => false,
            (false, false) => placed_in_a(k),
        });
    Some(Facts {
        contact: a_pieces.contact || b_pieces.contact,
        a_in: a_pieces.inside,
        a_out: a_pieces.outside,
        b_in: b_pieces.inside,
        b_out: b_pieces.outside || b_beyond,
        a_all_in,
        b_all_in,
        interiors_meet,
    })
}

#[cfg(test)]
pub(crate) mod tests;
