//! Native GeoArrow arrays into WKB. Coordinates may be separated (a struct of `x`, `y`[,
//! `z`][, `m`] arrays, the GeoParquet form) or interleaved (a fixed-size list of 2, 3 or 4
//! doubles).

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{Array, ArrayRef, BinaryArray, Float64Array, GenericListArray, OffsetSizeTrait};
use arrow_schema::DataType;

use super::NativeEncoding;
use crate::error::{Error, Result};

/// The coordinates below the lists: `dims` doubles per coordinate.
struct Coords {
    /// Separated: one array per dimension; interleaved: one array, `dims` values a row.
    columns: Vec<Float64Array>,
    interleaved: bool,
    dims: usize,
    /// Whether the third value is `m` rather than `z` (an `xym` coordinate).
    measured: bool,
}

impl Coords {
    fn new(array: &dyn Array) -> Result<Coords> {
        let bad = |what: String| Error::InvalidArgument(format!("native geometry: {what}"));
        // A null coordinate value becomes NaN, which the partition's coordinate check
        // refuses with the row's number, unless the geometry holding it is null itself.
        let float = |a: &ArrayRef| -> Result<Float64Array> {
            let cast = arrow_cast::cast(a, &DataType::Float64)?;
            let values = cast.as_primitive::<Float64Type>();
            Ok(if values.null_count() == 0 {
                values.clone()
            } else {
                values.iter().map(|v| Some(v.unwrap_or(f64::NAN))).collect()
            })
        };
        match array.data_type() {
            DataType::Struct(fields) => {
                let names: Vec<&str> = fields.iter().map(|f| f.name().as_str()).collect();
                let measured = names == ["x", "y", "m"];
                if !matches!(
                    names.as_slice(),
                    ["x", "y"] | ["x", "y", "z" | "m"] | ["x", "y", "z", "m"]
                ) {
                    return Err(bad(format!(
                        "coordinate fields {names:?}, not x, y[, z][, m]"
                    )));
                }
                let s = array.as_struct();
                Ok(Coords {
                    columns: s.columns().iter().map(float).collect::<Result<_>>()?,
                    interleaved: false,
                    dims: names.len(),
                    measured,
                })
            }
            DataType::FixedSizeList(field, n @ 2..=4) => {
                let list = array.as_fixed_size_list();
                let values = list
                    .values()
                    .slice(list.offset() * *n as usize, list.len() * *n as usize);
                Ok(Coords {
                    columns: vec![float(&values)?],
                    interleaved: true,
                    dims: *n as usize,
                    measured: field.name() == "xym",
                })
            }
            other => Err(bad(format!("coordinates of type {other}"))),
        }
    }

    /// The ISO WKB offset of this dimension (0, 1000 for Z, 2000 for M, 3000 for ZM).
    fn wkb_offset(&self) -> u32 {
        match (self.dims, self.measured) {
            (2, _) => 0,
            (3, false) => 1000,
            (3, true) => 2000,
            _ => 3000,
        }
    }

