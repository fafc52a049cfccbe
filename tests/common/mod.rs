#![allow(dead_code)]
//! Shared helpers for the integration tests.

use std::path::PathBuf;

use geoframe::io::{read_shapefile, ShapefileOptions};
use geoframe::GeoFrame;

pub fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(rel)
}

pub fn oracle(name: &str) -> Vec<Vec<String>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/oracle")
        .join(name);
    std::fs::read_to_string(path)
        .expect("oracle file")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

pub fn read(rel: &str, rows_per_partition: usize) -> GeoFrame {
    read_shapefile(
        data(rel),
        &ShapefileOptions {
            rows_per_partition,
            ..Default::default()
        },
    )
    .expect("read shapefile")
}

pub fn counties(rows_per_partition: usize) -> GeoFrame {
    read("us_counties/us_counties.shp", rows_per_partition)
}

pub fn countries() -> GeoFrame {
    read("naturalearth_lowres/naturalearth_lowres.shp", 1000)
}

pub fn cities() -> GeoFrame {
    read("naturalearth_cities/naturalearth_cities.shp", 1000)
}

pub fn rel_eq(a: f64, b: f64, tol: f64) -> bool {
    a == b || (a - b).abs() <= tol * a.abs().max(b.abs())
}
