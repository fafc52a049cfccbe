//! The geometry column: WKB in an Arrow binary array, tagged with the `geoarrow.wkb`
//! extension type, decoded to [`geo`] types when an algorithm needs them.
//!
//! WKB was chosen over the native GeoArrow layouts because a frame may mix geometry types
//! (GeoJSON does), because it is what GeoParquet files carry by default (so reading and
//! writing them needs no conversion), and because decoding a point is two loads at fixed
//! offsets ([`point_xy`]), which keeps the common points-in-polygons path cheap.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{Array, BinaryArray, GenericBinaryArray, OffsetSizeTrait};
use arrow_schema::{DataType, Field};
use geo::{BoundingRect, Geometry, Rect};
use geo_traits::to_geo::ToGeoGeometry;

use crate::error::{Error, Result};

mod envelope;
mod native;
pub use envelope::wkb_envelope;
pub use native::{native_to_wkb, wkb_to_native, NativeEncoding};

/// The Arrow extension name of the geometry column.
pub const WKB_EXTENSION: &str = "geoarrow.wkb";

/// A geometry field named `name`: binary WKB with the `geoarrow.wkb` extension metadata.
pub fn geometry_field(name: &str) -> Field {
    let metadata = HashMap::from([
        (
            "ARROW:extension:name".to_string(),
            WKB_EXTENSION.to_string(),
        ),
        ("ARROW:extension:metadata".to_string(), "{}".to_string()),
    ]);
    Field::new(name, DataType::Binary, true).with_metadata(metadata)
}

/// Encodes one geometry as little-endian ISO WKB.
pub fn to_wkb(geometry: &Geometry) -> Vec<u8> {
    let mut out = Vec::with_capacity(wkb::writer::geometry_wkb_size(geometry));
    write_wkb(&mut out, geometry);
    out
}

/// Appends the WKB of `geometry` to `out`. `Rect`, `Triangle` and `Line` are written as
/// the polygon or line string they stand for.
pub fn write_wkb(out: &mut Vec<u8>, geometry: &Geometry) {
    let converted = match geometry {
        Geometry::Rect(r) => Some(Geometry::Polygon(r.to_polygon())),
        Geometry::Triangle(t) => Some(Geometry::Polygon(t.to_polygon())),
        Geometry::Line(l) => Some(Geometry::LineString(geo::LineString(vec![l.start, l.end]))),
        _ => None,
    };
    let geometry = converted.as_ref().unwrap_or(geometry);
    // Writing into a Vec cannot fail and every geo-types geometry has a WKB form.
    wkb::writer::write_geometry(out, geometry, &wkb::writer::WriteOptions::default())
        .expect("writing WKB into a Vec is infallible");
}

/// Decodes WKB into a [`geo::Geometry`]; `record` names the row in the error.
pub fn from_wkb(bytes: &[u8], record: u64) -> Result<Geometry> {
    if let Some((x, y)) = point_xy(bytes) {
        return Ok(Geometry::Point(geo::Point::new(x, y)));
    }
    let parsed = wkb::reader::read_wkb(bytes).map_err(|e| Error::InvalidGeometry {
        path: None,
        record,
        message: format!("bad WKB: {e}"),
    })?;
    Ok(parsed.to_geometry())
}

/// The coordinates of a 2D WKB point, read straight from the bytes; `None` for anything else.
#[inline]
pub fn point_xy(bytes: &[u8]) -> Option<(f64, f64)> {
    if bytes.len() != 21 {
        return None;
    }
    let f = |b: &[u8]| -> [u8; 8] { b.try_into().unwrap_or([0; 8]) };
    match bytes[0] {
        1 if bytes[1..5] == [1, 0, 0, 0] => Some((
            f64::from_le_bytes(f(&bytes[5..13])),
            f64::from_le_bytes(f(&bytes[13..21])),
        )),
        0 if bytes[1..5] == [0, 0, 0, 1] => Some((
            f64::from_be_bytes(f(&bytes[5..13])),
            f64::from_be_bytes(f(&bytes[13..21])),
        )),
        _ => None,
    }
}

