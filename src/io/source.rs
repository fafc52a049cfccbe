//! The seam between file formats and plans: [`PartitionSource`], a format that can hand
//! over its partitions one at a time, and [`PartitionSink`], one that takes them in order.
//!
//! A new format implements these traits in `io/` and nothing else: the plan scans any
//! source (`geoframe::plan::LazyFrame::scan`), and the eager readers of this module read any
//! source in parallel ([`read_source`]).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow_schema::SchemaRef;
use geo::{Intersects, Rect};
use rayon::prelude::*;

use crate::error::{panic_message, CollectInOrder, Error, Result};
use crate::partition::Partition;
use crate::{Crs, GeoFrame};

/// What is known of a partition before it is read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PartitionMeta {
    /// Number of rows.
    pub rows: u64,
    /// A box that contains the partition's geometries: exact, or wider (the file's extent,
    /// or everywhere when nothing is known). `None` when the partition has no geometry.
    pub bounds: Option<Rect>,
}

impl PartitionMeta {
    /// Whether the partition may hold a row whose box meets `rect`: it has rows, and its
    /// bounds meet `rect`.
    pub(crate) fn meets(&self, rect: Rect) -> bool {
        self.rows > 0 && self.bounds.is_some_and(|b| b.intersects(&rect))
    }
}

/// A format's partitions, read on demand: each partition is read by its own task, in
/// parallel, and only when a plan needs it.
///
/// ```
/// use geoframe::io::{PartitionSource, ShapefileOptions, ShapefileSource};
/// let options = ShapefileOptions { rows_per_partition: 100, ..Default::default() };
/// let cities = ShapefileSource::open("data/naturalearth_cities/naturalearth_cities.shp", &options)?;
/// assert_eq!(cities.partitions().len(), 3);
/// assert_eq!(cities.read_partition(2)?.len(), 43);
/// # Ok::<(), geoframe::Error>(())
/// ```
pub trait PartitionSource: Send + Sync {
    /// One line for plans and errors: the format and where the data is.
    fn describe(&self) -> String;
    /// The schema of every partition, geometry column included.
    fn schema(&self) -> &SchemaRef;
    /// Position of the geometry column in the schema.
    fn geometry_column(&self) -> usize;
    /// The CRS of the geometries, if known.
    fn crs(&self) -> Option<&Crs>;
    /// Rows and bounds of each partition, known without reading rows.
    fn partitions(&self) -> Vec<PartitionMeta>;
    /// Reads partition `k` (its rows are numbered after those of partitions `0..k`).
    fn read_partition(&self, k: usize) -> Result<Partition>;
    /// When each partition is one whole GeoParquet file with WKB geometries (a
    /// partitioned dataset), the file of each partition, so that another engine can
    /// read partitions by file (see `geoframe::distributed`). `None` otherwise.
    fn partition_files(&self) -> Option<Vec<std::path::PathBuf>> {
        None
    }
}

/// What a sink must know of a frame before its first partition: the schema, where the
/// geometry is, and the CRS.
#[derive(Debug, Clone)]
pub struct SinkLayout {
    /// The schema of every partition, geometry column included.
    pub schema: SchemaRef,
    /// Position of the (WKB) geometry column.
    pub geometry_column: usize,
    /// The CRS of the geometries, if known.
    pub crs: Option<Crs>,
}

impl SinkLayout {
    /// The layout of `frame`.
    pub fn of(frame: &GeoFrame) -> SinkLayout {
        SinkLayout {
            schema: frame.schema().clone(),
            geometry_column: frame.geometry_column_index(),
            crs: frame.crs().cloned(),
        }
    }
}

/// Takes a frame's partitions in order and writes them; the output appears only when
/// [`PartitionSink::finish`] succeeds (a sink dropped before that leaves nothing behind).
///
/// ```
/// use geoframe::io::{read_shapefile, GeoJsonSink, PartitionSink, ShapefileOptions, SinkLayout};
/// let cities = read_shapefile("data/naturalearth_cities/naturalearth_cities.shp", &ShapefileOptions::default())?;
/// let path = std::env::temp_dir().join("geoframe_sink_doc.geojson");
/// let mut sink = GeoJsonSink::create(&path, &SinkLayout::of(&cities))?;
/// sink.write(cities.partitions())?;
/// Box::new(sink).finish()?;
/// assert!(path.exists());
/// # Ok::<(), geoframe::Error>(())
/// ```
pub trait PartitionSink: Send {
    /// Appends `partitions`, which follow every partition written before them. A sink may
    /// encode a slice's partitions in parallel.
    fn write(&mut self, partitions: &[Partition]) -> Result<()>;
    /// Completes the output and makes it appear under its name.
    fn finish(self: Box<Self>) -> Result<()>;
}

