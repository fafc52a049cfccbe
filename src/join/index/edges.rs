//! What the polygon-polygon predicates ask of either side ([`Edges`]): its box, the edges
//! near a box, where a point lies, and whether it is clean. A large polygon answers through
//! its prepared bands ([`PreparedPolygon`]); a small one ([`Plain`]) walks its few edges,
//! with nothing built.

use std::cell::Cell;

use geo::algorithm::coordinate_position::CoordPos;
use geo::{Coord, Geometry, Polygon, Rect};

use super::clean::Cleanliness;
use super::prepared::{locate, NearEdge, PreparedPolygon};

/// An edge with the side its polygon's interior lies on: `true` for the left of the edge
/// as it runs from its first end to its second.
pub(crate) type SidedEdge = (Coord, Coord, u32, bool);

/// Set in an edge's polygon number where the interior lies on its left.
pub(crate) const INTERIOR_LEFT: u32 = 1 << 31;

/// Whether the interior of a polygon lies to the left of `ring` (its exterior when
/// `shell`, else one of its holes) as the ring runs. For rings that only touch themselves
/// (`Cleanliness::Touching`) every loop keeps the interior on one side, the side the
/// ring's signed area gives.
pub(crate) fn interior_left(ring: &geo::LineString, shell: bool) -> bool {
    let twice_area: f64 = ring
        .0
        .windows(2)
        .map(|w| w[0].x * w[1].y - w[1].x * w[0].y)
        .sum();
    (twice_area > 0.0) == shell
}

/// Every edge of `g` with the side of its interior (see [`all_edges`]).
pub(crate) fn all_sided_edges(g: &Geometry) -> impl Iterator<Item = SidedEdge> + '_ {
    polygons_of(g).iter().enumerate().flat_map(|(k, p)| {
        std::iter::once((p.exterior(), true))
            .chain(p.interiors().iter().map(|r| (r, false)))
            .flat_map(move |(r, shell)| {
                let left = interior_left(r, shell);
                r.0.windows(2).map(move |w| (w[0], w[1], k as u32, left))
            })
            .filter(|(a, b, _, _)| a != b)
    })
}

/// A polygon or multipolygon as the edge-based predicates see it.
pub(crate) trait Edges {
    /// The box of the exterior rings (a hole outside its shell may lie beyond it).
    fn bbox(&self) -> Rect;
    /// Number of polygons.
    fn polygons(&self) -> usize;
    /// Every edge whose box meets `rect`, once, with the polygon it belongs to.
    fn edges_near(&self, rect: Rect) -> impl Iterator<Item = NearEdge> + '_;
    /// [`Edges::edges_near`] with the side of each edge's interior.
    fn sided_edges_near(&self, rect: Rect) -> impl Iterator<Item = SidedEdge> + '_;
    /// Where `(x, y)` lies: inside, on the boundary, or outside.
    fn position(&self, x: f64, y: f64) -> CoordPos;
    /// How many edges the ray from `v` to the right crosses (half-open in y).
    fn ray_crossings(&self, v: Coord) -> usize;
    /// How clean `geometry` (what this side was made from) is (see `clean`).
    fn cleanliness(&self, geometry: &Geometry) -> Cleanliness;
    /// The work of walking every edge.
    fn size(&self) -> usize;
    /// Whether every point of every ring lies on an edge that [`Edges::edges_near`]
    /// gives for a box around it: no ring is a lone point, and none lies outside the box
    /// (a hole outside its shell).
    fn finds_every_edge(&self) -> bool;
}

impl Edges for PreparedPolygon {
    fn bbox(&self) -> Rect {
        PreparedPolygon::bbox(self)
    }
    fn polygons(&self) -> usize {
        self.polygons
    }
    fn edges_near(&self, rect: Rect) -> impl Iterator<Item = NearEdge> + '_ {
        PreparedPolygon::edges_near(self, rect)
    }
    fn sided_edges_near(&self, rect: Rect) -> impl Iterator<Item = SidedEdge> + '_ {
        PreparedPolygon::sided_edges_near(self, rect)
    }
    fn position(&self, x: f64, y: f64) -> CoordPos {
        PreparedPolygon::position(self, x, y)
    }
    fn ray_crossings(&self, v: Coord) -> usize {
        PreparedPolygon::ray_crossings(self, v)
    }
    fn cleanliness(&self, geometry: &Geometry) -> Cleanliness {
        PreparedPolygon::cleanliness(self, geometry)
    }
    fn size(&self) -> usize {
        PreparedPolygon::size(self)
    }
    fn finds_every_edge(&self) -> bool {
        PreparedPolygon::finds_every_edge(self)
    }
}

