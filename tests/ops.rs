//! Geometry operations on real data against GeoPandas / shapely / pyproj values computed
//! once by `tests/oracle/make_ops_expected.py` (versions in each file's first line).

mod common;

use arrow_array::{Array, BooleanArray, Float64Array};
use common::{cities, counties, countries, oracle, read, rel_eq};
use geo::{Area, BoundingRect, Distance, Geometry, Rect};
use geoframe::join::Predicate;
use geoframe::ops::{Aggregate, GeometryOp};
use geoframe::overlay_intersection;
use geoframe::{Crs, Error, GeoFrame};

fn f(s: &str) -> f64 {
    s.trim()
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {s:?}"))
}

fn b(s: &str) -> bool {
    match s.trim() {
        "True" => true,
        "False" => false,
        other => panic!("not a bool: {other:?}"),
    }
}

/// Values equal to `tol` relative, or to `abs` absolute (for values near zero).
fn close(got: f64, want: f64, tol: f64, abs: f64) -> bool {
    rel_eq(got, want, tol) || (got - want).abs() <= abs
}

fn check(what: &str, got: &Float64Array, want: &[f64], tol: f64, abs: f64) {
    assert_eq!(got.len(), want.len(), "{what}: row count");
    for (i, &w) in want.iter().enumerate() {
        assert!(
            close(got.value(i), w, tol, abs),
            "{what} row {i}: {} vs GeoPandas {w}",
            got.value(i)
        );
    }
}

fn column(rows: &[Vec<String>], k: usize) -> Vec<f64> {
    rows.iter().map(|r| f(&r[k])).collect()
}

/// The `minx`..`maxy` columns of `bounds` against oracle columns `first`..`first + 3`.
fn check_bounds(bounds: &arrow_array::RecordBatch, rows: &[Vec<String>], first: usize, tol: f64) {
    for (k, name) in ["minx", "miny", "maxx", "maxy"].iter().enumerate() {
        let col = bounds
            .column_by_name(name)
            .unwrap()
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap();
        check(name, col, &column(rows, first + k), tol, tol);
    }
}

fn floats(frame: &GeoFrame, name: &str) -> Float64Array {
    frame
        .column(name)
        .unwrap()
        .as_any()
        .downcast_ref::<Float64Array>()
        .unwrap()
        .clone()
}

/// Countries split over 8 partitions, so every operation crosses partitions.
fn countries_split() -> GeoFrame {
    countries().repartition(23).unwrap()
}

#[test]
fn measures_of_countries_match_geopandas() {
    let rows = oracle("ops_countries.csv");
    let frame = countries_split();
    assert_eq!(frame.npartitions(), 8);
    check("area", &frame.area().unwrap(), &column(&rows, 1), 1e-9, 0.0);
    check(
        "length",
        &frame.length().unwrap(),
        &column(&rows, 2),
        1e-9,
        0.0,
    );
    check_bounds(&frame.bounds().unwrap(), &rows, 3, 0.0);
    let centroids = frame.centroid().unwrap();
    check(
        "centroid x",
        &centroids.x().unwrap(),
        &column(&rows, 7),
        1e-9,
        1e-9,
    );
    check(
        "centroid y",
        &centroids.y().unwrap(),
        &column(&rows, 8),
        1e-9,
        1e-9,
    );
    check(
        "convex hull area",
        &frame.convex_hull().unwrap().area().unwrap(),
        &column(&rows, 9),
        1e-9,
        0.0,
    );
    check(
        "envelope area",
        &frame.envelope().unwrap().area().unwrap(),
        &column(&rows, 10),
        1e-9,
        0.0,
    );
    check(
        "boundary length",
        &frame.boundary().unwrap().length().unwrap(),
        &column(&rows, 11),
        1e-9,
        0.0,
    );
    // Karney's geodesic area and perimeter, as pyproj's Geod computes them.
    check(
        "geodesic area",
        &frame.geodesic_area().unwrap(),
        &column(&rows, 13),
        1e-9,
        1e-3,
    );
    check(
        "geodesic length",
        &frame.geodesic_length().unwrap(),
        &column(&rows, 14),
        1e-9,
        1e-6,
    );
    let types = frame.geom_type().unwrap();
    let empty = frame.geom_is_empty().unwrap();
    for i in 0..frame.len() {
        assert!(["Polygon", "MultiPolygon"].contains(&types.value(i)));
        assert!(!empty.value(i));
    }
}

