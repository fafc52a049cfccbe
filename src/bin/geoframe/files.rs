//! Formats of the command line's files: which format a path names, reading it as a lazy
//! frame, writing results (streamed, or collected where the encoding needs the whole
//! result), and `info`'s summary sink.

use std::path::Path;

use geoframe::io::{
    FlatGeobufSink, GeoJsonSink, GeoPackageOptions, GeoPackageSink, GeoParquetDatasetSink,
    GeoParquetOptions, GeoParquetSink, GeoParquetWriteOptions, GeometryEncoding,
    ParquetCompression, PartitionSink, ShapefileOptions, ShapefileSink,
};
use geoframe::partition::Partition;
use geoframe::plan::{ExecuteOptions, LazyFrame};
use geoframe::{Error, GeoFrame};

pub(crate) enum Format {
    Shapefile,
    GeoParquet,
    GeoJson,
    FlatGeobuf,
    GeoPackage,
    /// A directory of GeoParquet files, one per partition.
    Dataset,
}

pub(crate) fn format_of(path: &Path) -> Result<Format, Error> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let pattern = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.contains(['*', '?']));
    if path.is_dir() || pattern || path.as_os_str().to_string_lossy().ends_with('/') {
        return Ok(Format::Dataset);
    }
    match ext.as_deref() {
        Some("shp") => Ok(Format::Shapefile),
        Some("parquet" | "geoparquet") => Ok(Format::GeoParquet),
        Some("geojson" | "json") => Ok(Format::GeoJson),
        Some("fgb") => Ok(Format::FlatGeobuf),
        Some("gpkg") => Ok(Format::GeoPackage),
        _ => Err(Error::InvalidArgument(format!(
            "{}: unknown format; use .shp, .parquet, .geojson, .fgb or .gpkg, or a directory ending in / for a partitioned GeoParquet dataset",
            path.display()
        ))),
    }
}

pub(crate) fn read(path: &Path, rows_per_partition: usize) -> Result<LazyFrame, Error> {
    read_for(path, rows_per_partition, false)
}

/// Like [`read`]; `whole_files` reads each file of a GeoParquet dataset as one partition,
/// as a cluster reads them.
pub(crate) fn read_for(
    path: &Path,
    rows_per_partition: usize,
    whole_files: bool,
) -> Result<LazyFrame, Error> {
    Ok(match format_of(path)? {
        Format::Dataset if whole_files => geoframe::plan::scan_geoparquet(
            path,
            &GeoParquetOptions {
                rows_per_partition: usize::MAX,
            },
        )?,
        Format::Shapefile => geoframe::plan::scan_shapefile(
            path,
            &ShapefileOptions {
                rows_per_partition,
                ..Default::default()
            },
        )?,
        Format::GeoParquet | Format::Dataset => {
            geoframe::plan::scan_geoparquet(path, &GeoParquetOptions { rows_per_partition })?
        }
        Format::GeoJson => LazyFrame::from(geoframe::io::read_geojson(path, rows_per_partition)?),
        Format::FlatGeobuf => geoframe::plan::scan_flatgeobuf(path, rows_per_partition)?,
        Format::GeoPackage => {
            LazyFrame::scan(std::sync::Arc::new(geoframe::io::GeoPackageSource::open(
                path,
                &GeoPackageOptions {
                    layer: None,
                    rows_per_partition,
                },
            )?))
        }
    })
}

/// Where and how results are written.
pub(crate) struct Output {
    pub(crate) overwrite: bool,
    pub(crate) compression: ParquetCompression,
    pub(crate) covering: bool,
    pub(crate) geoarrow: bool,
    pub(crate) geometry_logical_type: bool,
}

impl Output {
    /// Refuses, before any work, an output of unknown format or one that exists.
    pub(crate) fn check(&self, path: &Path) -> Result<(), Error> {
        format_of(path)?;
        if !self.overwrite && path.exists() {
            return Err(Error::InvalidArgument(format!(
                "{} exists; pass --overwrite to replace it",
                path.display()
            )));
        }
        Ok(())
    }

    pub(crate) fn write(&self, frame: &GeoFrame, path: &Path) -> Result<(), Error> {
        let encoding = || -> Result<GeometryEncoding, Error> {
            if !self.geoarrow {
                return Ok(GeometryEncoding::Wkb);
            }
            geoframe::io::native_encoding_for(frame)
                .map(GeometryEncoding::Native)
                .ok_or_else(|| {
                    Error::InvalidArgument(
                        "--geoarrow: the geometries mix families (points, lines, polygons) or hold collections; no native encoding holds them".into(),
                    )
                })
        };
        match format_of(path)? {
            Format::Shapefile => geoframe::io::write_shapefile(frame, path),
            Format::GeoParquet => {
                geoframe::io::write_geoparquet_with(frame, path, &self.parquet_options(encoding()?))
            }
            Format::GeoJson => geoframe::io::write_geojson(frame, path),
            Format::FlatGeobuf => geoframe::io::write_flatgeobuf(frame, path),
            Format::GeoPackage => geoframe::io::write_geopackage(frame, path),
            Format::Dataset => {
                let mut sink = GeoParquetDatasetSink::create(
                    path,
                    &geoframe::io::SinkLayout::of(frame),
                    &self.parquet_options(encoding()?),
                )?;
                sink.write(frame.partitions())?;
                Box::new(sink).finish()
            }
        }
    }

