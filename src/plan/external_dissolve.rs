//! The dissolve of a frame larger than memory: [`LazyFrame::dissolve_out_of_core`].
//!
//! Groups are cut into ranges of keys (buckets) and each bucket is dissolved whole by
//! [`GeoFrame::dissolve`], so a group's rows meet in one place, in row order, and every
//! group comes out exactly as the in-memory dissolve makes it (its union tree and its
//! aggregates depend on the group's rows alone). Two streamed runs do the cutting: the
//! first samples the rows' group keys for the ranges and measures the input; the second
//! appends each row, with only the columns the dissolve needs, to its bucket's spill file.
//! The dissolved frame scans the buckets, each bucket a partition, in key order.
//!
//! dask-geopandas' `dissolve(split_out=...)` instead unions partial groups per partition
//! and merges them; here a partial union would snap to a grid over the partition's
//! bounds, and the result would depend on the partitioning. The price: one group must
//! fit in memory (ROADMAP.md#dissolve-partial-unions).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use arrow_array::{ArrayRef, RecordBatch, UInt32Array, UInt64Array};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use geo::Rect;
use rayon::prelude::*;

use super::executor::ExecuteOptions;
use super::logical::LazyFrame;
use super::spill::Spill;
use crate::error::{CollectInOrder, Error, Result};
use crate::io::{PartitionMeta, PartitionSink, PartitionSource};
use crate::ops::dissolve::group_keys;
use crate::ops::Aggregate;
use crate::partition::Partition;
use crate::{geometry, Crs, GeoFrame};

/// Group keys sampled for the bucket ranges, at most.
const SAMPLE_ROWS: u64 = 1 << 16;
/// Most buckets: each is an open file while rows are spilled.
const MAX_BUCKETS: usize = 4096;
/// The column that carries each row's number through the spill, for errors.
const ROW_COLUMN: &str = "__geoframe_row";

/// How [`LazyFrame::dissolve_out_of_core`] cuts its input.
#[derive(Debug, Clone, Default)]
pub struct DissolveOptions {
    /// Number of key ranges (buckets), each dissolved as one partition: as dask-geopandas'
    /// `split_out`. `None`: enough that a bucket's rows take about an eighth of the memory
    /// limit.
    pub split_out: Option<usize>,
    /// Where the spill directory goes; `None`: the system's temporary directory. Put it
    /// on a disk with room for the input's needed columns (a tmpfs spills into memory).
    pub spill_dir: Option<PathBuf>,
}

/// The columns a dissolve reads: `by` and aggregated columns, and the geometry, in the
/// input's order.
struct Needed {
    /// Indices into the input's columns.
    columns: Vec<usize>,
    /// Positions of the `by` columns among `columns`.
    by: Vec<usize>,
    /// The spill's schema: the needed columns, then the row number.
    spill_schema: SchemaRef,
    /// The schema the in-memory dissolve gets: the needed columns.
    schema: SchemaRef,
    geometry_column: usize,
}

impl Needed {
    fn of(frame: &LazyFrame, by: &[&str], aggregates: &[(&str, Aggregate)]) -> Result<Needed> {
        let schema = &frame.schema;
        let geometry_name = schema.field(frame.geometry_column).name().clone();
        let mut wanted = BTreeSet::from([frame.geometry_column]);
        for name in by.iter().chain(aggregates.iter().map(|(n, _)| n)) {
            wanted.insert(schema.index_of(name).map_err(|_| {
                Error::InvalidArgument(format!("dissolve: no column named {name:?}"))
            })?);
        }
        let columns: Vec<usize> = wanted.into_iter().collect();
        let fields: Vec<Field> = columns.iter().map(|&c| schema.field(c).clone()).collect();
        let by = by
            .iter()
            .map(|name| {
                let index = schema.index_of(name)?;
                Ok(columns.iter().position(|&c| c == index).unwrap_or(0))
            })
            .collect::<Result<Vec<usize>>>()?;
        let geometry_column = fields
            .iter()
            .position(|f| *f.name() == geometry_name)
            .unwrap_or(0);
        let mut spill_fields = fields.clone();
        spill_fields.push(Field::new(ROW_COLUMN, DataType::UInt64, false));
        Ok(Needed {
            columns,
            by,
            spill_schema: Arc::new(Schema::new(spill_fields)),
            schema: Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone())),
            geometry_column,
        })
    }

    /// The group key of every row of `partition`.
    fn keys(&self, partition: &Partition) -> Result<Vec<Vec<String>>> {
        let batch = partition.batch();
        let columns: Vec<ArrayRef> = self
            .by
            .iter()
            .map(|&b| batch.column(self.columns[b]).clone())
            .collect();
        group_keys(&columns)
    }
}

