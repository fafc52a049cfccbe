//! Compiling a logical plan into a task graph: one task per partition of each node (or per
//! candidate partition pair of a join), shared inputs emitted once.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::graph::{Graph, TaskId, TaskKind};
use super::logical::{LazyFrame, Node};
use super::prune::PairGroup;
use super::tasks::Context;
use crate::geometry;
use crate::io::PartitionMeta;
use crate::join::Predicate;

/// What the graph's outputs are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CompileMode {
    /// One output per partition of the frame.
    Collect,
    /// The count of each partition, then their sum, the number of rows. An inner join is
    /// counted from its pair tasks, without assembling rows (each pair is found by exactly
    /// one pair task).
    CountRows,
}

/// The task graph that computes `frame`, and the data its tasks read.
pub(crate) fn compile(frame: &LazyFrame, mode: CompileMode) -> (Graph, Context) {
    let mut compiler = Compiler::default();
    let outputs = match mode {
        CompileMode::Collect => compiler.emit(frame),
        CompileMode::CountRows => {
            let counted = match frame.node.as_ref() {
                Node::Join {
                    base,
                    other,
                    predicate,
                    how: crate::join::How::Inner,
                    groups,
                } => {
                    let emitted = compiler.emit_join_pairs(base, other, *predicate, groups);
                    emitted.pairs.into_iter().flatten().collect()
                }
                _ => compiler.emit(frame),
            };
            let counts: Vec<TaskId> = counted
                .iter()
                .enumerate()
                .map(|(k, &t)| {
                    compiler
                        .graph
                        .push(TaskKind::CountRows, Some(k), None, vec![t])
                })
                .collect();
            // Each partition's count is an output too, before the sum: the executor then
            // takes partitions in order (reading ahead only when nothing else is ready),
            // as it does for a collected frame.
            let sum = compiler
                .graph
                .push(TaskKind::SumCounts, None, None, counts.clone());
            let mut outputs = counts;
            outputs.push(sum);
            outputs
        }
    };
    compiler.graph.outputs = outputs;
    (compiler.graph, compiler.context)
}

#[derive(Default)]
struct Compiler {
    graph: Graph,
    context: Context,
    /// Tasks already emitted for a node (by address), so shared inputs run once.
    done: HashMap<usize, Vec<TaskId>>,
}

/// The tasks of a join's pair phase.
struct JoinPairs {
    bases: Vec<TaskId>,
    others: Vec<TaskId>,
    /// The pair tasks of each group.
    pairs: Vec<Vec<TaskId>>,
}

/// The first row of each partition.
pub(crate) fn first_rows(parts: &[PartitionMeta]) -> Vec<u64> {
    parts
        .iter()
        .scan(0u64, |next, p| {
            let first = *next;
            *next += p.rows;
            Some(first)
        })
        .collect()
}

impl Compiler {
    /// One task per partition of `input`, made by `kind(k)`, for nodes that map partition
    /// `k` of their input to partition `k` of `frame`.
    /// One task per kept input partition (`kept`: indices into `input`'s partitions, in
    /// order); the pruned ones get none.
    fn emit_kept(
        &mut self,
        input: &LazyFrame,
        kept: &[usize],
        kind: impl Fn(usize) -> TaskKind,
    ) -> Vec<TaskId> {
        let inputs = self.emit(input);
        kept.iter()
            .enumerate()
            .map(|(k, &i)| {
                self.graph
                    .push(kind(i), Some(k), Some(input.parts[i].rows), vec![inputs[i]])
            })
            .collect()
    }

    fn emit_per_partition(
        &mut self,
        frame: &LazyFrame,
        input: &LazyFrame,
        kind: impl Fn(usize) -> TaskKind,
    ) -> Vec<TaskId> {
        let inputs = self.emit(input);
        inputs
            .iter()
            .enumerate()
            .map(|(k, &t)| {
                self.graph
                    .push(kind(k), Some(k), Some(frame.parts[k].rows), vec![t])
            })
            .collect()
    }

