//! The logical plan the client sends: one leaf node holding the whole job, planned on the
//! scheduler into file scans under a [`super::exec::GeoframeExec`].

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::common::{DFSchema, DFSchemaRef};
use datafusion::error::Result;
use datafusion::logical_expr::{Expr, LogicalPlan, UserDefinedLogicalNodeCore};

use super::spec::Job;

/// A geoframe job as a leaf of a DataFusion logical plan.
#[derive(Debug, Clone)]
pub(crate) struct GeoframeNode {
    pub(crate) job: Arc<Job>,
    schema: DFSchemaRef,
}

impl GeoframeNode {
    pub fn new(job: Arc<Job>) -> Result<GeoframeNode> {
        let schema = Arc::new(DFSchema::try_from(job.output_schema.as_ref().clone())?);
        Ok(GeoframeNode { job, schema })
    }
}

// A job is identified by its encoding.
impl PartialEq for GeoframeNode {
    fn eq(&self, other: &Self) -> bool {
        self.job.bytes == other.job.bytes
    }
}

impl Eq for GeoframeNode {}

impl Hash for GeoframeNode {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.job.bytes.hash(state);
    }
}

impl PartialOrd for GeoframeNode {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.job.bytes.cmp(&other.job.bytes))
    }
}

impl UserDefinedLogicalNodeCore for GeoframeNode {
    fn name(&self) -> &str {
        "Geoframe"
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        Vec::new()
    }

    fn schema(&self) -> &DFSchemaRef {
        &self.schema
    }

    fn expressions(&self) -> Vec<Expr> {
        Vec::new()
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "Geoframe: {}", self.job.describe())
    }

    fn with_exprs_and_inputs(&self, _exprs: Vec<Expr>, _inputs: Vec<LogicalPlan>) -> Result<Self> {
        Ok(self.clone())
    }
}
