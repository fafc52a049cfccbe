//! Native GeoArrow geometry arrays (`point`, `linestring`, `polygon` and their `multi`
//! forms: nested lists around coordinates) turned into geoframe's WKB column, as GeoParquet
//! files written with `geometry_encoding="geoarrow"` store them. Coordinates may be
//! separated (a struct of `x`, `y`[, `z`][, `m`] arrays, the GeoParquet form) or
//! interleaved (a fixed-size list of 2, 3 or 4 doubles).

use std::str::FromStr;

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, BinaryArray, Float64Array, GenericListArray, OffsetSizeTrait, StructArray,
};
use arrow_buffer::NullBuffer;
use arrow_schema::DataType;
use arrow_schema::Field;
use geo::Geometry;

use crate::error::{Error, Result};

/// A native GeoArrow geometry type: how many list levels sit above the coordinates, and
/// the WKB type code each level writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NativeEncoding {
    /// `point`: a coordinate per row.
    Point,
    /// `linestring`: a list of coordinates.
    LineString,
    /// `polygon`: a list of rings.
    Polygon,
    /// `multipoint`: a list of coordinates, each a point.
    MultiPoint,
    /// `multilinestring`: a list of line strings.
    MultiLineString,
    /// `multipolygon`: a list of polygons.
    MultiPolygon,
}

impl FromStr for NativeEncoding {
    type Err = ();

    /// The GeoParquet `encoding` names (any case).
    fn from_str(s: &str) -> std::result::Result<Self, ()> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "point" => NativeEncoding::Point,
            "linestring" => NativeEncoding::LineString,
            "polygon" => NativeEncoding::Polygon,
            "multipoint" => NativeEncoding::MultiPoint,
            "multilinestring" => NativeEncoding::MultiLineString,
            "multipolygon" => NativeEncoding::MultiPolygon,
            _ => return Err(()),
        })
    }
}

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
    let depth = match encoding {
        Point => 0,
        LineString | MultiPoint => 1,
        Polygon | MultiLineString => 2,
        MultiPolygon => 3,
    };
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

impl NativeEncoding {
    /// The GeoParquet `encoding` name.
    pub fn name(self) -> &'static str {
        match self {
            NativeEncoding::Point => "point",
            NativeEncoding::LineString => "linestring",
            NativeEncoding::Polygon => "polygon",
            NativeEncoding::MultiPoint => "multipoint",
            NativeEncoding::MultiLineString => "multilinestring",
            NativeEncoding::MultiPolygon => "multipolygon",
        }
    }

    /// The narrowest encoding that holds every one of `types` (GeoJSON type names):
    /// points with multipoints are `multipoint`, and so on; `None` when they mix
    /// families (points with lines, say) or hold a collection.
    ///
    /// ```
    /// use geoframe::geometry::NativeEncoding;
    /// assert_eq!(NativeEncoding::holding(["Polygon", "MultiPolygon"]), Some(NativeEncoding::MultiPolygon));
    /// assert_eq!(NativeEncoding::holding(["Point"]), Some(NativeEncoding::Point));
    /// assert_eq!(NativeEncoding::holding(["Point", "LineString"]), None);
    /// ```
    pub fn holding<'a>(types: impl IntoIterator<Item = &'a str>) -> Option<NativeEncoding> {
        use NativeEncoding::*;
        let mut found: Option<NativeEncoding> = None;
        for t in types {
            let (single, multi) = match t {
                "Point" | "MultiPoint" => (Point, MultiPoint),
                "LineString" | "MultiLineString" => (LineString, MultiLineString),
                "Polygon" | "MultiPolygon" => (Polygon, MultiPolygon),
                _ => return None,
            };
            let this = if t.starts_with("Multi") {
                multi
            } else {
                single
            };
            found = match found {
                None => Some(this),
                Some(f) if f == this => Some(f),
                Some(f) if f == single || f == multi => Some(multi),
                Some(_) => return None,
            };
        }
        found
    }

    /// The Arrow type of this encoding with separated `x`, `y` coordinates.
    pub fn data_type(self) -> DataType {
        use NativeEncoding::*;
        let coords = DataType::Struct(
            vec![
                Field::new("x", DataType::Float64, false),
                Field::new("y", DataType::Float64, false),
            ]
            .into(),
        );
        let list =
            |name: &str, inner: DataType| DataType::List(Arc::new(Field::new(name, inner, false)));
        match self {
            Point => coords,
            LineString => list("vertices", coords),
            MultiPoint => list("points", coords),
            Polygon => list("rings", list("vertices", coords)),
            MultiLineString => list("linestrings", list("vertices", coords)),
            MultiPolygon => list("polygons", list("rings", list("vertices", coords))),
        }
    }

    /// The field of a geometry column `name` in this encoding, with its GeoArrow
    /// extension name.
    pub fn field(self, name: &str) -> Field {
        let metadata = std::collections::HashMap::from([
            (
                "ARROW:extension:name".to_string(),
                format!("geoarrow.{}", self.name()),
            ),
            ("ARROW:extension:metadata".to_string(), "{}".to_string()),
        ]);
        Field::new(name, self.data_type(), true).with_metadata(metadata)
    }
}

