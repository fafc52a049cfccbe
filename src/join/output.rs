//! The output of a join: its schema, and the rows of one base partition assembled from its
//! matching pairs with Arrow kernels.

use std::sync::Arc;

use arrow_array::{new_null_array, Array, ArrayRef, Int64Array, RecordBatch, UInt64Array};
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use super::How;
use crate::error::{Error, Result};
use crate::geometry;
use crate::partition::Partition;

/// The output columns of a join whose rows follow `base` (left for inner and left joins,
/// right for right joins): base's columns (its geometry kept), `index_left` and
/// `index_right`, then the other side's attributes. Names that clash get `_left` /
/// `_right` suffixes as in GeoPandas.
pub(crate) fn join_schema(
    base: &Schema,
    base_geometry: usize,
    other: &Schema,
    other_geometry: usize,
    how: How,
) -> SchemaRef {
    let (base_suffix, other_suffix) = if how == How::Right {
        ("_right", "_left")
    } else {
        ("_left", "_right")
    };
    let other_attrs: Vec<&Field> = other
        .fields()
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != other_geometry)
        .map(|(_, f)| f.as_ref())
        .collect();
    let mut fields: Vec<Field> = Vec::new();
    for (i, f) in base.fields().iter().enumerate() {
        let clash = i != base_geometry && other_attrs.iter().any(|r| r.name() == f.name());
        let name = if clash {
            format!("{}{base_suffix}", f.name())
        } else {
            f.name().clone()
        };
        fields.push(f.as_ref().clone().with_name(name));
    }
    fields.push(Field::new("index_left", DataType::Int64, how == How::Right));
    fields.push(Field::new("index_right", DataType::Int64, how == How::Left));
    for f in other_attrs {
        let clash = base.fields().iter().any(|l| l.name() == f.name())
            || f.name() == "index_left"
            || f.name() == "index_right";
        let name = if clash {
            format!("{}{other_suffix}", f.name())
        } else {
            f.name().clone()
        };
        fields.push(f.clone().with_name(name).with_nullable(true));
    }
    Arc::new(Schema::new(fields))
}

/// An output row of an outer join: (row in the base partition, other row or `None` when
/// unmatched, pair number).
type OutputRow = (u64, Option<u64>, Option<usize>);

/// What the output rows of one base partition are made from.
pub(crate) struct OutputSpec<'a> {
    /// The output schema ([`join_schema`], plus a distance column for nearest joins).
    pub schema: &'a SchemaRef,
    /// The partition whose rows the output follows, and its first row.
    pub base: &'a Partition,
    pub base_first_row: u64,
    /// The other side's partitions that the pairs refer to, with their first rows
    /// (ascending), schema and geometry column.
    pub others: &'a [&'a Partition],
    pub other_first_rows: &'a [u64],
    pub other_schema: &'a Schema,
    pub other_geometry: usize,
    /// The matching (base row, other row) pairs, in global row numbers, sorted.
    pub pairs: &'a [(u64, u64)],
    /// One distance per pair, for a nearest join asked for them.
    pub distances: Option<&'a [f64]>,
    pub how: How,
}

