//! Pruning before any task exists: which partition pairs a join tests, which right
//! partitions a nearest search visits, which partitions a clip reads. Pure functions of
//! the partitions' metadata, so each answer can be checked on hand-made boxes.

use geo::Rect;

use crate::geometry;
use crate::io::PartitionMeta;
use crate::join::start_radius;
use crate::partition::PartitionIndex;

/// One output partition of a join: a base partition and the other side's partitions whose
/// bounds meet its own (grown by the predicate's reach).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PairGroup {
    pub base: usize,
    /// In increasing order.
    pub others: Vec<usize>,
}

/// The candidate partition pairs of a join, grouped by base partition in increasing order.
/// Partitions without rows take no part. With `keep_unmatched` (outer joins), every base
/// partition with rows has a group, met or not.
pub(crate) fn join_groups(
    base: &[PartitionMeta],
    other: &[PartitionMeta],
    reach: f64,
    keep_unmatched: bool,
) -> Vec<PairGroup> {
    let grown: Vec<Option<Rect>> = base
        .iter()
        .map(|p| {
            p.bounds.map(|b| {
                Rect::new(
                    (b.min().x - reach, b.min().y - reach),
                    (b.max().x + reach, b.max().y + reach),
                )
            })
        })
        .collect();
    let base_index = PartitionIndex::new(&grown);
    let other_index = PartitionIndex::new(&other.iter().map(|p| p.bounds).collect::<Vec<_>>());
    let mut others: Vec<Option<Vec<usize>>> = base
        .iter()
        .map(|p| (keep_unmatched && p.rows > 0).then(Vec::new))
        .collect();
    for (b, o) in base_index.intersecting_pairs(&other_index) {
        if base[b].rows > 0 && other[o].rows > 0 {
            others[b].get_or_insert_with(Vec::new).push(o);
        }
    }
    others
        .into_iter()
        .enumerate()
        .filter_map(|(base, others)| {
            let mut others = others?;
            others.sort_unstable();
            Some(PairGroup { base, others })
        })
        .collect()
}

/// One output partition of a nearest join: a left partition, the right partitions that may
/// hold a nearest row of it, where the search box starts growing and a distance past which
/// every right geometry has been searched.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NearestSearch {
    pub left: usize,
    pub rights: Vec<usize>,
    pub radius: f64,
    pub limit: f64,
}

/// (smallest, largest) distance between points of two boxes.
fn box_distances(a: Rect, b: Rect) -> (f64, f64) {
    let dx = (b.min().x - a.max().x).max(a.min().x - b.max().x).max(0.0);
    let dy = (b.min().y - a.max().y).max(a.min().y - b.max().y).max(0.0);
    let fx = (a.max().x - b.min().x)
        .abs()
        .max((b.max().x - a.min().x).abs());
    let fy = (a.max().y - b.min().y)
        .abs()
        .max((b.max().y - a.min().y).abs());
    (dx.hypot(dy), fx.hypot(fy))
}

/// The searches of a nearest join: for each left partition with rows, the right partitions
/// no farther than the nearest one's farthest point (all of them when `exclusive`, since
/// the rows there may all equal the left one), and within `max_distance`. Left partitions
/// with no candidate get a search only with `keep_unmatched` (left joins).
pub(crate) fn nearest_searches(
    left: &[PartitionMeta],
    right: &[PartitionMeta],
    max_distance: Option<f64>,
    exclusive: bool,
    keep_unmatched: bool,
) -> Vec<NearestSearch> {
    let right_rows: u64 = right.iter().map(|p| p.rows).sum();
    let right_extent = right
        .iter()
        .fold(None, |acc, p| geometry::merge_bounds(acc, p.bounds));
    let radius = start_radius(right_extent, right_rows);
    let mut searches = Vec::new();
    for (l, lp) in left.iter().enumerate() {
        if lp.rows == 0 {
            continue;
        }
        let Some(lb) = lp.bounds else {
            if keep_unmatched {
                searches.push(NearestSearch {
                    left: l,
                    rights: Vec::new(),
                    radius: 1.0,
                    limit: 0.0,
                });
            }
            continue;
        };
        let candidates: Vec<(usize, f64, f64)> = right
            .iter()
            .enumerate()
            .filter(|(_, rp)| rp.rows > 0)
            .filter_map(|(r, rp)| rp.bounds.map(|rb| (r, box_distances(lb, rb))))
            .map(|(r, (near, far))| (r, near, far))
            .collect();
        let upper = if exclusive {
            f64::INFINITY
        } else {
            candidates.iter().map(|c| c.2).fold(f64::INFINITY, f64::min)
        };
        let cap = max_distance.unwrap_or(f64::INFINITY).min(upper);
        let rights: Vec<usize> = candidates
            .iter()
            .filter(|c| c.1 <= cap)
            .map(|c| c.0)
            .collect();
        if rights.is_empty() && !keep_unmatched {
            continue;
        }
        let limit = right_extent.map_or(0.0, |e| box_distances(lb, e).1);
        searches.push(NearestSearch {
            left: l,
            rights,
            radius,
            limit,
        });
    }
    searches
}

