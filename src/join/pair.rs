//! The work inside one partition pair, and assembling a left partition's output.

use std::sync::Arc;

use arrow_array::{new_null_array, Array, ArrayRef, Int64Array, RecordBatch, UInt64Array};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use geo::{BoundingRect, Geometry};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use geo::algorithm::coordinate_position::CoordPos;

use super::prepared::PreparedPolygon;
use super::{How, Predicate};
use crate::error::{Error, Result};
use crate::geometry;
use crate::partition::Partition;

/// One right partition decoded once, its polygons prepared, with an R-tree over the boxes
/// of its geometries: shared by every pair task that meets this partition.
pub(crate) struct Indexed {
    pub(super) geometries: Vec<Option<Geometry>>,
    prepared: Vec<Option<PreparedPolygon>>,
    pub(super) tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
    grid: Option<Grid>,
}

/// A uniform grid over a partition's extent, each cell listing the geometries whose boxes
/// meet it: a point finds its candidates with two multiplications, where an R-tree query
/// walks nodes. Used for points on the left (the common case).
///
/// For polygons each entry also says where the whole cell lies: a cell that no edge of the
/// polygon touches is wholly inside or wholly outside it (decided once, at its centre), so
/// points there need no point-in-polygon test at all; only cells an edge's box touches
/// (every point on an edge falls in one) are tested point by point.
struct Grid {
    extent: geo::Rect,
    cells_x: usize,
    cells_y: usize,
    scale_x: f64,
    scale_y: f64,
    /// Start of each cell's entries in `entries` (row-major), plus one end.
    starts: Vec<u32>,
    /// (geometry, where the cell lies) per cell entry; cells wholly outside a polygon have
    /// no entry for it, since no point predicate holds there.
    entries: Vec<(u32, CellPosition)>,
    /// The box of each geometry, by row.
    rects: Vec<geo::Rect>,
}

/// Where a grid cell lies relative to a polygon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CellPosition {
    /// Edges pass near: test each point.
    Mixed,
    Inside,
    Outside,
}

