//! Exact predicates between a polygon and a much larger clean one, where `Relate` would
//! walk every vertex of the larger one: the larger one is first cut down to its edges near
//! the smaller one, and `Relate` runs on that.
//!
//! This is for the pairs the edge-based tests (`join::areal`) leave alone: a small polygon
//! whose rings cross (`Cleanliness::Unsound`), against a large clean or touching one. Its
//! result is geo's `Relate` on the original pair, whatever geo makes of the small side.
//!
//! The cut (`outline_near`) keeps, unchanged, every edge of the large polygon whose box
//! meets a window: the small side's box with a margin. Each run of edges whose boxes miss
//! the window is replaced by a path along the window's border that winds round the window
//! as the run did, counted in steps between the eight regions around it (each such edge
//! lies in one half-plane beside the window, so it moves at most two steps). Inside the
//! window nothing moves: no cut point is computed, so no coordinate is rounded, and every
//! point there has the same winding number as before. The small side lies inside the
//! window, so the interiors, boundaries and exteriors of the two meet in it as before:
//! every entry of the DE-9IM matrix with the small side's interior or boundary is
//! unchanged. The entries with its exterior are known: the large polygon leaves the
//! window, so its interior and boundary meet the small side's exterior.
//!
//! `Relate` labels a ring's edges by the ring's winding order, which geo reads from the
//! turn at the ring's least vertex, and both `Intersects` and `Relate` compare boxes first.
//! So the edges at the least vertex and at the vertices on the ring's box are kept too,
//! wherever they lie: the cut has the ring's winding order and box.

use std::str::FromStr;

use geo::dimensions::Dimensions;
use geo::relate::IntersectionMatrix;
use geo::{Coord, CoordsIter, Geometry, Intersects, LineString, MultiPolygon, Polygon};
use geo::{Relate, Winding};

use super::Predicate;

/// The large side must have at least this many vertices, and this many times the small
/// side's, for the cut to pay.
const MIN_LARGE_VERTICES: usize = 256;
const SIZE_RATIO: usize = 4;

/// `small <predicate> large` from `large`'s outline near `small`; `None` where the cut does
/// not pay or cannot be used. `large_is_clean` says, when asked, whether `large` is
/// `Cleanliness::Clean` or `Touching` (its rings have an area and nest as a valid
/// polygon's do); it is asked only of a large side many times the small one.
pub(crate) fn test(
    predicate: Predicate,
    small: &Geometry,
    large: &Geometry,
    large_is_clean: impl FnOnce() -> bool,
) -> Option<bool> {
    if matches!(predicate, Predicate::DWithin(_)) {
        return None;
    }
    let (small_polygons, large_polygons) = (polygons(small)?, polygons(large)?);
    let large_vertices = large.coords_count();
    if large_vertices < MIN_LARGE_VERTICES
        || large_vertices < SIZE_RATIO * small.coords_count()
        || !large_is_clean()
    {
        return None;
    }
    let window = Window::around(small_polygons)?;
    if large_polygons
        .iter()
        .flat_map(|p| p.exterior().0.iter())
        .all(|&c| window.holds(c))
    {
        return None;
    }
    let outline = match large {
        Geometry::Polygon(p) => match outline_near(p, &window)? {
            Some(cut) => Geometry::Polygon(cut),
            None => return predicate.polygon_in_exterior(),
        },
        _ => {
            let mut parts = Vec::new();
            for p in large_polygons {
                if let Some(cut) = outline_near(p, &window)? {
                    parts.push(cut);
                }
            }
            Geometry::MultiPolygon(MultiPolygon(parts))
        }
    };
    let intersects = small.intersects(&outline);
    if predicate == Predicate::Intersects || !intersects {
        return Some(intersects);
    }
    Some(predicate.of_matrix(&leaving(&small.relate(&outline))?))
}

/// The matrix with the exterior row of a small side that the large side leaves: the large
/// side's interior and boundary meet it.
fn leaving(m: &IntersectionMatrix) -> Option<IntersectionMatrix> {
    use geo::algorithm::coordinate_position::CoordPos::{Inside, OnBoundary, Outside};
    let symbol = |d: Dimensions| match d {
        Dimensions::Empty => 'F',
        Dimensions::ZeroDimensional => '0',
        Dimensions::OneDimensional => '1',
        Dimensions::TwoDimensional => '2',
    };
    let mut spec: String = [Inside, OnBoundary]
        .iter()
        .flat_map(|&row| [Inside, OnBoundary, Outside].map(|col| symbol(m.get(row, col))))
        .collect();
    spec.push_str("212");
    IntersectionMatrix::from_str(&spec).ok()
}

