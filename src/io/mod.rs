//! Reading and writing geospatial files: ESRI shapefiles, GeoParquet and GeoJSON.
//!
//! Every writer writes to a temporary file beside the target and renames it when the file
//! is complete, so a failed write never leaves a half file under the target name.

mod atomic;
pub mod geojson;
pub mod geoparquet;
pub mod shapefile;

pub use self::geojson::{read_geojson, write_geojson};
pub use self::geoparquet::{read_geoparquet, write_geoparquet, GeoParquetOptions};
pub use self::shapefile::{read_shapefile, write_shapefile, ShapefileOptions};