impl Grid {
    fn new(
        boxes: &[(usize, geo::Rect)],
        geometries: &[Option<Geometry>],
        prepared: &[Option<PreparedPolygon>],
    ) -> Option<Grid> {
        let extent = boxes
            .iter()
            .map(|b| Some(b.1))
            .reduce(geometry::merge_bounds)??;
        // About eight cells per geometry along each axis, at most 2048 x 2048 cells: fine
        // enough that most cells lie wholly inside one polygon (and a cell's column and row
        // each fit in 16 bits).
        let side = ((boxes.len() as f64).sqrt() * 8.0)
            .ceil()
            .clamp(1.0, 2048.0) as usize;
        let (cells_x, cells_y) = (side, side);
        let scale_x = if extent.width() > 0.0 {
            cells_x as f64 / extent.width()
        } else {
            0.0
        };
        let scale_y = if extent.height() > 0.0 {
            cells_y as f64 / extent.height()
        } else {
            0.0
        };
        let cell = |v: f64, lo: f64, scale: f64, n: usize| (((v - lo) * scale) as usize).min(n - 1);
        let span = |r: &geo::Rect| {
            (
                cell(r.min().x, extent.min().x, scale_x, cells_x)
                    ..=cell(r.max().x, extent.min().x, scale_x, cells_x),
                cell(r.min().y, extent.min().y, scale_y, cells_y)
                    ..=cell(r.max().y, extent.min().y, scale_y, cells_y),
            )
        };
        let mut counts = vec![0u32; cells_x * cells_y + 1];
        for (_, r) in boxes {
            let (xs, ys) = span(r);
            for cy in ys {
                for cx in xs.clone() {
                    counts[cy * cells_x + cx + 1] += 1;
                }
            }
        }
        for i in 1..counts.len() {
            counts[i] += counts[i - 1];
        }
        let mut fill = counts.clone();
        let mut entries = vec![(0u32, CellPosition::Mixed); counts[cells_x * cells_y] as usize];
        for &(i, r) in boxes {
            let (xs, ys) = span(&r);
            let (x0, y0) = (*xs.start(), *ys.start());
            let width = xs.end() - x0 + 1;
            // Cells that an edge's box touches, within this polygon's span.
            let mut touched = vec![false; width * (ys.end() - y0 + 1)];
            let prepared_polygon = prepared[i].as_ref();
            if prepared_polygon.is_some() {
                if let Some(g) = &geometries[i] {
                    let (x1, y1) = (*xs.end(), *ys.end());
                    for_each_edge(g, |a, b| {
                        // Edges of holes outside the shell may leave the polygon's span.
                        let (exs, eys) = span(&geo::Rect::new(a, b));
                        for cy in (*eys.start()).max(y0)..=(*eys.end()).min(y1) {
                            for cx in (*exs.start()).max(x0)..=(*exs.end()).min(x1) {
                                touched[(cy - y0) * width + (cx - x0)] = true;
                            }
                        }
                    });
                }
            }
            for cy in ys {
                for cx in xs.clone() {
                    let position = match prepared_polygon {
                        Some(pp) if !touched[(cy - y0) * width + (cx - x0)] => {
                            let centre_x = extent.min().x + (cx as f64 + 0.5) / scale_x;
                            let centre_y = extent.min().y + (cy as f64 + 0.5) / scale_y;
                            match pp.position(centre_x, centre_y) {
                                geo::algorithm::coordinate_position::CoordPos::Inside => {
                                    CellPosition::Inside
                                }
                                geo::algorithm::coordinate_position::CoordPos::Outside => {
                                    CellPosition::Outside
                                }
                                geo::algorithm::coordinate_position::CoordPos::OnBoundary => {
                                    CellPosition::Mixed
                                }
                            }
                        }
                        _ => CellPosition::Mixed,
                    };
                    let at = &mut fill[cy * cells_x + cx];
                    entries[*at as usize] = (i as u32, position);
                    *at += 1;
                }
            }
        }
        // Drop the entries of cells wholly outside their polygon.
        let mut starts = Vec::with_capacity(counts.len());
        let mut kept = Vec::with_capacity(entries.len());
        starts.push(0u32);
        for c in 0..cells_x * cells_y {
            kept.extend(
                entries[counts[c] as usize..counts[c + 1] as usize]
                    .iter()
                    .filter(|e| e.1 != CellPosition::Outside),
            );
            starts.push(kept.len() as u32);
        }
        let mut rects = vec![extent; boxes.iter().map(|b| b.0 + 1).max().unwrap_or(0)];
        for &(i, r) in boxes {
            rects[i] = r;
        }
        Some(Grid {
            extent,
            cells_x,
            cells_y,
            scale_x,
            scale_y,
            starts,
            entries: kept,
            rects,
        })
    }

    /// The (column, row) of the cell holding `(x, y)`; `None` outside the grid's extent
    /// (and for NaN).
    #[inline]
    fn cell(&self, x: f64, y: f64) -> Option<(usize, usize)> {
        let (min, max) = (self.extent.min(), self.extent.max());
        let inside = x >= min.x && x <= max.x && y >= min.y && y <= max.y;
        inside.then(|| {
            (
                (((x - min.x) * self.scale_x) as usize).min(self.cells_x - 1),
                (((y - min.y) * self.scale_y) as usize).min(self.cells_y - 1),
            )
        })
    }

    /// Whether a partition with bounds `b` covers at most a 1/16 of the grid: its points
    /// then meet few polygons, which stay in cache whatever order the points come in.
    fn is_compact(&self, b: Option<geo::Rect>) -> bool {
        let Some(b) = b else { return true };
        let cells = |lo: f64, hi: f64, min: f64, scale: f64, n: usize| {
            let cell = |v: f64| (((v - min) * scale).max(0.0) as usize).min(n - 1);
            cell(hi) + 1 - cell(lo).min(cell(hi))
        };
        let (min, max) = (b.min(), b.max());
        let wide = cells(
            min.x,
            max.x,
            self.extent.min().x,
            self.scale_x,
            self.cells_x,
        );
        let high = cells(
            min.y,
            max.y,
            self.extent.min().y,
            self.scale_y,
            self.cells_y,
        );
        wide * high * 16 <= self.cells_x * self.cells_y
    }

