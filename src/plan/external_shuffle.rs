//! The spatial shuffle of a frame larger than memory, written as a partitioned dataset:
//! [`LazyFrame::spatial_shuffle_to_dataset`].
//!
//! Three streamed runs, each holding a few partitions at a time: the first samples the
//! rows' curve keys and cuts the sample into equal runs (the split points); the second
//! cuts every partition's rows, in key order, at the split points and appends each piece
//! to its bucket's spill file (Arrow IPC, in a temporary directory beside the output); the
//! third reads the buckets as the partitions of a new source, sorts each by key and writes
//! it as one file of the dataset. The spill directory goes when the shuffle ends, whether
//! it succeeds or fails.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use geo::Rect;
use rayon::prelude::*;

use super::executor::{ExecuteOptions, RunStats};
use super::logical::LazyFrame;
use super::spill::Spill;
use crate::error::{CollectInOrder, Error, Result};
use crate::io::{GeoParquetWriteOptions, PartitionMeta, PartitionSink, PartitionSource};
use crate::partition::external;
use crate::partition::{Partition, ShuffleMethod};
use crate::{geometry, Crs};

/// Rows sampled for the split points, at most (about 80 bytes each in all).
const SAMPLE_ROWS: u64 = 1 << 20;

impl LazyFrame {
    /// Spatially shuffles the rows into `npartitions` compact partitions by a curve
    /// (`Hilbert`, `Morton` or `Geohash`) and writes them as a partitioned GeoParquet
    /// dataset at `path` (one file per partition, see
    /// [`crate::io::GeoParquetDatasetSink`]), in bounded memory: rows go through spill files
    /// beside `path`, never all in memory at once. Each output partition must fit in
    /// memory; choose `npartitions` so.
    ///
    /// Partitions hold about equal numbers of rows (split points come from a sample of at
    /// most a million keys, taken by row number), in curve order, rows within each in key
    /// order; the output depends on the rows alone, not on the input's partitions or the
    /// workers. The curve's grid covers the input's bounds as its metadata gives them.
    ///
    /// ```
    /// use geoframe::partition::ShuffleMethod;
    /// use geoframe::plan::{scan_geoparquet, scan_shapefile, ExecuteOptions};
    /// let counties = scan_shapefile("data/us_counties/us_counties.shp", &Default::default())?;
    /// let tmp = tempfile::tempdir().unwrap();
    /// let dir = tmp.path().join("counties");
    /// counties.spatial_shuffle_to_dataset(ShuffleMethod::Hilbert, 8, &dir, &Default::default(), &ExecuteOptions::default())?;
    /// let shuffled = scan_geoparquet(&dir, &Default::default())?;
    /// assert_eq!(shuffled.npartitions(), 8);
    /// assert_eq!(shuffled.count_rows(&ExecuteOptions::default())?, 3231);
    /// # Ok::<(), geoframe::Error>(())
    /// ```
    pub fn spatial_shuffle_to_dataset(
        &self,
        method: ShuffleMethod,
        npartitions: usize,
        path: impl AsRef<Path>,
        write: &GeoParquetWriteOptions,
        options: &ExecuteOptions,
    ) -> Result<RunStats> {
        let path = path.as_ref();
        if npartitions == 0 {
            return Err(Error::InvalidArgument(
                "spatial_shuffle: npartitions must be at least 1".into(),
            ));
        }
        if path.is_file() {
            return Err(Error::InvalidArgument(format!(
                "{} is a file; a dataset is written as a directory",
                path.display()
            )));
        }
        if method == ShuffleMethod::SortTileRecursive {
            return Err(Error::NotImplemented {
                op: "spatial shuffle larger than memory by sort-tile-recursive",
                roadmap: "external-str-shuffle",
            });
        }
        let rows: u64 = self.parts.iter().map(|p| p.rows).sum();
        if rows > u64::from(u32::MAX) {
            return Err(Error::InvalidArgument(format!(
                "spatial_shuffle handles fewer than 2^32 rows, not {rows}"
            )));
        }
        let extent = self
            .parts
            .iter()
            .fold(None, |acc, p| geometry::merge_bounds(acc, p.bounds))
            .unwrap_or_else(|| Rect::new((0.0, 0.0), (0.0, 0.0)));
        let keys = KeyCut {
            method,
            extent,
            rows_seen: 0,
        };

        let samples = Arc::new(Mutex::new(Vec::new()));
        self.sink(
            Box::new(SampleSink {
                keys: keys.clone(),
                stride: rows.div_ceil(SAMPLE_ROWS).max(1),
                samples: samples.clone(),
            }),
            options,
        )?;
        let samples = std::mem::take(&mut *samples.lock().unwrap_or_else(|p| p.into_inner()));
        let splits = external::split_points(samples, npartitions);

        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let schema = external::spill_schema(&self.schema);
        let spill = Arc::new(Mutex::new(Spill::create(&parent, schema, npartitions)?));
        self.sink(
            Box::new(SpillSink {
                keys,
                splits,
                spill: spill.clone(),
            }),
            options,
        )?;
        let spill = Arc::into_inner(spill)
            .ok_or_else(|| Error::Internal("the shuffle's spill is still in use".into()))?
            .into_inner()
            .unwrap_or_else(|p| p.into_inner());
        let buckets = BucketSource {
            spill,
            schema: self.schema.clone(),
            geometry_column: self.geometry_column,
            crs: self.crs.clone(),
            extent,
        };
        LazyFrame::scan(Arc::new(buckets)).sink_dataset(path, write, options)
    }
}