    /// The task that builds the index of partition `o` of `other`, emitted once.
    fn index_task(
        &mut self,
        indexes: &mut BTreeMap<usize, TaskId>,
        other: &LazyFrame,
        other_tasks: &[TaskId],
        other_first: &[u64],
        o: usize,
    ) -> TaskId {
        *indexes.entry(o).or_insert_with(|| {
            self.graph.push(
                TaskKind::BuildIndex {
                    first_row: other_first[o],
                },
                Some(o),
                Some(other.parts[o].rows),
                vec![other_tasks[o]],
            )
        })
    }

    fn push_schema(&mut self, schema: &arrow_schema::SchemaRef) -> usize {
        self.context.schemas.push(schema.clone());
        self.context.schemas.len() - 1
    }

    /// Emits the tasks of `frame` and returns the task of each of its partitions.
    fn emit(&mut self, frame: &LazyFrame) -> Vec<TaskId> {
        let key = Arc::as_ptr(&frame.node) as *const () as usize;
        if let Some(tasks) = self.done.get(&key) {
            return tasks.clone();
        }
        let first = first_rows(&frame.parts);
        let tasks: Vec<TaskId> = match frame.node.as_ref() {
            Node::Scan(source) => {
                let source_id = self.context.sources.len();
                self.context.sources.push(source.clone());
                (0..frame.parts.len())
                    .map(|k| {
                        self.graph.push(
                            TaskKind::Scan {
                                source: source_id,
                                partition: k,
                            },
                            Some(k),
                            Some(frame.parts[k].rows),
                            vec![],
                        )
                    })
                    .collect()
            }
            Node::Select { input, projection } => {
                self.emit_per_partition(frame, input, |_| TaskKind::Select {
                    columns: projection.indices.clone(),
                    geometry_column: projection.geometry_column,
                })
            }
            Node::ToCrs { input, target } => {
                let from = input
                    .crs
                    .as_ref()
                    .map(|c| c.definition().to_string())
                    .unwrap_or_default();
                self.emit_per_partition(frame, input, |k| TaskKind::ToCrs {
                    from: from.clone(),
                    to: target.definition().to_string(),
                    first_row: first[k],
                })
            }
            Node::AddColumn { input, name, op } => {
                self.emit_per_partition(frame, input, |k| TaskKind::AddColumn {
                    op: op.clone(),
                    name: name.clone(),
                    first_row: first[k],
                })
            }
            Node::MapGeometry { input, op } => {
                self.emit_per_partition(frame, input, |k| TaskKind::MapGeometry {
                    op: op.clone(),
                    first_row: first[k],
                })
            }
            Node::Clip { input, mask, kept } => {
                let input_first = first_rows(&input.parts);
                self.emit_kept(input, kept, |i| TaskKind::Clip {
                    mask: mask.clone(),
                    first_row: input_first[i],
                })
            }
            Node::FilterBbox { input, rect, kept } => {
                self.emit_kept(input, kept, |_| TaskKind::FilterBbox { rect: *rect })
            }
            Node::Shuffle {
                input,
                method,
                sizes,
            } => {
                let inputs = self.emit(input);
                let input_first = first_rows(&input.parts);
                let extent = input
                    .parts
                    .iter()
                    .fold(None, |acc, p| geometry::merge_bounds(acc, p.bounds))
                    .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y]);
                let keys: Vec<TaskId> = inputs
                    .iter()
                    .enumerate()
                    .map(|(k, &t)| {
                        let kind = TaskKind::ShuffleKeys {
                            method: *method,
                            extent,
                            first_row: input_first[k],
                        };
                        self.graph
                            .push(kind, Some(k), Some(input.parts[k].rows), vec![t])
                    })
                    .collect();
                let plan = self.graph.push(
                    TaskKind::ShufflePlan {
                        method: *method,
                        sizes: sizes.clone(),
                    },
                    None,
                    Some(sizes.iter().sum::<usize>() as u64),
                    keys.clone(),
                );
                (0..sizes.len())
                    .map(|k| {
                        let mut deps = vec![plan];
                        deps.extend(&keys);
                        deps.extend(&inputs);
                        self.graph.push(
                            TaskKind::ShuffleGather { output: k },
                            Some(k),
                            Some(sizes[k] as u64),
                            deps,
                        )
                    })
                    .collect()
            }
            Node::Nearest {
                left,
                right,
                how,
                max_distance,
                exclusive,
                distance_col,
                searches,
            } => {
                let lefts = self.emit(left);
                let rights = self.emit(right);
                let left_first = first_rows(&left.parts);
                let right_first = first_rows(&right.parts);
                let schema = self.push_schema(&frame.schema);
                let other_schema = self.push_schema(&right.schema);
                let mut indexes = BTreeMap::new();
                let mut out = Vec::with_capacity(searches.len());
                for (k, search) in searches.iter().enumerate() {
                    let l = search.left;
                    let mut deps = vec![lefts[l]];
                    for &r in &search.rights {
                        deps.push(self.index_task(&mut indexes, right, &rights, &right_first, r));
                    }
                    let right_first_rows: Vec<u64> =
                        search.rights.iter().map(|&r| right_first[r]).collect();
                    let pairs = self.graph.push(
                        TaskKind::NearestPairs {
                            left_first_row: left_first[l],
                            right_first_rows: right_first_rows.clone(),
                            max_distance: *max_distance,
                            radius: search.radius,
                            limit: search.limit,
                            exclusive: *exclusive,
                        },
                        Some(l),
                        None,
                        deps,
                    );
                    let mut deps = vec![lefts[l], pairs];
                    deps.extend(search.rights.iter().map(|&r| rights[r]));
                    out.push(self.graph.push(
                        TaskKind::JoinOutput {
                            how: *how,
                            base_first_row: left_first[l],
                            other_first_rows: right_first_rows,
                            pair_results: 1,
                            schema,
                            other_schema,
                            other_geometry: right.geometry_column,
                            with_distance: distance_col.is_some(),
                        },
                        Some(k),
                        None,
                        deps,
                    ));
                }
                out
            }
            Node::Join {
                base,
                other,
                predicate,
                how,
                groups,
            } => {
                let emitted = self.emit_join_pairs(base, other, *predicate, groups);
                let base_first = first_rows(&base.parts);
                let other_first = first_rows(&other.parts);
                let schema = self.push_schema(&frame.schema);
                let other_schema = self.push_schema(&other.schema);
                let mut out = Vec::with_capacity(groups.len());
                for (k, (group, pair_tasks)) in groups.iter().zip(emitted.pairs).enumerate() {
                    let mut deps = vec![emitted.bases[group.base]];
                    deps.extend(&pair_tasks);
                    deps.extend(group.others.iter().map(|&o| emitted.others[o]));
                    out.push(self.graph.push(
                        TaskKind::JoinOutput {
                            how: *how,
                            base_first_row: base_first[group.base],
                            other_first_rows:
                                group.others.iter().map(|&o| other_first[o]).collect(),
                            pair_results: pair_tasks.len(),
                            schema,
                            other_schema,
                            other_geometry: other.geometry_column,
                            with_distance: false,
                        },
                        Some(k),
                        None,
                        deps,
                    ));
                }
                out
            }
        };
        self.done.insert(key, tasks.clone());
        tasks
    }

    /// The pair tasks of a join of `base` with `other`, one list per group, with the
    /// tasks of both inputs.
    fn emit_join_pairs(
        &mut self,
        base: &LazyFrame,
        other: &LazyFrame,
        predicate: Predicate,
        groups: &[PairGroup],
    ) -> JoinPairs {
        let bases = self.emit(base);
        let others = self.emit(other);
        let base_first = first_rows(&base.parts);
        let other_first = first_rows(&other.parts);
        let mut indexes = BTreeMap::new();
        let mut pairs = Vec::with_capacity(groups.len());
        for group in groups {
            let mut pair_tasks = Vec::with_capacity(group.others.len());
            for &o in &group.others {
                let index = self.index_task(&mut indexes, other, &others, &other_first, o);
                pair_tasks.push(self.graph.push(
                    TaskKind::JoinPair {
                        predicate,
                        base_first_row: base_first[group.base],
                        other_first_row: other_first[o],
                    },
                    Some(group.base),
                    None,
                    vec![bases[group.base], index],
                ));
            }
            pairs.push(pair_tasks);
        }
        JoinPairs {
            bases,
            others,
            pairs,
        }
    }
}
