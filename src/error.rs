//! The one error type of geoframe.
//!
//! Every variant says where the problem is (file, record, column) and what was expected, so a
//! user can find the bad input without a debugger.

use std::path::PathBuf;

/// Result alias used throughout geoframe.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in geoframe.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An operating-system I/O error while touching `path`.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file being read or written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A file that a format needs is not there (for example the `.dbf` of a shapefile).
    #[error("{}: missing file ({what})", path.display())]
    MissingFile {
        /// The file that was looked for.
        path: PathBuf,
        /// Why it is needed.
        what: &'static str,
    },

    /// A file is malformed: the header or a record does not follow the format.
    #[error("{}{}: {message}", path.display(), record.map(|r| format!(", record {r}")).unwrap_or_default())]
    Format {
        /// The malformed file.
        path: PathBuf,
        /// The zero-based record (row) the problem is in, when it is in one.
        record: Option<u64>,
        /// What was found and what was expected.
        message: String,
    },

    /// A geometry cannot be represented (NaN coordinates, an unsupported type, bad WKB).
    #[error("{}record {record}: invalid geometry: {message}", path.as_ref().map(|p| format!("{}: ", p.display())).unwrap_or_default())]
    InvalidGeometry {
        /// The file the geometry came from, if any.
        path: Option<PathBuf>,
        /// The zero-based row of the geometry.
        record: u64,
        /// What is wrong with it.
        message: String,
    },

    /// A coordinate reference system is unknown, or a transformation failed.
    #[error("CRS error: {0}")]
    Crs(String),

    /// The frame has no CRS but the operation needs one.
    #[error("{0}: the frame has no CRS; call set_crs first")]
    MissingCrs(&'static str),

    /// A column named by the caller does not exist.
    #[error("unknown column {name:?}; columns are {available:?}")]
    UnknownColumn {
        /// The requested name.
        name: String,
        /// The columns that do exist.
        available: Vec<String>,
    },

    /// Arguments or frames that do not fit together (schemas, lengths).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// Two frames that an operation combines are in different CRSs (or one has none).
    #[error("{op}: CRS mismatch ({}, {}); reproject one side with to_crs", left.as_deref().unwrap_or("no CRS"), right.as_deref().unwrap_or("no CRS"))]
    CrsMismatch {
        /// The operation (`sjoin`, `sjoin_nearest`, `concat`, ...).
        op: &'static str,
        /// The first frame's CRS, `None` when it has none.
        left: Option<String>,
        /// The second frame's CRS, `None` when it has none.
        right: Option<String>,
    },

    /// An invariant of geoframe itself does not hold: a bug in geoframe, not in the input.
    #[error("internal error (a bug in geoframe, please report it): {0}")]
    Internal(String),

    /// Data that a format cannot hold (for example a 300-byte string in a `.dbf` field).
    #[error("{}: cannot write: {message}", path.display())]
    Unwritable {
        /// The target file.
        path: PathBuf,
        /// What cannot be written and why.
        message: String,
    },

    /// An operation that has a name in the API but is not built yet.
    #[error("{op} is not implemented yet; see ROADMAP.md#{roadmap}")]
    NotImplemented {
        /// The operation's name.
        op: &'static str,
        /// Its anchor in `ROADMAP.md`.
        roadmap: &'static str,
    },

    /// A job on a cluster failed, or the cluster could not be reached.
    #[error("cluster {url}: {message}")]
    Cluster {
        /// The scheduler (`df://host:port`).
        url: String,
        /// What the cluster or its client reported.
        message: String,
    },

    /// A task of a computation failed; the computation stopped.
    #[error("task {id} ({task}{}) failed: {source}", partition.map(|p| format!(", partition {p}")).unwrap_or_default())]
    TaskFailed {
        /// The task's kind.
        task: &'static str,
        /// The task's id in its graph.
        id: usize,
        /// The partition it concerned.
        partition: Option<usize>,
        /// What went wrong.
        #[source]
        source: Box<Error>,
    },

    /// A task of a computation panicked; the panic was caught and the computation stopped.
    #[error("task {id} ({task}{}) panicked: {message}", partition.map(|p| format!(", partition {p}")).unwrap_or_default())]
    TaskPanicked {
        /// The task's kind.
        task: &'static str,
        /// The task's id in its graph.
        id: usize,
        /// The partition it concerned.
        partition: Option<usize>,
        /// The panic message.
        message: String,
    },

    /// One result of a computation is larger than the memory limit of its run.
    #[error("the memory limit of {limit} bytes is too small: one partition's result alone takes {bytes} bytes; raise the limit (ExecuteOptions::memory_limit, --memory-limit) or use smaller partitions")]
    MemoryLimit {
        /// The limit of the run.
        limit: u64,
        /// The bytes of the result that passes it.
        bytes: u64,
    },

    /// An error from the Arrow library.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),

    /// An error from the Parquet library, with the file it concerns.
    #[error("{}: parquet: {source}", path.display())]
    Parquet {
        /// The Parquet file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: parquet::errors::ParquetError,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// The error behind any [`Error::TaskFailed`] wrappers: what went wrong, without the
    /// task that hit it. Eager functions such as `read_shapefile`, whose tasks are an
    /// implementation detail, return this.
    pub fn into_root(self) -> Error {
        match self {
            Error::TaskFailed { source, .. } => source.into_root(),
            other => other,
        }
    }

    /// Names `path` in an [`Error::InvalidGeometry`] that came from data read from it.
    pub(crate) fn in_file(self, path: &std::path::Path) -> Error {
        match self {
            Error::InvalidGeometry {
                record, message, ..
            } => Error::InvalidGeometry {
                path: Some(path.to_path_buf()),
                record,
                message,
            },
            other => other,
        }
    }

    pub(crate) fn format(
        path: impl Into<PathBuf>,
        record: Option<u64>,
        message: impl Into<String>,
    ) -> Self {
        Error::Format {
            path: path.into(),
            record,
            message: message.into(),
        }
    }
}

/// The message of a caught panic (`&str` and `String` payloads; others have none).
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Collecting parallel per-partition results so that an error is the one of the first
/// failing partition, whatever the scheduling (`collect::<Result<_>>()` on a parallel
/// iterator returns whichever error a worker met first).
pub(crate) trait CollectInOrder<T> {
    /// The results in order, or the first error in order.
    fn collect_in_order(self) -> Result<Vec<T>>;
}

impl<T: Send, I> CollectInOrder<T> for I
where
    I: rayon::iter::IndexedParallelIterator<Item = Result<T>>,
{
    fn collect_in_order(self) -> Result<Vec<T>> {
        let all: Vec<Result<T>> = self.collect();
        all.into_iter().collect()
    }
}