impl LazyFrame {
    /// [`GeoFrame::dissolve`] in bounded memory: the rows are cut into ranges of group
    /// keys (buckets) and spilled to disk, and the returned frame's partitions are the
    /// buckets, each dissolved when it is read; its rows are the groups in key order, as
    /// `GeoFrame::dissolve` gives them, and equal to them value for value and coordinate
    /// for coordinate, whatever the partitioning.
    ///
    /// Unlike the other methods of `LazyFrame`, this one runs the input now (twice,
    /// streamed: once to sample the keys, once to spill the rows). The spill goes when the
    /// returned frame is dropped. Each group must fit in memory.
    ///
    /// ```
    /// use geoframe::ops::Aggregate;
    /// use geoframe::plan::{scan_shapefile, DissolveOptions, ExecuteOptions};
    /// let countries = scan_shapefile("data/naturalearth_lowres/naturalearth_lowres.shp", &Default::default())?;
    /// let options = DissolveOptions { split_out: Some(3), ..Default::default() };
    /// let continents = countries.dissolve_out_of_core(
    ///     &["continent"], &[("pop_est", Aggregate::Sum)], &options, &ExecuteOptions::default())?;
    /// assert_eq!(continents.npartitions(), 3);
    /// assert_eq!(continents.collect(&ExecuteOptions::default())?.len(), 8);
    /// # Ok::<(), geoframe::Error>(())
    /// ```
    pub fn dissolve_out_of_core(
        &self,
        by: &[&str],
        aggregates: &[(&str, Aggregate)],
        dissolve: &DissolveOptions,
        options: &ExecuteOptions,
    ) -> Result<LazyFrame> {
        let needed = Needed::of(self, by, aggregates)?;
        let geometry_name = needed.schema.field(needed.geometry_column).name().clone();
        // The output's schema, and every argument error, before any work.
        let empty = GeoFrame::from_record_batches(
            needed.schema.clone(),
            vec![RecordBatch::new_empty(needed.schema.clone())],
            &geometry_name,
            self.crs.clone(),
        )?
        .dissolve(by, aggregates)?;
        if dissolve.split_out == Some(0) {
            return Err(Error::InvalidArgument(
                "dissolve: split_out must be at least 1".into(),
            ));
        }
        let needed = Arc::new(needed);

        let rows: u64 = self.parts.iter().map(|p| p.rows).sum();
        let sample = Arc::new(Mutex::new(Sample::default()));
        self.sink(
            Box::new(SampleSink {
                needed: needed.clone(),
                stride: rows.div_ceil(SAMPLE_ROWS).max(1),
                rows_seen: 0,
                sample: sample.clone(),
            }),
            options,
        )?;
        let sample = std::mem::take(&mut *sample.lock().unwrap_or_else(|p| p.into_inner()));
        let limit = options
            .memory_limit
            .unwrap_or_else(super::memory::default_limit);
        let buckets = dissolve
            .split_out
            .unwrap_or_else(|| (sample.bytes.saturating_mul(8) / limit.max(1)) as usize + 1)
            .clamp(1, MAX_BUCKETS);
        let splits = split_points(sample.keys, buckets);

        let parent = match &dissolve.spill_dir {
            Some(dir) => dir.clone(),
            None => std::env::temp_dir(),
        };
        let spill = Spill::create(&parent, needed.spill_schema.clone(), splits.len() + 1)?;
        let spill = Arc::new(Mutex::new(spill));
        self.sink(
            Box::new(SpillSink {
                needed: needed.clone(),
                splits,
                rows_seen: 0,
                spill: spill.clone(),
            }),
            options,
        )?;
        let spill = Arc::into_inner(spill)
            .ok_or_else(|| Error::Internal("the dissolve's spill is still in use".into()))?
            .into_inner()
            .unwrap_or_else(|p| p.into_inner());
        let source = DissolvedBuckets::new(
            spill,
            needed,
            by,
            aggregates,
            empty,
            self.parts
                .iter()
                .fold(None, |acc, p| geometry::merge_bounds(acc, p.bounds)),
        )?;
        Ok(LazyFrame::scan(Arc::new(source)))
    }
}

/// What the first run learns: sampled keys and the bytes of the needed columns.
#[derive(Default)]
struct Sample {
    keys: Vec<Vec<String>>,
    bytes: u64,
}

