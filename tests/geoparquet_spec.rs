//! GeoParquet 1.1 as the spec writes it: the `bbox` covering column (each row's box, with
//! statistics), `geo` in the footer and in the Arrow schema, the creator; row-group boxes
//! and box filters read from the covering; every compression; a missing `crs` as OGC:CRS84.
//! Oracles: boxes from `geo`'s `BoundingRect` on the decoded geometries, and brute force.

mod common;

use std::fs::File;
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{Array, RecordBatch};
use geo::{BoundingRect, CoordsIter, Rect};
use geoframe::io::{
    read_geoparquet, read_geoparquet_bbox, write_geoparquet, write_geoparquet_with,
    GeoParquetOptions, GeoParquetSource, GeoParquetWriteOptions, ParquetCompression,
    PartitionSource,
};
use geoframe::partition::ShuffleMethod;
use geoframe::plan::{ExecuteOptions, LazyFrame};
use geoframe::{Crs, GeoFrame};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::statistics::Statistics;
use serde_json::Value;

fn batches(path: &Path) -> (arrow_schema::SchemaRef, Vec<RecordBatch>) {
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap();
    let schema = builder.schema().clone();
    let batches = builder.build().unwrap().map(Result::unwrap).collect();
    (schema, batches)
}

fn footer_geo(path: &Path) -> Value {
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap();
    let kv = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .unwrap();
    let geo = kv.iter().find(|k| k.key == "geo").unwrap();
    serde_json::from_str(geo.value.as_deref().unwrap()).unwrap()
}

/// Every row of `frame` as the box of all its coordinates, holes included (`None` for
/// null or empty geometries): `geo`'s `bounding_rect` where a polygon's holes lie inside its
/// shell, wider for the three counties with a hole outside theirs.
fn row_boxes(frame: &GeoFrame) -> Vec<Option<Rect>> {
    frame
        .partitions()
        .iter()
        .flat_map(|p| p.geometries(0).unwrap())
        .map(|g| {
            let g = g?;
            let hull = geo::MultiPoint(g.coords_iter().map(geo::Point::from).collect());
            hull.bounding_rect()
        })
        .collect()
}

#[test]
fn the_covering_column_holds_each_rows_box_with_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("counties.parquet");
    let counties = common::counties(500);
    write_geoparquet(&counties, &path).unwrap();

    let (schema, batches) = batches(&path);
    // `geo` in the Arrow schema (dask-geopandas looks there) and in the footer, equal.
    let in_schema: Value = serde_json::from_str(&schema.metadata()["geo"]).unwrap();
    let geo = footer_geo(&path);
    assert_eq!(in_schema, geo);
    assert_eq!(geo["version"], "1.1.0");
    assert_eq!(geo["creator"]["library"], "geoframe");
    let covering = &geo["columns"]["geometry"]["covering"]["bbox"];
    for key in ["xmin", "ymin", "xmax", "ymax"] {
        assert_eq!(covering[key], serde_json::json!(["bbox", key]));
    }

    let expected = row_boxes(&counties);
    let mut got = Vec::new();
    for batch in &batches {
        let bbox = batch.column_by_name("bbox").unwrap().as_struct();
        let field = |name: &str| {
            bbox.column_by_name(name)
                .unwrap()
                .as_primitive::<Float64Type>()
                .clone()
        };
        let (x0, y0, x1, y1) = (field("xmin"), field("ymin"), field("xmax"), field("ymax"));
        for i in 0..batch.num_rows() {
            got.push(
                bbox.is_valid(i)
                    .then(|| Rect::new((x0.value(i), y0.value(i)), (x1.value(i), y1.value(i)))),
            );
        }
    }
    assert_eq!(got.len(), 3231);
    let differ: Vec<usize> = (0..got.len()).filter(|&i| got[i] != expected[i]).collect();
    assert!(
        differ.is_empty(),
        "{} rows differ, first {:?}: {:?} vs {:?}",
        differ.len(),
        differ.first(),
        differ.first().map(|&i| got[i]),
        differ.first().map(|&i| expected[i])
    );

    // Statistics per row group, equal to the least and greatest values of its rows.
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap()).unwrap();
    let metadata = builder.metadata();
    assert_eq!(metadata.num_row_groups(), 7);
    let mut first = 0;
    for group in metadata.row_groups() {
        let rows = group.num_rows() as usize;
        let xmin = group
            .columns()
            .iter()
            .find(|c| c.column_path().string() == "bbox.xmin")
            .unwrap();
        let Some(Statistics::Double(stats)) = xmin.statistics() else {
            panic!("no statistics on bbox.xmin");
        };
        let least = expected[first..first + rows]
            .iter()
            .flatten()
            .map(|r| r.min().x)
            .fold(f64::INFINITY, f64::min);
        assert_eq!(*stats.min_opt().unwrap(), least);
        first += rows;
    }
}

