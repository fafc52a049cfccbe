//! One benchmark run: geoframe against the plain single-core `geo` + `rstar` way and, when
//! given their output, the Python/SQL peers (GeoPandas, dask-geopandas, SedonaDB, DuckDB).
//! Prints one table (medians of 3), writes it as CSV
//! (`task,engine,workers,n,seconds,pairs,peak_rss_mb`) and draws a bar chart (PNG).
//!
//!     scripts/run-benchmarks.sh 1e7        # peers, then this example, in one run
//!     cargo run --release --example benchmark -- 1e7 /tmp/pts [peers.txt] [OUTDIR]
//!     cargo run --release --example benchmark -- --chart benchmarks/results.csv benchmarks/join.png
//!
//! Tasks: `join` (N points in the 3,231 US counties, intersects; geoframe on Hilbert-shuffled
//! points, the shuffle its own row; assembling the joined rows, and only counting them as
//! the loop and the SQL peers do), `read-shp` (the N-point shapefile with its attributes),
//! `shuffle` (Hilbert, 64 partitions), `end-to-end` (read GeoParquet, join, write
//! GeoParquet: straight from the row groups, and with a shuffle first), `polygon-join` (counties against counties shifted by 0.01°), `nearest`
//! (N/100 points to their nearest county centroid). Peak RSS is the process's high-water
//! mark during the measurement (reset through `/proc/self/clear_refs` before each).

#[path = "support/baseline.rs"]
mod baseline;
#[path = "support/map.rs"]
#[allow(dead_code)]
mod map;

use std::time::Instant;

use geo::{BoundingRect, Centroid, Intersects, Translate};
use geoframe::io::{read_geoparquet, read_shapefile, write_geoparquet, ShapefileOptions};
use geoframe::join::{How, Predicate};
use geoframe::partition::ShuffleMethod;
use geoframe::plan::{ExecuteOptions, LazyFrame};
use geoframe::GeoFrame;
use plotters::prelude::*;
use rstar::primitives::GeomWithData;
use rstar::{RTree, AABB};

struct Row {
    task: String,
    engine: String,
    workers: usize,
    n: u64,
    seconds: f64,
    pairs: u64,
    peak_rss_mb: f64,
}

