//! Streams over a shapefile with lazy partitions: each partition is read, counted and
//! dropped, so memory stays bounded whatever the file size. Run under `/usr/bin/time -v`
//! for the peak RSS.
//!
//!     cargo run --release --example scan_count -- /tmp/pts/points_1e8.shp

use std::time::Instant;

use geoframe::io::ShapefileOptions;
use geoframe::plan::scan_shapefile;
use geoframe::plan::ExecuteOptions;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: scan_count FILE.shp")?;
    let t = Instant::now();
    let lazy = scan_shapefile(
        &path,
        &ShapefileOptions {
            rows_per_partition: 1_000_000,
            ..Default::default()
        },
    )?;
    let rows = lazy.count_rows(&ExecuteOptions {
        workers: 0,
        progress: true,
        ..Default::default()
    })?;
    println!(
        "{rows} rows in {} lazy partitions, {:.2} s on {} workers",
        lazy.npartitions(),
        t.elapsed().as_secs_f64(),
        rayon::current_num_threads()
    );
    Ok(())
}
