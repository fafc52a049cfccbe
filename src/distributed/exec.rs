//! The physical operator that runs geoframe's own tasks inside a DataFusion plan: one
//! output partition per stage task, its inputs the file scans of the plan's sources,
//! partition-aligned (file group `k` of every scan holds the files stage task `k` reads).

use std::fmt;
use std::sync::Arc;

use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{
    Boundedness, EmissionType, ReplaceChildrenOptions,
};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
    SendableRecordBatchStream,
};
use futures::{StreamExt, TryStreamExt};

use super::spec::Job;

/// Runs the stage tasks of a [`Job`] (see the module docs of `geoframe::distributed`).
#[derive(Debug)]
pub(crate) struct GeoframeExec {
    pub(crate) job: Arc<Job>,
    children: Vec<Arc<dyn ExecutionPlan>>,
    properties: Arc<PlanProperties>,
}

impl GeoframeExec {
    pub fn new(job: Arc<Job>, children: Vec<Arc<dyn ExecutionPlan>>) -> Result<GeoframeExec> {
        // A task sees only its own slice of the scans, so the partition count comes from
        // them, not from the job.
        let partitions = match children.first() {
            Some(c) => c.properties().output_partitioning().partition_count(),
            None => {
                return Err(DataFusionError::Internal(
                    "a geoframe stage without scans".into(),
                ))
            }
        };
        if children
            .iter()
            .any(|c| c.properties().output_partitioning().partition_count() != partitions)
        {
            return Err(DataFusionError::Internal(
                "the scans of a geoframe stage are not partition-aligned".into(),
            ));
        }
        let properties = PlanProperties::new(
            EquivalenceProperties::new(job.output_schema.clone()),
            Partitioning::UnknownPartitioning(partitions),
            EmissionType::Final,
            Boundedness::Bounded,
        );
        Ok(GeoframeExec {
            job,
            children,
            properties: Arc::new(properties),
        })
    }
}

impl DisplayAs for GeoframeExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "GeoframeExec: {}", self.job.describe())
    }
}

fn external(e: crate::Error) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

impl ExecutionPlan for GeoframeExec {
    fn name(&self) -> &str {
        "GeoframeExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        self.children.iter().collect()
    }

    // Partition `k` of every input belongs to stage task `k`: no input may be regrouped.
    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false; self.children.len()]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![false; self.children.len()]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(GeoframeExec::new(self.job.clone(), children)?))
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(GeoframeExec::new(self.job.clone(), children)?))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let streams = self
            .children
            .iter()
            .map(|c| c.execute(partition, context.clone()))
            .collect::<Result<Vec<_>>>()?;
        let job = self.job.clone();
        let output = futures::stream::once(async move {
            let mut inputs = Vec::with_capacity(streams.len());
            for stream in streams {
                inputs.push(stream.try_collect::<Vec<_>>().await?);
            }
            // geoframe's tasks are CPU-bound and synchronous: off the async workers.
            let batch = tokio::task::spawn_blocking(move || job.run(inputs))
                .await
                .map_err(|e| DataFusionError::External(Box::new(e)))?
                .map_err(external)?;
            Ok::<_, DataFusionError>(batch)
        })
        .filter_map(|r| async move { r.transpose() });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.job.output_schema.clone(),
            output,
        )))
    }
}
