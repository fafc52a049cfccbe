//! Nearest-neighbour join: for each left row, the right rows at the smallest distance.

use geo::{Distance, Euclidean, Geometry, Point};
use rstar::AABB;

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
    for (i, g) in left.geometries(left_first_row)?.iter().enumerate() {
        let Some(g) = g else { continue };
        let Some(b) = crate::geometry::bounds(g) else {
            continue;
        };
        let row = left_first_row + i as u64;
        if let Geometry::Point(p) = g {
            out.extend(nearest_to_point(
                g,
                *p,
                row,
                rights,
                right_first_rows,
                max_distance,
                exclusive,
            ));
            continue;
        }
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

/// The nearest right rows of one left point: each right R-tree is walked in order of box
/// distance (a lower bound of the geometry's distance from a point) until the boxes lie
/// farther than the best distance found, so no box-growing rounds are needed.
fn nearest_to_point(
    g: &Geometry,
    p: Point,
    row: u64,
    rights: &[&PartitionIndexed],
    right_first_rows: &[u64],
    max_distance: Option<f64>,
    exclusive: bool,
) -> Vec<(u64, u64, f64)> {
    let mut best = max_distance.unwrap_or(f64::INFINITY);
    let mut hits: Vec<(u64, u64, f64)> = Vec::new();
    for (k, right) in rights.iter().enumerate() {
        for (item, d2) in right
            .tree
            .nearest_neighbor_iter_with_distance_2(&[p.x(), p.y()])
        {
            // Box distances are rounded; go a hair past `best` so no tie is missed.
            if d2.sqrt() > best * (1.0 + 1e-12) + f64::MIN_POSITIVE {
                break;
            }
            let j = item.data;
            let Some(candidate) = &right.geometries[j] else {
                continue;
            };
            if exclusive && candidate == g {
                continue;
            }
            let d = Euclidean.distance(g, candidate);
            if d <= best {
                best = d;
                hits.push((row, right_first_rows[k] + j as u64, d));
            }
        }
    }
    hits.retain(|h| h.2 == best);
    hits.sort_by_key(|h| h.1);
    hits
}

/// A starting search radius for a left partition: the side of a square that holds one
/// right geometry on average.
pub(crate) fn start_radius(extent: Option<geo::Rect>, count: u64) -> f64 {
    match extent {
        Some(e) if count > 0 => ((e.width() * e.height()) / count as f64).sqrt().max(1e-9),
        _ => 1.0,
    }
}
