//! Property tests of the edge-based predicates against geo's `Relate` (and geo's
//! `Intersects` where it decides), on valid, touching and invalid polygons.

use super::*;
use crate::join::index::edges::Plain;
use crate::join::index::prepared::PreparedPolygon;
use geo::{polygon, LineString, MultiPolygon, Polygon, Validation};
use proptest::prelude::*;

/// The ring through `points`, moved by `(x, y)`.
fn shifted_ring(x: i32, y: i32, points: &[(f64, f64)]) -> LineString {
    let (x, y) = (x as f64, y as f64);
    LineString::from(
        points
            .iter()
            .map(|&(a, b)| (x + a, y + b))
            .collect::<Vec<_>>(),
    )
}

/// Shapes on a small integer grid, where shared edges, touching corners, holes and
/// equal rings are common.
pub(crate) fn shape() -> impl Strategy<Value = Geometry> {
    let rect = (0i32..8, 0i32..8, 1i32..6, 1i32..6)
        .prop_map(|(x, y, w, h)| Rect::new((x as f64, y as f64), ((x + w) as f64, (y + h) as f64)));
    let star = (0i32..10, 0i32..10, proptest::collection::vec(1i32..6, 3..8)).prop_map(
        |(cx, cy, radii)| {
            let n = radii.len();
            let mut pts: Vec<(f64, f64)> = radii
                .iter()
                .enumerate()
                .map(|(k, &r)| {
                    let t = k as f64 * std::f64::consts::TAU / n as f64;
                    (
                        (cx as f64 + r as f64 * t.cos()).round(),
                        (cy as f64 + r as f64 * t.sin()).round(),
                    )
                })
                .collect();
            pts.dedup();
            Polygon::new(LineString::from(pts), vec![])
        },
    );
    prop_oneof![
        rect.clone().prop_map(|r| Geometry::Polygon(r.to_polygon())),
        star.prop_map(Geometry::Polygon),
        (rect.clone(), 0i32..3, 0i32..3).prop_map(|(r, dx, dy)| {
            // A rectangle with a unit hole inside it.
            let (x, y) = (r.min().x + 1.0 + dx as f64, r.min().y + 1.0 + dy as f64);
            let hole = Rect::new((x, y), (x + 1.0, y + 1.0))
                .to_polygon()
                .exterior()
                .clone();
            Geometry::Polygon(Polygon::new(r.to_polygon().exterior().clone(), vec![hole]))
        }),
        (rect.clone(), rect).prop_map(|(a, b)| Geometry::MultiPolygon(MultiPolygon::new(vec![
            a.to_polygon(),
            b.to_polygon()
        ]))),
        (0i32..8, 0i32..8, 0usize..4).prop_map(|(x, y, k)| {
            // Rings that touch at a point: a shell pinched round an inverted hole, a
            // hole with a vertex on its shell's edge, a figure eight, a hole touching
            // its shell at two points (its interior falls in two).
            let ring = |points: &[(f64, f64)]| shifted_ring(x, y, points);
            let square = ring(&[(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0)]);
            Geometry::Polygon(match k {
                0 => Polygon::new(
                    ring(&[
                        (0.0, 0.0),
                        (4.0, 0.0),
                        (4.0, 4.0),
                        (2.0, 4.0),
                        (3.0, 2.0),
                        (1.0, 2.0),
                        (2.0, 4.0),
                        (0.0, 4.0),
                    ]),
                    vec![],
                ),
                1 => Polygon::new(square, vec![ring(&[(0.0, 2.0), (2.0, 1.0), (2.0, 3.0)])]),
                2 => Polygon::new(
                    ring(&[
                        (0.0, 0.0),
                        (2.0, 0.0),
                        (2.0, 2.0),
                        (4.0, 2.0),
                        (4.0, 4.0),
                        (2.0, 4.0),
                        (2.0, 2.0),
                        (0.0, 2.0),
                    ]),
                    vec![],
                ),
                _ => Polygon::new(
                    square,
                    vec![ring(&[(0.0, 2.0), (2.0, 1.0), (4.0, 2.0), (2.0, 3.0)])],
                ),
            })
        }),
        (0i32..8, 0i32..8, 0usize..6).prop_map(|(x, y, k)| {
            // Invalid polygons, as real layers have them: a bow tie, holes outside
            // their shell (one a ring that runs out and back, as in some counties), a
            // hole crossing its shell, holes of one repeated point and of a line.
            let ring = |points: &[(f64, f64)]| shifted_ring(x, y, points);
            let square = ring(&[(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0)]);
            Geometry::Polygon(match k {
                0 => Polygon::new(
                    ring(&[(0.0, 0.0), (4.0, 4.0), (4.0, 0.0), (0.0, 4.0)]),
                    vec![],
                ),
                1 => Polygon::new(
                    square,
                    vec![ring(&[(5.0, 1.0), (7.0, 1.0), (7.0, 3.0), (5.0, 3.0)])],
                ),
                2 => Polygon::new(square, vec![ring(&[(5.0, 1.0), (7.0, 2.0)])]),
                3 => Polygon::new(
                    square,
                    vec![ring(&[(2.0, 2.0), (2.0, 2.0), (2.0, 2.0), (2.0, 2.0)])],
                ),
                4 => Polygon::new(
                    square,
                    vec![ring(&[(3.0, 1.0), (6.0, 1.0), (6.0, 3.0), (3.0, 3.0)])],
                ),
                _ => Polygon::new(square, vec![ring(&[(1.0, 1.0), (3.0, 2.0)])]),
            })
        }),
    ]
}

