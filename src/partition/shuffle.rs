//! Spatial shuffle: reorders rows so that each partition covers a compact area.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, StringArray, UInt64Array};
use geo::Rect;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::keys::{self, DEFAULT_LEVEL, MISSING_KEY};
use super::Partition;
use crate::error::{CollectInOrder, Error, Result};
use crate::{geometry, GeoFrame};

/// How [`GeoFrame::spatial_shuffle`] orders rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum ShuffleMethod {
    /// Position of the bbox centre along a Hilbert curve over the total bounds (the default,
    /// and dask-geopandas' default): the most compact partitions of the three curves.
    #[default]
    Hilbert,
    /// Position along a Morton (Z-order) curve: cheaper keys, some long jumps.
    Morton,
    /// The geohash of the bbox centre (longitude/latitude; for geographic CRSs).
    Geohash,
    /// Sort-tile-recursive: vertical strips by x, then tiles by y, with equal row counts.
    SortTileRecursive,
}

impl GeoFrame {
    /// The Hilbert distance of each row's bbox centre on a `2^level` grid over the total
    /// bounds (`u64::MAX` for null or empty geometries), as dask-geopandas'
    /// `hilbert_distance`.
    pub fn hilbert_distance(&self, level: u32) -> Result<UInt64Array> {
        Ok(UInt64Array::from(
            self.curve_keys(ShuffleMethod::Hilbert, level)?.concat(),
        ))
    }

    /// The Morton (Z-order) distance of each row's bbox centre, like
    /// [`GeoFrame::hilbert_distance`].
    pub fn morton_distance(&self, level: u32) -> Result<UInt64Array> {
        Ok(UInt64Array::from(
            self.curve_keys(ShuffleMethod::Morton, level)?.concat(),
        ))
    }

    /// The geohash (`precision` characters, at most 12) of each row's bbox centre, read as
    /// longitude/latitude; null for null or empty geometries.
    pub fn geohash(&self, precision: usize) -> Result<StringArray> {
        let offsets = self.partition_offsets();
        let parts = self
            .partitions()
            .par_iter()
            .zip(offsets)
            .map(|(p, first)| keys::centres(p.geometry_array(), first))
            .collect_in_order()?;
        Ok(parts
            .into_iter()
            .flatten()
            .map(|c| c.map(|(x, y)| keys::geohash(x, y, precision)))
            .collect())
    }

    /// Curve keys per partition, in row order.
    fn curve_keys(&self, method: ShuffleMethod, level: u32) -> Result<Vec<Vec<u64>>> {
        if level == 0 || level > 31 {
            return Err(Error::InvalidArgument(format!(
                "curve level {level} is not in 1..=31"
            )));
        }
        let extent = self.total_bounds();
        let offsets = self.partition_offsets();
        self.partitions()
            .par_iter()
            .zip(offsets)
            .map(|(p, first)| {
                let centres = keys::centres(p.geometry_array(), first)?;
                Ok(centres
                    .into_iter()
                    .map(|c| match (c, extent) {
                        (Some((x, y)), Some(extent)) => curve_key(method, x, y, extent, level),
                        _ => MISSING_KEY,
                    })
                    .collect())
            })
            .collect()
    }
}

/// The sort keys of one partition's rows.
pub(crate) enum Keys {
    /// For curve methods: `key << 32 | global row` for each row, sorted. Packing the row
    /// in makes every value distinct and breaks ties by row order; sorting here, one task
    /// per partition, leaves only a merge for later.
    Sorted(Vec<u64>),
    /// Bounding-box centres, for sort-tile-recursive.
    Centres(Vec<Option<(f64, f64)>>),
}

/// The packed key of rows without a geometry: after every real key.
const MISSING_PACKED: u64 = 0xFFFF_FFFF;

