//! Exact union of a polygonal coverage: polygons that meet only along shared edges with
//! identical vertices (counties from a topology, cadastral parcels, ...). Each edge shared
//! by two neighbours appears once in each direction and cancels; what is left is the
//! boundary of the union, with every coordinate as it was in the input (GEOS calls this
//! coverage union). No snapping, so areas are kept to the last bits.

use std::collections::HashMap;

use geo::{Area, Coord, InteriorPoint, LineString, MultiPolygon, Polygon};

/// A coordinate as exact bits (`-0.0` folded into `0.0`).
type Key = (u64, u64);

fn key(c: Coord) -> Key {
    ((c.x + 0.0).to_bits(), (c.y + 0.0).to_bits())
}

/// The union of `polygons` (shells counter-clockwise, holes clockwise) by cancelling shared
/// edges, or `None` when what is left does not close into rings (the input is not a clean
/// coverage). The caller checks the result against an overlay union.
pub(crate) fn coverage_union<'a>(
    polygons: impl Iterator<Item = &'a Polygon>,
) -> Option<MultiPolygon> {
    let mut coords: HashMap<Key, Coord> = HashMap::new();
    let mut edges: HashMap<(Key, Key), i64> = HashMap::new();
    for p in polygons {
        for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
            for w in ring.0.windows(2) {
                let (a, b) = (key(w[0]), key(w[1]));
                if a == b {
                    continue;
                }
                coords.entry(a).or_insert(w[0]);
                coords.entry(b).or_insert(w[1]);
                match edges.get_mut(&(b, a)) {
                    Some(n) if *n > 0 => *n -= 1,
                    _ => *edges.entry((a, b)).or_default() += 1,
                }
            }
        }
    }
    // What is left: each remaining directed edge, as many times as it remains.
    let mut outgoing: HashMap<Key, Vec<Key>> = HashMap::new();
    let mut left = 0usize;
    for (&(a, b), &n) in &edges {
        for _ in 0..n.max(0) {
            outgoing.entry(a).or_default().push(b);
            left += 1;
        }
    }
    // Sorted, so the rings come out the same in every run (hash maps iterate randomly).
    for out in outgoing.values_mut() {
        out.sort_unstable();
    }
    let mut starts: Vec<Key> = outgoing.keys().copied().collect();
    starts.sort_unstable();
    let mut rings: Vec<LineString> = Vec::new();
    for start in starts {
        while let Some(first) = outgoing.get_mut(&start).and_then(Vec::pop) {
            let mut ring = vec![coords[&start], coords[&first]];
            let (mut prev, mut at) = (start, first);
            while at != start {
                let here = coords[&at];
                let back = coords[&prev];
                let next = {
                    let out = outgoing.get_mut(&at)?;
                    // The next edge clockwise from the way back keeps the face on the left
                    // and splits rings that touch at a point.
                    let a_back = (back.y - here.y).atan2(back.x - here.x);
                    let angle = |to: &Key| {
                        let t = coords[to];
                        let a_to = (t.y - here.y).atan2(t.x - here.x);
                        let mut cw = a_back - a_to;
                        while cw <= 0.0 {
                            cw += std::f64::consts::TAU;
                        }
                        cw
                    };
                    let k = (0..out.len())
                        .min_by(|&i, &j| angle(&out[i]).total_cmp(&angle(&out[j])))?;
                    out.swap_remove(k)
                };
                ring.push(coords[&next]);
                prev = at;
                at = next;
                left = left.checked_sub(1)?;
            }
            left = left.checked_sub(1)?;
            rings.push(LineString::new(ring));
        }
    }
    if left != 0 {
        return None;
    }
    // Counter-clockwise rings are shells, clockwise ones holes of the smallest shell around them.
    let (mut shells, mut holes): (Vec<(Polygon, f64)>, Vec<LineString>) = (Vec::new(), Vec::new());
    for r in rings {
        let p = Polygon::new(r, vec![]);
        let a = p.signed_area();
        if a > 0.0 {
            shells.push((p, a));
        } else if a < 0.0 {
            holes.push(p.exterior().clone());
        }
    }
    shells.sort_by(|a, b| a.1.total_cmp(&b.1));
    let mut interiors: Vec<Vec<LineString>> = vec![Vec::new(); shells.len()];
    for hole in holes {
        let inside = Polygon::new(hole.clone(), vec![]).interior_point()?;
        let k = shells
            .iter()
            .position(|(s, _)| geo::Contains::contains(s, &inside))?;
        interiors[k].push(hole);
    }
    Some(MultiPolygon::new(
        shells
            .into_iter()
            .zip(interiors)
            .map(|((s, _), holes)| Polygon::new(s.exterior().clone(), holes))
            .collect(),
    ))
}
