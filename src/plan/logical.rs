//! The logical plan: a tree of operations over sources, each node with the schema, CRS and
//! partition metadata it derives from its inputs, and [`LazyFrame::explain`] to print it.

use std::fmt::Write as _;
use std::sync::Arc;

use arrow_schema::{DataType, Field, FieldRef, Schema, SchemaRef};

use super::prune::{NearestSearch, PairGroup};
use crate::error::{Error, Result};
use crate::frame::Projection;
use crate::geometry;
use crate::io::{PartitionMeta, PartitionSource};
use crate::join::{join_schema, How, Predicate};
use crate::ops::{ColumnOp, GeometryOp};
use crate::partition::ShuffleMethod;
use crate::Crs;

/// One operation of a plan, with its inputs.
pub(crate) enum Node {
    /// Partitions read from a source (a file, or a frame in memory).
    Scan(Arc<dyn PartitionSource>),
    Select {
        input: LazyFrame,
        projection: Projection,
    },
    ToCrs {
        input: LazyFrame,
        target: Crs,
    },
    MapGeometry {
        input: LazyFrame,
        op: GeometryOp,
    },
    AddColumn {
        input: LazyFrame,
        name: String,
        op: ColumnOp,
    },
    Clip {
        input: LazyFrame,
        /// The mask, as WKB.
        mask: Vec<u8>,
        /// The input partitions whose bounds meet the mask's box, in order.
        kept: Vec<usize>,
    },
    FilterBbox {
        input: LazyFrame,
        rect: geo::Rect,
        /// The input partitions whose bounds meet `rect`, in order.
        kept: Vec<usize>,
    },
    Shuffle {
        input: LazyFrame,
        method: ShuffleMethod,
        /// Rows of each output partition.
        sizes: Vec<usize>,
    },
    Nearest {
        left: LazyFrame,
        right: LazyFrame,
        how: How,
        max_distance: Option<f64>,
        exclusive: bool,
        distance_col: Option<String>,
        /// One search per output partition.
        searches: Vec<NearestSearch>,
    },
    Join {
        /// The side whose rows the output follows (left, or right for right joins).
        base: LazyFrame,
        other: LazyFrame,
        /// The predicate as `base <predicate> other`.
        predicate: Predicate,
        how: How,
        /// One group per output partition: a base partition and the other side's
        /// partitions it meets.
        groups: Vec<PairGroup>,
    },
}

/// A frame that has not been computed: a plan of operations over sources (frames in
/// memory, shapefiles, GeoParquet, GeoJSON, or any [`PartitionSource`]). Building on it
/// only adds to the plan; [`LazyFrame::collect`] (or [`LazyFrame::count_rows`]) compiles
/// the plan into a task graph, one task per partition or partition pair, and runs it on a
/// pool of workers.
///
/// ```
/// use geoframe::io::ShapefileOptions;
/// use geoframe::join::{How, Predicate};
/// use geoframe::plan::{scan_shapefile, ExecuteOptions};
///
/// let options = ShapefileOptions { rows_per_partition: 50, ..Default::default() };
/// let cities = scan_shapefile("data/naturalearth_cities/naturalearth_cities.shp", &options)?;
/// let countries = scan_shapefile("data/naturalearth_lowres/naturalearth_lowres.shp", &options)?;
/// let joined = cities.sjoin(&countries, How::Inner, Predicate::Within)?;
/// println!("{}", joined.explain()); // the logical plan
/// println!("{}", joined.to_dot()); // the task graph, in Graphviz DOT
/// let frame = joined.collect(&ExecuteOptions { workers: 2, ..Default::default() })?;
/// assert_eq!(frame.len(), 213);
/// # Ok::<(), geoframe::Error>(())
/// ```
#[derive(Clone)]
pub struct LazyFrame {
    pub(crate) node: Arc<Node>,
    pub(crate) schema: SchemaRef,
    pub(crate) geometry_column: usize,
    pub(crate) crs: Option<Crs>,
    pub(crate) parts: Arc<Vec<PartitionMeta>>,
}

impl std::fmt::Debug for LazyFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyFrame")
            .field("columns", &column_names(&self.schema))
            .field("npartitions", &self.parts.len())
            .field("crs", &self.crs.as_ref().map(ToString::to_string))
            .finish()
    }
}

fn column_names(schema: &Schema) -> Vec<&str> {
    schema.fields().iter().map(|c| c.name().as_str()).collect()
}

