//! `estimate_utm_crs`: the WGS 84 UTM zone of a frame's centre, as GeoPandas picks it.

use crate::crs::Crs;
use crate::error::{Error, Result};
use crate::GeoFrame;

/// The EPSG code of the WGS 84 UTM zone holding (`lon`, `lat`): 326zz north of the
/// equator, 327zz south of it.
///
/// ```
/// assert_eq!(geoframe::crs::utm_epsg(-73.95, 40.7), 32618); // New York
/// assert_eq!(geoframe::crs::utm_epsg(151.2, -33.9), 32756); // Sydney
/// ```
pub fn utm_epsg(lon: f64, lat: f64) -> u32 {
    let zone = (((lon + 180.0) / 6.0).floor() as i64 + 1).clamp(1, 60) as u32;
    if lat >= 0.0 {
        32600 + zone
    } else {
        32700 + zone
    }
}

impl GeoFrame {
    /// The UTM CRS (WGS 84) of the zone that holds the centre of the frame's bounds in
    /// longitude/latitude, as GeoPandas' `estimate_utm_crs()` picks it. Frames in a
    /// projected CRS are reprojected to EPSG:4326 first; a frame without a CRS or rows is
    /// an error.
    ///
    /// ```
    /// use geoframe::io::{read_shapefile, ShapefileOptions};
    /// let boroughs = read_shapefile("data/nybb/nybb.shp", &ShapefileOptions::default())?;
    /// assert_eq!(boroughs.estimate_utm_crs()?.to_epsg(), Some(32618));
    /// # Ok::<(), geoframe::Error>(())
    /// ```
    pub fn estimate_utm_crs(&self) -> Result<Crs> {
        let crs = self.crs().ok_or(Error::MissingCrs("estimate_utm_crs"))?;
        let bounds = if crs.is_geographic()? {
            self.total_bounds()
        } else {
            self.to_crs(&Crs::epsg(4326))?.total_bounds()
        }
        .ok_or_else(|| {
            Error::InvalidArgument("estimate_utm_crs: the frame has no geometries".into())
        })?;
        let c = bounds.center();
        if !(-180.0..=180.0).contains(&c.x) || !(-90.0..=90.0).contains(&c.y) {
            return Err(Error::Crs(format!(
                "estimate_utm_crs: centre ({}, {}) is not a longitude/latitude",
                c.x, c.y
            )));
        }
        Ok(Crs::epsg(utm_epsg(c.x, c.y)))
    }
}
