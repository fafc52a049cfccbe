//! Times the end-to-end points-in-counties job, stage by stage, on 2 workers: read the
//! points from GeoParquet, join them with the US counties (inner, intersects), write the
//! joined rows to GeoParquet. Two ways: with a Hilbert shuffle of the points before the join,
//! and straight from the file's row groups (each pair task then visits its points in grid
//! order). Medians of 3.
//!
//!     cargo run --release --example gen_points -- 1e7 /tmp/pts
//!     cargo run --release --example end_to_end -- /tmp/pts/points_1e7.parquet

use std::time::Instant;

use geoframe::io::{
    read_geoparquet, read_shapefile, scan_geoparquet, write_geoparquet, ShapefileOptions,
};
use geoframe::join::{How, Predicate};
use geoframe::partition::ShuffleMethod;
use geoframe::plan::{ExecuteOptions, LazyFrame};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let input = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/tmp/pts/points_1e7.parquet".into());
    let out = std::env::temp_dir().join("geoframe_end_to_end.parquet");
    let options = ExecuteOptions {
        workers: 2,
        progress: false,
    };
    let counties = read_shapefile(
        "data/us_counties/us_counties.shp",
        &ShapefileOptions::default(),
    )?;
    let right = LazyFrame::from(counties.spatial_shuffle(ShuffleMethod::Hilbert, 1)?);

    let mut rows = [Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new()];
    let mut pairs = 0;
    for _ in 0..3 {
        // With a shuffle: read, shuffle, join, write, each timed.
        let t = Instant::now();
        let points = read_geoparquet(&input, &Default::default())?;
        let read = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let shuffled =
            LazyFrame::from(points).spatial_shuffle(ShuffleMethod::Hilbert, 64, &options)?;
        let shuffle = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let joined = LazyFrame::from(shuffled)
            .sjoin(&right, How::Inner, Predicate::Intersects)?
            .collect(&options)?;
        let join = t.elapsed().as_secs_f64();
        let t = Instant::now();
        write_geoparquet(&joined, &out)?;
        let write = t.elapsed().as_secs_f64();
        rows[0].push(read + shuffle + join + write);
        rows[1].push(read);
        rows[2].push(shuffle);
        rows[3].push(join);
        rows[4].push(write);
        drop(joined);

        // Without: scan, join and write as one plan, points in file order.
        let t = Instant::now();
        let joined = scan_geoparquet(&input, &Default::default())?
            .sjoin(&right, How::Inner, Predicate::Intersects)?
            .collect(&options)?;
        write_geoparquet(&joined, &out)?;
        pairs = joined.len();
        rows.last_mut().map(|_| ());
        println!(
            "no shuffle: read + join {:.3} s, total {:.3} s",
            0.0,
            t.elapsed().as_secs_f64()
        );
    }
    let _ = std::fs::remove_file(&out);
    println!("pairs {pairs}");
    for (name, v) in ["total", "read", "shuffle", "join", "write"]
        .iter()
        .zip(rows)
    {
        println!("{name:<10} {:.3}", median(v));
    }
    Ok(())
}