/// Builds the nested arrays of one encoding: offsets per list level, and coordinates.
struct NativeBuilder {
    encoding: NativeEncoding,
    /// Offsets of each list level, outermost first.
    offsets: Vec<Vec<i32>>,
    xs: Vec<f64>,
    ys: Vec<f64>,
    valid: Vec<bool>,
}

impl NativeBuilder {
    fn new(encoding: NativeEncoding, rows: usize) -> NativeBuilder {
        use NativeEncoding::*;
        let depth = match encoding {
            Point => 0,
            LineString | MultiPoint => 1,
            Polygon | MultiLineString => 2,
            MultiPolygon => 3,
        };
        NativeBuilder {
            encoding,
            offsets: vec![vec![0]; depth],
            xs: Vec::with_capacity(rows),
            ys: Vec::with_capacity(rows),
            valid: Vec::with_capacity(rows),
        }
    }

    fn close(&mut self, level: usize) -> Result<()> {
        let next = match self.offsets.get(level + 1) {
            Some(inner) => inner.len() - 1,
            None => self.xs.len(),
        };
        let next = i32::try_from(next)
            .map_err(|_| Error::InvalidArgument("native geometry: more than 2^31 items".into()))?;
        self.offsets[level].push(next);
        Ok(())
    }

    fn line(&mut self, level: usize, line: &geo::LineString) -> Result<()> {
        for c in &line.0 {
            self.xs.push(c.x);
            self.ys.push(c.y);
        }
        self.close(level)
    }

    fn polygon(&mut self, level: usize, polygon: &geo::Polygon) -> Result<()> {
        // An empty polygon has no rings, not one empty ring.
        if !polygon.exterior().0.is_empty() {
            self.line(level + 1, polygon.exterior())?;
            for ring in polygon.interiors() {
                self.line(level + 1, ring)?;
            }
        }
        self.close(level)
    }

    fn push(&mut self, geometry: Option<&Geometry>, row: u64) -> Result<()> {
        use NativeEncoding as E;
        let Some(g) = geometry else {
            // A null row: no coordinates, an empty entry at every list level.
            if self.offsets.is_empty() {
                self.xs.push(0.0);
                self.ys.push(0.0);
            } else {
                self.close(0)?;
            }
            self.valid.push(false);
            return Ok(());
        };
        match (self.encoding, g) {
            (E::Point, Geometry::Point(p)) => {
                self.xs.push(p.x());
                self.ys.push(p.y());
            }
            (E::LineString, Geometry::LineString(l)) => self.line(0, l)?,
            (E::Polygon, Geometry::Polygon(p)) => self.polygon(0, p)?,
            (E::MultiPoint, Geometry::Point(p)) => {
                self.xs.push(p.x());
                self.ys.push(p.y());
                self.close(0)?;
            }
            (E::MultiPoint, Geometry::MultiPoint(m)) => {
                for p in &m.0 {
                    self.xs.push(p.x());
                    self.ys.push(p.y());
                }
                self.close(0)?;
            }
            (E::MultiLineString, Geometry::LineString(l)) => {
                self.line(1, l)?;
                self.close(0)?;
            }
            (E::MultiLineString, Geometry::MultiLineString(m)) => {
                for l in &m.0 {
                    self.line(1, l)?;
                }
                self.close(0)?;
            }
            (E::MultiPolygon, Geometry::Polygon(p)) => {
                self.polygon(1, p)?;
                self.close(0)?;
            }
            (E::MultiPolygon, Geometry::MultiPolygon(m)) => {
                for p in &m.0 {
                    self.polygon(1, p)?;
                }
                self.close(0)?;
            }
            (encoding, other) => {
                return Err(Error::InvalidGeometry {
                    path: None,
                    record: row,
                    message: format!(
                        "a {} does not fit the native `{}` encoding",
                        crate::geometry::type_name(other),
                        encoding.name()
                    ),
                })
            }
        }
        self.valid.push(true);
        Ok(())
    }

