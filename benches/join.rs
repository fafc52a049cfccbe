//! Points-in-counties join at 1M and 10M points: the plain single-core `geo` + `rstar` loop
//! (bulk-loaded R-tree of county boxes, `Intersects` per candidate) against geoframe's
//! `sjoin` on Hilbert-shuffled points (64 partitions) against the Hilbert-ordered counties
//! (one partition) with 1 and 2 workers (shuffles not timed); counties against counties
//! shifted by 0.01° (polygon-polygon); 100,000 points to their nearest county centroid
//! (`sjoin_nearest` against rstar's `nearest_neighbor`).
//!
//!     cargo bench --bench join
// criterion's macros define undocumented public functions.
#![allow(missing_docs)]

#[path = "../examples/support/baseline.rs"]
mod baseline;

use criterion::{criterion_group, criterion_main, Criterion};
use geo::{BoundingRect, Centroid, Intersects, Translate};
use geoframe::io::{read_shapefile, ShapefileOptions};
use geoframe::join::{How, Predicate};
use geoframe::partition::ShuffleMethod;
use geoframe::plan::{ExecuteOptions, LazyFrame};
use rstar::primitives::GeomWithData;
use rstar::{RTree, AABB};

fn benches(c: &mut Criterion) {
    let counties = read_shapefile(
        "data/us_counties/us_counties.shp",
        &ShapefileOptions::default(),
    )
    .unwrap();
    let polygons: Vec<geo::Geometry> = counties
        .geometries()
        .unwrap()
        .into_iter()
        .flatten()
        .collect();
    let tree = baseline::boxes(&polygons);
    // The counties in Hilbert order, in one partition (3,231 rows).
    let right = LazyFrame::from(counties.spatial_shuffle(ShuffleMethod::Hilbert, 1).unwrap());
    for n in [1_000_000u64, 10_000_000] {
        let mut group = c.benchmark_group(format!("points-in-counties {n}"));
        group.sample_size(10);
        let coords: Vec<(f64, f64)> = (0..n)
            .map(|i| {
                let (x, y, _) = geoframe::datagen::point(42, i);
                (x, y)
            })
            .collect();
        group.bench_function("geo + rstar loop, 1 core", |b| {
            b.iter(|| {
                let mut pairs = 0usize;
                for &(x, y) in &coords {
                    let p = geo::Point::new(x, y);
                    for c in tree.locate_in_envelope_intersecting(&AABB::from_point([x, y])) {
                        if p.intersects(&polygons[c.data]) {
                            pairs += 1;
                        }
                    }
                }
                pairs
            })
        });
        let points = geoframe::datagen::uniform_points(n, 42, 1_000_000)
            .unwrap()
            .spatial_shuffle(ShuffleMethod::Hilbert, 64)
            .unwrap();
        let plan = LazyFrame::from(points)
            .sjoin(&right, How::Inner, Predicate::Intersects)
            .unwrap();
        for workers in [1, 2] {
            let options = ExecuteOptions {
                workers,
                ..Default::default()
            };
            group.bench_function(format!("geoframe sjoin, {workers} workers"), |b| {
                b.iter(|| plan.collect(&options).unwrap())
            });
            group.bench_function(
                format!("geoframe sjoin count_rows, {workers} workers"),
                |b| b.iter(|| plan.count_rows(&options).unwrap()),
            );
        }
        group.finish();
    }

    let shifted: Vec<geo::Geometry> = polygons.iter().map(|g| g.translate(0.01, 0.01)).collect();
    let shifted_tree = baseline::boxes(&shifted);
    let mut group = c.benchmark_group("counties-x-shifted-counties");
    group.sample_size(10);
    group.bench_function("geo + rstar loop, 1 core", |b| {
        b.iter(|| {
            let mut pairs = 0usize;
            for a in &polygons {
                let Some(r) = a.bounding_rect() else { continue };
                let env = AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
                for c in shifted_tree.locate_in_envelope_intersecting(&env) {
                    pairs += usize::from(a.intersects(&shifted[c.data]));
                }
            }
            pairs
        })
    });
    let left = LazyFrame::from(counties.spatial_shuffle(ShuffleMethod::Hilbert, 8).unwrap());
    let shifted_frame =
        geoframe::GeoFrame::from_geometries(shifted.clone(), counties.crs().cloned())
            .unwrap()
            .spatial_shuffle(ShuffleMethod::Hilbert, 8)
            .unwrap();
    let plan = left
        .sjoin(
            &LazyFrame::from(shifted_frame),
            How::Inner,
            Predicate::Intersects,
        )
        .unwrap();
    for workers in [1, 2] {
        let options = ExecuteOptions {
            workers,
            ..Default::default()
        };
        group.bench_function(format!("geoframe sjoin, {workers} workers"), |b| {
            b.iter(|| plan.collect(&options).unwrap())
        });
    }
    group.finish();

    let centroids: Vec<geo::Point> = polygons.iter().filter_map(|g| g.centroid()).collect();
    let points = geoframe::datagen::uniform_points(100_000, 7, 100_000).unwrap();
    let coords: Vec<[f64; 2]> = (0..100_000)
        .map(|i| {
            let (x, y, _) = geoframe::datagen::point(7, i);
            [x, y]
        })
        .collect();
    let point_tree = RTree::bulk_load(
        centroids
            .iter()
            .enumerate()
            .map(|(i, p)| GeomWithData::new([p.x(), p.y()], i))
            .collect(),
    );
    let mut group = c.benchmark_group("nearest-county-centroid 1e5");
    group.sample_size(10);
    group.bench_function("rstar nearest_neighbor, 1 core", |b| {
        b.iter(|| {
            coords
                .iter()
                .filter(|p| point_tree.nearest_neighbor(*p).is_some())
                .count()
        })
    });
    let targets = geoframe::GeoFrame::from_geometries(
        centroids.iter().map(|&p| p.into()).collect(),
        counties.crs().cloned(),
    )
    .unwrap();
    let plan = LazyFrame::from(points.spatial_shuffle(ShuffleMethod::Hilbert, 16).unwrap())
        .sjoin_nearest(
            &LazyFrame::from(targets.spatial_shuffle(ShuffleMethod::Hilbert, 4).unwrap()),
            How::Inner,
            None,
            None,
        )
        .unwrap();
    for workers in [1, 2] {
        let options = ExecuteOptions {
            workers,
            ..Default::default()
        };
        group.bench_function(format!("geoframe sjoin_nearest, {workers} workers"), |b| {
            b.iter(|| plan.collect(&options).unwrap())
        });
    }
    group.finish();
}

criterion_group!(join, benches);
criterion_main!(join);