/// The ring of a 2D WKB polygon with exactly one ring (or of a multipolygon of one such
/// polygon), read straight from the bytes into `ring` (cleared first); `false` for anything
/// else, and for coordinates that are not finite (those go through [`from_wkb`] and its
/// errors).
pub(crate) fn single_ring(bytes: &[u8], ring: &mut Vec<geo::Coord>) -> bool {
    ring.clear();
    let Some(&order) = bytes.first() else {
        return false;
    };
    let word = |at: usize| -> Option<u32> {
        let b: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        Some(match order {
            1 => u32::from_le_bytes(b),
            _ => u32::from_be_bytes(b),
        })
    };
    let float = |at: usize| -> f64 {
        let b: [u8; 8] = bytes[at..at + 8].try_into().unwrap_or([0; 8]);
        match order {
            1 => f64::from_le_bytes(b),
            _ => f64::from_be_bytes(b),
        }
    };
    if order > 1 {
        return false;
    }
    let mut at = 1;
    if word(at) == Some(6) {
        // One polygon, in the same byte order.
        if word(at + 4) != Some(1) || bytes.get(at + 8) != Some(&order) {
            return false;
        }
        at += 9;
    }
    let (Some(3), Some(1), Some(points)) = (word(at), word(at + 4), word(at + 8)) else {
        return false;
    };
    at += 12;
    if bytes.len() - at != points as usize * 16 {
        return false;
    }
    ring.extend((0..points as usize).map(|k| geo::Coord {
        x: float(at + 16 * k),
        y: float(at + 16 * k + 8),
    }));
    ring.iter().all(|c| c.x.is_finite() && c.y.is_finite())
}

/// Decodes every row of a WKB array; nulls stay `None`. `first_row` numbers the rows in
/// errors.
pub fn decode_array<O: OffsetSizeTrait>(
    array: &GenericBinaryArray<O>,
    first_row: u64,
) -> Result<Vec<Option<Geometry>>> {
    (0..array.len())
        .map(|i| {
            if array.is_null(i) {
                Ok(None)
            } else {
                from_wkb(array.value(i), first_row + i as u64).map(Some)
            }
        })
        .collect()
}

/// Builds a WKB array from geometries (`None` becomes null).
pub fn encode_array<'a>(geometries: impl IntoIterator<Item = Option<&'a Geometry>>) -> BinaryArray {
    let mut values = Vec::new();
    let mut offsets = vec![0i32];
    let mut valid = Vec::new();
    for g in geometries {
        if let Some(g) = g {
            write_wkb(&mut values, g);
            valid.push(true);
        } else {
            valid.push(false);
        }
        offsets.push(values.len() as i32);
    }
    BinaryArray::new(
        arrow_buffer::OffsetBuffer::new(offsets.into()),
        values.into(),
        Some(arrow_buffer::NullBuffer::from(valid)),
    )
}

/// The box of every coordinate of a geometry, holes included; `None` for empty
/// geometries. Unlike `geo`'s `bounding_rect` (and GEOS' envelope), which take a polygon's
/// exterior ring alone, this box also holds an (invalid) interior ring lying outside its
/// shell, whose boundary predicates and distances still see: every pruning step uses it,
/// so that pruning never changes an answer.
pub fn bounds(geometry: &Geometry) -> Option<Rect> {
    match geometry {
        Geometry::Polygon(_) | Geometry::MultiPolygon(_) | Geometry::GeometryCollection(_) => {
            let mut fold = BoundsFold::new();
            for c in geo::CoordsIter::coords_iter(geometry) {
                fold.point(c.x, c.y);
            }
            fold.finish()
        }
        other => other.bounding_rect(),
    }
}

/// A box that contains every coordinate: the bounds of a partition that could be anywhere
/// (not yet read, or reprojected), so that no pruning step ever skips it.
pub(crate) fn everywhere() -> Rect {
    Rect::new((f64::MIN, f64::MIN), (f64::MAX, f64::MAX))
}

