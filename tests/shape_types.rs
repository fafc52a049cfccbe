//! Every shape type (Z and M variants read as 2D), null shapes, every .dbf field type and
//! .cpg encodings, on files built byte by byte from the ESRI specification.

use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Float64Type, Int64Type};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray,
};
use arrow_schema::{DataType, Field, Schema};
use geo::{line_string, point, polygon, Geometry, MultiLineString, MultiPoint};
use geoframe::io::{read_shapefile, write_shapefile, ShapefileOptions};
use geoframe::{geometry, GeoFrame};

/// Writes `.shp` + `.shx` for raw record contents (shape type onwards) and a `.dbf` with one
/// numeric field `id` numbering the records.
fn build(path: &Path, file_type: i32, records: &[Vec<u8>], dbf_text: Option<(&[u8], &str)>) {
    let mut shp = Vec::new();
    let mut shx = Vec::new();
    let header = |out: &mut Vec<u8>, len: usize| {
        out.extend_from_slice(&9994i32.to_be_bytes());
        out.extend_from_slice(&[0; 20]);
        out.extend_from_slice(&((len / 2) as i32).to_be_bytes());
        out.extend_from_slice(&1000i32.to_le_bytes());
        out.extend_from_slice(&file_type.to_le_bytes());
        out.extend_from_slice(&[0; 64]);
    };
    let shp_len = 100 + records.iter().map(|r| 8 + r.len()).sum::<usize>();
    header(&mut shp, shp_len);
    header(&mut shx, 100 + 8 * records.len());
    for (i, r) in records.iter().enumerate() {
        shx.extend_from_slice(&((shp.len() / 2) as i32).to_be_bytes());
        shx.extend_from_slice(&((r.len() / 2) as i32).to_be_bytes());
        shp.extend_from_slice(&(i as i32 + 1).to_be_bytes());
        shp.extend_from_slice(&((r.len() / 2) as i32).to_be_bytes());
        shp.extend_from_slice(r);
    }
    std::fs::write(path, shp).unwrap();
    std::fs::write(path.with_extension("shx"), shx).unwrap();
    // .dbf: one N(5,0) field "id", plus an optional C(10) field "label" with given bytes.
    let mut fields: Vec<(&str, u8, u8)> = vec![("id", b'N', 5)];
    if dbf_text.is_some() {
        fields.push(("label", b'C', 10));
    }
    let record_len = 1 + fields.iter().map(|f| f.2 as usize).sum::<usize>();
    let mut dbf = vec![3, 126, 1, 1];
    dbf.extend_from_slice(&(records.len() as u32).to_le_bytes());
    dbf.extend_from_slice(&((32 + 32 * fields.len() + 1) as u16).to_le_bytes());
    dbf.extend_from_slice(&(record_len as u16).to_le_bytes());
    dbf.extend_from_slice(&[0; 20]);
    for (name, kind, len) in &fields {
        let mut d = [0u8; 32];
        d[..name.len()].copy_from_slice(name.as_bytes());
        d[11] = *kind;
        d[16] = *len;
        dbf.extend_from_slice(&d);
    }
    dbf.push(0x0D);
    for i in 0..records.len() {
        dbf.push(b' ');
        dbf.extend_from_slice(format!("{i:>5}").as_bytes());
        if let Some((text, _)) = dbf_text {
            let mut cell = text.to_vec();
            cell.resize(10, b' ');
            dbf.extend_from_slice(&cell);
        }
    }
    dbf.push(0x1A);
    std::fs::write(path.with_extension("dbf"), dbf).unwrap();
    if let Some((_, cpg)) = dbf_text {
        if !cpg.is_empty() {
            std::fs::write(path.with_extension("cpg"), cpg).unwrap();
        }
    }
}

fn le(out: &mut Vec<u8>, values: &[f64]) {
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
}

fn read(path: &Path) -> GeoFrame {
    read_shapefile(
        path,
        &ShapefileOptions {
            rows_per_partition: 2,
            ..Default::default()
        },
    )
    .unwrap()
}

#[test]
fn point_z_and_m_and_null_shapes_read_as_2d() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pz.shp");
    let mut a = 11i32.to_le_bytes().to_vec();
    le(&mut a, &[1.5, 2.5, 100.0, 7.0]); // x y z m
    let null = 0i32.to_le_bytes().to_vec();
    let mut c = 11i32.to_le_bytes().to_vec();
    le(&mut c, &[-3.0, 4.0, 5.0, -1e39]); // m "no data"
    build(&path, 11, &[a, null, c], None);
    let frame = read(&path);
    assert_eq!(
        frame.geometries().unwrap(),
        vec![
            Some(point!(x: 1.5, y: 2.5).into()),
            None,
            Some(point!(x: -3.0, y: 4.0).into())
        ]
    );
    assert_eq!(
        frame
            .column("id")
            .unwrap()
            .as_primitive::<Int64Type>()
            .values()
            .to_vec(),
        vec![0, 1, 2]
    );
    assert!(frame.crs().is_none());
    let b = frame.total_bounds().unwrap();
    assert_eq!(
        (b.min().x, b.min().y, b.max().x, b.max().y),
        (-3.0, 2.5, 1.5, 4.0)
    );
}

