//! Malformed files give a typed error naming the file (and record), never a panic or a
//! huge allocation.

mod common;

use std::path::{Path, PathBuf};

use geoframe::io::{
    read_geojson, read_geoparquet, read_shapefile, GeoParquetOptions, ShapefileOptions,
};
use geoframe::Error;
use proptest::prelude::*;

/// Copies a shapefile from `data/` into a temporary folder for tampering.
fn copy(name: &str, dir: &Path) -> PathBuf {
    let src = common::data(name);
    for ext in ["shp", "shx", "dbf", "prj", "cpg"] {
        let from = src.with_extension(ext);
        if from.exists() {
            std::fs::copy(
                &from,
                dir.join(from.file_name().unwrap()).with_extension(ext),
            )
            .unwrap();
        }
    }
    dir.join(src.file_name().unwrap())
}

fn read(path: &Path) -> geoframe::Result<geoframe::GeoFrame> {
    read_shapefile(
        path,
        &ShapefileOptions {
            rows_per_partition: 50,
            ..Default::default()
        },
    )
}

fn patch(path: &Path, at: usize, bytes: &[u8]) {
    let mut data = std::fs::read(path).unwrap();
    data[at..at + bytes.len()].copy_from_slice(bytes);
    std::fs::write(path, data).unwrap();
}

fn shx_entry(shp: &Path, record: usize) -> (usize, usize) {
    let shx = std::fs::read(shp.with_extension("shx")).unwrap();
    let e = &shx[100 + 8 * record..108 + 8 * record];
    (
        u32::from_be_bytes(e[..4].try_into().unwrap()) as usize * 2,
        u32::from_be_bytes(e[4..].try_into().unwrap()) as usize * 2,
    )
}

#[test]
fn truncated_shp() {
    let dir = tempfile::tempdir().unwrap();
    let shp = copy("us_counties/us_counties.shp", dir.path());
    let data = std::fs::read(&shp).unwrap();
    std::fs::write(&shp, &data[..data.len() / 2]).unwrap();
    let err = read(&shp).unwrap_err();
    assert!(
        matches!(&err, Error::Format { path, .. } if path == &shp),
        "{err}"
    );
    assert!(err.to_string().contains("truncated"), "{err}");

    // Shorter than its header.
    std::fs::write(&shp, &data[..60]).unwrap();
    assert!(matches!(read(&shp).unwrap_err(), Error::Format { .. }));
}

#[test]
fn shx_pointing_past_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let shp = copy("naturalearth_cities/naturalearth_cities.shp", dir.path());
    patch(
        &shp.with_extension("shx"),
        100 + 8 * 120,
        &0x0FFF_FFFFu32.to_be_bytes(),
    );
    let err = read(&shp).unwrap_err();
    match &err {
        Error::Format {
            path,
            record,
            message,
        } => {
            assert_eq!(path, &shp.with_extension("shx"));
            assert_eq!(*record, Some(120));
            assert!(message.contains("outside"), "{message}");
        }
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn dbf_with_fewer_records_than_shp() {
    let dir = tempfile::tempdir().unwrap();
    let shp = copy("naturalearth_cities/naturalearth_cities.shp", dir.path());
    patch(&shp.with_extension("dbf"), 4, &242u32.to_le_bytes());
    let err = read(&shp).unwrap_err();
    assert!(
        err.to_string().contains("242 records") && err.to_string().contains("243"),
        "{err}"
    );

    // A .dbf whose records are cut off.
    let dbf = shp.with_extension("dbf");
    patch(&dbf, 4, &243u32.to_le_bytes());
    let data = std::fs::read(&dbf).unwrap();
    std::fs::write(&dbf, &data[..data.len() - 500]).unwrap();
    let err = read(&shp).unwrap_err();
    assert!(
        matches!(&err, Error::Format { path, .. } if path == &dbf),
        "{err}"
    );
}

#[test]
fn absurd_record_lengths_do_not_allocate() {
    let dir = tempfile::tempdir().unwrap();
    let shp = copy("us_counties/us_counties.shp", dir.path());
    // A record whose header claims 4 GiB of content, in both .shp and .shx.
    let (offset, _) = shx_entry(&shp, 7);
    patch(&shp, offset + 4, &0x7FFF_FFFFu32.to_be_bytes());
    patch(
        &shp.with_extension("shx"),
        100 + 8 * 7 + 4,
        &0x7FFF_FFFFu32.to_be_bytes(),
    );
    let err = read(&shp).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Format {
                record: Some(7),
                ..
            }
        ),
        "{err}"
    );

    // A polygon record claiming 2^31 - 1 points in a few hundred bytes.
    let shp = copy("us_counties/us_counties.shp", dir.path());
    let (offset, _) = shx_entry(&shp, 9);
    patch(&shp, offset + 8 + 40, &i32::MAX.to_le_bytes());
    let err = read(&shp).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Format {
                record: Some(9),
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("too short"), "{err}");

    // A .dbf header claiming 4 billion records.
    let shp = copy("us_counties/us_counties.shp", dir.path());
    patch(&shp.with_extension("dbf"), 4, &u32::MAX.to_le_bytes());
    assert!(matches!(read(&shp).unwrap_err(), Error::Format { .. }));
}

