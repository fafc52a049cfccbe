//! Codecs that carry geoframe's plan nodes between client, scheduler and executors; every
//! other node goes to Ballista's own codecs.

use std::sync::Arc;

use arrow_schema::SchemaRef;
use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion::common::TableReference;
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::datasource::TableProvider;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Extension, LogicalPlan};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};

use super::exec::GeoframeExec;
use super::logical::GeoframeNode;
use super::spec::Job;

/// Starts every encoded geoframe node, so it is never taken for one of Ballista's.
const MAGIC: &[u8] = b"geoframe-job-1\n";

fn decode_job(buf: &[u8]) -> Option<Result<Arc<Job>>> {
    let body = buf.strip_prefix(MAGIC)?;
    Some(
        Job::decode(body)
            .map(Arc::new)
            .map_err(|e| DataFusionError::External(Box::new(e))),
    )
}

fn encode_job(job: &Job, buf: &mut Vec<u8>) {
    buf.extend_from_slice(MAGIC);
    buf.extend_from_slice(&job.bytes);
}

/// The logical codec of client and scheduler.
#[derive(Debug, Default)]
pub(crate) struct LogicalCodec {
    ballista: BallistaLogicalExtensionCodec,
}

impl LogicalExtensionCodec for LogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        match decode_job(buf) {
            Some(job) => Ok(Extension {
                node: Arc::new(GeoframeNode::new(job?)?),
            }),
            None => self.ballista.try_decode(buf, inputs, ctx),
        }
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        match node.node.as_any().downcast_ref::<GeoframeNode>() {
            Some(n) => {
                encode_job(&n.job, buf);
                Ok(())
            }
            None => self.ballista.try_encode(node, buf),
        }
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        self.ballista
            .try_decode_table_provider(buf, table_ref, schema, ctx)
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        self.ballista
            .try_encode_table_provider(table_ref, node, buf)
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn FileFormatFactory>> {
        self.ballista.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> Result<()> {
        self.ballista.try_encode_file_format(buf, node)
    }
}

/// The physical codec of scheduler and executors.
#[derive(Debug, Default)]
pub(crate) struct PhysicalCodec {
    ballista: BallistaPhysicalExtensionCodec,
}

impl PhysicalExtensionCodec for PhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match decode_job(buf) {
            Some(job) => Ok(Arc::new(GeoframeExec::new(job?, inputs.to_vec())?)),
            None => self.ballista.try_decode(buf, inputs, ctx, proto_converter),
        }
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        match node.downcast_ref::<GeoframeExec>() {
            Some(exec) => {
                encode_job(&exec.job, buf);
                Ok(())
            }
            None => self.ballista.try_encode(node, buf, proto_converter),
        }
    }
}
