//! Counts the pairs of a points dataset (from `gen_points N DIR dataset`) joined with the
//! US counties, slice by slice: ten slices of the files in name order (files `part-000k??`
//! for k = 0..9 when there are 1,000), each counted by its own plan, and their sum. The
//! slices of the 1e9 layer are its ten 1e8 slices.
//!
//!     cargo run --release --example slice_counts -- /tmp/pts9/points_1e9

use std::time::Instant;

use geoframe::join::{How, Predicate};
use geoframe::plan::{scan_geoparquet, scan_shapefile, ExecuteOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: slice_counts DATASET_DIR")?,
    );
    let counties = scan_shapefile("data/us_counties/us_counties.shp", &Default::default())?;
    let options = ExecuteOptions::default();
    let mut total = 0;
    for k in 0..10 {
        let t = Instant::now();
        let slice = scan_geoparquet(
            dir.join(format!("part-000{k}??.parquet")),
            &Default::default(),
        )?;
        let rows = slice.count_rows(&options)?;
        let pairs = slice
            .sjoin(&counties, How::Inner, Predicate::Intersects)?
            .count_rows(&options)?;
        total += pairs;
        println!(
            "slice {k}: {rows} points, {pairs} pairs, {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    println!("sum of the slices: {total} pairs");
    Ok(())
}
