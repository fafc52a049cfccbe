//! sjoin against a brute-force nested loop over `geo`'s DE-9IM relate, for every predicate
//! and `how`, on small random layers drawn on an integer grid (so shared edges, touching
//! corners, holes, repeated geometries and multipolygons are common), cut into 1 to 64
//! partitions.

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use geo::{polygon, Distance, Euclidean, Geometry, LineString, MultiPolygon, Relate};
use geoframe::join::{How, Predicate};
use geoframe::plan::{ExecuteOptions, LazyFrame};
use geoframe::sjoin;
use geoframe::GeoFrame;
use proptest::prelude::*;

const PREDICATES: [Predicate; 10] = [
    Predicate::Intersects,
    Predicate::Within,
    Predicate::Contains,
    Predicate::Covers,
    Predicate::CoveredBy,
    Predicate::Touches,
    Predicate::Crosses,
    Predicate::Overlaps,
    Predicate::Equals,
    Predicate::DWithin(1.5),
];

fn rect(x: i32, y: i32, w: i32, h: i32) -> geo::Polygon {
    let (x0, y0, x1, y1) = (x as f64, y as f64, (x + w) as f64, (y + h) as f64);
    polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1), (x: x0, y: y0)]
}

fn geometry() -> impl Strategy<Value = Geometry> {
    prop_oneof![
        (0i32..10, 0i32..10)
            .prop_map(|(x, y)| Geometry::Point(geo::point!(x: x as f64, y: y as f64))),
        (0i32..10, 0i32..10, 0i32..10, 0i32..10).prop_map(|(a, b, c, d)| Geometry::LineString(
            LineString::from(vec![(a as f64, b as f64), (c as f64, d as f64 + 0.5)])
        )),
        (0i32..8, 0i32..8, 1i32..4, 1i32..4)
            .prop_map(|(x, y, w, h)| Geometry::Polygon(rect(x, y, w, h))),
        // A square with a square hole.
        (0i32..6, 0i32..6).prop_map(|(x, y)| {
            let outer = rect(x, y, 4, 4);
            Geometry::Polygon(geo::Polygon::new(
                outer.exterior().clone(),
                vec![rect(x + 1, y + 1, 2, 2).exterior().clone()],
            ))
        }),
        (0i32..8, 0i32..8, 0i32..8, 0i32..8).prop_map(|(a, b, c, d)| Geometry::MultiPolygon(
            MultiPolygon(vec![rect(a, b, 1, 1), rect(c, d, 2, 1)])
        )),
    ]
}

fn oracle(p: Predicate, a: &Geometry, b: &Geometry) -> bool {
    let m = a.relate(b);
    match p {
        Predicate::Intersects => m.is_intersects(),
        Predicate::Within => m.is_within(),
        Predicate::Contains => m.is_contains(),
        Predicate::Covers => m.is_covers(),
        Predicate::CoveredBy => m.is_coveredby(),
        Predicate::Touches => m.is_touches(),
        Predicate::Crosses => m.is_crosses(),
        Predicate::Overlaps => m.is_overlaps(),
        Predicate::Equals => m.is_equal_topo(),
        Predicate::DWithin(d) => Euclidean.distance(a, b) <= d,
    }
}

