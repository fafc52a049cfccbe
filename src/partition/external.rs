//! Kernels of the out-of-core spatial shuffle: sampling curve keys, cutting the sample into
//! split points, and cutting one partition's rows, in key order, at those points.
//!
//! Keys are packed as in the in-memory shuffle (`key << 32 | global row`), so every value
//! is distinct and ties go by row order: the output depends on the rows alone, not on how
//! the input was partitioned or how many workers ran.

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, UInt32Array, UInt64Array};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use geo::Rect;

use super::shuffle::{partition_keys, Keys, ShuffleMethod};
use super::Partition;
use crate::error::{Error, Result};

/// The column that carries each row's packed key through the spill files.
pub(crate) const KEY_COLUMN: &str = "__geoframe_shuffle_key";

/// Packed, sorted keys of one partition (rows numbered from `first_row`).
fn packed_keys(
    partition: &Partition,
    first_row: u64,
    method: ShuffleMethod,
    extent: Rect,
) -> Result<Vec<u64>> {
    if first_row + partition.len() as u64 > u64::from(u32::MAX) {
        return Err(Error::InvalidArgument(
            "spatial shuffle: more than 2^32 rows".into(),
        ));
    }
    match partition_keys(partition, first_row, method, Some(extent))? {
        Keys::Sorted(packed) => Ok(packed),
        Keys::Centres(_) => Err(Error::NotImplemented {
            op: "spatial shuffle larger than memory by sort-tile-recursive",
            roadmap: "external-str-shuffle",
        }),
    }
}

/// The packed keys of the rows whose global number is a multiple of `stride`.
pub(crate) fn sample_keys(
    partition: &Partition,
    first_row: u64,
    method: ShuffleMethod,
    extent: Rect,
    stride: u64,
) -> Result<Vec<u64>> {
    let stride = stride.max(1);
    Ok(packed_keys(partition, first_row, method, extent)?
        .into_iter()
        .filter(|packed| (packed & 0xFFFF_FFFF) % stride == 0)
        .collect())
}

/// `parts - 1` split points cutting `samples` into runs of equal size.
pub(crate) fn split_points(mut samples: Vec<u64>, parts: usize) -> Vec<u64> {
    samples.sort_unstable();
    if samples.is_empty() || parts <= 1 {
        return Vec::new();
    }
    (1..parts)
        .map(|k| samples[(k * samples.len() / parts).min(samples.len() - 1)])
        .collect()
}

/// The schema of spilled rows: the partition's columns and the packed key.
pub(crate) fn spill_schema(schema: &SchemaRef) -> SchemaRef {
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(Field::new(KEY_COLUMN, DataType::UInt64, false));
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// The rows of one partition in key order, cut where `splits` fall: (bucket, rows with
/// their packed key as a last column) for each bucket that gets rows.
pub(crate) fn cut_by_keys(
    partition: &Partition,
    first_row: u64,
    method: ShuffleMethod,
    extent: Rect,
    splits: &[u64],
    spill_schema: &SchemaRef,
) -> Result<Vec<(usize, RecordBatch)>> {
    let packed = packed_keys(partition, first_row, method, extent)?;
    let mut out = Vec::new();
    let mut start = 0;
    while start < packed.len() {
        let bucket = splits.partition_point(|&s| s <= packed[start]);
        let end = match splits.get(bucket) {
            Some(&next) => start + packed[start..].partition_point(|&k| k < next),
            None => packed.len(),
        };
        let run = &packed[start..end];
        let rows = UInt32Array::from(
            run.iter()
                .map(|k| ((k & 0xFFFF_FFFF) - first_row) as u32)
                .collect::<Vec<u32>>(),
        );
        let mut columns: Vec<ArrayRef> = partition
            .batch()
            .columns()
            .iter()
            .map(|c| arrow_select::take::take(c.as_ref(), &rows, None))
            .collect::<std::result::Result<_, _>>()?;
        columns.push(Arc::new(UInt64Array::from(run.to_vec())));
        out.push((bucket, RecordBatch::try_new(spill_schema.clone(), columns)?));
        start = end;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::split_points;

    #[test]
    fn split_points_cut_equal_runs() {
        let samples: Vec<u64> = (0..100).rev().collect();
        assert_eq!(split_points(samples.clone(), 4), vec![25, 50, 75]);
        assert!(split_points(samples, 1).is_empty());
        assert!(split_points(Vec::new(), 4).is_empty());
    }
}
