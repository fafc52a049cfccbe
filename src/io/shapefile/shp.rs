//! The `.shp`/`.shx` binary layout: file header, index entries and record bodies.

use std::path::Path;

use geo::{Coord, Geometry, LineString, MultiLineString, MultiPoint, Point};

use super::rings;
use crate::error::{Error, Result};

/// Size of the `.shp`/`.shx` file header.
pub(crate) const HEADER_LEN: u64 = 100;

/// Shape types of the ESRI specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ShapeType {
    Null,
    Point,
    PolyLine,
    Polygon,
    MultiPoint,
}

/// What the file's Z/M variant adds after the 2D part of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Extra {
    None,
    M,
    Z,
}

impl ShapeType {
    pub(crate) fn from_code(code: i32) -> Option<(ShapeType, Extra)> {
        Some(match code {
            0 => (ShapeType::Null, Extra::None),
            1 => (ShapeType::Point, Extra::None),
            3 => (ShapeType::PolyLine, Extra::None),
            5 => (ShapeType::Polygon, Extra::None),
            8 => (ShapeType::MultiPoint, Extra::None),
            11 => (ShapeType::Point, Extra::Z),
            13 => (ShapeType::PolyLine, Extra::Z),
            15 => (ShapeType::Polygon, Extra::Z),
            18 => (ShapeType::MultiPoint, Extra::Z),
            21 => (ShapeType::Point, Extra::M),
            23 => (ShapeType::PolyLine, Extra::M),
            25 => (ShapeType::Polygon, Extra::M),
            28 => (ShapeType::MultiPoint, Extra::M),
            _ => return None,
        })
    }

    pub(crate) fn code(self) -> i32 {
        match self {
            ShapeType::Null => 0,
            ShapeType::Point => 1,
            ShapeType::PolyLine => 3,
            ShapeType::Polygon => 5,
            ShapeType::MultiPoint => 8,
        }
    }
}

/// The parts of the 100-byte main header that reading needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header {
    pub shape_type: ShapeType,
    pub extra: Extra,
    /// File length in bytes, as the header states it.
    pub file_len: u64,
    /// The bounding box of all shapes, as the header states it.
    pub bbox: Option<geo::Rect>,
}

pub(crate) fn parse_header(bytes: &[u8], path: &Path) -> Result<Header> {
    if bytes.len() < HEADER_LEN as usize {
        return Err(Error::format(
            path,
            None,
            format!(
                "file is {} bytes, shorter than the 100-byte header",
                bytes.len()
            ),
        ));
    }
    let code = i32::from_be_bytes(word(bytes, 0));
    if code != 9994 {
        return Err(Error::format(
            path,
            None,
            format!("file code is {code}, expected 9994: not a shapefile"),
        ));
    }
    let file_len = u64::from(u32::from_be_bytes(word(bytes, 24))) * 2;
    let type_code = i32::from_le_bytes(word(bytes, 32));
    let (shape_type, extra) = ShapeType::from_code(type_code).ok_or_else(|| {
        Error::format(
            path,
            None,
            format!("shape type {type_code} is not supported (MultiPatch or unknown)"),
        )
    })?;
    let f = |at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&bytes[at..at + 8]);
        f64::from_le_bytes(w)
    };
    let (minx, miny, maxx, maxy) = (f(36), f(44), f(52), f(60));
    let bbox =
        ([minx, miny, maxx, maxy].iter().all(|v| v.is_finite()) && minx <= maxx && miny <= maxy)
            .then(|| geo::Rect::new((minx, miny), (maxx, maxy)));
    Ok(Header {
        shape_type,
        extra,
        file_len,
        bbox,
    })
}

/// Writes a 100-byte main header.
pub(crate) fn write_header(
    out: &mut Vec<u8>,
    shape_type: ShapeType,
    file_len: u64,
    bbox: [f64; 4],
) {
    out.extend_from_slice(&9994i32.to_be_bytes());
    out.extend_from_slice(&[0u8; 20]);
    out.extend_from_slice(&((file_len / 2) as u32).to_be_bytes());
    out.extend_from_slice(&1000i32.to_le_bytes());
    out.extend_from_slice(&shape_type.code().to_le_bytes());
    for v in bbox {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&[0u8; 32]); // z and m ranges
}

#[inline]
fn word(bytes: &[u8], at: usize) -> [u8; 4] {
    let mut w = [0u8; 4];
    w.copy_from_slice(&bytes[at..at + 4]);
    w
}

/// A record decoded to 2D.
pub(crate) enum Shape {
    Null,
    /// Points skip `geo` entirely on the hot path.
    Point(f64, f64),
    Geometry(Geometry),
}

/// A little-endian cursor over one record body that never reads past its end.
struct Body<'a> {
    bytes: &'a [u8],
    at: usize,
    path: &'a Path,
    record: u64,
}

impl<'a> Body<'a> {
    fn err(&self, message: String) -> Error {
        Error::format(self.path, Some(self.record), message)
    }

