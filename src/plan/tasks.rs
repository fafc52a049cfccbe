//! What each kind of task computes.

use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, UInt64Array};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use geo::{BoundingRect, Geometry};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use super::graph::{Task, TaskKind};
use crate::error::{Error, Result};
use crate::io::shapefile::ShapefileSource;
use crate::partition::{shuffle, Partition};
use crate::{geometry, Crs, GeoFrame};

/// Where scan tasks get their partitions.
pub(crate) enum SourceData {
    /// A frame already in memory.
    Memory(GeoFrame),
    /// A shapefile read `rows_per_partition` records at a time.
    Shapefile {
        source: Arc<ShapefileSource>,
        rows_per_partition: usize,
    },
    /// A GeoParquet file read one row group per partition.
    GeoParquet(Arc<crate::io::geoparquet::GeoParquetSource>),
}

/// What a run needs besides the graph: the data behind its sources.
#[derive(Default)]
pub(crate) struct Context {
    pub sources: Vec<Arc<SourceData>>,
}

/// One right partition decoded, with an R-tree over its geometry boxes.
pub(crate) struct Indexed {
    pub geometries: Vec<Option<Geometry>>,
    pub tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
}

/// The result of a task.
pub(crate) enum Value {
    Partition(Partition),
    Count(u64),
    Keys(shuffle::Keys),
    Plan(shuffle::ShufflePlan),
    Index(Indexed),
    Pairs(Vec<(u64, u64)>),
}

fn wrong(task: &Task, what: &str) -> Error {
    Error::InvalidArgument(format!("{} task received {what}", task.kind.name()))
}

fn partition<'a>(task: &Task, v: &'a Value) -> Result<&'a Partition> {
    match v {
        Value::Partition(p) => Ok(p),
        _ => Err(wrong(task, "something other than a partition")),
    }
}

pub(crate) fn run_task(task: &Task, inputs: &[Arc<Value>], ctx: &Context) -> Result<Value> {
    Ok(match &task.kind {
        TaskKind::Scan { source, partition } => {
            let data = ctx
                .sources
                .get(*source)
                .ok_or_else(|| wrong(task, "an unknown source"))?;
            Value::Partition(match data.as_ref() {
                SourceData::Memory(frame) => frame
                    .partitions()
                    .get(*partition)
                    .cloned()
                    .ok_or_else(|| wrong(task, "an unknown partition"))?,
                SourceData::Shapefile {
                    source,
                    rows_per_partition,
                } => {
                    let first = (*partition as u64) * (*rows_per_partition as u64);
                    let count =
                        (*rows_per_partition as u64).min(source.rows().saturating_sub(first));
                    source.read_partition(first, count as usize)?
                }
                SourceData::GeoParquet(source) => source.read_row_group(*partition)?,
            })
        }
        TaskKind::Select {
            columns,
            geometry_column,
        } => {
            let p = partition(task, &inputs[0])?;
            Value::Partition(Partition::with_bounds(
                p.batch().project(columns)?,
                *geometry_column,
                p.bounds(),
            ))
        }
        TaskKind::ToCrs {
            from,
            to,
            first_row,
        } => {
            let p = partition(task, &inputs[0])?;
            let proj =
                crate::crs::transformer(&Crs::from_definition(from), &Crs::from_definition(to))?;
            Value::Partition(reproject_partition(p, &proj, *first_row)?)
        }
        TaskKind::CountRows => Value::Count(partition(task, &inputs[0])?.len() as u64),
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
            Value::Index(build_index(p, *first_row)?)
        }
        TaskKind::JoinPair {
            predicate,
            left_first_row,
            right_first_row,
        } => {
            let left = partition(task, &inputs[0])?;
            let Value::Index(right) = inputs[1].as_ref() else {
                return Err(wrong(task, "no index"));
            };
            let geoms = left.geometries(*left_first_row)?;
            let mut found = Vec::new();
            for (i, g) in geoms.iter().enumerate() {
                let Some(g) = g else { continue };
                let Some(b) = g.bounding_rect() else { continue };
                let env = AABB::from_corners([b.min().x, b.min().y], [b.max().x, b.max().y]);
                for cand in right.tree.locate_in_envelope_intersecting(&env) {
                    if let Some(rg) = &right.geometries[cand.data] {
                        if predicate.test(g, rg) {
                            found.push((
                                left_first_row + i as u64,
                                right_first_row + cand.data as u64,
                            ));
                        }
                    }
                }
            }
            Value::Pairs(found)
        }
        TaskKind::JoinMerge {
            left_first_row,
            right_first_rows,
            pair_results,
        } => {
            let left = partition(task, &inputs[0])?;
            let mut pairs: Vec<(u64, u64)> = Vec::new();
            for v in &inputs[1..1 + pair_results] {
                match v.as_ref() {
                    Value::Pairs(p) => pairs.extend_from_slice(p),
                    _ => return Err(wrong(task, "something other than pairs")),
                }
            }
            pairs.sort_unstable();
            let rights = inputs[1 + pair_results..]
                .iter()
                .map(|v| partition(task, v))
                .collect::<Result<Vec<_>>>()?;
            Value::Partition(merge_join(
                left,
                *left_first_row,
                &rights,
                right_first_rows,
                &pairs,
            )?)
        }
    })
}