struct SampleSink {
    needed: Arc<Needed>,
    stride: u64,
    rows_seen: u64,
    sample: Arc<Mutex<Sample>>,
}

impl PartitionSink for SampleSink {
    fn write(&mut self, partitions: &[Partition]) -> Result<()> {
        let (needed, stride) = (&self.needed, self.stride);
        let firsts = super::spill::first_rows(&mut self.rows_seen, partitions);
        let sampled = partitions
            .par_iter()
            .zip(firsts)
            .map(|(p, first)| -> Result<(Vec<Vec<String>>, u64)> {
                let bytes = p.batch().project(&needed.columns)?.get_array_memory_size() as u64;
                let keys = needed
                    .keys(p)?
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| (first + *i as u64).is_multiple_of(stride))
                    .map(|(_, k)| k)
                    .collect();
                Ok((keys, bytes))
            })
            .collect_in_order()?;
        let mut sample = self.sample.lock().unwrap_or_else(|p| p.into_inner());
        for (keys, bytes) in sampled {
            sample.keys.extend(keys);
            sample.bytes += bytes;
        }
        Ok(())
    }
    fn finish(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}

/// At most `buckets - 1` distinct keys cutting the sorted `keys` into runs of about equal
/// size; a row goes to the bucket numbered by how many of them are at most its key.
fn split_points(mut keys: Vec<Vec<String>>, buckets: usize) -> Vec<Vec<String>> {
    keys.sort_unstable();
    let mut splits: Vec<Vec<String>> = (1..buckets)
        .filter_map(|k| keys.get(k * keys.len() / buckets).cloned())
        .collect();
    // A key sampled often would make buckets that no row can reach.
    splits.dedup();
    splits
}

struct SpillSink {
    needed: Arc<Needed>,
    splits: Vec<Vec<String>>,
    rows_seen: u64,
    spill: Arc<Mutex<Spill>>,
}

impl PartitionSink for SpillSink {
    fn write(&mut self, partitions: &[Partition]) -> Result<()> {
        let (needed, splits) = (&self.needed, &self.splits);
        let firsts = super::spill::first_rows(&mut self.rows_seen, partitions);
        let pieces = partitions
            .par_iter()
            .zip(firsts)
            .map(|(p, first)| cut_by_bucket(p, first, needed, splits))
            .collect_in_order()?;
        let mut spill = self.spill.lock().unwrap_or_else(|p| p.into_inner());
        for (bucket, batch) in pieces.into_iter().flatten() {
            spill.append(bucket, &batch)?;
        }
        Ok(())
    }
    fn finish(self: Box<Self>) -> Result<()> {
        self.spill
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .finish()
    }
}

/// The needed columns of `partition`'s rows, with their row numbers, cut by bucket: one
/// batch per bucket that gets rows, rows in row order.
fn cut_by_bucket(
    partition: &Partition,
    first_row: u64,
    needed: &Needed,
    splits: &[Vec<String>],
) -> Result<Vec<(usize, RecordBatch)>> {
    let keys = needed.keys(partition)?;
    let mut rows_of: Vec<Vec<u32>> = vec![Vec::new(); splits.len() + 1];
    for (row, key) in keys.iter().enumerate() {
        rows_of[splits.partition_point(|s| s <= key)].push(row as u32);
    }
    let projected = partition.batch().project(&needed.columns)?;
    rows_of
        .into_iter()
        .enumerate()
        .filter(|(_, rows)| !rows.is_empty())
        .map(|(bucket, rows)| {
            let numbers = UInt64Array::from_iter_values(rows.iter().map(|&r| first_row + r as u64));
            let rows = UInt32Array::from(rows);
            let mut columns: Vec<ArrayRef> = projected
                .columns()
                .iter()
                .map(|c| arrow_select::take::take(c.as_ref(), &rows, None))
                .collect::<std::result::Result<_, _>>()?;
            columns.push(Arc::new(numbers));
            let batch = RecordBatch::try_new(needed.spill_schema.clone(), columns)?;
            Ok((bucket, batch))
        })
        .collect()
}

/// The spilled buckets, each dissolved when read: the partitions of the dissolved frame.
struct DissolvedBuckets {
    spill: Spill,
    needed: Arc<Needed>,
    by: Vec<String>,
    aggregates: Vec<(String, Aggregate)>,
    /// The dissolved frame's schema (from dissolving no rows).
    schema: SchemaRef,
    geometry_column: usize,
    crs: Option<Crs>,
    /// The non-empty buckets, and the number of groups in each.
    buckets: Vec<(usize, u64)>,
    bounds: Option<Rect>,
}