/// The output rows of one base partition: its matches in (base row, other row) order and,
/// for outer joins, each unmatched base row once with nulls on the other side.
pub(crate) fn assemble_rows(spec: &OutputSpec<'_>) -> Result<Partition> {
    let &OutputSpec {
        schema,
        base,
        base_first_row,
        others,
        other_first_rows,
        other_schema,
        other_geometry,
        pairs,
        distances,
        how,
    } = spec;
    let base_geometry = base.geometry_column_index();
    // Output row k as (row in the base partition, other row or `None` when unmatched, pair
    // number). An inner join's rows are its pairs, used as they are; outer joins add each
    // unmatched base row once.
    let outer: Option<Vec<OutputRow>> = (how != How::Inner).then(|| {
        let mut rows = Vec::with_capacity(pairs.len());
        let mut next = pairs.iter().enumerate().peekable();
        for r in 0..base.len() as u64 {
            let mut matched = false;
            while let Some((k, &(_, b))) = next.next_if(|(_, &(a, _))| a - base_first_row == r) {
                rows.push((r, Some(b), Some(k)));
                matched = true;
            }
            if !matched {
                rows.push((r, None, None));
            }
        }
        rows
    });
    let local = match &outer {
        None => UInt64Array::from_iter_values(pairs.iter().map(|&(a, _)| a - base_first_row)),
        Some(rows) => UInt64Array::from_iter_values(rows.iter().map(|r| r.0)),
    };
    for (column, field) in base
        .batch()
        .columns()
        .iter()
        .zip(base.batch().schema().fields())
    {
        fits_one_array(column.as_ref(), local.values(), field.name())?;
    }
    let mut columns: Vec<ArrayRef> = base
        .batch()
        .columns()
        .iter()
        .map(|c| match take_point_wkb(c.as_ref(), local.values()) {
            Some(points) => Ok(points),
            None => arrow_select::take::take(c.as_ref(), &local, None),
        })
        .collect::<std::result::Result<_, _>>()?;
    let base_index =
        Int64Array::from_iter_values(local.values().iter().map(|&a| (a + base_first_row) as i64));
    // Inner joins have no unmatched rows: arrays without a null buffer build much faster.
    let other_index: Int64Array = match &outer {
        None => Int64Array::from_iter_values(pairs.iter().map(|p| p.1 as i64)),
        Some(rows) => rows.iter().map(|r| r.1.map(|b| b as i64)).collect(),
    };
    if how == How::Right {
        columns.push(Arc::new(other_index));
        columns.push(Arc::new(base_index));
    } else {
        columns.push(Arc::new(base_index));
        columns.push(Arc::new(other_index));
    }
    // Other-side rows by (partition, row in it); unmatched rows point at a one-row null
    // array appended after the partitions.
    let null_source = others.len();
    let locate = |row: Option<u64>| -> (usize, usize) {
        match row {
            None => (null_source, 0),
            Some(row) => {
                let k = other_first_rows
                    .partition_point(|&f| f <= row)
                    .saturating_sub(1);
                (
                    k,
                    (row - other_first_rows.get(k).copied().unwrap_or(0)) as usize,
                )
            }
        }
    };
    if let [other] = others {
        // One source: a plain `take` (nulls where unmatched) is several times faster than
        // `interleave`.
        let first = other_first_rows.first().copied().unwrap_or(0);
        let take_rows: UInt64Array = match &outer {
            None => UInt64Array::from_iter_values(pairs.iter().map(|p| p.1 - first)),
            Some(rows) => rows.iter().map(|r| r.1.map(|b| b - first)).collect(),
        };
        for (c, column) in other.batch().columns().iter().enumerate() {
            if c != other_geometry {
                columns.push(arrow_select::take::take(column.as_ref(), &take_rows, None)?);
            }
        }
    } else {
        let indices: Vec<(usize, usize)> = match &outer {
            None => pairs.iter().map(|p| locate(Some(p.1))).collect(),
            Some(rows) => rows.iter().map(|r| locate(r.1)).collect(),
        };
        for (c, field) in other_schema.fields().iter().enumerate() {
            if c == other_geometry {
                continue;
            }
            let nulls = new_null_array(field.data_type(), 1);
            let mut arrays: Vec<&dyn Array> = others
                .iter()
                .map(|p| p.batch().column(c).as_ref())
                .collect();
            arrays.push(nulls.as_ref());
            columns.push(arrow_select::interleave::interleave(&arrays, &indices)?);
        }
    }
    if let Some(d) = distances {
        let column: arrow_array::Float64Array = match &outer {
            None => d.iter().copied().map(Some).collect(),
            Some(rows) => rows.iter().map(|r| r.2.map(|k| d[k])).collect(),
        };
        columns.push(Arc::new(column));
    }
    let batch = RecordBatch::try_new(schema.clone(), columns)
        .map_err(|e| Error::Internal(format!("join output does not fit its schema: {e}")))?;
    // Output geometries are base rows, each repeated once per match: bound the distinct
    // rows only.
    let base_array = base.geometry_array();
    let mut bounds = geometry::BoundsFold::new();
    let mut last = None;
    for &r in local.values() {
        if last != Some(r) && !base_array.is_null(r as usize) {
            let bytes = base_array.value(r as usize);
            match geometry::point_xy(bytes) {
                Some((x, y)) => bounds.point(x, y),
                None => bounds.rect(geometry::bounds(&geometry::from_wkb(
                    bytes,
                    base_first_row + r,
                )?)),
            }
        }
        last = Some(r);
    }
    Ok(Partition::with_bounds(
        batch,
        base_geometry,
        bounds.finish(),
    ))
}

/// An error, rather than Arrow's offset overflow, where the rows `rows` of a binary or
/// string column (large polygons repeated once per match) would pass the 2 GiB an Arrow
/// array of 32-bit offsets holds.
fn fits_one_array(column: &dyn Array, rows: &[u64], name: &str) -> Result<()> {
    use arrow_array::cast::AsArray;
    let bytes: u64 = match column.data_type() {
        DataType::Binary => {
            let values = column.as_binary::<i32>();
            rows.iter()
                .map(|&r| values.value_length(r as usize) as u64)
                .sum()
        }
        DataType::Utf8 => {
            let values = column.as_string::<i32>();
            rows.iter()
                .map(|&r| values.value_length(r as usize) as u64)
                .sum()
        }
        _ => return Ok(()),
    };
    if bytes > i32::MAX as u64 {
        return Err(Error::InvalidArgument(format!(
            "the join output of one partition would hold {bytes} bytes in column '{name}', \
             more than one Arrow array holds (2 GiB): each row of the side the output follows \
             (the left one, or the right one for a right join) is repeated once per match. \
             Give that side smaller partitions (--partitions, GeoFrame::repartition), or, \
             where a few rows match this often, join the other way round with the converse \
             predicate (within for contains, and so on), so that the output follows the other side"
        )));
    }
    Ok(())
}

/// `take` for a WKB column of 2D points only (21 bytes each, no nulls): fixed-size copies
/// instead of a length lookup and a copy call per value. `None` for any other column.
fn take_point_wkb(column: &dyn Array, rows: &[u64]) -> Option<ArrayRef> {
    const WIDTH: usize = 21;
    let array = column.as_any().downcast_ref::<arrow_array::BinaryArray>()?;
    let offsets = array.value_offsets();
    let uniform = offsets.windows(2).all(|w| w[1] - w[0] == WIDTH as i32);
    if array.null_count() > 0 || !uniform || i32::try_from(rows.len() * WIDTH).is_err() {
        return None;
    }
    let values = array.value_data().get(*offsets.first()? as usize..)?;
    let mut out = Vec::with_capacity(rows.len() * WIDTH);
    for &r in rows {
        let at = usize::try_from(r).ok()? * WIDTH;
        let value: &[u8; WIDTH] = values.get(at..at + WIDTH)?.try_into().ok()?;
        out.extend_from_slice(value);
    }
    let offsets: Vec<i32> = (0..=rows.len()).map(|k| (k * WIDTH) as i32).collect();
    let offsets = arrow_buffer::OffsetBuffer::new(offsets.into());
    Some(Arc::new(arrow_array::BinaryArray::new(
        offsets,
        out.into(),
        None,
    )))
}
