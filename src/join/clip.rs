//! Exact predicates between a polygon and a much larger clean one, where `Relate` would
//! walk every vertex of the larger one: the larger one is first cut down to its edges near
//! the smaller one, and `Relate` runs on that.
//!
//! This is for the pairs the edge-based tests (`join::areal`) leave alone, such as a small
//! polygon whose rings cross (`Cleanliness::Unsound`), against a large clean or touching
//! one. Its result is geo's `Relate` on the original pair, whatever geo makes of the small
//! side.
//!
//! The cut (`Outline::polygon_near`, from a tree of edge boxes built once per polygon; see
//! `outline`) keeps, unchanged, every edge of the large polygon whose box
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
use geo::{Coord, CoordsIter, Geometry, Intersects, MultiPolygon, Rect, Relate};

use super::index::edges::polygons_of;
use super::Predicate;

/// The large side must have at least this many vertices, and this many times the small
/// side's, for the cut to pay.
const MIN_LARGE_VERTICES: usize = 256;
const SIZE_RATIO: usize = 4;

/// Whether `small` against `large` is a pair the cut pays for: `large` has at least
/// `MIN_LARGE_VERTICES` and `SIZE_RATIO` times the vertices of `small`.
pub(crate) fn worth_cutting(small: &Geometry, large: &Geometry) -> bool {
    let large_vertices = large.coords_count();
    large_vertices >= MIN_LARGE_VERTICES && large_vertices >= SIZE_RATIO * small.coords_count()
}

/// `small <predicate> large` from `large`'s outline near `small`, where `outline` was
/// prepared from `large`, a polygon or multipolygon whose rings have an area and nest as a
/// valid polygon's do (`Cleanliness::Clean` or `Touching`); `None` where the cut cannot
/// be used.
pub(crate) fn test(
    predicate: Predicate,
    small: &Geometry,
    large: &Geometry,
    outline: &Outline,
) -> Option<bool> {
    if matches!(predicate, Predicate::DWithin(_)) {
        return None;
    }
    let large_polygons = polygons_of(large);
    if polygons_of(small).is_empty() || large_polygons.is_empty() {
        return None;
    }
    let window = Window::around(crate::geometry::bounds(small)?)?;
    if outline.within(&window) {
        return None;
    }
    let cut = match large {
        Geometry::Polygon(p) => match outline.polygon_near(0, p, &window)? {
            Some(cut) => Geometry::Polygon(cut),
            None => return predicate.polygon_in_exterior(),
        },
        _ => {
            let mut parts = Vec::new();
            for (k, p) in large_polygons.iter().enumerate() {
                if let Some(cut) = outline.polygon_near(k, p, &window)? {
                    parts.push(cut);
                }
            }
            Geometry::MultiPolygon(MultiPolygon(parts))
        }
    };
    let intersects = small.intersects(&cut);
    if predicate == Predicate::Intersects || !intersects {
        return Some(intersects);
    }
    Some(predicate.of_matrix(&leaving(&small.relate(&cut))?))
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

/// A box around the small side whose border lies strictly outside the small side's box.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    min: Coord,
    max: Coord,
}

impl Window {
    /// The window round `bounds`, the small side's box.
    fn around(bounds: Rect) -> Option<Window> {
        let (min, max) = (bounds.min(), bounds.max());
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

    /// Whether the box `[min x, min y, max x, max y]` meets the (closed) window.
    fn meets(&self, b: [f64; 4]) -> bool {
        b[2] >= self.min.x && b[0] <= self.max.x && b[3] >= self.min.y && b[1] <= self.max.y
    }

    /// Whether the box `[min x, min y, max x, max y]` lies in the window.
    fn holds(&self, b: [f64; 4]) -> bool {
        b[0] >= self.min.x && b[2] <= self.max.x && b[1] >= self.min.y && b[3] <= self.max.y
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

    /// The steps round the window from `p` to `q`, for edges from one to the other whose
    /// box misses it: they lie in one half-plane beside the window, so they move at most
    /// two steps.
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

mod outline;

pub(crate) use outline::Outline;

#[cfg(test)]
mod tests;
