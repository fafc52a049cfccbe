//! What each kind of task computes.

use std::sync::Arc;

use arrow_schema::SchemaRef;

use super::graph::{Task, TaskKind};
use crate::error::{Error, Result};
use crate::io::PartitionSource;
use crate::join;
use crate::ops::clip;
use crate::partition::{shuffle, Partition};
use crate::{geometry, Crs};

/// What a run needs besides the graph: the data behind its sources, and the schemas that
/// join tasks refer to by position.
#[derive(Default)]
pub(crate) struct Context {
    pub sources: Vec<Arc<dyn PartitionSource>>,
    pub schemas: Vec<SchemaRef>,
}

/// The result of a task.
pub(crate) enum Value {
    Partition(Partition),
    Count(u64),
    Keys(shuffle::Keys),
    Plan(shuffle::ShufflePlan),
    Index(Box<join::PartitionIndexed>),
    Pairs(Vec<(u64, u64)>),
    NearestPairs(Vec<(u64, u64, f64)>),
}

/// A task given inputs its kind does not take: a compiler bug.
fn wrong(task: &Task, what: &str) -> Error {
    Error::Internal(format!("{} task received {what}", task.kind.name()))
}

fn partition<'a>(task: &Task, v: &'a Value) -> Result<&'a Partition> {
    match v {
        Value::Partition(p) => Ok(p),
        _ => Err(wrong(task, "something other than a partition")),
    }
}