    fn need(&self, n: usize, what: &str) -> Result<()> {
        if self.bytes.len().saturating_sub(self.at) < n {
            return Err(self.err(format!(
                "record content is {} bytes, too short for its {what}",
                self.bytes.len()
            )));
        }
        Ok(())
    }

    fn i32(&mut self) -> Result<i32> {
        self.need(4, "header")?;
        let v = i32::from_le_bytes(word(self.bytes, self.at));
        self.at += 4;
        Ok(v)
    }

    fn f64_at(&self, at: usize) -> f64 {
        let mut w = [0u8; 8];
        w.copy_from_slice(&self.bytes[at..at + 8]);
        f64::from_le_bytes(w)
    }

    fn coord(&self, at: usize) -> Result<Coord> {
        let (x, y) = (self.f64_at(at), self.f64_at(at + 8));
        if !(x.is_finite() && y.is_finite()) {
            return Err(Error::InvalidGeometry {
                path: Some(self.path.to_path_buf()),
                record: self.record,
                message: format!("NaN or infinite coordinate ({x}, {y})"),
            });
        }
        Ok(Coord { x, y })
    }

    /// A count read from the file, checked against what the record can hold.
    fn count(&mut self, what: &str, each: usize) -> Result<usize> {
        let n = self.i32()?;
        if n < 0 {
            return Err(self.err(format!("negative {what} count {n}")));
        }
        let n = n as usize;
        self.need(n.saturating_mul(each), what)?;
        Ok(n)
    }
}

/// Decodes one record body (after the 8-byte record header) of a file of `file_type`.
pub(crate) fn parse_record(
    content: &[u8],
    file_type: ShapeType,
    path: &Path,
    record: u64,
) -> Result<Shape> {
    let mut body = Body {
        bytes: content,
        at: 0,
        path,
        record,
    };
    let code = body.i32()?;
    let (shape_type, _) = ShapeType::from_code(code)
        .ok_or_else(|| body.err(format!("unsupported shape type {code}")))?;
    if shape_type == ShapeType::Null {
        return Ok(Shape::Null);
    }
    if shape_type != file_type {
        return Err(body.err(format!("shape type {shape_type:?} in a {file_type:?} file")));
    }
    match shape_type {
        ShapeType::Null => Ok(Shape::Null),
        ShapeType::Point => {
            body.need(16, "point")?;
            let c = body.coord(4)?;
            Ok(Shape::Point(c.x, c.y))
        }
        ShapeType::MultiPoint => {
            body.need(32, "bounding box")?;
            body.at += 32;
            let n = body.count("point", 16)?;
            let start = body.at;
            if n == 0 {
                return Ok(Shape::Null); // as GDAL reads it
            }
            let points = (0..n)
                .map(|i| body.coord(start + 16 * i).map(Point::from))
                .collect::<Result<Vec<_>>>()?;
            Ok(Shape::Geometry(Geometry::MultiPoint(MultiPoint(points))))
        }
        ShapeType::PolyLine | ShapeType::Polygon => {
            body.need(32, "bounding box")?;
            body.at += 32;
            let num_parts = body.i32()?;
            let num_points = body.i32()?;
            if num_parts < 0 || num_points < 0 {
                return Err(body.err(format!(
                    "negative counts: {num_parts} parts, {num_points} points"
                )));
            }
            let (num_parts, num_points) = (num_parts as usize, num_points as usize);
            body.need(
                num_parts
                    .saturating_mul(4)
                    .saturating_add(num_points.saturating_mul(16)),
                "parts and points",
            )?;
            let parts_at = body.at;
            let points_at = parts_at + 4 * num_parts;
            let mut starts = Vec::with_capacity(num_parts + 1);
            for p in 0..num_parts {
                let s = i32::from_le_bytes(word(content, parts_at + 4 * p));
                let prev = starts.last().copied().unwrap_or(0);
                if s < 0 || s as usize > num_points || (s as usize) < prev {
                    return Err(body.err(format!(
                        "part {p} starts at point {s}, outside 0..={num_points} or before the previous part"
                    )));
                }
                starts.push(s as usize);
            }
            starts.push(num_points);
            let mut lines = Vec::with_capacity(num_parts);
            for w in starts.windows(2) {
                let coords = (w[0]..w[1])
                    .map(|i| body.coord(points_at + 16 * i))
                    .collect::<Result<Vec<_>>>()?;
                lines.push(LineString(coords));
            }
            // No parts is a null geometry, as GDAL reads it.
            let geometry = if shape_type == ShapeType::PolyLine {
                match lines.len() {
                    0 => None,
                    1 => lines.pop().map(Geometry::LineString),
                    _ => Some(Geometry::MultiLineString(MultiLineString(lines))),
                }
            } else {
                rings::assemble(lines)
            };
            Ok(geometry.map_or(Shape::Null, Shape::Geometry))
        }
    }
}
