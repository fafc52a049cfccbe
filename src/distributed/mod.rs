//! Running plans on an Apache DataFusion Ballista cluster (cargo feature `distributed`).
//!
//! The same [`LazyFrame`](crate::plan::LazyFrame) that runs locally runs on a cluster:
//! its task graph is cut into stage tasks, one per output partition, or for an inner
//! join one per candidate partition pair (pruned by the partition R-trees before any task
//! exists, as locally). The client sends the job to the scheduler as one DataFusion
//! logical node (`logical`); the scheduler plans it (`planner`) as a geoframe operator
//! (`exec`) over one Parquet file scan per source, file group `k` of each scan holding
//! the files stage task `k` reads, so Ballista gives each task only its own files. The
//! executors run geoframe's own per-partition and per-pair code on them. Codecs (`codec`)
//! carry the operator between processes; `geoframe cluster scheduler` and `geoframe
//! cluster executor` (`process`) are Ballista's processes with them registered.
//!
//! Every row the scans read carries its stage task and source partition (as partition
//! columns), and a task checks that it got exactly its own files' rows: a scan that
//! moved or regrouped files would fail the job instead of giving a wrong answer.
//!
//! Sources must be partitioned GeoParquet datasets on a filesystem every executor sees
//! at the same path.

mod cluster;
mod codec;
mod exec;
mod logical;
mod planner;
mod process;
mod spec;
#[cfg(test)]
mod tests;

pub use cluster::{Cluster, ClusterStats};
pub use process::{run_executor, run_scheduler, ExecutorOptions, SchedulerOptions};
