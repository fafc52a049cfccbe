//! Nearest-neighbour join: for each left row, the right rows at the smallest distance.

use arrow_array::Array;
use geo::algorithm::coordinate_position::{CoordPos, CoordinatePosition};
use geo::{Distance, Euclidean, Geometry, Point};
use rstar::primitives::GeomWithData;
use rstar::{PointDistance, RTree, AABB};

use super::index::prepared::PreparedPolygon;
use super::index::PartitionIndexed;
use crate::error::Result;
use crate::partition::Partition;

/// How one nearest search runs (see [`nearest_pairs`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct NearestParams {
    /// Pairs farther apart never match.
    pub max_distance: Option<f64>,
    /// Where the search box starts growing.
    pub radius: f64,
    /// A distance past which every right geometry has been searched.
    pub limit: f64,
    /// Right geometries equal to the left one are skipped.
    pub exclusive: bool,
}

/// The (left row, right row, distance) triples of one left partition against the right
/// partitions that may hold its nearest neighbours, in global row numbers.
///
/// For each left geometry the search box grows (from `radius`, by factors of four) until it
/// holds a right geometry; with `best` the smallest exact distance found, one last search
/// with the box grown by `best` is complete (and may find closer ones), because a geometry
/// within `best` of the left geometry has its box within `best` of the left geometry's box. Every right row at exactly
/// the smallest distance is kept (ties, as GeoPandas keeps them); rows farther than
/// `max_distance` never match; with `exclusive`, right geometries equal to the left one are
/// skipped. `limit` bounds the growth: past it every right geometry has
/// been seen.
pub(crate) fn nearest_pairs(
    left: &Partition,
    left_first_row: u64,
    rights: &[&PartitionIndexed],
    right_first_rows: &[u64],
    search: &NearestParams,
) -> Result<Vec<(u64, u64, f64)>> {
    let &NearestParams {
        max_distance,
        radius,
        limit,
        exclusive,
    } = search;
    let mut out = Vec::new();
    let mut order = Vec::with_capacity(rights.len());
    // Right layers of points: one tree over all of their partitions, so that each left point
    // asks one nearest question (and one for ties) however many partitions may hold it.
    let merged: Option<PointTree> =
        (!exclusive && rights.len() > 1 && rights.iter().all(|r| r.points.is_some())).then(|| {
            RTree::bulk_load(
                rights
                    .iter()
                    .enumerate()
                    .flat_map(|(k, r)| {
                        r.points.iter().flat_map(move |tree| {
                            tree.iter().map(move |q| {
                                GeomWithData::new(*q.geom(), (k as u32, q.data as u32))
                            })
                        })
                    })
                    .collect(),
            )
        });
    let array = left.geometry_array();
    for i in 0..array.len() {
        if array.is_null(i) {
            continue;
        }
        let row = left_first_row + i as u64;
        // Points are read straight from their WKB.
        let g = match crate::geometry::point_xy(array.value(i)) {
            Some((x, y)) => Geometry::Point(Point::new(x, y)),
            None => crate::geometry::from_wkb(array.value(i), row)?,
        };
        let Some(b) = crate::geometry::bounds(&g) else {
            continue;
        };
        if let (Geometry::Point(p), Some(tree)) = (&g, &merged) {
            nearest_point_in(*p, row, tree, right_first_rows, max_distance, &mut out);
            continue;
        }
        if let Geometry::Point(p) = g {
            nearest_to_point(
                p,
                row,
                rights,
                right_first_rows,
                search,
                &mut order,
                &mut out,
            );
            continue;
        }
        let g = &g;
        let search = |r: f64| -> Vec<(usize, usize, f64)> {
            let env = AABB::from_corners(
                [b.min().x - r, b.min().y - r],
                [b.max().x + r, b.max().y + r],
            );
            let mut hits = Vec::new();
            for (k, right) in rights.iter().enumerate() {
                for (j, candidate) in right.candidates_in(&env) {
                    if exclusive && candidate == g {
                        continue;
                    }
                    hits.push((k, j, Euclidean.distance(g, candidate)));
                }
            }
            hits
        };
        let cap = max_distance.unwrap_or(f64::INFINITY);
        let mut r = radius.max(f64::MIN_POSITIVE).min(cap);
        let found = loop {
            let hits = search(r);
            let best = hits.iter().map(|h| h.2).fold(f64::INFINITY, f64::min);
            if best.is_finite() {
                if best <= r {
                    break Some((hits, best));
                }
                // A closer geometry may lie just outside this box: search the full radius.
                let hits = search(best);
                let best = hits.iter().map(|h| h.2).fold(f64::INFINITY, f64::min);
                break Some((hits, best));
            }
            if r >= cap || r >= limit {
                break None;
            }
            r = (r * 4.0).min(cap);
        };
        if let Some((hits, best)) = found {
            if best > cap {
                continue;
            }
            let mut mine: Vec<(u64, u64, f64)> = hits
                .into_iter()
                .filter(|h| h.2 == best)
                .map(|(k, j, d)| (row, right_first_rows[k] + j as u64, d))
                .collect();
            mine.sort_by_key(|t| t.1);
            out.extend(mine);
        }
    }
    Ok(out)
}

