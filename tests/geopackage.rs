//! GeoPackage: layers written by GDAL read with their rows, types, CRS and geometries;
//! files geoframe writes read back equal and carry a working R-tree; damaged files give
//! errors. The oracle is the same layer read from its shapefile.

mod common;

use std::path::PathBuf;

use arrow_array::cast::AsArray;
use arrow_schema::DataType;
use geo::{BoundingRect, Geometry, MultiPolygon};
use geoframe::io::{
    read_geopackage, write_geopackage, GeoPackageOptions, GeoPackageSource, PartitionSource,
};
use geoframe::{Error, GeoFrame};

fn peer(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/peers")
        .join(name)
}

fn layer(name: &str, rows_per_partition: usize) -> GeoPackageOptions {
    GeoPackageOptions {
        layer: Some(name.into()),
        rows_per_partition,
    }
}

fn as_multi(g: Geometry) -> Geometry {
    match g {
        Geometry::Polygon(p) => Geometry::MultiPolygon(MultiPolygon(vec![p])),
        other => other,
    }
}

/// Every row's (name, geometry), in order.
fn named_geometries(frame: &GeoFrame) -> Vec<(String, Option<Geometry>)> {
    let mut rows = Vec::new();
    for p in frame.partitions() {
        let names = p.batch().column_by_name("name").expect("a name column");
        let names = names.as_string::<i32>();
        for (i, g) in p.geometries(0).unwrap().into_iter().enumerate() {
            rows.push((names.value(i).to_string(), g.map(as_multi)));
        }
    }
    rows
}

#[test]
fn gdal_layers_are_read_with_their_rows_types_crs_and_geometries() {
    let countries = read_geopackage(peer("countries_gdal.gpkg"), &GeoPackageOptions::default())
        .expect("the first layer");
    assert_eq!(countries.len(), 177);
    assert_eq!(countries.crs().and_then(|c| c.to_epsg()), Some(4326));
    let types: Vec<(String, DataType)> = countries
        .schema()
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone()))
        .collect();
    assert_eq!(
        &types[..5],
        &[
            ("pop_est".into(), DataType::Float64),
            ("continent".into(), DataType::Utf8),
            ("name".into(), DataType::Utf8),
            ("iso_a3".into(), DataType::Utf8),
            ("gdp_md_est".into(), DataType::Int64),
        ]
    );
    assert_eq!(
        named_geometries(&countries),
        named_geometries(&common::countries())
    );

    let cities = read_geopackage(peer("countries_gdal.gpkg"), &layer("cities", 50)).unwrap();
    assert_eq!(cities.partitions().len(), 5);
    assert_eq!(
        named_geometries(&cities),
        named_geometries(&common::cities())
    );

    let missing = read_geopackage(peer("countries_gdal.gpkg"), &layer("rivers", 50));
    let Err(error) = missing else {
        panic!("no such layer")
    };
    let message = error.to_string();
    assert!(message.contains("countries, cities"), "{message}");
}

#[test]
fn partition_bounds_come_from_the_rtree_and_hold_their_rows() {
    for path in [peer("countries_gdal.gpkg"), written_countries().0] {
        let source = GeoPackageSource::open(&path, &layer("countries", 20)).unwrap();
        let metas = source.partitions();
        assert_eq!(metas.len(), 9);
        for (k, meta) in metas.iter().enumerate() {
            let bounds = meta.bounds.unwrap();
            for g in source.read_partition(k).unwrap().geometries(0).unwrap() {
                let b = g.unwrap().bounding_rect().unwrap();
                // The R-tree stores 32-bit floats rounded outward.
                let slack = 1e-4;
                assert!(
                    bounds.min().x <= b.min().x + slack
                        && bounds.min().y <= b.min().y + slack
                        && b.max().x <= bounds.max().x + slack
                        && b.max().y <= bounds.max().y + slack,
                    "{}: partition {k}: {b:?} outside {bounds:?}",
                    path.display()
                );
            }
        }
    }
}

/// The countries written by geoframe as `countries.gpkg` in a fresh directory.
fn written_countries() -> (PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("countries.gpkg");
    write_geopackage(&common::countries(), &path).unwrap();
    (path, dir)
}

#[test]
fn written_files_read_back_equal_in_order() {
    let countries = common::countries();
    let (path, _dir) = written_countries();
    let back = read_geopackage(&path, &GeoPackageOptions::default()).unwrap();
    let (a, b) = (&back.partitions()[0], &countries.partitions()[0]);
    assert_eq!(a.batch().num_columns(), b.batch().num_columns());
    for c in 0..b.batch().num_columns() - 1 {
        assert_eq!(a.batch().column(c), b.batch().column(c), "column {c}");
        assert_eq!(a.batch().schema().field(c), b.batch().schema().field(c));
    }
    assert_eq!(a.geometries(0).unwrap(), b.geometries(0).unwrap());
    assert_eq!(back.crs().and_then(|c| c.to_epsg()), Some(4326));

    // A projected CRS keeps its code.
    let projected = countries.to_crs(&geoframe::Crs::epsg(3857)).unwrap();
    write_geopackage(&projected, &path).unwrap();
    let back = read_geopackage(&path, &GeoPackageOptions::default()).unwrap();
    assert_eq!(back.crs().and_then(|c| c.to_epsg()), Some(3857));
}

#[test]
fn damaged_files_give_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let not_sqlite = dir.path().join("text.gpkg");
    std::fs::write(
        &not_sqlite,
        b"this is not an SQLite database, not even close",
    )
    .unwrap();
    let error = read_geopackage(&not_sqlite, &GeoPackageOptions::default()).unwrap_err();
    assert!(matches!(error, Error::Format { .. }), "{error}");
    assert!(error.to_string().contains("text.gpkg"), "{error}");

    let (path, _written) = written_countries();
    let db = rusqlite::Connection::open(&path).unwrap();
    // The R-tree's update trigger needs GDAL's SQL functions; plain SQLite has none.
    db.execute("DROP TRIGGER rtree_countries_geometry_update", [])
        .unwrap();
    db.execute(
        "UPDATE countries SET geometry = X'4750000100000000DEADBEEF' WHERE fid = 30",
        [],
    )
    .unwrap();
    drop(db);
    let error = read_geopackage(&path, &layer("countries", 20)).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("countries.gpkg") && message.contains("29"),
        "{message}"
    );
}
