//! Times the end-to-end points-in-counties job on 2 workers: read the points from
//! GeoParquet, join them with the US counties (inner, intersects), write the joined rows to
//! GeoParquet. Two ways, medians of 3:
//! - with a Hilbert shuffle of the points before the join, each stage timed on its own;
//! - as one lazy plan straight from the file's row groups (each pair task then visits its
//!   points grid cell by grid cell), then the write.
//!
//! Run with:
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
    let stage = |f: &mut dyn FnMut() -> Result<(), Box<dyn std::error::Error>>| {
        let t = Instant::now();
        f().map(|_| t.elapsed().as_secs_f64())
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
    ];
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    let mut rows = (0, 0);
    for _ in 0..3 {
        let mut points = None;
        let read = stage(&mut || {
            points = Some(read_geoparquet(&input, &Default::default())?);
            Ok(())
        })?;
        let mut shuffled = None;
        let shuffle = stage(&mut || {
            let p = points.take().ok_or("no points")?;
            shuffled =
                Some(LazyFrame::from(p).spatial_shuffle(ShuffleMethod::Hilbert, 64, &options)?);
            Ok(())
        })?;
        let mut joined = None;
        let join = stage(&mut || {
            let s = shuffled.take().ok_or("no shuffle")?;
            joined = Some(
                LazyFrame::from(s)
                    .sjoin(&right, How::Inner, Predicate::Intersects)?
                    .collect(&options)?,
            );
            Ok(())
        })?;
        let write = stage(&mut || {
            let j = joined.take().ok_or("no join")?;
            rows.0 = j.len();
            Ok(write_geoparquet(&j, &out)?)
        })?;
        for (k, v) in [read, shuffle, join, write, read + shuffle + join + write]
            .into_iter()
            .enumerate()
        {
            times[k].push(v);
        }

        let mut joined = None;
        let scan_join = stage(&mut || {
            joined = Some(
                scan_geoparquet(&input, &Default::default())?
                    .sjoin(&right, How::Inner, Predicate::Intersects)?
                    .collect(&options)?,
            );
            Ok(())
        })?;
        let write = stage(&mut || {
            let j = joined.take().ok_or("no join")?;
            rows.1 = j.len();
            Ok(write_geoparquet(&j, &out)?)
        })?;
        times[5].push(scan_join);
        times[6].push(write);
        times[7].push(scan_join + write);
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
