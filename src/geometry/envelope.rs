//! The bounding box of a WKB value, read straight from its coordinates without building a
//! geometry: what a GeoParquet `bbox` covering column stores for every row.

use geo::Rect;

/// The 2D bounding box of a WKB (ISO or EWKB, any dimension) geometry, or `None` when it
/// is empty (no coordinates, or only NaN ones, as WKB writes an empty point) or malformed.
/// Every ring counts, holes included, as in [`crate::geometry::bounds`]: an invalid hole
/// outside its shell widens the box, so that a box filter never drops a row a predicate
/// would keep.
///
/// ```
/// use geo::line_string;
/// use geoframe::geometry::{to_wkb, wkb_envelope};
/// let line = geo::Geometry::LineString(line_string![(x: 3.0, y: -1.0), (x: -2.0, y: 4.0)]);
/// let rect = wkb_envelope(&to_wkb(&line)).unwrap();
/// assert_eq!((rect.min().x, rect.min().y, rect.max().x, rect.max().y), (-2.0, -1.0, 3.0, 4.0));
/// ```
pub fn wkb_envelope(bytes: &[u8]) -> Option<Rect> {
    let mut reader = Reader {
        bytes,
        at: 0,
        bounds: [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ],
    };
    reader.geometry(0)?;
    let [x0, y0, x1, y1] = reader.bounds;
    (x0 <= x1 && y0 <= y1).then(|| Rect::new((x0, y0), (x1, y1)))
}

/// Collections nested deeper than this are refused rather than recursed into.
const MAX_DEPTH: usize = 32;

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    bounds: [f64; 4],
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let out = self.bytes.get(self.at..self.at + N)?.try_into().ok()?;
        self.at += N;
        Some(out)
    }

    fn u32(&mut self, little: bool) -> Option<u32> {
        let b = self.take::<4>()?;
        Some(if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    /// A count of items of at least `min_size` bytes each, refused when the bytes left
    /// cannot hold them.
    fn count(&mut self, little: bool, min_size: usize) -> Option<usize> {
        let n = self.u32(little)? as usize;
        (n.checked_mul(min_size)? <= self.bytes.len() - self.at).then_some(n)
    }

    fn coords(&mut self, little: bool, n: usize, dims: usize) -> Option<()> {
        let size = 8 * dims;
        let all = self
            .bytes
            .get(self.at..self.at.checked_add(n.checked_mul(size)?)?)?;
        for coord in all.chunks_exact(size) {
            let read = |k: usize| {
                let b: [u8; 8] = coord[8 * k..8 * k + 8].try_into().unwrap_or_default();
                if little {
                    f64::from_le_bytes(b)
                } else {
                    f64::from_be_bytes(b)
                }
            };
            let (x, y) = (read(0), read(1));
            // NaN (an empty point) is skipped by the comparisons.
            self.bounds[0] = self.bounds[0].min(x);
            self.bounds[1] = self.bounds[1].min(y);
            self.bounds[2] = self.bounds[2].max(x);
            self.bounds[3] = self.bounds[3].max(y);
        }
        self.at += all.len();
        Some(())
    }

    fn geometry(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        let little = match self.take::<1>()?[0] {
            0 => false,
            1 => true,
            _ => return None,
        };
        let code = self.u32(little)?;
        // EWKB flags Z (0x80000000), M (0x40000000) and SRID (0x20000000); ISO adds 1000
        // for Z, 2000 for M, 3000 for both.
        let mut dims =
            2 + usize::from(code & 0x8000_0000 != 0) + usize::from(code & 0x4000_0000 != 0);
        if code & 0x2000_0000 != 0 {
            self.take::<4>()?;
        }
        let code = code & 0x0fff_ffff;
        dims += match code / 1000 {
            0 => 0,
            1 | 2 => 1,
            3 => 2,
            _ => return None,
        };
        match code % 1000 {
            1 => self.coords(little, 1, dims),
            2 => {
                let n = self.count(little, 8 * dims)?;
                self.coords(little, n, dims)
            }
            3 => {
                let rings = self.count(little, 4)?;
                for _ in 0..rings {
                    let n = self.count(little, 8 * dims)?;
                    self.coords(little, n, dims)?;
                }
                Some(())
            }
            4..=7 => {
                let parts = self.count(little, 5)?;
                for _ in 0..parts {
                    self.geometry(depth + 1)?;
                }
                Some(())
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::{bounds, to_wkb};
    use geo::{coord, line_string, point, polygon, Geometry};

    #[test]
    fn agrees_with_geo_on_every_type() {
        let poly = polygon![(x: 0.0, y: 0.0), (x: 4.0, y: 1.0), (x: 2.0, y: 5.0)];
        let cases = [
            Geometry::Point(point!(x: -3.5, y: 2.0)),
            Geometry::LineString(line_string![(x: 1.0, y: 9.0), (x: -1.0, y: -9.0)]),
            Geometry::Polygon(poly.clone()),
            Geometry::MultiPoint(vec![point!(x: 1.0, y: 1.0), point!(x: 7.0, y: -2.0)].into()),
            Geometry::MultiPolygon(
                vec![poly.clone(), geo::Translate::translate(&poly, 10.0, 10.0)].into(),
            ),
            Geometry::GeometryCollection(geo::GeometryCollection(vec![
                Geometry::Point(point!(x: 100.0, y: -100.0)),
                Geometry::Polygon(poly),
            ])),
            Geometry::Rect(geo::Rect::new(
                coord! {x: 1.0, y: 2.0},
                coord! {x: 3.0, y: 4.0},
            )),
        ];
        for g in cases {
            assert_eq!(wkb_envelope(&to_wkb(&g)), bounds(&g), "{g:?}");
        }
    }

    #[test]
    fn a_polygons_box_holds_every_ring() {
        // A hole reaching outside its shell (invalid): the box holds it.
        let shell = geo::LineString::from(vec![(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 0.0)]);
        let hole = geo::LineString::from(vec![(1.0, 1.0), (9.0, 1.0), (1.0, -5.0), (1.0, 1.0)]);
        let g = Geometry::Polygon(geo::Polygon::new(shell, vec![hole]));
        assert_eq!(wkb_envelope(&to_wkb(&g)), bounds(&g));
    }

    #[test]
    fn reads_z_and_big_endian() {
        // Big-endian ISO LineString Z (1002) with two points.
        let mut wkb = vec![0u8];
        wkb.extend(1002u32.to_be_bytes());
        wkb.extend(2u32.to_be_bytes());
        for v in [1.0f64, 2.0, 99.0, -1.0, 5.0, -99.0] {
            wkb.extend(v.to_be_bytes());
        }
        let r = wkb_envelope(&wkb).unwrap();
        assert_eq!(
            (r.min().x, r.min().y, r.max().x, r.max().y),
            (-1.0, 2.0, 1.0, 5.0)
        );
    }

    #[test]
    fn empty_and_malformed_have_no_envelope() {
        let empty_point = to_wkb(&Geometry::Point(point!(x: f64::NAN, y: f64::NAN)));
        assert_eq!(wkb_envelope(&empty_point), None);
        let line = to_wkb(&Geometry::LineString(
            line_string![(x: 1.0, y: 9.0), (x: -1.0, y: -9.0)],
        ));
        for cut in 0..line.len() {
            assert_eq!(wkb_envelope(&line[..cut]), None, "cut at {cut}");
        }
        // A ring count far beyond the bytes is refused before looping.
        let mut forged = vec![1u8];
        forged.extend(3u32.to_le_bytes());
        forged.extend(u32::MAX.to_le_bytes());
        assert_eq!(wkb_envelope(&forged), None);
    }
}