fn index_pairs(frame: &GeoFrame) -> Vec<(Option<i64>, Option<i64>)> {
    let l = frame.column("index_left").unwrap();
    let r = frame.column("index_right").unwrap();
    l.as_primitive::<Int64Type>()
        .iter()
        .zip(r.as_primitive::<Int64Type>().iter())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn sjoin_equals_brute_force(
        left in proptest::collection::vec(geometry(), 1..40),
        right in proptest::collection::vec(geometry(), 1..40),
        left_rows in 1usize..64,
        right_rows in 1usize..64,
    ) {
        let lf = GeoFrame::from_geometries(left.clone(), None).unwrap().repartition(left_rows).unwrap();
        let rf = GeoFrame::from_geometries(right.clone(), None).unwrap().repartition(right_rows).unwrap();
        for p in PREDICATES {
            let mut inner = Vec::new();
            for (i, a) in left.iter().enumerate() {
                for (j, b) in right.iter().enumerate() {
                    if oracle(p, a, b) {
                        inner.push((i as i64, j as i64));
                    }
                }
            }
            let got = index_pairs(&sjoin(&lf, &rf, How::Inner, p).unwrap());
            let want: Vec<_> = inner.iter().map(|&(a, b)| (Some(a), Some(b))).collect();
            prop_assert_eq!(&got, &want, "inner {:?}", p);
            // Counting an inner join counts its pairs over every partition pair.
            let lazy = LazyFrame::from(lf.clone()).sjoin(&LazyFrame::from(rf.clone()), How::Inner, p).unwrap();
            prop_assert_eq!(lazy.count_rows(&ExecuteOptions::default()).unwrap(), want.len() as u64);

            let mut want_left = Vec::new();
            for i in 0..left.len() as i64 {
                let m: Vec<_> = inner.iter().filter(|x| x.0 == i).map(|&(a, b)| (Some(a), Some(b))).collect();
                if m.is_empty() { want_left.push((Some(i), None)); } else { want_left.extend(m); }
            }
            let left_join = sjoin(&lf, &rf, How::Left, p).unwrap();
            prop_assert_eq!(index_pairs(&left_join), want_left, "left {:?}", p);
            prop_assert_eq!(left_join.geometries().unwrap().len(), left_join.len());

            let mut want_right = Vec::new();
            for j in 0..right.len() as i64 {
                let mut m: Vec<_> = inner.iter().filter(|x| x.1 == j).map(|&(a, b)| (Some(a), Some(b))).collect();
                m.sort_by_key(|x| x.0);
                if m.is_empty() { want_right.push((None, Some(j))); } else { want_right.extend(m); }
            }
            let right_join = sjoin(&lf, &rf, How::Right, p).unwrap();
            prop_assert_eq!(index_pairs(&right_join), want_right, "right {:?}", p);
            // A right join keeps the right geometries.
            let rg = right_join.geometries().unwrap();
            for (k, (_, j)) in index_pairs(&right_join).iter().enumerate() {
                prop_assert_eq!(rg[k].as_ref(), Some(&right[j.unwrap() as usize]));
            }
        }
    }
}

/// Small convex polygons (diamonds, triangles, boxes) on a quarter-unit grid, so that their
/// vertices and edges often fall on the right side's vertices and edges; and a small
/// L-shape, which is not convex.
fn small_polygon() -> impl Strategy<Value = Geometry> {
    let q = |v: i32| v as f64 / 4.0;
    prop_oneof![
        (0i32..40, 0i32..40, 1i32..5).prop_map(move |(x, y, r)| Geometry::Polygon(polygon![
            (x: q(x + r), y: q(y)), (x: q(x), y: q(y + r)), (x: q(x - r), y: q(y)), (x: q(x), y: q(y - r))
        ])),
        (0i32..40, 0i32..40, 1i32..6, -5i32..6).prop_map(move |(x, y, w, h)| Geometry::Polygon(
            polygon![(x: q(x), y: q(y)), (x: q(x + w), y: q(y)), (x: q(x), y: q(y + h.max(1) * h.signum().max(1)))]
        )),
        (0i32..40, 0i32..40, 1i32..6, 1i32..6).prop_map(move |(x, y, w, h)| {
            Geometry::Polygon(polygon![
                (x: q(x), y: q(y)), (x: q(x + w), y: q(y)), (x: q(x + w), y: q(y + h)), (x: q(x), y: q(y + h))
            ])
        }),
        (0i32..40, 0i32..40).prop_map(move |(x, y)| Geometry::Polygon(polygon![
            (x: q(x), y: q(y)), (x: q(x + 2), y: q(y)), (x: q(x + 2), y: q(y + 1)),
            (x: q(x + 1), y: q(y + 1)), (x: q(x + 1), y: q(y + 2)), (x: q(x), y: q(y + 2))
        ])),
    ]
}

/// Right polygons larger than the small ones: boxes, boxes with holes, eight-pointed stars,
/// and invalid ones (overlapping parts, a hole collapsed to a line, a bow tie, rings that
/// touch).
fn large_polygon() -> impl Strategy<Value = Geometry> {
    prop_oneof![
        (0i32..8, 0i32..8, 1i32..6, 1i32..6)
            .prop_map(|(x, y, w, h)| Geometry::Polygon(rect(x, y, w, h))),
        (0i32..6, 0i32..6).prop_map(|(x, y)| Geometry::Polygon(geo::Polygon::new(
            rect(x, y, 4, 4).exterior().clone(),
            vec![rect(x + 1, y + 1, 2, 1).exterior().clone()],
        ))),
        (2i32..8, 2i32..8, proptest::collection::vec(1i32..4, 8)).prop_map(|(cx, cy, radii)| {
            let points: Vec<(f64, f64)> = radii
                .iter()
                .enumerate()
                .map(|(k, &r)| {
                    let t = k as f64 * std::f64::consts::TAU / 8.0;
                    ((cx as f64 + r as f64 * t.cos()).round(), (cy as f64 + r as f64 * t.sin()).round())
                })
                .collect();
            Geometry::Polygon(geo::Polygon::new(LineString::from(points), vec![]))
        }),
        (0i32..6, 0i32..6, 0i32..6, 0i32..6).prop_map(|(a, b, c, d)| Geometry::MultiPolygon(
            MultiPolygon(vec![rect(a, b, 3, 2), rect(c, d, 2, 3)])
        )),
        (0i32..6, 0i32..6).prop_map(|(x, y)| {
            let line = LineString::from(vec![(x as f64 + 1.0, y as f64 + 1.0), (x as f64 + 2.0, y as f64 + 3.0), (x as f64 + 1.0, y as f64 + 1.0)]);
            Geometry::Polygon(geo::Polygon::new(rect(x, y, 4, 4).exterior().clone(), vec![line]))
        }),
        (0i32..6, 0i32..6).prop_map(|(x, y)| {
            let (x, y) = (x as f64, y as f64);
            Geometry::Polygon(polygon![(x: x, y: y), (x: x + 3.0, y: y + 3.0), (x: x + 3.0, y: y), (x: x, y: y + 3.0)])
        }),
        (0i32..6, 0i32..6, 0usize..4).prop_map(|(x, y, k)| touching_rings(x as f64, y as f64, k)),
    ]
}