fn polygons(g: &Geometry) -> Option<&[Polygon]> {
    match g {
        Geometry::Polygon(p) => Some(std::slice::from_ref(p)),
        Geometry::MultiPolygon(m) => Some(&m.0),
        _ => None,
    }
}

/// A box around the small side whose border lies strictly outside the small side's box.
#[derive(Debug, Clone, Copy)]
struct Window {
    min: Coord,
    max: Coord,
}

impl Window {
    fn around(polygons: &[Polygon]) -> Option<Window> {
        let mut coords = polygons.iter().flat_map(|p| p.coords_iter());
        let first = coords.next()?;
        let (mut min, mut max) = (first, first);
        for c in coords {
            (min.x, min.y) = (min.x.min(c.x), min.y.min(c.y));
            (max.x, max.y) = (max.x.max(c.x), max.y.max(c.y));
        }
        let scale = [min.x, min.y, max.x, max.y]
            .iter()
            .fold(1.0f64, |s, v| s.max(v.abs()));
        let margin = ((max.x - min.x).max(max.y - min.y) / 4.0).max(scale * 1e-9);
        let window = Window {
            min: Coord {
                x: min.x - margin,
                y: min.y - margin,
            },
            max: Coord {
                x: max.x + margin,
                y: max.y + margin,
            },
        };
        let strictly_outside = window.min.x < min.x
            && window.min.y < min.y
            && window.max.x > max.x
            && window.max.y > max.y;
        (strictly_outside
            && [window.min, window.max]
                .iter()
                .all(|c| c.x.is_finite() && c.y.is_finite()))
        .then_some(window)
    }

    fn holds(&self, c: Coord) -> bool {
        self.min.x <= c.x && c.x <= self.max.x && self.min.y <= c.y && c.y <= self.max.y
    }

    /// Whether the segment's box meets the (closed) window.
    fn near(&self, p: Coord, q: Coord) -> bool {
        p.x.max(q.x) >= self.min.x
            && p.x.min(q.x) <= self.max.x
            && p.y.max(q.y) >= self.min.y
            && p.y.min(q.y) <= self.max.y
    }

    /// The region of a point outside the window, counter-clockwise from the right: 0 right,
    /// 1 upper right, 2 above, ..., 7 lower right. Odd regions are the corners'.
    fn region(&self, c: Coord) -> Option<i32> {
        let column = (c.x > self.max.x) as i32 - (c.x < self.min.x) as i32;
        let row = (c.y > self.max.y) as i32 - (c.y < self.min.y) as i32;
        Some(match (column, row) {
            (1, 0) => 0,
            (1, 1) => 1,
            (0, 1) => 2,
            (-1, 1) => 3,
            (-1, 0) => 4,
            (-1, -1) => 5,
            (0, -1) => 6,
            (1, -1) => 7,
            _ => return None,
        })
    }

    /// The steps round the window from `p` to `q`, for an edge whose box misses it: such
    /// an edge lies in one half-plane beside the window, so it moves at most two steps.
    fn step(&self, p: Coord, q: Coord) -> Option<i32> {
        let step = (self.region(q)? - self.region(p)? + 4).rem_euclid(8) - 4;
        (step.abs() <= 2).then_some(step)
    }

    /// The window's corner at corner region `region` (odd).
    fn corner(&self, region: i32) -> Coord {
        match region.rem_euclid(8) {
            1 => self.max,
            3 => Coord {
                x: self.min.x,
                y: self.max.y,
            },
            5 => self.min,
            _ => Coord {
                x: self.max.x,
                y: self.min.y,
            },
        }
    }
}

