//! The task graph: tasks described as data (kind, partition, parameters, dependencies), so
//! a plan can be drawn, serialized and handed to another executor.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::join::{How, Predicate};
use crate::partition::ShuffleMethod;

/// Position of a task in its [`Graph`].
pub type TaskId = usize;

/// What a task does. Parameters are plain data; the data a task reads comes from its
/// dependencies or, for scans, from the graph's sources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TaskKind {
    /// Produce partition `partition` of source `source` (read it, or hand over data held in
    /// memory).
    Scan {
        /// Index into the graph's sources.
        source: usize,
        /// Partition of that source.
        partition: usize,
    },
    /// Keep these columns (by position); the geometry column is among them.
    Select {
        /// Column positions, in output order.
        columns: Vec<usize>,
        /// Position of the geometry column in the output.
        geometry_column: usize,
    },
    /// Reproject the geometry column.
    ToCrs {
        /// Source CRS definition.
        from: String,
        /// Target CRS definition.
        to: String,
        /// First row of the partition, for error messages.
        first_row: u64,
    },
    /// Append a column computed per row from the geometry.
    AddColumn {
        /// What the column holds.
        op: crate::ops::ColumnOp,
        /// The column's name.
        name: String,
        /// First row of the partition, for error messages.
        first_row: u64,
    },
    /// Apply a per-row geometry operation.
    MapGeometry {
        /// The operation.
        op: crate::ops::GeometryOp,
        /// First row of the partition, for error messages.
        first_row: u64,
    },
    /// Cut a partition's geometries to a polygon mask, dropping rows that miss it.
    Clip {
        /// The mask, as WKB.
        mask: Vec<u8>,
        /// First row of the partition, for error messages.
        first_row: u64,
    },
    /// Keep the rows of a partition whose bounding box meets a box.
    FilterBbox {
        /// The box.
        rect: geo::Rect,
    },
    /// Count the rows of a partition, or the pairs of a join pair task.
    CountRows,
    /// Add up counts.
    SumCounts,
    /// Spatial-shuffle keys of one partition's rows.
    ShuffleKeys {
        /// Ordering method.
        method: ShuffleMethod,
        /// Extent the curve grid covers: `[minx, miny, maxx, maxy]`.
        extent: Option<[f64; 4]>,
        /// First row of the partition, for error messages.
        first_row: u64,
    },
    /// Order all rows by their keys and cut the order into output partitions.
    ShufflePlan {
        /// Ordering method.
        method: ShuffleMethod,
        /// Rows of each output partition.
        sizes: Vec<usize>,
    },
    /// Assemble one output partition of a shuffle from the input partitions.
    ShuffleGather {
        /// Output partition number.
        output: usize,
    },
    /// Decode a partition's geometries and build an R-tree of their boxes.
    BuildIndex {
        /// First row of the partition, for error messages.
        first_row: u64,
    },
    /// Test one base partition (left, or right for right joins) against one indexed
    /// partition of the other side.
    JoinPair {
        /// The relation to test, as `base <predicate> other`.
        predicate: Predicate,
        /// First row of the base partition.
        base_first_row: u64,
        /// First row of the other side's partition.
        other_first_row: u64,
    },
    /// Nearest right rows of each row of one left partition. Dependencies: the left
    /// partition, then the indexes of the right partitions that may hold a nearest row.
    NearestPairs {
        /// First row of the left partition.
        left_first_row: u64,
        /// First row of each right partition among the dependencies, in order.
        right_first_rows: Vec<u64>,
        /// Pairs farther apart never match.
        max_distance: Option<f64>,
        /// Where the search box starts growing.
        radius: f64,
        /// A distance past which every right geometry has been searched.
        limit: f64,
        /// Right geometries equal to the left one are skipped (GeoPandas' `exclusive`).
        #[serde(default)]
        exclusive: bool,
    },
    /// Assemble the output rows of one base partition (left, or right for right joins)
    /// from its pair results. Dependencies: the base partition, the pair results, then the
    /// other side's partitions it met.
    JoinOutput {
        /// Which rows are kept.
        how: How,
        /// First row of the base partition.
        base_first_row: u64,
        /// First row of each other-side partition among the dependencies, in order.
        other_first_rows: Vec<u64>,
        /// Number of pair results among the dependencies.
        pair_results: usize,
        /// The output schema, by position among the run's schemas.
        schema: usize,
        /// The other side's schema, by position among the run's schemas.
        other_schema: usize,
        /// Position of the other side's geometry column.
        other_geometry: usize,
        /// Whether the output ends with a column of distances (nearest joins).
        with_distance: bool,
    },
}

