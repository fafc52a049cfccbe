//! GeoParquet 1.1: WKB geometry columns described by the `geo` file metadata (encoding,
//! geometry types, bbox, CRS as PROJJSON). Reading in `read`, writing in `write`.

mod pages;
mod read;
mod write;

pub use read::{read_geoparquet, GeoParquetSource};
pub use write::{write_geoparquet, GeoParquetSink};

use std::path::Path;

use crate::error::Error;

/// Options for [`read_geoparquet`].
#[derive(Debug, Clone)]
pub struct GeoParquetOptions {
    /// Rows per partition when reading: a partition never spans row groups, and a row
    /// group with more rows is cut. Default 1,000,000, so that files from common writers
    /// read one row group per partition (a cut row group decodes part of its pages twice).
    pub rows_per_partition: usize,
}

impl Default for GeoParquetOptions {
    fn default() -> Self {
        GeoParquetOptions {
            rows_per_partition: 1_000_000,
        }
    }
}

fn parquet_error(path: &Path) -> impl FnOnce(parquet::errors::ParquetError) -> Error + '_ {
    move |source| Error::Parquet {
        path: path.to_path_buf(),
        source,
    }
}
