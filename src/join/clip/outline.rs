//! A large polygon's rings prepared for cutting down to a window, once per polygon: over
//! each ring's edges a binary tree of boxes, so that the edges near a window are found,
//! and the runs of edges away from it stepped over whole, in time that grows with the
//! edges near the window and the log of the ring's size. A run whose box misses the window
//! lies in one half-plane beside it, so the steps it takes round the window are those from
//! its first vertex to its last.

use geo::winding_order::WindingOrder;
use geo::{Coord, LineString, Polygon, Winding};

use super::Window;

/// The rings of a polygon or multipolygon, prepared for cutting (see the module's comment).
#[derive(Debug, Clone)]
pub(crate) struct Outline {
    /// By polygon, its exterior then its holes.
    polygons: Vec<Vec<RingTree>>,
}

impl Outline {
    /// The outline of `polygons`, in their order.
    pub(crate) fn new(polygons: &[Polygon]) -> Outline {
        Outline {
            polygons: polygons
                .iter()
                .map(|p| {
                    std::iter::once(p.exterior())
                        .chain(p.interiors())
                        .map(RingTree::new)
                        .collect()
                })
                .collect(),
        }
    }

    /// Whether every polygon's exterior lies in the window.
    pub(super) fn within(&self, window: &Window) -> bool {
        self.polygons
            .iter()
            .all(|rings| rings.first().is_none_or(|r| window.holds(r.boxes[1])))
    }

    /// Polygon `k` (which is `p`) with its edges away from `window` replaced along the
    /// window's border; `Some(None)` when its exterior neither comes near the window nor
    /// winds round it, `None` when the cut cannot be used.
    pub(super) fn polygon_near(
        &self,
        k: usize,
        p: &Polygon,
        window: &Window,
    ) -> Option<Option<Polygon>> {
        let trees = self.polygons.get(k)?;
        let rings: Vec<&LineString> = std::iter::once(p.exterior()).chain(p.interiors()).collect();
        if rings.len() != trees.len() {
            return None;
        }
        let Some(exterior) = trees[0].cut(rings[0], window)? else {
            return Some(None);
        };
        let mut holes = Vec::new();
        for (tree, hole) in trees[1..].iter().zip(&rings[1..]) {
            if let Some(cut) = tree.cut(hole, window)? {
                holes.push(cut);
            }
        }
        Some(Some(Polygon::new(exterior, holes)))
    }
}

/// Where a ring meets a window: an edge near it (or kept anyway), or a run of edges, from
/// one vertex to another, whose box misses it.
#[derive(Debug, Clone, Copy)]
enum Piece {
    Edge(usize),
    Run(usize, usize),
}

/// One ring's edge boxes in a binary tree: node 1 the root, node `k`'s children `2k` and
/// `2k + 1`, leaf `leaves + e` edge `e`.
#[derive(Debug, Clone)]
pub(super) struct RingTree {
    edges: usize,
    leaves: usize,
    /// `[min x, min y, max x, max y]` by node; empty leaves hold an inverted box.
    boxes: Vec<[f64; 4]>,
    /// Edges kept wherever they lie (`kept_anyway`), ascending.
    kept: Vec<usize>,
    winding: Option<WindingOrder>,
}

impl RingTree {
    pub(super) fn new(ring: &LineString) -> RingTree {
        let coords = &ring.0;
        let edges = coords.len().saturating_sub(1);
        let leaves = edges.max(1).next_power_of_two();
        let mut boxes = vec![
            [
                f64::INFINITY,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NEG_INFINITY
            ];
            2 * leaves
        ];
        for (e, w) in coords.windows(2).enumerate() {
            let (p, q) = (w[0], w[1]);
            boxes[leaves + e] = [p.x.min(q.x), p.y.min(q.y), p.x.max(q.x), p.y.max(q.y)];
        }
        for k in (1..leaves).rev() {
            let (a, b) = (boxes[2 * k], boxes[2 * k + 1]);
            boxes[k] = [
                a[0].min(b[0]),
                a[1].min(b[1]),
                a[2].max(b[2]),
                a[3].max(b[3]),
            ];
        }
        RingTree {
            edges,
            leaves,
            boxes,
            kept: kept_anyway(coords),
            winding: ring.winding_order(),
        }
    }

    /// The pieces of the ring in order, edges in `kept` among the edges if `with_kept`.
    fn pieces(&self, window: &Window, with_kept: bool, out: &mut Vec<Piece>) {
        self.visit(1, 0, self.leaves, window, with_kept, out);
    }