/// Coordinates in the shell of the largest polygon of `g`.
fn largest_shell_coords(g: &Geometry) -> usize {
    let polygons = match g {
        Geometry::Polygon(p) => vec![p.clone()],
        Geometry::MultiPolygon(m) => m.0.clone(),
        _ => panic!("not polygonal"),
    };
    polygons
        .iter()
        .max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()))
        .map_or(0, |p| p.exterior().0.len())
}

#[test]
fn simplify_keeps_what_geos_keeps() {
    // Douglas-Peucker as shapely's simplify(0.5, preserve_topology=False): the same
    // vertices in the shell of each country's largest part (GEOS also drops small parts
    // that collapse; geo keeps them as they are).
    let rows = oracle("ops_countries.csv");
    let original = countries_split();
    let simple = original.simplify(0.5).unwrap();
    let mut same = 0;
    let parts = |g: &Geometry| match g {
        Geometry::Polygon(p) => vec![p.clone()],
        Geometry::MultiPolygon(m) => m.0.clone(),
        _ => panic!("not polygonal"),
    };
    for (i, (g, o)) in simple
        .geometries()
        .unwrap()
        .iter()
        .zip(original.geometries().unwrap())
        .enumerate()
    {
        let (g, o) = (g.as_ref().unwrap(), o.unwrap());
        same += usize::from(largest_shell_coords(g) == f(&rows[i][12]) as usize);
        // The Douglas-Peucker guarantee, checked directly: kept vertices are original
        // vertices, and every original vertex lies within the tolerance of its ring.
        for (s, o) in parts(g).iter().zip(parts(&o)) {
            let ring = s.exterior();
            for c in &ring.0 {
                assert!(o.exterior().0.contains(c), "row {i}: new vertex {c:?}");
            }
            for c in &o.exterior().0 {
                let d = geo::Euclidean.distance(&geo::Point::from(*c), ring);
                assert!(d <= 0.5 + 1e-12, "row {i}: vertex {c:?} is {d} away");
            }
        }
    }
    // GEOS repairs rings that simplification made self-intersect (adding vertices) and
    // drops parts that collapse; where it did neither, the shells agree vertex for vertex.
    assert!(same >= 150, "only {same} of 177 shells match GEOS");
    let vw = countries_split()
        .map_geometry(&GeometryOp::Simplify {
            tolerance: 0.05,
            method: geoframe::ops::SimplifyMethod::VisvalingamWhyattPreserve,
        })
        .unwrap();
    let count = |f: &GeoFrame| -> usize {
        f.geometries()
            .unwrap()
            .iter()
            .flatten()
            .map(geo::CoordsIter::coords_count)
            .sum()
    };
    let (before, after) = (count(&countries()), count(&vw));
    assert!(after < before, "{after} of {before} coordinates kept");
    assert_eq!(vw.geom_is_empty().unwrap().true_count(), 0);
}

#[test]
fn validity_matches_geos() {
    let rows = oracle("ops_countries.csv");
    let valid = countries_split().is_valid().unwrap();
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(valid.value(i), b(&r[15]), "country {i}");
    }
    let rows = oracle("ops_counties_valid.csv");
    let frame = counties(500);
    let valid = frame.is_valid().unwrap();
    let reasons = frame.is_valid_reason().unwrap();
    let mut invalid = 0;
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(valid.value(i), b(&r[2]), "county {i} ({})", r[1]);
        assert_eq!(reasons.value(i) == "Valid Geometry", valid.value(i));
        invalid += usize::from(!valid.value(i));
    }
    assert_eq!(invalid, 40);
}

