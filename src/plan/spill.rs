//! Buckets of rows spilled to disk by the out-of-core operations (the spatial shuffle and
//! the dissolve): one Arrow IPC stream per bucket in a temporary directory, appended in
//! the order rows arrive, read back whole one bucket at a time. The directory goes when
//! the [`Spill`] is dropped, whether the operation succeeded or failed.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_ipc::reader::StreamReader;
use arrow_ipc::writer::StreamWriter;
use arrow_schema::SchemaRef;

use crate::error::{Error, Result};
use crate::partition::Partition;

/// The global first row of each of `partitions`, counting on from `rows_seen` (sinks are
/// given every non-empty partition in order, so this numbers a run's rows).
pub(crate) fn first_rows(rows_seen: &mut u64, partitions: &[Partition]) -> Vec<u64> {
    partitions
        .iter()
        .map(|p| {
            let first = *rows_seen;
            *rows_seen += p.len() as u64;
            first
        })
        .collect()
}

/// A temporary directory of bucket files, all of one schema.
pub(crate) struct Spill {
    dir: tempfile::TempDir,
    schema: SchemaRef,
    writers: Vec<Option<StreamWriter<BufWriter<File>>>>,
    rows: Vec<u64>,
}

impl Spill {
    /// `buckets` empty buckets in a new temporary directory under `parent` (named as the
    /// crate's temporary files are, so a killed run's spill is cleaned by the next run).
    pub(crate) fn create(parent: &Path, schema: SchemaRef, buckets: usize) -> Result<Spill> {
        let dir = crate::io::atomic::temporary_dir(parent).map_err(|e| Error::io(parent, e))?;
        Ok(Spill {
            dir,
            schema,
            writers: (0..buckets).map(|_| None).collect(),
            rows: vec![0; buckets],
        })
    }

    fn file(&self, bucket: usize) -> PathBuf {
        self.dir.path().join(format!("bucket-{bucket:06}.arrows"))
    }

    /// Appends `batch` (of the spill's schema) to `bucket`.
    pub(crate) fn append(&mut self, bucket: usize, batch: &RecordBatch) -> Result<()> {
        let path = self.file(bucket);
        let writer = match &mut self.writers[bucket] {
            Some(w) => w,
            slot => {
                let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
                let w =
                    StreamWriter::try_new(BufWriter::with_capacity(1 << 16, file), &self.schema)?;
                slot.insert(w)
            }
        };
        writer.write(batch)?;
        self.rows[bucket] += batch.num_rows() as u64;
        Ok(())
    }

    /// Ends every bucket file; after this the buckets can be read.
    pub(crate) fn finish(&mut self) -> Result<()> {
        for bucket in 0..self.writers.len() {
            if let Some(mut w) = self.writers[bucket].take() {
                w.finish()?;
                let path = self.file(bucket);
                w.into_inner()
                    .map_err(|e| Error::Internal(format!("{}: {e}", path.display())))?
                    .into_inner()
                    .map_err(|e| Error::io(&path, e.into_error()))?;
            }
        }
        Ok(())
    }

    /// Rows appended to each bucket.
    pub(crate) fn rows(&self) -> &[u64] {
        &self.rows
    }

    /// Where the buckets are, for plans and errors.
    pub(crate) fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The schema of every bucket.
    pub(crate) fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// The rows of `bucket`, in the order they were appended, as one batch.
    pub(crate) fn read(&self, bucket: usize) -> Result<RecordBatch> {
        if self.rows.get(bucket).copied().unwrap_or(0) == 0 {
            return Ok(RecordBatch::new_empty(self.schema.clone()));
        }
        let path = self.file(bucket);
        let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
        let reader = StreamReader::try_new(BufReader::with_capacity(1 << 20, file), None)?;
        let batches = reader.collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(arrow_select::concat::concat_batches(
            &self.schema,
            &batches,
        )?)
    }
}
