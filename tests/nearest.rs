//! sjoin_nearest against a brute-force search over every right geometry, with ties (an
//! integer grid makes equal distances common), max_distance, both kept sides and 1..64
//! partitions.

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use geo::{polygon, Distance, Euclidean, Geometry};
use geoframe::join::How;
use geoframe::sjoin_nearest;
use geoframe::GeoFrame;
use proptest::prelude::*;

fn geometry() -> impl Strategy<Value = Geometry> {
    prop_oneof![
        3 => (0i32..30, 0i32..30).prop_map(|(x, y)| Geometry::Point(geo::point!(x: x as f64, y: y as f64))),
        1 => (0i32..28, 0i32..28, 1i32..3).prop_map(|(x, y, w)| {
            let (x0, y0, x1, y1) = (x as f64, y as f64, (x + w) as f64, (y + w) as f64);
            Geometry::Polygon(polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1), (x: x0, y: y0)])
        }),
    ]
}

type Row = (i64, Option<i64>, Option<f64>);

/// The distance geoframe promises, computed independently. From a point it is GEOS'
/// (`sqrt(dx² + dy²)` to the nearest point), which on these integer points and axis-aligned
/// integer squares is the square root of an exact integer: the squared gap on each axis,
/// summed. geo's `Euclidean` uses `hypot`, which can differ in the last bit (17, 27 gives
/// 31.906112267087636 against GEOS' ...632) and would split ties GEOS keeps. From a
/// polygon geoframe measures with geo, and so does this.
fn distance(a: &Geometry, b: &Geometry) -> f64 {
    let Geometry::Point(p) = a else {
        return Euclidean.distance(a, b);
    };
    let gap = |v: f64, lo: f64, hi: f64| (lo - v).max(v - hi).max(0.0);
    let rect = match b {
        Geometry::Point(q) => geo::Rect::new(q.0, q.0),
        Geometry::Polygon(poly) if is_box(poly) => geo::BoundingRect::bounding_rect(poly).unwrap(),
        // Real polygons (the cities' countries) are compared to 1e-12 by `assert_close`.
        _ => return Euclidean.distance(a, b),
    };
    let dx = gap(p.x(), rect.min().x, rect.max().x);
    let dy = gap(p.y(), rect.min().y, rect.max().y);
    (dx * dx + dy * dy).sqrt()
}

/// An axis-aligned rectangle, as the strategy draws them.
fn is_box(poly: &geo::Polygon) -> bool {
    let Some(r) = geo::BoundingRect::bounding_rect(poly) else {
        return false;
    };
    poly.interiors().is_empty()
        && poly.exterior().0.len() == 5
        && poly.exterior().0.iter().all(|c| {
            (c.x == r.min().x || c.x == r.max().x) && (c.y == r.min().y || c.y == r.max().y)
        })
}

fn brute(left: &[Geometry], right: &[Geometry], max: Option<f64>, how: How) -> Vec<Row> {
    let mut out = Vec::new();
    for (i, a) in left.iter().enumerate() {
        let d: Vec<f64> = right.iter().map(|b| distance(a, b)).collect();
        let best = d.iter().copied().fold(f64::INFINITY, f64::min);
        let ok = best.is_finite() && max.is_none_or(|m| best <= m);
        let mut any = false;
        if ok {
            for (j, &dj) in d.iter().enumerate() {
                if dj == best {
                    out.push((i as i64, Some(j as i64), Some(dj)));
                    any = true;
                }
            }
        }
        if !any && how == How::Left {
            out.push((i as i64, None, None));
        }
    }
    out
}

fn rows(frame: &GeoFrame) -> Vec<Row> {
    let l = frame.column("index_left").unwrap();
    let r = frame.column("index_right").unwrap();
    let d = frame.column("dist").unwrap();
    l.as_primitive::<Int64Type>()
        .values()
        .iter()
        .zip(r.as_primitive::<Int64Type>().iter())
        .zip(d.as_primitive::<Float64Type>().iter())
        .map(|((&a, b), c)| (a, b, c))
        .collect()
}

