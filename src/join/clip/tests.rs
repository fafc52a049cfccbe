//! The cut against geo's `Relate` (and `Intersects`) on the whole large polygon: small
//! shapes of every kind, invalid ones included, against large clean polygons on the same
//! integer grid, so that shared edges, touching corners and crossings are common.

use super::outline::RingTree;
use super::*;
use crate::join::areal::tests::{predicates, shape};
use crate::join::index::clean::Cleanliness;
use crate::join::index::prepared::PreparedPolygon;
use geo::{polygon, LineString, Polygon, Rect, Translate, Winding};
use proptest::prelude::*;

/// A skyline: unit columns of the given heights standing on y = 0, every unit of its
/// outline a vertex, with unit holes where a column and its neighbours rise at least two
/// above the hole's top.
fn skyline(x0: i32, heights: &[i32], holes: &[(usize, i32)]) -> Polygon {
    let x0 = x0 as f64;
    let mut ring = Vec::new();
    for x in (0..=heights.len()).rev() {
        ring.push((x0 + x as f64, 0.0));
    }
    for (x, &h) in heights.iter().enumerate() {
        let previous = if x == 0 { 0 } else { heights[x - 1] };
        let (from, to) = (previous.min(h), previous.max(h));
        let rise: Vec<i32> = if previous < h {
            (from..=to).collect()
        } else {
            (from..=to).rev().collect()
        };
        for y in rise {
            ring.push((x0 + x as f64, y as f64));
        }
        ring.push((x0 + x as f64 + 1.0, h as f64));
    }
    for y in (0..=*heights.last().unwrap_or(&0)).rev() {
        ring.push((x0 + heights.len() as f64, y as f64));
    }
    ring.dedup();
    let holes = holes
        .iter()
        .filter(|&&(x, y)| {
            let low = heights
                .get(x.saturating_sub(1)..(x + 2).min(heights.len()))
                .and_then(|h| h.iter().min());
            x > 0 && y >= 1 && low.is_some_and(|&low| y + 2 < low)
        })
        .map(|&(x, y)| {
            let (x, y) = (x0 + x as f64, y as f64);
            LineString::from(vec![
                (x, y),
                (x + 1.0, y),
                (x + 1.0, y + 1.0),
                (x, y + 1.0),
                (x, y),
            ])
        })
        .collect();
    Polygon::new(LineString::from(ring), holes)
}

/// Large clean polygons: a skyline (with holes), two skylines side by side as one
/// multipolygon, a skyline with unit islands above it, and a skyline whose base is one long edge (whose cut may lose the ring's
/// winding order).
fn large() -> impl Strategy<Value = Geometry> {
    let heights = proptest::collection::vec(1i32..9, 120..140);
    let holes = proptest::collection::vec((0usize..140, 1i32..6), 0..12);
    prop_oneof![
        (heights.clone(), holes.clone())
            .prop_map(|(h, holes)| Geometry::Polygon(skyline(-4, &h, &holes))),
        (heights.clone(), holes).prop_map(|(h, holes)| {
            let (left, right) = h.split_at(h.len() / 2);
            Geometry::MultiPolygon(MultiPolygon(vec![
                skyline(-4, left, &holes),
                skyline(-3 + left.len() as i32, right, &[]),
            ]))
        }),
        (
            heights.clone(),
            proptest::collection::btree_set((-2i32..65, 0i32..2), 1..40)
        )
            .prop_map(|(h, islands)| {
                // Unit islands above the skyline, apart from each other: a small shape may
                // cover some while the rest of the multipolygon lies far away.
                let mut parts = vec![skyline(-4, &h, &[])];
                for (x, y) in islands {
                    let (x, y) = (2.0 * x as f64, 10.0 + 2.0 * y as f64);
                    parts.push(Rect::new((x, y), (x + 1.0, y + 1.0)).to_polygon());
                }
                Geometry::MultiPolygon(MultiPolygon(parts))
            }),
        heights.prop_map(|h| {
            let mut p = skyline(-4, &h, &[]);
            let base = h.len() as f64 - 4.0;
            p.exterior_mut(|ring| ring.0.retain(|c| c.y != 0.0 || c.x == -4.0 || c.x == base));
            Geometry::Polygon(p)
        }),
    ]
}

/// `small <predicate> large` through the cut, `large`'s outline prepared here.
fn cut_test(predicate: Predicate, small: &Geometry, large: &Geometry) -> Option<bool> {
    test(predicate, small, large, &Outline::new(polygons_of(large)))
}