/// Every predicate but `DWithin`, in the order of `Predicate`'s variants.
pub(crate) fn predicates() -> [Predicate; 9] {
    [
        Predicate::Intersects,
        Predicate::Within,
        Predicate::Contains,
        Predicate::Covers,
        Predicate::CoveredBy,
        Predicate::Touches,
        Predicate::Crosses,
        Predicate::Overlaps,
        Predicate::Equals,
    ]
}

fn check(a: &Geometry, b: &Geometry) -> Result<(), TestCaseError> {
    let (pa, pb) = (
        PreparedPolygon::new(a).unwrap(),
        PreparedPolygon::new(b).unwrap(),
    );
    let (qa, qb) = (
        Plain::new(a, usize::MAX).unwrap(),
        Plain::new(b, usize::MAX).unwrap(),
    );
    // The clean check agrees with geo's validity, less rings touching at a point, and
    // the walked side agrees with the prepared one.
    for (g, p, q) in [(a, &pa, &qa), (b, &pb, &qb)] {
        prop_assert_eq!(p.cleanliness(g), q.cleanliness(g));
        if p.cleanliness(g) == Cleanliness::Clean {
            prop_assert!(g.is_valid(), "clean but invalid: {:?}", g);
        }
    }
    if !edge_based(pa.cleanliness(a)) || !edge_based(pb.cleanliness(b)) {
        // Only `intersects` (and disjoint boxes) may be decided here, and then as
        // `Relate` decides.
        for predicate in predicates() {
            let expected = predicate.test(a, b);
            for fast in [
                test(predicate, a, &pa, b, &pb),
                test(predicate, a, &qa, b, &qb),
                test(predicate.converse(), b, &pb, a, &qa),
            ] {
                if predicate == Predicate::Intersects || !boxes_meet(pa.bbox(), pb.bbox()) {
                    prop_assert!(
                        fast.is_none() || fast == Some(expected),
                        "{:?} {:?} {:?}",
                        predicate,
                        a,
                        b
                    );
                } else {
                    prop_assert_eq!(fast, None);
                }
            }
        }
        return Ok(());
    }
    for predicate in predicates() {
        let expected = predicate.test(a, b);
        // Every pair of clean or touching polygons is decided here, shared boundary
        // or not.
        let fast = test(predicate, a, &pa, b, &pb);
        prop_assert_eq!(fast, Some(expected), "{:?} {:?} {:?}", predicate, a, b);
        prop_assert_eq!(test(predicate, a, &qa, b, &pb), Some(expected));
        prop_assert_eq!(test(predicate, a, &pa, b, &qb), Some(expected));
        let swapped = test(predicate.converse(), b, &pb, a, &pa);
        prop_assert_eq!(
            swapped,
            Some(expected),
            "swapped {:?} {:?} {:?}",
            predicate,
            a,
            b
        );
    }
    Ok(())
}

/// A hole outside its shell, a ring that runs out and back (as in some counties),
/// crossing an edge of the other side that lies beyond the shell's box, where the
/// bands do not look: geo's `intersects` sees the crossing (the exteriors' boxes
/// meet). With the boxes apart it sees nothing.
#[test]
fn a_stray_hole_crossing_the_other_side_intersects_as_geo_says() {
    let b = Geometry::Polygon(polygon!(
        exterior: [(x: 0.0, y: 0.0), (x: 4.0, y: 0.0), (x: 4.0, y: 4.0), (x: 0.0, y: 4.0)],
        interiors: [[(x: 5.0, y: 1.0), (x: 9.0, y: 2.0)]],
    ));
    // Its box meets the shell's, none of its edges' boxes does.
    let crossing = Geometry::Polygon(polygon![
        (x: 4.5, y: 0.5), (x: 8.0, y: 0.5), (x: 8.0, y: 5.0),
        (x: 3.5, y: 5.0), (x: 3.5, y: 4.5), (x: 4.5, y: 4.5),
    ]);
    let apart = Geometry::Polygon(
        polygon![(x: 6.0, y: 0.0), (x: 8.0, y: 0.0), (x: 8.0, y: 3.0), (x: 6.0, y: 3.0)],
    );
    for (a, expected) in [(crossing, true), (apart, false)] {
        assert_eq!(Predicate::Intersects.test(&a, &b), expected);
        let (pa, pb) = (
            PreparedPolygon::new(&a).unwrap(),
            PreparedPolygon::new(&b).unwrap(),
        );
        let (qa, qb) = (
            Plain::new(&a, usize::MAX).unwrap(),
            Plain::new(&b, usize::MAX).unwrap(),
        );
        for answer in [
            test(Predicate::Intersects, &a, &pa, &b, &pb),
            test(Predicate::Intersects, &a, &qa, &b, &qb),
            test(Predicate::Intersects, &b, &pb, &a, &pa),
            test(Predicate::Intersects, &b, &qb, &a, &qa),
        ] {
            assert!(
                answer.is_none() || answer == Some(expected),
                "{answer:?} {a:?}"
            );
        }
        // The walked side finds the crossing whatever the boxes.
        assert_eq!(
            test(Predicate::Intersects, &a, &qa, &b, &qb),
            Some(expected)
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    /// Every predicate agrees with geo's `Relate` on valid polygons, either side small.
    #[test]
    fn agrees_with_relate(a in shape(), b in shape()) {
        check(&a, &b)?;
    }

    /// Shapes against themselves and their shifts by whole units (shared edges).
    #[test]
    fn agrees_with_relate_on_shared_edges(a in shape(), dx in -2i32..3, dy in -2i32..3) {
        let b = geo::Translate::translate(&a, dx as f64, dy as f64);
        check(&a, &b)?;
    }
}
