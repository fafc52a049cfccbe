//! GeoParquet 1.1: WKB geometry columns described by the `geo` file metadata (encoding,
//! geometry types, bbox, CRS as PROJJSON). Reading in `read`, writing in `write`.

mod covering;
mod dataset;
mod options;
mod pages;
mod read;
mod write;

pub(crate) use dataset::is_dataset;
pub use dataset::{GeoParquetDataset, GeoParquetDatasetSink};
pub use options::{
    GeoParquetOptions, GeoParquetWriteOptions, GeometryEncoding, ParquetCompression,
};
pub(crate) use read::open_any;
pub use read::{read_geoparquet, read_geoparquet_bbox, GeoParquetSource};
pub use write::{native_encoding_for, write_geoparquet, write_geoparquet_with, GeoParquetSink};

use std::path::Path;

use crate::error::Error;

fn parquet_error(path: &Path) -> impl FnOnce(parquet::errors::ParquetError) -> Error + '_ {
    move |source| Error::Parquet {
        path: path.to_path_buf(),
        source,
    }
}