/// The same pairs, and distances equal to 1e-12 relative: geoframe measures a point's
/// distance as GEOS does (`sqrt(dx² + dy²)`), geo with `hypot`, which may differ in the last
/// bit on real coordinates.
fn assert_close(got: &[Row], want: &[Row]) {
    let pairs = |rows: &[Row]| rows.iter().map(|r| (r.0, r.1)).collect::<Vec<_>>();
    assert_eq!(pairs(got), pairs(want));
    for (g, w) in got.iter().zip(want) {
        let (g, w) = (g.2.unwrap_or(0.0), w.2.unwrap_or(0.0));
        assert!((g - w).abs() <= 1e-12 * w.abs(), "{g} against {w}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]
    #[test]
    fn nearest_equals_brute_force(
        left in proptest::collection::vec(geometry(), 1..50),
        right in proptest::collection::vec(geometry(), 1..50),
        left_rows in 1usize..64,
        right_rows in 1usize..64,
        max in proptest::option::of(0.0..8.0f64),
        left_join in any::<bool>(),
    ) {
        let how = if left_join { How::Left } else { How::Inner };
        let lf = GeoFrame::from_geometries(left.clone(), None).unwrap().repartition(left_rows).unwrap();
        let rf = GeoFrame::from_geometries(right.clone(), None).unwrap().repartition(right_rows).unwrap();
        let joined = sjoin_nearest(&lf, &rf, how, max, Some("dist")).unwrap();
        prop_assert_eq!(rows(&joined), brute(&left, &right, max, how));
    }

    /// Points to points: the right partitions' points are searched as one tree (ties on the
    /// integer grid are common).
    #[test]
    fn nearest_points_equal_brute_force(
        left in proptest::collection::vec((0i32..30, 0i32..30), 1..60),
        right in proptest::collection::vec((0i32..30, 0i32..30), 1..60),
        left_rows in 1usize..64,
        right_rows in 1usize..16,
        max in proptest::option::of(0.0..8.0f64),
    ) {
        let point = |&(x, y): &(i32, i32)| Geometry::Point(geo::point!(x: x as f64, y: y as f64));
        let left: Vec<Geometry> = left.iter().map(point).collect();
        let right: Vec<Geometry> = right.iter().map(point).collect();
        let lf = GeoFrame::from_geometries(left.clone(), None).unwrap().repartition(left_rows).unwrap();
        let rf = GeoFrame::from_geometries(right.clone(), None).unwrap().repartition(right_rows).unwrap();
        let joined = sjoin_nearest(&lf, &rf, How::Left, max, Some("dist")).unwrap();
        prop_assert_eq!(rows(&joined), brute(&left, &right, max, How::Left));
    }
}

#[test]
fn each_city_nearest_other_city() {
    // Every Natural Earth city's nearest country polygon: cities inside a country are at
    // distance 0 from it, the 30 outside every polygon are matched to the closest one.
    let options = geoframe::io::ShapefileOptions {
        rows_per_partition: 40,
        ..Default::default()
    };
    let cities = geoframe::io::read_shapefile(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/naturalearth_cities/naturalearth_cities.shp"
        ),
        &options,
    )
    .unwrap();
    let countries = geoframe::io::read_shapefile(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/naturalearth_lowres/naturalearth_lowres.shp"
        ),
        &options,
    )
    .unwrap();
    let joined = sjoin_nearest(&cities, &countries, How::Inner, None, Some("dist")).unwrap();
    let cg = cities.geometries().unwrap();
    let kg = countries.geometries().unwrap();
    let left: Vec<Geometry> = cg.into_iter().flatten().collect();
    let right: Vec<Geometry> = kg.into_iter().flatten().collect();
    assert_close(&rows(&joined), &brute(&left, &right, None, How::Inner));
    let zero = rows(&joined).iter().filter(|r| r.2 == Some(0.0)).count();
    assert!(zero >= 213, "{zero}");
}

#[test]
fn exclusive_nearest_of_cities_is_the_nearest_other_city() {
    use geoframe::io::ShapefileOptions;
    use geoframe::plan::scan_shapefile;
    use geoframe::plan::ExecuteOptions;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/naturalearth_cities/naturalearth_cities.shp"
    );
    let all = geoframe::io::read_shapefile(path, &Default::default()).unwrap();
    let points: Vec<Geometry> = all.geometries().unwrap().into_iter().flatten().collect();
    // Brute force: every other city at the smallest distance (ties kept).
    let mut want = Vec::new();
    for (i, a) in points.iter().enumerate() {
        let d: Vec<f64> = points
            .iter()
            .map(|b| {
                if a == b {
                    f64::INFINITY
                } else {
                    Euclidean.distance(a, b)
                }
            })
            .collect();
        let best = d.iter().copied().fold(f64::INFINITY, f64::min);
        for (j, &dj) in d.iter().enumerate() {
            if dj == best {
                want.push((i as i64, j as i64, best));
            }
        }
    }
    for rows_per_partition in [243, 17] {
        let cities = scan_shapefile(
            path,
            &ShapefileOptions {
                rows_per_partition,
                ..Default::default()
            },
        )
        .unwrap();
        let got = cities
            .sjoin_nearest_exclusive(&cities, How::Inner, None, Some("d"))
            .unwrap()
            .collect(&ExecuteOptions::default())
            .unwrap();
        let batch = got.to_record_batch().unwrap();
        let l = batch
            .column_by_name("index_left")
            .unwrap()
            .as_primitive::<Int64Type>();
        let r = batch
            .column_by_name("index_right")
            .unwrap()
            .as_primitive::<Int64Type>();
        let d = batch
            .column_by_name("d")
            .unwrap()
            .as_primitive::<Float64Type>();
        let rows: Vec<(i64, i64, f64)> = (0..batch.num_rows())
            .map(|k| (l.value(k), r.value(k), d.value(k)))
            .collect();
        let got: Vec<Row> = rows
            .iter()
            .map(|&(a, b, c)| (a, Some(b), Some(c)))
            .collect();
        let want: Vec<Row> = want
            .iter()
            .map(|&(a, b, c)| (a, Some(b), Some(c)))
            .collect();
        assert_close(&got, &want);
    }
}