/// Right points from several partitions, each with its partition and its row there.
type PointTree = RTree<GeomWithData<[f64; 2], (u32, u32)>>;

/// The nearest right points of one left point, from one tree over every right partition's
/// points (data: partition, row in it): the nearest point, then every point as near (ties,
/// in right row order).
fn nearest_point_in(
    p: Point,
    row: u64,
    tree: &PointTree,
    right_first_rows: &[u64],
    max_distance: Option<f64>,
    out: &mut Vec<(u64, u64, f64)>,
) {
    let at = [p.x(), p.y()];
    let distance = |q: &[f64; 2]| vertex_distance(p.0, geo::Coord { x: q[0], y: q[1] });
    let Some(first) = tree.nearest_neighbor(&at) else {
        return;
    };
    let best = distance(first.geom());
    if best > max_distance.unwrap_or(f64::INFINITY) || best.is_nan() {
        return;
    }
    // A hair past `best`: two squared distances that differ may round to one distance.
    let r = best * (1.0 + 1e-12) + f64::MIN_POSITIVE;
    let start = out.len();
    for q in tree.locate_within_distance(at, r * r) {
        let d = distance(q.geom());
        if d == best {
            let (k, j) = q.data;
            out.push((row, right_first_rows[k as usize] + j as u64, d));
        }
    }
    out[start..].sort_by_key(|h| h.1);
}

/// The nearest right rows of one left point: each right R-tree is walked in order of box
/// distance (a lower bound of the geometry's distance from a point) until the boxes lie
/// farther than the best distance found, so no box-growing rounds are needed.
fn nearest_to_point(
    p: Point,
    row: u64,
    rights: &[&PartitionIndexed],
    right_first_rows: &[u64],
    search: &NearestParams,
    order: &mut Vec<(f64, usize)>,
    out: &mut Vec<(u64, u64, f64)>,
) {
    let (max_distance, exclusive) = (search.max_distance, search.exclusive);
    let g = &Geometry::Point(p);
    let mut best = max_distance.unwrap_or(f64::INFINITY);
    // This point's matches are appended to `out`, then the farther ones dropped.
    let start = out.len();
    let hits = out;
    let at = [p.x(), p.y()];
    // Box distances are rounded; go a hair past `best` so no tie is missed.
    let reach = |best: f64| best * (1.0 + 1e-12) + f64::MIN_POSITIVE;
    // The partitions nearest first, so that `best` is small before the others are looked
    // at, and those wholly farther are skipped.
    order.clear();
    order.extend(
        rights
            .iter()
            .enumerate()
            .map(|(k, right)| (right.tree.root().envelope().distance_2(&at), k)),
    );
    order.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    for &(box_d2, k) in order.iter() {
        let right = rights[k];
        if box_d2.sqrt() > reach(best) {
            break;
        }
        let consider = |j: usize, hits: &mut Vec<(u64, u64, f64)>, best: &mut f64| {
            let Some(candidate) = &right.geometries[j] else {
                return;
            };
            if exclusive && candidate == g {
                return;
            }
            let d = point_distance(p, candidate, right.prepared[j].as_ref());
            if d <= *best {
                *best = d;
                hits.push((row, right_first_rows[k] + j as u64, d));
            }
        };
        if let (Some(points), false) = (&right.points, exclusive) {
            // Points: the nearest one, then every point as near (ties).
            let Some(first) = points.nearest_neighbor(&at) else {
                continue;
            };
            if first.geom().distance_2(&at).sqrt() > reach(best) {
                continue;
            }
            consider(first.data, &mut *hits, &mut best);
            let r = reach(best);
            for item in points.locate_within_distance(at, r * r) {
                if item.data != first.data {
                    consider(item.data, &mut *hits, &mut best);
                }
            }
            continue;
        }
        for (item, d2) in right.tree.nearest_neighbor_iter_with_distance_2(&at) {
            if d2.sqrt() > reach(best) {
                break;
            }
            consider(item.data, &mut *hits, &mut best);
        }
    }
    let mut kept = start;
    for k in start..hits.len() {
        if hits[k].2 == best {
            hits[kept] = hits[k];
            kept += 1;
        }
    }
    hits.truncate(kept);
    hits[start..].sort_by_key(|h| h.1);
}