#[test]
fn reading_drops_the_covering_and_bounds_row_groups_by_its_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("counties.parquet");
    let counties = common::counties(500);
    write_geoparquet(&counties, &path).unwrap();
    let source = GeoParquetSource::open(&path, &GeoParquetOptions::default()).unwrap();
    assert_eq!(source.schema().fields(), counties.schema().fields());
    let declared: Vec<Option<Rect>> = source.partitions().iter().map(|p| p.bounds).collect();
    let actual: Vec<Option<Rect>> = counties.partitions().iter().map(|p| p.bounds()).collect();
    assert_eq!(declared, actual);
    let read = read_geoparquet(&path, &GeoParquetOptions::default()).unwrap();
    assert_eq!(read.schema().fields(), counties.schema().fields());
    assert_eq!(row_boxes(&read), row_boxes(&counties));

    // Without a covering, every row group could be anywhere within the file's bbox.
    let plain = dir.path().join("plain.parquet");
    let options = GeoParquetWriteOptions {
        covering: false,
        ..Default::default()
    };
    write_geoparquet_with(&counties, &plain, &options).unwrap();
    let (schema, _) = batches(&plain);
    assert!(schema.field_with_name("bbox").is_err());
    let source = GeoParquetSource::open(&plain, &GeoParquetOptions::default()).unwrap();
    let file_box = counties.total_bounds();
    assert!(source.partitions().iter().all(|p| p.bounds == file_box));
}

#[test]
fn a_box_filter_matches_brute_force_and_skips_row_groups() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("points.parquet");
    let points = geoframe::datagen::uniform_points(40_000, 7, 40_000)
        .unwrap()
        .spatial_shuffle(ShuffleMethod::Hilbert, 32)
        .unwrap();
    write_geoparquet(&points, &path).unwrap();
    let rect = Rect::new((-100.0, 35.0), (-95.0, 38.0));

    // Brute force: the ids of the points inside the box, boundary included.
    let mut expected = Vec::new();
    for p in points.partitions() {
        let ids = p
            .batch()
            .column_by_name("id")
            .unwrap()
            .as_primitive::<arrow_array::types::Int64Type>()
            .clone();
        for (i, g) in p.geometries(0).unwrap().into_iter().enumerate() {
            if let Some(geo::Geometry::Point(pt)) = g {
                if (rect.min().x..=rect.max().x).contains(&pt.x())
                    && (rect.min().y..=rect.max().y).contains(&pt.y())
                {
                    expected.push(ids.value(i));
                }
            }
        }
    }
    expected.sort_unstable();
    assert!(expected.len() > 100, "{}", expected.len());
    let ids = |frame: &GeoFrame| {
        let mut ids: Vec<i64> = frame
            .partitions()
            .iter()
            .flat_map(|p| {
                p.batch()
                    .column_by_name("id")
                    .unwrap()
                    .as_primitive::<arrow_array::types::Int64Type>()
                    .values()
                    .to_vec()
            })
            .collect();
        ids.sort_unstable();
        ids
    };

    let eager = read_geoparquet_bbox(&path, rect, &GeoParquetOptions::default()).unwrap();
    assert_eq!(ids(&eager), expected);

    let lazy = geoframe::plan::scan_geoparquet(&path, &GeoParquetOptions::default())
        .unwrap()
        .filter_bbox(rect);
    let plan = lazy.explain();
    let kept: usize = plan
        .split("FilterBbox ")
        .nth(1)
        .and_then(|rest| rest.split(": ").nth(1))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no FilterBbox count in {plan}"));
    // A 5x3 degree box of a 59x26 degree extent meets few of 32 Hilbert partitions.
    assert!((1..=8).contains(&kept), "{plan}");
    let collected = lazy.collect(&ExecuteOptions::default()).unwrap();
    assert_eq!(ids(&collected), expected);

    // The same filter on a frame in memory (no covering) agrees.
    let in_memory = LazyFrame::from(points.clone())
        .filter_bbox(rect)
        .collect(&ExecuteOptions::default())
        .unwrap();
    assert_eq!(ids(&in_memory), expected);
}