fn reproject_partition(p: &Partition, proj: &proj::Proj, first_row: u64) -> Result<Partition> {
    use geo::MapCoords;
    let geoms = p.geometries(first_row)?;
    let mut out = Vec::with_capacity(geoms.len());
    for (i, g) in geoms.into_iter().enumerate() {
        out.push(match g {
            None => None,
            Some(g) => Some(
                g.try_map_coords(|c| {
                    let (x, y) = proj.convert((c.x, c.y))?;
                    Ok::<_, proj::ProjError>(geo::coord! { x: x, y: y })
                })
                .map_err(|e| Error::Crs(format!("row {}: {e}", first_row + i as u64)))?,
            ),
        });
    }
    let array = geometry::encode_array(out.iter().map(Option::as_ref));
    let geometry_column = p.geometry_column_index();
    let mut columns: Vec<ArrayRef> = p.batch().columns().to_vec();
    columns[geometry_column] = Arc::new(array);
    let batch = RecordBatch::try_new(p.batch().schema(), columns)?;
    Partition::new(batch, geometry_column, first_row)
}

fn build_index(p: &Partition, first_row: u64) -> Result<Indexed> {
    let geometries = p.geometries(first_row)?;
    let boxes = geometries
        .iter()
        .enumerate()
        .filter_map(|(i, g)| {
            let r = g.as_ref()?.bounding_rect()?;
            Some(GeomWithData::new(
                Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                i,
            ))
        })
        .collect();
    Ok(Indexed {
        geometries,
        tree: RTree::bulk_load(boxes),
    })
}

/// The columns of a join's output: left's columns (its geometry kept), `index_left`,
/// `index_right`, then right's attributes; clashing names get `_left` / `_right`.
pub(crate) fn join_schema(
    left: &Schema,
    left_geometry: usize,
    right: &Schema,
    right_geometry: usize,
) -> SchemaRef {
    let right_attrs: Vec<&Field> = right
        .fields()
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != right_geometry)
        .map(|(_, f)| f.as_ref())
        .collect();
    let mut fields: Vec<Field> = Vec::new();
    for (i, f) in left.fields().iter().enumerate() {
        let clash = i != left_geometry && right_attrs.iter().any(|r| r.name() == f.name());
        let name = if clash {
            format!("{}_left", f.name())
        } else {
            f.name().clone()
        };
        fields.push(f.as_ref().clone().with_name(name));
    }
    fields.push(Field::new("index_left", DataType::Int64, false));
    fields.push(Field::new("index_right", DataType::Int64, false));
    for f in right_attrs {
        let clash = left.fields().iter().any(|l| l.name() == f.name())
            || f.name() == "index_left"
            || f.name() == "index_right";
        let name = if clash {
            format!("{}_right", f.name())
        } else {
            f.name().clone()
        };
        fields.push(f.clone().with_name(name));
    }
    Arc::new(Schema::new(fields))
}

fn merge_join(
    left: &Partition,
    left_first_row: u64,
    rights: &[&Partition],
    right_first_rows: &[u64],
    pairs: &[(u64, u64)],
) -> Result<Partition> {
    let left_geometry = left.geometry_column_index();
    let right0 = rights
        .first()
        .ok_or_else(|| Error::InvalidArgument("join merge without right partitions".into()))?;
    let right_geometry = right0.geometry_column_index();
    let schema = join_schema(
        &left.batch().schema(),
        left_geometry,
        &right0.batch().schema(),
        right_geometry,
    );
    let local = UInt64Array::from_iter_values(pairs.iter().map(|&(a, _)| a - left_first_row));
    let mut columns: Vec<ArrayRef> = left
        .batch()
        .columns()
        .iter()
        .map(|c| arrow_select::take::take(c.as_ref(), &local, None))
        .collect::<std::result::Result<_, _>>()?;
    columns.push(Arc::new(Int64Array::from_iter_values(
        pairs.iter().map(|&(a, _)| a as i64),
    )));
    columns.push(Arc::new(Int64Array::from_iter_values(
        pairs.iter().map(|&(_, b)| b as i64),
    )));
    // Right rows by (right partition, row in it), found from the global right row.
    let locate = |row: u64| -> (usize, usize) {
        let k = right_first_rows.partition_point(|&f| f <= row) - 1;
        (k, (row - right_first_rows[k]) as usize)
    };
    let indices: Vec<(usize, usize)> = pairs.iter().map(|&(_, b)| locate(b)).collect();
    for c in 0..right0.batch().num_columns() {
        if c == right_geometry {
            continue;
        }
        let arrays: Vec<&dyn arrow_array::Array> = rights
            .iter()
            .map(|r| r.batch().column(c).as_ref())
            .collect();
        columns.push(arrow_select::interleave::interleave(&arrays, &indices)?);
    }
    let batch = RecordBatch::try_new(schema, columns)?;
    let bounds = geometry::array_bounds(geometry::as_wkb_array(
        batch.column(left_geometry),
        "geometry",
    )?)?;
    Ok(Partition::with_bounds(batch, left_geometry, bounds))
}
