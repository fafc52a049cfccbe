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

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Once;

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
