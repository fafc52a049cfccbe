//! Hostile GeoParquet and GeoJSON: footers and metadata forged the ways fuzzing found
//! (corrupt `ARROW:schema`, negative or absurd row counts, byte ranges outside the file,
//! counts that disagree), wrong `geo` metadata, and truncations. Each gives a typed error
//! naming the file, never a panic, an abort or a read that silently loses rows.

mod common;

use std::path::{Path, PathBuf};

use geoframe::io::{read_geojson, read_geoparquet, write_geoparquet, GeoParquetOptions};
use geoframe::Error;
use parquet::file::metadata::{
    FileMetaData, ParquetMetaData, ParquetMetaDataReader, ParquetMetaDataWriter,
};

/// The Natural Earth cities written by geoframe as GeoParquet, 100 rows per row group
/// (243 rows: row groups of 100, 100 and 43).
fn sample(dir: &Path) -> PathBuf {
    let cities = common::read("naturalearth_cities/naturalearth_cities.shp", 100);
    let path = dir.join("cities.parquet");
    write_geoparquet(&cities, &path).unwrap();
    path
}

fn read(path: &Path) -> geoframe::Result<geoframe::GeoFrame> {
    read_geoparquet(path, &GeoParquetOptions::default())
}

/// The file's footer, parsed.
fn footer(path: &Path) -> ParquetMetaData {
    let file = std::fs::File::open(path).unwrap();
    ParquetMetaDataReader::new()
        .parse_and_finish(&file)
        .unwrap()
}

/// Writes `path` again with its data pages untouched and the footer `forge` makes.
fn forge(path: &Path, forge: impl FnOnce(ParquetMetaData) -> ParquetMetaData) {
    let bytes = std::fs::read(path).unwrap();
    let footer_len =
        u32::from_le_bytes(bytes[bytes.len() - 8..bytes.len() - 4].try_into().unwrap());
    let data_end = bytes.len() - 8 - footer_len as usize;
    let metadata = forge(footer(path));
    let mut out = bytes[..data_end].to_vec();
    ParquetMetaDataWriter::new(&mut out, &metadata)
        .finish()
        .unwrap();
    std::fs::write(path, out).unwrap();
}

/// The footer with the value of key-value entry `key` replaced by `value(old value)`. (The
/// file-level row count needs no forging: parquet's metadata writer sums the row groups'.)
fn with_key_value(
    metadata: ParquetMetaData,
    key: &str,
    value: impl Fn(&str) -> String,
) -> ParquetMetaData {
    let old = metadata.file_metadata().clone();
    let mut entries = old.key_value_metadata().cloned().unwrap_or_default();
    for entry in &mut entries {
        if entry.key == key {
            entry.value = Some(value(entry.value.as_deref().unwrap_or("")));
        }
    }
    let file = FileMetaData::new(
        old.version(),
        old.num_rows(),
        old.created_by().map(str::to_string),
        Some(entries),
        old.schema_descr_ptr(),
        old.column_orders().cloned(),
    );
    let row_groups = metadata.row_groups().to_vec();
    ParquetMetaData::new(file, row_groups)
}

/// The footer with row group `g`'s row count set to `rows`.
fn with_group_rows(metadata: ParquetMetaData, g: usize, rows: i64) -> ParquetMetaData {
    let mut builder = metadata.into_builder();
    let mut groups = builder.take_row_groups();
    groups[g] = groups[g]
        .clone()
        .into_builder()
        .set_num_rows(rows)
        .build()
        .unwrap();
    builder.set_row_groups(groups).build()
}

/// Asserts a format error about `path` whose message contains `needle`.
fn assert_format_error(result: geoframe::Result<geoframe::GeoFrame>, path: &Path, needle: &str) {
    match result {
        Err(Error::Format {
            path: p, message, ..
        }) => {
            assert_eq!(p, path);
            assert!(message.contains(needle), "{message:?} lacks {needle:?}");
        }
        other => panic!("expected a format error containing {needle:?}, got {other:?}"),
    }
}

#[test]
fn the_forging_helpers_keep_a_valid_file_valid() {
    let dir = tempfile::tempdir().unwrap();
    let path = sample(dir.path());
    forge(&path, |m| m);
    assert_eq!(read(&path).unwrap().len(), 243);
}

