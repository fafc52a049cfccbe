//! `spatial_shuffle` of 10M generated points (Hilbert, 64 partitions), 1 and 2 workers.
//!
//!     cargo bench --bench shuffle
// criterion's macros define undocumented public functions.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use geoframe::partition::ShuffleMethod;
use geoframe::plan::{ExecuteOptions, LazyFrame};

fn benches(c: &mut Criterion) {
    let points = geoframe::datagen::uniform_points(10_000_000, 42, 1_000_000).unwrap();
    let lazy = LazyFrame::from(points);
    let mut group = c.benchmark_group("spatial_shuffle 1e7 points");
    group.sample_size(10);
    for workers in [1, 2] {
        group.bench_function(format!("hilbert, {workers} workers"), |b| {
            let options = ExecuteOptions {
                workers,
                ..Default::default()
            };
            b.iter(|| {
                lazy.spatial_shuffle(ShuffleMethod::Hilbert, 64, &options)
                    .unwrap()
            })
        });
    }
    group.bench_function("sort-tile-recursive, 2 workers", |b| {
        let options = ExecuteOptions {
            workers: 2,
            ..Default::default()
        };
        b.iter(|| {
            lazy.spatial_shuffle(ShuffleMethod::SortTileRecursive, 64, &options)
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(shuffle, benches);
criterion_main!(shuffle);
