//! The client: a [`Cluster`] handle sends a plan's job to the scheduler and puts the rows
//! that come back in the order of a local run.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use arrow_array::{Array, RecordBatch, UInt32Array, UInt64Array};
use ballista::prelude::{SessionConfigExt, SessionContextExt};
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::logical_expr::{Extension, LogicalPlan};
use datafusion::prelude::{SessionConfig, SessionContext};

use super::codec::{LogicalCodec, PhysicalCodec};
use super::logical::GeoframeNode;
use super::planner::{aligned, physical_plan};
use super::spec::{Job, Spec};
use crate::error::{Error, Result};
use crate::io::PartitionSink;
use crate::partition::Partition;
use crate::plan::LazyFrame;
use crate::GeoFrame;

/// A Ballista scheduler that runs geoframe plans (started with `geoframe cluster
/// scheduler`, its executors with `geoframe cluster executor`).
///
/// Every source of a plan must be a partitioned GeoParquet dataset (one file per
/// partition, see [`crate::io::GeoParquetDatasetSink`]) at a path every executor can
/// read: a shared filesystem. A job has one task per output partition of the plan, or
/// for an inner join one per candidate partition pair, pruned by the partition R-trees
/// as a local run is; each task reads only the files of its partitions. The rows come
/// back in the order of a local run.
///
/// ```no_run
/// use geoframe::distributed::Cluster;
/// use geoframe::io::GeoParquetOptions;
/// use geoframe::join::{How, Predicate};
/// use geoframe::plan::scan_geoparquet;
///
/// let whole_files = GeoParquetOptions { rows_per_partition: usize::MAX, ..Default::default() };
/// let points = scan_geoparquet("/shared/points_dataset", &whole_files)?;
/// let counties = scan_geoparquet("/shared/counties_dataset", &whole_files)?;
/// let joined = points.sjoin(&counties, How::Inner, Predicate::Within)?;
/// let cluster = Cluster::connect("df://127.0.0.1:50050")?;
/// println!("{}", Cluster::explain(&joined)?);
/// let frame = cluster.collect(&joined)?;
/// # Ok::<(), geoframe::Error>(())
/// ```
pub struct Cluster {
    url: String,
    runtime: tokio::runtime::Runtime,
}

/// What a job on a cluster did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClusterStats {
    /// Tasks of the job (output partitions of its geoframe operator).
    pub tasks: usize,
    /// Partition pairs its joins tested, one task each for an inner join.
    pub pairs_tested: usize,
    /// Partition pairs the partition R-trees pruned: no task reads them.
    pub pairs_pruned: usize,
    /// Tasks that returned rows, by the process id of the executor that ran them.
    pub tasks_by_worker: BTreeMap<u32, usize>,
}

fn cluster_error(url: &str) -> impl Fn(datafusion::error::DataFusionError) -> Error + '_ {
    move |e| Error::Cluster {
        url: url.to_string(),
        message: e.to_string(),
    }
}

impl Cluster {
    /// A handle on the scheduler at `url` (`df://host:port`). Nothing is sent until a job
    /// runs. Its methods block; call them outside any async runtime.
    pub fn connect(url: &str) -> Result<Cluster> {
        let Some(address) = url.strip_prefix("df://") else {
            return Err(Error::InvalidArgument(format!(
                "{url:?}: a cluster is named df://host:port"
            )));
        };
        if address
            .rsplit_once(':')
            .is_none_or(|(h, p)| h.is_empty() || p.parse::<u16>().is_err())
        {
            return Err(Error::InvalidArgument(format!(
                "{url:?}: a cluster is named df://host:port"
            )));
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| Error::Cluster {
                url: url.to_string(),
                message: format!("cannot start the client's runtime: {e}"),
            })?;
        Ok(Cluster {
            url: url.to_string(),
            runtime,
        })
    }

    /// The scheduler's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The DataFusion physical plan `frame` runs as on a cluster: the geoframe operator
    /// (tasks, pairs tested and pruned) over one Parquet scan per source.
    pub fn explain(frame: &LazyFrame) -> Result<String> {
        let job = Arc::new(Job::new(Spec::of(frame, false)?)?);
        let plan = physical_plan(job).map_err(|e| Error::Internal(e.to_string()))?;
        let text = datafusion::physical_plan::displayable(plan.as_ref())
            .indent(true)
            .to_string();
        Ok(text)
    }

    /// Computes `frame` on the cluster.
    pub fn collect(&self, frame: &LazyFrame) -> Result<GeoFrame> {
        Ok(self.collect_with_stats(frame)?.0)
    }

    /// Computes `frame` on the cluster; also says which executors ran its tasks.
    pub fn collect_with_stats(&self, frame: &LazyFrame) -> Result<(GeoFrame, ClusterStats)> {
        let job = Arc::new(Job::new(Spec::of(frame, false)?)?);
        let batches = self.run(job.clone())?;
        assemble(&job, frame, &batches)
    }

    /// The number of rows of `frame`, counted on the cluster (an inner join's pairs are
    /// counted by its pair tasks, without assembling rows).
    pub fn count_rows(&self, frame: &LazyFrame) -> Result<u64> {
        Ok(self.count_rows_with_stats(frame)?.0)
    }

