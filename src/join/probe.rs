//! The probe side of a partition pair: each row of the base partition looked up in the
//! other side's index and tested with the exact predicate. Points skip decoding and go
//! through the grid, visited in spatial order when the partition is spread out.

use arrow_array::Array;
use geo::algorithm::coordinate_position::{CoordPos, CoordinatePosition};
use geo::kernels::{Kernel, RobustKernel};
use rstar::AABB;

use super::areal::{self, Contact};
use super::clip;
use super::index::clean::{on_segment, Cleanliness};
use super::index::convex::is_convex_ring;
use super::index::edges::{Edges, Plain};
use super::index::prepared::PreparedPolygon;
use super::index::{CellPosition, Grid, PartitionIndexed};
use super::Predicate;
use crate::error::Result;
use crate::geometry;
use crate::partition::Partition;

/// The matching (left row, right row) pairs of one partition pair, in global row numbers,
/// sorted. Points on the left skip decoding: their coordinates are read from the WKB and
/// tested against the prepared right polygons, through the right side's grid when the
/// predicate needs no distance.
pub(crate) fn probe(
    left: &Partition,
    left_first_row: u64,
    right: &PartitionIndexed,
    right_first_row: u64,
    predicate: Predicate,
) -> Result<Vec<(u64, u64)>> {
    let reach = predicate.reach();
    // Only points and small polygons go through the grid: it is built for them alone.
    let grid = if reach == 0.0 && has_small_rows(left.geometry_array(), right.median_box) {
        right.grid()
    } else {
        None
    };
    let array = left.geometry_array();
    let mut found = Vec::with_capacity(array.len() / 2);
    let mut others = Vec::new();
    let probe = Probe {
        right,
        right_first_row,
        predicate,
    };
    match grid {
        // Points spread over the whole grid (a partition in file order): visit them in
        // spatial order.
        Some(grid) if !grid.is_compact(left.bounds()) => {
            probe.spread_points(array, left_first_row, grid, &mut found, &mut others)?;
        }
        _ => probe.rows(array, left_first_row, grid, &mut found)?,
    }
    if !others.is_empty() {
        found.extend(others);
        found.sort_unstable();
    }
    Ok(found)
}

/// Whether at least half of the first rows are points, or convex polygons of one ring no
/// larger than four times the right side's median box: those go through the grid, which is
/// built for them alone (larger ones span more cells than it places, and other polygons do
/// not use it).
fn has_small_rows(array: &arrow_array::BinaryArray, median_box: (f64, f64)) -> bool {
    let mut ring = Vec::new();
    let (mut sampled, mut small) = (0, 0);
    for i in (0..array.len()).filter(|&i| !array.is_null(i)).take(16) {
        sampled += 1;
        let wkb = array.value(i);
        if geometry::point_xy(wkb).is_some() {
            small += 1;
        } else if geometry::single_ring(wkb, &mut ring) && is_convex_ring(&ring) {
            let b = ring_box(&ring);
            if b.width() <= 4.0 * median_box.0 && b.height() <= 4.0 * median_box.1 {
                small += 1;
            }
        }
    }
    small > 0 && 2 * small >= sampled
}

/// Left polygons with at most this many edges are not prepared: walking them is cheaper.
const SMALL_POLYGON_EDGES: usize = 32;

/// `left <predicate> right` for two polygons from their edges, the smaller side walked;
/// `None` when `Relate` must decide.
fn relate_areal(
    predicate: Predicate,
    left: &geo::Geometry,
    pl: &impl Edges,
    right: &geo::Geometry,
    pr: &impl Edges,
) -> Option<bool> {
    if pl.size() <= pr.size() {
        areal::test(predicate, left, pl, right, pr)
    } else {
        areal::test(predicate.converse(), right, pr, left, pl)
    }
}

/// `convex <predicate> other`, for a convex polygon bounded by `ring` (its box `bbox`, its
/// turns all `turn`) against a polygon prepared as `prepared`, where the other's edges near
/// it decide; `None` when an exact test must.
fn convex_against(
    predicate: Predicate,
    ring: &[geo::Coord],
    bbox: geo::Rect,
    turn: geo::kernels::Orientation,
    other: &geo::Geometry,
    prepared: &PreparedPolygon,
) -> Option<bool> {
    let cleanliness = prepared.cleanliness(other);
    let contact = areal::convex_contact(ring, turn, prepared.edges_near(bbox));
    match (cleanliness, contact) {
        // The convex polygon lies wholly on one side, as its first vertex. Parity places it
        // as geo's point location would where rings only touch each other.
        (_, Contact::Apart) if prepared.is_sound(other) => {
            match prepared.position(ring[0].x, ring[0].y) {
                CoordPos::Inside => predicate.polygon_in_interior(),
                _ => predicate.polygon_in_exterior(),
            }
        }
        (Cleanliness::Clean, Contact::Proper) => predicate.polygons_cross(),
        // Where rings touch, a proper crossing says the same unless it is at a touch point:
        // then some vertex near lies on the convex polygon's boundary.
        (Cleanliness::Touching, Contact::Proper)
            if !prepared
                .edges_near(bbox)
                .any(|(u, v, _)| on_ring(ring, u) || on_ring(ring, v)) =>
        {
            predicate.polygons_cross()
        }
        (Cleanliness::Clean | Cleanliness::Touching, Contact::Proper | Contact::Other) => {
            (predicate == Predicate::Intersects).then_some(true)
        }
        // Any other polygon: only where none of its rings comes near is the answer sure,
        // and its side is found as `Relate` finds it, by geo's own point location.
        (Cleanliness::Unsound, Contact::Apart) if prepared.finds_every_edge() => {
            match other.coordinate_position(&ring[0]) {
                CoordPos::Inside => predicate.polygon_in_interior(),
                CoordPos::Outside => predicate.polygon_in_exterior(),
                CoordPos::OnBoundary => None,
            }
        }
        _ => None,
    }
}

