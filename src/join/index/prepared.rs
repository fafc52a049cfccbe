//! Polygons prepared for many point tests: every ring edge bucketed into horizontal bands,
//! so a point looks only at the few edges of its band instead of walking all edges.
//!
//! Within the polygon's envelope (the exterior's box), the test counts ray crossings over
//! all rings (even-odd), as GEOS's indexed point-in-area locator does, with geo's robust
//! orientation predicate deciding on which side of an edge the point lies; a point on an
//! edge is on the boundary; a point outside the envelope is outside.

use geo::algorithm::coordinate_position::CoordPos;
use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo::{Coord, Geometry, LineString, Rect};

use super::super::clip::Outline;
use super::clean::Cleanliness;
use super::edges::{interior_left, SidedEdge, INTERIOR_LEFT};

/// A polygon or multipolygon ready for fast point location and edge lookups.
#[derive(Debug, Clone)]
pub(crate) struct PreparedPolygon {
    bbox: Rect,
    band_scale: f64,
    /// Start of each band's edges in `edges`; one more entry than there are bands.
    band_starts: Vec<u32>,
    edges: Vec<(Coord, Coord)>,
    /// The polygon (of a multipolygon) each entry of `edges` belongs to, with
    /// `INTERIOR_LEFT` set where its interior lies on the edge's left.
    edge_polygon: Vec<u32>,
    /// Number of polygons.
    pub(crate) polygons: usize,
    /// Whether every polygon has a non-zero area (a degenerate one has no interior).
    pub(crate) has_area: bool,
    /// Whether every point of every ring lies on one of `edges` (no ring is a lone point),
    /// so that a box no edge comes near holds no point of the boundary.
    pub(crate) edges_hold_rings: bool,
    /// Whether, besides, every ring lies in `bbox` (the exterior's box): then
    /// `edges_near` finds every edge that meets a box, even of a hole outside its shell.
    finds_every_edge: bool,
    /// How clean the polygon is (see `clean`), found out when first asked.
    clean: std::sync::OnceLock<Cleanliness>,
    /// Its rings prepared for cutting down to a window (`join::clip`), when first asked.
    outline: std::sync::OnceLock<Outline>,
}

/// An edge near a box: its ends and the polygon it belongs to.
pub(crate) type NearEdge = (Coord, Coord, u32);

impl PreparedPolygon {
    /// Prepares polygons and multipolygons; `None` for other geometries and empty ones.
    pub(crate) fn new(geometry: &Geometry) -> Option<PreparedPolygon> {
        let polygons: &[geo::Polygon] = match geometry {
            Geometry::Polygon(p) => std::slice::from_ref(p),
            Geometry::MultiPolygon(mp) => &mp.0,
            _ => return None,
        };
        let rings: Vec<(u32, &LineString)> = polygons
            .iter()
            .enumerate()
            .flat_map(|(k, p)| {
                std::iter::once((p.exterior(), true))
                    .chain(p.interiors().iter().map(|r| (r, false)))
                    .map(move |(r, shell)| {
                        let left = match interior_left(r, shell) {
                            true => INTERIOR_LEFT,
                            false => 0,
                        };
                        (k as u32 | left, r)
                    })
            })
            .collect();
        let all: Vec<(Coord, Coord, u32)> = rings
            .iter()
            .flat_map(|&(k, r)| r.0.windows(2).map(move |w| (w[0], w[1], k)))
            .filter(|(a, b, _)| a != b)
            .collect();
        let has_area = polygons.iter().all(|p| geo::Area::unsigned_area(p) > 0.0);
        let edges_hold_rings = rings
            .iter()
            .all(|(_, r)| super::edges::has_edge_or_is_empty(r));
        // The exterior's box, as GEOS's envelope: a point outside it is outside the polygon,
        // whatever an (invalid) hole outside the shell encloses.
        let bbox = geo::BoundingRect::bounding_rect(geometry)?;
        let finds_every_edge = edges_hold_rings
            && rings
                .iter()
                .all(|(_, r)| r.0.iter().all(|c| geo::Intersects::intersects(&bbox, c)));
        let bands = (all.len() / 4).clamp(1, 1 << 14);
        let height = bbox.height();
        let band_scale = if height > 0.0 {
            bands as f64 / height
        } else {
            0.0
        };
        let band_of =
            |y: f64| -> usize { (((y - bbox.min().y) * band_scale) as usize).min(bands - 1) };
        // Count, then fill: each edge goes to every band its y-range touches.
        let mut counts = vec![0u32; bands + 1];
        for (a, b, _) in &all {
            for band in band_of(a.y.min(b.y))..=band_of(a.y.max(b.y)) {
                counts[band + 1] += 1;
            }
        }
        for i in 1..counts.len() {
            counts[i] += counts[i - 1];
        }
        let mut fill = counts.clone();
        let mut edges = vec![(Coord::zero(), Coord::zero()); counts[bands] as usize];
        let mut edge_polygon = vec![0u32; counts[bands] as usize];
        for &(a, b, k) in &all {
            for band in band_of(a.y.min(b.y))..=band_of(a.y.max(b.y)) {
                edges[fill[band] as usize] = (a, b);
                edge_polygon[fill[band] as usize] = k;
                fill[band] += 1;
            }
        }
        Some(PreparedPolygon {
            bbox,
            band_scale,
            band_starts: counts,
            edges,
            edge_polygon,
            polygons: polygons.len(),
            has_area,
            edges_hold_rings,
            finds_every_edge,
            clean: std::sync::OnceLock::new(),
            outline: std::sync::OnceLock::new(),
        })
    }