impl TaskKind {
    /// A short name for drawings and error messages.
    pub fn name(&self) -> &'static str {
        match self {
            TaskKind::Scan { .. } => "scan",
            TaskKind::Select { .. } => "select",
            TaskKind::ToCrs { .. } => "to_crs",
            TaskKind::MapGeometry { op, .. } => op.name(),
            TaskKind::AddColumn { op, .. } => match op {
                crate::ops::ColumnOp::Measure(m) => m.name(),
                crate::ops::ColumnOp::Relate { .. } => "relate",
            },
            TaskKind::Clip { .. } => "clip",
            TaskKind::FilterBbox { .. } => "filter-bbox",
            TaskKind::CountRows => "count",
            TaskKind::SumCounts => "sum",
            TaskKind::ShuffleKeys { .. } => "shuffle-keys",
            TaskKind::ShufflePlan { .. } => "shuffle-plan",
            TaskKind::ShuffleGather { .. } => "shuffle-gather",
            TaskKind::BuildIndex { .. } => "index",
            TaskKind::JoinPair { .. } => "join-pair",
            TaskKind::JoinOutput { .. } => "join-output",
            TaskKind::NearestPairs { .. } => "nearest",
        }
    }
}

/// One task: what it does, which partition it concerns, what it needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// What the task does.
    pub kind: TaskKind,
    /// The partition the task produces or concerns, if any.
    pub partition: Option<usize>,
    /// Rows the task is expected to produce or read, when known (for drawings).
    pub rows: Option<u64>,
    /// Tasks whose results this task reads, in the order it reads them.
    pub deps: Vec<TaskId>,
}

/// A directed acyclic graph of tasks; dependencies always come before their consumers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Graph {
    /// The tasks, in an order where each task follows its dependencies.
    pub tasks: Vec<Task>,
    /// The tasks whose results the caller wants, in order.
    pub outputs: Vec<TaskId>,
}

impl Graph {
    /// Appends a task and returns its id.
    pub(crate) fn push(
        &mut self,
        kind: TaskKind,
        partition: Option<usize>,
        rows: Option<u64>,
        deps: Vec<TaskId>,
    ) -> TaskId {
        self.tasks.push(Task {
            kind,
            partition,
            rows,
            deps,
        });
        self.tasks.len() - 1
    }

    /// Number of tasks.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether the graph has no task.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// How many tasks of each kind the graph has, by name.
    pub fn count_by_kind(&self) -> std::collections::BTreeMap<&'static str, usize> {
        let mut out = std::collections::BTreeMap::new();
        for t in &self.tasks {
            *out.entry(t.kind.name()).or_default() += 1;
        }
        out
    }

    /// The graph in Graphviz DOT: one node per task labelled with its kind, partition and
    /// rows; one edge per dependency; outputs drawn with a double border.
    pub fn to_dot(&self) -> String {
        let mut out = String::from("digraph geoframe {\n  rankdir=TB;\n  node [shape=box, fontname=\"Helvetica\", fontsize=10];\n");
        for (id, t) in self.tasks.iter().enumerate() {
            let mut label = match &t.kind {
                TaskKind::Scan { source, .. } => format!("scan #{id}\\nsource {source}"),
                kind => format!("{} #{id}", kind.name()),
            };
            if let Some(p) = t.partition {
                let _ = write!(label, "\\npartition {p}");
            }
            if let Some(r) = t.rows {
                let _ = write!(label, "\\n{r} rows");
            }
            let style = if self.outputs.contains(&id) {
                ", peripheries=2"
            } else {
                ""
            };
            let _ = writeln!(out, "  t{id} [label=\"{label}\"{style}];");
        }
        for (id, t) in self.tasks.iter().enumerate() {
            for d in &t.deps {
                let _ = writeln!(out, "  t{d} -> t{id};");
            }
        }
        out.push_str("}\n");
        out
    }

    /// Longest distance from a task without dependencies: the executor prefers deeper
    /// tasks, which finishes partitions (and frees their inputs) before starting new ones.
    pub(crate) fn levels(&self) -> Vec<u32> {
        let mut level = vec![0u32; self.tasks.len()];
        for (id, t) in self.tasks.iter().enumerate() {
            level[id] = t.deps.iter().map(|&d| level[d] + 1).max().unwrap_or(0);
        }
        level
    }
}