    /// Like [`Cluster::count_rows`], with the job's counts.
    pub fn count_rows_with_stats(&self, frame: &LazyFrame) -> Result<(u64, ClusterStats)> {
        let job = Arc::new(Job::new(Spec::of(frame, true)?)?);
        let batches = self.run(job.clone())?;
        let mut total = 0u64;
        for batch in &batches {
            let counts = column::<UInt64Array>(batch, 0)?;
            total += counts.values().iter().sum::<u64>();
        }
        Ok((total, stats(&job, &batches, 1)?))
    }

    /// Computes `frame` on the cluster and writes it through `sink`, in the order of a
    /// local run; returns the rows written. The rows are gathered on the client first.
    pub fn sink(&self, frame: &LazyFrame, mut sink: Box<dyn PartitionSink>) -> Result<u64> {
        let (result, _) = self.collect_with_stats(frame)?;
        if !result.partitions().is_empty() {
            sink.write(result.partitions())?;
        }
        sink.finish()?;
        Ok(result.len() as u64)
    }

    fn run(&self, job: Arc<Job>) -> Result<Vec<RecordBatch>> {
        let url = self.url.clone();
        self.runtime.block_on(async move {
            let config = aligned(
                SessionConfig::new_with_ballista()
                    .with_ballista_logical_extension_codec(Arc::new(LogicalCodec::default()))
                    .with_ballista_physical_extension_codec(Arc::new(PhysicalCodec::default())),
            );
            let state = SessionStateBuilder::new()
                .with_config(config)
                .with_default_features()
                .build();
            let ctx = SessionContext::remote_with_state(&url, state)
                .await
                .map_err(cluster_error(&url))?;
            let node = GeoframeNode::new(job).map_err(cluster_error(&url))?;
            let plan = LogicalPlan::Extension(Extension {
                node: Arc::new(node),
            });
            let frame = ctx
                .execute_logical_plan(plan)
                .await
                .map_err(cluster_error(&url))?;
            frame.collect().await.map_err(cluster_error(&url))
        })
    }
}

fn column<T: 'static>(batch: &RecordBatch, i: usize) -> Result<&T> {
    batch
        .columns()
        .get(i)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| {
            Error::Internal(format!("column {i} of a cluster result has the wrong type"))
        })
}

/// The job's counts; `width` is the number of columns before the task column.
fn stats(job: &Job, batches: &[RecordBatch], width: usize) -> Result<ClusterStats> {
    let mut seen = BTreeSet::new();
    for batch in batches {
        let tasks = column::<UInt64Array>(batch, width)?;
        let workers = column::<UInt32Array>(batch, width + 1)?;
        for (t, w) in tasks.values().iter().zip(workers.values().iter()) {
            seen.insert((*w, *t));
        }
    }
    let mut tasks_by_worker = BTreeMap::new();
    for (w, _) in seen {
        *tasks_by_worker.entry(w).or_insert(0) += 1;
    }
    Ok(ClusterStats {
        tasks: job.spec.tasks.len(),
        pairs_tested: job.spec.pairs_tested,
        pairs_pruned: job.spec.pairs_pruned,
        tasks_by_worker,
    })
}

/// The frame from the rows of every task: grouped by output partition, each put in the
/// order of a local run by its keys.
fn assemble(
    job: &Job,
    frame: &LazyFrame,
    batches: &[RecordBatch],
) -> Result<(GeoFrame, ClusterStats)> {
    let width = frame.schema.fields().len();
    // (key1, key2, batch, row) of each output partition's rows.
    let mut rows: BTreeMap<usize, Vec<(u64, u64, usize, usize)>> = BTreeMap::new();
    for (b, batch) in batches.iter().enumerate() {
        let tasks = column::<UInt64Array>(batch, width)?;
        let key1 = column::<UInt64Array>(batch, width + 2)?;
        let key2 = column::<UInt64Array>(batch, width + 3)?;
        for r in 0..batch.num_rows() {
            let task = job
                .spec
                .tasks
                .get(tasks.value(r) as usize)
                .ok_or_else(|| Error::Internal("a cluster row of no task".into()))?;
            rows.entry(task.partition)
                .or_default()
                .push((key1.value(r), key2.value(r), b, r));
        }
    }
    let mut partitions = Vec::with_capacity(rows.len());
    for (_, mut part) in rows {
        part.sort_unstable();
        if part
            .windows(2)
            .any(|w| (w[0].0, w[0].1) == (w[1].0, w[1].1))
        {
            return Err(Error::Internal(
                "a row came back twice from the cluster".into(),
            ));
        }
        let indices: Vec<(usize, usize)> = part.iter().map(|p| (p.2, p.3)).collect();
        let columns = (0..width)
            .map(|c| {
                let arrays: Vec<&dyn Array> =
                    batches.iter().map(|b| b.column(c).as_ref()).collect();
                arrow_select::interleave::interleave(&arrays, &indices)
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let batch = RecordBatch::try_new(frame.schema.clone(), columns)?;
        partitions.push(Partition::from_checked_rows(batch, frame.geometry_column)?);
    }
    let result = GeoFrame::from_parts(
        frame.schema.clone(),
        frame.geometry_column,
        frame.crs.clone(),
        partitions,
    );
    Ok((result, stats(job, batches, width)?))
}