#[test]
fn every_compression_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let cities = common::cities();
    for (name, codec) in [
        ("uncompressed", "UNCOMPRESSED"),
        ("snappy", "SNAPPY"),
        ("lz4", "LZ4_RAW"),
        ("gzip:9", "GZIP"),
        ("brotli:4", "BROTLI"),
        ("zstd:5", "ZSTD"),
    ] {
        let compression: ParquetCompression = name.parse().unwrap();
        let path = dir
            .path()
            .join(format!("{}.parquet", name.replace(':', "_")));
        let options = GeoParquetWriteOptions {
            compression,
            ..Default::default()
        };
        write_geoparquet_with(&cities, &path, &options).unwrap();
        let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap()).unwrap();
        let written = format!(
            "{:?}",
            builder.metadata().row_group(0).column(0).compression()
        );
        assert!(written.starts_with(codec), "{name}: {written}");
        let read = read_geoparquet(&path, &GeoParquetOptions::default()).unwrap();
        assert_eq!(read.len(), cities.len(), "{name}");
        let concat = |f: &GeoFrame| {
            arrow_select::concat::concat_batches(
                f.schema(),
                f.partitions().iter().map(|p| p.batch()),
            )
            .unwrap()
        };
        assert_eq!(concat(&read), concat(&cities), "{name}");
    }
    assert!("zstd:23".parse::<ParquetCompression>().is_err());
    assert!("gzip:10".parse::<ParquetCompression>().is_err());
    assert!("snappy:1".parse::<ParquetCompression>().is_err());
    assert!("lzo".parse::<ParquetCompression>().is_err());
}

#[test]
fn a_missing_crs_means_ogc_crs84() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cities.parquet");
    let cities = common::cities();
    write_geoparquet(&cities, &path).unwrap();
    // The same file with the `crs` key taken out of the footer's `geo`.
    let (schema, batches) = batches(&path);
    let mut geo = footer_geo(&path);
    geo["columns"]["geometry"]
        .as_object_mut()
        .unwrap()
        .remove("crs");
    let bare = dir.path().join("bare.parquet");
    let props = parquet::file::properties::WriterProperties::builder()
        .set_key_value_metadata(Some(vec![parquet::file::metadata::KeyValue::new(
            "geo".into(),
            geo.to_string(),
        )]))
        .build();
    let schema = std::sync::Arc::new(arrow_schema::Schema::new(schema.fields().clone()));
    let mut writer = parquet::arrow::ArrowWriter::try_new(
        File::create(&bare).unwrap(),
        schema.clone(),
        Some(props),
    )
    .unwrap();
    for b in batches {
        writer
            .write(&RecordBatch::try_new(schema.clone(), b.columns().to_vec()).unwrap())
            .unwrap();
    }
    writer.close().unwrap();

    let read = read_geoparquet(&bare, &GeoParquetOptions::default()).unwrap();
    let crs = read.crs().unwrap();
    assert_eq!(crs.definition(), "OGC:CRS84");
    assert_eq!(
        crs,
        &Crs::epsg(4326),
        "CRS84 is WGS 84 with longitude first"
    );
    // Longitude first: 180 degrees east is the edge of the web mercator plane.
    let frame = GeoFrame::from_geometries(
        vec![geo::Geometry::Point(geo::Point::new(180.0, 0.0))],
        Some(crs.clone()),
    )
    .unwrap();
    let projected = frame.to_crs(&Crs::epsg(3857)).unwrap();
    let p = projected.partitions()[0].geometries(0).unwrap()[0]
        .clone()
        .unwrap();
    let geo::Geometry::Point(p) = p else {
        panic!("{p:?}")
    };
    assert!(
        (p.x() - 20_037_508.342789244).abs() < 1e-3 && p.y().abs() < 1e-6,
        "{p:?}"
    );
}