fn reset_peak() {
    // "5" resets the peak RSS (VmHWM) of the process (Linux 4.0+); elsewhere a no-op.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Median of three runs of `f`, which returns a pair or row count; with the peak RSS.
fn measure(mut f: impl FnMut() -> Result<u64, map::Error>) -> Result<(f64, u64, f64), map::Error> {
    reset_peak();
    let mut times = Vec::new();
    let mut count = 0;
    for _ in 0..3 {
        let t = Instant::now();
        count = f()?;
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    Ok((times[1], count, peak_mb()))
}

fn main() -> Result<(), map::Error> {
    let mut args = std::env::args().skip(1);
    if std::env::args().nth(1).as_deref() == Some("--chart") {
        // Redraw the chart from a results CSV: --chart results.csv join.png
        let (csv, png) = (args.nth(1).ok_or("no csv")?, args.next().ok_or("no png")?);
        let rows: Vec<Row> = std::fs::read_to_string(&csv)?
            .lines()
            .skip(1)
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                Ok(Row {
                    task: f[0].into(),
                    engine: f[1].into(),
                    workers: f[2].parse()?,
                    n: f[3].parse()?,
                    seconds: f[4].parse()?,
                    pairs: f[5].parse()?,
                    peak_rss_mb: f[6].parse()?,
                })
            })
            .collect::<Result<_, map::Error>>()?;
        let n = rows.iter().find(|r| r.task == "join").map_or(0, |r| r.n);
        return chart(&rows, std::path::Path::new(&png), n);
    }
    let label = args.next().unwrap_or_else(|| "1e7".into());
    let n = label.parse::<f64>()? as u64;
    let dir = std::path::PathBuf::from(args.next().unwrap_or_else(|| "/tmp/pts".into()));
    let peers = args.next().filter(|p| !p.is_empty());
    let out = std::path::PathBuf::from(args.next().unwrap_or_else(|| "benchmarks".into()));
    std::fs::create_dir_all(&out)?;
    std::fs::create_dir_all(&dir)?;
    let shp = dir.join(format!("points_{label}.shp"));
    let parquet = dir.join(format!("points_{label}.parquet"));
    if !shp.exists() || !parquet.exists() {
        let points =
            geoframe::datagen::uniform_points(n, geoframe::datagen::DEFAULT_SEED, 1_000_000)?;
        geoframe::io::write_shapefile(&points, &shp)?;
        write_geoparquet(&points, &parquet)?;
    }
    let mut rows: Vec<Row> = Vec::new();
    let mut push = |task: &str,
                    engine: &str,
                    workers: usize,
                    n: u64,
                    (seconds, pairs, peak_rss_mb): (f64, u64, f64)| {
        eprintln!("{task:<14} {engine:<34} {workers:>2} {seconds:>8.3} s {pairs:>10} {peak_rss_mb:>7.0} MB");
        rows.push(Row {
            task: task.into(),
            engine: engine.into(),
            workers,
            n,
            seconds,
            pairs,
            peak_rss_mb,
        });
    };
    let counties = read_shapefile(
        "data/us_counties/us_counties.shp",
        &ShapefileOptions::default(),
    )?;
    let polygons: Vec<geo::Geometry> = counties.geometries()?.into_iter().flatten().collect();
    let w = |workers| ExecuteOptions {
        workers,
        ..Default::default()
    };

    // Reading the shapefile.
    push(
        "read-shp",
        "geoframe",
        2,
        n,
        measure(|| Ok(read_shapefile(&shp, &ShapefileOptions::default())?.len() as u64))?,
    );

    // The join, the plain way: one core, points in file order.
    let points = read_geoparquet(&parquet, &Default::default())?;
    let coords: Vec<(f64, f64)> = points
        .geometries()?
        .into_iter()
        .flatten()
        .filter_map(|g| match g {
            geo::Geometry::Point(p) => Some((p.x(), p.y())),
            _ => None,
        })
        .collect();
    let tree = baseline::boxes(&polygons);
    push(
        "join",
        "geo + rstar loop",
        1,
        n,
        measure(|| {
            let mut pairs = 0u64;
            for &(x, y) in &coords {
                let p = geo::Point::new(x, y);
                for c in tree.locate_in_envelope_intersecting(&AABB::from_point([x, y])) {
                    pairs += u64::from(p.intersects(&polygons[c.data]));
                }
            }
            Ok(pairs)
        })?,
    );
    drop(coords);

    // geoframe: shuffle (its own row), then the join on the shuffled points.
    for workers in [1, 2] {
        push(
            "shuffle",
            "geoframe (Hilbert to 64 partitions)",
            workers,
            n,
            measure(|| {
                Ok(LazyFrame::from(points.clone())
                    .spatial_shuffle(ShuffleMethod::Hilbert, 64, &w(workers))?
                    .len() as u64)
            })?,
        );
    }
    let shuffled = LazyFrame::from(LazyFrame::from(points.clone()).spatial_shuffle(
        ShuffleMethod::Hilbert,
        64,
        &w(2),
    )?);
    let right = LazyFrame::from(counties.spatial_shuffle(ShuffleMethod::Hilbert, 1)?);
    let plan = shuffled.sjoin(&right, How::Inner, Predicate::Intersects)?;
    for workers in [1, 2] {
        push(
            "join",
            "geoframe sjoin (shuffled)",
            workers,
            n,
            measure(|| Ok(plan.collect(&w(workers))?.len() as u64))?,
        );
    }
    // Only counting the pairs, as the loop above and the peers' `count(*)` queries do.
    for workers in [1, 2] {
        push(
            "join",
            "geoframe sjoin, count_rows (shuffled)",
            workers,
            n,
            measure(|| Ok(plan.count_rows(&w(workers))?))?,
        );
    }
    drop(plan);
    drop(shuffled);
    drop(points);

    // End to end: GeoParquet in, join, GeoParquet out; straight from the file's row groups
    // (each pair task visits its points block of grid cells by block), and with a Hilbert
    // shuffle first.
    let target = out.join("end_to_end.parquet");
    push(
        "end-to-end",
        "geoframe (scan + join + write)",
        2,
        n,
        measure(|| {
            let joined = geoframe::plan::scan_geoparquet(&parquet, &Default::default())?
                .sjoin(&right, How::Inner, Predicate::Intersects)?
                .collect(&w(2))?;
            write_geoparquet(&joined, &target)?;
            Ok(joined.len() as u64)
        })?,
    );
    push(
        "end-to-end",
        "geoframe (read + shuffle + join + write)",
        2,
        n,
        measure(|| {
            let pts = read_geoparquet(&parquet, &Default::default())?;
            let s = LazyFrame::from(pts).spatial_shuffle(ShuffleMethod::Hilbert, 64, &w(2))?;
            let joined = LazyFrame::from(s)
                .sjoin(&right, How::Inner, Predicate::Intersects)?
                .collect(&w(2))?;
            write_geoparquet(&joined, &target)?;
            Ok(joined.len() as u64)
        })?,
    );
    let _ = std::fs::remove_file(&target);

    // Polygons against polygons: counties and counties shifted by 0.01°.
    let shifted: Vec<geo::Geometry> = polygons.iter().map(|g| g.translate(0.01, 0.01)).collect();
    let shifted_frame = GeoFrame::from_geometries(shifted.clone(), counties.crs().cloned())?;
    let shifted_tree = baseline::boxes(&shifted);
    push(
        "polygon-join",
        "geo + rstar loop",
        1,
        polygons.len() as u64,
        measure(|| {
            let mut pairs = 0u64;
            for a in &polygons {
                let Some(r) = a.bounding_rect() else { continue };
                let env = AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
                for c in shifted_tree.locate_in_envelope_intersecting(&env) {
                    pairs += u64::from(a.intersects(&shifted[c.data]));
                }
            }
            Ok(pairs)
        })?,
    );
    let left = LazyFrame::from(counties.spatial_shuffle(ShuffleMethod::Hilbert, 8)?);
    let poly_plan = left.sjoin(
        &LazyFrame::from(shifted_frame.spatial_shuffle(ShuffleMethod::Hilbert, 8)?),
        How::Inner,
        Predicate::Intersects,
    )?;
    for workers in [1, 2] {
        push(
            "polygon-join",
            "geoframe sjoin",
            workers,
            polygons.len() as u64,
            measure(|| Ok(poly_plan.collect(&w(workers))?.len() as u64))?,
        );
    }

    // Nearest: N/100 points to the nearest county centroid.
    let m = (n / 100).max(1);
    let few = geoframe::datagen::uniform_points(m, 7, 100_000)?;
    let centroids: Vec<geo::Point> = polygons.iter().filter_map(|g| g.centroid()).collect();
    let centroid_frame = GeoFrame::from_geometries(
        centroids.iter().map(|&p| p.into()).collect(),
        counties.crs().cloned(),
    )?;
    let few_coords: Vec<geo::Point> = few
        .geometries()?
        .into_iter()
        .flatten()
        .filter_map(|g| match g {
            geo::Geometry::Point(p) => Some(p),
            _ => None,
        })
        .collect();
    let point_tree = RTree::bulk_load(
        centroids
            .iter()
            .enumerate()
            .map(|(i, p)| GeomWithData::new([p.x(), p.y()], i))
            .collect(),
    );
    push(
        "nearest",
        "geo + rstar nearest_neighbor",
        1,
        m,
        measure(|| {
            Ok(few_coords
                .iter()
                .filter(|p| point_tree.nearest_neighbor(&[p.x(), p.y()]).is_some())
                .count() as u64)
        })?,
    );
    let near_plan = LazyFrame::from(few.spatial_shuffle(ShuffleMethod::Hilbert, 16)?)
        .sjoin_nearest(
            &LazyFrame::from(centroid_frame.spatial_shuffle(ShuffleMethod::Hilbert, 4)?),
            How::Inner,
            None,
            None,
        )?;
    for workers in [1, 2] {
        push(
            "nearest",
            "geoframe sjoin_nearest",
            workers,
            m,
            measure(|| Ok(near_plan.collect(&w(workers))?.len() as u64))?,
        );
    }

    // The peers' rows, from bench_peers.py's output.
    if let Some(path) = peers {
        for line in std::fs::read_to_string(&path)?.lines() {
            let mut parts = line.split_whitespace();
            let Some(engine) = parts.next() else { continue };
            let fields: std::collections::HashMap<&str, &str> =
                parts.filter_map(|p| p.split_once('=')).collect();
            let (Some(s), Some(p)) = (fields.get("join_s"), fields.get("pairs")) else {
                eprintln!("peer line skipped: {line}");
                continue;
            };
            let (task, engine) = match engine {
                "geopandas-read-shp" => ("read-shp", "GeoPandas read_file (pyogrio)".to_string()),
                "sedonadb-e2e" => ("end-to-end", "sedonadb (read + join + write)".to_string()),
                _ => ("join", engine.to_string()),
            };
            let workers = if engine.starts_with("GeoPandas") || engine == "geopandas" {
                1
            } else {
                2
            };
            rows.push(Row {
                task: task.into(),
                engine,
                workers,
                n,
                seconds: s.parse()?,
                pairs: p.parse()?,
                peak_rss_mb: fields
                    .get("maxrss_mb")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(f64::NAN),
            });
        }
    }

    // Table: each task's rows, with the ratio to geoframe's fastest row of that task.
    let mut csv = String::from("task,engine,workers,n,seconds,pairs,peak_rss_mb\n");
    println!("| task | engine | workers | n | median s | pairs / rows | peak RSS MB | × geoframe's time |");
    println!("|---|---|---|---|---|---|---|---|");
    for task in [
        "join",
        "read-shp",
        "shuffle",
        "end-to-end",
        "polygon-join",
        "nearest",
    ] {
        let ours = rows
            .iter()
            .filter(|r| r.task == task && r.engine.starts_with("geoframe"))
            .map(|r| r.seconds)
            .fold(f64::INFINITY, f64::min);
        for r in rows.iter().filter(|r| r.task == task) {
            println!(
                "| {} | {} | {} | {} | {:.3} | {} | {:.0} | {:.1} |",
                r.task,
                r.engine,
                r.workers,
                r.n,
                r.seconds,
                r.pairs,
                r.peak_rss_mb,
                r.seconds / ours
            );
            csv.push_str(&format!(
                "{},{},{},{},{:.4},{},{:.0}\n",
                r.task, r.engine, r.workers, r.n, r.seconds, r.pairs, r.peak_rss_mb
            ));
        }
    }
    std::fs::write(out.join("results.csv"), csv)?;
    chart(&rows, &out.join("join.png"), n)?;
    eprintln!("wrote {}", out.join("results.csv").display());
    Ok(())
}

