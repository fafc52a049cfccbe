//! Replays, on stable Rust, every input the fuzzers found (`tests/fuzz_cases/<target>/`)
//! and the seeds they start from (`fuzz/seeds/<target>/`), through the same harness the
//! fuzz targets run (`fuzz/harness.rs`): each must read cleanly or fail with a typed error,
//! never panic, and never succeed with a row count other than the file's own claim.

#[path = "../fuzz/harness.rs"]
mod harness;

use std::path::Path;

fn replay(folder: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return 0;
    };
    let target = folder.file_name().unwrap().to_str().unwrap().to_string();
    let mut count = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let run = || match target.as_str() {
            "shapefile" => harness::shapefile_all(&data),
            "shp" => harness::shapefile(&data, harness::CITIES_SHX, harness::CITIES_DBF),
            "dbf" => harness::shapefile(harness::CITIES_SHP, harness::CITIES_SHX, &data),
            "geoparquet" => harness::geoparquet(&data),
            "geojson" => harness::geojson(&data),
            other => panic!("no fuzz target {other} for {}", path.display()),
        };
        if std::panic::catch_unwind(run).is_err() {
            panic!("{} fails its target {target}", path.display());
        }
        count += 1;
    }
    count
}

#[test]
fn fuzz_findings_and_seeds_replay_cleanly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut total = 0;
    for base in ["tests/fuzz_cases", "fuzz/seeds"] {
        for target in ["shapefile", "shp", "dbf", "geoparquet", "geojson"] {
            total += replay(&root.join(base).join(target));
        }
    }
    assert!(total >= 5, "only {total} inputs to replay");
}
