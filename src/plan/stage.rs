//! A compiled plan cut into independent tasks for another engine (a cluster): each
//! stage task is one output of the task graph with everything it depends on (its cone),
//! down to the source partitions it reads, so it can run anywhere those partitions can be
//! read. An inner join's outputs are cut further, one stage task per candidate
//! partition pair, as the local graph has one pair task per pair.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::compile::{compile, CompileMode};
use super::graph::{Graph, TaskId, TaskKind};
use super::logical::{LazyFrame, Node};
pub(crate) use super::tasks::Value;
use super::tasks::{run_task, Context};
use crate::error::{Error, Result};
use crate::join::How;
use crate::partition::Partition;

/// How the rows a stage task returns are put in the order of a local run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum RowOrder {
    /// The task returns a whole output partition: its rows keep their order.
    Whole,
    /// The task returns one partition pair of an inner join: its rows are ordered, with
    /// those of the output partition's other pairs, by (base row, other row).
    Pairs,
    /// The task returns a count.
    Count,
}

/// One task of a stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StageTask {
    /// The graph task whose result this task returns.
    pub output: TaskId,
    /// The output partition of the frame the rows belong to.
    pub partition: usize,
    /// How its rows are ordered among the others.
    pub order: RowOrder,
    /// The scan tasks of its cone, in increasing order.
    pub scans: Vec<TaskId>,
}

/// A plan cut into stage tasks, with the graph and context they run in.
pub(crate) struct Stage {
    pub graph: Graph,
    pub context: Context,
    pub tasks: Vec<StageTask>,
}

/// What a stage task computed.
pub(crate) enum StageResult {
    /// The rows, and for [`RowOrder::Pairs`] the (base row, other row) of each.
    Rows(Partition, Option<Vec<(u64, u64)>>),
    Count(u64),
}

/// The stage tasks that compute `frame` (or, with `count`, its number of rows).
pub(crate) fn stage(frame: &LazyFrame, count: bool) -> Stage {
    let mode = if count {
        CompileMode::CountRows
    } else {
        CompileMode::Collect
    };
    let (mut graph, context) = compile(frame, mode);
    let outputs = graph.outputs.clone();
    let mut tasks = Vec::new();
    if count {
        // The last output adds up the others; the caller adds up the stage's counts.
        for (k, &t) in outputs[..outputs.len().saturating_sub(1)]
            .iter()
            .enumerate()
        {
            tasks.push((t, k, RowOrder::Count));
        }
    } else {
        for (k, &t) in outputs.iter().enumerate() {
            match split_inner_join(&mut graph, t) {
                Some(pairs) => tasks.extend(pairs.into_iter().map(|p| (p, k, RowOrder::Pairs))),
                None => tasks.push((t, k, RowOrder::Whole)),
            }
        }
    }
    let tasks = tasks
        .into_iter()
        .map(|(output, partition, order)| StageTask {
            output,
            partition,
            order,
            scans: cone(&graph, output)
                .into_iter()
                .filter(|&t| matches!(graph.tasks[t].kind, TaskKind::Scan { .. }))
                .collect(),
        })
        .collect();
    Stage {
        graph,
        context,
        tasks,
    }
}

/// For an inner join's output task (rows of one base partition against each other
/// partition it meets), one new output task per pair, each reading one pair's result;
/// `None` for any other task.
fn split_inner_join(graph: &mut Graph, output: TaskId) -> Option<Vec<TaskId>> {
    let task = graph.tasks[output].clone();
    let TaskKind::JoinOutput {
        how: How::Inner,
        base_first_row,
        other_first_rows,
        pair_results,
        schema,
        other_schema,
        other_geometry,
        with_distance: false,
    } = task.kind
    else {
        return None;
    };
    let pairs = &task.deps[1..1 + pair_results];
    if pairs
        .iter()
        .any(|&p| !matches!(graph.tasks[p].kind, TaskKind::JoinPair { .. }))
        || other_first_rows.len() != pair_results
    {
        return None;
    }
    let others = &task.deps[1 + pair_results..];
    Some(
        (0..pair_results)
            .map(|i| {
                graph.push(
                    TaskKind::JoinOutput {
                        how: How::Inner,
                        base_first_row,
                        other_first_rows: vec![other_first_rows[i]],
                        pair_results: 1,
                        schema,
                        other_schema,
                        other_geometry,
                        with_distance: false,
                    },
                    task.partition,
                    None,
                    vec![task.deps[0], pairs[i], others[i]],
                )
            })
            .collect(),
    )
}