    pub(crate) fn parquet_options(&self, encoding: GeometryEncoding) -> GeoParquetWriteOptions {
        GeoParquetWriteOptions {
            compression: self.compression,
            covering: self.covering,
            encoding,
            geometry_logical_type: self.geometry_logical_type,
        }
    }
}

/// Where plans run: on this machine's workers, or on a cluster (`--cluster`).
pub(crate) enum Runner {
    Local(ExecuteOptions),
    #[cfg(feature = "distributed")]
    Cluster(geoframe::distributed::Cluster),
}

impl Runner {
    fn collect(&self, frame: &LazyFrame) -> Result<GeoFrame, Error> {
        match self {
            Runner::Local(options) => frame.collect(options),
            #[cfg(feature = "distributed")]
            Runner::Cluster(cluster) => cluster.collect(frame),
        }
    }

    fn sink(&self, frame: &LazyFrame, sink: Box<dyn PartitionSink>) -> Result<u64, Error> {
        match self {
            Runner::Local(options) => Ok(frame.sink(sink, options)?.rows_written),
            #[cfg(feature = "distributed")]
            Runner::Cluster(cluster) => cluster.sink(frame, sink),
        }
    }

    /// Whether plans run on a cluster, which reads datasets by whole files.
    pub(crate) fn is_cluster(&self) -> bool {
        !matches!(self, Runner::Local(_))
    }
}

impl Output {
    /// Runs `frame` into `path` as it is computed, never holding the whole result; with
    /// `--geoarrow` the result is collected first, since its geometry types choose the
    /// encoding.
    pub(crate) fn stream(
        &self,
        frame: &LazyFrame,
        path: &Path,
        runner: &Runner,
    ) -> Result<u64, Error> {
        let layout = frame.layout();
        let sink: Box<dyn PartitionSink> = match format_of(path)? {
            Format::GeoParquet | Format::Dataset if self.geoarrow => {
                let collected = runner.collect(frame)?;
                self.write(&collected, path)?;
                return Ok(collected.len() as u64);
            }
            Format::GeoParquet => Box::new(GeoParquetSink::create_with(
                path,
                &layout,
                &self.parquet_options(GeometryEncoding::Wkb),
            )?),
            Format::Dataset => Box::new(GeoParquetDatasetSink::create(
                path,
                &layout,
                &self.parquet_options(GeometryEncoding::Wkb),
            )?),
            Format::Shapefile => Box::new(ShapefileSink::create(path, &layout)?),
            Format::GeoJson => Box::new(GeoJsonSink::create(path, &layout)?),
            Format::FlatGeobuf => {
                Box::new(FlatGeobufSink::create(path, &layout, &Default::default())?)
            }
            Format::GeoPackage => Box::new(GeoPackageSink::create(path, &layout)?),
        };
        runner.sink(frame, sink)
    }
}

/// What `info` reports, gathered partition by partition as a sink (nothing is written).
#[derive(Default)]
pub(crate) struct Summary {
    pub(crate) rows: u64,
    pub(crate) partitions: usize,
    pub(crate) bounds: Option<geo::Rect>,
}

/// Hands [`Summary`] to a run as its sink, and keeps it readable afterwards.
pub(crate) struct SummarySink(pub(crate) std::sync::Arc<std::sync::Mutex<Summary>>);

impl PartitionSink for SummarySink {
    fn write(&mut self, partitions: &[Partition]) -> Result<(), Error> {
        let mut summary = self.0.lock().unwrap_or_else(|p| p.into_inner());
        for p in partitions {
            summary.rows += p.len() as u64;
            summary.partitions += 1;
            summary.bounds = geoframe::geometry::merge_bounds(summary.bounds, p.bounds());
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<(), Error> {
        Ok(())
    }
}

/// A byte count with an optional K, M, G or T suffix (powers of 1024).
pub(crate) fn parse_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (number, shift) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let shift = match c.to_ascii_uppercase() {
                'K' => 10,
                'M' => 20,
                'G' => 30,
                'T' => 40,
                _ => return Err(format!("{text:?}: unknown suffix {c:?} (K, M, G, T)")),
            };
            (&t[..i], shift)
        }
        _ => (t, 0),
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("{text:?}: expected a number of bytes, such as 512M or 2G"))?;
    let bytes = value * f64::from(1u32 << 10).powi(shift / 10);
    if !(bytes.is_finite() && bytes >= 1.0) {
        return Err(format!("{text:?}: the limit must be at least one byte"));
    }
    Ok(bytes as u64)
}