pub(crate) fn run_task(task: &Task, inputs: &[Arc<Value>], ctx: &Context) -> Result<Value> {
    Ok(match &task.kind {
        TaskKind::Scan { source, partition } => Value::Partition(
            ctx.sources
                .get(*source)
                .ok_or_else(|| wrong(task, "an unknown source"))?
                .read_partition(*partition)?,
        ),
        TaskKind::Select {
            columns,
            geometry_column,
        } => Value::Partition(partition(task, &inputs[0])?.project(columns, *geometry_column)?),
        TaskKind::ToCrs {
            from,
            to,
            first_row,
        } => {
            let p = partition(task, &inputs[0])?;
            let proj =
                crate::crs::transformer(&Crs::from_definition(from), &Crs::from_definition(to))?;
            Value::Partition(crate::crs::reproject_partition(p, &proj, *first_row)?)
        }
        TaskKind::AddColumn {
            op,
            name,
            first_row,
        } => {
            let p = partition(task, &inputs[0])?;
            Value::Partition(op.apply(name, p, *first_row)?)
        }
        TaskKind::MapGeometry { op, first_row } => {
            let p = partition(task, &inputs[0])?;
            Value::Partition(op.apply_partition(&p.batch().schema(), p, *first_row)?)
        }
        TaskKind::Clip { mask, first_row } => {
            let p = partition(task, &inputs[0])?;
            let mask = clip::mask_polygons(&geometry::from_wkb(mask, 0)?)?;
            Value::Partition(clip::clip_partition(p, *first_row, &mask)?)
        }
        TaskKind::FilterBbox { rect } => {
            Value::Partition(partition(task, &inputs[0])?.filter_bbox(*rect)?)
        }
        TaskKind::CountRows => Value::Count(match inputs[0].as_ref() {
            Value::Pairs(pairs) => pairs.len() as u64,
            _ => partition(task, &inputs[0])?.len() as u64,
        }),
        TaskKind::SumCounts => Value::Count(
            inputs
                .iter()
                .map(|v| match v.as_ref() {
                    Value::Count(n) => Ok(*n),
                    _ => Err(wrong(task, "something other than a count")),
                })
                .sum::<Result<u64>>()?,
        ),
        TaskKind::ShuffleKeys {
            method,
            extent,
            first_row,
        } => {
            let p = partition(task, &inputs[0])?;
            let extent = extent.map(|[a, b, c, d]| geo::Rect::new((a, b), (c, d)));
            Value::Keys(shuffle::partition_keys(p, *first_row, *method, extent)?)
        }
        TaskKind::ShufflePlan { method, sizes } => {
            let keys = inputs
                .iter()
                .map(|v| match v.as_ref() {
                    Value::Keys(k) => Ok(k),
                    _ => Err(wrong(task, "something other than keys")),
                })
                .collect::<Result<Vec<_>>>()?;
            Value::Plan(shuffle::plan(&keys, *method, sizes))
        }
        TaskKind::ShuffleGather { output } => {
            // Inputs: the plan, then each input partition's keys, then the partitions.
            let Value::Plan(plan) = inputs[0].as_ref() else {
                return Err(wrong(task, "no shuffle plan"));
            };
            let k = (inputs.len() - 1) / 2;
            let keys = inputs[1..=k]
                .iter()
                .map(|v| match v.as_ref() {
                    Value::Keys(keys) => Ok(keys),
                    _ => Err(wrong(task, "something other than keys")),
                })
                .collect::<Result<Vec<_>>>()?;
            let parts = inputs[1 + k..]
                .iter()
                .map(|v| partition(task, v))
                .collect::<Result<Vec<_>>>()?;
            Value::Partition(shuffle::gather(plan, &keys, &parts, *output)?)
        }
        TaskKind::BuildIndex { first_row } => {
            let p = partition(task, &inputs[0])?;
            Value::Index(Box::new(join::PartitionIndexed::build(p, *first_row)?))
        }
        TaskKind::JoinPair {
            predicate,
            base_first_row,
            other_first_row,
        } => {
            let base = partition(task, &inputs[0])?;
            let Value::Index(other) = inputs[1].as_ref() else {
                return Err(wrong(task, "no index"));
            };
            Value::Pairs(join::probe(
                base,
                *base_first_row,
                other,
                *other_first_row,
                *predicate,
            )?)
        }
        TaskKind::NearestPairs {
            left_first_row,
            right_first_rows,
            max_distance,
            radius,
            limit,
            exclusive,
        } => {
            let left = partition(task, &inputs[0])?;
            let rights = inputs[1..]
                .iter()
                .map(|v| match v.as_ref() {
                    Value::Index(ix) => Ok(&**ix),
                    _ => Err(wrong(task, "something other than an index")),
                })
                .collect::<Result<Vec<_>>>()?;
            Value::NearestPairs(join::nearest_pairs(
                left,
                *left_first_row,
                &rights,
                right_first_rows,
                &join::NearestParams {
                    max_distance: *max_distance,
                    radius: *radius,
                    limit: *limit,
                    exclusive: *exclusive,
                },
            )?)
        }
        TaskKind::JoinOutput {
            how,
            base_first_row,
            other_first_rows,
            pair_results,
            schema,
            other_schema,
            other_geometry,
            with_distance,
        } => {
            let base = partition(task, &inputs[0])?;
            let mut pair_lists: Vec<&[(u64, u64)]> = Vec::new();
            let mut nearest: Vec<(u64, u64, f64)> = Vec::new();
            for v in &inputs[1..1 + pair_results] {
                match v.as_ref() {
                    Value::Pairs(p) => pair_lists.push(p),
                    Value::NearestPairs(p) => nearest.extend_from_slice(p),
                    _ => return Err(wrong(task, "something other than pairs")),
                }
            }
            nearest.sort_by_key(|t| (t.0, t.1));
            // One sorted list (one partition met on the other side) is used as it is.
            let pairs: std::borrow::Cow<[(u64, u64)]> = match pair_lists.as_slice() {
                _ if !nearest.is_empty() => nearest.iter().map(|t| (t.0, t.1)).collect(),
                [one] if one.is_sorted() => std::borrow::Cow::Borrowed(one),
                lists => {
                    let mut all = lists.concat();
                    all.sort_unstable();
                    std::borrow::Cow::Owned(all)
                }
            };
            // Only a nearest join asked for a distance column has one in its schema.
            let distances: Option<Vec<f64>> =
                with_distance.then(|| nearest.iter().map(|t| t.2).collect());
            let others = inputs[1 + pair_results..]
                .iter()
                .map(|v| partition(task, v))
                .collect::<Result<Vec<_>>>()?;
            let schema = ctx
                .schemas
                .get(*schema)
                .ok_or_else(|| wrong(task, "an unknown schema"))?;
            let other_schema = ctx
                .schemas
                .get(*other_schema)
                .ok_or_else(|| wrong(task, "an unknown schema"))?;
            Value::Partition(join::assemble_rows(&join::OutputSpec {
                schema,
                base,
                base_first_row: *base_first_row,
                others: &others,
                other_first_rows,
                other_schema,
                other_geometry: *other_geometry,
                pairs: &pairs,
                distances: distances.as_deref(),
                how: *how,
            })?)
        }
    })
}
