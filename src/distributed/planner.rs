//! Planning a job on the scheduler: its node becomes a [`GeoframeExec`] over one Parquet
//! file scan per source, file group `k` of each holding the files stage task `k` reads.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::common::ScalarValue;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::object_store::ObjectStoreUrl;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::table_schema::TableSchema;
use datafusion::error::Result;
use datafusion::execution::context::QueryPlanner;
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::{LogicalPlan, UserDefinedLogicalNode};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_planner::{DefaultPhysicalPlanner, ExtensionPlanner, PhysicalPlanner};
use datafusion::prelude::SessionConfig;

use super::exec::GeoframeExec;
use super::logical::GeoframeNode;
use super::spec::{scan_columns, Job};
use crate::plan::TaskKind;

/// The physical plan of `job`.
pub(crate) fn physical_plan(job: Arc<Job>) -> Result<Arc<dyn ExecutionPlan>> {
    let spec = &job.spec;
    let mut scans: Vec<Arc<dyn ExecutionPlan>> = Vec::with_capacity(spec.sources.len());
    for (s, source) in spec.sources.iter().enumerate() {
        let groups: Vec<FileGroup> = spec
            .tasks
            .iter()
            .enumerate()
            .map(|(t, task)| {
                let files = task
                    .scans
                    .iter()
                    .filter_map(|&scan| match spec.graph.tasks[scan].kind {
                        TaskKind::Scan { source, partition } if source == s => Some(partition),
                        _ => None,
                    })
                    .filter_map(|p| {
                        let (path, size) = source.files.get(p)?;
                        Some(
                            PartitionedFile::new(path.clone(), *size).with_partition_values(vec![
                                ScalarValue::UInt64(Some(t as u64)),
                                ScalarValue::UInt64(Some(p as u64)),
                            ]),
                        )
                    })
                    .collect();
                FileGroup::new(files)
            })
            .collect();
        let table_schema = TableSchema::builder(job.source_schemas[s].clone())
            .with_table_partition_cols(scan_columns())
            .build();
        let config = FileScanConfigBuilder::new(
            ObjectStoreUrl::local_filesystem(),
            Arc::new(ParquetSource::new(table_schema)),
        )
        .with_file_groups(groups)
        .build();
        scans.push(DataSourceExec::from_data_source(config));
    }
    Ok(Arc::new(GeoframeExec::new(job, scans)?))
}

/// Plans [`GeoframeNode`]s.
struct GeoframePlanner;

#[async_trait]
impl ExtensionPlanner for GeoframePlanner {
    async fn plan_extension(
        &self,
        _planner: &dyn PhysicalPlanner,
        node: &dyn UserDefinedLogicalNode,
        _logical_inputs: &[&LogicalPlan],
        _physical_inputs: &[Arc<dyn ExecutionPlan>],
        _session: &dyn datafusion::catalog::Session,
        _planning_ctx: &PhysicalPlanningContext,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        match node.as_any().downcast_ref::<GeoframeNode>() {
            Some(n) => Ok(Some(physical_plan(n.job.clone())?)),
            None => Ok(None),
        }
    }
}

/// DataFusion's planner with [`GeoframePlanner`].
#[derive(Debug)]
struct GeoframeQueryPlanner;

#[async_trait]
impl QueryPlanner for GeoframeQueryPlanner {
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
        session: &dyn datafusion::catalog::Session,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        DefaultPhysicalPlanner::with_extension_planners(vec![Arc::new(GeoframePlanner)])
            .create_physical_plan(logical_plan, session)
            .await
    }
}

/// Settings without which a partition-aligned plan gives wrong answers: DataFusion would
/// otherwise move files between partitions (work stealing) or regroup them.
pub(crate) fn aligned(config: SessionConfig) -> SessionConfig {
    let mut config = config;
    let options = config.options_mut();
    options.execution.enable_file_stream_work_stealing = false;
    options.optimizer.repartition_file_scans = false;
    config
}

/// The scheduler's session: Ballista's defaults, geoframe's planner, aligned scans.
pub(crate) fn scheduler_session(config: SessionConfig) -> Result<SessionState> {
    let defaults = ballista_core::utils::default_session_builder(aligned(config))?;
    Ok(SessionStateBuilder::new_from_existing(defaults)
        .with_query_planner(Arc::new(GeoframeQueryPlanner))
        .build())
}
