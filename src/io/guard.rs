//! A boundary around third-party decoders that can still panic on hostile bytes: inside it
//! a panic is caught, printed nowhere, and becomes an [`Error::Format`] naming the file and
//! what was being decoded.
//!
//! Known upstream panics it guards (remove a guard once an upgrade fixes its case):
//! - arrow-ipc 59.3, `convert.rs:514` ("Type NONE not supported") and the `unwrap()`s at
//!   `convert.rs:198` and `:299`: a corrupt base64 `ARROW:schema` footer value, decoded by
//!   `ParquetRecordBatchReaderBuilder::try_new`;
//! - parquet 59.3, `ColumnChunkMetaData::byte_range` asserts "column start and length should
//!   not be negative": a negative `total_compressed_size` or page offset in the footer
//!   (geoframe checks these itself first, see `geoparquet::read`).
//!
//! And two that are not panics. parquet 59.3's `decode_page` (`serialized_reader.rs:447`)
//! reserves the uncompressed size a page header claims before decompressing (2 GB for a
//! forged header): `geoparquet::pages` reads every page header first and refuses sizes the
//! codec cannot produce. And parquet 59.3's Thrift decoder skipping a page
//! header field with a forged element count keeps reading at the end of the file, one
//! system call per element (100 s for a 28 KB file found by fuzzing). [`BoundedFile`]
//! makes every read after the end of the file an error.

use std::cell::Cell;
use std::fs::File;
use std::io::{BufReader, Read};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Once;

use parquet::file::reader::{ChunkReader, Length};

use crate::error::{panic_message, Error, Result};

thread_local! {
    /// Whether this thread is inside a guard (panics there are not printed).
    static GUARDED: Cell<bool> = const { Cell::new(false) };
}

static QUIET_HOOK: Once = Once::new();

/// Installs, once, a panic hook that stays silent inside a guard and defers to the hook
/// that was there before everywhere else.
fn install_quiet_hook() {
    QUIET_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !GUARDED.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// Runs `decode` on bytes of `path`; a panic inside becomes a format error about `what`
/// (for example "row group 3"), with no message printed.
pub(crate) fn guarded<T>(path: &Path, what: &str, decode: impl FnOnce() -> Result<T>) -> Result<T> {
    install_quiet_hook();
    let outer = GUARDED.with(|g| g.replace(true));
    let outcome = catch_unwind(AssertUnwindSafe(decode));
    GUARDED.with(|g| g.set(outer));
    outcome.unwrap_or_else(|payload| {
        Err(Error::format(
            path,
            None,
            format!(
                "{what}: malformed data (the decoder gave up: {})",
                panic_message(payload.as_ref())
            ),
        ))
    })
}

/// A file for parquet's readers that never reads past its end: byte ranges beyond it are
/// refused before anything is allocated, and a stream that has reached the end fails on
/// the next read instead of returning nothing again.
pub(crate) struct BoundedFile {
    file: File,
    len: u64,
}

impl BoundedFile {
    pub(crate) fn new(file: File, len: u64) -> BoundedFile {
        BoundedFile { file, len }
    }
}

impl Length for BoundedFile {
    fn len(&self) -> u64 {
        self.len
    }
}

impl ChunkReader for BoundedFile {
    type T = EndIsFinal<BufReader<File>>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        Ok(EndIsFinal {
            inner: self.file.get_read(start)?,
            ended: false,
        })
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<bytes::Bytes> {
        if start.saturating_add(length as u64) > self.len {
            return Err(parquet::errors::ParquetError::EOF(format!(
                "bytes {start}..+{length} pass the end of the file ({} bytes)",
                self.len
            )));
        }
        self.file.get_bytes(start, length)
    }
}

/// A reader whose end is final: after it has once returned no bytes, reading again is an
/// error.
pub(crate) struct EndIsFinal<R> {
    inner: R,
    ended: bool,
}

impl<R: Read> Read for EndIsFinal<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.ended && !buf.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "read past the end of the file",
            ));
        }
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.ended = true;
        }
        Ok(n)
    }
}