    /// Geometries whose boxes contain `(x, y)`, with where the point's cell lies relative
    /// to each.
    #[inline]
    fn candidates(&self, x: f64, y: f64) -> impl Iterator<Item = (usize, CellPosition)> + '_ {
        let slice = match self.cell(x, y) {
            Some((cx, cy)) => {
                let c = cy * self.cells_x + cx;
                &self.entries[self.starts[c] as usize..self.starts[c + 1] as usize]
            }
            None => &self.entries[0..0],
        };
        slice.iter().filter_map(move |&(i, position)| {
            if position == CellPosition::Inside {
                // The cell lies inside the polygon, so inside its box too.
                return Some((i as usize, position));
            }
            let r = &self.rects[i as usize];
            (x >= r.min().x && x <= r.max().x && y >= r.min().y && y <= r.max().y)
                .then_some((i as usize, position))
        })
    }
}

/// Calls `f` with every ring edge of a polygon or multipolygon.
fn for_each_edge(g: &Geometry, mut f: impl FnMut(geo::Coord, geo::Coord)) {
    let mut ring = |r: &geo::LineString| {
        for w in r.0.windows(2) {
            f(w[0], w[1]);
        }
    };
    match g {
        Geometry::Polygon(p) => {
            ring(p.exterior());
            p.interiors().iter().for_each(&mut ring);
        }
        Geometry::MultiPolygon(mp) => {
            for p in &mp.0 {
                ring(p.exterior());
                p.interiors().iter().for_each(&mut ring);
            }
        }
        _ => {}
    }
}

impl Indexed {
    /// Right geometries whose boxes meet `env`, as (row in partition, geometry).
    pub(crate) fn candidates_in<'a>(
        &'a self,
        env: &AABB<[f64; 2]>,
    ) -> impl Iterator<Item = (usize, &'a Geometry)> + 'a {
        self.tree
            .locate_in_envelope_intersecting(env)
            .filter_map(|c| self.geometries[c.data].as_ref().map(|g| (c.data, g)))
    }
}

pub(crate) fn build_index(p: &Partition, first_row: u64) -> Result<Indexed> {
    let geometries = p.geometries(first_row)?;
    let prepared: Vec<Option<PreparedPolygon>> = geometries
        .iter()
        .map(|g| g.as_ref().and_then(PreparedPolygon::new))
        .collect();
    // Boxes of the exterior rings, as GEOS's envelopes: a point outside a polygon's
    // envelope is outside it, whatever its (invalid) holes outside the shell enclose.
    let rects: Vec<(usize, geo::Rect)> = geometries
        .iter()
        .enumerate()
        .filter_map(|(i, g)| Some((i, g.as_ref()?.bounding_rect()?)))
        .collect();
    let boxes = rects
        .iter()
        .map(|&(i, r)| {
            GeomWithData::new(
                Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                i,
            )
        })
        .collect();
    Ok(Indexed {
        grid: Grid::new(&rects, &geometries, &prepared),
        geometries,
        prepared,
        tree: RTree::bulk_load(boxes),
    })
}

/// The matching (left row, right row) pairs of one partition pair, in global row numbers.
/// Points on the left skip decoding: their coordinates are read from the WKB and tested
/// against the prepared right polygons.
pub(crate) fn join_pair(
    left: &Partition,
    left_first_row: u64,
    right: &Indexed,
    right_first_row: u64,
    predicate: Predicate,
) -> Result<Vec<(u64, u64)>> {
    let reach = predicate.reach();
    let grid = right.grid.as_ref().filter(|_| reach == 0.0);
    if let Some(grid) = grid.filter(|g| !g.is_compact(left.bounds())) {
        return join_by_cell(
            left,
            left_first_row,
            right,
            grid,
            right_first_row,
            predicate,
        );
    }
    let array = left.geometry_array();
    let mut found = Vec::with_capacity(array.len());
    for i in 0..array.len() {
        if array.is_null(i) {
            continue;
        }
        let bytes = array.value(i);
        let row = left_first_row + i as u64;
        if let Some((x, y)) = geometry::point_xy(bytes) {
            if let Some(grid) = grid {
                for (j, position) in grid.candidates(x, y) {
                    let known = match position {
                        CellPosition::Inside => predicate.point_polygon(CoordPos::Inside),
                        CellPosition::Outside => predicate.point_polygon(CoordPos::Outside),
                        CellPosition::Mixed => None,
                    };
                    let hit = match (known, &right.geometries[j]) {
                        (Some(answer), _) => answer,
                        (None, Some(rg)) => {
                            predicate.test_point(x, y, rg, right.prepared[j].as_ref())
                        }
                        (None, None) => false,
                    };
                    if hit {
                        found.push((row, right_first_row + j as u64));
                    }
                }
                continue;
            }
            let env = AABB::from_corners([x - reach, y - reach], [x + reach, y + reach]);
            for cand in right.tree.locate_in_envelope_intersecting(&env) {
                let j = cand.data;
                if let Some(rg) = &right.geometries[j] {
                    if predicate.test_point(x, y, rg, right.prepared[j].as_ref()) {
                        found.push((row, right_first_row + j as u64));
                    }
                }
            }
            continue;
        }
        let g = geometry::from_wkb(bytes, row)?;
        let Some(b) = g.bounding_rect() else { continue };
        let env = AABB::from_corners(
            [b.min().x - reach, b.min().y - reach],
            [b.max().x + reach, b.max().y + reach],
        );
        for cand in right.tree.locate_in_envelope_intersecting(&env) {
            if let Some(rg) = &right.geometries[cand.data] {
                if predicate.test(&g, rg) {
                    found.push((row, right_first_row + cand.data as u64));
                }
            }
        }
    }
    Ok(found)
}

