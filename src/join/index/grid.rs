//! The uniform grid that answers "which polygons may hold this point" in constant time,
//! with each cell marked inside, outside or crossed by each polygon's edges.

use geo::algorithm::coordinate_position::CoordPos;
use geo::Geometry;
use rayon::prelude::*;

use super::prepared::PreparedPolygon;
use crate::geometry;

/// A uniform grid over a partition's extent, each cell listing the geometries whose boxes
/// meet it: a point finds its candidates with two multiplications, where an R-tree query
/// walks nodes. Used for points on the left (the common case).
///
/// For polygons each entry also says where the whole cell lies: a cell that no edge of the
/// polygon touches is wholly inside or wholly outside it (decided once, at its centre), so
/// points there need no point-in-polygon test at all; only cells an edge's box touches
/// (every point on an edge falls in one) are tested point by point. Only sound polygons
/// (`clean::Cleanliness`) are placed so; an unsound one's cells are all tested.
pub(crate) struct Grid {
    pub(crate) extent: geo::Rect,
    pub(crate) cells_x: usize,
    pub(crate) cells_y: usize,
    pub(crate) scale_x: f64,
    pub(crate) scale_y: f64,
    /// Start of each cell's entries in `entries` (row-major), plus one end.
    pub(crate) starts: Vec<u32>,
    /// (geometry, where the cell lies) per cell entry; cells wholly outside a polygon have
    /// no entry for it, since no point predicate holds there.
    pub(crate) entries: Vec<(u32, CellPosition)>,
    /// The box of each geometry, by row.
    pub(crate) rects: Vec<geo::Rect>,
    /// How many cells have candidates.
    pub(crate) occupied: usize,
}

/// Where a grid cell lies relative to a polygon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CellPosition {
    /// Edges pass near: test each point.
    Mixed,
    /// Wholly inside the polygon.
    Inside,
    /// Wholly outside the polygon.
    Outside,
}