#[test]
fn nested_columns_round_trip_in_geoparquet_and_are_refused_by_flat_formats() {
    use arrow_array::{Float64Array, StructArray};
    use arrow_schema::{DataType, Field};
    let cities = common::cities();
    let n = cities.len();
    let fields: arrow_schema::Fields = vec![
        Field::new("a", DataType::Float64, false),
        Field::new("b", DataType::Float64, false),
    ]
    .into();
    let nested = StructArray::new(
        fields,
        vec![
            std::sync::Arc::new(Float64Array::from(
                (0..n).map(|i| i as f64).collect::<Vec<_>>(),
            )),
            std::sync::Arc::new(Float64Array::from(vec![0.5; n])),
        ],
        None,
    );
    let frame = cities
        .with_column("pair", std::sync::Arc::new(nested))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("nested.parquet");
    write_geoparquet(&frame, &parquet).unwrap();
    let back = read_geoparquet(&parquet, &GeoParquetOptions::default()).unwrap();
    assert_eq!(
        back.column("pair").unwrap().as_ref(),
        frame.column("pair").unwrap().as_ref()
    );
    type Writer = fn(&GeoFrame, &Path) -> geoframe::Result<()>;
    let writers: [(&str, Writer); 2] = [
        ("nested.shp", |f, p| geoframe::io::write_shapefile(f, p)),
        ("nested.geojson", |f, p| geoframe::io::write_geojson(f, p)),
    ];
    for (name, write) in writers {
        let path = dir.path().join(name);
        match write(&frame, &path) {
            Err(geoframe::Error::Unwritable { path: p, message }) => {
                assert_eq!(p, path);
                assert!(message.contains("column \"pair\""), "{message}");
            }
            other => panic!("{name}: {other:?}"),
        }
        assert!(!path.exists(), "{name}");
    }
}

#[test]
fn native_geoarrow_encodings_are_written_on_request_and_read_back() {
    use geoframe::geometry::NativeEncoding;
    use geoframe::io::GeometryEncoding;
    let dir = tempfile::tempdir().unwrap();
    let promote = |g: Option<geo::Geometry>| match g {
        Some(geo::Geometry::Polygon(p)) => Some(geo::Geometry::MultiPolygon(vec![p].into())),
        other => other,
    };
    for (frame, native) in [
        (common::cities(), NativeEncoding::Point),
        (common::countries(), NativeEncoding::MultiPolygon),
    ] {
        let path = dir.path().join(format!("{}.parquet", native.name()));
        let options = GeoParquetWriteOptions {
            encoding: GeometryEncoding::Native(native),
            ..Default::default()
        };
        write_geoparquet_with(&frame, &path, &options).unwrap();
        assert_eq!(
            footer_geo(&path)["columns"]["geometry"]["encoding"],
            native.name()
        );
        let (schema, _) = batches(&path);
        assert_eq!(
            schema.field_with_name("geometry").unwrap().data_type(),
            &native.data_type()
        );
        // Every coordinate column has statistics: readers can prune by them.
        let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap()).unwrap();
        let x = builder.metadata().row_group(0).columns().iter().find(|c| {
            let p = c.column_path().string();
            p.starts_with("geometry.") && p.ends_with(".x")
        });
        assert!(
            x.and_then(|c| c.statistics()).is_some(),
            "{}",
            native.name()
        );
        let read = read_geoparquet(&path, &GeoParquetOptions::default()).unwrap();
        let expected: Vec<_> = frame
            .geometries()
            .unwrap()
            .into_iter()
            .map(promote)
            .collect();
        assert_eq!(read.geometries().unwrap(), expected, "{}", native.name());
        assert_eq!(read.len(), frame.len());
    }
    // Lines cannot go into `polygon`: an error naming the row and the file.
    let lines = GeoFrame::from_geometries(
        vec![
            geo::Geometry::Polygon(geo::Polygon::new(
                geo::LineString::from(vec![(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (0.0, 0.0)]),
                vec![],
            )),
            geo::Geometry::LineString(geo::LineString::from(vec![(0.0, 0.0), (1.0, 1.0)])),
        ],
        None,
    )
    .unwrap();
    let path = dir.path().join("mixed.parquet");
    let options = GeoParquetWriteOptions {
        encoding: GeometryEncoding::Native(NativeEncoding::Polygon),
        ..Default::default()
    };
    match write_geoparquet_with(&lines, &path, &options) {
        Err(geoframe::Error::InvalidGeometry { record: 1, .. }) => {}
        other => panic!("{other:?}"),
    }
    assert!(!path.exists());
}