#[test]
fn polygon_z_multipoint_m_and_polyline_read_as_2d() {
    let dir = tempfile::tempdir().unwrap();
    // PolygonZ: one square ring (clockwise) with a counter-clockwise hole.
    let outer = [
        (0.0, 0.0),
        (0.0, 10.0),
        (10.0, 10.0),
        (10.0, 0.0),
        (0.0, 0.0),
    ];
    let hole = [(2.0, 2.0), (4.0, 2.0), (4.0, 4.0), (2.0, 4.0), (2.0, 2.0)];
    let mut r = 15i32.to_le_bytes().to_vec();
    le(&mut r, &[0.0, 0.0, 10.0, 10.0]);
    r.extend_from_slice(&2i32.to_le_bytes());
    r.extend_from_slice(&10i32.to_le_bytes());
    r.extend_from_slice(&0i32.to_le_bytes());
    r.extend_from_slice(&5i32.to_le_bytes());
    for (x, y) in outer.iter().chain(&hole) {
        le(&mut r, &[*x, *y]);
    }
    le(&mut r, &[0.0, 9.0]); // z range
    le(&mut r, &[1.0; 10]); // z values
    le(&mut r, &[0.0, 0.0]); // m range
    le(&mut r, &[0.0; 10]); // m values
    let path = dir.path().join("polyz.shp");
    build(&path, 15, &[r], None);
    let expected = polygon!(
        exterior: [(x: 0.0, y: 0.0), (x: 0.0, y: 10.0), (x: 10.0, y: 10.0), (x: 10.0, y: 0.0), (x: 0.0, y: 0.0)],
        interiors: [[(x: 2.0, y: 2.0), (x: 4.0, y: 2.0), (x: 4.0, y: 4.0), (x: 2.0, y: 4.0), (x: 2.0, y: 2.0)]],
    );
    assert_eq!(
        read(&path).geometries().unwrap(),
        vec![Some(Geometry::Polygon(expected))]
    );

    // MultiPointM with two points.
    let mut r = 28i32.to_le_bytes().to_vec();
    le(&mut r, &[1.0, 2.0, 3.0, 4.0]);
    r.extend_from_slice(&2i32.to_le_bytes());
    le(&mut r, &[1.0, 2.0, 3.0, 4.0, 0.0, 1.0, 5.0, 6.0]);
    let path = dir.path().join("mpm.shp");
    build(&path, 28, &[r], None);
    let mp = MultiPoint(vec![point!(x: 1.0, y: 2.0), point!(x: 3.0, y: 4.0)]);
    assert_eq!(
        read(&path).geometries().unwrap(),
        vec![Some(Geometry::MultiPoint(mp))]
    );

    // PolyLine with two parts, and one with a single part.
    let mut two = 3i32.to_le_bytes().to_vec();
    le(&mut two, &[0.0, 0.0, 3.0, 3.0]);
    two.extend_from_slice(&2i32.to_le_bytes());
    two.extend_from_slice(&4i32.to_le_bytes());
    two.extend_from_slice(&0i32.to_le_bytes());
    two.extend_from_slice(&2i32.to_le_bytes());
    le(&mut two, &[0.0, 0.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0]);
    let mut one = 3i32.to_le_bytes().to_vec();
    le(&mut one, &[0.0, 0.0, 1.0, 1.0]);
    one.extend_from_slice(&1i32.to_le_bytes());
    one.extend_from_slice(&2i32.to_le_bytes());
    one.extend_from_slice(&0i32.to_le_bytes());
    le(&mut one, &[0.0, 0.0, 1.0, 1.0]);
    let path = dir.path().join("lines.shp");
    build(&path, 3, &[two, one], None);
    let mls = MultiLineString(vec![
        line_string![(x: 0.0, y: 0.0), (x: 1.0, y: 1.0)],
        line_string![(x: 2.0, y: 2.0), (x: 3.0, y: 3.0)],
    ]);
    assert_eq!(
        read(&path).geometries().unwrap(),
        vec![
            Some(Geometry::MultiLineString(mls)),
            Some(Geometry::LineString(
                line_string![(x: 0.0, y: 0.0), (x: 1.0, y: 1.0)]
            ))
        ]
    );
}

#[test]
fn text_encodings_follow_the_cpg() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = 1i32.to_le_bytes().to_vec();
    le(&mut r, &[0.0, 0.0]);
    // "Zürich" in ISO-8859-1.
    let latin1: &[u8] = b"Z\xfcrich";
    for (cpg, name) in [("ISO-8859-1", "a.shp"), ("1252", "b.shp"), ("", "c.shp")] {
        let path = dir.path().join(name);
        build(&path, 1, std::slice::from_ref(&r), Some((latin1, cpg)));
        let label = read(&path).column("label").unwrap();
        assert_eq!(label.as_string::<i32>().value(0), "Zürich", "cpg {cpg:?}");
    }
    let path = dir.path().join("d.shp");
    build(
        &path,
        1,
        std::slice::from_ref(&r),
        Some(("Zürich".as_bytes(), "UTF-8")),
    );
    assert_eq!(
        read(&path)
            .column("label")
            .unwrap()
            .as_string::<i32>()
            .value(0),
        "Zürich"
    );
}