#[test]
fn negative_row_counts_are_errors_not_empty_reads() {
    let dir = tempfile::tempdir().unwrap();
    let path = sample(dir.path());
    forge(&path, |m| with_group_rows(m, 0, -1));
    assert_format_error(read(&path), &path, "row group 0 claims -1 rows");
    // Two groups negative (the writer sums them into the file count, -157): an error, not
    // the 43 rows of the last group.
    let path = sample(dir.path());
    forge(&path, |m| {
        with_group_rows(with_group_rows(m, 0, -100), 1, -100)
    });
    assert_format_error(read(&path), &path, "the footer claims -157 rows");
}

#[test]
fn a_row_group_claiming_fewer_rows_than_its_pages_hold_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = sample(dir.path());
    // Group 0 holds 100 rows; claiming 60 would lose 40. The metadata writer sums the
    // groups into the file's count (203), so only the column chunks' 100 values disagree.
    forge(&path, |m| with_group_rows(m, 0, 60));
    assert_format_error(read(&path), &path, "values for 60 rows");
}

#[test]
fn an_absurd_row_count_is_refused_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let path = sample(dir.path());
    let huge = 1i64 << 62;
    forge(&path, |m| with_group_rows(m, 2, huge));
    let err = read(&path).unwrap_err();
    assert!(matches!(err, Error::Format { .. }), "{err:?}");
}

/// Zigzag varint, as Thrift's compact protocol writes an i32.
fn compact_i32(value: i32) -> Vec<u8> {
    let mut v = ((value << 1) ^ (value >> 31)) as u32;
    let mut out = Vec::new();
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
    out
}

/// The file's last column chunk (row group, column, first byte): only the footer follows
/// it, so the one offset that moves when its first page header grows is its own size.
fn last_chunk(metadata: &ParquetMetaData) -> (usize, usize, usize) {
    let g = metadata.num_row_groups() - 1;
    let (c, start) = metadata
        .row_group(g)
        .columns()
        .iter()
        .map(|column| column.byte_range().0 as usize)
        .enumerate()
        .max_by_key(|&(_, start)| start)
        .unwrap();
    (g, c, start)
}

/// Where a page header's uncompressed size (field 2, after the i32 field 1) is written in
/// `bytes`, from the header's first byte: the varint's range and its value.
fn uncompressed_size_field(bytes: &[u8], header: usize) -> (std::ops::Range<usize>, i32) {
    let varint_end = |at: usize| at + bytes[at..].iter().position(|b| b & 0x80 == 0).unwrap() + 1;
    assert_eq!(bytes[header], 0x15, "field 1 is an i32");
    let field_2 = varint_end(header + 1);
    assert_eq!(bytes[field_2], 0x15, "field 2 is an i32");
    let range = field_2 + 1..varint_end(field_2 + 1);
    let zigzag = bytes[range.clone()]
        .iter()
        .rev()
        .fold(0u32, |v, b| (v << 7) | u32::from(b & 0x7f));
    let value = (zigzag >> 1) as i32 ^ -((zigzag & 1) as i32);
    (range, value)
}

/// Rewrites the first page header of the file's last column chunk to claim `claimed`
/// bytes uncompressed (`None`: the size it has), and that chunk's compressed size to match.
fn forge_last_page_header(path: &Path, claimed: Option<i32>) {
    let metadata = footer(path);
    let (g, c, start) = last_chunk(&metadata);
    let mut bytes = std::fs::read(path).unwrap();
    let (range, old) = uncompressed_size_field(&bytes, start);
    let new = compact_i32(claimed.unwrap_or(old));
    let delta = new.len() as i64 - range.len() as i64;
    bytes.splice(range, new);
    let footer_len =
        u32::from_le_bytes(bytes[bytes.len() - 8..bytes.len() - 4].try_into().unwrap());
    bytes.truncate(bytes.len() - 8 - footer_len as usize);
    let mut builder = metadata.into_builder();
    let mut groups = builder.take_row_groups();
    let mut columns = groups[g].columns().to_vec();
    columns[c] = columns[c]
        .clone()
        .into_builder()
        .set_total_compressed_size(columns[c].compressed_size() + delta)
        .build()
        .unwrap();
    groups[g] = groups[g]
        .clone()
        .into_builder()
        .set_column_metadata(columns)
        .build()
        .unwrap();
    let metadata = builder.set_row_groups(groups).build();
    ParquetMetaDataWriter::new(&mut bytes, &metadata)
        .finish()
        .unwrap();
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn a_page_claiming_more_than_its_codec_can_produce_is_refused_before_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let path = sample(dir.path());
    // Rewritten with the size it had, the file still reads: the forging keeps it valid.
    forge_last_page_header(&path, None);
    assert_eq!(read(&path).unwrap().len(), 243);
    // 2 GB claimed by a page of a few hundred bytes: parquet 59.3 would reserve it all.
    let path = sample(dir.path());
    forge_last_page_header(&path, Some(2_000_000_000));
    assert_format_error(read(&path), &path, "claims 2000000000 bytes uncompressed");
    assert_format_error(read(&path), &path, "row group 2, column");
}

