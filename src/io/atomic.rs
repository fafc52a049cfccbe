//! Writes that never leave a half file under the target name: data goes to a temporary
//! file in the target's folder, which is renamed over the target once complete.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::{Error, Result};

/// Temporary files are named `.geoframe-<pid>-<random>.tmp`, so that a later run can tell
/// those of a process that is gone (killed while writing) from those being written now.
const TEMP_PREFIX: &str = ".geoframe-";

/// Removes the temporary files in `dir` that a geoframe process left when it was killed
/// (its process id no longer runs), and says so through `log`. Where processes cannot be
/// looked up (no `/proc`), nothing is removed.
pub(crate) fn remove_stale_temporaries(dir: &Path) {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(TEMP_PREFIX))
            .filter(|n| n.ends_with(".tmp"))
            .and_then(|n| n.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if proc.join(pid.to_string()).exists() {
            continue;
        }
        let path = entry.path();
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        if removed.is_ok() {
            log::warn!(
                "removed {}, left by geoframe process {pid}, which ended before it finished writing",
                entry.path().display()
            );
        }
    }
}

/// A temporary directory in `parent`, named as temporary files are, removed when dropped.
pub(crate) fn temporary_dir(parent: &Path) -> std::io::Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix(&format!("{TEMP_PREFIX}{}-", std::process::id()))
        .suffix(".tmp")
        .tempdir_in(parent)
}

/// Gives the complete directory `temp` the name `target`. A directory already there is
/// moved aside first and removed after, so `target` is at all times the old directory or
/// the new one.
pub(crate) fn replace_dir(temp: tempfile::TempDir, target: &Path) -> Result<()> {
    let parent = temp.path().parent().unwrap_or(Path::new(".")).to_path_buf();
    let old = if target.exists() {
        let aside = temporary_dir(&parent).map_err(|e| Error::io(target, e))?;
        std::fs::rename(target, aside.path().join("old")).map_err(|e| Error::io(target, e))?;
        Some(aside)
    } else {
        None
    };
    let finished = temp.keep();
    if let Err(e) = std::fs::rename(&finished, target) {
        let _ = std::fs::remove_dir_all(&finished);
        if let Some(aside) = &old {
            let _ = std::fs::rename(aside.path().join("old"), target);
        }
        return Err(Error::io(target, e));
    }
    drop(old); // removes the old dataset
    Ok(())
}

/// A file being written; the target appears only on [`AtomicFile::commit`].
pub(crate) struct AtomicFile {
    target: PathBuf,
    writer: BufWriter<NamedTempFile>,
}

impl AtomicFile {
    pub(crate) fn create(target: &Path) -> Result<AtomicFile> {
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        // Temporary files are private (0600) by default; the finished file should have the
        // permissions of any newly created file (0666 less the umask).
        use std::os::unix::fs::PermissionsExt;
        remove_stale_temporaries(dir);
        let prefix = format!("{TEMP_PREFIX}{}-", std::process::id());
        let temp = tempfile::Builder::new()
            .prefix(&prefix)
            .suffix(".tmp")
            .permissions(std::fs::Permissions::from_mode(0o666))
            .tempfile_in(dir)
            .map_err(|e| Error::io(target, e))?;
        Ok(AtomicFile {
            target: target.to_path_buf(),
            writer: BufWriter::with_capacity(1 << 20, temp),
        })
    }

    pub(crate) fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        self.writer
            .write_all(bytes)
            .map_err(|e| Error::io(&self.target, e))
    }

    /// The underlying writer, for encoders that take `impl Write`.
    pub(crate) fn writer(&mut self) -> &mut BufWriter<NamedTempFile> {
        &mut self.writer
    }

    /// The target and the writer, for an encoder that must own its writer; give them
    /// back with [`AtomicFile::from_parts`] to commit.
    pub(crate) fn into_parts(self) -> (PathBuf, BufWriter<NamedTempFile>) {
        (self.target, self.writer)
    }

    pub(crate) fn from_parts(target: PathBuf, writer: BufWriter<NamedTempFile>) -> AtomicFile {
        AtomicFile { target, writer }
    }

    pub(crate) fn target(&self) -> &Path {
        &self.target
    }

    /// Ends writing and reads the file back from its start, as a temporary file that is
    /// removed when the reader is dropped (for spills that never take a name).
    pub(crate) fn rewind(self) -> Result<std::io::BufReader<NamedTempFile>> {
        use std::io::{Seek, SeekFrom};
        let target = self.target;
        let mut temp = self
            .writer
            .into_inner()
            .map_err(|e| Error::io(&target, e.into_error()))?;
        temp.seek(SeekFrom::Start(0))
            .map_err(|e| Error::io(&target, e))?;
        Ok(std::io::BufReader::with_capacity(1 << 20, temp))
    }

    /// Flushes, syncs and renames onto the target.
    pub(crate) fn commit(self) -> Result<()> {
        let target = self.target;
        let temp = self
            .writer
            .into_inner()
            .map_err(|e| Error::io(&target, e.into_error()))?;
        temp.as_file()
            .sync_all()
            .map_err(|e| Error::io(&target, e))?;
        temp.persist(&target)
            .map_err(|e| Error::io(&target, e.error))?;
        Ok(())
    }
}