/// Grows `acc` to cover `rect`.
pub fn merge_bounds(acc: Option<Rect>, rect: Option<Rect>) -> Option<Rect> {
    match (acc, rect) {
        (Some(a), Some(b)) => Some(Rect::new(
            geo::coord! { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
            geo::coord! { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
        )),
        (a, b) => a.or(b),
    }
}

/// Running bounds: points fold into plain minima and maxima (no rectangle per point),
/// other geometries' boxes merge in.
pub(crate) struct BoundsFold {
    min: (f64, f64),
    max: (f64, f64),
    other: Option<Rect>,
}

impl BoundsFold {
    pub(crate) fn new() -> BoundsFold {
        BoundsFold {
            min: (f64::INFINITY, f64::INFINITY),
            max: (f64::NEG_INFINITY, f64::NEG_INFINITY),
            other: None,
        }
    }

    #[inline]
    pub(crate) fn point(&mut self, x: f64, y: f64) {
        self.min = (self.min.0.min(x), self.min.1.min(y));
        self.max = (self.max.0.max(x), self.max.1.max(y));
    }

    pub(crate) fn rect(&mut self, rect: Option<Rect>) {
        self.other = merge_bounds(self.other, rect);
    }

    pub(crate) fn finish(self) -> Option<Rect> {
        let points = (self.min.0 <= self.max.0).then(|| Rect::new(self.min, self.max));
        merge_bounds(self.other, points)
    }
}

/// The bounds of every geometry in a WKB array, without building `geo` types for points.
pub fn array_bounds(array: &BinaryArray) -> Result<Option<Rect>> {
    let mut acc = BoundsFold::new();
    for i in 0..array.len() {
        if array.is_null(i) {
            continue;
        }
        let bytes = array.value(i);
        match point_xy(bytes) {
            Some((x, y)) => acc.point(x, y),
            None => acc.rect(bounds(&from_wkb(bytes, i as u64)?)),
        }
    }
    Ok(acc.finish())
}

/// Checks that `field` can be a geometry column and returns it as a WKB array.
pub(crate) fn as_wkb_array<'a>(array: &'a Arc<dyn Array>, name: &str) -> Result<&'a BinaryArray> {
    array.as_any().downcast_ref::<BinaryArray>().ok_or_else(|| {
        Error::InvalidArgument(format!(
            "geometry column {name:?} must be WKB in a Binary array, found {}",
            array.data_type()
        ))
    })
}

/// The geometry type name GeoPandas uses (`"Point"`, `"MultiPolygon"`, ...).
pub fn type_name(geometry: &Geometry) -> &'static str {
    match geometry {
        Geometry::Point(_) => "Point",
        Geometry::Line(_) | Geometry::LineString(_) => "LineString",
        Geometry::Polygon(_) | Geometry::Rect(_) | Geometry::Triangle(_) => "Polygon",
        Geometry::MultiPoint(_) => "MultiPoint",
        Geometry::MultiLineString(_) => "MultiLineString",
        Geometry::MultiPolygon(_) => "MultiPolygon",
        Geometry::GeometryCollection(_) => "GeometryCollection",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{polygon, Coord, MultiPolygon};

    #[test]
    fn single_rings_read_straight_from_wkb() {
        let triangle = polygon![(x: 0.0, y: 0.0), (x: 2.0, y: 0.0), (x: 0.0, y: 1.0)];
        let mut ring = Vec::new();
        let mut bytes = Vec::new();
        write_wkb(&mut bytes, &Geometry::Polygon(triangle.clone()));
        assert!(single_ring(&bytes, &mut ring));
        assert_eq!(ring, triangle.exterior().0);
        // One polygon in a multipolygon.
        bytes.clear();
        write_wkb(
            &mut bytes,
            &Geometry::MultiPolygon(MultiPolygon(vec![triangle.clone()])),
        );
        assert!(single_ring(&bytes, &mut ring));
        assert_eq!(ring, triangle.exterior().0);
        // Big-endian, written by hand.
        let mut big = vec![0u8];
        big.extend(3u32.to_be_bytes());
        big.extend(1u32.to_be_bytes());
        big.extend(4u32.to_be_bytes());
        for c in &triangle.exterior().0 {
            big.extend(c.x.to_be_bytes());
            big.extend(c.y.to_be_bytes());
        }
        assert!(single_ring(&big, &mut ring));
        assert_eq!(ring, triangle.exterior().0);
        // Truncated.
        assert!(!single_ring(&big[..big.len() - 1], &mut ring));
        assert!(!single_ring(&[], &mut ring));
    }

    #[test]
    fn other_shapes_are_left_to_the_decoder() {
        let mut ring = Vec::new();
        let mut bytes = Vec::new();
        let square =
            polygon![(x: 0.0, y: 0.0), (x: 4.0, y: 0.0), (x: 4.0, y: 4.0), (x: 0.0, y: 4.0)];
        let hole = polygon![(x: 1.0, y: 1.0), (x: 2.0, y: 1.0), (x: 2.0, y: 2.0)];
        let holed = geo::Polygon::new(square.exterior().clone(), vec![hole.exterior().clone()]);
        let nan = polygon![(x: 0.0, y: 0.0), (x: f64::NAN, y: 0.0), (x: 0.0, y: 1.0)];
        for g in [
            Geometry::Polygon(holed),
            Geometry::MultiPolygon(MultiPolygon(vec![square, hole])),
            Geometry::Polygon(nan),
            Geometry::Point(Coord { x: 1.0, y: 2.0 }.into()),
        ] {
            bytes.clear();
            write_wkb(&mut bytes, &g);
            assert!(!single_ring(&bytes, &mut ring), "{g:?}");
        }
    }
}
