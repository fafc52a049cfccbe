//! Chooses GeoParquet's default compression by measurement: the 1e7-point join output
//! (points in US counties) written with each codec, and with and without the `bbox`
//! covering column, then read back. Rounds alternate the codecs (A B C ... A B C ...), and
//! the table gives medians on 2 workers.
//!
//!     cargo run --release --example gen_points -- 1e7 /tmp/pts
//!     cargo run --release --example parquet_codecs -- /tmp/pts/points_1e7.parquet 3

use std::time::Instant;

use geoframe::io::{
    read_geoparquet, read_shapefile, write_geoparquet_with, GeoParquetWriteOptions,
    ParquetCompression, ShapefileOptions,
};
use geoframe::join::{How, Predicate};
use geoframe::plan::{scan_geoparquet, ExecuteOptions, LazyFrame};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let input = args
        .next()
        .unwrap_or_else(|| "/tmp/pts/points_1e7.parquet".into());
    let rounds: usize = args.next().map_or(Ok(3), |r| r.parse())?;
    let options = ExecuteOptions {
        workers: 2,
        ..Default::default()
    };
    let counties = read_shapefile(
        "data/us_counties/us_counties.shp",
        &ShapefileOptions::default(),
    )?;
    let started = Instant::now();
    let joined = scan_geoparquet(&input, &Default::default())?
        .sjoin(
            &LazyFrame::from(counties),
            How::Inner,
            Predicate::Intersects,
        )?
        .collect(&options)?;
    let join_seconds = started.elapsed().as_secs_f64();
    println!(
        "join: {} rows, {} partitions, {join_seconds:.2} s",
        joined.len(),
        joined.npartitions()
    );

    let settings: Vec<(String, GeoParquetWriteOptions)> = [
        "snappy",
        "lz4",
        "zstd:1",
        "zstd:3",
        "uncompressed",
        "gzip:1",
        "brotli:1",
    ]
    .iter()
    .map(|name| {
        let compression: ParquetCompression = name.parse().expect("a codec name");
        let options = GeoParquetWriteOptions {
            compression,
            ..Default::default()
        };
        (name.to_string(), options)
    })
    .chain(std::iter::once((
        "snappy, no covering".to_string(),
        GeoParquetWriteOptions {
            compression: ParquetCompression::Snappy,
            covering: false,
            ..Default::default()
        },
    )))
    .collect();
    let dir = tempfile::tempdir()?;
    let mut writes = vec![Vec::new(); settings.len()];
    let mut reads = vec![Vec::new(); settings.len()];
    let mut sizes = vec![0u64; settings.len()];
    for _ in 0..rounds {
        for (k, (name, write_options)) in settings.iter().enumerate() {
            let path = dir.path().join(format!("out_{k}.parquet"));
            let t = Instant::now();
            write_geoparquet_with(&joined, &path, write_options)?;
            writes[k].push(t.elapsed().as_secs_f64());
            sizes[k] = std::fs::metadata(&path)?.len();
            let t = Instant::now();
            let back = read_geoparquet(&path, &Default::default())?;
            reads[k].push(t.elapsed().as_secs_f64());
            assert_eq!(back.len(), joined.len(), "{name}");
            std::fs::remove_file(&path)?;
        }
    }
    println!(
        "\n| codec | file size (MB) | write (s) | read back (s) | join + write (s) |\n|---|---|---|---|---|"
    );
    for (k, (name, _)) in settings.iter().enumerate() {
        let write = median(writes[k].clone());
        println!(
            "| {name} | {:.1} | {write:.2} | {:.2} | {:.2} |",
            sizes[k] as f64 / 1e6,
            median(reads[k].clone()),
            join_seconds + write
        );
    }
    Ok(())
}