    fn push(&self, i: usize, out: &mut Vec<u8>) {
        for d in 0..self.dims {
            let v = if self.interleaved {
                self.columns[0].value(i * self.dims + d)
            } else {
                self.columns[d].value(i)
            };
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
}

/// One list level: offsets into the level below. Only whole geometries can be null; a
/// null ring or part inside one is read as its offsets say (writers leave it empty).
struct Level {
    offsets: Vec<usize>,
}

fn level<O: OffsetSizeTrait>(list: &GenericListArray<O>) -> (Level, ArrayRef) {
    let offsets = list.value_offsets().iter().map(|o| o.as_usize()).collect();
    (Level { offsets }, list.values().clone())
}

/// Peels `depth` list levels off `array`, outermost first.
fn peel(array: &ArrayRef, depth: usize) -> Result<(Vec<Level>, ArrayRef)> {
    let mut levels = Vec::with_capacity(depth);
    let mut current = array.clone();
    for _ in 0..depth {
        let (l, values) = match current.data_type() {
            DataType::List(_) => level(current.as_list::<i32>()),
            DataType::LargeList(_) => level(current.as_list::<i64>()),
            other => {
                return Err(Error::InvalidArgument(format!(
                    "native geometry: expected a list, found {other}"
                )))
            }
        };
        levels.push(l);
        current = values;
    }
    Ok((levels, current))
}

/// Converts a native GeoArrow array of `encoding` into WKB, row for row (null stays null).
pub fn native_to_wkb(array: &ArrayRef, encoding: NativeEncoding) -> Result<BinaryArray> {
    use NativeEncoding::*;
    let depth = encoding.depth();
    let (levels, coords_array) = peel(array, depth)?;
    let coords = Coords::new(coords_array.as_ref())?;
    let offset = coords.wkb_offset();
    let row_nulls = array.nulls().cloned();
    let header = |out: &mut Vec<u8>, code: u32| {
        out.push(1);
        out.extend_from_slice(&(code + offset).to_le_bytes());
    };
    let count = |out: &mut Vec<u8>, n: usize| -> Result<()> {
        let n = u32::try_from(n).map_err(|_| {
            Error::InvalidArgument("native geometry: a list too long for WKB".into())
        })?;
        out.extend_from_slice(&n.to_le_bytes());
        Ok(())
    };
    let range = |l: &Level, i: usize| -> Result<std::ops::Range<usize>> {
        match (l.offsets.get(i), l.offsets.get(i + 1)) {
            (Some(&a), Some(&b)) if a <= b => Ok(a..b),
            _ => Err(Error::InvalidArgument(
                "native geometry: bad list offsets".into(),
            )),
        }
    };
    let points = |out: &mut Vec<u8>, r: std::ops::Range<usize>| {
        for c in r {
            coords.push(c, out);
        }
    };
    let mut values: Vec<Option<Vec<u8>>> = Vec::with_capacity(array.len());
    for row in 0..array.len() {
        if row_nulls.as_ref().is_some_and(|n| n.is_null(row)) {
            values.push(None);
            continue;
        }
        let mut out = Vec::new();
        match encoding {
            Point => {
                header(&mut out, 1);
                coords.push(row, &mut out);
            }
            LineString => {
                header(&mut out, 2);
                let r = range(&levels[0], row)?;
                count(&mut out, r.len())?;
                points(&mut out, r);
            }
            MultiPoint => {
                header(&mut out, 4);
                let r = range(&levels[0], row)?;
                count(&mut out, r.len())?;
                for c in r {
                    header(&mut out, 1);
                    coords.push(c, &mut out);
                }
            }
            Polygon | MultiLineString => {
                let (outer, inner) = if encoding == Polygon {
                    (3, None)
                } else {
                    (5, Some(2))
                };
                header(&mut out, outer);
                let parts = range(&levels[0], row)?;
                count(&mut out, parts.len())?;
                for part in parts {
                    if let Some(code) = inner {
                        header(&mut out, code);
                    }
                    let r = range(&levels[1], part)?;
                    count(&mut out, r.len())?;
                    points(&mut out, r);
                }
            }
            MultiPolygon => {
                header(&mut out, 6);
                let polygons = range(&levels[0], row)?;
                count(&mut out, polygons.len())?;
                for polygon in polygons {
                    header(&mut out, 3);
                    let rings = range(&levels[1], polygon)?;
                    count(&mut out, rings.len())?;
                    for ring in rings {
                        let r = range(&levels[2], ring)?;
                        count(&mut out, r.len())?;
                        points(&mut out, r);
                    }
                }
            }
        }
        values.push(Some(out));
    }
    Ok(BinaryArray::from_iter(values))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::from_wkb;
    use arrow_array::builder::{Float64Builder, ListBuilder, StructBuilder};
    use arrow_schema::{Field, Fields};
    use geo::{line_string, point, polygon, Geometry};
    use std::sync::Arc;

    fn xy_fields() -> Fields {
        vec![
            Field::new("x", DataType::Float64, false),
            Field::new("y", DataType::Float64, false),
        ]
        .into()
    }

    fn push_xy(b: &mut StructBuilder, x: f64, y: f64) {
        b.field_builder::<Float64Builder>(0)
            .unwrap()
            .append_value(x);
        b.field_builder::<Float64Builder>(1)
            .unwrap()
            .append_value(y);
        b.append(true);
    }

    #[test]
    fn separated_points_and_nulls() {
        let mut b = StructBuilder::from_fields(xy_fields(), 3);
        push_xy(&mut b, 1.5, -2.0);
        b.field_builder::<Float64Builder>(0)
            .unwrap()
            .append_value(0.0);
        b.field_builder::<Float64Builder>(1)
            .unwrap()
            .append_value(0.0);
        b.append(false);
        push_xy(&mut b, 3.0, 4.0);
        let array: ArrayRef = Arc::new(b.finish());
        let wkb = native_to_wkb(&array, NativeEncoding::Point).unwrap();
        assert_eq!(
            from_wkb(wkb.value(0), 0).unwrap(),
            Geometry::Point(point!(x: 1.5, y: -2.0))
        );
        assert!(wkb.is_null(1));
        assert_eq!(
            from_wkb(wkb.value(2), 2).unwrap(),
            Geometry::Point(point!(x: 3.0, y: 4.0))
        );
    }

    #[test]
    fn polygons_with_holes_and_lines_of_lists() {
        // Polygon: one ring list per row; the second row has a hole.
        let mut b = ListBuilder::new(ListBuilder::new(StructBuilder::from_fields(xy_fields(), 0)));
        let rings: Vec<Vec<Vec<(f64, f64)>>> = vec![
            vec![vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)]],
            vec![
                vec![
                    (0.0, 0.0),
                    (10.0, 0.0),
                    (10.0, 10.0),
                    (0.0, 10.0),
                    (0.0, 0.0),
                ],
                vec![(2.0, 2.0), (3.0, 2.0), (3.0, 3.0), (2.0, 2.0)],
            ],
        ];
        for polygon in &rings {
            for ring in polygon {
                for &(x, y) in ring {
                    push_xy(b.values().values(), x, y);
                }
                b.values().append(true);
            }
            b.append(true);
        }
        let array: ArrayRef = Arc::new(b.finish());
        let wkb = native_to_wkb(&array, NativeEncoding::Polygon).unwrap();
        assert_eq!(
            from_wkb(wkb.value(0), 0).unwrap(),
            Geometry::Polygon(
                polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 0.0)]
            )
        );
        let Geometry::Polygon(p) = from_wkb(wkb.value(1), 1).unwrap() else {
            panic!()
        };
        assert_eq!(p.interiors().len(), 1);
        assert_eq!(p.exterior().0.len(), 5);

        // The same two-level lists read as multilinestrings.
        let wkb = native_to_wkb(&array, NativeEncoding::MultiLineString).unwrap();
        let Geometry::MultiLineString(m) = from_wkb(wkb.value(1), 1).unwrap() else {
            panic!()
        };
        assert_eq!(
            m.0[1],
            line_string![(x: 2.0, y: 2.0), (x: 3.0, y: 2.0), (x: 3.0, y: 3.0), (x: 2.0, y: 2.0)]
        );
    }

    #[test]
    fn interleaved_coordinates() {
        use arrow_array::FixedSizeListArray;
        let values = Float64Array::from(vec![1.0, 2.0, 3.0, 4.0]);
        let field = Arc::new(Field::new("xy", DataType::Float64, false));
        let array: ArrayRef = Arc::new(FixedSizeListArray::new(field, 2, Arc::new(values), None));
        let wkb = native_to_wkb(&array, NativeEncoding::Point).unwrap();
        assert_eq!(
            from_wkb(wkb.value(1), 1).unwrap(),
            Geometry::Point(point!(x: 3.0, y: 4.0))
        );
    }

    #[test]
    fn wrong_shapes_are_errors() {
        let mut b = StructBuilder::from_fields(xy_fields(), 1);
        push_xy(&mut b, 1.0, 2.0);
        let array: ArrayRef = Arc::new(b.finish());
        assert!(native_to_wkb(&array, NativeEncoding::Polygon).is_err());
        assert_eq!("MultiPolygon".parse(), Ok(NativeEncoding::MultiPolygon));
        assert!("wkb".parse::<NativeEncoding>().is_err());
    }
}