/// The cut of `ring` to `window`, edge by edge: the oracle of the tree's.
fn cut_edge_by_edge(ring: &LineString, window: &Window) -> Option<Option<LineString>> {
    let coords = &ring.0;
    let Some(&first) = coords.first() else {
        return Some(None);
    };
    let near =
        |p: Coord, q: Coord| window.meets([p.x.min(q.x), p.y.min(q.y), p.x.max(q.x), p.y.max(q.y)]);
    if !coords.windows(2).any(|w| near(w[0], w[1])) {
        let mut steps = 0;
        for w in coords.windows(2) {
            steps += window.step(w[0], w[1])?;
        }
        if steps == 0 {
            return Some(None);
        }
    }
    let kept = super::outline::kept_anyway(coords);
    let mut out = vec![first];
    let mut run: Option<(i32, i32)> = None;
    for (e, w) in coords.windows(2).enumerate() {
        let (p, q) = (w[0], w[1]);
        if kept.contains(&e) || near(p, q) {
            if let Some((start, steps)) = run.take() {
                super::outline::walk_round(window, start, steps, &mut out);
                out.push(p);
            }
            out.push(q);
        } else {
            let step = window.step(p, q)?;
            run.get_or_insert((window.region(p)?, 0)).1 += step;
        }
    }
    if let Some((start, steps)) = run {
        super::outline::walk_round(window, start, steps, &mut out);
        out.push(*coords.last()?);
    }
    let cut = LineString(out);
    (cut.winding_order() == ring.winding_order()).then_some(Some(cut))
}

fn is_clean(g: &Geometry) -> bool {
    PreparedPolygon::new(g)
        .is_some_and(|p| matches!(p.cleanliness(g), Cleanliness::Clean | Cleanliness::Touching))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn the_cut_answers_as_relate_on_the_whole(
        small in shape(),
        (dx, dy) in (-6i32..130, -8i32..10),
        large in large(),
    ) {
        prop_assume!(is_clean(&large));
        let small = small.translate(dx as f64, dy as f64);
        // The tree cuts each ring as the edge-by-edge walk does.
        if let Some(window) = crate::geometry::bounds(&small).and_then(Window::around) {
            for p in polygons_of(&large) {
                for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                    prop_assert_eq!(
                        RingTree::new(ring).cut(ring, &window),
                        cut_edge_by_edge(ring, &window)
                    );
                }
            }
        }
        for predicate in predicates() {
            if let Some(answer) = cut_test(predicate, &small, &large) {
                prop_assert_eq!(
                    answer,
                    predicate.test(&small, &large),
                    "{:?}: {:?} against the large polygon", predicate, small
                );
            }
        }
    }
}

/// A bow tie (its ring crosses itself) standing on a skyline, against it: the cut answers,
/// and as `Relate` on the whole does.
#[test]
fn a_bow_tie_on_a_skyline_is_related_through_the_cut() {
    let heights = vec![5; 200];
    let large = Geometry::Polygon(skyline(0, &heights, &[]));
    assert!(is_clean(&large));
    // Crossing itself on the skyline's top: its lower half inside, its upper half above.
    let bow_tie: Geometry =
        polygon![(x: 30., y: 4.), (x: 31., y: 6.), (x: 31., y: 4.), (x: 30., y: 6.)].into();
    // Inside, touching the base at two points. geo labels the ring's edges by one winding
    // order, so one lobe's inside counts as outside: `Relate` says 21210F212, overlaps.
    let inside: Geometry =
        polygon![(x: 31.2, y: 0.), (x: 31.8, y: 2.), (x: 31.8, y: 0.), (x: 31.2, y: 2.)].into();
    for (small, expected) in [
        (
            &bow_tie,
            [true, false, false, false, false, false, false, true, false],
        ),
        (
            &inside,
            [true, false, false, false, false, false, false, true, false],
        ),
    ] {
        for (predicate, want) in predicates().into_iter().zip(expected) {
            assert_eq!(
                predicate.test(small, &large),
                want,
                "{predicate:?} by Relate: {:?}",
                small.relate(&large)
            );
            assert_eq!(
                cut_test(predicate, small, &large),
                Some(want),
                "{predicate:?} by the cut"
            );
        }
    }
}