/// `.shx` entries that all point at one record would decode it again and again (a 250 KB
/// file took 1.36 GB): overlapping records are an error naming the record.
#[test]
fn shx_entries_repeating_a_record_are_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let shp = copy("us_counties/us_counties.shp", dir.path());
    let shx = shp.with_extension("shx");
    let entry = std::fs::read(&shx).unwrap()[100..108].to_vec();
    for record in 1..2000 {
        patch(&shx, 100 + 8 * record, &entry);
    }
    match read(&shp) {
        Err(Error::Format {
            path,
            record: Some(1),
            message,
        }) => {
            assert_eq!(path, shx);
            assert!(message.contains("overlaps record 0"), "{message}");
        }
        other => panic!("expected an overlap error, got {other:?}"),
    }
    // Records in another order than the file's are fine as long as they do not overlap.
    let shp = copy("us_counties/us_counties.shp", dir.path());
    let shx = shp.with_extension("shx");
    let bytes = std::fs::read(&shx).unwrap();
    let (first, second) = (bytes[100..108].to_vec(), bytes[108..116].to_vec());
    patch(&shx, 100, &second);
    patch(&shx, 108, &first);
    // The .shp records still say which number they are, but only lengths are checked: the
    // swapped pair reads, each row with the other's geometry.
    let frame = read(&shp).unwrap();
    assert_eq!(frame.len(), 3231);
}

#[test]
fn nan_coordinates() {
    let dir = tempfile::tempdir().unwrap();
    let shp = copy("naturalearth_cities/naturalearth_cities.shp", dir.path());
    let (offset, _) = shx_entry(&shp, 17);
    patch(&shp, offset + 8 + 4, &f64::NAN.to_le_bytes());
    match read(&shp).unwrap_err() {
        Error::InvalidGeometry {
            path,
            record,
            message,
        } => {
            assert_eq!(path.as_deref(), Some(shp.as_path()));
            assert_eq!(record, 17);
            assert!(message.contains("NaN"));
        }
        other => panic!("unexpected {other}"),
    }
    // NaN inside a polygon's vertices.
    let shp = copy("us_counties/us_counties.shp", dir.path());
    let (offset, _) = shx_entry(&shp, 3);
    let parts = i32::from_le_bytes(
        std::fs::read(&shp).unwrap()[offset + 8 + 36..offset + 8 + 40]
            .try_into()
            .unwrap(),
    ) as usize;
    patch(
        &shp,
        offset + 8 + 44 + 4 * parts + 16 * 2 + 8,
        &f64::NAN.to_le_bytes(),
    );
    assert!(matches!(
        read(&shp).unwrap_err(),
        Error::InvalidGeometry { record: 3, .. }
    ));
}

#[test]
fn missing_companion_files() {
    let dir = tempfile::tempdir().unwrap();
    let shp = copy("naturalearth_cities/naturalearth_cities.shp", dir.path());
    std::fs::remove_file(shp.with_extension("dbf")).unwrap();
    let err = read(&shp).unwrap_err();
    assert!(
        matches!(&err, Error::MissingFile { path, .. } if path == &shp.with_extension("dbf")),
        "{err}"
    );

    let shp = copy("naturalearth_cities/naturalearth_cities.shp", dir.path());
    std::fs::remove_file(shp.with_extension("shx")).unwrap();
    assert!(matches!(read(&shp).unwrap_err(), Error::MissingFile { .. }));

    let err = read(&dir.path().join("nothing.shp")).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
}

