//! Times the end-to-end points-in-counties job on 2 workers: read the points from
//! GeoParquet, join them with the US counties (inner, intersects), write the joined rows to
//! GeoParquet. Two ways, medians of 3:
//! - with a Hilbert shuffle of the points before the join, each stage timed on its own;
//! - as one lazy plan straight from the file's row groups (each pair task then visits its
//!   points grid cell by grid cell), then the write;
//! - as that plan streamed into the file (`sink_geoparquet`), with and without the `bbox`
//!   covering column.
//!
//! Run with:
//!
//!     cargo run --release --example gen_points -- 1e7 /tmp/pts
//!     cargo run --release --example end_to_end -- /tmp/pts/points_1e7.parquet

use std::time::Instant;

use geoframe::io::{
    read_geoparquet, read_shapefile, write_geoparquet, GeoParquetWriteOptions, ShapefileOptions,
};
use geoframe::join::{How, Predicate};
use geoframe::partition::ShuffleMethod;
use geoframe::plan::{scan_geoparquet, ExecuteOptions, LazyFrame};
use geoframe::GeoFrame;

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
        ..Default::default()
    };
    let counties = read_shapefile(
        "data/us_counties/us_counties.shp",
        &ShapefileOptions::default(),
    )?;
    let right = LazyFrame::from(counties.spatial_shuffle(ShuffleMethod::Hilbert, 1)?);
    // Writes a joined frame; (seconds, rows).
    let write = |joined: GeoFrame| -> Result<(f64, usize), Box<dyn std::error::Error>> {
        let t = Instant::now();
        write_geoparquet(&joined, &out)?;
        Ok((t.elapsed().as_secs_f64(), joined.len()))
    };

    let names = [
        "shuffled: read",
        "shuffled: shuffle",
        "shuffled: join",
        "shuffled: write",
        "shuffled: total",
        "unshuffled: scan + join",
        "unshuffled: write",
        "unshuffled: total",
        "streamed: scan+join+write",
        "streamed, no covering",
    ];
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    let mut rows = (0, 0);
    for _ in 0..3 {
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
        let (written, n) = write(joined)?;
        rows.0 = n;
        let total = read + shuffle + join + written;

        let t = Instant::now();
        let joined = scan_geoparquet(&input, &Default::default())?
            .sjoin(&right, How::Inner, Predicate::Intersects)?
            .collect(&options)?;
        let scan_join = t.elapsed().as_secs_f64();
        let (unshuffled_written, n) = write(joined)?;
        rows.1 = n;

        // The same plan streamed into the file: reading, joining and writing overlap.
        let plan = scan_geoparquet(&input, &Default::default())?.sjoin(
            &right,
            How::Inner,
            Predicate::Intersects,
        )?;
        let t = Instant::now();
        plan.sink_geoparquet(&out, &Default::default(), &options)?;
        let streamed = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let no_covering = GeoParquetWriteOptions {
            covering: false,
            ..Default::default()
        };
        plan.sink_geoparquet(&out, &no_covering, &options)?;
        let streamed_no_covering = t.elapsed().as_secs_f64();
        let row = [
            read,
            shuffle,
            join,
            written,
            total,
            scan_join,
            unshuffled_written,
            scan_join + unshuffled_written,
            streamed,
            streamed_no_covering,
        ];
        for (v, t) in times.iter_mut().zip(row) {
            v.push(t);
        }
    }
    let _ = std::fs::remove_file(&out);
    println!(
        "rows written: {} (shuffled), {} (unshuffled)",
        rows.0, rows.1
    );
    println!("{:<26} {:>9}", "stage (2 workers)", "median s");
    for (name, v) in names.iter().zip(times) {
        println!("{name:<26} {:>9.3}", median(v));
    }
    Ok(())
}
