//! What each fuzz target does with one input, shared by the cargo-fuzz targets
//! (`fuzz/fuzz_targets/`) and the stable replay test (`tests/fuzz_replay.rs`), so that a
//! saved input is checked exactly as the fuzzer checked it.
//!
//! An input is fine when reading it gives a frame or a typed error. It is a finding when
//! reading panics or aborts (the fuzzer sees those itself), or when it is a *suspect*: a
//! read that succeeds with a row count other than the one the file's own header claims.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use geoframe::io::{
    read_geojson, read_geoparquet, read_shapefile, GeoParquetOptions, ShapefileOptions,
};

/// The Natural Earth cities, the seed every shapefile target mutates one part of.
pub const CITIES_SHP: &[u8] = include_bytes!("../data/naturalearth_cities/naturalearth_cities.shp");
pub const CITIES_SHX: &[u8] = include_bytes!("../data/naturalearth_cities/naturalearth_cities.shx");
pub const CITIES_DBF: &[u8] = include_bytes!("../data/naturalearth_cities/naturalearth_cities.dbf");

/// A scratch folder of this process (in memory where the system has one).
fn scratch() -> PathBuf {
    let base = if Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("geoframe-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// Record count in a `.dbf` header, when the header is there.
fn dbf_records(dbf: &[u8]) -> Option<u64> {
    dbf.get(4..8)
        .map(|b| u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])))
}

/// Reads a shapefile made of these three files; panics (a finding) on a suspect read.
pub fn shapefile(shp: &[u8], shx: &[u8], dbf: &[u8]) {
    let dir = scratch();
    let path = dir.join("input.shp");
    std::fs::write(&path, shp).unwrap();
    std::fs::write(dir.join("input.shx"), shx).unwrap();
    std::fs::write(dir.join("input.dbf"), dbf).unwrap();
    for rows_per_partition in [7, 100_000] {
        let options = ShapefileOptions {
            rows_per_partition,
            ..Default::default()
        };
        if let Ok(frame) = read_shapefile(&path, &options) {
            assert_eq!(
                Some(frame.len() as u64),
                dbf_records(dbf),
                "suspect: the read succeeded with a row count other than the .dbf header's"
            );
        }
    }
}

/// Three files in one input: two little-endian `u32` lengths (the `.shp`'s and the
/// `.shx`'s), then the `.shp`, the `.shx` and, for the rest, the `.dbf`.
pub fn shapefile_all(data: &[u8]) {
    let Some(head) = data.get(..8) else { return };
    let shp_len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let shx_len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
    let rest = &data[8..];
    if shp_len.saturating_add(shx_len) > rest.len() {
        return;
    }
    let (shp, rest) = rest.split_at(shp_len);
    let (shx, dbf) = rest.split_at(shx_len);
    shapefile(shp, shx, dbf);
}

/// The input as the three files of one shapefile, for seeding `shapefile_all`.
pub fn pack_shapefile(shp: &[u8], shx: &[u8], dbf: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(shp.len() as u32).to_le_bytes());
    out.extend_from_slice(&(shx.len() as u32).to_le_bytes());
    out.extend_from_slice(shp);
    out.extend_from_slice(shx);
    out.extend_from_slice(dbf);
    out
}

/// Reads the input as a GeoParquet file; a read that succeeds must hold the rows its
/// footer claims.
pub fn geoparquet(data: &[u8]) {
    let path = scratch().join("input.parquet");
    std::fs::write(&path, data).unwrap();
    for rows_per_partition in [7, 1_000_000] {
        if let Ok(frame) = read_geoparquet(&path, &GeoParquetOptions { rows_per_partition }) {
            let file = std::fs::File::open(&path).unwrap();
            let claimed = parquet::file::metadata::ParquetMetaDataReader::new()
                .parse_and_finish(&file)
                .map(|m| m.file_metadata().num_rows());
            assert_eq!(
                claimed.ok(),
                Some(frame.len() as i64),
                "suspect: the read succeeded with a row count other than the footer's"
            );
        }
    }
}

/// Reads the input as GeoJSON; a read that succeeds must hold one row per feature.
pub fn geojson(data: &[u8]) {
    let path = scratch().join("input.geojson");
    std::fs::write(&path, data).unwrap();
    if let Ok(frame) = read_geojson(&path, 3) {
        let features = serde_json::from_slice::<serde_json::Value>(data)
            .ok()
            .map(|v| match v["type"].as_str() {
                Some("Feature") => 1,
                _ => v["features"].as_array().map_or(0, Vec::len),
            });
        assert_eq!(
            features,
            Some(frame.len()),
            "suspect: the read succeeded with a row count other than the features'"
        );
    }
}