#[test]
fn unreadable_prj() {
    let dir = tempfile::tempdir().unwrap();
    let shp = copy("naturalearth_cities/naturalearth_cities.shp", dir.path());
    let prj = shp.with_extension("prj");
    std::fs::write(&prj, "GEOGCS[\"broken\", this is not WKT").unwrap();
    let err = read(&shp).unwrap_err();
    assert!(
        matches!(&err, Error::Format { path, .. } if path == &prj),
        "{err}"
    );
    std::fs::write(&prj, [0xff, 0xfe, 0x00, 0x41]).unwrap();
    assert!(matches!(read(&shp).unwrap_err(), Error::Format { .. }));
}

#[test]
fn not_a_shapefile_and_bad_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let shp = copy("naturalearth_cities/naturalearth_cities.shp", dir.path());
    patch(&shp, 0, &1234i32.to_be_bytes());
    assert!(read(&shp).unwrap_err().to_string().contains("9994"));

    // A numeric .dbf cell holding text names the record and the field.
    let shp = copy("nybb/nybb.shp", dir.path());
    let dbf = std::fs::read(shp.with_extension("dbf")).unwrap();
    let header_len = u16::from_le_bytes([dbf[8], dbf[9]]) as usize;
    let record_len = u16::from_le_bytes([dbf[10], dbf[11]]) as usize;
    // BoroCode is the first field: bytes 1.. of record 2.
    patch(
        &shp.with_extension("dbf"),
        header_len + 2 * record_len + 1,
        b"xx",
    );
    let err = read(&shp).unwrap_err();
    assert!(
        matches!(&err, Error::Format { record: Some(2), message, .. } if message.contains("BoroCode")),
        "{err}"
    );
}

#[test]
fn bad_geoparquet_and_geojson() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.parquet");
    std::fs::write(&p, b"PAR1 not really parquet").unwrap();
    assert!(matches!(
        read_geoparquet(&p, &GeoParquetOptions::default()).unwrap_err(),
        Error::Parquet { .. }
    ));
    let j = dir.path().join("x.geojson");
    std::fs::write(&j, b"{\"type\": \"FeatureCollection\", \"features\": [{\"type\": \"Feature\", \"geometry\": {\"type\": \"Point\", \"coordinates\": [1]}, \"properties\": {}}]}").unwrap();
    assert!(matches!(
        read_geojson(&j, 10).unwrap_err(),
        Error::Format {
            record: Some(0),
            ..
        }
    ));
    std::fs::write(&j, b"[1, 2").unwrap();
    assert!(matches!(
        read_geojson(&j, 10).unwrap_err(),
        Error::Format { .. }
    ));
}

/// A writer that fails part-way leaves no file under the target name.
#[test]
fn failed_write_leaves_no_half_file() {
    use arrow_array::{ArrayRef, RecordBatch, StringArray};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let cities = common::cities();
    // A 300-byte string cannot be stored in a .dbf: the write fails after the .shp is done.
    let mut batch = cities.to_record_batch().unwrap();
    let mut names: Vec<String> = (0..batch.num_rows()).map(|i| format!("city {i}")).collect();
    names[200] = "x".repeat(300);
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    columns[0] = Arc::new(StringArray::from(names));
    batch = RecordBatch::try_new(batch.schema(), columns).unwrap();
    let frame = geoframe::GeoFrame::from_record_batches(
        batch.schema(),
        vec![batch],
        "geometry",
        cities.crs().cloned(),
    )
    .unwrap();
    let out = dir.path().join("out.shp");
    let err = geoframe::io::write_shapefile(&frame, &out).unwrap_err();
    assert!(
        matches!(&err, Error::Unwritable { message, .. } if message.contains("row 200")),
        "{err}"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "files left behind: {left:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]
    /// Random byte changes anywhere in the three files never panic the reader.
    #[test]
    fn corrupted_bytes_never_panic(
        file in 0usize..3,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let shp = copy("us_states/us_states.shp", dir.path());
        let target = shp.with_extension(["shp", "shx", "dbf"][file]);
        let mut data = std::fs::read(&target).unwrap();
        for (at, byte) in &edits {
            let i = at.index(data.len());
            data[i] = *byte;
        }
        std::fs::write(&target, data).unwrap();
        let _ = read(&shp); // Ok or Err, but never a panic
    }
}
