//! What a GeoParquet reader and writer can be asked for: rows per partition when reading,
//! the page compression and the `bbox` covering column when writing.

use std::fmt;
use std::str::FromStr;

use parquet::basic::{BrotliLevel, Compression, GzipLevel, ZstdLevel};

use crate::geometry::NativeEncoding;

use crate::error::{Error, Result};

/// Options for [`super::read_geoparquet`] and [`super::GeoParquetSource`].
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

/// Options for [`super::write_geoparquet_with`] and [`super::GeoParquetSink::create_with`].
///
/// ```
/// use geoframe::io::{GeoParquetWriteOptions, ParquetCompression};
/// let options = GeoParquetWriteOptions {
///     compression: "zstd:3".parse().unwrap(),
///     ..Default::default()
/// };
/// assert_eq!(options.compression, ParquetCompression::Zstd(3));
/// assert!(options.covering);
/// ```
#[derive(Debug, Clone)]
pub struct GeoParquetWriteOptions {
    /// How pages are compressed. Default [`ParquetCompression::DEFAULT`].
    pub compression: ParquetCompression,
    /// Write GeoParquet 1.1's `bbox` covering column (a struct of `xmin`, `ymin`, `xmax`,
    /// `ymax` per row, with statistics), which lets readers skip row groups and rows
    /// outside a query box. Default `true`.
    pub covering: bool,
    /// How geometries are stored. Default WKB.
    pub encoding: GeometryEncoding,
    /// Also annotate a WKB geometry column with Parquet's own GEOMETRY logical type (format
    /// 2.11): its CRS, and per column chunk the geospatial statistics (bounding box and
    /// geometry types) that Parquet-native readers such as DuckDB use. The `geo` metadata
    /// is written either way. Default `false`: readers built before the type may not know it.
    pub geometry_logical_type: bool,
}

/// How a GeoParquet file stores its geometry column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GeometryEncoding {
    /// Well-known binary: any geometry type, and what every reader takes.
    #[default]
    Wkb,
    /// A native GeoArrow encoding (nested lists around `x`, `y` coordinate columns, each
    /// with statistics): one geometry family per file, a single geometry promoted to its
    /// multi form where the encoding is a multi one. See
    /// [`NativeEncoding::holding`] to choose one for a frame.
    Native(NativeEncoding),
}

impl Default for GeoParquetWriteOptions {
    fn default() -> Self {
        GeoParquetWriteOptions {
            compression: ParquetCompression::DEFAULT,
            covering: true,
            encoding: GeometryEncoding::Wkb,
            geometry_logical_type: false,
        }
    }
}

/// The compression of a Parquet file's pages: every codec the `parquet` crate writes.
/// Reading takes all of them (and LZ4's older framing) whatever was chosen here.
///
/// Parsed from `uncompressed`, `snappy`, `lz4`, `gzip[:LEVEL]` (0-9), `brotli[:LEVEL]`
/// (0-11) or `zstd[:LEVEL]` (1-22); a level out of range is an error.
///
/// ```
/// use geoframe::io::ParquetCompression;
/// assert_eq!("brotli:5".parse::<ParquetCompression>().unwrap(), ParquetCompression::Brotli(5));
/// assert!("zstd:40".parse::<ParquetCompression>().is_err());
/// assert_eq!(ParquetCompression::Gzip(6).to_string(), "gzip:6");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParquetCompression {
    /// No compression.
    Uncompressed,
    /// Snappy: fast, modest ratio.
    Snappy,
    /// LZ4 (the `LZ4_RAW` codec): fast, modest ratio.
    Lz4,
    /// Gzip at a level from 0 to 9.
    Gzip(u32),
    /// Brotli at a level from 0 to 11.
    Brotli(u32),
    /// Zstandard at a level from 1 to 22.
    Zstd(i32),
}

impl ParquetCompression {
    /// What geoframe writes unless told otherwise (chosen by measurement: see
    /// `BENCHMARKS.md`, "GeoParquet compression").
    pub const DEFAULT: ParquetCompression = ParquetCompression::Snappy;

    /// The `parquet` crate's codec, with its level checked.
    pub(crate) fn to_parquet(self) -> Result<Compression> {
        let bad = |e: parquet::errors::ParquetError| {
            Error::InvalidArgument(format!("compression {self}: {e}"))
        };
        Ok(match self {
            ParquetCompression::Uncompressed => Compression::UNCOMPRESSED,
            ParquetCompression::Snappy => Compression::SNAPPY,
            ParquetCompression::Lz4 => Compression::LZ4_RAW,
            ParquetCompression::Gzip(l) => Compression::GZIP(GzipLevel::try_new(l).map_err(bad)?),
            ParquetCompression::Brotli(l) => {
                Compression::BROTLI(BrotliLevel::try_new(l).map_err(bad)?)
            }
            ParquetCompression::Zstd(l) => Compression::ZSTD(ZstdLevel::try_new(l).map_err(bad)?),
        })
    }
}

impl fmt::Display for ParquetCompression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParquetCompression::Uncompressed => f.write_str("uncompressed"),
            ParquetCompression::Snappy => f.write_str("snappy"),
            ParquetCompression::Lz4 => f.write_str("lz4"),
            ParquetCompression::Gzip(l) => write!(f, "gzip:{l}"),
            ParquetCompression::Brotli(l) => write!(f, "brotli:{l}"),
            ParquetCompression::Zstd(l) => write!(f, "zstd:{l}"),
        }
    }
}

impl FromStr for ParquetCompression {
    type Err = Error;

    fn from_str(s: &str) -> Result<ParquetCompression> {
        let (name, level) = match s.split_once(':') {
            Some((name, level)) => (name, Some(level)),
            None => (s, None),
        };
        let level_or = |default: i64| -> Result<i64> {
            level.map_or(Ok(default), |l| {
                l.parse().map_err(|_| {
                    Error::InvalidArgument(format!(
                        "compression {s:?}: level {l:?} is not a number"
                    ))
                })
            })
        };
        let narrow = |v: i64| {
            u32::try_from(v).map_err(|_| {
                Error::InvalidArgument(format!("compression {s:?}: level out of range"))
            })
        };
        let codec = match name.to_ascii_lowercase().as_str() {
            "uncompressed" | "none" if level.is_none() => ParquetCompression::Uncompressed,
            "snappy" if level.is_none() => ParquetCompression::Snappy,
            "lz4" | "lz4_raw" if level.is_none() => ParquetCompression::Lz4,
            "gzip" => ParquetCompression::Gzip(narrow(level_or(6)?)?),
            "brotli" => ParquetCompression::Brotli(narrow(level_or(1)?)?),
            "zstd" => ParquetCompression::Zstd(
                i32::try_from(level_or(1)?)
                    .map_err(|_| Error::InvalidArgument(format!("compression {s:?}: level out of range")))?,
            ),
            _ => {
                return Err(Error::InvalidArgument(format!(
                    "unknown compression {s:?} (uncompressed, snappy, lz4, gzip[:0-9], brotli[:0-11], zstd[:1-22])"
                )))
            }
        };
        codec.to_parquet()?;
        Ok(codec)
    }
}