/// The distance from `p` to `g`, computed as GEOS computes it (zero inside a polygon, else
/// the smallest of GEOS' point-to-segment distances), so that two distances GEOS finds
/// equal are equal here too and ties are kept as GeoPandas keeps them; geo's own
/// formula (with `hypot`) can differ in the last bit.
fn point_distance(p: Point, g: &Geometry, prepared: Option<&PreparedPolygon>) -> f64 {
    let c = p.0;
    // A sound polygon answers through its bands; any other as GEOS' point locator
    // does (a hole outside its shell takes nothing away), which geo's matches.
    let outside = || match prepared {
        Some(pr) if pr.is_sound(g) => pr.position(c.x, c.y) == CoordPos::Outside,
        _ => g.coordinate_position(&c) == CoordPos::Outside,
    };
    let to_rings = |rings: &mut dyn Iterator<Item = &geo::LineString>| {
        rings
            .flat_map(|r| r.0.windows(2))
            .map(|w| point_to_segment(c, w[0], w[1]))
            .fold(f64::INFINITY, f64::min)
    };
    match g {
        Geometry::Point(q) => vertex_distance(c, q.0),
        Geometry::LineString(l) if !l.0.is_empty() => {
            to_rings(&mut std::iter::once(l)).min(vertex_distance(c, l.0[0]))
        }
        Geometry::Polygon(_) | Geometry::MultiPolygon(_) if !outside() => 0.0,
        Geometry::Polygon(poly) if !poly.exterior().0.is_empty() => {
            to_rings(&mut std::iter::once(poly.exterior()).chain(poly.interiors()))
        }
        Geometry::MultiPolygon(mp) if mp.0.iter().all(|poly| !poly.exterior().0.is_empty()) => {
            to_rings(
                &mut mp
                    .0
                    .iter()
                    .flat_map(|poly| std::iter::once(poly.exterior()).chain(poly.interiors())),
            )
        }
        _ => Euclidean.distance(&Geometry::Point(p), g),
    }
}

fn vertex_distance(p: geo::Coord, q: geo::Coord) -> f64 {
    let (dx, dy) = (p.x - q.x, p.y - q.y);
    (dx * dx + dy * dy).sqrt()
}

/// GEOS' `Distance::pointToSegment`, operation for operation.
fn point_to_segment(p: geo::Coord, a: geo::Coord, b: geo::Coord) -> f64 {
    if a == b {
        return vertex_distance(p, a);
    }
    let len2 = (b.x - a.x) * (b.x - a.x) + (b.y - a.y) * (b.y - a.y);
    let r = ((p.x - a.x) * (b.x - a.x) + (p.y - a.y) * (b.y - a.y)) / len2;
    if r <= 0.0 {
        return vertex_distance(p, a);
    }
    if r >= 1.0 {
        return vertex_distance(p, b);
    }
    let s = ((a.y - p.y) * (b.x - a.x) - (a.x - p.x) * (b.y - a.y)) / len2;
    s.abs() * len2.sqrt()
}

/// A starting search radius for a left partition: the side of a square that holds one
/// right geometry on average.
pub(crate) fn start_radius(extent: Option<geo::Rect>, count: u64) -> f64 {
    match extent {
        Some(e) if count > 0 => ((e.width() * e.height()) / count as f64).sqrt().max(1e-9),
        _ => 1.0,
    }
}
