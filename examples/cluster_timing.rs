//! Times a points-in-counties join on a Ballista cluster against the same plan run locally,
//! alternating (local, cluster, local, cluster, ...) in one run: each side counts the pairs
//! (`count_rows`: pair tasks only) and, unless `COUNT_ONLY=1`, also collects the joined
//! rows. Both inputs are partitioned GeoParquet datasets read whole-file, as a cluster reads
//! them; the local run uses `WORKERS` workers (default 2). Start the cluster first
//! (`geoframe cluster scheduler`, `geoframe cluster executor ...`). Prints medians, the ratio
//! and the pair counts, which must agree.
//!
//!     cargo run --release --features distributed --example cluster_timing -- \
//!         POINTS_DATASET COUNTIES_DATASET df://127.0.0.1:50050 [ROUNDS]

use std::time::Instant;

use geoframe::distributed::Cluster;
use geoframe::io::GeoParquetOptions;
use geoframe::join::{How, Predicate};
use geoframe::plan::{scan_geoparquet, ExecuteOptions};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, points, counties, url, rest @ ..] = args.as_slice() else {
        return Err(
            "usage: cluster_timing POINTS_DATASET COUNTIES_DATASET df://host:port [ROUNDS]".into(),
        );
    };
    let rounds: usize = rest.first().map_or(Ok(3), |r| r.parse())?;
    let count_only = std::env::var("COUNT_ONLY").is_ok_and(|v| v == "1");
    let workers: usize = std::env::var("WORKERS").map_or(Ok(2), |w| w.parse())?;
    let whole = GeoParquetOptions {
        rows_per_partition: usize::MAX,
    };
    let plan = scan_geoparquet(points, &whole)?.sjoin(
        &scan_geoparquet(counties, &whole)?,
        How::Inner,
        Predicate::Intersects,
    )?;
    let local = ExecuteOptions {
        workers,
        progress: false,
        ..Default::default()
    };
    let cluster = Cluster::connect(url)?;
    let (mut local_count, mut cluster_count) = (Vec::new(), Vec::new());
    let (mut local_collect, mut cluster_collect) = (Vec::new(), Vec::new());
    let mut counts = std::collections::BTreeSet::new();
    let mut tasks = 0;
    for _ in 0..rounds {
        let t = Instant::now();
        counts.insert(plan.count_rows(&local)?);
        local_count.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let (n, stats) = cluster.count_rows_with_stats(&plan)?;
        cluster_count.push(t.elapsed().as_secs_f64());
        counts.insert(n);
        tasks = stats.tasks;
        if !count_only {
            let t = Instant::now();
            counts.insert(plan.collect(&local)?.len() as u64);
            local_collect.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            counts.insert(cluster.collect(&plan)?.len() as u64);
            cluster_collect.push(t.elapsed().as_secs_f64());
        }
    }
    println!(
        "{} x {}: {} pair tasks, pairs {:?}",
        points, counties, tasks, counts
    );
    println!("| run | local ({workers} workers) | cluster | cluster / local |");
    println!("|---|---|---|---|");
    let row = |label: &str, l: Vec<f64>, c: Vec<f64>| {
        if l.is_empty() {
            return;
        }
        let (l, c) = (median(l), median(c));
        println!("| {label} | {l:.2} s | {c:.2} s | {:.2}x |", c / l);
    };
    row("count_rows", local_count, cluster_count);
    row("collect", local_collect, cluster_collect);
    if counts.len() != 1 {
        return Err(format!("the runs disagree on the pairs: {counts:?}").into());
    }
    Ok(())
}