#[test]
fn column_byte_ranges_outside_the_file_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    for size in [-1i64, 1 << 40] {
        let path = sample(dir.path());
        forge(&path, |m| {
            let mut builder = m.into_builder();
            let mut groups = builder.take_row_groups();
            let mut columns = groups[1].columns().to_vec();
            columns[0] = columns[0]
                .clone()
                .into_builder()
                .set_total_compressed_size(size)
                .build()
                .unwrap();
            groups[1] = groups[1]
                .clone()
                .into_builder()
                .set_column_metadata(columns)
                .build()
                .unwrap();
            builder.set_row_groups(groups).build()
        });
        assert_format_error(read(&path), &path, "not inside the file");
    }
}

/// Every one-character change of the base64 `ARROW:schema` value reads cleanly or gives a
/// typed error; none panics. Those that make arrow-ipc panic are caught by the guard, and
/// the command line exits with status 2 and prints no panic.
#[test]
fn a_corrupt_arrow_schema_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let path = sample(dir.path());
    let schema = footer(&path)
        .file_metadata()
        .key_value_metadata()
        .unwrap()
        .iter()
        .find(|k| k.key == "ARROW:schema")
        .and_then(|k| k.value.clone())
        .unwrap();
    let mut caught = Vec::new();
    for at in 0..schema.len() {
        let mut forged = schema.clone().into_bytes();
        forged[at] = if forged[at] == b'A' { b'/' } else { b'A' };
        let forged = String::from_utf8(forged).unwrap();
        let target = dir.path().join(format!("schema_{at}.parquet"));
        std::fs::copy(&path, &target).unwrap();
        forge(&target, |m| {
            with_key_value(m, "ARROW:schema", |_| forged.clone())
        });
        let outcome = std::panic::catch_unwind(|| read(&target));
        match outcome {
            Err(_) => panic!("a changed character at {at} of ARROW:schema escaped as a panic"),
            Ok(Ok(frame)) => assert_eq!(frame.len(), 243, "character {at}"),
            Ok(Err(Error::Format { message, .. })) if message.contains("decoder gave up") => {
                caught.push(target)
            }
            Ok(Err(_)) => std::fs::remove_file(&target).unwrap(),
        }
    }
    eprintln!(
        "{} of {} changed characters made the decoder panic",
        caught.len(),
        schema.len()
    );
    // The command line on a file whose schema made the decoder panic: status 2, no panic.
    if let Some(target) = caught.first() {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_geoframe"))
            .arg("info")
            .arg(target)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(stderr.contains("ARROW:schema"), "{stderr}");
    }
}

#[test]
fn wrong_geo_metadata_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &str); 6] = [
        ("{not json", "not JSON"),
        (
            r#"{"version": "1.1.0", "primary_column": "geometry", "columns": {"geometry": {"encoding": "WKT"}}}"#,
            "unknown geometry encoding",
        ),
        (
            r#"{"version": "1.1.0", "primary_column": "geom", "columns": {"geom": {"encoding": "WKB"}}}"#,
            "not a column",
        ),
        (
            r#"{"version": "1.1.0", "primary_column": "geometry", "columns": {}}"#,
            "does not describe",
        ),
        (
            r#"{"version": "1.1.0", "primary_column": "geometry", "columns": {"geometry": {"encoding": "WKB", "crs": "EPSG:999999"}}}"#,
            "crs",
        ),
        (
            r#"{"version": "1.1.0", "primary_column": "geometry", "columns": {"geometry": {"encoding": "WKB", "bbox": [1, 2, 0, 3]}}}"#,
            "minimum above",
        ),
    ];
    for (geo, needle) in cases {
        let path = sample(dir.path());
        forge(&path, |m| with_key_value(m, "geo", |_| geo.to_string()));
        assert_format_error(read(&path), &path, needle);
    }
}

/// A `geo` bbox smaller than the data would make joins prune pairs that match: reading
/// the partition that leaves it is an error, not a silently wrong join.
#[test]
fn a_bbox_that_contradicts_the_data_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = sample(dir.path());
    forge(&path, |m| {
        with_key_value(m, "geo", |old| {
            let mut geo: serde_json::Value = serde_json::from_str(old).unwrap();
            geo["columns"]["geometry"]["bbox"] = serde_json::json!([0.0, 0.0, 10.0, 10.0]);
            geo.to_string()
        })
    });
    assert_format_error(read(&path), &path, "outside the `geo` bbox");
}

