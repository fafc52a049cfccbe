//! What the polygon-polygon predicates ask of either side ([`Edges`]): its box, the edges
//! near a box, where a point lies, and whether it is clean. A large polygon answers through
//! its prepared bands ([`PreparedPolygon`]); a small one ([`Plain`]) walks its few edges,
//! with nothing built.

use std::cell::Cell;

use geo::algorithm::coordinate_position::CoordPos;
use geo::{Coord, Geometry, Polygon, Rect};

use super::clean::Cleanliness;
use super::prepared::{locate, NearEdge, PreparedPolygon};

/// A polygon or multipolygon as the edge-based predicates see it.
pub(crate) trait Edges {
    /// The box of every ring.
    fn bbox(&self) -> Rect;
    /// Number of polygons.
    fn polygons(&self) -> usize;
    /// Every edge whose box meets `rect`, once, with the polygon it belongs to.
    fn edges_near(&self, rect: Rect) -> impl Iterator<Item = NearEdge> + '_;
    /// Where `(x, y)` lies: inside, on the boundary, or outside.
    fn position(&self, x: f64, y: f64) -> CoordPos;
    /// How many edges the ray from `v` to the right crosses (half-open in y).
    fn ray_crossings(&self, v: Coord) -> usize;
    /// How clean `geometry` (what this side was made from) is (see `clean`).
    fn cleanliness(&self, geometry: &Geometry) -> Cleanliness;
    /// The work of walking every edge.
    fn size(&self) -> usize;
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

/// A small polygon, its edges (gathered once) walked whole for every question.
pub(crate) struct Plain {
    bbox: Rect,
    polygons: usize,
    edges: Vec<NearEdge>,
    clean: Cell<Option<Cleanliness>>,
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
            edges: all_edges(geometry).collect(),
            clean: Cell::new(None),
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
        let (min, max) = (rect.min(), rect.max());
        self.edges.iter().copied().filter(move |&(a, b, _)| {
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
        locate(self.edges.iter().map(|&(a, b, _)| (a, b)), x, y)
    }
    fn ray_crossings(&self, v: Coord) -> usize {
        self.edges
            .iter()
            .filter(|&&(a, b, _)| super::clean::crosses_ray(a, b, v))
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
}
