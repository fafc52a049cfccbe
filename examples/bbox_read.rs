//! Measures a box filter on a large GeoParquet file: the 1e7 points, Hilbert-sorted into
//! 100 row groups with a `bbox` covering, read whole and through a box that holds about
//! 1 % of them. Bytes read are the process's `rchar` (bytes returned by read calls, from
//! `/proc/self/io`); times are medians of alternating runs (whole, box, whole, box, ...).
//!
//!     cargo run --release --example gen_points -- 1e7 /tmp/pts
//!     cargo run --release --example bbox_read -- /tmp/pts/points_1e7.parquet 5

use std::time::Instant;

use geo::Rect;
use geoframe::io::{read_geoparquet, read_geoparquet_bbox, write_geoparquet};
use geoframe::partition::ShuffleMethod;

fn bytes_read() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .ok()
        .and_then(|io| {
            io.lines().find_map(|l| {
                l.strip_prefix("rchar: ")
                    .and_then(|v| v.trim().parse().ok())
            })
        })
        .unwrap_or(0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let input = args
        .next()
        .unwrap_or_else(|| "/tmp/pts/points_1e7.parquet".into());
    let rounds: usize = args.next().map_or(Ok(5), |r| r.parse())?;
    let sorted = std::env::temp_dir().join("geoframe_bbox_read.parquet");
    let points = read_geoparquet(&input, &Default::default())?;
    let total = points.len();
    write_geoparquet(
        &points.spatial_shuffle(ShuffleMethod::Hilbert, 100)?,
        &sorted,
    )?;
    drop(points);
    let file_bytes = std::fs::metadata(&sorted)?.len();
    // 1 % of the contiguous-US box [-125, 24, -66, 50] the points fill uniformly.
    let (w, h) = (59.0 * 0.1, 26.0 * 0.1);
    let rect = Rect::new((-100.0, 35.0), (-100.0 + w, 35.0 + h));

    let (mut whole, mut boxed) = (Vec::new(), Vec::new());
    let (mut whole_bytes, mut box_bytes, mut kept) = (0, 0, 0);
    for _ in 0..rounds {
        let (b, t) = (bytes_read(), Instant::now());
        let all = read_geoparquet(&sorted, &Default::default())?;
        whole.push(t.elapsed().as_secs_f64());
        whole_bytes = bytes_read() - b;
        assert_eq!(all.len(), total);
        drop(all);
        let (b, t) = (bytes_read(), Instant::now());
        let inside = read_geoparquet_bbox(&sorted, rect, &Default::default())?;
        boxed.push(t.elapsed().as_secs_f64());
        box_bytes = bytes_read() - b;
        kept = inside.len();
    }
    println!(
        "file: {total} points, {:.1} MB, 100 row groups (Hilbert order, bbox covering)",
        file_bytes as f64 / 1e6
    );
    println!(
        "| read | rows | bytes read (MB) | share of file | median (s) |\n|---|---|---|---|---|"
    );
    println!(
        "| whole file | {total} | {:.1} | {:.1} % | {:.3} |",
        whole_bytes as f64 / 1e6,
        100.0 * whole_bytes as f64 / file_bytes as f64,
        median(whole.clone())
    );
    println!(
        "| box {:?} ({:.2} % of rows) | {kept} | {:.1} | {:.1} % | {:.3} |",
        (rect.min().x, rect.min().y, rect.max().x, rect.max().y),
        100.0 * kept as f64 / total as f64,
        box_bytes as f64 / 1e6,
        100.0 * box_bytes as f64 / file_bytes as f64,
        median(boxed.clone())
    );
    println!("speed-up: {:.1}x", median(whole) / median(boxed));
    std::fs::remove_file(&sorted)?;
    Ok(())
}
