//! Spatial joins, run per pair of partitions whose bounds meet.
//!
//! Candidate partition pairs come from the two frames' partition R-trees; inside a pair,
//! an R-tree over the right partition's geometry boxes gives candidate rows, and the exact
//! predicate from `geo` decides. Each row lives in one partition, so each row pair is
//! tested at most once and the output has no duplicates.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, UInt64Array};
use arrow_schema::{DataType, Field, Schema};
use geo::{BoundingRect, Contains, Geometry, Intersects, Within};
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use crate::error::{Error, Result};
use crate::partition::Partition;
use crate::GeoFrame;

/// The spatial relation a joined pair must satisfy (left geometry *predicate* right).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Predicate {
    /// The geometries share at least one point.
    Intersects,
    /// Left lies inside right (no point of left outside right, interiors meet).
    Within,
    /// Right lies inside left.
    Contains,
}

impl Predicate {
    fn test(self, left: &Geometry, right: &Geometry) -> bool {
        match self {
            Predicate::Intersects => left.intersects(right),
            Predicate::Within => left.is_within(right),
            Predicate::Contains => left.contains(right),
        }
    }
}

type BoxEntry = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// One right partition, decoded and indexed once for every left partition that meets it.
struct Indexed {
    geometries: Vec<Option<Geometry>>,
    tree: RTree<BoxEntry>,
}

impl Indexed {
    fn new(partition: &Partition, first_row: u64) -> Result<Indexed> {
        let geometries = partition.geometries(first_row)?;
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
}

/// Inner spatial join: one output row per (left row, right row) pair that satisfies
/// `predicate`, sorted by left row then right row. Columns: left's columns (its geometry
/// kept), `index_left` and `index_right` (row numbers in the inputs), then right's
/// attribute columns; names that clash get `_left` / `_right` suffixes as in GeoPandas.
/// Both frames must have equivalent CRSs (or both none).
pub fn sjoin(left: &GeoFrame, right: &GeoFrame, predicate: Predicate) -> Result<GeoFrame> {
    match (left.crs(), right.crs()) {
        (Some(a), Some(b)) if !a.equivalent(b) => {
            return Err(Error::InvalidArgument(format!(
                "sjoin: CRS mismatch ({a} vs {b}); reproject one side with to_crs"
            )))
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(Error::InvalidArgument(
                "sjoin: one frame has a CRS and the other has none".into(),
            ))
        }
        _ => {}
    }
    let pairs = left
        .partition_index()
        .intersecting_pairs(right.partition_index());
    let mut by_left: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (l, r) in pairs {
        by_left.entry(l).or_default().push(r);
    }
    let needed: Vec<usize> = {
        let mut v: Vec<usize> = by_left.values().flatten().copied().collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let right_offsets = right.partition_offsets();
    let indexed: BTreeMap<usize, Indexed> = needed
        .par_iter()
        .map(|&r| Ok((r, Indexed::new(&right.partitions()[r], right_offsets[r])?)))
        .collect::<Result<_>>()?;

    let left_offsets = left.partition_offsets();
    let matches: Vec<(usize, Vec<(u64, u64)>)> = by_left
        .par_iter()
        .map(|(&l, rights)| {
            let geoms = left.partitions()[l].geometries(left_offsets[l])?;
            let mut found = Vec::new();
            for (i, g) in geoms.iter().enumerate() {
                let Some(g) = g else { continue };
                let Some(b) = g.bounding_rect() else { continue };
                let env = AABB::from_corners([b.min().x, b.min().y], [b.max().x, b.max().y]);
                for &r in rights {
                    let ix = &indexed[&r];
                    for cand in ix.tree.locate_in_envelope_intersecting(&env) {
                        if let Some(rg) = &ix.geometries[cand.data] {
                            if predicate.test(g, rg) {
                                found.push((
                                    left_offsets[l] + i as u64,
                                    right_offsets[r] + cand.data as u64,
                                ));
                            }
                        }
                    }
                }
            }
            found.sort_unstable();
            Ok((l, found))
        })
        .collect::<Result<_>>()?;

    assemble(left, right, matches)
}

/// Builds the output frame, one partition per left partition with matches.
fn assemble(
    left: &GeoFrame,
    right: &GeoFrame,
    matches: Vec<(usize, Vec<(u64, u64)>)>,
) -> Result<GeoFrame> {
    let right_all = right.to_record_batch()?;
    let right_geometry = right.geometry_column_index();
    let left_names: Vec<&str> = left
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    let right_attrs: Vec<usize> = (0..right.schema().fields().len())
        .filter(|&i| i != right_geometry)
        .collect();
    let right_names: Vec<&str> = right_attrs
        .iter()
        .map(|&i| right.schema().field(i).name().as_str())
        .collect();
    let mut fields: Vec<Field> = Vec::new();
    for (i, f) in left.schema().fields().iter().enumerate() {
        let clash = i != left.geometry_column_index() && right_names.contains(&f.name().as_str());
        let name = if clash {
            format!("{}_left", f.name())
        } else {
            f.name().clone()
        };
        fields.push(f.as_ref().clone().with_name(name));
    }
    fields.push(Field::new("index_left", DataType::Int64, false));
    fields.push(Field::new("index_right", DataType::Int64, false));
    for &i in &right_attrs {
        let f = right.schema().field(i);
        let name = if left_names.contains(&f.name().as_str())
            || f.name() == "index_left"
            || f.name() == "index_right"
        {
            format!("{}_right", f.name())
        } else {
            f.name().clone()
        };
        fields.push(f.clone().with_name(name));
    }
    let schema = Arc::new(Schema::new(fields));
    let left_offsets = left.partition_offsets();
    let partitions = matches
        .into_par_iter()
        .filter(|(_, m)| !m.is_empty())
        .map(|(l, m)| {
            let part = &left.partitions()[l];
            let local = UInt64Array::from_iter_values(m.iter().map(|&(a, _)| a - left_offsets[l]));
            let remote = UInt64Array::from_iter_values(m.iter().map(|&(_, b)| b));
            let mut columns: Vec<ArrayRef> = part
                .batch()
                .columns()
                .iter()
                .map(|c| arrow_select::take::take(c.as_ref(), &local, None))
                .collect::<std::result::Result<_, _>>()?;
            columns.push(Arc::new(Int64Array::from_iter_values(
                m.iter().map(|&(a, _)| a as i64),
            )));
            columns.push(Arc::new(Int64Array::from_iter_values(
                m.iter().map(|&(_, b)| b as i64),
            )));
            for &i in &right_attrs {
                columns.push(arrow_select::take::take(
                    right_all.column(i).as_ref(),
                    &remote,
                    None,
                )?);
            }
            let batch = RecordBatch::try_new(schema.clone(), columns)?;
            Partition::new(batch, left.geometry_column_index(), left_offsets[l])
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(GeoFrame::from_parts(
        schema,
        left.geometry_column_index(),
        left.crs().cloned(),
        partitions,
    ))
}
