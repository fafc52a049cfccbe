//! The work inside one partition pair, and assembling a left partition's output.

use std::sync::Arc;

use arrow_array::{new_null_array, Array, ArrayRef, Int64Array, RecordBatch, UInt64Array};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use geo::algorithm::coordinate_position::CoordPos;
use geo::{BoundingRect, Geometry};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

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
    /// How many cells have candidates.
    occupied: usize,
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
        let (cells_x, cells_y) = grid_size(boxes, &extent);
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
        let span = |r: &geo::Rect| {
            (
                axis_cell(r.min().x, extent.min().x, scale_x, cells_x)
                    ..=axis_cell(r.max().x, extent.min().x, scale_x, cells_x),
                axis_cell(r.min().y, extent.min().y, scale_y, cells_y)
                    ..=axis_cell(r.max().y, extent.min().y, scale_y, cells_y),
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
                                CoordPos::Inside => CellPosition::Inside,
                                CoordPos::Outside => CellPosition::Outside,
                                CoordPos::OnBoundary => CellPosition::Mixed,
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
        let occupied = starts.windows(2).filter(|w| w[1] > w[0]).count();
        Some(Grid {
            occupied,
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
                axis_cell(x, min.x, self.scale_x, self.cells_x),
                axis_cell(y, min.y, self.scale_y, self.cells_y),
            )
        })
    }

    /// Whether a partition with bounds `b` spans at most a 16th as many cells as the grid
    /// has cells with candidates: its points then meet few polygons, which stay in cache
    /// whatever order the points come in.
    fn is_compact(&self, b: Option<geo::Rect>) -> bool {
        let Some(b) = b else { return true };
        let (min, max, start) = (b.min(), b.max(), self.extent.min());
        // Bounds are normalised, so the higher cell is never below the lower one.
        let wide = axis_cell(max.x, start.x, self.scale_x, self.cells_x) + 1
            - axis_cell(min.x, start.x, self.scale_x, self.cells_x);
        let high = axis_cell(max.y, start.y, self.scale_y, self.cells_y) + 1
            - axis_cell(min.y, start.y, self.scale_y, self.cells_y);
        wide * high * 16 <= self.occupied
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

/// The cell of coordinate `v` along one axis of `n` cells starting at `start`; values
/// outside fall in the first or last cell (float-to-integer casts saturate, NaN gives 0).
#[inline]
fn axis_cell(v: f64, start: f64, scale: f64, n: usize) -> usize {
    (((v - start) * scale) as usize).min(n - 1)
}

/// Columns and rows of the grid over `extent`: cells an eighth of the median box on each
/// side, so that most cells lie wholly inside one polygon even when the extent is mostly
/// empty (US counties span the globe, from the Aleutians to Guam, and a grid sized by
/// count alone gave the contiguous states cells larger than a county); at most 1,024
/// cells per box and 4,096 per side.
fn grid_size(boxes: &[(usize, geo::Rect)], extent: &geo::Rect) -> (usize, usize) {
    const PER_BOX: f64 = 1024.0;
    const SPLIT: f64 = 8.0;
    let median = |side: fn(geo::Rect) -> f64| {
        let mut v: Vec<f64> = boxes.iter().map(|b| side(b.1)).collect();
        let mid = v.len() / 2;
        v.select_nth_unstable_by(mid, f64::total_cmp);
        v[mid]
    };
    // Boxes without extent (points): about eight cells per box along each axis.
    let by_count = ((boxes.len() as f64).sqrt() * 8.0).ceil();
    let count = |span: f64, cell: f64| {
        if cell > 0.0 && span > 0.0 {
            (span / cell).ceil().clamp(1.0, 4096.0)
        } else {
            by_count.clamp(1.0, 4096.0)
        }
    };
    let mut wide = count(extent.width(), median(geo::Rect::width) / SPLIT);
    let mut high = count(extent.height(), median(geo::Rect::height) / SPLIT);
    // Tiny boxes over a large extent: keep the proportions, within the budget.
    let budget = PER_BOX * boxes.len() as f64;
    if wide * high > budget {
        let shrink = (budget / (wide * high)).sqrt();
        wide = (wide * shrink).max(1.0).floor();
        high = (high * shrink).max(1.0).floor();
    }
    (wide as usize, high as usize)
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

/// The matching (left row, right row) pairs of one partition pair, in global row numbers,
/// sorted. Points on the left skip decoding: their coordinates are read from the WKB and
/// tested against the prepared right polygons, through the right side's grid when the
/// predicate needs no distance.
pub(crate) fn join_pair(
    left: &Partition,
    left_first_row: u64,
    right: &Indexed,
    right_first_row: u64,
    predicate: Predicate,
) -> Result<Vec<(u64, u64)>> {
    let reach = predicate.reach();
    let grid = right.grid.as_ref().filter(|_| reach == 0.0);
    let array = left.geometry_array();
    let mut found = Vec::with_capacity(array.len() / 2);
    let mut others = Vec::new();
    let pairs = Pairs {
        right,
        right_first_row,
        predicate,
    };
    match grid {
        // Points spread over the whole grid (a partition in file order): visit them in
        // spatial order.
        Some(grid) if !grid.is_compact(left.bounds()) => {
            pairs.spread_points(array, left_first_row, grid, &mut found, &mut others)?;
        }
        _ => pairs.rows(array, left_first_row, grid, &mut found)?,
    }
    if !others.is_empty() {
        found.extend(others);
        found.sort_unstable();
    }
    Ok(found)
}

/// The right side of one partition pair, and what is asked of it.
struct Pairs<'a> {
    right: &'a Indexed,
    right_first_row: u64,
    predicate: Predicate,
}

impl Pairs<'_> {
    /// Calls `hit` with the global row of every right geometry that the point `(x, y)`
    /// matches, in row order, through the grid.
    #[inline]
    fn grid_point(&self, grid: &Grid, x: f64, y: f64, mut hit: impl FnMut(u64)) {
        for (j, position) in grid.candidates(x, y) {
            let known = match position {
                CellPosition::Inside => self.predicate.point_polygon(CoordPos::Inside),
                CellPosition::Outside => self.predicate.point_polygon(CoordPos::Outside),
                CellPosition::Mixed => None,
            };
            let matched = match (known, &self.right.geometries[j]) {
                (Some(answer), _) => answer,
                (None, Some(rg)) => {
                    self.predicate
                        .test_point(x, y, rg, self.right.prepared[j].as_ref())
                }
                (None, None) => false,
            };
            if matched {
                hit(self.right_first_row + j as u64);
            }
        }
    }

    /// As [`Pairs::grid_point`], through the R-tree, for predicates that reach `reach`
    /// beyond the point.
    fn tree_point(&self, x: f64, y: f64, reach: f64, mut hit: impl FnMut(u64)) {
        let env = AABB::from_corners([x - reach, y - reach], [x + reach, y + reach]);
        for (j, rg) in self.right.candidates_in(&env) {
            if self
                .predicate
                .test_point(x, y, rg, self.right.prepared[j].as_ref())
            {
                hit(self.right_first_row + j as u64);
            }
        }
    }

    /// Left rows in row order, into `found`.
    fn rows(
        &self,
        array: &arrow_array::BinaryArray,
        left_first_row: u64,
        grid: Option<&Grid>,
        found: &mut Vec<(u64, u64)>,
    ) -> Result<()> {
        let reach = self.predicate.reach();
        for i in 0..array.len() {
            if array.is_null(i) {
                continue;
            }
            let row = left_first_row + i as u64;
            match (geometry::point_xy(array.value(i)), grid) {
                (Some((x, y)), Some(grid)) => self.grid_point(grid, x, y, |j| found.push((row, j))),
                (Some((x, y)), None) => self.tree_point(x, y, reach, |j| found.push((row, j))),
                (None, _) => self.geometry(array.value(i), row, reach, found)?,
            }
        }
        Ok(())
    }

    /// The matches of a left geometry other than a point, decoded from `wkb`.
    fn geometry(
        &self,
        wkb: &[u8],
        row: u64,
        reach: f64,
        found: &mut Vec<(u64, u64)>,
    ) -> Result<()> {
        let g = geometry::from_wkb(wkb, row)?;
        let Some(b) = g.bounding_rect() else {
            return Ok(());
        };
        let env = AABB::from_corners(
            [b.min().x - reach, b.min().y - reach],
            [b.max().x + reach, b.max().y + reach],
        );
        let start = found.len();
        for (j, rg) in self.right.candidates_in(&env) {
            if self.predicate.test(&g, rg) {
                found.push((row, self.right_first_row + j as u64));
            }
        }
        // The tree yields candidates in no particular order.
        found[start..].sort_unstable();
        Ok(())
    }

    /// Points spread over the grid, in chunks of rows small enough to stay in cache: each
    /// chunk's points are bucketed by block of grid cells (a counting sort) and tested in
    /// that order, so the polygons of a block stay in cache whatever the row order; the
    /// matches go back to row order through a slot per row. Rows other than points go to
    /// `others`, unsorted.
    fn spread_points(
        &self,
        array: &arrow_array::BinaryArray,
        left_first_row: u64,
        grid: &Grid,
        found: &mut Vec<(u64, u64)>,
        others: &mut Vec<(u64, u64)>,
    ) -> Result<()> {
        const CHUNK: usize = 1 << 17;
        const BLOCK: usize = 4;
        let blocks_x = grid.cells_x.div_ceil(BLOCK);
        let blocks = blocks_x * grid.cells_y.div_ceil(BLOCK);
        let mut keyed: Vec<(f64, f64, u32, u32)> = Vec::with_capacity(CHUNK);
        let mut sorted: Vec<(f64, f64, u32)> = Vec::with_capacity(CHUNK);
        let mut starts = vec![0u32; blocks + 1];
        let mut first = vec![u64::MAX; CHUNK];
        let mut more: Vec<(u32, u64)> = Vec::new();
        let mut row_matches: Vec<u64> = Vec::new();
        for chunk in (0..array.len()).step_by(CHUNK) {
            let len = CHUNK.min(array.len() - chunk);
            keyed.clear();
            starts.fill(0);
            for k in 0..len {
                let i = chunk + k;
                if array.is_null(i) {
                    continue;
                }
                let row = left_first_row + i as u64;
                match geometry::point_xy(array.value(i)) {
                    Some((x, y)) => {
                        if let Some((cx, cy)) = grid.cell(x, y) {
                            let block = (cy / BLOCK) * blocks_x + cx / BLOCK;
                            keyed.push((x, y, k as u32, block as u32));
                            starts[block + 1] += 1;
                        }
                    }
                    None => self.geometry(array.value(i), row, 0.0, others)?,
                }
            }
            for b in 1..starts.len() {
                starts[b] += starts[b - 1];
            }
            sorted.clear();
            sorted.resize(keyed.len(), (0.0, 0.0, 0));
            for &(x, y, k, block) in &keyed {
                let at = &mut starts[block as usize];
                sorted[*at as usize] = (x, y, k);
                *at += 1;
            }
            first[..len].fill(u64::MAX);
            more.clear();
            for &(x, y, k) in &sorted {
                self.grid_point(grid, x, y, |j| {
                    let slot = &mut first[k as usize];
                    if *slot == u64::MAX {
                        *slot = j;
                    } else {
                        more.push((k, j));
                    }
                });
            }
            // Back to row order, right rows ascending within a row.
            more.sort_unstable();
            let mut more = more.iter().copied().peekable();
            for (k, &j) in first[..len].iter().enumerate() {
                if j == u64::MAX {
                    continue;
                }
                let row = left_first_row + (chunk + k) as u64;
                if more.peek().is_some_and(|&(m, _)| m as usize == k) {
                    row_matches.clear();
                    row_matches.push(j);
                    while let Some((_, j)) = more.next_if(|&(m, _)| m as usize == k) {
                        row_matches.push(j);
                    }
                    row_matches.sort_unstable();
                    found.extend(row_matches.iter().map(|&j| (row, j)));
                } else {
                    found.push((row, j));
                }
            }
        }
        Ok(())
    }
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
        .map_err(|e| Error::InvalidArgument(format!("join output: {e}")))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::{read_shapefile, ShapefileOptions};
    use crate::GeoFrame;

    /// Points visited block by block give exactly the pairs of the row-by-row visit, for
    /// every predicate a point can answer through the grid.
    #[test]
    fn spread_and_row_order_visits_agree() {
        let counties = read_shapefile(
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/data/us_counties/us_counties.shp"
            ),
            &ShapefileOptions::default(),
        )
        .unwrap();
        let index = build_index(&counties.partitions()[0], 0).unwrap();
        let grid = index.grid.as_ref().unwrap();
        // Beyond one chunk, with points on county vertices (boundaries) mixed in.
        let mut points: Vec<Geometry> = crate::datagen::uniform_points(300_000, 11, 300_000)
            .unwrap()
            .geometries()
            .unwrap()
            .into_iter()
            .flatten()
            .collect();
        points.extend(
            index
                .geometries
                .iter()
                .flatten()
                .flat_map(|g| geo::CoordsIter::coords_iter(g).step_by(97))
                .map(|c| Geometry::Point(c.into())),
        );
        let left = GeoFrame::from_geometries(points, None)
            .unwrap()
            .repartition(usize::MAX)
            .unwrap();
        let left = &left.partitions()[0];
        assert!(!grid.is_compact(left.bounds()));
        for predicate in [
            Predicate::Intersects,
            Predicate::Within,
            Predicate::CoveredBy,
            Predicate::Touches,
        ] {
            let pairs = Pairs {
                right: &index,
                right_first_row: 7,
                predicate,
            };
            let (mut spread, mut others, mut rows) = (Vec::new(), Vec::new(), Vec::new());
            pairs
                .spread_points(left.geometry_array(), 5, grid, &mut spread, &mut others)
                .unwrap();
            pairs
                .rows(left.geometry_array(), 5, Some(grid), &mut rows)
                .unwrap();
            assert!(others.is_empty());
            assert!(rows.len() > 100, "{predicate:?}: {}", rows.len());
            assert_eq!(spread, rows, "{predicate:?}");
        }
    }
}
