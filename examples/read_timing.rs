//! Times `read_shapefile` on one file and prints rows, partitions, seconds and the size of
//! the decoded data, for comparison with GeoPandas' `read_file` (run it under
//! `/usr/bin/time -v` for the peak RSS).
//!
//!     cargo run --release --example read_timing -- /tmp/pts/points_1e7.shp

use std::time::Instant;

use geoframe::io::{read_shapefile, ShapefileOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: read_timing FILE.shp")?;
    let t = Instant::now();
    let frame = read_shapefile(&path, &ShapefileOptions::default())?;
    let secs = t.elapsed().as_secs_f64();
    let bytes: usize = frame.batches().map(|b| b.get_array_memory_size()).sum();
    println!(
        "read {} rows in {} partitions, {} columns, in {secs:.3} s on {} threads; decoded data {:.0} MB",
        frame.len(),
        frame.npartitions(),
        frame.schema().fields().len(),
        rayon::current_num_threads(),
        bytes as f64 / 1e6
    );
    Ok(())
}