/// Keys of one partition for `method`, on a grid over `extent`.
pub(crate) fn partition_keys(
    partition: &Partition,
    first_row: u64,
    method: ShuffleMethod,
    extent: Option<Rect>,
) -> Result<Keys> {
    let centres = keys::centres(partition.geometry_array(), first_row)?;
    if method == ShuffleMethod::SortTileRecursive {
        return Ok(Keys::Centres(centres));
    }
    let mut packed: Vec<u64> = centres
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let key = match (c, extent) {
                // 60 geohash bits cut to their top 32: cells of about 600 m.
                (Some((x, y)), _) if method == ShuffleMethod::Geohash => {
                    keys::geohash_bits(x, y) >> 28
                }
                (Some((x, y)), Some(e)) => curve_key(method, x, y, e, DEFAULT_LEVEL),
                _ => MISSING_PACKED,
            };
            (key.min(MISSING_PACKED - 1) | if c.is_none() { MISSING_PACKED } else { 0 }) << 32
                | (first_row + i as u64)
        })
        .collect();
    packed.sort_unstable();
    Ok(Keys::Sorted(packed))
}

/// How a shuffle cuts its rows into output partitions.
pub(crate) enum ShufflePlan {
    /// For curve methods: for each cut between output partitions (and the two ends), the
    /// position in each input's sorted keys where the cut falls.
    Cuts(Vec<Vec<usize>>),
    /// For sort-tile-recursive: the (input partition, row) pairs of each output partition.
    Order(Vec<Vec<(u32, u32)>>),
}

/// The plan for output partitions of `sizes` rows.
pub(crate) fn plan(keys: &[&Keys], method: ShuffleMethod, sizes: &[usize]) -> ShufflePlan {
    if method == ShuffleMethod::SortTileRecursive {
        let order = str_order(keys, sizes);
        let mut out = Vec::with_capacity(sizes.len());
        let mut rest = &order[..];
        for &s in sizes {
            let (head, tail) = rest.split_at(s.min(rest.len()));
            out.push(head.to_vec());
            rest = tail;
        }
        return ShufflePlan::Order(out);
    }
    let runs: Vec<&[u64]> = keys
        .iter()
        .map(|k| match k {
            Keys::Sorted(v) => v.as_slice(),
            Keys::Centres(_) => &[],
        })
        .collect();
    let mut cuts = Vec::with_capacity(sizes.len() + 1);
    let mut rank = 0usize;
    cuts.push(vec![0; runs.len()]);
    for &s in sizes {
        rank += s;
        cuts.push(cut_at_rank(&runs, rank));
    }
    ShufflePlan::Cuts(cuts)
}

