//! Reading the real shapefiles in `data/`, checked against GeoPandas 1.2 (pyogrio) values
//! computed once by `tests/oracle/make_expected.py`.

mod common;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::Array;
use arrow_schema::DataType;
use geo::{Area, CoordsIter};
use geoframe::geometry::type_name;

#[test]
fn us_counties_match_geopandas_area_type_and_vertices() {
    // Rings with the wrong winding order are assembled by containment, like GDAL.
    let expected = common::oracle("us_counties_area.csv");
    for rows in [3231, 1000, 7] {
        let frame = common::counties(rows);
        assert_eq!(frame.len(), 3231);
        assert_eq!(frame.npartitions(), 3231usize.div_ceil(rows));
        let geoid = frame.column("geoid").unwrap();
        let geoid = geoid.as_string::<i32>();
        let geometries = frame.geometries().unwrap();
        for (i, row) in expected.iter().enumerate() {
            let g = geometries[i].as_ref().expect("no null county");
            assert_eq!(geoid.value(i), row[1], "row {i}");
            let area: f64 = row[2].parse().unwrap();
            assert!(
                common::rel_eq(g.unsigned_area(), area, 1e-9),
                "row {i} ({}): area {} vs GeoPandas {area}",
                row[1],
                g.unsigned_area()
            );
            assert_eq!(type_name(g), row[3], "row {i}");
            assert_eq!(g.coords_count().to_string(), row[4], "row {i}");
        }
    }
}

#[test]
fn countries_attributes_and_types() {
    let frame = common::countries();
    let expected = common::oracle("countries.csv");
    assert_eq!(frame.len(), expected.len());
    let names: Vec<_> = frame
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        names,
        [
            "pop_est",
            "continent",
            "name",
            "iso_a3",
            "gdp_md_est",
            "geometry"
        ]
    );
    assert_eq!(frame.schema().field(0).data_type(), &DataType::Float64);
    let iso = frame.column("iso_a3").unwrap();
    let pop = frame.column("pop_est").unwrap();
    let geometries = frame.geometries().unwrap();
    for (i, row) in expected.iter().enumerate() {
        assert_eq!(iso.as_string::<i32>().value(i), row[1]);
        assert_eq!(
            pop.as_primitive::<Float64Type>().value(i),
            row[2].parse::<f64>().unwrap()
        );
        let g = geometries[i].as_ref().unwrap();
        assert!(
            common::rel_eq(g.unsigned_area(), row[3].parse().unwrap(), 1e-9),
            "row {i}"
        );
        assert_eq!(type_name(g), row[4]);
    }
    assert_eq!(frame.crs().unwrap().to_epsg(), Some(4326));
    let b = frame.total_bounds().unwrap();
    // GeoPandas total_bounds: [-180.0, -90.0, 180.00000000000006, 83.64513000000001]
    assert_eq!(
        (b.min().x, b.min().y, b.max().x, b.max().y),
        (-180.0, -90.0, 180.00000000000006, 83.64513000000001)
    );
}

#[test]
fn cities_are_points_with_names() {
    let frame = common::cities();
    assert_eq!(frame.len(), 243);
    let name = frame.column("name").unwrap();
    assert_eq!(name.null_count(), 0);
    assert!(frame
        .geometries()
        .unwrap()
        .iter()
        .all(|g| matches!(g, Some(geo::Geometry::Point(_)))));
}

#[test]
fn partition_bounds_cover_their_geometries_and_index_finds_them() {
    use geo::BoundingRect;
    let frame = common::counties(100);
    let offsets = frame.partition_offsets();
    for (k, p) in frame.partitions().iter().enumerate() {
        let pb = p.bounds().unwrap();
        for g in p.geometries(offsets[k]).unwrap().into_iter().flatten() {
            let b = g.bounding_rect().unwrap();
            assert!(pb.min().x <= b.min().x && pb.min().y <= b.min().y);
            assert!(pb.max().x >= b.max().x && pb.max().y >= b.max().y);
            // The partition index returns this partition for the geometry's box.
            assert!(frame.partition_index().query(b).contains(&k));
        }
    }
}

#[test]
fn nybb_projected_crs_and_integer_attributes() {
    let frame = common::read("nybb/nybb.shp", 2);
    assert_eq!(frame.len(), 5);
    assert_eq!(frame.npartitions(), 3);
    assert_eq!(frame.crs().unwrap().to_epsg(), Some(2263));
    let code = frame.column("BoroCode").unwrap();
    assert_eq!(code.data_type(), &DataType::Int64);
    let mut codes: Vec<i64> = code.as_primitive::<Int64Type>().values().to_vec();
    codes.sort();
    assert_eq!(codes, [1, 2, 3, 4, 5]);
}
