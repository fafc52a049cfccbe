//! # geoframe
//!
//! Geospatial dataframes split into partitions and processed in parallel: what
//! dask-geopandas is to GeoPandas, for Rust.
//!
//! A [`GeoFrame`] is a list of [`Partition`]s, each an Arrow batch of attribute columns plus
//! a WKB geometry column (`geoarrow.wkb`), with its bounds; the frame keeps an R-tree over
//! the partition bounds and its [`Crs`]. Readers and writers live in [`io`]; the spatial
//! join in [`join`].
//!
//! ```
//! use geoframe::io::{read_shapefile, ShapefileOptions};
//! use geoframe::join::{How, Predicate};
//!
//! let cities = read_shapefile("data/naturalearth_cities/naturalearth_cities.shp", &ShapefileOptions::default())?;
//! let countries = read_shapefile("data/naturalearth_lowres/naturalearth_lowres.shp", &ShapefileOptions::default())?;
//! let joined = cities.sjoin(&countries, How::Inner, Predicate::Within)?;
//! assert_eq!(joined.len(), 213); // cities that lie inside a country polygon
//! # Ok::<(), geoframe::Error>(())
//! ```

pub mod crs;
#[cfg(feature = "datagen")]
pub mod datagen;
#[cfg(feature = "distributed")]
pub mod distributed;
mod eager;
mod error;
mod frame;
pub mod geometry;
pub mod io;
pub mod join;
pub mod ops;
pub mod partition;
pub mod plan;

pub use crs::Crs;
pub use eager::{clip, overlay_intersection, sjoin, sjoin_nearest};
pub use error::{Error, Result};
pub use frame::{GeoFrame, DEFAULT_GEOMETRY_COLUMN};
pub use partition::Partition;

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
