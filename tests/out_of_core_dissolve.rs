//! The dissolve through spill files (`LazyFrame::dissolve_out_of_core`) against the
//! in-memory dissolve (itself checked against GeoPandas' states in tests/ops.rs): the same
//! groups, values and coordinates, whatever the partitioning, the number of buckets, the
//! memory limit and the workers; bad input named by its row; no spill left behind.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{Array, Float64Array, StringArray};
use geoframe::io::{write_geoparquet, GeoParquetOptions};
use geoframe::ops::Aggregate;
use geoframe::plan::{scan_geoparquet, DissolveOptions, ExecuteOptions, LazyFrame};
use geoframe::{Error, GeoFrame};

const AGGREGATES: [(&str, Aggregate); 6] = [
    ("geoid", Aggregate::Count),
    ("name", Aggregate::First),
    ("area", Aggregate::Sum),
    ("area", Aggregate::Mean),
    ("area", Aggregate::Min),
    ("area", Aggregate::Max),
];

/// The counties with their state (the geoid's first two digits) and area, as GeoParquet.
fn counties_file(dir: &Path) -> (GeoFrame, PathBuf) {
    let counties = common::counties(1_000);
    let geoid = counties.column("geoid").unwrap();
    let geoid = geoid.as_any().downcast_ref::<StringArray>().unwrap();
    let state: StringArray = geoid.iter().map(|g| g.map(|g| &g[..2])).collect();
    let area: Float64Array = counties.area().unwrap();
    let frame = counties
        .with_column("state", Arc::new(state))
        .unwrap()
        .with_column("area", Arc::new(area))
        .unwrap();
    let path = dir.join("counties.parquet");
    write_geoparquet(&frame, &path).unwrap();
    (frame, path)
}

fn scan(path: &Path, rows_per_partition: usize) -> LazyFrame {
    scan_geoparquet(path, &GeoParquetOptions { rows_per_partition }).unwrap()
}

fn assert_same_frame(a: &GeoFrame, b: &GeoFrame, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: rows");
    assert_eq!(a.schema().fields(), b.schema().fields(), "{what}: fields");
    for field in a.schema().fields() {
        let (x, y) = (
            a.column(field.name()).unwrap(),
            b.column(field.name()).unwrap(),
        );
        assert_eq!(x.to_data(), y.to_data(), "{what}: column {}", field.name());
    }
}

#[test]
fn spilled_dissolve_equals_the_in_memory_one_whatever_the_cut() {
    let tmp = tempfile::tempdir().unwrap();
    let (frame, path) = counties_file(tmp.path());
    let expected = frame.dissolve(&["state"], &AGGREGATES).unwrap();
    assert_eq!(expected.len(), 56);
    let spill_root = tmp.path().join("spill");
    std::fs::create_dir(&spill_root).unwrap();
    for (rows_per_partition, split_out, workers) in [
        (97, Some(7), 1),
        (500, Some(1), 2),
        (3_231, Some(200), 2),
        (250, None, 2),
    ] {
        let options = ExecuteOptions {
            workers,
            // With no split_out, a small limit makes the buckets many.
            memory_limit: split_out.is_none().then_some(1 << 20),
            ..Default::default()
        };
        let dissolve = DissolveOptions {
            split_out,
            spill_dir: Some(spill_root.clone()),
        };
        let dissolved = scan(&path, rows_per_partition)
            .dissolve_out_of_core(&["state"], &AGGREGATES, &dissolve, &options)
            .unwrap();
        let what = format!("{rows_per_partition} rows per partition, split_out {split_out:?}");
        match split_out {
            // Never more buckets than groups: equal sampled keys make one split.
            Some(n) => {
                let made = dissolved.npartitions();
                assert!(made <= n.min(56) && 2 * made >= n.min(56), "{what}: {made}");
            }
            None => assert!(
                dissolved.npartitions() > 4,
                "{what}: {}",
                dissolved.npartitions()
            ),
        }
        assert_eq!(dissolved.count_rows(&options).unwrap(), 56, "{what}");
        let collected = dissolved.collect(&options).unwrap();
        assert_same_frame(&collected, &expected, &what);
        assert!(
            spill_root.read_dir().unwrap().next().is_some(),
            "{what}: spill in use"
        );
        drop(dissolved);
        assert!(
            spill_root.read_dir().unwrap().next().is_none(),
            "{what}: spill left"
        );
    }
}

