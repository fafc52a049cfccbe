//! The GeoFrame API on real data: head, select, filter, concat, partitions and their index.

mod common;

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Array, BooleanArray, Float64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use geo::{BoundingRect, Geometry};
use geoframe::{Crs, Error, GeoFrame};

#[test]
fn head_crosses_partitions() {
    let counties = common::counties(100);
    let head = counties.head(250);
    assert_eq!(head.len(), 250);
    assert_eq!(head.npartitions(), 3);
    assert_eq!(head.partitions()[2].len(), 50);
    let all = counties.to_record_batch().unwrap();
    assert_eq!(head.to_record_batch().unwrap(), all.slice(0, 250));
    assert_eq!(counties.head(0).len(), 0);
    assert_eq!(counties.head(10_000).len(), 3231);
}

#[test]
fn select_keeps_geometry_and_order() {
    let countries = common::countries();
    let s = countries.select(&["iso_a3", "name"]).unwrap();
    let names: Vec<_> = s
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(names, ["iso_a3", "name", "geometry"]);
    assert_eq!(s.geometry_column(), "geometry");
    assert_eq!(s.partition_bounds(), countries.partition_bounds());
    match countries.select(&["nope"]).unwrap_err() {
        Error::UnknownColumn { name, available } => {
            assert_eq!(name, "nope");
            assert!(available.contains(&"iso_a3".to_string()));
        }
        e => panic!("{e}"),
    }
}

#[test]
fn filter_by_mask_recomputes_bounds() {
    let counties = common::counties(300);
    let geoid = counties.column("geoid").unwrap();
    let mask: BooleanArray = geoid
        .as_string::<i32>()
        .iter()
        .map(|g| g.map(|g| g.starts_with("06")))
        .collect();
    let california = counties.filter(&mask).unwrap();
    assert_eq!(california.len(), 58); // California has 58 counties
    assert_eq!(california.npartitions(), counties.npartitions());
    let b = california.total_bounds().unwrap();
    assert!(
        b.min().x > -125.0 && b.max().x < -114.0 && b.min().y > 32.0 && b.max().y < 42.1,
        "{b:?}"
    );
    let offsets = california.partition_offsets();
    for (k, p) in california.partitions().iter().enumerate() {
        for g in p.geometries(offsets[k]).unwrap().into_iter().flatten() {
            let gb = g.bounding_rect().unwrap();
            let pb = p.bounds().unwrap();
            assert!(pb.min().x <= gb.min().x && pb.max().y >= gb.max().y);
        }
    }
    assert!(matches!(
        counties
            .filter(&BooleanArray::from(vec![true]))
            .unwrap_err(),
        Error::InvalidArgument(_)
    ));
}

#[test]
fn concat_restores_the_whole() {
    let counties = common::counties(1000);
    let mask_a: BooleanArray = (0..3231).map(|i| Some(i < 1500)).collect();
    let mask_b: BooleanArray = (0..3231).map(|i| Some(i >= 1500)).collect();
    let joined = GeoFrame::concat(&[
        counties.filter(&mask_a).unwrap(),
        counties.filter(&mask_b).unwrap(),
    ])
    .unwrap();
    assert_eq!(
        joined.to_record_batch().unwrap(),
        counties.to_record_batch().unwrap()
    );
    assert_eq!(joined.total_bounds(), counties.total_bounds());
    let projected = counties.clone().set_crs(Crs::epsg(3857), true).unwrap();
    assert!(GeoFrame::concat(&[counties.clone(), projected]).is_err());
    assert!(GeoFrame::concat(&[counties.clone(), common::countries()]).is_err());
}

#[test]
fn from_record_batches_checks_its_input() {
    let schema = Arc::new(Schema::new(vec![Field::new(
        "geometry",
        DataType::Float64,
        true,
    )]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(Float64Array::from(vec![1.0]))],
    )
    .unwrap();
    assert!(matches!(
        GeoFrame::from_record_batches(schema, vec![batch], "geometry", None).unwrap_err(),
        Error::InvalidArgument(_)
    ));
    let bad: Vec<Geometry> = vec![
        geo::point!(x: 0.0, y: 0.0).into(),
        geo::point!(x: f64::NAN, y: 1.0).into(),
    ];
    assert!(matches!(
        GeoFrame::from_geometries(bad, None).unwrap_err(),
        Error::InvalidGeometry { record: 1, .. }
    ));
}

#[test]
fn partition_index_finds_exactly_the_partitions_that_meet_a_box() {
    let counties = common::counties(64);
    let query = geo::Rect::new((-100.0, 35.0), (-95.0, 40.0));
    let hits = counties.partition_index().query(query);
    let expected: Vec<usize> = counties
        .partition_bounds()
        .iter()
        .enumerate()
        .filter(|(_, b)| b.is_some_and(|b| geo::Intersects::intersects(&b, &query)))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(hits, expected);
    assert!(!hits.is_empty());
    // Nothing of the US lies in the mid-Atlantic.
    assert!(counties
        .partition_index()
        .query(geo::Rect::new((-40.0, 0.0), (-30.0, 10.0)))
        .is_empty());
    let geometry = counties.column("geometry").unwrap();
    assert_eq!(geometry.len(), 3231);
    assert_eq!(geometry.null_count(), 0);
}