/// [`join_pair`] against a gridded right side: left points are bucketed by grid cell
/// (a counting sort) and visited cell by cell, so each cell's candidate list is read once
/// and its polygons stay in cache however the left rows are ordered; a cell wholly inside a
/// polygon answers for all its points at once. Other left geometries take the R-tree.
/// Pairs come back sorted by (left row, right row).
fn join_by_cell(
    left: &Partition,
    left_first_row: u64,
    right: &Indexed,
    grid: &Grid,
    right_first_row: u64,
    predicate: Predicate,
) -> Result<Vec<(u64, u64)>> {
    let array = left.geometry_array();
    let n = array.len();
    let rows = u32::try_from(n).map_err(|_| {
        Error::InvalidArgument(format!("a partition of {n} rows is too large to join"))
    })?;
    // Pass 1: each point's cell as (column, row) (u32::MAX: none), and the span of cells
    // the points occupy: the buckets cover that span only, which for a spatially shuffled
    // partition is a small part of the grid.
    let mut cell_of = vec![u32::MAX; n];
    let mut coords = vec![(0.0f64, 0.0f64); n];
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    let mut others: Vec<(u64, u64)> = Vec::new();
    for i in 0..n {
        if array.is_null(i) {
            continue;
        }
        let bytes = array.value(i);
        let row = left_first_row + i as u64;
        if let Some((x, y)) = geometry::point_xy(bytes) {
            if let Some((cx, cy)) = grid.cell(x, y) {
                cell_of[i] = (cx | (cy << 16)) as u32;
                coords[i] = (x, y);
                (x0, x1, y0, y1) = (x0.min(cx), x1.max(cx), y0.min(cy), y1.max(cy));
            }
            continue;
        }
        let g = geometry::from_wkb(bytes, row)?;
        let Some(b) = g.bounding_rect() else { continue };
        let env = AABB::from_corners([b.min().x, b.min().y], [b.max().x, b.max().y]);
        for (j, rg) in right.candidates_in(&env) {
            if predicate.test(&g, rg) {
                others.push((row, right_first_row + j as u64));
            }
        }
    }
    let width = (x1 + 1).saturating_sub(x0);
    let cells = width * (y1 + 1).saturating_sub(y0);
    let local = |packed: u32| {
        let (cx, cy) = ((packed & 0xffff) as usize, (packed >> 16) as usize);
        (cy - y0) * width + (cx - x0)
    };
    let mut starts = vec![0u32; cells + 1];
    for &c in &cell_of {
        if c != u32::MAX {
            starts[local(c) + 1] += 1;
        }
    }
    for c in 1..starts.len() {
        starts[c] += starts[c - 1];
    }
    // Pass 2: the points, bucketed by cell.
    let mut fill = starts.clone();
    let mut by_cell = vec![(0.0f64, 0.0f64, 0u32); starts[cells] as usize];
    for (i, &c) in cell_of.iter().enumerate() {
        if c != u32::MAX {
            let at = &mut fill[local(c)];
            by_cell[*at as usize] = (coords[i].0, coords[i].1, i as u32);
            *at += 1;
        }
    }
    drop(coords);
    drop(fill);
    // Pass 3: cell by cell, polygon by polygon, point by point. Most points match at most
    // one polygon: the first match of each row is kept by row, any further ones aside.
    let inside_answer = predicate.point_polygon(CoordPos::Inside);
    let mut first = vec![u32::MAX; n];
    let mut more: Vec<(u32, u32)> = Vec::new();
    let mut hit = |i: u32, j: u32| {
        let slot = &mut first[i as usize];
        if *slot == u32::MAX {
            *slot = j;
        } else {
            more.push((i, j));
        }
    };
    for c in 0..cells {
        let points = &by_cell[starts[c] as usize..starts[c + 1] as usize];
        if points.is_empty() {
            continue;
        }
        let global = (y0 + c / width) * grid.cells_x + x0 + c % width;
        let entries = &grid.entries[grid.starts[global] as usize..grid.starts[global + 1] as usize];
        for &(j, position) in entries {
            let known = match position {
                CellPosition::Inside => inside_answer,
                CellPosition::Outside => Some(false),
                CellPosition::Mixed => None,
            };
            match known {
                Some(false) => {}
                Some(true) => points.iter().for_each(|&(_, _, i)| hit(i, j)),
                None => {
                    let (Some(rg), r) = (&right.geometries[j as usize], &grid.rects[j as usize])
                    else {
                        continue;
                    };
                    let prepared = right.prepared[j as usize].as_ref();
                    for &(x, y, i) in points {
                        if x >= r.min().x
                            && x <= r.max().x
                            && y >= r.min().y
                            && y <= r.max().y
                            && predicate.test_point(x, y, rg, prepared)
                        {
                            hit(i, j);
                        }
                    }
                }
            }
        }
    }
    drop(by_cell);
    // Back to row order, right rows ascending within a row.
    more.sort_unstable();
    let mut more = more.into_iter().peekable();
    let mut found = Vec::with_capacity(n / 2 + more.len() + others.len());
    let mut row_matches: Vec<u32> = Vec::new();
    for (i, &j) in first.iter().enumerate().take(rows as usize) {
        if j == u32::MAX {
            continue;
        }
        let row = left_first_row + i as u64;
        if more.peek().is_some_and(|&(k, _)| k as usize == i) {
            row_matches.clear();
            row_matches.push(j);
            while let Some((_, j)) = more.next_if(|&(k, _)| k as usize == i) {
                row_matches.push(j);
            }
            row_matches.sort_unstable();
            found.extend(
                row_matches
                    .iter()
                    .map(|&j| (row, right_first_row + u64::from(j))),
            );
        } else {
            found.push((row, right_first_row + u64::from(j)));
        }
    }
    if !others.is_empty() {
        found.extend(others);
        found.sort_unstable();
    }
    Ok(found)
}

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

