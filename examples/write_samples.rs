//! Writes the data sets in `data/`, 10,000 generated points and a layer with every
//! attribute type in every format geoframe writes, for `tests/interop/check_geopandas.py` to
//! open with GeoPandas.
//!
//!     cargo run --release --example write_samples -- OUTDIR

use std::sync::Arc;

use geo::line_string;

use arrow_array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray,
};
use arrow_schema::{DataType, Field, Schema};
use geoframe::geometry::NativeEncoding;
use geoframe::io::{
    read_shapefile, write_flatgeobuf, write_geojson, write_geopackage, write_geoparquet,
    write_geoparquet_with, write_shapefile, FlatGeobufSink, FlatGeobufWriteOptions,
    GeoParquetDatasetSink, GeoParquetWriteOptions, GeometryEncoding, PartitionSink,
    ShapefileOptions, SinkLayout,
};
use geoframe::{geometry, Crs, GeoFrame};

/// Every attribute type geoframe writes, with nulls, on a line layer with a null geometry.
/// `tests/interop/check_geopandas.py` knows these values.
fn types_layer() -> Result<GeoFrame, Box<dyn std::error::Error>> {
    let lines: Vec<Option<geo::Geometry>> = vec![
        Some(line_string![(x: 0.0, y: 0.0), (x: 1.0, y: 1.0)].into()),
        None,
        Some(
            geo::MultiLineString(vec![
                line_string![(x: 0.0, y: 0.0), (x: 1.0, y: 0.5)],
                line_string![(x: 2.0, y: 2.0), (x: 3.0, y: 1.0)],
            ])
            .into(),
        ),
    ];
    let schema = Arc::new(Schema::new(vec![
        Field::new("flag", DataType::Boolean, true),
        Field::new("day", DataType::Date32, true),
        Field::new("count", DataType::Int64, true),
        Field::new("ratio", DataType::Float64, true),
        Field::new("label", DataType::Utf8, true),
        geometry::geometry_field("geometry"),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(BooleanArray::from(vec![Some(true), Some(false), None])),
        Arc::new(Date32Array::from(vec![Some(19782), Some(0), None])), // 2024-02-29, 1970-01-01
        Arc::new(Int64Array::from(vec![
            Some(1),
            Some(-9_007_199_254_740_993),
            None,
        ])),
        Arc::new(Float64Array::from(vec![Some(0.1), Some(-1.5e300), None])),
        Arc::new(StringArray::from(vec![
            Some("Zürich"),
            None,
            Some("São Paulo"),
        ])),
        Arc::new(geometry::encode_array(lines.iter().map(Option::as_ref))),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    Ok(GeoFrame::from_record_batches(
        schema,
        vec![batch],
        "geometry",
        Some(Crs::epsg(4326)),
    )?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: write_samples OUTDIR")?,
    );
    std::fs::create_dir_all(&out)?;
    let options = ShapefileOptions {
        rows_per_partition: 500,
        ..Default::default()
    };
    let mut layers = Vec::new();
    for name in ["us_counties", "naturalearth_lowres", "naturalearth_cities"] {
        layers.push((
            name.to_string(),
            read_shapefile(format!("data/{name}/{name}.shp"), &options)?,
        ));
    }
    layers.push((
        "nybb".to_string(),
        read_shapefile("data/nybb/nybb.shp", &options)?,
    ));
    layers.push((
        "points".to_string(),
        geoframe::datagen::uniform_points(10_000, 42, 3_000)?,
    ));
    layers.push(("types".to_string(), types_layer()?));
    for (name, frame) in &layers {
        write_shapefile(frame, out.join(format!("{name}.shp")))?;
        write_geoparquet(frame, out.join(format!("{name}.parquet")))?;
        write_geojson(frame, out.join(format!("{name}.geojson")))?;
        write_geopackage(frame, out.join(format!("{name}.gpkg")))?;
        // In the frame's row order, to be compared row by row; the indexed file below is
        // in the index's order.
        let in_order = FlatGeobufWriteOptions {
            spatial_index: false,
        };
        let mut sink = FlatGeobufSink::create(
            out.join(format!("{name}.fgb")),
            &SinkLayout::of(frame),
            &in_order,
        )?;
        sink.write(frame.partitions())?;
        Box::new(sink).finish()?;
    }
    write_flatgeobuf(&layers[0].1, out.join("us_counties_indexed.fgb"))?;
    // Native GeoArrow encodings: points and (multi)polygons.
    for (name, frame, native) in [
        ("naturalearth_cities", &layers[2].1, NativeEncoding::Point),
        (
            "naturalearth_lowres",
            &layers[1].1,
            NativeEncoding::MultiPolygon,
        ),
    ] {
        let options = GeoParquetWriteOptions {
            encoding: GeometryEncoding::Native(native),
            ..Default::default()
        };
        write_geoparquet_with(
            frame,
            out.join(format!("{name}_geoarrow.parquet")),
            &options,
        )?;
    }
    // Parquet's GEOMETRY logical type: counties (longitude/latitude) and boroughs (EPSG:2263).
    let typed = GeoParquetWriteOptions {
        geometry_logical_type: true,
        ..Default::default()
    };
    for (name, frame) in [("us_counties", &layers[0].1), ("nybb", &layers[3].1)] {
        write_geoparquet_with(frame, out.join(format!("{name}_typed.parquet")), &typed)?;
    }
    // A partitioned dataset: one GeoParquet file per partition (7 of 500 counties).
    let counties = &layers[0].1;
    let dataset = out.join("us_counties_dataset");
    let mut sink = GeoParquetDatasetSink::create(
        &dataset,
        &SinkLayout::of(counties),
        &GeoParquetWriteOptions::default(),
    )?;
    sink.write(counties.partitions())?;
    Box::new(sink).finish()?;
    println!("wrote {} layers to {}", layers.len(), out.display());
    Ok(())
}
