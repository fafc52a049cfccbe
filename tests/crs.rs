//! CRS from `.prj`, `set_crs`, and `to_crs` through PROJ, checked against GeoPandas/pyproj
//! and against the Web Mercator formula.

mod common;

use geo::{Coord, CoordsIter, Geometry};
use geoframe::{Crs, Error, GeoFrame};

fn first_vertex(g: &Geometry) -> Coord {
    g.exterior_coords_iter().next().unwrap()
}

#[test]
fn prj_files_are_identified() {
    assert_eq!(common::counties(5000).crs().unwrap().to_epsg(), Some(4326));
    assert_eq!(
        common::read("nybb/nybb.shp", 10).crs().unwrap().to_epsg(),
        Some(2263)
    );
    assert!(common::cities().crs().unwrap().is_geographic().unwrap());
    assert!(!Crs::epsg(2263).is_geographic().unwrap());
}

#[test]
fn nybb_to_wgs84_matches_pyproj() {
    let nybb = common::read("nybb/nybb.shp", 2);
    let wgs = nybb.to_crs(&Crs::epsg(4326)).unwrap();
    assert_eq!(wgs.npartitions(), nybb.npartitions());
    let before = nybb.geometries().unwrap();
    let after = wgs.geometries().unwrap();
    for row in common::oracle("nybb_to_4326.csv") {
        let i: usize = row[0].parse().unwrap();
        let p = first_vertex(before[i].as_ref().unwrap());
        assert_eq!(
            (p.x, p.y),
            (row[2].parse().unwrap(), row[3].parse().unwrap())
        );
        let q = first_vertex(after[i].as_ref().unwrap());
        let (lon, lat): (f64, f64) = (row[4].parse().unwrap(), row[5].parse().unwrap());
        // 1e-10 degrees is about 0.01 mm.
        assert!(
            (q.x - lon).abs() < 1e-10 && (q.y - lat).abs() < 1e-10,
            "{}: {q:?} vs ({lon}, {lat})",
            row[1]
        );
    }
    // Partition bounds were recomputed in degrees.
    let b = wgs.total_bounds().unwrap();
    assert!(
        b.min().x > -74.3 && b.max().x < -73.6 && b.min().y > 40.4 && b.max().y < 41.0,
        "{b:?}"
    );
    for (p, pb) in wgs.partitions().iter().zip(wgs.partition_bounds()) {
        assert_eq!(p.bounds(), pb);
        assert!(pb.unwrap().max().x < -73.0);
    }
}

#[test]
fn wgs84_to_web_mercator_matches_the_formula() {
    const R: f64 = 6_378_137.0;
    let cities = common::cities();
    let merc = cities.to_crs(&Crs::epsg(3857)).unwrap();
    for (a, b) in cities
        .geometries()
        .unwrap()
        .iter()
        .zip(merc.geometries().unwrap())
    {
        let (Some(Geometry::Point(a)), Some(Geometry::Point(b))) = (a, b) else {
            panic!()
        };
        let x = R * a.x().to_radians();
        let y = R
            * (std::f64::consts::FRAC_PI_4 + a.y().to_radians() / 2.0)
                .tan()
                .ln();
        assert!(
            (b.x() - x).abs() < 1e-6 && (b.y() - y).abs() < 1e-6,
            "{a:?} -> {b:?}, expected ({x}, {y})"
        );
    }
}

#[test]
fn set_crs_and_errors() {
    let frame = GeoFrame::from_geometries(vec![geo::point!(x: 1.0, y: 2.0).into()], None).unwrap();
    assert!(matches!(
        frame.to_crs(&Crs::epsg(3857)).unwrap_err(),
        Error::MissingCrs(_)
    ));
    let frame = frame.set_crs(Crs::epsg(4326), false).unwrap();
    assert!(frame.clone().set_crs(Crs::epsg(4326), false).is_ok());
    assert!(matches!(
        frame.clone().set_crs(Crs::epsg(3857), false).unwrap_err(),
        Error::InvalidArgument(_)
    ));
    let moved = frame.set_crs(Crs::epsg(3857), true).unwrap();
    assert_eq!(moved.crs().unwrap().to_epsg(), Some(3857));
    // set_crs never moves coordinates.
    assert_eq!(
        moved.geometries().unwrap()[0],
        Some(geo::point!(x: 1.0, y: 2.0).into())
    );
    assert!(matches!(
        Crs::from_user_input("EPSG:999999").unwrap_err(),
        Error::Crs(_)
    ));
    assert!(matches!(
        moved.to_crs(&Crs::epsg(999_999)).unwrap_err(),
        Error::Crs(_)
    ));
}
