//! Partitioned GeoParquet datasets: a directory with one GeoParquet file per partition,
//! as dask-geopandas writes them. [`GeoParquetDatasetSink`] writes one;
//! [`GeoParquetDataset`] reads one (a directory or a `*` pattern), taking each
//! partition's rows and bounds from its file's footer, so a plan over it prunes partition
//! pairs before any row is read.

use std::path::{Path, PathBuf};

use arrow_schema::SchemaRef;
use rayon::prelude::*;

use super::{GeoParquetOptions, GeoParquetSink, GeoParquetSource, GeoParquetWriteOptions};
use crate::crs::Crs;
use crate::error::{CollectInOrder, Error, Result};
use crate::io::atomic;
use crate::io::source::{PartitionMeta, PartitionSink, PartitionSource, SinkLayout};
use crate::partition::Partition;

/// Whether `path` names a dataset (a directory, or a file-name pattern with `*` or `?`)
/// rather than one file.
pub(crate) fn is_dataset(path: &Path) -> bool {
    path.is_dir()
        || path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.contains(['*', '?']))
}

/// `pattern` (`*`: any run of characters, `?`: one character) matches all of `name`.
fn matches(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.first(), name.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            matches(&pattern[1..], name) || (!name.is_empty() && matches(pattern, &name[1..]))
        }
        (Some(b'?'), Some(_)) => matches(&pattern[1..], &name[1..]),
        (Some(p), Some(n)) if p == n => matches(&pattern[1..], &name[1..]),
        _ => false,
    }
}

