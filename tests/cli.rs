//! The `geoframe` command line on real files: every subcommand, and bad input (missing file,
//! unknown format, unknown column) exiting with status 2 and a message naming the problem.

use std::path::PathBuf;
use std::process::{Command, Output};

mod common;

fn geoframe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_geoframe"))
        .args(args)
        .arg("--quiet")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run geoframe")
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const CITIES: &str = "data/naturalearth_cities/naturalearth_cities.shp";
const COUNTRIES: &str = "data/naturalearth_lowres/naturalearth_lowres.shp";

fn out(dir: &tempfile::TempDir, name: &str) -> String {
    dir.path().join(name).to_string_lossy().into_owned()
}

#[test]
fn info_describes_a_shapefile() {
    let o = geoframe(&[
        "info",
        "data/us_counties/us_counties.shp",
        "--partitions",
        "500",
    ]);
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{stderr}");
    assert!(stdout.contains("rows:       3231"), "{stdout}");
    assert!(stdout.contains("partitions: 7"), "{stdout}");
    assert!(stdout.contains("EPSG:4326"), "{stdout}");
    assert!(stdout.contains("geoid"), "{stdout}");
}

#[test]
fn sjoin_writes_the_pairs_geopandas_finds() {
    let dir = tempfile::tempdir().unwrap();
    for ext in ["parquet", "shp", "geojson", "fgb", "gpkg"] {
        let path = out(&dir, &format!("joined.{ext}"));
        let o = geoframe(&[
            "sjoin",
            CITIES,
            COUNTRIES,
            "--predicate",
            "within",
            "-o",
            &path,
            "--workers",
            "2",
        ]);
        assert!(o.status.success(), "{}", text(&o).1);
        let back = match ext {
            "parquet" => geoframe::io::read_geoparquet(&path, &Default::default()).unwrap(),
            "shp" => geoframe::io::read_shapefile(&path, &Default::default()).unwrap(),
            "fgb" => geoframe::io::read_flatgeobuf(&path, 1000).unwrap(),
            "gpkg" => geoframe::io::read_geopackage(&path, &Default::default()).unwrap(),
            _ => geoframe::io::read_geojson(&path, 1000).unwrap(),
        };
        // GeoPandas' sjoin(cities, countries, predicate="within"): tests/oracle.
        assert_eq!(
            back.len(),
            common::oracle("cities_within_countries.csv").len()
        );
        assert_eq!(back.len(), 213);
    }
}

#[test]
fn sjoin_reads_flatgeobuf_and_geopackage_written_by_gdal() {
    let dir = tempfile::tempdir().unwrap();
    let path = out(&dir, "joined.parquet");
    let o = geoframe(&[
        "sjoin",
        "tests/data/peers/cities_gdal_noindex.fgb",
        "tests/data/peers/countries_gdal.gpkg",
        "--predicate",
        "within",
        "-o",
        &path,
    ]);
    assert!(o.status.success(), "{}", text(&o).1);
    let back = geoframe::io::read_geoparquet(&path, &Default::default()).unwrap();
    assert_eq!(back.len(), 213);
}

