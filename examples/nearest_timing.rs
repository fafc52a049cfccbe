//! Times the nearest join of a point layer to a polygon layer, both GeoParquet (the peers'
//! 1e6 points and `us_counties.parquet`), data in memory, join only: the points
//! Hilbert-shuffled into 64 partitions beforehand (not timed), then `sjoin_nearest`
//! (inner, ties kept) counted on 2 workers, medians of 3.
//!
//!     cargo run --release --example nearest_timing -- /tmp/pts1e6/points_1e6.parquet /tmp/us_counties.parquet

use std::time::Instant;

use geoframe::io::{read_geoparquet, GeoParquetOptions};
use geoframe::join::How;
use geoframe::partition::ShuffleMethod;
use geoframe::plan::{ExecuteOptions, LazyFrame};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(points), Some(polygons)) = (args.next(), args.next()) else {
        return Err("usage: nearest_timing POINTS.parquet POLYGONS.parquet".into());
    };
    let options = GeoParquetOptions::default();
    let left = read_geoparquet(&points, &options)?.spatial_shuffle(ShuffleMethod::Hilbert, 64)?;
    let right = read_geoparquet(&polygons, &options)?;
    let plan =
        LazyFrame::from(left).sjoin_nearest(&LazyFrame::from(right), How::Inner, None, None)?;
    let execute = ExecuteOptions {
        workers: 2,
        ..Default::default()
    };
    let mut times = Vec::new();
    let mut rows = 0;
    for _ in 0..3 {
        let t = Instant::now();
        rows = plan.count_rows(&execute)?;
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "geoframe-nearest join_s={:.3} pairs={rows} (median of 3, 2 workers)",
        times[1]
    );
    Ok(())
}