impl Grid {
    pub(crate) fn new(
        boxes: &[(usize, geo::Rect)],
        geometries: &[Option<Geometry>],
        prepared: &[Option<PreparedPolygon>],
    ) -> Option<Grid> {
        let extent = boxes
            .iter()
            .map(|b| Some(b.1))
            .reduce(geometry::merge_bounds)??;
        let edges: usize = boxes
            .iter()
            .filter_map(|&(i, _)| prepared[i].as_ref())
            .map(PreparedPolygon::size)
            .sum();
        let (cells_x, cells_y) = grid_size(boxes, &extent, edges);
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
        // Every (cell, geometry, position) that is kept, geometry by geometry (placed in
        // parallel, in chunks of geometries, joined in row order); cells wholly outside
        // their polygon are left out.
        let place = |chunk: &[(usize, geo::Rect)]| {
            let mut kept: Vec<(u32, u32, CellPosition)> = Vec::new();
            let mut touched = Vec::new();
            for &(i, r) in chunk {
                let (xs, ys) = span(&r);
                let (x0, y0) = (*xs.start(), *ys.start());
                let width = xs.end() - x0 + 1;
                // Cells that an edge's box touches, within this polygon's span.
                touched.clear();
                touched.resize(width * (ys.end() - y0 + 1), false);
                // Only a sound polygon's cells are placed (where parity places points as
                // geo does): an unsound one's inside is what each predicate's exact test
                // makes of it, so all its cells stay mixed.
                let prepared_polygon = prepared[i]
                    .as_ref()
                    .filter(|pp| geometries[i].as_ref().is_some_and(|g| pp.is_sound(g)));
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
                    // Untouched cells side by side in a row lie on the same side: no
                    // boundary point lies in either, so one test places a run of them.
                    let mut run = None;
                    for cx in xs.clone() {
                        let position = match prepared_polygon {
                            Some(pp) if !touched[(cy - y0) * width + (cx - x0)] => *run
                                .get_or_insert_with(|| {
                                    let centre_x = extent.min().x + (cx as f64 + 0.5) / scale_x;
                                    let centre_y = extent.min().y + (cy as f64 + 0.5) / scale_y;
                                    match pp.position(centre_x, centre_y) {
                                        CoordPos::Inside => CellPosition::Inside,
                                        CoordPos::Outside => CellPosition::Outside,
                                        CoordPos::OnBoundary => CellPosition::Mixed,
                                    }
                                }),
                            _ => {
                                run = None;
                                CellPosition::Mixed
                            }
                        };
                        if position != CellPosition::Outside {
                            kept.push(((cy * cells_x + cx) as u32, i as u32, position));
                        }
                    }
                }
            }
            kept
        };
        let chunks: Vec<Vec<(u32, u32, CellPosition)>> = boxes
            .par_chunks(boxes.len().div_ceil(64).max(1))
            .map(place)
            .collect();
        let kept: Vec<(u32, u32, CellPosition)> = chunks.concat();
        // A counting sort by cell: the ends of the cells' runs, then each entry placed from
        // the back, which leaves the starts and keeps the geometries in row order.
        let mut starts = vec![0u32; cells_x * cells_y + 1];
        for &(c, _, _) in &kept {
            starts[c as usize + 1] += 1;
        }
        for c in 1..starts.len() {
            starts[c] += starts[c - 1];
        }
        let mut entries = vec![(0u32, CellPosition::Mixed); kept.len()];
        for &(c, i, position) in kept.iter().rev() {
            let end = &mut starts[c as usize + 1];
            *end -= 1;
            entries[*end as usize] = (i, position);
        }
        starts.remove(0);
        starts.push(kept.len() as u32);
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
            entries,
            rects,
        })
    }

    /// The (column, row) of the cell holding `(x, y)`; `None` outside the grid's extent
    /// (and for NaN).
    #[inline]
    pub(crate) fn cell(&self, x: f64, y: f64) -> Option<(usize, usize)> {
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
    pub(crate) fn is_compact(&self, b: Option<geo::Rect>) -> bool {
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
    pub(crate) fn candidates(
        &self,
        x: f64,
        y: f64,
    ) -> impl Iterator<Item = (usize, CellPosition)> + '_ {
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

/// The most cells a box may span in [`Grid::cover`]; larger boxes are tested exactly.
const MAX_COVER_CELLS: usize = 64;

impl Grid {
    /// The geometries listed in the cells that the box `r` spans, as (row, cells listing
    /// it, cells wholly inside it), sorted by row, into `tally`; returns how many cells the
    /// box spans, or `None` when the grid cannot place it (it lies wholly outside the
    /// grid's extent or spans too many cells). A geometry missing from a cell has no point
    /// there, so a box whose cells all lie inside a polygon lies in its interior, and one
    /// whose cells are each wholly inside or wholly outside never meets its boundary. A
    /// box that leaves the extent counts one cell more, outside every geometry.
    pub(crate) fn cover(&self, r: geo::Rect, tally: &mut Vec<(u32, u32, u32)>) -> Option<u32> {
        tally.clear();
        let (min, max) = (self.extent.min(), self.extent.max());
        let within =
            r.min().x >= min.x && r.max().x <= max.x && r.min().y >= min.y && r.max().y <= max.y;
        let meets =
            r.max().x >= min.x && r.min().x <= max.x && r.max().y >= min.y && r.min().y <= max.y;
        if !meets {
            return None;
        }
        let x0 = axis_cell(r.min().x, min.x, self.scale_x, self.cells_x);
        let x1 = axis_cell(r.max().x, min.x, self.scale_x, self.cells_x);
        let y0 = axis_cell(r.min().y, min.y, self.scale_y, self.cells_y);
        let y1 = axis_cell(r.max().y, min.y, self.scale_y, self.cells_y);
        let cells = (x1 - x0 + 1) * (y1 - y0 + 1) + usize::from(!within);
        if cells > MAX_COVER_CELLS {
            return None;
        }
        for cy in y0..=y1 {
            for cx in x0..=x1 {
                let c = cy * self.cells_x + cx;
                for &(i, position) in
                    &self.entries[self.starts[c] as usize..self.starts[c + 1] as usize]
                {
                    let inside = u32::from(position == CellPosition::Inside);
                    match tally.iter_mut().find(|t| t.0 == i) {
                        Some(t) => {
                            t.1 += 1;
                            t.2 += inside;
                        }
                        None => tally.push((i, 1, inside)),
                    }
                }
            }
        }
        tally.sort_unstable_by_key(|t| t.0);
        Some(cells as u32)
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
fn grid_size(boxes: &[(usize, geo::Rect)], extent: &geo::Rect, edges: usize) -> (usize, usize) {
    const PER_BOX: f64 = 1024.0;
    const SPLIT: f64 = 8.0;
    const EDGES_PER_CELL: f64 = 4.0;
    const MAX_CELLS: f64 = (1 << 22) as f64;
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
    // A few polygons of many edges (a country's border): enough cells that most lie
    // wholly inside or outside, so that a point or small polygon there needs no edge.
    let want = (edges as f64 / EDGES_PER_CELL).min(MAX_CELLS);
    if wide * high < want && extent.width() > 0.0 && extent.height() > 0.0 {
        let grow = (want / (wide * high)).sqrt();
        wide = (wide * grow).ceil().min(4096.0);
        high = (high * grow).ceil().min(4096.0);
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