/// `task` and every task it depends on, in increasing order (dependencies first).
fn cone(graph: &Graph, task: TaskId) -> Vec<TaskId> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![task];
    while let Some(t) = todo.pop() {
        if seen.insert(t) {
            todo.extend(&graph.tasks[t].deps);
        }
    }
    seen.into_iter().collect()
}

/// Results that stage tasks of one job share within a process: the index of a partition
/// that several pair tasks probe is built once, not once per pair.
pub(crate) trait SharedIndexes {
    /// The index task `task` built, if kept.
    fn get(&self, task: TaskId) -> Option<Arc<Value>>;
    /// Keeps what index task `task` built.
    fn put(&self, task: TaskId, value: Arc<Value>);
}

/// Runs stage task `task` on one thread, its scans given as `scans` (by scan task).
pub(crate) fn run_stage_task(
    graph: &Graph,
    context: &Context,
    task: &StageTask,
    mut scans: HashMap<TaskId, Partition>,
    shared: &dyn SharedIndexes,
) -> Result<StageResult> {
    let mut values: HashMap<TaskId, Arc<Value>> = HashMap::new();
    let mut needed = cone(graph, task.output);
    // A kept index stands for its whole cone: tasks only it needed are skipped.
    let kept: HashMap<TaskId, Arc<Value>> = needed
        .iter()
        .filter(|&&t| matches!(graph.tasks[t].kind, TaskKind::BuildIndex { .. }))
        .filter_map(|&t| Some((t, shared.get(t)?)))
        .collect();
    if !kept.is_empty() {
        let mut reached = BTreeSet::new();
        let mut todo = vec![task.output];
        while let Some(t) = todo.pop() {
            if reached.insert(t) && !kept.contains_key(&t) {
                todo.extend(&graph.tasks[t].deps);
            }
        }
        needed.retain(|t| reached.contains(t));
        values.extend(kept);
    }
    for t in needed {
        if values.contains_key(&t) {
            continue;
        }
        let node = &graph.tasks[t];
        let value = match node.kind {
            TaskKind::Scan { .. } => Value::Partition(scans.remove(&t).ok_or_else(|| {
                Error::Internal(format!("stage task {}: scan {t} not given", task.output))
            })?),
            _ => {
                let inputs = node
                    .deps
                    .iter()
                    .map(|d| values.get(d).cloned())
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| Error::Internal(format!("task {t}: a dependency is missing")))?;
                run_task(node, &inputs, context).map_err(|e| Error::TaskFailed {
                    task: node.kind.name(),
                    id: t,
                    partition: node.partition,
                    source: Box::new(e),
                })?
            }
        };
        let value = Arc::new(value);
        if matches!(node.kind, TaskKind::BuildIndex { .. }) {
            shared.put(t, value.clone());
        }
        values.insert(t, value);
    }
    let output = values
        .remove(&task.output)
        .ok_or_else(|| Error::Internal("a stage task has no output".into()))?;
    match (output.as_ref(), task.order) {
        (Value::Count(n), RowOrder::Count) => Ok(StageResult::Count(*n)),
        (Value::Partition(p), RowOrder::Whole) => Ok(StageResult::Rows(p.clone(), None)),
        (Value::Partition(p), RowOrder::Pairs) => {
            let pair_task = graph.tasks[task.output].deps[1];
            match values.get(&pair_task).map(|v| v.as_ref()) {
                Some(Value::Pairs(pairs)) if pairs.len() == p.len() => {
                    // The output task ordered its rows by pair (a pair task need not).
                    let mut pairs = pairs.clone();
                    pairs.sort_unstable();
                    Ok(StageResult::Rows(p.clone(), Some(pairs)))
                }
                _ => Err(Error::Internal(
                    "a pair task's rows do not match its pairs".into(),
                )),
            }
        }
        _ => Err(Error::Internal(
            "a stage task returned a value of the wrong kind".into(),
        )),
    }
}

/// How many partition pairs the joins of `frame` test, and how many the partition
/// R-trees pruned (of all base x other pairs), summed over its joins.
pub(crate) fn join_pairs(frame: &LazyFrame) -> (usize, usize) {
    fn walk(frame: &LazyFrame, acc: &mut (usize, usize)) {
        if let Node::Join {
            base,
            other,
            groups,
            ..
        } = frame.node.as_ref()
        {
            let tested: usize = groups.iter().map(|g| g.others.len()).sum();
            acc.0 += tested;
            acc.1 += base.parts.len() * other.parts.len() - tested;
        }
        for input in frame.inputs() {
            walk(input, acc);
        }
    }
    let mut acc = (0, 0);
    walk(frame, &mut acc);
    acc
}
