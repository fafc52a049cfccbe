//! WKB into a native GeoArrow array of one encoding, with separated `x`, `y` coordinates.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, BinaryArray, Float64Array, StructArray};
use arrow_buffer::NullBuffer;
use arrow_schema::DataType;
use geo::Geometry;

use super::NativeEncoding;
use crate::error::{Error, Result};

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
        let depth = encoding.depth();
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
    use crate::geometry::{from_wkb, native_to_wkb};
    use geo::{line_string, point, polygon};

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
}
