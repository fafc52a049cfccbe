//! GeoParquet written by the peers users exchange files with, read by geoframe: GeoPandas
//! 1.2 with a `bbox` covering column in every compression and with native GeoArrow
//! encodings, DuckDB 1.5.5's `COPY` and SedonaDB 0.5's `to_parquet`.
//! The files are in `tests/data/peers/` (made by `tests/interop/make_fixtures.py` from
//! `data/`); the oracle is the same layer read from its shapefile by geoframe.

mod common;

use std::path::PathBuf;

use arrow_array::cast::AsArray;
use arrow_array::Array;
use geo::{Area, BoundingRect, Geometry, Rect};
use geoframe::io::{
    read_geoparquet, read_geoparquet_bbox, GeoParquetOptions, GeoParquetSource, PartitionSource,
};
use geoframe::{Crs, GeoFrame};

fn peer(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/peers")
        .join(name)
}

fn read(name: &str) -> GeoFrame {
    read_geoparquet(peer(name), &GeoParquetOptions::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn strings(frame: &GeoFrame, column: &str) -> Vec<Option<String>> {
    frame
        .partitions()
        .iter()
        .flat_map(|p| {
            let array = arrow_cast::cast(
                p.batch().column_by_name(column).unwrap(),
                &arrow_schema::DataType::Utf8,
            )
            .unwrap();
            let array = array.as_string::<i32>().clone();
            (0..array.len())
                .map(move |i| array.is_valid(i).then(|| array.value(i).to_string()))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn geometries(frame: &GeoFrame) -> Vec<Option<Geometry>> {
    frame
        .partitions()
        .iter()
        .flat_map(|p| p.geometries(0).unwrap())
        .collect()
}

#[test]
fn geopandas_covering_files_in_every_compression() {
    let cities = common::cities();
    for compression in ["snappy", "zstd", "gzip", "brotli", "lz4", "none"] {
        let name = format!("cities_geopandas_covering_{compression}.parquet");
        let read = read(&name);
        // The covering column is not read into the frame.
        let columns: Vec<&str> = read
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        assert_eq!(columns, ["name", "geometry"], "{name}");
        assert_eq!(strings(&read, "name"), strings(&cities, "name"), "{name}");
        assert_eq!(geometries(&read), geometries(&cities), "{name}");
        assert_eq!(read.crs(), Some(&Crs::epsg(4326)), "{name}");
        // Three row groups of 100, 100 and 43, each bounded by its covering statistics.
        let source = GeoParquetSource::open(peer(&name), &GeoParquetOptions::default()).unwrap();
        let declared: Vec<Option<Rect>> = source.partitions().iter().map(|p| p.bounds).collect();
        let actual: Vec<Option<Rect>> = read.partitions().iter().map(|p| p.bounds()).collect();
        assert_eq!(declared, actual, "{name}");
    }
}

#[test]
fn a_box_filter_on_a_geopandas_file_matches_brute_force() {
    let name = "countries_geopandas_covering.parquet";
    let countries = common::countries();
    let rect = Rect::new((0.0, 40.0), (20.0, 50.0));
    let expected: Vec<Option<String>> = strings(&countries, "name")
        .into_iter()
        .zip(geometries(&countries))
        .filter(|(_, g)| {
            g.as_ref()
                .and_then(|g| g.bounding_rect())
                .is_some_and(|b| geo::Intersects::intersects(&b, &rect))
        })
        .map(|(n, _)| n)
        .collect();
    assert!(expected.len() > 5, "{expected:?}");
    let read = read_geoparquet_bbox(peer(name), rect, &GeoParquetOptions::default()).unwrap();
    assert_eq!(strings(&read, "name"), expected);

    // The whole file: same countries, same areas (GDAL and geoframe may orient rings
    // differently, so compare areas and boxes, not coordinates in order).
    let all = read_geoparquet(peer(name), &GeoParquetOptions::default()).unwrap();
    assert_eq!(strings(&all, "name"), strings(&countries, "name"));
    for (a, b) in geometries(&all).iter().zip(geometries(&countries)) {
        let (a, b) = (a.as_ref().unwrap(), b.as_ref().unwrap());
        assert!(common::rel_eq(a.unsigned_area(), b.unsigned_area(), 1e-12));
        assert_eq!(a.bounding_rect(), b.bounding_rect());
    }
}

#[test]
fn duckdb_copy_files() {
    let read = read("cities_duckdb.parquet");
    let cities = common::cities();
    assert_eq!(read.geometry_column(), "geom");
    assert_eq!(strings(&read, "name"), strings(&cities, "name"));
    assert_eq!(geometries(&read), geometries(&cities));
    assert_eq!(read.crs(), Some(&Crs::epsg(4326)));
}

#[test]
fn sedonadb_to_parquet_files() {
    // SedonaDB 0.5 writes zstd and names the CRS OGC:CRS84 (longitude, latitude).
    let read = read("cities_sedonadb.parquet");
    let cities = common::cities();
    assert_eq!(strings(&read, "name"), strings(&cities, "name"));
    assert_eq!(geometries(&read), geometries(&cities));
    let crs = read.crs().expect("a CRS").to_projjson().unwrap();
    assert!(crs.contains("CRS84"), "{crs}");
}

#[test]
fn geopandas_native_geoarrow_files() {
    // Points: a struct of x and y per row.
    let points = read("cities_geopandas_geoarrow.parquet");
    let cities = common::cities();
    assert_eq!(strings(&points, "name"), strings(&cities, "name"));
    assert_eq!(geometries(&points), geometries(&cities));
    assert_eq!(points.crs(), Some(&Crs::epsg(4326)));
    // Countries: GeoPandas promotes the mix of polygons and multipolygons to
    // `multipolygon`, three list levels above the coordinates.
    let polygons = read("countries_geopandas_geoarrow.parquet");
    let countries = common::countries();
    assert_eq!(strings(&polygons, "name"), strings(&countries, "name"));
    for (a, b) in geometries(&polygons).iter().zip(geometries(&countries)) {
        let (a, b) = (a.as_ref().unwrap(), b.as_ref().unwrap());
        assert!(matches!(a, Geometry::MultiPolygon(_)), "{a:?}");
        assert!(common::rel_eq(a.unsigned_area(), b.unsigned_area(), 1e-12));
        assert_eq!(a.bounding_rect(), b.bounding_rect());
    }
}