/// Polygons whose rings touch at a point: a hole with a vertex on its shell's edge, a shell
/// that touches itself round an inverted hole, a figure eight of two squares meeting at a
/// corner, and a ring that winds twice round a diamond (a ring touching itself, crossing
/// there).
fn touching_rings(x: f64, y: f64, k: usize) -> Geometry {
    let ring = |points: &[(f64, f64)]| {
        LineString::from(
            points
                .iter()
                .map(|&(a, b)| (x + a, y + b))
                .collect::<Vec<_>>(),
        )
    };
    let shell = |points: &[(f64, f64)]| Geometry::Polygon(geo::Polygon::new(ring(points), vec![]));
    match k {
        0 => Geometry::Polygon(geo::Polygon::new(
            rect(x as i32, y as i32, 4, 4).exterior().clone(),
            vec![ring(&[(0.0, 2.0), (2.0, 1.0), (2.0, 3.0)])],
        )),
        1 => shell(&[
            (0.0, 0.0),
            (4.0, 0.0),
            (4.0, 4.0),
            (2.0, 4.0),
            (3.0, 2.0),
            (1.0, 2.0),
            (2.0, 4.0),
            (0.0, 4.0),
        ]),
        2 => shell(&[
            (0.0, 0.0),
            (2.0, 0.0),
            (2.0, 2.0),
            (4.0, 2.0),
            (4.0, 4.0),
            (2.0, 4.0),
            (2.0, 2.0),
            (0.0, 2.0),
        ]),
        _ => shell(&[
            (0.0, 2.0),
            (0.0, 0.0),
            (4.0, 0.0),
            (4.0, 4.0),
            (0.0, 4.0),
            (0.0, 2.0),
            (2.0, 1.0),
            (3.0, 2.0),
            (2.0, 3.0),
        ]),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    /// Small polygons against larger ones, either side: the convex ones are read straight
    /// from their WKB and placed through the right side's grid, decided there or by the
    /// edges near them, and every answer must be `Relate`'s.
    #[test]
    fn small_polygons_equal_brute_force(
        left in proptest::collection::vec(small_polygon(), 1..60),
        right in proptest::collection::vec(large_polygon(), 1..16),
        left_rows in 1usize..64,
        right_rows in 1usize..16,
    ) {
        let lf = GeoFrame::from_geometries(left.clone(), None).unwrap().repartition(left_rows).unwrap();
        let rf = GeoFrame::from_geometries(right.clone(), None).unwrap().repartition(right_rows).unwrap();
        for p in PREDICATES {
            let mut want = Vec::new();
            for (i, a) in left.iter().enumerate() {
                for (j, b) in right.iter().enumerate() {
                    if oracle(p, a, b) {
                        want.push((Some(i as i64), Some(j as i64)));
                    }
                }
            }
            let got = index_pairs(&sjoin(&lf, &rf, How::Inner, p).unwrap());
            prop_assert_eq!(got, want, "{:?}", p);
            // The large polygons on the left: each small convex candidate is decided from
            // the large one's edges near it.
            let mut want = Vec::new();
            for (j, b) in right.iter().enumerate() {
                for (i, a) in left.iter().enumerate() {
                    if oracle(p, b, a) {
                        want.push((Some(j as i64), Some(i as i64)));
                    }
                }
            }
            let got = index_pairs(&sjoin(&rf, &lf, How::Inner, p).unwrap());
            prop_assert_eq!(got, want, "large {:?} small", p);
        }
    }
}