/// Covering statistics that leave out part of their row group's data would make box
/// filters and joins skip rows: reading that row group is an error.
#[test]
fn covering_statistics_that_contradict_the_data_are_an_error() {
    use parquet::file::statistics::Statistics;
    let dir = tempfile::tempdir().unwrap();
    let path = sample(dir.path());
    forge(&path, |m| {
        let mut builder = m.into_builder();
        let mut groups = builder.take_row_groups();
        let mut columns = groups[0].columns().to_vec();
        let c = columns
            .iter()
            .position(|c| c.column_path().string() == "bbox.xmin")
            .expect("a covering column");
        // The least xmin claimed to be 0: the group's western cities lie outside.
        columns[c] = columns[c]
            .clone()
            .into_builder()
            .set_statistics(Statistics::double(
                Some(0.0),
                Some(179.0),
                None,
                Some(0),
                false,
            ))
            .build()
            .unwrap();
        groups[0] = groups[0]
            .clone()
            .into_builder()
            .set_column_metadata(columns)
            .build()
            .unwrap();
        builder.set_row_groups(groups).build()
    });
    assert_format_error(read(&path), &path, "outside its `bbox` covering statistics");
}

/// Every truncation of the file (at 97 points) is an error naming it.
#[test]
fn truncated_geoparquet() {
    let dir = tempfile::tempdir().unwrap();
    let path = sample(dir.path());
    let bytes = std::fs::read(&path).unwrap();
    let target = dir.path().join("truncated.parquet");
    for k in 0..97 {
        let len = bytes.len() * k / 97;
        std::fs::write(&target, &bytes[..len]).unwrap();
        let outcome = std::panic::catch_unwind(|| read(&target));
        match outcome {
            Ok(Err(e)) => assert!(e.to_string().contains("truncated.parquet"), "{len}: {e}"),
            Ok(Ok(f)) => panic!("a file truncated to {len} bytes read {} rows", f.len()),
            Err(_) => panic!("a file truncated to {len} bytes panicked"),
        }
    }
}

#[test]
fn hostile_geojson() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.geojson");
    let point = r#"{"type": "Feature", "properties": {"n": 1}, "geometry": {"type": "Point", "coordinates": [1, 2]}}"#;
    let deep = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
    let cases: Vec<(String, &str)> = vec![
        (
            format!(r#"{{"type": "FeatureCollection", "features": [{point}"#),
            "not JSON",
        ),
        (
            r#"{"type": "FeatureCollection", "features": {}}"#.into(),
            "not an array",
        ),
        (
            r#"{"type": "Topology"}"#.into(),
            "expected a FeatureCollection",
        ),
        (
            format!(
                r#"{{"type": "FeatureCollection", "features": [{point}, {{"type": "Feature", "properties": {{}}, "geometry": {{"type": "Point", "coordinates": [1]}}}}]}}"#
            ),
            "record 1",
        ),
        (
            format!(
                r#"{{"type": "FeatureCollection", "features": [{point}, {{"type": "Feature", "properties": {{}}, "geometry": {{"type": "Polygon", "coordinates": "x"}}}}]}}"#
            ),
            "record 1",
        ),
        (
            format!(
                r#"{{"type": "FeatureCollection", "features": [{{"type": "Feature", "geometry": {{"type": "Point", "coordinates": {deep}}}}}]}}"#
            ),
            "not JSON",
        ),
        (
            r#"{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [1e999, 0]}}]}"#.to_string(),
            "bad.geojson",
        ),
    ];
    for (text, needle) in cases {
        std::fs::write(&path, &text).unwrap();
        for rows_per_partition in [1, 100] {
            let outcome = std::panic::catch_unwind(|| read_geojson(&path, rows_per_partition));
            match outcome {
                Ok(Err(e)) => assert!(e.to_string().contains(needle), "{e} lacks {needle:?}"),
                Ok(Ok(f)) => panic!("{} rows read from {:.80}", f.len(), text),
                Err(_) => panic!("panicked on {:.80}", text),
            }
        }
    }
    // Every truncation of a valid collection is an error.
    let text = format!(r#"{{"type": "FeatureCollection", "features": [{point}, {point}]}}"#);
    for len in 0..text.len() {
        std::fs::write(&path, &text[..len]).unwrap();
        assert!(read_geojson(&path, 1).is_err(), "{len}");
    }
}