/// Positions in each sorted run such that exactly `rank` values of the union lie before
/// them and none after them is smaller. Values are distinct, so one smallest value `v`
/// with `rank` values below it exists; it is found by bisecting the value range.
fn cut_at_rank(runs: &[&[u64]], rank: usize) -> Vec<usize> {
    let below = |v: u64| -> usize { runs.iter().map(|r| r.partition_point(|&x| x < v)).sum() };
    let (mut lo, mut hi) = (0u64, u64::MAX);
    // Invariant: below(lo) <= rank, and below(hi) >= rank or hi is the top of the range.
    while lo < hi {
        let mid = lo + (hi - lo) / 2 + 1;
        if below(mid) <= rank {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    runs.iter()
        .map(|r| r.partition_point(|&x| x < lo))
        .collect()
}

/// Sort-tile-recursive order: strips of whole output partitions by x, each sorted by y.
fn str_order(keys: &[&Keys], sizes: &[usize]) -> Vec<(u32, u32)> {
    let mut placed: Vec<(f64, f64, u32, u32)> = Vec::new();
    let mut missing: Vec<(u32, u32)> = Vec::new();
    for (p, k) in keys.iter().enumerate() {
        if let Keys::Centres(cs) = k {
            for (r, c) in cs.iter().enumerate() {
                match c {
                    Some((x, y)) => placed.push((*x, *y, p as u32, r as u32)),
                    None => missing.push((p as u32, r as u32)),
                }
            }
        }
    }
    let by = |a: f64, b: f64, ta: (u32, u32), tb: (u32, u32)| a.total_cmp(&b).then(ta.cmp(&tb));
    placed.par_sort_unstable_by(|a, b| by(a.0, b.0, (a.2, a.3), (b.2, b.3)));
    let strips = (sizes.len() as f64).sqrt().ceil().max(1.0) as usize;
    let per_strip = sizes.len().div_ceil(strips).max(1);
    let mut start = 0;
    for group in sizes.chunks(per_strip) {
        let end = (start + group.iter().sum::<usize>()).min(placed.len());
        placed[start..end].par_sort_unstable_by(|a, b| by(a.1, b.1, (a.2, a.3), (b.2, b.3)));
        start = end;
    }
    placed
        .into_iter()
        .map(|(_, _, p, r)| (p, r))
        .chain(missing)
        .collect()
}

/// Output partition `output` of a shuffle, from the plan, each input's keys and the input
/// partitions themselves.
pub(crate) fn gather(
    plan: &ShufflePlan,
    keys: &[&Keys],
    inputs: &[&Partition],
    output: usize,
) -> Result<Partition> {
    let rows: Vec<(u32, u32)> = match plan {
        ShufflePlan::Order(order) => order
            .get(output)
            .cloned()
            .ok_or_else(|| Error::Internal(format!("shuffle plan has no output {output}")))?,
        ShufflePlan::Cuts(cuts) => {
            let (from, to) = match (cuts.get(output), cuts.get(output + 1)) {
                (Some(a), Some(b)) => (a, b),
                _ => {
                    return Err(Error::Internal(format!(
                        "shuffle plan has no output {output}"
                    )))
                }
            };
            let mut mine: Vec<u64> = Vec::new();
            for (i, k) in keys.iter().enumerate() {
                if let Keys::Sorted(run) = k {
                    mine.extend_from_slice(&run[from[i]..to[i]]);
                }
            }
            mine.sort_unstable();
            // Global rows back to (input partition, row in it).
            let mut starts = Vec::with_capacity(inputs.len());
            let mut next = 0u64;
            for p in inputs {
                starts.push(next);
                next += p.len() as u64;
            }
            let first_row = starts.first().copied().unwrap_or(0);
            let _ = first_row;
            mine.iter()
                .map(|&v| {
                    let row = v & 0xFFFF_FFFF;
                    let k = starts.partition_point(|&s| s <= row) - 1;
                    (k as u32, (row - starts[k]) as u32)
                })
                .collect()
        }
    };
    let first = inputs
        .first()
        .ok_or_else(|| Error::InvalidArgument("shuffle of a frame without partitions".into()))?;
    let schema = first.batch().schema();
    let geometry_column = first.geometry_column_index();
    let indices: Vec<(usize, usize)> = rows
        .iter()
        .map(|&(p, r)| (p as usize, r as usize))
        .collect();
    let arrays = (0..schema.fields().len())
        .map(|c| {
            let parts: Vec<&dyn Array> = inputs
                .iter()
                .map(|p| p.batch().column(c).as_ref())
                .collect();
            arrow_select::interleave::interleave(&parts, &indices)
        })
        .collect::<std::result::Result<Vec<ArrayRef>, _>>()?;
    let batch = RecordBatch::try_new(schema, arrays)?;
    let bounds = partition_bounds(&batch, geometry_column)?;
    Ok(Partition::with_bounds(batch, geometry_column, bounds))
}

fn partition_bounds(batch: &RecordBatch, geometry_column: usize) -> Result<Option<Rect>> {
    let column: &Arc<dyn Array> = batch.column(geometry_column);
    geometry::array_bounds(geometry::as_wkb_array(column, "geometry")?)
}

#[inline]
fn curve_key(method: ShuffleMethod, x: f64, y: f64, extent: Rect, level: u32) -> u64 {
    let (cx, cy) = keys::cell(x, y, extent, level);
    match method {
        ShuffleMethod::Morton => keys::morton(cx, cy),
        _ => keys::hilbert(cx, cy, level),
    }
}

/// `rows` split into at most `n` non-empty parts whose sizes differ by at most one.
pub(crate) fn split_sizes(rows: usize, n: usize) -> Vec<usize> {
    let n = n.min(rows).max(1);
    (0..n)
        .map(|i| rows / n + usize::from(i < rows % n))
        .filter(|&s| s > 0)
        .collect()
}