/// Bar chart of the join rows (seconds, log scale would hide the ratios: linear).
fn chart(rows: &[Row], path: &std::path::Path, n: u64) -> Result<(), map::Error> {
    map::load_font()?;
    let bars: Vec<(String, f64)> = rows
        .iter()
        .filter(|r| r.task == "join")
        .map(|r| (format!("{} ({}w)", r.engine, r.workers), r.seconds))
        .collect();
    let max = bars.iter().map(|b| b.1).fold(0.0, f64::max) * 1.15;
    let root = BitMapBackend::new(path, (1200, 120 + 60 * bars.len() as u32)).into_drawing_area();
    root.fill(&WHITE)?;
    let n_bars = bars.len() as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("Points in US counties, {n} points: join time (median of 3, 2 cores)"),
            ("sans-serif", 24),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(330)
        .build_cartesian_2d(0.0..max, 0.0..n_bars)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(WHITE)
        .x_desc("seconds (lower is better)")
        .y_labels(bars.len() * 2 + 1)
        .y_label_formatter(&|v| {
            let i = (v - 0.5).round();
            if (v - 0.5 - i).abs() < 1e-6 && i >= 0.0 {
                bars.get(i as usize)
                    .map(|b| b.0.clone())
                    .unwrap_or_default()
            } else {
                String::new()
            }
        })
        .label_style(("sans-serif", 16))
        .axis_desc_style(("sans-serif", 18))
        .draw()?;
    chart.draw_series(bars.iter().enumerate().map(|(i, (name, s))| {
        let color = if name.starts_with("geoframe") {
            RGBColor(189, 0, 38)
        } else {
            RGBColor(120, 120, 120)
        };
        plotters::element::Rectangle::new(
            [(0.0, i as f64 + 0.15), (*s, i as f64 + 0.85)],
            color.filled(),
        )
    }))?;
    chart.draw_series(bars.iter().enumerate().map(|(i, (_, s))| {
        Text::new(
            format!(" {s:.2} s"),
            (*s, i as f64 + 0.62),
            ("sans-serif", 16),
        )
    }))?;
    root.present()?;
    Ok(())
}
