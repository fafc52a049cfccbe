//! FlatGeobuf: files written by GDAL read with their rows, types, CRS and geometries;
//! files geoframe writes read back equal; partitions follow the spatial index; damaged
//! files give errors. The oracle is the same layer read from its shapefile.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;

use arrow_array::cast::AsArray;
use arrow_schema::DataType;
use geo::{BoundingRect, Geometry, MultiPolygon};
use geoframe::io::{
    read_flatgeobuf, write_flatgeobuf, FlatGeobufSink, FlatGeobufSource, FlatGeobufWriteOptions,
    PartitionSink, PartitionSource, SinkLayout,
};
use geoframe::join::{How, Predicate};
use geoframe::plan::{scan_flatgeobuf, ExecuteOptions};
use geoframe::{Error, GeoFrame};

fn peer(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/peers")
        .join(name)
}

/// Polygons as multipolygons, since GDAL writes the countries layer as MultiPolygon.
fn as_multi(g: Geometry) -> Geometry {
    match g {
        Geometry::Polygon(p) => Geometry::MultiPolygon(MultiPolygon(vec![p])),
        other => other,
    }
}

/// Every row's (name, geometry), in order.
fn named_geometries(frame: &GeoFrame) -> Vec<(String, Option<Geometry>)> {
    let mut rows = Vec::new();
    for p in frame.partitions() {
        let names = arrow_cast::cast(
            p.batch().column_by_name("name").expect("a name column"),
            &DataType::Utf8,
        )
        .unwrap();
        let names = names.as_string::<i32>();
        for (i, g) in p.geometries(0).unwrap().into_iter().enumerate() {
            rows.push((names.value(i).to_string(), g.map(as_multi)));
        }
    }
    rows
}

fn by_name(frame: &GeoFrame) -> HashMap<String, Option<Geometry>> {
    let rows = named_geometries(frame);
    let count = rows.len();
    let map: HashMap<_, _> = rows.into_iter().collect();
    assert_eq!(map.len(), count, "names are unique");
    map
}

#[test]
fn gdal_files_are_read_with_their_rows_types_crs_and_geometries() {
    let countries = common::countries();
    let fgb = read_flatgeobuf(peer("countries_gdal.fgb"), 16).unwrap();
    assert_eq!(fgb.len(), 177);
    assert_eq!(fgb.crs().and_then(|c| c.to_epsg()), Some(4326));
    let types: Vec<(String, DataType)> = fgb
        .schema()
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone()))
        .collect();
    assert_eq!(
        &types[..5],
        &[
            ("pop_est".into(), DataType::Float64),
            ("continent".into(), DataType::Utf8),
            ("name".into(), DataType::Utf8),
            ("iso_a3".into(), DataType::Utf8),
            ("gdp_md_est".into(), DataType::Int64),
        ]
    );
    assert_eq!(by_name(&fgb), by_name(&countries));

    // Without an index the features keep the writer's order.
    let cities = common::cities();
    let plain = read_flatgeobuf(peer("cities_gdal_noindex.fgb"), 50).unwrap();
    assert_eq!(plain.partitions().len(), 5);
    assert_eq!(named_geometries(&plain), named_geometries(&cities));
}

#[test]
fn partitions_are_runs_of_index_leaves_bounding_their_rows() {
    let source = FlatGeobufSource::open(peer("countries_gdal.fgb"), 16).unwrap();
    let metas = source.partitions();
    assert_eq!(metas.len(), 12);
    assert_eq!(metas.iter().map(|m| m.rows).sum::<u64>(), 177);
    let mut area = 0.0;
    for (k, meta) in metas.iter().enumerate() {
        let bounds = meta.bounds.expect("bounds from the index");
        area += bounds.width() * bounds.height();
        let partition = source.read_partition(k).unwrap();
        assert_eq!(partition.len() as u64, meta.rows);
        for g in partition.geometries(0).unwrap().into_iter().flatten() {
            let b = g.bounding_rect().unwrap();
            let inside = bounds.min().x <= b.min().x
                && bounds.min().y <= b.min().y
                && b.max().x <= bounds.max().x
                && b.max().y <= bounds.max().y;
            assert!(inside, "partition {k}: {b:?} outside {bounds:?}");
        }
    }
    // Hilbert runs: the partitions' boxes cover far less than 12 copies of the world.
    assert!(area < 6.0 * 360.0 * 180.0, "{area}");
}