/// The output rows of one base partition: its matches in (base row, other row) order and,
/// for outer joins, each unmatched base row once with nulls on the other side.
#[allow(clippy::too_many_arguments)]
pub(crate) fn merge(
    schema: &SchemaRef,
    base: &Partition,
    base_first_row: u64,
    others: &[&Partition],
    other_first_rows: &[u64],
    other_schema: &Schema,
    other_geometry: usize,
    pairs: &[(u64, u64)],
    distances: Option<&[f64]>,
    how: How,
) -> Result<Partition> {
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
    let mut columns: Vec<ArrayRef> = base
        .batch()
        .columns()
        .iter()
        .map(|c| arrow_select::take::take(c.as_ref(), &local, None))
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
        .map_err(|e| Error::InvalidArgument(format!("join output: {e}")))?;
    // Output geometries are base rows, each repeated once per match: bound the distinct
    // rows only.
    let base_array = base.geometry_array();
    let mut bounds = None;
    let mut last = None;
    for &r in local.values() {
        if last != Some(r) && !base_array.is_null(r as usize) {
            let bytes = base_array.value(r as usize);
            let rect = match geometry::point_xy(bytes) {
                Some((x, y)) => Some(geo::Rect::new((x, y), (x, y))),
                None => geometry::bounds(&geometry::from_wkb(bytes, base_first_row + r)?),
            };
            bounds = geometry::merge_bounds(bounds, rect);
        }
        last = Some(r);
    }
    Ok(Partition::with_bounds(batch, base_geometry, bounds))
}
