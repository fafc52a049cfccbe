//! The performance report of a run: an HTML page with one lane per worker, each task a
//! bar in its worker's lane, and the bytes held over time; looked at in headless Chromium.

mod common;

use std::path::Path;
use std::process::Command;

use geoframe::join::{How, Predicate};
use geoframe::plan::{scan_shapefile, ExecuteOptions, LazyFrame};

fn run_with_report(path: &Path, workers: usize) -> geoframe::plan::RunStats {
    let points = LazyFrame::from(geoframe::datagen::uniform_points(200_000, 42, 10_000).unwrap());
    let counties = scan_shapefile(
        common::data("us_counties/us_counties.shp"),
        &geoframe::io::ShapefileOptions {
            rows_per_partition: 500,
            ..Default::default()
        },
    )
    .unwrap();
    let out = path.with_extension("parquet");
    points
        .sjoin(&counties, How::Inner, Predicate::Intersects)
        .unwrap()
        .sink_geoparquet(
            &out,
            &Default::default(),
            &ExecuteOptions {
                workers,
                report: Some(path.to_path_buf()),
                ..Default::default()
            },
        )
        .unwrap()
}

#[test]
fn the_report_has_a_lane_per_worker_with_its_tasks() {
    let dir = tempfile::tempdir().unwrap();
    for workers in [1, 3] {
        let path = dir.path().join(format!("report_{workers}.html"));
        let stats = run_with_report(&path, workers);
        let page = std::fs::read_to_string(&path).unwrap();
        assert_eq!(page.matches(r#"class="lane""#).count(), workers);
        // Every task is drawn once, in the lane of the worker that ran it.
        let tasks: usize = stats.tasks_per_worker.iter().sum();
        assert_eq!(page.matches(r#"class="task""#).count(), tasks);
        for (w, &n) in stats.tasks_per_worker.iter().enumerate() {
            let lane = page
                .split(&format!(r#"data-worker="{w}""#))
                .nth(1)
                .unwrap()
                .split("</g>")
                .next()
                .unwrap();
            assert_eq!(lane.matches(r#"class="task""#).count(), n, "worker {w}");
        }
        assert!(page.contains(r#"<svg id="memory""#) && page.contains("<polyline"));
        assert!(page.contains(&format!("{} rows written", stats.rows_written)));
        for kind in ["scan", "index", "join-pair", "join-output"] {
            assert!(page.contains(&format!("<td>{kind}</td>")), "{kind} totals");
        }
    }
}

/// Headless Chromium draws the page: each worker's lane holds coloured bars. Skipped where
/// Chromium is not installed, unless `GEOFRAME_NEED_CHROMIUM=1` (as in CI) says it must be.
#[test]
fn chromium_draws_a_lane_of_bars_per_worker() {
    let chromium = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| Command::new(c).arg("--version").output().is_ok());
    let Some(chromium) = chromium else {
        assert!(
            std::env::var("GEOFRAME_NEED_CHROMIUM").as_deref() != Ok("1"),
            "GEOFRAME_NEED_CHROMIUM=1 but no chromium on PATH"
        );
        eprintln!("skipped: no chromium");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    let stats = run_with_report(&page, 2);
    let shot = dir.path().join("report.png");
    let profile = dir.path().join("profile");
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1200,700")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(
        shot.exists(),
        "no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decoder = png::Decoder::new(std::fs::File::open(&shot).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).unwrap();
    let channels = info.line_size / info.width as usize;
    let at = |x: u32, y: u32| {
        let i = y as usize * info.line_size + x as usize * channels;
        (pixels[i], pixels[i + 1], pixels[i + 2])
    };
    // Lanes are the bands of rows showing the lane background (a colour nothing else on
    // the page has); each must hold coloured task bars.
    let lane_background = (0xe8, 0xee, 0xf6);
    let width = info.width.min(1100);
    let mut bands: Vec<(u32, u32)> = Vec::new();
    for y in 0..info.height {
        if (0..width).any(|x| at(x, y) == lane_background) {
            match bands.last_mut() {
                Some((_, end)) if *end + 1 == y => *end = y,
                _ => bands.push((y, y)),
            }
        }
    }
    assert_eq!(bands.len(), 2, "lanes on the screenshot: {bands:?}");
    for (w, &(top, bottom)) in bands.iter().enumerate() {
        assert!(bottom - top >= 20, "lane {w} is {} px high", bottom - top);
        let coloured = (0..width)
            .filter(|&x| {
                let (r, g, b) = at(x, (top + bottom) / 2);
                r.max(g).max(b) - r.min(g).min(b) > 60
            })
            .count();
        assert!(
            coloured > 10,
            "worker {w}'s lane has {coloured} coloured pixels; it ran {} tasks",
            stats.tasks_per_worker[w]
        );
    }
}