/// Partitions whose bounds are unknown until computed.
fn anywhere(parts: &[PartitionMeta], rows: impl Fn(&PartitionMeta) -> u64) -> Vec<PartitionMeta> {
    parts
        .iter()
        .map(|p| PartitionMeta {
            rows: rows(p),
            bounds: p.bounds.map(|_| geometry::everywhere()),
        })
        .collect()
}

impl LazyFrame {
    /// The frame `node` computes: its schema, geometry column, CRS and what is known of its
    /// partitions, derived from its inputs.
    pub(crate) fn from_node(node: Node) -> LazyFrame {
        let (schema, geometry_column, crs, parts) = match &node {
            Node::Scan(source) => (
                source.schema().clone(),
                source.geometry_column(),
                source.crs().cloned(),
                source.partitions(),
            ),
            Node::Select { input, projection } => (
                projection.schema.clone(),
                projection.geometry_column,
                input.crs.clone(),
                input.parts.to_vec(),
            ),
            Node::ToCrs { input, target } => (
                input.schema.clone(),
                input.geometry_column,
                Some(target.clone()),
                anywhere(&input.parts, |p| p.rows),
            ),
            Node::MapGeometry { input, op } => {
                let parts = input
                    .parts
                    .iter()
                    .map(|p| PartitionMeta {
                        rows: p.rows,
                        bounds: p
                            .bounds
                            .map(|b| op.bounds_after(b).unwrap_or_else(geometry::everywhere)),
                    })
                    .collect();
                (
                    input.schema.clone(),
                    input.geometry_column,
                    input.crs.clone(),
                    parts,
                )
            }
            Node::AddColumn { input, name, op } => (
                with_field(&input.schema, Field::new(name, op.data_type(), true)),
                input.geometry_column,
                input.crs.clone(),
                input.parts.to_vec(),
            ),
            Node::Clip { input, kept, .. } | Node::FilterBbox { input, kept, .. } => (
                input.schema.clone(),
                input.geometry_column,
                input.crs.clone(),
                kept.iter().map(|&k| input.parts[k]).collect(),
            ),
            Node::Shuffle { input, sizes, .. } => (
                input.schema.clone(),
                input.geometry_column,
                input.crs.clone(),
                sizes
                    .iter()
                    .map(|&s| PartitionMeta {
                        rows: s as u64,
                        bounds: Some(geometry::everywhere()),
                    })
                    .collect(),
            ),
            Node::Nearest {
                left,
                right,
                how,
                distance_col,
                searches,
                ..
            } => {
                let (mut schema, geometry_column, crs, parts) =
                    joined(left, right, *how, searches.iter().map(|s| s.left));
                if let Some(name) = distance_col {
                    schema = with_field(&schema, Field::new(name, DataType::Float64, true));
                }
                (schema, geometry_column, crs, parts)
            }
            Node::Join {
                base,
                other,
                how,
                groups,
                ..
            } => joined(base, other, *how, groups.iter().map(|g| g.base)),
        };
        LazyFrame {
            node: Arc::new(node),
            schema,
            geometry_column,
            crs,
            parts: Arc::new(parts),
        }
    }

    /// Whether each partition's row count is known before running: joins and clips know
    /// theirs only once computed, and the row numbers later operations report
    /// (`index_left`, ...) depend on them.
    fn has_known_rows(&self) -> bool {
        match self.node.as_ref() {
            Node::Scan(_) | Node::Shuffle { .. } => true,
            Node::Select { input, .. }
            | Node::ToCrs { input, .. }
            | Node::MapGeometry { input, .. }
            | Node::AddColumn { input, .. } => input.has_known_rows(),
            Node::Join { .. }
            | Node::Nearest { .. }
            | Node::Clip { .. }
            | Node::FilterBbox { .. } => false,
        }
    }

    /// The number of rows, when known before running; an error naming `op` otherwise.
    pub(crate) fn rows_before_running(&self, op: &str) -> Result<u64> {
        if self.has_known_rows() {
            Ok(self.parts.iter().map(|p| p.rows).sum())
        } else {
            Err(Error::InvalidArgument(format!(
                "{op}: the row numbers of a join's or clip's output are known only once computed; collect it first"
            )))
        }
    }

    /// The logical plan, one operation per line, inputs indented below the operation that
    /// reads them, with what pruning kept.
    ///
    /// ```
    /// use geoframe::io::ShapefileOptions;
    /// use geoframe::plan::scan_shapefile;
    /// let counties = scan_shapefile("data/us_counties/us_counties.shp", &ShapefileOptions { rows_per_partition: 500, ..Default::default() })?;
    /// let plan = counties.select(&["geoid"])?.explain();
    /// assert!(plan.starts_with("Select [geoid, geometry]"));
    /// assert!(plan.contains("\n  Scan shapefile data/us_counties/us_counties.shp: 7 partitions, 3231 rows"));
    /// # Ok::<(), geoframe::Error>(())
    /// ```
    pub fn explain(&self) -> String {
        let mut out = String::new();
        self.explain_into(&mut out, 0);
        out
    }