/// The polygon `p` with its edges away from `window` replaced along the window's border
/// (see the module's comment); `Some(None)` when no ring of its exterior is left (it does
/// not come near the window nor wind round it), `None` when the cut changed a ring's
/// winding order.
fn outline_near(p: &Polygon, window: &Window) -> Option<Option<Polygon>> {
    let Some(exterior) = ring_near(p.exterior(), window)? else {
        return Some(None);
    };
    let mut holes = Vec::new();
    for hole in p.interiors() {
        if let Some(cut) = ring_near(hole, window)? {
            holes.push(cut);
        }
    }
    Some(Some(Polygon::new(exterior, holes)))
}

/// The ring cut down to `window` (starting at its first vertex, as geo's `Intersects`
/// looks at it); `Some(None)` for a ring that neither comes near the window nor winds
/// round it, `None` when the cut changed its winding order or a run could not be followed.
///
/// The edges at the ring's least vertex (by x, then y) are kept wherever they lie: geo
/// takes a ring's winding order from the turn there, and the cut, whose other vertices are
/// either the ring's or the window's corners (beyond that vertex), keeps it. Without them,
/// the least vertex of the cut can be the tip of a zigzag that pokes out of the window
/// across the path that replaced a run, where the cut turns the other way.
fn ring_near(ring: &LineString, window: &Window) -> Option<Option<LineString>> {
    let coords = &ring.0;
    let Some(&first) = coords.first() else {
        return Some(None);
    };
    if !coords.windows(2).any(|w| window.near(w[0], w[1])) {
        let mut steps = 0;
        for w in coords.windows(2) {
            steps += window.step(w[0], w[1])?;
        }
        if steps == 0 {
            return Some(None);
        }
    }
    let kept_anyway = kept_anyway(coords);
    let mut out = vec![first];
    // The open run of edges away from the window: the region it started in, and the
    // steps it has taken round the window since.
    let mut run: Option<(i32, i32)> = None;
    for (e, w) in coords.windows(2).enumerate() {
        let (p, q) = (w[0], w[1]);
        if kept_anyway(e) || window.near(p, q) {
            if let Some((start, steps)) = run.take() {
                walk_round(window, start, steps, &mut out);
                out.push(p);
            }
            out.push(q);
        } else {
            let step = window.step(p, q)?;
            run.get_or_insert((window.region(p)?, 0)).1 += step;
        }
    }
    if let Some((start, steps)) = run {
        walk_round(window, start, steps, &mut out);
        out.push(*coords.last()?);
    }
    let cut = LineString(out);
    (cut.winding_order() == ring.winding_order()).then_some(Some(cut))
}

/// Whether edge `e` (from vertex `e` to `e + 1`) of the closed ring `coords` must be kept
/// wherever it lies: the edges from the least vertex's previous distinct vertex to its
/// next, as geo's `winding_order` finds them, and an edge from each vertex where the ring
/// reaches its box, so that the cut has the ring's box (geo's `Intersects` and `Relate`
/// compare boxes first).
fn kept_anyway(coords: &[Coord]) -> impl Fn(usize) -> bool {
    // Vertex `m` is vertex 0 again.
    let m = coords.len().saturating_sub(1).max(1);
    let extreme = |key: fn(&Coord, &Coord) -> std::cmp::Ordering| {
        (0..m)
            .min_by(|&a, &b| key(&coords[a], &coords[b]))
            .unwrap_or(0)
    };
    let least = extreme(|p, q| p.x.total_cmp(&q.x).then(p.y.total_cmp(&q.y)));
    let box_vertices = [
        extreme(|p, q| p.y.total_cmp(&q.y)),
        extreme(|p, q| q.x.total_cmp(&p.x)),
        extreme(|p, q| q.y.total_cmp(&p.y)),
    ];
    let (mut next, mut previous) = ((least + 1) % m, (least + m - 1) % m);
    while next != least && coords[next] == coords[least] {
        next = (next + 1) % m;
    }
    while previous != least && coords[previous] == coords[least] {
        previous = (previous + m - 1) % m;
    }
    let span = (next + m - previous) % m;
    move |e| (e + m - previous) % m < span || box_vertices.contains(&e)
}

/// The window's corners passed on `steps` steps round it from region `start`.
fn walk_round(window: &Window, start: i32, steps: i32, out: &mut Vec<Coord>) {
    let direction = steps.signum();
    for k in 1..=steps.abs() {
        let region = start + direction * k;
        if region.rem_euclid(2) == 1 {
            out.push(window.corner(region));
        }
    }
}

#[cfg(test)]
mod tests;
