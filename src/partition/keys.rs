//! Space-filling-curve keys: each geometry's bounding-box centre, scaled to a grid over the
//! frame's total bounds, mapped to a position along a Hilbert or Morton (Z-order) curve,
//! or to a geohash. Rows sorted by such a key are close in space when close in the order.

use arrow_array::{Array, BinaryArray};
use geo::{BoundingRect, Rect};

use crate::error::Result;
use crate::geometry;

/// Grid cells per axis of the curves: 2^16, as dask-geopandas uses.
pub const DEFAULT_LEVEL: u32 = 16;

/// The key of rows whose geometry is null or empty: they sort last.
pub const MISSING_KEY: u64 = u64::MAX;

/// The bounding-box centre of each row (`None` for null or empty geometries).
pub(crate) fn centres(array: &BinaryArray, first_row: u64) -> Result<Vec<Option<(f64, f64)>>> {
    (0..array.len())
        .map(|i| {
            if array.is_null(i) {
                return Ok(None);
            }
            let bytes = array.value(i);
            if let Some(p) = geometry::point_xy(bytes) {
                return Ok(Some(p));
            }
            let g = geometry::from_wkb(bytes, first_row + i as u64)?;
            Ok(g.bounding_rect().map(|r| {
                let c = r.center();
                (c.x, c.y)
            }))
        })
        .collect()
}

/// Scales `(x, y)` to integer grid cells `0..2^level` over `extent`.
#[inline]
pub(crate) fn cell(x: f64, y: f64, extent: Rect, level: u32) -> (u32, u32) {
    let side = ((1u64 << level) - 1) as f64;
    let scale = |v: f64, lo: f64, hi: f64| -> u32 {
        if hi > lo {
            (((v - lo) / (hi - lo)).clamp(0.0, 1.0) * side).round() as u32
        } else {
            0
        }
    };
    (
        scale(x, extent.min().x, extent.max().x),
        scale(y, extent.min().y, extent.max().y),
    )
}

/// Position of grid cell `(x, y)` along the Hilbert curve of order `level` (at most 32).
///
/// ```
/// use geoframe::partition::keys::hilbert;
/// // The order-1 curve visits (0,0), (0,1), (1,1), (1,0).
/// assert_eq!([hilbert(0, 0, 1), hilbert(0, 1, 1), hilbert(1, 1, 1), hilbert(1, 0, 1)], [0, 1, 2, 3]);
/// ```
pub fn hilbert(mut x: u32, mut y: u32, level: u32) -> u64 {
    let n: u64 = 1 << level;
    let mut d: u64 = 0;
    let mut s: u64 = n >> 1;
    while s > 0 {
        let rx = u64::from((u64::from(x) & s) > 0);
        let ry = u64::from((u64::from(y) & s) > 0);
        d += s * s * ((3 * rx) ^ ry);
        // Rotate the quadrant so the curve stays continuous.
        if ry == 0 {
            if rx == 1 {
                x = (n - 1 - u64::from(x)) as u32;
                y = (n - 1 - u64::from(y)) as u32;
            }
            std::mem::swap(&mut x, &mut y);
        }
        s >>= 1;
    }
    d
}

/// Position of grid cell `(x, y)` along the Morton (Z-order) curve: the bits of `x` and `y`
/// interleaved, `x` in the even bits.
///
/// ```
/// use geoframe::partition::keys::morton;
/// assert_eq!([morton(0, 0), morton(1, 0), morton(0, 1), morton(1, 1), morton(2, 0)], [0, 1, 2, 3, 4]);
/// ```
pub fn morton(x: u32, y: u32) -> u64 {
    fn spread(v: u32) -> u64 {
        let mut v = u64::from(v);
        v = (v | (v << 16)) & 0x0000_FFFF_0000_FFFF;
        v = (v | (v << 8)) & 0x00FF_00FF_00FF_00FF;
        v = (v | (v << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
        v = (v | (v << 2)) & 0x3333_3333_3333_3333;
        v = (v | (v << 1)) & 0x5555_5555_5555_5555;
        v
    }
    spread(x) | (spread(y) << 1)
}

const BASE32: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";

/// The geohash of longitude `lon`, latitude `lat` with `precision` characters (at most 12).
///
/// ```
/// use geoframe::partition::keys::geohash;
/// assert_eq!(geohash(-5.6, 42.6, 5), "ezs42");
/// ```
pub fn geohash(lon: f64, lat: f64, precision: usize) -> String {
    let (mut lon_lo, mut lon_hi) = (-180.0, 180.0);
    let (mut lat_lo, mut lat_hi) = (-90.0, 90.0);
    let mut out = String::with_capacity(precision);
    let mut bits = 0u8;
    let mut value = 0usize;
    let mut even = true;
    while out.len() < precision.min(12) {
        let (lo, hi, v) = if even {
            (&mut lon_lo, &mut lon_hi, lon)
        } else {
            (&mut lat_lo, &mut lat_hi, lat)
        };
        let mid = (*lo + *hi) / 2.0;
        value <<= 1;
        if v >= mid {
            value |= 1;
            *lo = mid;
        } else {
            *hi = mid;
        }
        even = !even;
        bits += 1;
        if bits == 5 {
            out.push(BASE32[value] as char);
            bits = 0;
            value = 0;
        }
    }
    out
}

/// The 60 bits of a 12-character geohash as an integer (same order as the strings).
pub(crate) fn geohash_bits(lon: f64, lat: f64) -> u64 {
    let (mut lon_lo, mut lon_hi) = (-180.0, 180.0);
    let (mut lat_lo, mut lat_hi) = (-90.0, 90.0);
    let mut key = 0u64;
    for bit in 0..60 {
        let (lo, hi, v) = if bit % 2 == 0 {
            (&mut lon_lo, &mut lon_hi, lon)
        } else {
            (&mut lat_lo, &mut lat_hi, lat)
        };
        let mid = (*lo + *hi) / 2.0;
        key <<= 1;
        if v >= mid {
            key |= 1;
            *lo = mid;
        } else {
            *hi = mid;
        }
    }
    key
}