#[test]
fn every_field_type_and_shape_family_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let geoms: Vec<Option<Geometry>> = vec![
        Some(line_string![(x: 0.0, y: 0.0), (x: 1.0, y: 1.0)].into()),
        None,
        Some(
            MultiLineString(vec![
                line_string![(x: 0.0, y: 0.0), (x: 1.0, y: 0.5)],
                line_string![(x: 2.0, y: 2.0), (x: 3.0, y: 1.0)],
            ])
            .into(),
        ),
    ];
    let columns: Vec<(Field, ArrayRef)> = vec![
        (
            Field::new("flag", DataType::Boolean, true),
            Arc::new(BooleanArray::from(vec![Some(true), Some(false), None])),
        ),
        (
            Field::new("day", DataType::Date32, true),
            Arc::new(Date32Array::from(vec![Some(19782), Some(0), None])),
        ), // 2024-02-29
        (
            Field::new("a_very_long_count", DataType::Int64, true),
            Arc::new(Int64Array::from(vec![
                Some(1),
                Some(-9_007_199_254_740_993),
                None,
            ])),
        ),
        (
            Field::new("a_very_long_ratio", DataType::Float64, true),
            Arc::new(Float64Array::from(vec![Some(0.1), Some(-1.5e300), None])),
        ),
        (
            Field::new("label", DataType::Utf8, true),
            Arc::new(StringArray::from(vec![
                Some("Zürich"),
                None,
                Some("  leading"),
            ])),
        ),
    ];
    let mut fields: Vec<Field> = columns.iter().map(|c| c.0.clone()).collect();
    fields.push(geometry::geometry_field("geometry"));
    let mut arrays: Vec<ArrayRef> = columns.iter().map(|c| c.1.clone()).collect();
    arrays.push(Arc::new(geometry::encode_array(
        geoms.iter().map(Option::as_ref),
    )));
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), arrays).unwrap();
    let frame = GeoFrame::from_record_batches(
        schema,
        vec![batch],
        "geometry",
        Some(geoframe::Crs::epsg(4326)),
    )
    .unwrap();
    let path = dir.path().join("types.shp");
    write_shapefile(&frame, &path).unwrap();
    let back = read(&path);
    let names: Vec<_> = back
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    // Names cut to the format's 10 bytes and made unique.
    assert_eq!(
        names,
        [
            "flag",
            "day",
            "a_very_lon",
            "a_very_l_1",
            "label",
            "geometry"
        ]
    );
    assert_eq!(back.geometries().unwrap(), geoms);
    let flag = back.column("flag").unwrap();
    assert_eq!(
        flag.as_boolean().iter().collect::<Vec<_>>(),
        vec![Some(true), Some(false), None]
    );
    let day = back.column("day").unwrap();
    assert_eq!(
        day.as_primitive::<Date32Type>().iter().collect::<Vec<_>>(),
        vec![Some(19782), Some(0), None]
    );
    let count = back.column("a_very_lon").unwrap();
    assert_eq!(
        count.as_primitive::<Int64Type>().iter().collect::<Vec<_>>(),
        vec![Some(1), Some(-9_007_199_254_740_993), None]
    );
    let ratio = back.column("a_very_l_1").unwrap();
    assert_eq!(
        ratio
            .as_primitive::<Float64Type>()
            .iter()
            .collect::<Vec<_>>(),
        vec![Some(0.1), Some(-1.5e300), None]
    );
    let label = back.column("label").unwrap();
    assert_eq!(
        label.as_string::<i32>().iter().collect::<Vec<_>>(),
        vec![Some("Zürich"), None, Some("  leading")]
    );
    assert_eq!(label.null_count(), 1);

    // A multipoint layer.
    let mp: Geometry = MultiPoint(vec![point!(x: 1.0, y: 1.0), point!(x: 2.0, y: 3.0)]).into();
    let frame = GeoFrame::from_geometries(vec![mp.clone()], None).unwrap();
    let path = dir.path().join("mp.shp");
    write_shapefile(&frame, &path).unwrap();
    assert_eq!(read(&path).geometries().unwrap(), vec![Some(mp)]);
    assert!(!path.with_extension("prj").exists());

    // Mixed families cannot share a shapefile.
    let mixed = GeoFrame::from_geometries(
        vec![
            point!(x: 0.0, y: 0.0).into(),
            line_string![(x: 0.0, y: 0.0), (x: 1.0, y: 1.0)].into(),
        ],
        None,
    )
    .unwrap();
    assert!(matches!(
        write_shapefile(&mixed, dir.path().join("mixed.shp")).unwrap_err(),
        geoframe::Error::Unwritable { .. }
    ));
}
