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

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arrow_array::RecordBatch;
use arrow_ipc::reader::StreamReader;
use arrow_ipc::writer::StreamWriter;
use arrow_schema::SchemaRef;
use geo::Rect;
use rayon::prelude::*;

use super::executor::{ExecuteOptions, RunStats};
use super::logical::LazyFrame;
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
        let spill = crate::io::atomic::temporary_dir(&parent).map_err(|e| Error::io(path, e))?;
        let schema = external::spill_schema(&self.schema);
        let counts = Arc::new(Mutex::new(vec![0u64; npartitions]));
        self.sink(
            Box::new(SpillSink {
                keys,
                splits,
                schema: schema.clone(),
                dir: spill.path().to_path_buf(),
                writers: (0..npartitions).map(|_| None).collect(),
                counts: counts.clone(),
            }),
            options,
        )?;
        let counts = counts.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let buckets = BucketSource {
            dir: spill.path().to_path_buf(),
            schema: self.schema.clone(),
            spill_schema: schema,
            geometry_column: self.geometry_column,
            crs: self.crs.clone(),
            counts,
            extent,
        };
        let stats = LazyFrame::scan(Arc::new(buckets)).sink_dataset(path, write, options)?;
        drop(spill);
        Ok(stats)
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
    /// The first row of each of `partitions`, counting on from the rows seen.
    fn first_rows(&mut self, partitions: &[Partition]) -> Vec<u64> {
        partitions
            .iter()
            .map(|p| {
                let first = self.rows_seen;
                self.rows_seen += p.len() as u64;
                first
            })
            .collect()
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
    schema: SchemaRef,
    dir: PathBuf,
    writers: Vec<Option<StreamWriter<BufWriter<File>>>>,
    counts: Arc<Mutex<Vec<u64>>>,
}

fn bucket_file(dir: &Path, bucket: usize) -> PathBuf {
    dir.join(format!("bucket-{bucket:06}.arrows"))
}

impl PartitionSink for SpillSink {
    fn write(&mut self, partitions: &[Partition]) -> Result<()> {
        let firsts = self.keys.first_rows(partitions);
        let (method, extent) = (self.keys.method, self.keys.extent);
        let (splits, schema) = (&self.splits, &self.schema);
        let pieces = partitions
            .par_iter()
            .zip(firsts)
            .map(|(p, first)| external::cut_by_keys(p, first, method, extent, splits, schema))
            .collect_in_order()?;
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        for (bucket, batch) in pieces.into_iter().flatten() {
            let path = bucket_file(&self.dir, bucket);
            let writer = match &mut self.writers[bucket] {
                Some(w) => w,
                slot => {
                    let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
                    let w = StreamWriter::try_new(BufWriter::with_capacity(1 << 16, file), schema)?;
                    slot.insert(w)
                }
            };
            writer.write(&batch)?;
            counts[bucket] += batch.num_rows() as u64;
        }
        Ok(())
    }
    fn finish(self: Box<Self>) -> Result<()> {
        for (bucket, writer) in self.writers.into_iter().enumerate() {
            if let Some(mut w) = writer {
                w.finish()?;
                let path = bucket_file(&self.dir, bucket);
                w.into_inner()
                    .map_err(|e| Error::Internal(format!("{}: {e}", path.display())))?
                    .into_inner()
                    .map_err(|e| Error::io(&path, e.into_error()))?;
            }
        }
        Ok(())
    }
}

/// The spilled buckets as partitions: each read whole and put in key order.
struct BucketSource {
    dir: PathBuf,
    schema: SchemaRef,
    spill_schema: SchemaRef,
    geometry_column: usize,
    crs: Option<Crs>,
    counts: Vec<u64>,
    extent: Rect,
}

impl PartitionSource for BucketSource {
    fn describe(&self) -> String {
        format!("shuffle spill {}", self.dir.display())
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
        self.counts
            .iter()
            .map(|&rows| PartitionMeta {
                rows,
                bounds: Some(self.extent),
            })
            .collect()
    }
    fn read_partition(&self, k: usize) -> Result<Partition> {
        if self.counts.get(k).copied().unwrap_or(0) == 0 {
            return Partition::new(
                RecordBatch::new_empty(self.schema.clone()),
                self.geometry_column,
                0,
            );
        }
        let path = bucket_file(&self.dir, k);
        let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
        let reader = StreamReader::try_new(BufReader::with_capacity(1 << 20, file), None)?;
        let batches = reader.collect::<std::result::Result<Vec<_>, _>>()?;
        let all = arrow_select::concat::concat_batches(&self.spill_schema, &batches)?;
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