/// Polygons of a polygon or multipolygon; none for other geometries.
pub(crate) fn polygons_of(g: &Geometry) -> &[Polygon] {
    match g {
        Geometry::Polygon(p) => std::slice::from_ref(p),
        Geometry::MultiPolygon(m) => &m.0,
        _ => &[],
    }
}

/// Every edge of `g` (zero-length ones left out), with the polygon it belongs to.
pub(crate) fn all_edges(g: &Geometry) -> impl Iterator<Item = NearEdge> + '_ {
    polygons_of(g).iter().enumerate().flat_map(|(k, p)| {
        std::iter::once(p.exterior())
            .chain(p.interiors())
            .flat_map(move |r| r.0.windows(2).map(move |w| (w[0], w[1], k as u32)))
            .filter(|(a, b, _)| a != b)
    })
}

/// Whether a ring is empty or has an edge of non-zero length (is not one repeated point),
/// so that its points all lie on its edges.
pub(crate) fn has_edge_or_is_empty(ring: &geo::LineString) -> bool {
    ring.0.is_empty() || ring.0.windows(2).any(|w| w[0] != w[1])
}

/// A small polygon, its edges (gathered once) walked whole for every question.
pub(crate) struct Plain {
    bbox: Rect,
    polygons: usize,
    edges: Vec<SidedEdge>,
    clean: Cell<Option<Cleanliness>>,
    /// Every ring has an edge of non-zero length (its edges are walked whole, box or not).
    edges_hold_rings: bool,
}

impl Plain {
    /// `None` for geometries other than non-empty polygons and multipolygons, and for
    /// those with more than `max_edges` edges.
    pub(crate) fn new(geometry: &Geometry, max_edges: usize) -> Option<Plain> {
        let polygons = polygons_of(geometry).len();
        if polygons == 0 || all_edges(geometry).nth(max_edges).is_some() {
            return None;
        }
        Some(Plain {
            bbox: geo::BoundingRect::bounding_rect(geometry)?,
            polygons,
            edges: all_sided_edges(geometry).collect(),
            clean: Cell::new(None),
            edges_hold_rings: polygons_of(geometry)
                .iter()
                .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
                .all(has_edge_or_is_empty),
        })
    }
}

impl Edges for Plain {
    fn bbox(&self) -> Rect {
        self.bbox
    }
    fn polygons(&self) -> usize {
        self.polygons
    }
    fn edges_near(&self, rect: Rect) -> impl Iterator<Item = NearEdge> + '_ {
        self.sided_edges_near(rect).map(|(a, b, k, _)| (a, b, k))
    }
    fn sided_edges_near(&self, rect: Rect) -> impl Iterator<Item = SidedEdge> + '_ {
        let (min, max) = (rect.min(), rect.max());
        self.edges.iter().copied().filter(move |&(a, b, _, _)| {
            a.x.max(b.x) >= min.x
                && a.x.min(b.x) <= max.x
                && a.y.max(b.y) >= min.y
                && a.y.min(b.y) <= max.y
        })
    }
    fn position(&self, x: f64, y: f64) -> CoordPos {
        let (min, max) = (self.bbox.min(), self.bbox.max());
        if x < min.x || x > max.x || y < min.y || y > max.y {
            return CoordPos::Outside;
        }
        locate(self.edges.iter().map(|&(a, b, _, _)| (a, b)), x, y)
    }
    fn ray_crossings(&self, v: Coord) -> usize {
        self.edges
            .iter()
            .filter(|&&(a, b, _, _)| super::clean::crosses_ray(a, b, v))
            .count()
    }
    fn cleanliness(&self, geometry: &Geometry) -> Cleanliness {
        if let Some(known) = self.clean.get() {
            return known;
        }
        let convex = match geometry {
            Geometry::Polygon(p) => {
                p.interiors().is_empty() && super::convex::is_convex_ring(&p.exterior().0)
            }
            _ => false,
        };
        let cleanliness = if convex {
            Cleanliness::Clean
        } else if polygons_of(geometry)
            .iter()
            .all(|p| geo::Area::unsigned_area(p) > 0.0)
        {
            super::clean::cleanliness(self, geometry)
        } else {
            Cleanliness::Unsound
        };
        self.clean.set(Some(cleanliness));
        cleanliness
    }
    fn size(&self) -> usize {
        self.edges.len()
    }
    fn finds_every_edge(&self) -> bool {
        self.edges_hold_rings
    }
}