/// What cuts rows by key: the curve, its grid's extent, and the rows seen so far (sinks
/// are given every non-empty partition in order, so this numbers rows globally).
#[derive(Clone)]
struct KeyCut {
    method: ShuffleMethod,
    extent: Rect,
    rows_seen: u64,
}

impl KeyCut {
    fn first_rows(&mut self, partitions: &[Partition]) -> Vec<u64> {
        super::spill::first_rows(&mut self.rows_seen, partitions)
    }
}

struct SampleSink {
    keys: KeyCut,
    stride: u64,
    samples: Arc<Mutex<Vec<u64>>>,
}

impl PartitionSink for SampleSink {
    fn write(&mut self, partitions: &[Partition]) -> Result<()> {
        let firsts = self.keys.first_rows(partitions);
        let (method, extent, stride) = (self.keys.method, self.keys.extent, self.stride);
        let sampled = partitions
            .par_iter()
            .zip(firsts)
            .map(|(p, first)| external::sample_keys(p, first, method, extent, stride))
            .collect_in_order()?;
        let mut samples = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        samples.extend(sampled.into_iter().flatten());
        Ok(())
    }
    fn finish(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}

struct SpillSink {
    keys: KeyCut,
    splits: Vec<u64>,
    spill: Arc<Mutex<Spill>>,
}

impl PartitionSink for SpillSink {
    fn write(&mut self, partitions: &[Partition]) -> Result<()> {
        let firsts = self.keys.first_rows(partitions);
        let (method, extent) = (self.keys.method, self.keys.extent);
        let mut spill = self.spill.lock().unwrap_or_else(|p| p.into_inner());
        let (splits, schema) = (&self.splits, spill.schema().clone());
        let pieces = partitions
            .par_iter()
            .zip(firsts)
            .map(|(p, first)| external::cut_by_keys(p, first, method, extent, splits, &schema))
            .collect_in_order()?;
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

/// The spilled buckets as partitions: each read whole and put in key order.
struct BucketSource {
    spill: Spill,
    schema: SchemaRef,
    geometry_column: usize,
    crs: Option<Crs>,
    extent: Rect,
}

impl PartitionSource for BucketSource {
    fn describe(&self) -> String {
        format!("shuffle spill {}", self.spill.dir().display())
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
        self.spill
            .rows()
            .iter()
            .map(|&rows| PartitionMeta {
                rows,
                bounds: Some(self.extent),
            })
            .collect()
    }
    fn read_partition(&self, k: usize) -> Result<Partition> {
        let all = self.spill.read(k)?;
        if all.num_rows() == 0 {
            return Partition::new(
                RecordBatch::new_empty(self.schema.clone()),
                self.geometry_column,
                0,
            );
        }
        let key_index = all.num_columns() - 1;
        let order = arrow_ord::sort::sort_to_indices(all.column(key_index), None, None)?;
        let columns = all.columns()[..key_index]
            .iter()
            .map(|c| arrow_select::take::take(c.as_ref(), &order, None))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let batch = RecordBatch::try_new(self.schema.clone(), columns)?;
        Partition::new(batch, self.geometry_column, 0)
    }
}