#[test]
fn nearest_dissolve_and_convert() {
    let dir = tempfile::tempdir().unwrap();
    let near = out(&dir, "near.parquet");
    let o = geoframe(&[
        "nearest",
        CITIES,
        COUNTRIES,
        "--distance-col",
        "dist",
        "-o",
        &near,
    ]);
    assert!(o.status.success(), "{}", text(&o).1);
    let frame = geoframe::io::read_geoparquet(&near, &Default::default()).unwrap();
    assert!(frame.len() >= 243);
    assert!(frame.column("dist").is_ok());

    let continents = out(&dir, "continents.parquet");
    let o = geoframe(&[
        "dissolve",
        COUNTRIES,
        "--by",
        "continent",
        "--agg",
        "pop_est:sum",
        "--split-out",
        "3",
        "-o",
        &continents,
    ]);
    assert!(o.status.success(), "{}", text(&o).1);
    let frame = geoframe::io::read_geoparquet(&continents, &Default::default()).unwrap();
    // Dissolved through spill files beside the output, range by range: the in-memory
    // dissolve's rows, and no spill left.
    let countries = geoframe::io::read_shapefile(COUNTRIES, &Default::default()).unwrap();
    let expected = countries
        .dissolve(
            &["continent"],
            &[("pop_est", geoframe::ops::Aggregate::Sum)],
        )
        .unwrap();
    assert_eq!(frame.len(), 8);
    for name in ["continent", "pop_est", "geometry"] {
        assert_eq!(
            frame.column(name).unwrap().to_data(),
            expected.column(name).unwrap().to_data(),
            "{name}"
        );
    }
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");

    let merc = out(&dir, "cities_3857.geojson");
    let o = geoframe(&["convert", CITIES, "--to-crs", "EPSG:3857", "-o", &merc]);
    assert!(o.status.success(), "{}", text(&o).1);
    let frame = geoframe::io::read_geojson(&merc, 1000).unwrap();
    assert_eq!(frame.len(), 243);
    // Vatican City, as pyproj puts it in EPSG:3857 (tests/oracle/ops_cities.csv).
    assert!((frame.x().unwrap().value(0) - 1386304.6438318274).abs() < 1e-6);
}

#[test]
fn bad_input_exits_with_status_2_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let target = out(&dir, "x.parquet");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["info", "data/nope.shp"], "nope"),
        (vec!["info", "README.md"], "unknown format"),
        (
            vec![
                "dissolve",
                COUNTRIES,
                "--by",
                "no_such_column",
                "-o",
                &target,
            ],
            "no_such_column",
        ),
        (
            vec![
                "dissolve",
                COUNTRIES,
                "--by",
                "continent",
                "--agg",
                "name:sum",
                "-o",
                &target,
            ],
            "numeric",
        ),
        (
            vec!["sjoin", CITIES, COUNTRIES, "-o", "out.txt"],
            "unknown format",
        ),
        (
            vec![
                "sjoin",
                CITIES,
                COUNTRIES,
                "--predicate",
                "dwithin",
                "-o",
                &target,
            ],
            "--distance",
        ),
        (
            vec!["convert", CITIES, "--to-crs", "EPSG:999999", "-o", &target],
            "CRS",
        ),
    ];
    for (args, needle) in cases {
        let o = geoframe(&args);
        let (_, stderr) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
    assert!(
        !PathBuf::from(&target).exists(),
        "a failed run left {target}"
    );
    // clap's own usage errors also exit with 2.
    assert_eq!(geoframe(&["sjoin"]).status.code(), Some(2));
}

