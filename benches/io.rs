//! Reading shapefiles and joining points with counties.
//!
//!     cargo bench --bench io
// criterion's macros define undocumented public functions.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use geoframe::io::{read_shapefile, write_shapefile, ShapefileOptions};
use geoframe::join::{How, Predicate};
use geoframe::sjoin;

fn benches(c: &mut Criterion) {
    let options = ShapefileOptions::default();
    c.bench_function("read_shapefile us_counties", |b| {
        b.iter(|| read_shapefile("data/us_counties/us_counties.shp", &options).unwrap())
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("points_1e6.shp");
    let points = geoframe::datagen::uniform_points(1_000_000, 42, 100_000).unwrap();
    write_shapefile(&points, &path).unwrap();
    let mut group = c.benchmark_group("1e6 points");
    group.sample_size(10);
    group.bench_function("read_shapefile", |b| {
        b.iter(|| read_shapefile(&path, &options).unwrap())
    });
    let counties = read_shapefile("data/us_counties/us_counties.shp", &options).unwrap();
    group.bench_function("sjoin intersects us_counties", |b| {
        b.iter(|| sjoin(&points, &counties, How::Inner, Predicate::Intersects).unwrap())
    });
    group.finish();
}

criterion_group!(io, benches);
criterion_main!(io);