    /// The outline of `geometry`, which this was prepared from, for cutting it down to a
    /// window (built once); `None` unless its rings have an area and nest as a valid
    /// polygon's do (`Cleanliness::Clean` or `Touching`), as the cut needs.
    pub(crate) fn clean_outline(&self, geometry: &Geometry) -> Option<&Outline> {
        matches!(
            self.cleanliness(geometry),
            Cleanliness::Clean | Cleanliness::Touching
        )
        .then(|| {
            self.outline
                .get_or_init(|| Outline::new(super::edges::polygons_of(geometry)))
        })
    }

    /// How clean `geometry`, which this was prepared from, is (checked once).
    pub(crate) fn cleanliness(&self, geometry: &Geometry) -> Cleanliness {
        *self.clean.get_or_init(|| {
            if self.has_area {
                super::clean::cleanliness(self, geometry)
            } else {
                Cleanliness::Unsound
            }
        })
    }

    /// Whether [`PreparedPolygon::position`] places every point off the boundary of
    /// `geometry` (which this was prepared from) as geo's point location does: the
    /// polygon is clean, or its rings only touch (`Cleanliness::Touching`) or have no area
    /// (`Cleanliness::Sound`).
    /// A ring that is a lone point is left out: no edge holds it, so a box that meets no
    /// edge may still hold that point of the boundary.
    pub(crate) fn is_sound(&self, geometry: &Geometry) -> bool {
        self.edges_hold_rings && self.cleanliness(geometry) != Cleanliness::Unsound
    }

    /// How many edges the ray from `(x, y)` to the right crosses (half-open in y), each
    /// edge counted once.
    pub(crate) fn ray_crossings(&self, v: Coord) -> usize {
        if v.y < self.bbox.min().y || v.y > self.bbox.max().y {
            return 0;
        }
        let band = self.band_of(v.y);
        self.edges[self.band_starts[band] as usize..self.band_starts[band + 1] as usize]
            .iter()
            .filter(|&&(a, b)| super::clean::crosses_ray(a, b, v))
            .count()
    }

    /// See [`Edges::finds_every_edge`](super::edges::Edges::finds_every_edge).
    pub(crate) fn finds_every_edge(&self) -> bool {
        self.finds_every_edge
    }

    /// The box of the exterior rings (a hole outside its shell may lie beyond it).
    pub(crate) fn bbox(&self) -> Rect {
        self.bbox
    }