#[test]
fn outputs_are_not_replaced_without_overwrite_and_geoparquet_options_apply() {
    let dir = tempfile::tempdir().unwrap();
    let target = out(&dir, "counties.parquet");
    let counties = "data/us_counties/us_counties.shp";
    let o = geoframe(&[
        "convert",
        counties,
        "-o",
        &target,
        "--compression",
        "zstd:3",
    ]);
    assert!(o.status.success(), "{}", text(&o).1);
    // `--quiet` prints nothing at all on success.
    assert_eq!(text(&o), (String::new(), String::new()));
    let written = std::fs::read(&target).unwrap();
    let o = geoframe(&["convert", CITIES, "-o", &target]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("--overwrite"), "{}", text(&o).1);
    assert_eq!(
        std::fs::read(&target).unwrap(),
        written,
        "the existing file is untouched"
    );

    // A box filter read through the covering, written over the file with --overwrite.
    let o = geoframe(&[
        "convert",
        &target,
        "--bbox",
        "-109.05,36.99,-102.04,41.0",
        "--overwrite",
        "--no-covering",
        "-o",
        &target,
    ]);
    assert!(o.status.success(), "{}", text(&o).1);
    let kept = geoframe::io::read_geoparquet(&target, &Default::default()).unwrap();
    // Brute force: counties whose box meets the box around Colorado.
    let rect = geo::Rect::new((-109.05, 36.99), (-102.04, 41.0));
    let expected = common::counties(5000)
        .geometries()
        .unwrap()
        .into_iter()
        .filter(|g| {
            g.as_ref()
                .and_then(geo::BoundingRect::bounding_rect)
                .is_some_and(|b| geo::Intersects::intersects(&b, &rect))
        })
        .count();
    assert_eq!(kept.len(), expected);
    assert!(expected > 64, "{expected}");

    let o = geoframe(&[
        "convert",
        counties,
        "--bbox",
        "1,2,3",
        "-o",
        &out(&dir, "x.parquet"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let o = geoframe(&[
        "convert",
        counties,
        "--compression",
        "zstd:99",
        "-o",
        &out(&dir, "y.parquet"),
    ]);
    assert_ne!(o.status.code(), Some(0));
}

/// `kill -9` while the output is written leaves no output, only a temporary file that the
/// next run into the same folder removes, saying so.
#[test]
fn a_run_killed_while_writing_leaves_no_output_and_the_next_run_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let points = dir.path().join("points.parquet");
    let layer = geoframe::datagen::uniform_points(400_000, 42, 50_000).unwrap();
    geoframe::io::write_geoparquet(&layer, &points).unwrap();
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let target = out_dir.join("joined.geojson");
    let temporaries = || -> Vec<PathBuf> {
        std::fs::read_dir(&out_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().ends_with(".tmp"))
            .collect()
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_geoframe"))
        .args(["--quiet", "sjoin"])
        .arg(&points)
        .arg("data/us_counties/us_counties.shp")
        .arg("-o")
        .arg(&target)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while temporaries().is_empty() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before its temporary file was seen"
        );
        assert!(started.elapsed().as_secs() < 60, "no temporary file");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(!target.exists(), "a killed run left an output");
    let stale = temporaries();
    assert_eq!(stale.len(), 1, "{stale:?}");

    // The next run writes its own output beside it and removes the stale file.
    let next = out_dir.join("cities.parquet");
    let o = Command::new(env!("CARGO_BIN_EXE_geoframe"))
        .args(["convert", CITIES, "-o"])
        .arg(&next)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let (_, stderr) = text(&o);
    assert!(o.status.success(), "{stderr}");
    assert!(next.exists());
    assert!(
        stderr.contains("removed") && stderr.contains(&*stale[0].to_string_lossy()),
        "{stderr}"
    );
    assert!(temporaries().is_empty(), "{:?}", temporaries());
}

/// A full disk (a 1 MiB tmpfs, where this test may mount one: as root) is a clear error
/// naming the output, and nothing is left on the disk, not even a temporary file.
#[test]
fn a_full_disk_is_an_error_naming_the_output_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small");
    std::fs::create_dir(&small).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(&small)
        .output()
        .is_ok_and(|o| o.status.success());
    if !mounted {
        eprintln!("skipped: cannot mount a tmpfs here (not root)");
        return;
    }
    let points = dir.path().join("points.parquet");
    let layer = geoframe::datagen::uniform_points(200_000, 42, 50_000).unwrap();
    geoframe::io::write_geoparquet(&layer, &points).unwrap();
    let target = small.join("joined.parquet");
    let o = Command::new(env!("CARGO_BIN_EXE_geoframe"))
        .args(["--quiet", "sjoin"])
        .arg(&points)
        .args(["data/us_counties/us_counties.shp", "-o"])
        .arg(&target)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let (_, stderr) = text(&o);
    let left: Vec<_> = std::fs::read_dir(&small)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let _ = Command::new("umount").arg(&small).status();
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("No space left on device") && stderr.contains(&*target.to_string_lossy()),
        "{stderr}"
    );
    assert!(left.is_empty(), "left on the full disk: {left:?}");
}