#[test]
fn written_files_read_back_equal_with_and_without_the_index() {
    let countries = common::countries();
    let path = std::env::temp_dir().join(format!("geoframe_fgb_{}.fgb", std::process::id()));
    write_flatgeobuf(&countries, &path).unwrap();
    let back = read_flatgeobuf(&path, 40).unwrap();
    assert_eq!(by_name(&back), by_name(&countries));
    assert_eq!(
        back.schema().fields().len(),
        countries.schema().fields().len()
    );

    let options = FlatGeobufWriteOptions {
        spatial_index: false,
    };
    let mut sink = FlatGeobufSink::create(&path, &SinkLayout::of(&countries), &options).unwrap();
    sink.write(countries.partitions()).unwrap();
    Box::new(sink).finish().unwrap();
    let back = read_flatgeobuf(&path, 1000).unwrap();
    let (a, b) = (&back.partitions()[0], &countries.partitions()[0]);
    for c in 0..b.batch().num_columns() - 1 {
        assert_eq!(a.batch().column(c), b.batch().column(c), "column {c}");
    }
    assert_eq!(a.geometries(0).unwrap(), b.geometries(0).unwrap());
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_join_of_flatgeobuf_scans_equals_the_shapefile_join() {
    let dir = tempfile::tempdir().unwrap();
    let (cities_fgb, countries_fgb) = (dir.path().join("c.fgb"), dir.path().join("n.fgb"));
    write_flatgeobuf(&common::cities(), &cities_fgb).unwrap();
    write_flatgeobuf(&common::countries(), &countries_fgb).unwrap();
    let joined = scan_flatgeobuf(&cities_fgb, 30)
        .unwrap()
        .sjoin(
            &scan_flatgeobuf(&countries_fgb, 20).unwrap(),
            How::Inner,
            Predicate::Within,
        )
        .unwrap()
        .collect(&ExecuteOptions::default())
        .unwrap();
    assert_eq!(joined.len(), 213);
}

#[test]
fn damaged_files_give_errors_naming_the_file() {
    let good = std::fs::read(peer("countries_gdal.fgb")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.fgb");
    let header_len = u32::from_le_bytes(good[8..12].try_into().unwrap()) as usize;
    let index_at = 12 + header_len;
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        (
            "not FlatGeobuf",
            b"PAR1 not a flatgeobuf file at all".to_vec(),
        ),
        ("truncated header", good[..index_at - 5].to_vec()),
        ("truncated features", good[..good.len() - 1000].to_vec()),
    ];
    // The second leaf's feature offset set to the first one's.
    let mut swapped = good.clone();
    let first_leaf = find_leaves(&good, index_at, 177 * 40);
    swapped[first_leaf + 40 + 32..first_leaf + 40 + 40].copy_from_slice(&0u64.to_le_bytes());
    cases.push(("leaves out of order", swapped));
    // The first feature's flatbuffer root offset pointing past its end.
    let features_at = first_leaf + 177 * 40;
    let mut garbled = good.clone();
    garbled[features_at + 4..features_at + 8].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    cases.push(("garbled feature", garbled));
    let mut oversized = good.clone();
    oversized[features_at..features_at + 4].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    cases.push(("feature longer than the file", oversized));
    for (what, bytes) in cases {
        std::fs::write(&path, &bytes).unwrap();
        let read = FlatGeobufSource::open(&path, 16).and_then(|s| {
            (0..s.partitions().len())
                .map(|k| s.read_partition(k).map(|p| p.len()))
                .sum::<Result<usize, Error>>()
        });
        match read {
            Err(e) => assert!(e.to_string().contains("bad.fgb"), "{what}: {e}"),
            Ok(rows) => panic!("{what}: read {rows} rows"),
        }
    }
}

/// The byte position of the first leaf of the index that starts at `index_at`, which ends
/// where the features begin: the leaves are the index's last `leaf_bytes`.
fn find_leaves(file: &[u8], index_at: usize, leaf_bytes: usize) -> usize {
    let mut levels = vec![177usize];
    while *levels.last().unwrap() > 1 {
        levels.push(levels.last().unwrap().div_ceil(16));
    }
    let index_bytes: usize = levels.iter().sum::<usize>() * 40;
    assert!(index_at + index_bytes <= file.len());
    index_at + index_bytes - leaf_bytes
}
