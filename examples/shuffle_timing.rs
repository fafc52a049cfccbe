//! Times `spatial_shuffle` (Hilbert) of N generated points with 1 and 2 workers, in one
//! run, and prints medians of 3 and the speed-up.
//!
//!     cargo run --release --example shuffle_timing -- 1e7

use std::time::Instant;

use geoframe::partition::ShuffleMethod;
use geoframe::plan::{ExecuteOptions, LazyFrame};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "1e7".into())
        .parse::<f64>()? as u64;
    let points = geoframe::datagen::uniform_points(n, geoframe::datagen::DEFAULT_SEED, 1_000_000)?;
    let lazy = LazyFrame::from(points);
    let mut medians = Vec::new();
    println!(
        "{:<10} {:>8} {:>12} {:>12}",
        "method", "workers", "median s", "partitions"
    );
    for workers in [1, 2] {
        let options = ExecuteOptions {
            workers,
            ..Default::default()
        };
        let mut times = Vec::new();
        let mut parts = 0;
        for _ in 0..3 {
            let t = Instant::now();
            let shuffled = lazy.spatial_shuffle(ShuffleMethod::Hilbert, 64, &options)?;
            times.push(t.elapsed().as_secs_f64());
            parts = shuffled.npartitions();
        }
        if std::env::var_os("GEOFRAME_TRACE").is_some() {
            let (_, stats) = lazy
                .spatial_shuffle_lazy(ShuffleMethod::Hilbert, 64)?
                .collect_with_stats(&options)?;
            eprintln!(
                "{workers} workers: seconds per task kind {:?}",
                stats.seconds_per_kind
            );
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{:<10} {:>8} {:>12.3} {:>12}",
            "hilbert", workers, times[1], parts
        );
        medians.push(times[1]);
    }
    println!(
        "speed-up 2 vs 1 workers: {:.2}x ({n} points)",
        medians[0] / medians[1]
    );
    Ok(())
}