#[test]
fn spilled_dissolve_streams_into_a_sink_with_several_keys_and_nulls() {
    let tmp = tempfile::tempdir().unwrap();
    let (frame, _) = counties_file(tmp.path());
    // A second key with nulls: every third county has no name group.
    let initial: StringArray = frame
        .column("name")
        .unwrap()
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, n)| n.filter(|_| i % 3 != 0).map(|n| n[..1].to_string()))
        .collect();
    let frame = frame.with_column("initial", Arc::new(initial)).unwrap();
    let path = tmp.path().join("keys.parquet");
    write_geoparquet(&frame, &path).unwrap();
    let by = ["state", "initial"];
    let expected = frame.dissolve(&by, &AGGREGATES[..2]).unwrap();
    assert!(expected.len() > 500, "{}", expected.len());
    let out = tmp.path().join("out.parquet");
    let stats = scan(&path, 300)
        .dissolve_out_of_core(
            &by,
            &AGGREGATES[..2],
            &DissolveOptions {
                split_out: Some(9),
                spill_dir: Some(tmp.path().to_path_buf()),
            },
            &ExecuteOptions::default(),
        )
        .unwrap()
        .sink_geoparquet(&out, &Default::default(), &ExecuteOptions::default())
        .unwrap();
    assert_eq!(stats.rows_written, expected.len() as u64);
    let written = geoframe::io::read_geoparquet(&out, &Default::default()).unwrap();
    assert_same_frame(&written, &expected, "two keys with nulls");
}

#[test]
fn spilled_dissolve_errors_name_the_input_row_and_the_argument() {
    let tmp = tempfile::tempdir().unwrap();
    let (frame, path) = counties_file(tmp.path());
    let options = ExecuteOptions::default();
    let dissolve = DissolveOptions {
        split_out: Some(4),
        spill_dir: Some(tmp.path().to_path_buf()),
    };
    let lazy = scan(&path, 400);
    for (by, aggregates) in [
        (vec!["nope"], vec![]),
        (vec!["geometry"], vec![]),
        (vec!["state"], vec![("name", Aggregate::Sum)]),
        (vec![], vec![]),
    ] {
        let err = lazy
            .dissolve_out_of_core(&by, &aggregates, &dissolve, &options)
            .unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{by:?}: {err}");
    }
    let zero = DissolveOptions {
        split_out: Some(0),
        ..dissolve.clone()
    };
    assert!(lazy
        .dissolve_out_of_core(&["state"], &[], &zero, &options)
        .is_err());

    // A point among the polygons, at row 2000: the error names that row of the input.
    let mut geometries = frame.geometries().unwrap();
    geometries[2000] = Some(geo::Geometry::Point(geo::Point::new(1.0, 2.0)));
    let state = frame.column("state").unwrap();
    let bad = GeoFrame::from_optional_geometries(
        geometries.iter().map(Option::as_ref),
        frame.crs().cloned(),
    )
    .unwrap()
    .with_column("state", state)
    .unwrap();
    let bad_path = tmp.path().join("bad.parquet");
    write_geoparquet(&bad, &bad_path).unwrap();
    let err = scan(&bad_path, 300)
        .dissolve_out_of_core(&["state"], &[], &dissolve, &options)
        .unwrap()
        .collect(&options)
        .unwrap_err();
    assert!(err.to_string().contains("2000"), "{err}");
    assert_eq!(
        std::fs::read_dir(tmp.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
            .count(),
        0,
        "spill left behind"
    );
}
