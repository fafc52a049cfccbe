//! Points-in-counties join at 1M and 10M points: the plain single-core `geo` + `rstar` loop
//! (bulk-loaded R-tree of county boxes, `Intersects` per candidate) against geoframe's
//! `sjoin` on Hilbert-shuffled points (64 partitions) against the Hilbert-ordered counties
//! (one partition) with 1 and 2 workers (shuffles not timed).
//!
//!     cargo bench --bench join

use criterion::{criterion_group, criterion_main, Criterion};
use geo::{BoundingRect, Intersects};
use geoframe::io::{read_shapefile, ShapefileOptions};
use geoframe::join::{How, Predicate};
use geoframe::partition::ShuffleMethod;
use geoframe::plan::{ExecuteOptions, LazyFrame};
use rstar::primitives::{GeomWithData, Rectangle};
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
    let tree = RTree::bulk_load(
        polygons
            .iter()
            .enumerate()
            .filter_map(|(i, g)| {
                let r = g.bounding_rect()?;
                Some(GeomWithData::new(
                    Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                    i,
                ))
            })
            .collect(),
    );
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
                progress: false,
            };
            group.bench_function(format!("geoframe sjoin, {workers} workers"), |b| {
                b.iter(|| plan.collect(&options).unwrap())
            });
        }
        group.finish();
    }
}

criterion_group!(join, benches);
criterion_main!(join);