/// Writes every partition of `frame` through `sink`, a window of partitions at a time.
pub(crate) fn write_frame(frame: &GeoFrame, mut sink: impl PartitionSink + 'static) -> Result<()> {
    let window = 2 * rayon::current_num_threads().max(1);
    for partitions in frame.partitions().chunks(window) {
        sink.write(partitions)?;
    }
    Box::new(sink).finish()
}

/// Reads every partition of `source` in parallel into a frame (partitions with no rows
/// are dropped). A reader that panics gives [`Error::Internal`] naming the source and the
/// partition, not a crash.
pub fn read_source(source: &dyn PartitionSource) -> Result<GeoFrame> {
    let count = source.partitions().len();
    // Once a partition fails, later ones are not started: their errors could not be the
    // first in order, and a hostile file may make every partition slow to fail.
    let first_failure = AtomicUsize::new(usize::MAX);
    let partitions = (0..count)
        .into_par_iter()
        .map(|k| {
            if k > first_failure.load(Ordering::Relaxed) {
                return Err(Error::Internal(
                    "not read: an earlier partition failed".into(),
                ));
            }
            let read = catch_unwind(AssertUnwindSafe(|| source.read_partition(k))).unwrap_or_else(
                |panic| {
                    Err(Error::Internal(format!(
                        "{}, partition {k}: the reader panicked: {}",
                        source.describe(),
                        panic_message(panic.as_ref())
                    )))
                },
            );
            if read.is_err() {
                first_failure.fetch_min(k, Ordering::Relaxed);
            }
            read
        })
        .collect_in_order()?;
    let partitions = partitions.into_iter().filter(|p| !p.is_empty()).collect();
    Ok(GeoFrame::from_parts(
        source.schema().clone(),
        source.geometry_column(),
        source.crs().cloned(),
        partitions,
    ))
}

/// Reads the rows of `source` whose bounding box meets `rect`: partitions whose bounds
/// miss it are not read, the others are read in parallel and filtered
/// ([`Partition::filter_bbox`]).
pub(crate) fn read_source_bbox(source: &dyn PartitionSource, rect: Rect) -> Result<GeoFrame> {
    let kept: Vec<usize> = source
        .partitions()
        .iter()
        .enumerate()
        .filter(|(_, p)| p.meets(rect))
        .map(|(k, _)| k)
        .collect();
    read_source(&BoxFiltered {
        inner: source,
        kept,
        rect,
    })
}

/// Some of a source's partitions, each filtered to a box: row counts are the unfiltered
/// ones, so this source is only read whole by [`read_source`], never planned.
struct BoxFiltered<'a> {
    inner: &'a dyn PartitionSource,
    kept: Vec<usize>,
    rect: Rect,
}

impl PartitionSource for BoxFiltered<'_> {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn schema(&self) -> &SchemaRef {
        self.inner.schema()
    }
    fn geometry_column(&self) -> usize {
        self.inner.geometry_column()
    }
    fn crs(&self) -> Option<&Crs> {
        self.inner.crs()
    }
    fn partitions(&self) -> Vec<PartitionMeta> {
        let all = self.inner.partitions();
        self.kept.iter().map(|&k| all[k]).collect()
    }
    fn read_partition(&self, k: usize) -> Result<Partition> {
        let inner = *self
            .kept
            .get(k)
            .ok_or_else(|| Error::Internal(format!("no partition {k}")))?;
        self.inner.read_partition(inner)?.filter_bbox(self.rect)
    }
}

/// A frame already in memory, as a source: its partitions are handed over as they are.
pub(crate) struct MemorySource(pub GeoFrame);

impl PartitionSource for MemorySource {
    fn describe(&self) -> String {
        format!("memory ({} rows)", self.0.len())
    }
    fn schema(&self) -> &SchemaRef {
        self.0.schema()
    }
    fn geometry_column(&self) -> usize {
        self.0.geometry_column_index()
    }
    fn crs(&self) -> Option<&Crs> {
        self.0.crs()
    }
    fn partitions(&self) -> Vec<PartitionMeta> {
        self.0
            .partitions()
            .iter()
            .map(|p| PartitionMeta {
                rows: p.len() as u64,
                bounds: p.bounds(),
            })
            .collect()
    }
    fn read_partition(&self, k: usize) -> Result<Partition> {
        self.0
            .partitions()
            .get(k)
            .cloned()
            .ok_or_else(|| Error::Internal(format!("a frame in memory has no partition {k}")))
    }
}