    fn finish(self) -> Result<ArrayRef> {
        let DataType::Struct(coord_fields) = NativeEncoding::Point.data_type() else {
            return Err(Error::Internal("the point type is a struct".into()));
        };
        let coords: ArrayRef = Arc::new(StructArray::new(
            coord_fields,
            vec![
                Arc::new(Float64Array::from(self.xs)),
                Arc::new(Float64Array::from(self.ys)),
            ],
            None,
        ));
        let nulls = self
            .valid
            .contains(&false)
            .then(|| NullBuffer::from(self.valid.clone()));
        if self.offsets.is_empty() {
            let s = coords.as_struct().clone();
            let (fields, columns, _) = s.into_parts();
            return Ok(Arc::new(StructArray::new(fields, columns, nulls)));
        }
        // Innermost level first: each wraps the array below it.
        let mut data_type = self.encoding.data_type();
        let mut types = Vec::new();
        while let DataType::List(field) = data_type {
            types.push(field.clone());
            data_type = field.data_type().clone();
        }
        let mut values = coords;
        let depth = self.offsets.len();
        for (level, offsets) in self.offsets.into_iter().enumerate().rev() {
            let field = types[level].clone();
            let level_nulls = if level == 0 { nulls.clone() } else { None };
            values = Arc::new(arrow_array::ListArray::try_new(
                field,
                arrow_buffer::OffsetBuffer::new(offsets.into()),
                values,
                level_nulls,
            )?);
        }
        debug_assert!(depth > 0);
        Ok(values)
    }
}

/// Converts a WKB array into the native GeoArrow `encoding`, row for row; a geometry the
/// encoding cannot hold (a line in `polygon`) is an error naming its row (`first_row` +
/// its index).
pub fn wkb_to_native(
    array: &BinaryArray,
    encoding: NativeEncoding,
    first_row: u64,
) -> Result<ArrayRef> {
    let mut builder = NativeBuilder::new(encoding, array.len());
    for i in 0..array.len() {
        let row = first_row + i as u64;
        let geometry = if array.is_valid(i) {
            Some(crate::geometry::from_wkb(array.value(i), row)?)
        } else {
            None
        };
        builder.push(geometry.as_ref(), row)?;
    }
    builder.finish()
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
    fn wkb_round_trips_through_every_encoding() {
        use crate::geometry::to_wkb;
        let poly = polygon![(x: 0.0, y: 0.0), (x: 4.0, y: 1.0), (x: 2.0, y: 5.0), (x: 0.0, y: 0.0)];
        let line = line_string![(x: 1.0, y: 9.0), (x: -1.0, y: -9.0)];
        let cases: Vec<(NativeEncoding, Vec<Option<Geometry>>)> = vec![
            (
                NativeEncoding::Point,
                vec![Some(Geometry::Point(point!(x: 1.0, y: 2.0))), None],
            ),
            (
                NativeEncoding::LineString,
                vec![None, Some(Geometry::LineString(line.clone()))],
            ),
            (
                NativeEncoding::Polygon,
                vec![Some(Geometry::Polygon(poly.clone()))],
            ),
            (
                NativeEncoding::MultiPolygon,
                vec![
                    Some(Geometry::MultiPolygon(
                        vec![poly.clone(), poly.clone()].into(),
                    )),
                    None,
                    Some(Geometry::MultiPolygon(vec![poly.clone()].into())),
                ],
            ),
            (
                NativeEncoding::MultiLineString,
                vec![Some(Geometry::MultiLineString(geo::MultiLineString(vec![
                    line.clone(),
                    line,
                ])))],
            ),
            (
                NativeEncoding::MultiPoint,
                vec![Some(Geometry::MultiPoint(
                    vec![point!(x: 1.0, y: 1.0)].into(),
                ))],
            ),
        ];
        for (encoding, geometries) in cases {
            let wkb = BinaryArray::from_iter(geometries.iter().map(|g| g.as_ref().map(to_wkb)));
            let native = wkb_to_native(&wkb, encoding, 0).unwrap();
            assert_eq!(native.data_type(), &encoding.data_type(), "{encoding:?}");
            let back = native_to_wkb(&native, encoding).unwrap();
            let decoded: Vec<Option<Geometry>> = (0..back.len())
                .map(|i| {
                    back.is_valid(i)
                        .then(|| from_wkb(back.value(i), 0).unwrap())
                })
                .collect();
            assert_eq!(decoded, geometries, "{encoding:?}");
        }
        // A polygon promoted to a multipolygon; a line refused by `polygon`, naming its row.
        let wkb = BinaryArray::from_iter_values([to_wkb(&Geometry::Polygon(poly))]);
        let native = wkb_to_native(&wkb, NativeEncoding::MultiPolygon, 0).unwrap();
        let back = native_to_wkb(&native, NativeEncoding::MultiPolygon).unwrap();
        assert!(
            matches!(from_wkb(back.value(0), 0).unwrap(), Geometry::MultiPolygon(m) if m.0.len() == 1)
        );
        let err = wkb_to_native(&wkb, NativeEncoding::LineString, 41).unwrap_err();
        assert!(
            matches!(err, Error::InvalidGeometry { record: 41, .. }),
            "{err:?}"
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