/// Whether `c` lies on the closed ring `ring`.
fn on_ring(ring: &[geo::Coord], c: geo::Coord) -> bool {
    ring.windows(2).any(|w| on_segment(w[0], w[1], c))
}

/// The ring, box and turn of a polygon of one strictly convex ring.
fn convex_ring(g: &geo::Geometry) -> Option<(&[geo::Coord], geo::Rect, geo::kernels::Orientation)> {
    let geo::Geometry::Polygon(p) = g else {
        return None;
    };
    let ring = &p.exterior().0;
    if !p.interiors().is_empty() || !is_convex_ring(ring) {
        return None;
    }
    Some((ring, ring_box(ring), convex_turn(ring)))
}

/// The box of a ring that has a point.
fn ring_box(ring: &[geo::Coord]) -> geo::Rect {
    let (mut min, mut max) = (ring[0], ring[0]);
    for c in ring {
        (min.x, min.y) = (min.x.min(c.x), min.y.min(c.y));
        (max.x, max.y) = (max.x.max(c.x), max.y.max(c.y));
    }
    geo::Rect::new(min, max)
}

/// The way every turn of a strictly convex closed ring goes.
fn convex_turn(ring: &[geo::Coord]) -> geo::kernels::Orientation {
    RobustKernel::orient2d(ring[ring.len() - 2], ring[0], ring[1])
}

/// Buffers reused from row to row.
#[derive(Default)]
struct Scratch {
    ring: Vec<geo::Coord>,
    tally: Vec<(u32, u32, u32)>,
}

/// The probe of one partition pair: the indexed side, and what is asked of it.
struct Probe<'a> {
    right: &'a PartitionIndexed,
    right_first_row: u64,
    predicate: Predicate,
}

