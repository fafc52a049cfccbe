//! Running a compiled plan: [`Computation`], a run under way, and the frame it yields.

use std::sync::Arc;

use arrow_schema::SchemaRef;

use super::compile::{compile, CompileMode};
use super::executor::{ExecuteOptions, RunHandle, RunStats};
use super::logical::LazyFrame;
use super::tasks::Value;
use crate::error::{Error, Result};
use crate::io::PartitionSink;
use crate::partition::Partition;
use crate::{Crs, GeoFrame};

/// A computation under way, started by [`LazyFrame::start`].
pub struct Computation {
    run: RunHandle,
    schema: SchemaRef,
    geometry_column: usize,
    crs: Option<Crs>,
}

impl Computation {
    pub(crate) fn start(frame: &LazyFrame, options: &ExecuteOptions) -> Result<Computation> {
        let (graph, context) = compile(frame, CompileMode::Collect);
        Ok(Computation {
            run: RunHandle::start(Arc::new(graph), Arc::new(context), options)?,
            schema: frame.schema.clone(),
            geometry_column: frame.geometry_column,
            crs: frame.crs.clone(),
        })
    }

    /// Adds `count` workers; they take ready tasks at once.
    pub fn add_workers(&self, count: usize) -> Result<()> {
        self.run.add_workers(count)
    }

    /// Tasks done so far, and the total.
    pub fn progress(&self) -> (usize, usize) {
        self.run.progress()
    }

    /// Tasks run by each worker so far.
    pub fn stats(&self) -> RunStats {
        self.run.stats()
    }

    /// Waits for the result; the frame and how many tasks each worker ran.
    pub fn finish(self) -> Result<(GeoFrame, RunStats)> {
        let (values, stats) = self.run.wait()?;
        let partitions = values
            .iter()
            .map(|v| match v.as_ref() {
                Value::Partition(p) => Ok(p.clone()),
                _ => Err(Error::Internal(
                    "an output task returned no partition".into(),
                )),
            })
            .collect::<Result<Vec<Partition>>>()?;
        // Joins and shuffles can produce partitions with no rows; a frame keeps only rows.
        let partitions: Vec<Partition> = partitions.into_iter().filter(|p| !p.is_empty()).collect();
        let frame = GeoFrame::from_parts(self.schema, self.geometry_column, self.crs, partitions);
        Ok((frame, stats))
    }
}

impl Computation {
    /// Writes each output partition through `sink` as soon as it and every partition
    /// before it are done, while later ones are computed; partitions that finish early
    /// wait, counted against the memory budget. Finishes the sink when every partition is
    /// written; on any error the sink is dropped, which leaves no output behind.
    ///
    /// Returns the run's counts, with [`RunStats::rows_written`].
    pub fn write_to(self, mut sink: Box<dyn PartitionSink>) -> Result<RunStats> {
        let stats = self.run.stream(|values| {
            let partitions = values
                .iter()
                .filter_map(|v| match v.as_ref() {
                    Value::Partition(p) if p.is_empty() => None,
                    Value::Partition(p) => Some(Ok(p.clone())),
                    _ => Some(Err(Error::Internal(
                        "an output task returned no partition".into(),
                    ))),
                })
                .collect::<Result<Vec<Partition>>>()?;
            if partitions.is_empty() {
                return Ok(());
            }
            sink.write(&partitions)
        })?;
        sink.finish()?;
        Ok(stats)
    }
}

/// Runs the count graph of `frame` and returns its one count.
pub(crate) fn count_rows(frame: &LazyFrame, options: &ExecuteOptions) -> Result<u64> {
    let (graph, context) = compile(frame, CompileMode::CountRows);
    let run = RunHandle::start(Arc::new(graph), Arc::new(context), options)?;
    let (values, _) = run.wait()?;
    match values.last().map(|v| v.as_ref()) {
        Some(Value::Count(n)) => Ok(*n),
        _ => Err(Error::Internal("the count task returned no count".into())),
    }
}