    fn visit(
        &self,
        node: usize,
        first: usize,
        end: usize,
        window: &Window,
        with_kept: bool,
        out: &mut Vec<Piece>,
    ) {
        if first >= self.edges {
            return;
        }
        let end = end.min(self.edges);
        let holds_kept = with_kept && self.kept.iter().any(|&e| first <= e && e < end);
        if !holds_kept && !window.meets(self.boxes[node]) {
            // Not merged with a run before it, which may lie beside another side.
            out.push(Piece::Run(first, end));
        } else if node >= self.leaves {
            out.push(Piece::Edge(first));
        } else {
            let middle = first + (self.leaves >> (usize::BITS - 1 - node.leading_zeros())) / 2;
            self.visit(2 * node, first, middle, window, with_kept, out);
            self.visit(2 * node + 1, middle, end, window, with_kept, out);
        }
    }

    /// The ring (which this tree was built from) cut down to `window`, starting at its first
    /// vertex as geo's `Intersects` looks at it: the edges near the window and those kept
    /// anyway as they are, each run of other edges replaced by the window's corners it
    /// passes. `Some(None)` for a ring that neither comes near the window nor winds round
    /// it, `None` when the cut changed its winding order or a run could not be followed.
    ///
    /// The edges kept anyway are those at the ring's least vertex (by x, then y), where geo
    /// reads a ring's winding order, and at the vertices on its box: the cut's other vertices
    /// are the ring's or the window's corners (beyond that vertex), so the cut keeps the
    /// ring's winding order and box. Without them, the least vertex of the cut can be the
    /// tip of a zigzag that pokes out of the window across the path that replaced a run,
    /// where the cut turns the other way.
    pub(super) fn cut(&self, ring: &LineString, window: &Window) -> Option<Option<LineString>> {
        let coords = &ring.0;
        let Some(&first) = coords.first() else {
            return Some(None);
        };
        let mut pieces = Vec::new();
        self.pieces(window, false, &mut pieces);
        if pieces.iter().all(|p| matches!(p, Piece::Run(..))) {
            let mut steps = 0;
            for piece in &pieces {
                if let Piece::Run(from, to) = *piece {
                    steps += window.step(*coords.get(from)?, *coords.get(to)?)?;
                }
            }
            if steps == 0 {
                return Some(None);
            }
        }
        pieces.clear();
        self.pieces(window, true, &mut pieces);
        let mut out = vec![first];
        // The open run of edges away from the window: the region it started in, and the
        // steps it has taken round the window since.
        let mut run: Option<(i32, i32)> = None;
        for piece in pieces {
            match piece {
                Piece::Edge(e) => {
                    let (p, q) = (*coords.get(e)?, *coords.get(e + 1)?);
                    if let Some((start, steps)) = run.take() {
                        walk_round(window, start, steps, &mut out);
                        out.push(p);
                    }
                    out.push(q);
                }
                Piece::Run(from, to) => {
                    let (p, q) = (*coords.get(from)?, *coords.get(to)?);
                    let steps = window.step(p, q)?;
                    run.get_or_insert((window.region(p)?, 0)).1 += steps;
                }
            }
        }
        if let Some((start, steps)) = run {
            walk_round(window, start, steps, &mut out);
            out.push(*coords.last()?);
        }
        let cut = LineString(out);
        (cut.winding_order() == self.winding).then_some(Some(cut))
    }
}

/// The edges of the closed ring `coords` that its cut keeps wherever they lie (see
/// `RingTree::cut`): from the least vertex's previous distinct vertex to its next, as geo's
/// `winding_order` finds them, and one from each vertex on the ring's box. Ascending.
pub(super) fn kept_anyway(coords: &[Coord]) -> Vec<usize> {
    if coords.len() < 2 {
        return Vec::new();
    }
    // Vertex `m` is vertex 0 again.
    let m = coords.len() - 1;
    let extreme = |key: fn(&Coord, &Coord) -> std::cmp::Ordering| {
        (0..m)
            .min_by(|&a, &b| key(&coords[a], &coords[b]))
            .unwrap_or(0)
    };
    let least = extreme(|p, q| p.x.total_cmp(&q.x).then(p.y.total_cmp(&q.y)));
    let (mut next, mut previous) = ((least + 1) % m, (least + m - 1) % m);
    while next != least && coords[next] == coords[least] {
        next = (next + 1) % m;
    }
    while previous != least && coords[previous] == coords[least] {
        previous = (previous + m - 1) % m;
    }
    let mut kept: Vec<usize> = (0..(next + m - previous) % m)
        .map(|k| (previous + k) % m)
        .chain([
            extreme(|p, q| p.y.total_cmp(&q.y)),
            extreme(|p, q| q.x.total_cmp(&p.x)),
            extreme(|p, q| q.y.total_cmp(&p.y)),
        ])
        .collect();
    kept.sort_unstable();
    kept.dedup();
    kept
}

/// The window's corners passed on `steps` steps round it from region `start`.
pub(super) fn walk_round(window: &Window, start: i32, steps: i32, out: &mut Vec<Coord>) {
    let direction = steps.signum();
    for k in 1..=steps.abs() {
        let region = start + direction * k;
        if region.rem_euclid(2) == 1 {
            out.push(window.corner(region));
        }
    }
}