#[test]
fn the_parquet_geometry_logical_type_is_written_on_request_with_its_statistics() {
    use parquet::basic::LogicalType;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let counties = common::counties(500);
    let dir = tempfile::tempdir().unwrap();
    let logical = |path: &Path| {
        let reader = SerializedFileReader::new(File::open(path).unwrap()).unwrap();
        let metadata = reader.metadata().clone();
        let schema = metadata.file_metadata().schema_descr_ptr();
        let column = schema
            .columns()
            .iter()
            .position(|c| c.name() == "geometry")
            .unwrap();
        (
            schema.column(column).logical_type_ref().cloned(),
            metadata,
            column,
        )
    };

    // By default the column is plain binary, as before.
    let plain = dir.path().join("plain.parquet");
    write_geoparquet(&counties, &plain).unwrap();
    assert_eq!(logical(&plain).0, None);

    let path = dir.path().join("typed.parquet");
    let options = GeoParquetWriteOptions {
        geometry_logical_type: true,
        ..Default::default()
    };
    write_geoparquet_with(&counties, &path, &options).unwrap();
    let (logical_type, metadata, column) = logical(&path);
    // Longitude/latitude is the type's default CRS, so none is written.
    assert!(
        matches!(&logical_type, Some(LogicalType::Geometry(g)) if g.crs.is_none()),
        "{logical_type:?}"
    );
    assert_eq!(metadata.num_row_groups(), counties.partitions().len());
    for (k, p) in counties.partitions().iter().enumerate() {
        let stats = metadata
            .row_group(k)
            .column(column)
            .geo_statistics()
            .unwrap();
        let b = stats.bounding_box().unwrap();
        let expected = p.bounds().unwrap();
        assert_eq!(
            (b.get_xmin(), b.get_ymin(), b.get_xmax(), b.get_ymax()),
            (
                expected.min().x,
                expected.min().y,
                expected.max().x,
                expected.max().y
            ),
            "row group {k}"
        );
        // WKB type codes: 3 polygon, 6 multipolygon.
        let types = stats.geospatial_types().unwrap();
        assert!(types.iter().all(|t| [3, 6].contains(t)), "{types:?}");
    }
    // geoframe reads it back as before, `geo` metadata and all.
    let read = read_geoparquet(&path, &GeoParquetOptions::default()).unwrap();
    assert_eq!(read.schema().fields(), counties.schema().fields());
    assert_eq!(row_boxes(&read), row_boxes(&counties));

    // Another CRS is written by its code.
    let projected = counties.to_crs(&Crs::epsg(3857)).unwrap();
    write_geoparquet_with(&projected, &path, &options).unwrap();
    match logical(&path).0 {
        Some(LogicalType::Geometry(g)) => assert_eq!(g.crs.as_deref(), Some("EPSG:3857")),
        other => panic!("{other:?}"),
    }
    let read = read_geoparquet(&path, &GeoParquetOptions::default()).unwrap();
    assert_eq!(read.crs().and_then(|c| c.to_epsg()), Some(3857));
}