/// The cut begins at the ring's first vertex, keeps the ring's box and winding order, and
/// winds round the window as the ring does; a ring that neither comes near the window nor
/// winds round it is dropped.
#[test]
fn the_cut_winds_round_the_window_as_the_ring() {
    use geo::algorithm::coordinate_position::{CoordPos, CoordinatePosition};
    use geo::BoundingRect;
    let window = Window {
        min: Coord { x: 0.0, y: 0.0 },
        max: Coord { x: 1.0, y: 1.0 },
    };
    // A 64-gon round the window, far from it: its box's four vertices (and the least
    // one's neighbours) are kept, the rest replaced by the window's corners.
    let around = LineString::from(
        (0..=64)
            .map(|k| {
                let t = (k % 64) as f64 * std::f64::consts::TAU / 64.0;
                (0.5 + 5.0 * t.cos(), 0.5 + 5.0 * t.sin())
            })
            .collect::<Vec<_>>(),
    );
    let cut = RingTree::new(&around)
        .cut(&around, &window)
        .unwrap()
        .unwrap();
    assert_eq!(cut.0.first(), around.0.first());
    assert!(cut.0.len() < 20, "{cut:?}");
    assert!(cut.is_ccw());
    assert_eq!(cut.bounding_rect(), around.bounding_rect());
    for c in [(0.01, 0.01), (0.5, 0.5), (0.99, 0.3)] {
        let inside =
            |ring: &LineString| Polygon::new(ring.clone(), vec![]).coordinate_position(&c.into());
        assert_eq!(inside(&cut), CoordPos::Inside);
        assert_eq!(inside(&around), CoordPos::Inside);
    }
    // A square beside the window: nothing is left of it.
    let beside = LineString::from(vec![
        (3.0, 0.0),
        (5.0, 0.0),
        (5.0, 2.0),
        (3.0, 2.0),
        (3.0, 0.0),
    ]);
    assert_eq!(RingTree::new(&beside).cut(&beside, &window), Some(None));
}

/// A square over one island of a multipolygon whose other part, a skyline, lies far away:
/// only the island is left of the multipolygon near the square, yet the square does not
/// contain or cover the multipolygon, and the two overlap only if the square leaves the
/// island.
#[test]
fn what_the_cut_drops_still_lies_outside_the_small_side() {
    let island = Rect::new((50.0, 30.0), (51.0, 31.0)).to_polygon();
    let large = Geometry::MultiPolygon(MultiPolygon(vec![
        skyline(0, &[5; 200], &[]),
        island.clone(),
    ]));
    assert!(is_clean(&large));
    let square: Geometry = Rect::new((49.0, 29.0), (52.0, 32.0)).to_polygon().into();
    let expected = [true, false, false, false, false, false, false, true, false];
    for (predicate, want) in predicates().into_iter().zip(expected) {
        assert_eq!(
            predicate.test(&square, &large),
            want,
            "{predicate:?} by Relate"
        );
        assert_eq!(
            cut_test(predicate, &square, &large),
            Some(want),
            "{predicate:?} by the cut"
        );
    }
}

/// A large polygon's boundary passing through the window with a zigzag whose tip pokes out
/// of it, into the polygon, beyond the path that replaces the rest of the ring: that tip is
/// the cut's least vertex, where it turns against the ring. The edges at the ring's own
/// least vertex, kept, give the cut the ring's winding order, so the cut still answers.
#[test]
fn a_zigzag_poking_out_of_the_window_keeps_the_winding_order() {
    let mut ring = vec![
        (0.5, -100.0),
        (0.5, 0.3),
        (-0.5, 0.5),
        (0.5, 0.7),
        (0.5, 100.0),
    ];
    ring.extend((0..=300).map(|k| (-100.0, 100.0 - k as f64 * 200.0 / 300.0)));
    ring.push((0.5, -100.0));
    let large = Geometry::Polygon(Polygon::new(LineString::from(ring), vec![]));
    assert!(is_clean(&large));
    for small in [
        Rect::new((0.0, 0.0), (1.0, 1.0)).to_polygon(),
        polygon![(x: 0., y: 0.), (x: 1., y: 1.), (x: 1., y: 0.), (x: 0., y: 1.)],
    ] {
        let small = Geometry::Polygon(small);
        for predicate in predicates() {
            assert_eq!(
                cut_test(predicate, &small, &large),
                Some(predicate.test(&small, &large)),
                "{predicate:?}"
            );
        }
    }
}