#[test]
fn cities_coordinates_distances_and_mercator() {
    let rows = oracle("ops_cities.csv");
    // Names may hold commas: read the numbers from the end of each line.
    let back = |k: usize| -> Vec<f64> { rows.iter().map(|r| f(&r[r.len() - k])).collect() };
    let frame = cities().repartition(50).unwrap();
    check("x", &frame.x().unwrap(), &back(6), 0.0, 0.0);
    check("y", &frame.y().unwrap(), &back(5), 0.0, 0.0);
    let paris = geo::Point::new(2.3529924615392135, 48.85809231626911);
    check(
        "distance",
        &frame.distance(&paris.into()).unwrap(),
        &back(2),
        1e-12,
        0.0,
    );
    check(
        "geodesic distance",
        &frame.geodesic_distance(&paris).unwrap(),
        &back(1),
        1e-9,
        1e-6,
    );
    // EPSG:4326 -> EPSG:3857 to a micrometre.
    let merc = frame.to_crs(&Crs::epsg(3857)).unwrap();
    check("x 3857", &merc.x().unwrap(), &back(4), 0.0, 1e-6);
    check("y 3857", &merc.y().unwrap(), &back(3), 0.0, 1e-6);
}

#[test]
fn predicates_against_one_geometry_match_geopandas() {
    let rows = oracle("ops_predicates.csv");
    let europe: Geometry = Rect::new((-10.0, 35.0), (30.0, 60.0)).to_polygon().into();
    let countries = countries_split();
    let france = countries
        .geometries()
        .unwrap()
        .into_iter()
        .zip(
            countries
                .column("iso_a3")
                .unwrap()
                .as_any()
                .downcast_ref::<arrow_array::StringArray>()
                .unwrap()
                .iter(),
        )
        .find(|(_, iso)| *iso == Some("FRA"))
        .and_then(|(g, _)| g)
        .unwrap();
    for (layer, frame, other) in [
        ("countries", countries.clone(), &europe),
        ("cities", cities().repartition(40).unwrap(), &france),
    ] {
        let want: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == layer).collect();
        let answers: Vec<BooleanArray> = vec![
            frame.relate_to(Predicate::Intersects, other).unwrap(),
            frame.relate_to(Predicate::Within, other).unwrap(),
            frame.relate_to(Predicate::Contains, other).unwrap(),
            frame.relate_to(Predicate::Overlaps, other).unwrap(),
            frame.relate_to(Predicate::Touches, other).unwrap(),
            frame.disjoint(other).unwrap(),
            frame.relate_to(Predicate::DWithin(2.0), other).unwrap(),
        ];
        let mut positives = 0;
        for (i, r) in want.iter().enumerate() {
            for (k, a) in answers.iter().enumerate() {
                assert_eq!(a.value(i), b(&r[2 + k]), "{layer} row {i} predicate {k}");
                positives += usize::from(a.value(i));
            }
        }
        assert!(positives > 10, "{layer}: only {positives} true answers");
    }
}