impl DissolvedBuckets {
    fn new(
        spill: Spill,
        needed: Arc<Needed>,
        by: &[&str],
        aggregates: &[(&str, Aggregate)],
        empty: GeoFrame,
        bounds: Option<Rect>,
    ) -> Result<DissolvedBuckets> {
        // Groups per bucket, from the key columns alone, a bucket at a time per worker.
        let filled: Vec<usize> = (0..spill.rows().len())
            .filter(|&b| spill.rows()[b] > 0)
            .collect();
        let buckets = filled
            .into_par_iter()
            .map(|b| -> Result<(usize, u64)> {
                let batch = spill.read(b)?;
                let columns: Vec<ArrayRef> =
                    needed.by.iter().map(|&c| batch.column(c).clone()).collect();
                let groups: BTreeSet<Vec<String>> = group_keys(&columns)?.into_iter().collect();
                Ok((b, groups.len() as u64))
            })
            .collect_in_order()?;
        Ok(DissolvedBuckets {
            spill,
            needed,
            by: by.iter().map(|s| s.to_string()).collect(),
            aggregates: aggregates
                .iter()
                .map(|(n, a)| (n.to_string(), *a))
                .collect(),
            schema: empty.schema().clone(),
            geometry_column: empty.geometry_column_index(),
            crs: empty.crs().cloned(),
            buckets,
            bounds,
        })
    }
}

impl PartitionSource for DissolvedBuckets {
    fn describe(&self) -> String {
        format!(
            "dissolve by {:?} of spill {}",
            self.by,
            self.spill.dir().display()
        )
    }
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }
    fn geometry_column(&self) -> usize {
        self.geometry_column
    }
    fn crs(&self) -> Option<&Crs> {
        self.crs.as_ref()
    }
    fn partitions(&self) -> Vec<PartitionMeta> {
        self.buckets
            .iter()
            .map(|&(_, rows)| PartitionMeta {
                rows,
                bounds: self.bounds,
            })
            .collect()
    }
    fn read_partition(&self, k: usize) -> Result<Partition> {
        let Some(&(bucket, _)) = self.buckets.get(k) else {
            return Err(Error::Internal(format!(
                "{}: no partition {k}",
                self.describe()
            )));
        };
        let spilled = self.spill.read(bucket)?;
        let row_column = spilled.num_columns() - 1;
        let numbers = spilled.column(row_column).clone();
        let batch = RecordBatch::try_new(
            self.needed.schema.clone(),
            spilled.columns()[..row_column].to_vec(),
        )?;
        let geometry_name = self.needed.schema.field(self.needed.geometry_column).name();
        let frame = GeoFrame::from_record_batches(
            self.needed.schema.clone(),
            vec![batch],
            geometry_name,
            self.crs.clone(),
        )?;
        let by: Vec<&str> = self.by.iter().map(String::as_str).collect();
        let aggregates: Vec<(&str, Aggregate)> = self
            .aggregates
            .iter()
            .map(|(n, a)| (n.as_str(), *a))
            .collect();
        let dissolved = frame.dissolve(&by, &aggregates).map_err(|e| match e {
            // Name the input's row, not the bucket's.
            Error::InvalidGeometry {
                path,
                record,
                message,
            } => {
                let numbers = numbers.as_any().downcast_ref::<UInt64Array>();
                Error::InvalidGeometry {
                    path,
                    record: numbers
                        .filter(|n| (record as usize) < n.len())
                        .map_or(record, |n| n.value(record as usize)),
                    message,
                }
            }
            other => other,
        })?;
        dissolved.partitions().first().cloned().ok_or_else(|| {
            Error::Internal(format!("{}: bucket {bucket} vanished", self.describe()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::split_points;

    fn key(s: &str) -> Vec<String> {
        vec![s.to_string()]
    }

    #[test]
    fn split_points_are_distinct_and_cut_equal_runs() {
        let keys: Vec<Vec<String>> = ["d", "a", "c", "b", "b", "b", "b", "e"]
            .iter()
            .map(|s| key(s))
            .collect();
        assert_eq!(split_points(keys.clone(), 2), vec![key("b")]);
        assert_eq!(split_points(keys.clone(), 4), vec![key("b"), key("d")]);
        assert!(split_points(keys, 1).is_empty());
        assert!(split_points(Vec::new(), 4).is_empty());
    }
}