#[test]
fn nearest_without_a_distance_column() {
    // Regression: the merge added a distance column the schema did not have.
    let points: Vec<Geometry> = (0..20)
        .map(|i| Geometry::Point(geo::point!(x: i as f64, y: 0.0)))
        .collect();
    let targets: Vec<Geometry> = (0..5)
        .map(|i| Geometry::Point(geo::point!(x: 4.0 * i as f64 + 0.5, y: 1.0)))
        .collect();
    let left = GeoFrame::from_geometries(points, None)
        .unwrap()
        .repartition(6)
        .unwrap();
    let right = GeoFrame::from_geometries(targets, None)
        .unwrap()
        .repartition(2)
        .unwrap();
    for how in [How::Inner, How::Left] {
        let joined = sjoin_nearest(&left, &right, how, None, None).unwrap();
        assert_eq!(joined.schema().fields().len(), 3); // geometry, index_left, index_right
        assert!(joined.len() >= 20);
    }
}

/// `data/us_counties`, read whole.
fn counties() -> GeoFrame {
    geoframe::io::read_shapefile(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/us_counties/us_counties.shp"
        ),
        &Default::default(),
    )
    .unwrap()
}

/// Point 495987 of the peers' 1e6 splitmix points lies at exactly the same distance,
/// 0.01064040382157998, from counties 06001 and 06075: GeoPandas keeps both. For 06075 the
/// nearest part is a degenerate hole (A, A, B, A) outside its shell, on 06001's boundary;
/// geoframe's boxes hold every ring, so the search measures it too.
#[test]
fn a_tie_through_an_invalid_hole_is_kept_as_geopandas_keeps_it() {
    let points = geoframe::datagen::uniform_points(495_988, 42, 500_000).unwrap();
    let p = points.partitions().last().unwrap();
    let point = p.geometries(0).unwrap().pop().unwrap().unwrap();
    assert_eq!(
        point,
        Geometry::Point(geo::point!(x: -122.34292579674648, y: 37.78406917980748))
    );
    let one = GeoFrame::from_geometries(vec![point], points.crs().cloned()).unwrap();
    let counties = counties();
    let joined = sjoin_nearest(&one, &counties, How::Inner, None, Some("dist")).unwrap();
    let geoids = joined.column("geoid").unwrap();
    let geoids: Vec<&str> = (0..joined.len())
        .map(|i| geoids.as_string::<i32>().value(i))
        .collect();
    // In right-row order: 06075 comes before 06001 in the file.
    assert_eq!(geoids, ["06075", "06001"]);
    let dist = joined.column("dist").unwrap();
    assert_eq!(
        dist.as_primitive::<Float64Type>().values().to_vec(),
        vec![0.01064040382157998; 2]
    );
}

/// The first 3,000 of the peers' splitmix points against `data/us_counties`: the same rows
/// as GeoPandas' `sjoin_nearest` (ties at shared borders included) and the same distances
/// to the last bit (`tests/data/nearest_counties_geopandas.csv`, written by GeoPandas 1.2),
/// so that distances GEOS finds equal are equal here too.
#[test]
fn nearest_counties_equal_geopandas_to_the_bit() {
    let points = geoframe::datagen::uniform_points(3_000, 42, 1_000).unwrap();
    let counties = counties();
    let joined = sjoin_nearest(&points, &counties, How::Inner, None, Some("dist")).unwrap();
    let got: Vec<(i64, i64, f64)> = rows(&joined)
        .into_iter()
        .map(|(l, r, d)| (l, r.unwrap(), d.unwrap()))
        .collect();
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/nearest_counties_geopandas.csv"
    ))
    .unwrap();
    let want: Vec<(i64, i64, f64)> = text
        .lines()
        .skip(2)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            (
                f[0].parse().unwrap(),
                f[1].parse().unwrap(),
                f[3].parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(want.len(), 3_040);
    assert!(want.iter().filter(|w| w.2 > 0.0).count() > 1_000);
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!((g.0, g.1), (w.0, w.1));
        assert_eq!(
            g.2.to_bits(),
            w.2.to_bits(),
            "row {}: {} against GEOS {}",
            g.0,
            g.2,
            w.2
        );
    }
}