/// The files of a dataset, in name order: the `.parquet` / `.geoparquet` files of a
/// directory, or those a pattern's file name matches. Names starting with `.` or `_`
/// (temporary files, `_metadata`) are skipped, as Arrow's readers skip them.
fn dataset_files(path: &Path) -> Result<Vec<PathBuf>> {
    let (dir, pattern) = if path.is_dir() {
        (path.to_path_buf(), None)
    } else {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        (dir, Some(name.to_string()))
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))? {
        let entry = entry.map_err(|e| Error::io(&dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with(['.', '_']) || entry.path().is_dir() {
            continue;
        }
        let wanted = match &pattern {
            Some(p) => matches(p.as_bytes(), name.as_bytes()),
            None => {
                let lower = name.to_ascii_lowercase();
                lower.ends_with(".parquet") || lower.ends_with(".geoparquet")
            }
        };
        if wanted {
            files.push(entry.path());
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(Error::MissingFile {
            path: path.to_path_buf(),
            what: "a GeoParquet file of the dataset",
        });
    }
    Ok(files)
}

/// A partitioned GeoParquet dataset as one [`PartitionSource`]: the partitions of its
/// files (each file's row groups, see [`GeoParquetSource`]) one after the other, in file
/// name order. Opening reads every footer, in parallel, and no row. Every file must have
/// the first file's columns, geometry column and CRS.
///
/// ```
/// use geoframe::io::{read_shapefile, GeoParquetDataset, GeoParquetDatasetSink, PartitionSink, PartitionSource, SinkLayout};
/// let counties = read_shapefile("data/us_counties/us_counties.shp", &geoframe::io::ShapefileOptions { rows_per_partition: 1000, ..Default::default() })?;
/// let tmp = tempfile::tempdir().unwrap();
/// let dir = tmp.path().join("counties");
/// let mut sink = GeoParquetDatasetSink::create(&dir, &SinkLayout::of(&counties), &Default::default())?;
/// sink.write(counties.partitions())?;
/// Box::new(sink).finish()?;
/// let dataset = GeoParquetDataset::open(&dir, &Default::default())?;
/// assert_eq!(dataset.files().len(), 4);
/// assert_eq!(dataset.partitions().iter().map(|p| p.rows).sum::<u64>(), 3231);
/// # Ok::<(), geoframe::Error>(())
/// ```
pub struct GeoParquetDataset {
    path: PathBuf,
    files: Vec<GeoParquetSource>,
    /// (file, partition of that file) of each partition.
    parts: Vec<(usize, usize)>,
}

impl GeoParquetDataset {
    /// Opens the dataset at `path`: a directory, or a pattern such as `dir/part-*.parquet`.
    pub fn open(path: impl AsRef<Path>, options: &GeoParquetOptions) -> Result<GeoParquetDataset> {
        let path = path.as_ref();
        let names = dataset_files(path)?;
        let files = names
            .par_iter()
            .map(|f| GeoParquetSource::open(f, options))
            .collect_in_order()?;
        let first = &files[0];
        for (name, file) in names.iter().zip(&files).skip(1) {
            let problem = if file.schema().fields() != first.schema().fields() {
                Some("its columns differ from those")
            } else if file.geometry_column() != first.geometry_column() {
                Some("its geometry column differs from that")
            } else if file.crs() != first.crs() {
                Some("its CRS differs from that")
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(Error::format(
                    name,
                    None,
                    format!(
                        "{problem} of {}, the dataset's first file",
                        names[0].display()
                    ),
                ));
            }
        }
        let parts = files
            .iter()
            .enumerate()
            .flat_map(|(f, file)| (0..file.partitions().len()).map(move |k| (f, k)))
            .collect();
        Ok(GeoParquetDataset {
            path: path.to_path_buf(),
            files,
            parts,
        })
    }

    /// The dataset's files, in the order their partitions come.
    pub fn files(&self) -> Vec<&Path> {
        self.files.iter().map(GeoParquetSource::path).collect()
    }
}

impl PartitionSource for GeoParquetDataset {
    fn describe(&self) -> String {
        format!(
            "geoparquet dataset {} ({} files)",
            self.path.display(),
            self.files.len()
        )
    }
    fn schema(&self) -> &SchemaRef {
        self.files[0].schema()
    }
    fn geometry_column(&self) -> usize {
        self.files[0].geometry_column()
    }
    fn crs(&self) -> Option<&Crs> {
        self.files[0].crs()
    }
    fn partitions(&self) -> Vec<PartitionMeta> {
        self.files.iter().flat_map(|f| f.partitions()).collect()
    }
    fn read_partition(&self, k: usize) -> Result<Partition> {
        let &(file, part) = self
            .parts
            .get(k)
            .ok_or_else(|| Error::Internal(format!("{}: no partition {k}", self.path.display())))?;
        self.files[file].read_partition(part)
    }
    fn partition_files(&self) -> Option<Vec<PathBuf>> {
        self.files
            .iter()
            .map(|f| f.partition_files()?.pop())
            .collect()
    }
}

/// Writes a frame as a partitioned dataset: a directory holding one GeoParquet file per
/// partition (`part-000000.parquet`, ...; partitions without rows get none), each with
/// its own `geo` metadata and bbox, so a reader knows every partition's extent from the
/// footers. The files are written into a temporary directory beside `path`, which takes
/// `path`'s name (replacing a dataset there) only when the sink finishes.
pub struct GeoParquetDatasetSink {
    target: PathBuf,
    temp: Option<tempfile::TempDir>,
    layout: SinkLayout,
    options: GeoParquetWriteOptions,
    written: usize,
}

impl GeoParquetDatasetSink {
    /// Starts a dataset of `layout` at the directory `path`.
    pub fn create(
        path: impl AsRef<Path>,
        layout: &SinkLayout,
        options: &GeoParquetWriteOptions,
    ) -> Result<GeoParquetDatasetSink> {
        let target = path.as_ref().to_path_buf();
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if target.is_file() {
            return Err(Error::InvalidArgument(format!(
                "{} is a file; a dataset is written as a directory",
                target.display()
            )));
        }
        atomic::remove_stale_temporaries(&parent);
        let temp = atomic::temporary_dir(&parent).map_err(|e| Error::io(&target, e))?;
        Ok(GeoParquetDatasetSink {
            target,
            temp: Some(temp),
            layout: layout.clone(),
            options: options.clone(),
            written: 0,
        })
    }
}

impl PartitionSink for GeoParquetDatasetSink {
    fn write(&mut self, partitions: &[Partition]) -> Result<()> {
        let dir = self
            .temp
            .as_ref()
            .ok_or_else(|| Error::Internal("a finished dataset sink was written".into()))?
            .path()
            .to_path_buf();
        for p in partitions.iter().filter(|p| !p.is_empty()) {
            let name = format!("part-{:06}.parquet", self.written);
            let mut file =
                GeoParquetSink::create_with(dir.join(&name), &self.layout, &self.options)?;
            file.write(std::slice::from_ref(p))
                .and_then(|()| Box::new(file).finish())
                .map_err(|e| named(e, &dir.join(&name), &self.target.join(&name)))?;
            self.written += 1;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        let temp = self
            .temp
            .take()
            .ok_or_else(|| Error::Internal("a dataset sink finished twice".into()))?;
        atomic::replace_dir(temp, &self.target)
    }
}

/// An error about a file in the temporary directory, told of the file it becomes.
fn named(e: Error, temporary: &Path, target: &Path) -> Error {
    let message = e
        .to_string()
        .replace(&*temporary.to_string_lossy(), &target.to_string_lossy());
    if message == e.to_string() {
        e
    } else {
        Error::Unwritable {
            path: target.to_path_buf(),
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn patterns_match_whole_names() {
        assert!(matches(b"part-*.parquet", b"part-000001.parquet"));
        assert!(matches(b"*", b"anything"));
        assert!(matches(b"p?rt", b"part"));
        assert!(!matches(b"part-*.parquet", b"part-1.parquet.tmp"));
        assert!(!matches(b"*.parquet", b"a.geojson"));
    }
}