    /// Entries in the band index: the work of walking every edge of this side.
    pub(crate) fn size(&self) -> usize {
        self.edges.len()
    }

    fn band_of(&self, y: f64) -> usize {
        let bands = self.band_starts.len() - 1;
        (((y - self.bbox.min().y) * self.band_scale).max(0.0) as usize).min(bands - 1)
    }

    /// Every edge whose box meets `rect`, each once (an edge spanning several bands is
    /// taken in the first band of the query it is listed in).
    pub(crate) fn edges_near(&self, rect: Rect) -> impl Iterator<Item = NearEdge> + '_ {
        self.tagged_edges_near(rect)
            .map(|(a, b, k)| (a, b, k & !INTERIOR_LEFT))
    }

    /// The edges near `rect` with their polygon numbers as stored (side bit included).
    fn tagged_edges_near(&self, rect: Rect) -> impl Iterator<Item = NearEdge> + '_ {
        let (min, max) = (rect.min(), rect.max());
        let outside = max.x < self.bbox.min().x
            || min.x > self.bbox.max().x
            || max.y < self.bbox.min().y
            || min.y > self.bbox.max().y;
        let (first, last) = if outside {
            (1, 0)
        } else {
            (self.band_of(min.y), self.band_of(max.y))
        };
        (first..=last).flat_map(move |band| {
            let range = self.band_starts[band] as usize..self.band_starts[band + 1] as usize;
            self.edges[range.clone()]
                .iter()
                .zip(&self.edge_polygon[range])
                .filter(move |(&(a, b), _)| {
                    let (ylo, yhi) = if a.y < b.y { (a.y, b.y) } else { (b.y, a.y) };
                    let (xlo, xhi) = if a.x < b.x { (a.x, b.x) } else { (b.x, a.x) };
                    xhi >= min.x
                        && xlo <= max.x
                        && yhi >= min.y
                        && ylo <= max.y
                        && (band == first || self.band_of(ylo) == band)
                })
                .map(|(&(a, b), &k)| (a, b, k))
        })
    }

    /// [`PreparedPolygon::edges_near`], each edge with the side of its interior.
    pub(crate) fn sided_edges_near(&self, rect: Rect) -> impl Iterator<Item = SidedEdge> + '_ {
        self.tagged_edges_near(rect)
            .map(|(a, b, k)| (a, b, k & !INTERIOR_LEFT, k & INTERIOR_LEFT != 0))
    }

    /// Where `(x, y)` lies: inside, on the boundary, or outside.
    pub(crate) fn position(&self, x: f64, y: f64) -> CoordPos {
        let (min, max) = (self.bbox.min(), self.bbox.max());
        if x < min.x || x > max.x || y < min.y || y > max.y {
            return CoordPos::Outside;
        }
        let bands = self.band_starts.len() - 1;
        let band = (((y - min.y) * self.band_scale) as usize).min(bands - 1);
        locate(
            self.edges[self.band_starts[band] as usize..self.band_starts[band + 1] as usize]
                .iter()
                .copied(),
            x,
            y,
        )
    }
}