    fn explain_into(&self, out: &mut String, depth: usize) {
        let pad = "  ".repeat(depth);
        let rows: u64 = self.parts.iter().map(|p| p.rows).sum();
        let line = match self.node.as_ref() {
            Node::Scan(source) => format!(
                "Scan {}: {} partitions, {rows} rows",
                source.describe(),
                self.parts.len()
            ),
            Node::Select { .. } => format!("Select [{}]", column_names(&self.schema).join(", ")),
            Node::ToCrs { input, target } => format!(
                "ToCrs {} -> {target}",
                input.crs.as_ref().map_or("?".into(), ToString::to_string)
            ),
            Node::MapGeometry { op, .. } => format!("MapGeometry {}", op.name()),
            Node::AddColumn { name, op, .. } => match op {
                ColumnOp::Measure(m) => format!("AddColumn {name} = {}", m.name()),
                ColumnOp::Relate { predicate, .. } => {
                    format!("AddColumn {name} = {predicate:?} against one geometry")
                }
            },
            Node::Clip { input, kept, .. } => format!(
                "Clip: {} of {} partitions meet the mask",
                kept.len(),
                input.parts.len()
            ),
            Node::FilterBbox { input, rect, kept } => format!(
                "FilterBbox {:?}: {} of {} partitions meet the box",
                (rect.min().x, rect.min().y, rect.max().x, rect.max().y),
                kept.len(),
                input.parts.len()
            ),
            Node::Shuffle { method, sizes, .. } => {
                format!("SpatialShuffle {method:?}: {} partitions", sizes.len())
            }
            Node::Nearest {
                how,
                exclusive,
                max_distance,
                left,
                right,
                searches,
                ..
            } => {
                let searched: usize = searches.iter().map(|s| s.rights.len()).sum();
                format!(
                    "NearestJoin how={how:?} exclusive={exclusive} max_distance={max_distance:?}: {searched} of {} partition pairs searched",
                    left.parts.len() * right.parts.len()
                )
            }
            Node::Join {
                how,
                predicate,
                base,
                other,
                groups,
            } => {
                let (left, right, predicate) = match how {
                    How::Right => (other, base, predicate.converse()),
                    _ => (base, other, *predicate),
                };
                let kept: usize = groups.iter().map(|g| g.others.len()).sum();
                format!(
                    "SpatialJoin how={how:?} predicate={predicate:?}: {kept} of {} partition pairs kept",
                    left.parts.len() * right.parts.len()
                )
            }
        };
        let _ = writeln!(out, "{pad}{line}");
        for input in self.inputs() {
            input.explain_into(out, depth + 1);
        }
    }

    /// The plan's inputs, left before right.
    pub(crate) fn inputs(&self) -> Vec<&LazyFrame> {
        match self.node.as_ref() {
            Node::Scan(_) => vec![],
            Node::Select { input, .. }
            | Node::ToCrs { input, .. }
            | Node::MapGeometry { input, .. }
            | Node::AddColumn { input, .. }
            | Node::Clip { input, .. }
            | Node::FilterBbox { input, .. }
            | Node::Shuffle { input, .. } => vec![input],
            Node::Nearest { left, right, .. } => vec![left, right],
            Node::Join {
                base, other, how, ..
            } => match how {
                How::Right => vec![other, base],
                _ => vec![base, other],
            },
        }
    }
}

/// What a join's output is made of: rows follow `base`, one output partition per base
/// partition in `outputs`, with bounds that base partition's and rows unknown until
/// computed.
fn joined(
    base: &LazyFrame,
    other: &LazyFrame,
    how: How,
    outputs: impl Iterator<Item = usize>,
) -> (SchemaRef, usize, Option<Crs>, Vec<PartitionMeta>) {
    let schema = join_schema(
        &base.schema,
        base.geometry_column,
        &other.schema,
        other.geometry_column,
        how,
    );
    let parts = outputs
        .map(|b| PartitionMeta {
            rows: 0,
            bounds: base.parts[b].bounds,
        })
        .collect();
    (schema, base.geometry_column, base.crs.clone(), parts)
}

/// `schema` with `field` appended (metadata kept).
fn with_field(schema: &Schema, field: Field) -> SchemaRef {
    let mut fields: Vec<FieldRef> = schema.fields().iter().cloned().collect();
    fields.push(Arc::new(field));
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}