/// The partitions with rows whose bounds meet `mask_box`, in order.
pub(crate) fn clip_partitions(parts: &[PartitionMeta], mask_box: Option<Rect>) -> Vec<usize> {
    let Some(mask_box) = mask_box else {
        return Vec::new();
    };
    parts
        .iter()
        .enumerate()
        .filter(|(_, p)| p.meets(mask_box))
        .map(|(k, _)| k)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(rows: u64, x0: f64, y0: f64, x1: f64, y1: f64) -> PartitionMeta {
        PartitionMeta {
            rows,
            bounds: Some(Rect::new((x0, y0), (x1, y1))),
        }
    }

    #[test]
    fn join_groups_keep_meeting_pairs_only() {
        let base = [
            part(5, 0., 0., 1., 1.),
            part(5, 10., 10., 11., 11.),
            part(0, 0., 0., 1., 1.),
        ];
        let other = [
            part(3, 0.5, 0.5, 2., 2.),
            part(3, 3., 3., 4., 4.),
            part(3, 10.5, 0., 11., 10.5),
        ];
        assert_eq!(
            join_groups(&base, &other, 0.0, false),
            vec![
                PairGroup {
                    base: 0,
                    others: vec![0]
                },
                PairGroup {
                    base: 1,
                    others: vec![2]
                },
            ]
        );
        // A reach of 2 makes base 0 meet other 1 (its box grown to (-2,-2)-(3,3)).
        assert_eq!(join_groups(&base, &other, 2.0, false)[0].others, vec![0, 1]);
        // Outer joins keep base partitions that meet nothing, never empty ones.
        let far = [part(3, 50., 50., 51., 51.)];
        assert_eq!(
            join_groups(&base, &far, 0.0, true),
            vec![
                PairGroup {
                    base: 0,
                    others: vec![]
                },
                PairGroup {
                    base: 1,
                    others: vec![]
                },
            ]
        );
    }

    #[test]
    fn nearest_searches_stop_at_the_nearest_partitions_far_side() {
        // Left (0,0)-(1,1). Right 0 is 1 away with far corner sqrt(8) away; right 1 is 5
        // away, beyond that, so never searched; right 2 has no rows.
        let left = [part(4, 0., 0., 1., 1.)];
        let right = [
            part(2, 2., 0., 3., 1.),
            part(2, 6., 0., 7., 1.),
            part(0, 1., 1., 2., 2.),
        ];
        let searches = nearest_searches(&left, &right, None, false, false);
        assert_eq!(searches.len(), 1);
        assert_eq!(searches[0].rights, vec![0]);
        assert!((searches[0].limit - 53f64.sqrt()).abs() < 1e-12);
        // Exclusive searches cannot stop at the nearest partition.
        assert_eq!(
            nearest_searches(&left, &right, None, true, false)[0].rights,
            vec![0, 1]
        );
        // max_distance 0.5 leaves no candidate: inner joins drop the partition, left
        // joins keep it with nothing to search.
        assert!(nearest_searches(&left, &right, Some(0.5), false, false).is_empty());
        assert_eq!(
            nearest_searches(&left, &right, Some(0.5), false, true)[0].rights,
            Vec::<usize>::new()
        );
    }

    #[test]
    fn clip_reads_partitions_meeting_the_mask_box() {
        // Rows and corners: one partition meets the mask, one does not, one is empty.
        let parts: Vec<PartitionMeta> = [(1, 0.), (1, 5.), (0, 0.)]
            .into_iter()
            .map(|(rows, at)| part(rows, at, at, at + 1., at + 1.))
            .collect();
        let mask = Some(Rect::new((0.5, 0.5), (2., 2.)));
        assert_eq!(clip_partitions(&parts, mask), vec![0]);
        assert!(clip_partitions(&parts, None).is_empty());
    }
}
