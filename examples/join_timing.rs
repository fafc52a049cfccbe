//! Times the points-in-counties join on N generated points (the peers' layer) in one run:
//! the plain single-core `geo` + `rstar` loop (bulk-loaded R-tree of county boxes,
//! `Intersects` per candidate), and geoframe on Hilbert-shuffled points (64 partitions)
//! against the Hilbert-ordered counties (one partition) with 1 and 2 workers (shuffles
//! timed separately), both assembling the joined rows and only counting them (`count_rows`).
//! Medians of 3; pair counts must agree.
//!
//!     cargo run --release --example join_timing -- 1e7

#[path = "support/baseline.rs"]
mod baseline;

use std::time::Instant;

use geo::Intersects;
use geoframe::io::{read_shapefile, ShapefileOptions};
use geoframe::join::{How, Predicate};
use geoframe::partition::ShuffleMethod;
use geoframe::plan::{ExecuteOptions, LazyFrame};
use rstar::AABB;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "1e7".into())
        .parse::<f64>()? as u64;
    let counties = read_shapefile(
        "data/us_counties/us_counties.shp",
        &ShapefileOptions::default(),
    )?;
    let points = geoframe::datagen::uniform_points(n, geoframe::datagen::DEFAULT_SEED, 1_000_000)?;

    // Baseline: the plain way, one core, points in file order.
    let polygons: Vec<geo::Geometry> = counties.geometries()?.into_iter().flatten().collect();
    let tree = baseline::boxes(&polygons);
    let coords: Vec<(f64, f64)> = (0..n)
        .map(|i| {
            let (x, y, _) = geoframe::datagen::point(geoframe::datagen::DEFAULT_SEED, i);
            (x, y)
        })
        .collect();
    let mut base_times = Vec::new();
    let mut base_pairs = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let mut pairs = 0usize;
        for &(x, y) in &coords {
            let p = geo::Point::new(x, y);
            for c in tree.locate_in_envelope_intersecting(&AABB::from_point([x, y])) {
                if p.intersects(&polygons[c.data]) {
                    pairs += 1;
                }
            }
        }
        base_times.push(t.elapsed().as_secs_f64());
        base_pairs = pairs;
    }
    drop(coords);

    let t = Instant::now();
    let shuffled = LazyFrame::from(points).spatial_shuffle(
        ShuffleMethod::Hilbert,
        64,
        &ExecuteOptions::default(),
    )?;
    let shuffle_s = t.elapsed().as_secs_f64();
    // The counties in Hilbert order, in one partition (3,231 rows).
    let right = LazyFrame::from(counties.spatial_shuffle(ShuffleMethod::Hilbert, 1)?);
    let plan = LazyFrame::from(shuffled).sjoin(&right, How::Inner, Predicate::Intersects)?;
    println!(
        "{:<34} {:>8} {:>10} {:>10}",
        "engine", "workers", "median s", "pairs"
    );
    println!(
        "{:<34} {:>8} {:>10.3} {:>10}",
        "geo + rstar loop (file order)",
        1,
        median(base_times.clone()),
        base_pairs
    );
    let mut ours = Vec::new();
    for workers in [1, 2] {
        let mut times = Vec::new();
        let mut pairs = 0;
        for _ in 0..3 {
            let t = Instant::now();
            let joined = plan.collect(&ExecuteOptions {
                workers,
                ..Default::default()
            })?;
            times.push(t.elapsed().as_secs_f64());
            pairs = joined.len();
        }
        if std::env::var_os("GEOFRAME_TRACE").is_some() {
            let (_, stats) = plan.collect_with_stats(&ExecuteOptions {
                workers,
                ..Default::default()
            })?;
            eprintln!(
                "{workers} workers: seconds per task kind {:?}",
                stats.seconds_per_kind
            );
        }
        let m = median(times);
        ours.push(m);
        println!(
            "{:<34} {:>8} {:>10.3} {:>10}",
            "geoframe sjoin (Hilbert-shuffled)", workers, m, pairs
        );
    }
    // The pairs counted, without assembling the joined rows: the same work as the loop
    // above and as the peers' `count(*)` queries.
    let mut counted = Vec::new();
    for workers in [1, 2] {
        let mut times = Vec::new();
        let mut pairs = 0;
        for _ in 0..3 {
            let t = Instant::now();
            pairs = plan.count_rows(&ExecuteOptions {
                workers,
                ..Default::default()
            })?;
            times.push(t.elapsed().as_secs_f64());
        }
        let m = median(times);
        counted.push(m);
        println!(
            "{:<34} {:>8} {:>10.3} {:>10}",
            "geoframe sjoin, count_rows", workers, m, pairs
        );
    }
    println!(
        "count_rows: speed-up 2 vs 1 workers {:.2}x; vs baseline {:.1}x",
        counted[0] / counted[1],
        median(base_times.clone()) / counted[1]
    );
    println!("spatial_shuffle of the points: {shuffle_s:.3} s (2 workers); speed-up 2 vs 1 workers {:.2}x; vs baseline {:.1}x", ours[0] / ours[1], median(base_times) / ours[1]);
    Ok(())
}
