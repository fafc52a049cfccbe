//! Lazy plans and their parallel execution.
//!
//! A [`LazyFrame`] is a logical plan (`logical`: nodes with derived schema, CRS and
//! partition metadata, printed by [`LazyFrame::explain`]) built by its methods (`lazy`)
//! with pruning decided up front (`prune`); compiling it (`compile`) gives a [`Graph`] of tasks (one per
//! partition, or per candidate partition pair of a join) whose kinds and parameters are
//! plain, serializable data ([`TaskKind`]), so the same graph can be drawn
//! ([`Graph::to_dot`]) or handed to another executor. The built-in executor runs ready
//! tasks on `rayon` thread pools, keeps each result only while a later task needs it, turns
//! a failing or panicking task into an error naming the task and partition, and can take
//! more workers while it runs. The out-of-core operations (`external_shuffle`,
//! `external_dissolve`) run the plan into buckets on disk (`spill`) and scan them back.

pub(crate) mod compile;
mod executor;
mod external_dissolve;
mod external_shuffle;
mod graph;
mod lazy;
mod logical;
mod memory;
mod progress;
mod prune;
mod report;
mod run;
mod spill;
#[cfg(feature = "distributed")]
pub(crate) mod stage;
mod tasks;

pub use executor::{ExecuteOptions, RunStats};
pub use external_dissolve::DissolveOptions;
pub use graph::{Graph, Task, TaskId, TaskKind};
pub use lazy::{scan_flatgeobuf, scan_geojson, scan_geopackage, scan_geoparquet, scan_shapefile};
pub use logical::LazyFrame;
pub use run::Computation;
#[cfg(feature = "distributed")]
pub(crate) use tasks::Context;