#[test]
fn utm_estimate_and_reprojection_match_geopandas() {
    let rows = oracle("ops_nybb_utm.csv");
    let nybb = read("nybb/nybb.shp", 2);
    let utm = nybb.estimate_utm_crs().unwrap();
    assert_eq!(utm.to_epsg(), Some(32618));
    let wgs = nybb.to_crs(&Crs::epsg(4326)).unwrap();
    assert_eq!(wgs.estimate_utm_crs().unwrap().to_epsg(), Some(32618));
    let projected = wgs.to_crs(&utm).unwrap();
    check(
        "area in UTM",
        &projected.area().unwrap(),
        &column(&rows, 3),
        1e-9,
        0.0,
    );
    for (i, g) in projected.geometries().unwrap().iter().enumerate() {
        let Some(Geometry::MultiPolygon(m)) = g else {
            panic!("row {i} is not a multipolygon")
        };
        let first = m.0[0].exterior().0[0];
        assert!((first.x - f(&rows[i][1])).abs() < 1e-6, "row {i} x");
        assert!((first.y - f(&rows[i][2])).abs() < 1e-6, "row {i} y");
    }
    // Planar frames have no geodesic measures.
    assert!(matches!(
        nybb.geodesic_area(),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn affine_transforms_and_buffer_match_geopandas() {
    let rows = oracle("ops_affine.csv");
    let frame = countries_split();
    let rotated = frame.rotate(30.0).unwrap().bounds().unwrap();
    let skewed = frame.skew(10.0, 5.0).unwrap().bounds().unwrap();
    check_bounds(&rotated, &rows, 1, 1e-9);
    check_bounds(&skewed, &rows, 5, 1e-9);
    check(
        "scale area",
        &frame.scale(2.0, 3.0).unwrap().area().unwrap(),
        &column(&rows, 9),
        1e-9,
        0.0,
    );
    let moved = frame.translate(1.5, -2.0).unwrap().total_bounds().unwrap();
    let before = frame.total_bounds().unwrap();
    assert_eq!(moved.min().x, before.min().x + 1.5);
    assert_eq!(moved.max().y, before.max().y - 2.0);
    // Buffers approximate arcs differently (GEOS: 16 segments per quarter circle; geo:
    // i_overlay's round joins), so areas agree to 1 %, not to the last digit.
    check(
        "buffer area",
        &frame.buffer(0.5).unwrap().area().unwrap(),
        &column(&rows, 10),
        1e-2,
        0.0,
    );
    let m = [1.0, 0.0, 0.0, 1.0, 3.0, 4.0];
    let shifted = frame
        .map_geometry(&GeometryOp::Affine { matrix: m })
        .unwrap()
        .total_bounds()
        .unwrap();
    assert_eq!(shifted.min().y, before.min().y + 4.0);
    assert!(frame
        .map_geometry(&GeometryOp::Translate {
            dx: f64::NAN,
            dy: 0.0
        })
        .is_err());
}

#[test]
fn representative_points_lie_inside_and_explode_keeps_area() {
    let frame = countries_split();
    let points = frame.representative_point().unwrap();
    let inside = frame.geometries().unwrap();
    for (i, p) in points.geometries().unwrap().iter().enumerate() {
        let p = p.as_ref().unwrap();
        assert!(
            geo::Intersects::intersects(p, inside[i].as_ref().unwrap()),
            "row {i}"
        );
    }
    let parts = frame.explode().unwrap();
    let expected: usize = inside
        .iter()
        .map(|g| match g {
            Some(Geometry::MultiPolygon(m)) => m.0.len(),
            _ => 1,
        })
        .sum();
    assert_eq!(parts.len(), expected);
    let total: f64 = frame.area().unwrap().values().iter().sum();
    let exploded: f64 = parts.area().unwrap().values().iter().sum();
    assert!(rel_eq(total, exploded, 1e-12));
    let sources = parts.column("source_row").unwrap();
    assert_eq!(sources.len(), expected);
    assert!(matches!(
        frame.x(),
        Err(Error::InvalidGeometry { record: 0, .. })
    ));
    let made = geoframe::ops::points_from_xy(&[1.0, 2.0], &[3.0, 4.0], Some(Crs::epsg(4326)));
    assert_eq!(made.unwrap().x().unwrap().value(1), 2.0);
    assert!(geoframe::ops::points_from_xy(&[1.0], &[], None).is_err());
}

#[test]
fn dissolve_counties_to_states_keeps_every_area() {
    let rows = oracle("ops_dissolve.csv");
    let frame = counties(400);
    let geoid = frame.column("geoid").unwrap();
    let geoid = geoid
        .as_any()
        .downcast_ref::<arrow_array::StringArray>()
        .unwrap();
    let state: arrow_array::StringArray = geoid.iter().map(|g| g.map(|g| &g[..2])).collect();
    let with_state = frame
        .with_column("state", std::sync::Arc::new(state))
        .unwrap();
    let states = with_state
        .dissolve(&["state"], &[("geoid", Aggregate::Count)])
        .unwrap();
    assert_eq!(states.len(), 56);
    assert_eq!(rows.len(), 56);
    let names = states.column("state").unwrap();
    let names = names
        .as_any()
        .downcast_ref::<arrow_array::StringArray>()
        .unwrap();
    let counts = states.column("geoid").unwrap();
    let counts = counts
        .as_any()
        .downcast_ref::<arrow_array::Int64Array>()
        .unwrap();
    let areas = states.area().unwrap();
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(names.value(i), r[0]);
        assert_eq!(counts.value(i), f(&r[1]) as i64, "state {}", r[0]);
        // Counties share their edges vertex for vertex, so the exact coverage union
        // applies: areas agree to 1e-9 (in fact to about 1e-15).
        assert!(
            rel_eq(areas.value(i), f(&r[2]), 1e-9),
            "state {}: dissolved area {} vs sum of counties {}",
            r[0],
            areas.value(i),
            r[2]
        );
    }
    assert_eq!(states.is_valid().unwrap().true_count(), 56);
    // Neighbouring counties share their boundaries exactly: the union leaves no slivers
    // (unions on a new float grid per operation left hundreds of hairline holes).
    let holes: usize = states
        .geometries()
        .unwrap()
        .iter()
        .flatten()
        .map(|g| match g {
            Geometry::Polygon(p) => p.interiors().len(),
            Geometry::MultiPolygon(m) => m.0.iter().map(|p| p.interiors().len()).sum(),
            _ => 0,
        })
        .sum();
    assert_eq!(holes, 0, "hairline holes in the states");
    // The same states, byte for byte, from one partition.
    let one = with_state.repartition(10_000).unwrap();
    let again = one
        .dissolve(&["state"], &[("geoid", Aggregate::Count)])
        .unwrap();
    assert_eq!(
        again.column("geometry").unwrap().to_data(),
        states.column("geometry").unwrap().to_data()
    );
}

#[test]
fn dissolve_aggregates_and_union_all() {
    let frame = countries_split();
    let continents = frame
        .dissolve(
            &["continent"],
            &[
                ("pop_est", Aggregate::Sum),
                ("pop_est", Aggregate::Max),
                ("name", Aggregate::First),
                ("name", Aggregate::Count),
            ],
        )
        .unwrap();
    assert_eq!(continents.len(), 8);
    let sums = floats(&continents, "pop_est_sum");
    let all: f64 = floats(&frame, "pop_est").values().iter().sum();
    let total: f64 = sums.values().iter().sum();
    assert!(rel_eq(total, all, 1e-12));
    let union = frame.union_all().unwrap().unwrap();
    let parts: f64 = frame.area().unwrap().values().iter().sum();
    // Countries do not overlap, so the union keeps the sum of the areas (to the
    // precision of the snapped overlay).
    assert!(rel_eq(union.unsigned_area(), parts, 1e-6));
    assert!(frame.dissolve(&["nope"], &[]).is_err());
    assert!(frame
        .dissolve(&["continent"], &[("name", Aggregate::Sum)])
        .is_err());
    assert!(cities().union_all().is_err());
}

#[test]
fn overlay_intersection_matches_geopandas() {
    let rows = oracle("ops_overlay.csv");
    let boxes = GeoFrame::from_geometries(
        vec![
            Rect::new((-10.0, 35.0), (30.0, 60.0)).to_polygon().into(),
            Rect::new((-20.0, -35.0), (50.0, 35.0)).to_polygon().into(),
        ],
        Some(Crs::epsg(4326)),
    )
    .unwrap();
    let pieces = overlay_intersection(&countries_split(), &boxes).unwrap();
    let left = pieces.column("index_left").unwrap();
    let left = left
        .as_any()
        .downcast_ref::<arrow_array::Int64Array>()
        .unwrap();
    let right = pieces.column("index_right").unwrap();
    let right = right
        .as_any()
        .downcast_ref::<arrow_array::Int64Array>()
        .unwrap();
    let areas = pieces.area().unwrap();
    let got: Vec<(i64, i64, f64)> = (0..pieces.len())
        .map(|i| (left.value(i), right.value(i), areas.value(i)))
        .collect();
    assert_eq!(got.len(), rows.len(), "{got:?}");
    for (g, r) in got.iter().zip(&rows) {
        assert_eq!((g.0, g.1), (f(&r[0]) as i64, f(&r[1]) as i64));
        assert!(rel_eq(g.2, f(&r[2]), 1e-6), "{g:?} vs {r:?}");
    }
    for g in pieces.geometries().unwrap().iter().flatten() {
        let r = g.bounding_rect().unwrap();
        // Within the snapping step of the overlay (about 3e-7 degrees on a world extent).
        assert!(r.min().x >= -20.0 - 1e-6 && r.max().x <= 50.0 + 1e-6);
    }
}

#[test]
fn lazy_geometry_ops_equal_eager_ones_for_any_partitioning() {
    use geoframe::io::ShapefileOptions;
    use geoframe::plan::scan_shapefile;
    use geoframe::plan::ExecuteOptions;
    let eager = countries()
        .buffer(0.25)
        .unwrap()
        .centroid()
        .unwrap()
        .to_record_batch()
        .unwrap();
    for rows_per_partition in [1000, 25, 3] {
        let lazy = scan_shapefile(
            common::data("naturalearth_lowres/naturalearth_lowres.shp"),
            &ShapefileOptions {
                rows_per_partition,
                ..Default::default()
            },
        )
        .unwrap()
        .map_geometry(GeometryOp::Buffer { distance: 0.25 })
        .unwrap()
        .map_geometry(GeometryOp::Centroid)
        .unwrap();
        let dot = lazy.to_dot();
        assert!(dot.contains("buffer") && dot.contains("centroid"), "{dot}");
        for workers in [1, 2] {
            let got = lazy
                .collect(&ExecuteOptions {
                    workers,
                    ..Default::default()
                })
                .unwrap();
            assert_eq!(got.to_record_batch().unwrap(), eager);
            // Each partition's bounds are its geometries' boxes merged (computed here
            // with geo, not by the partition).
            for p in got.partitions() {
                let boxes = p
                    .geometries(0)
                    .unwrap()
                    .iter()
                    .flatten()
                    .filter_map(|g| g.bounding_rect())
                    .reduce(|a, b| {
                        Rect::new(
                            (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
                            (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
                        )
                    });
                assert_eq!(p.bounds(), boxes);
            }
        }
    }
}

#[test]
fn union_of_a_coverage_keeps_holes_and_corner_touches() {
    let square =
        |x: f64, y: f64| -> Geometry { Rect::new((x, y), (x + 1.0, y + 1.0)).to_polygon().into() };
    // A ring of eight squares around an empty centre: one polygon with one hole.
    let ring: Vec<Geometry> = (0..3)
        .flat_map(|x| (0..3).map(move |y| (x, y)))
        .filter(|&(x, y)| (x, y) != (1, 1))
        .map(|(x, y)| square(x as f64, y as f64))
        .collect();
    let union = GeoFrame::from_geometries(ring, None)
        .unwrap()
        .repartition(3)
        .unwrap()
        .union_all()
        .unwrap()
        .unwrap();
    let Geometry::MultiPolygon(m) = &union else {
        panic!("{union:?}")
    };
    assert_eq!(m.0.len(), 1);
    assert_eq!(m.0[0].interiors().len(), 1);
    assert_eq!(union.unsigned_area(), 8.0);
    // Two squares touching at a corner stay two polygons.
    let pinch = GeoFrame::from_geometries(vec![square(0.0, 0.0), square(1.0, 1.0)], None)
        .unwrap()
        .union_all()
        .unwrap()
        .unwrap();
    let Geometry::MultiPolygon(m) = &pinch else {
        panic!("{pinch:?}")
    };
    assert_eq!(m.0.len(), 2);
    assert_eq!(pinch.unsigned_area(), 2.0);
    // Overlapping squares are no coverage: the overlay union answers.
    let a = Rect::new((0.0, 0.0), (2.0, 2.0)).to_polygon().into();
    let b = Rect::new((1.0, 0.0), (3.0, 2.0)).to_polygon().into();
    let overlap = GeoFrame::from_geometries(vec![a, b], None)
        .unwrap()
        .union_all()
        .unwrap()
        .unwrap();
    assert_eq!(overlap.unsigned_area(), 6.0);
}

#[test]
fn make_valid_repairs_the_invalid_counties_as_shapely_does() {
    let rows = oracle("ops_counties_valid.csv");
    let frame = counties(500);
    let fixed = frame.make_valid().unwrap();
    let valid = fixed.is_valid().unwrap();
    let areas = fixed.area().unwrap();
    let mut repaired = 0;
    for (i, r) in rows.iter().enumerate() {
        if b(&r[2]) {
            continue;
        }
        repaired += 1;
        assert!(valid.value(i), "county {} still invalid", r[1]);
        // shapely.make_valid's area, to 1e-9 (geo re-triangulates, GEOS re-nodes).
        assert!(
            rel_eq(areas.value(i), f(&r[4]), 1e-9),
            "county {}: {} vs shapely {}",
            r[1],
            areas.value(i),
            r[4]
        );
    }
    assert_eq!(repaired, 40);
}

#[test]
fn lazy_columns_equal_eager_measures_and_predicates() {
    use geoframe::io::ShapefileOptions;
    use geoframe::ops::{ColumnOp, Measure};
    use geoframe::plan::scan_shapefile;
    use geoframe::plan::ExecuteOptions;
    let europe: Geometry = Rect::new((-10.0, 35.0), (30.0, 60.0)).to_polygon().into();
    let eager = countries();
    let want_area = eager.geodesic_area().unwrap();
    let want_len = eager.length().unwrap();
    let want_in = eager.relate_to(Predicate::Intersects, &europe).unwrap();
    for rows_per_partition in [1000, 25, 3] {
        let lazy = scan_shapefile(
            common::data("naturalearth_lowres/naturalearth_lowres.shp"),
            &ShapefileOptions {
                rows_per_partition,
                ..Default::default()
            },
        )
        .unwrap()
        .with_measure("m2", Measure::GeodesicArea)
        .unwrap()
        .with_measure("len", Measure::Length)
        .unwrap()
        .with_column(
            "in_europe",
            ColumnOp::Relate {
                predicate: Predicate::Intersects,
                geometry: geoframe::geometry::to_wkb(&europe),
            },
        )
        .unwrap();
        assert!(lazy.to_dot().contains("geodesic_area"));
        for workers in [1, 2] {
            let got = lazy
                .collect(&ExecuteOptions {
                    workers,
                    ..Default::default()
                })
                .unwrap();
            assert_eq!(floats(&got, "m2"), want_area);
            assert_eq!(floats(&got, "len"), want_len);
            let inside = got.column("in_europe").unwrap();
            assert_eq!(
                inside.as_any().downcast_ref::<BooleanArray>().unwrap(),
                &want_in
            );
        }
    }
    // Geodesic measures need a geographic CRS; names must be new.
    let nybb =
        geoframe::plan::scan_shapefile(common::data("nybb/nybb.shp"), &Default::default()).unwrap();
    assert!(nybb.with_measure("a", Measure::GeodesicArea).is_err());
    assert!(nybb.with_measure("BoroName", Measure::Area).is_err());
}

#[test]
fn errors_name_the_first_bad_row_whatever_the_scheduling() {
    let mut geoms: Vec<Geometry> = (0..40)
        .map(|i| geo::Point::new(i as f64, 0.0).into())
        .collect();
    for bad in [13, 18, 33] {
        geoms[bad] = Rect::new((0.0, 0.0), (1.0, 1.0)).to_polygon().into();
    }
    let frame = GeoFrame::from_geometries(geoms, None)
        .unwrap()
        .repartition(3)
        .unwrap();
    for _ in 0..50 {
        assert!(matches!(
            frame.x(),
            Err(Error::InvalidGeometry { record: 13, .. })
        ));
    }
}
