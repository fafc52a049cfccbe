//! Coordinate reference systems.
//!
//! A [`Crs`] keeps the definition it was given (an `EPSG:` code, WKT from a `.prj` file,
//! PROJJSON from GeoParquet metadata, or a PROJ string) and asks PROJ whenever it needs to
//! interpret it: to find its EPSG code, to write it as PROJJSON or ESRI WKT, or to build a
//! transformation ([`crate::GeoFrame::to_crs`]).

mod ffi;
mod reproject;
mod utm;

pub(crate) use reproject::reproject_partition;
pub use utm::utm_epsg;

use crate::error::{Error, Result};

/// A coordinate reference system, as a definition PROJ understands.
///
/// ```
/// use geoframe::Crs;
/// let wgs84 = Crs::epsg(4326);
/// assert_eq!(wgs84.to_epsg(), Some(4326));
/// assert!(wgs84.is_geographic().unwrap());
/// ```
#[derive(Debug, Clone)]
pub struct Crs {
    definition: String,
}

impl Crs {
    /// A CRS from any definition PROJ accepts: `"EPSG:4326"`, WKT1/WKT2, PROJJSON or a
    /// PROJ string. The definition is checked with PROJ.
    pub fn from_user_input(definition: &str) -> Result<Crs> {
        let definition = definition.trim();
        ffi::Object::new(definition)?;
        Ok(Crs {
            definition: definition.to_string(),
        })
    }

    /// A CRS from a definition already checked by PROJ (a serialized plan's, say).
    pub(crate) fn from_definition(definition: &str) -> Crs {
        Crs {
            definition: definition.to_string(),
        }
    }

    /// The CRS with the given EPSG code (not checked until used).
    pub fn epsg(code: u32) -> Crs {
        Crs {
            definition: format!("EPSG:{code}"),
        }
    }

    /// The definition as given.
    pub fn definition(&self) -> &str {
        &self.definition
    }

    /// The EPSG code of this CRS, if PROJ can identify one with high confidence.
    pub fn to_epsg(&self) -> Option<u32> {
        if let Some(code) = self
            .definition
            .strip_prefix("EPSG:")
            .and_then(|c| c.parse().ok())
        {
            return Some(code);
        }
        ffi::Object::new(&self.definition).ok()?.epsg_code()
    }

    /// The CRS as PROJJSON (the encoding GeoParquet asks for). A CRS that PROJ identifies
    /// as an EPSG code is written as that code's definition, so that readers see its id
    /// (an ESRI `.prj` carries none).
    pub fn to_projjson(&self) -> Result<String> {
        match self.to_epsg() {
            Some(code) => ffi::Object::new(&format!("EPSG:{code}"))?.to_projjson(),
            None => ffi::Object::new(&self.definition)?.to_projjson(),
        }
    }

    /// The CRS as ESRI WKT, the dialect of `.prj` files.
    pub fn to_esri_wkt(&self) -> Result<String> {
        ffi::Object::new(&self.definition)?.to_esri_wkt()
    }

    /// The CRS as OGC WKT1 (the dialect of a GeoPackage's `gpkg_spatial_ref_sys`), from its
    /// EPSG code's definition where PROJ identifies one.
    ///
    /// ```
    /// assert!(geoframe::Crs::epsg(3857).to_wkt1()?.contains("AUTHORITY[\"EPSG\",\"3857\"]"));
    /// # Ok::<(), geoframe::Error>(())
    /// ```
    pub fn to_wkt1(&self) -> Result<String> {
        match self.to_epsg() {
            Some(code) => ffi::Object::new(&format!("EPSG:{code}"))?.to_wkt1(),
            None => ffi::Object::new(&self.definition)?.to_wkt1(),
        }
    }

    /// Whether coordinates are longitude/latitude in degrees (a geographic CRS).
    pub fn is_geographic(&self) -> Result<bool> {
        ffi::Object::new(&self.definition)?.is_geographic()
    }

    /// Whether two CRSs describe the same system (same EPSG code, or equivalent to PROJ).
    pub fn equivalent(&self, other: &Crs) -> bool {
        if self.definition == other.definition {
            return true;
        }
        match (self.to_epsg(), other.to_epsg()) {
            (Some(a), Some(b)) => a == b,
            _ => match (
                ffi::Object::new(&self.definition),
                ffi::Object::new(&other.definition),
            ) {
                (Ok(a), Ok(b)) => a.is_equivalent_to(&b),
                _ => false,
            },
        }
    }
}

impl PartialEq for Crs {
    fn eq(&self, other: &Self) -> bool {
        self.equivalent(other)
    }
}

impl std::fmt::Display for Crs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.to_epsg() {
            Some(code) => write!(f, "EPSG:{code}"),
            None => f.write_str(&self.definition),
        }
    }
}

/// Converts a definition into an error-carrying transformation between two CRSs.
pub(crate) fn transformer(from: &Crs, to: &Crs) -> Result<proj::Proj> {
    proj::Proj::new_known_crs(from.definition(), to.definition(), None)
        .map_err(|e| Error::Crs(format!("no transformation from {from} to {to}: {e}")))
}

/// The one CRS check of operations that combine two frames: both in equivalent CRSs, or
/// both without one.
pub(crate) fn check_same(op: &'static str, left: Option<&Crs>, right: Option<&Crs>) -> Result<()> {
    let same = match (left, right) {
        (Some(a), Some(b)) => a.equivalent(b),
        (None, None) => true,
        _ => false,
    };
    if same {
        Ok(())
    } else {
        Err(Error::CrsMismatch {
            op,
            left: left.map(ToString::to_string),
            right: right.map(ToString::to_string),
        })
    }
}