impl Probe<'_> {
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

    /// As [`Probe::grid_point`], through the R-tree, for predicates that reach `reach`
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
        let mut scratch = Scratch::default();
        for i in 0..array.len() {
            if array.is_null(i) {
                continue;
            }
            let row = left_first_row + i as u64;
            match (geometry::point_xy(array.value(i)), grid) {
                (Some((x, y)), Some(grid)) => self.grid_point(grid, x, y, |j| found.push((row, j))),
                (Some((x, y)), None) => self.tree_point(x, y, reach, |j| found.push((row, j))),
                (None, _) => {
                    self.geometry(array.value(i), row, reach, grid, &mut scratch, found)?
                }
            }
        }
        Ok(())
    }

    /// The matches of a left geometry other than a point, into `found` in right row
    /// order.
    fn geometry(
        &self,
        wkb: &[u8],
        row: u64,
        reach: f64,
        grid: Option<&Grid>,
        scratch: &mut Scratch,
        found: &mut Vec<(u64, u64)>,
    ) -> Result<()> {
        if let Some(grid) = grid.filter(|_| reach == 0.0) {
            if geometry::single_ring(wkb, &mut scratch.ring)
                && is_convex_ring(&scratch.ring)
                && self.convex_polygon(grid, row, scratch, found)
            {
                return Ok(());
            }
        }
        self.decoded(wkb, row, reach, found)
    }

    /// A left polygon of one convex ring (in `scratch.ring`), placed through the grid:
    /// right polygons whose cells around it are each wholly inside or wholly outside are
    /// decided without a test, the others tested exactly. `false` when the grid cannot
    /// place it.
    fn convex_polygon(
        &self,
        grid: &Grid,
        row: u64,
        scratch: &mut Scratch,
        found: &mut Vec<(u64, u64)>,
    ) -> bool {
        let ring = &scratch.ring;
        let (bbox, turn) = (ring_box(ring), convex_turn(ring));
        let Some(cells) = grid.cover(bbox, &mut scratch.tally) else {
            return false;
        };
        let mut exact: Option<(geo::Geometry, Option<Plain>)> = None;
        for &(j, listed, inside) in &scratch.tally {
            let j = j as usize;
            let Some(rg) = &self.right.geometries[j] else {
                continue;
            };
            // Only a sound polygon's cells are placed (see `Grid`): an unsound one has no
            // cell inside, and so takes the edge test.
            let known = match &self.right.prepared[j] {
                _ if inside == cells => self.predicate.polygon_in_interior(),
                _ if inside == listed => self.predicate.polygon_partly_inside(),
                Some(pr) => convex_against(self.predicate, ring, bbox, turn, rg, pr),
                None => None,
            };
            let matched = known.unwrap_or_else(|| {
                let (g, plain) = exact.get_or_insert_with(|| {
                    let g = geo::Geometry::Polygon(geo::Polygon::new(
                        geo::LineString(ring.clone()),
                        Vec::new(),
                    ));
                    let plain = Plain::new(&g, usize::MAX);
                    (g, plain)
                });
                let fast = match (&self.right.prepared[j], plain) {
                    (Some(pr), Some(pl)) => relate_areal(self.predicate, g, pl, rg, pr),
                    _ => None,
                };
                fast.unwrap_or_else(|| self.predicate.test(g, rg))
            });
            if matched {
                found.push((row, self.right_first_row + j as u64));
            }
        }
        true
    }

    /// The matches of a left geometry decoded from `wkb`, its candidates from the R-tree.
    fn decoded(&self, wkb: &[u8], row: u64, reach: f64, found: &mut Vec<(u64, u64)>) -> Result<()> {
        let g = geometry::from_wkb(wkb, row)?;
        let Some(b) = geometry::bounds(&g) else {
            return Ok(());
        };
        let env = AABB::from_corners(
            [b.min().x - reach, b.min().y - reach],
            [b.max().x + reach, b.max().y + reach],
        );
        let start = found.len();
        // A small left polygon walks its edges; a larger one is prepared (when a first
        // polygon is met) so that its edges too are looked up through bands. Either way
        // the smaller side is walked whole.
        let plain = Plain::new(&g, SMALL_POLYGON_EDGES);
        let mut prepared: Option<Option<PreparedPolygon>> = None;
        for (j, rg) in self.right.candidates_in(&env) {
            // A small convex right polygon against a large left one: the left one's edges
            // near it decide, as for a small convex left polygon, with the sides swapped.
            let swapped = match reach {
                0.0 => convex_ring(rg).and_then(|(ring, bbox, turn)| {
                    let pl = prepared
                        .get_or_insert_with(|| PreparedPolygon::new(&g))
                        .as_ref()?;
                    convex_against(self.predicate.converse(), ring, bbox, turn, &g, pl)
                }),
                _ => None,
            };
            let fast = match (&self.right.prepared[j], reach) {
                _ if swapped.is_some() => swapped,
                (Some(pr), 0.0) => match &plain {
                    Some(pl) => relate_areal(self.predicate, &g, pl, rg, pr),
                    None => prepared
                        .get_or_insert_with(|| PreparedPolygon::new(&g))
                        .as_ref()
                        .and_then(|pl| relate_areal(self.predicate, &g, pl, rg, pr)),
                },
                _ => None,
            };
            // A pair the edges leave undecided (a polygon whose rings cross) against a
            // much larger clean one: `Relate` on the larger one's outline near the other.
            let fast = fast
                .or_else(|| {
                    let pr = self.right.prepared[j].as_ref()?;
                    if !clip::worth_cutting(&g, rg) {
                        return None;
                    }
                    clip::test(self.predicate, &g, rg, pr.clean_outline(rg)?)
                })
                .or_else(|| {
                    if !clip::worth_cutting(rg, &g) {
                        return None;
                    }
                    let pl = prepared
                        .get_or_insert_with(|| PreparedPolygon::new(&g))
                        .as_ref()?;
                    clip::test(self.predicate.converse(), rg, &g, pl.clean_outline(&g)?)
                });
            if fast.unwrap_or_else(|| self.predicate.test(&g, rg)) {
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
        let mut scratch = Scratch::default();
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
                    None => {
                        self.geometry(array.value(i), row, 0.0, Some(grid), &mut scratch, others)?
                    }
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

#[cfg(all(test, feature = "datagen"))]
mod tests {
    use super::*;
    use crate::io::{read_shapefile, ShapefileOptions};
    use crate::GeoFrame;
    use geo::Geometry;

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
        let index = PartitionIndexed::build(&counties.partitions()[0], 0).unwrap();
        let grid = index.grid().unwrap();
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
            let probe = Probe {
                right: &index,
                right_first_row: 7,
                predicate,
            };
            let (mut spread, mut others, mut rows) = (Vec::new(), Vec::new(), Vec::new());
            probe
                .spread_points(left.geometry_array(), 5, grid, &mut spread, &mut others)
                .unwrap();
            probe
                .rows(left.geometry_array(), 5, Some(grid), &mut rows)
                .unwrap();
            assert!(others.is_empty());
            assert!(rows.len() > 100, "{predicate:?}: {}", rows.len());
            assert_eq!(spread, rows, "{predicate:?}");
        }
    }
}