/// Where `(x, y)` lies against the rings whose edges (all those its horizontal line may
/// meet) are `edges`: inside (an odd number of crossings of the ray to the right), on an
/// edge, or outside.
#[inline]
pub(crate) fn locate(edges: impl Iterator<Item = (Coord, Coord)>, x: f64, y: f64) -> CoordPos {
    let p = Coord { x, y };
    let mut inside = false;
    for (a, b) in edges {
        let (ylo, yhi) = if a.y < b.y { (a.y, b.y) } else { (b.y, a.y) };
        if y < ylo || y > yhi {
            continue;
        }
        let (xlo, xhi) = if a.x < b.x { (a.x, b.x) } else { (b.x, a.x) };
        if x > xhi {
            // Wholly left of the point: neither crossed by the ray nor touched.
            continue;
        }
        if x < xlo {
            // Wholly right of the point: the ray crosses it exactly when it spans y
            // (half-open), with no orientation to decide.
            if (a.y > y) != (b.y > y) {
                inside = !inside;
            }
            continue;
        }
        let orientation = RobustKernel::orient2d(a, b, p);
        if orientation == Orientation::Collinear && x >= a.x.min(b.x) && x <= a.x.max(b.x) {
            return CoordPos::OnBoundary;
        }
        // Half-open rule: an edge counts when one end is strictly above the point.
        if (a.y > y) != (b.y > y) {
            // The ray to the right crosses an upward edge with the point on its left,
            // or a downward edge with the point on its right.
            let crosses = if b.y > a.y {
                orientation == Orientation::CounterClockwise
            } else {
                orientation == Orientation::Clockwise
            };
            if crosses {
                inside = !inside;
            }
        }
    }
    if inside {
        CoordPos::Inside
    } else {
        CoordPos::Outside
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::algorithm::coordinate_position::CoordinatePosition;
    use proptest::prelude::*;

    /// A star-shaped (so simple) ring: vertices at increasing angles around a centre.
    fn star(cx: f64, cy: f64, radii: &[f64]) -> LineString {
        let n = radii.len();
        let mut pts: Vec<(f64, f64)> = radii
            .iter()
            .enumerate()
            .map(|(k, r)| {
                let a = k as f64 * std::f64::consts::TAU / n as f64;
                ((cx + r * a.cos()).round(), (cy + r * a.sin()).round())
            })
            .collect();
        pts.dedup();
        LineString::from(pts)
    }

    proptest! {
        /// Agrees with geo's point location (on simple rings, where geo's rule and the
        /// even-odd rule agree) for points anywhere, on vertices and on edges, for polygons
        /// with holes and rings spread over several parts.
        #[test]
        fn matches_geo_coordinate_position(
            rings in proptest::collection::vec((0i32..30, 0i32..30, proptest::collection::vec(2.0..12.0f64, 3..9)), 1..4),
            probes in proptest::collection::vec((0i32..60, 0i32..60), 1..40),
        ) {
            let rings: Vec<LineString> = rings.iter().map(|(cx, cy, r)| star(*cx as f64, *cy as f64, r)).collect();
            let shape = Geometry::Polygon(geo::Polygon::new(rings[0].clone(), rings[1..].to_vec()));
            let Some(prepared) = PreparedPolygon::new(&shape) else { return Ok(()) };
            let mut points: Vec<Coord> = probes.iter().map(|&(x, y)| Coord { x: x as f64 / 2.0, y: y as f64 / 2.0 }).collect();
            for r in &rings {
                points.extend(r.0.iter().copied());
                points.extend(r.0.windows(2).map(|w| Coord { x: (w[0].x + w[1].x) / 2.0, y: (w[0].y + w[1].y) / 2.0 }));
            }
            for p in points {
                let closed: Vec<LineString> = rings.iter().map(|r| { let mut r = r.clone(); r.close(); r }).collect();
                let on_boundary = closed.iter().any(|r| geo::algorithm::coordinate_position::coord_pos_relative_to_ring(p, r) == CoordPos::OnBoundary);
                let inside = closed.iter().filter(|r| geo::algorithm::coordinate_position::coord_pos_relative_to_ring(p, r) == CoordPos::Inside).count();
                let envelope = geo::BoundingRect::bounding_rect(&shape).unwrap();
                let in_envelope = p.x >= envelope.min().x && p.x <= envelope.max().x && p.y >= envelope.min().y && p.y <= envelope.max().y;
                let expected = if !in_envelope { CoordPos::Outside } else if on_boundary { CoordPos::OnBoundary } else if inside % 2 == 1 { CoordPos::Inside } else { CoordPos::Outside };
                prop_assert_eq!(prepared.position(p.x, p.y), expected, "{:?}", p);
                if rings.len() == 1 {
                    prop_assert_eq!(prepared.position(p.x, p.y), shape.coordinate_position(&p), "{:?}", p);
                }
            }
        }
    }
}
