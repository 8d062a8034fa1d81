//! Writing files: every file sgdlab writes goes through one of these helpers, so each is
//! written whole or not at all ([`write_atomically`]), appended durably ([`append_durably`]),
//! or never replaces a user's file ([`write_new_file`], and [`NewFile`] for output written
//! as it is computed).
//!
//! What [`write_atomically`] guarantees:
//!
//! - **A crash of the process** (a panic, SIGKILL, the OOM killer) at any moment leaves the
//!   old file or the new one, never a mixture: the bytes go to a uniquely named temporary
//!   beside the file and take its name by one `rename`. Two writers of the same file never
//!   share a temporary, so neither can tear the other's.
//! - **Power loss or a kernel crash** leaves the old file or the new one as well: the
//!   temporary is fsynced before the rename, and the directory after it, so once the call
//!   returns the new file is on disk, and before that the old one still is.
//! - **A failed write** (a full disk, a quota) returns an error naming the file and removes
//!   its temporary; the old file is untouched.
//!
//! A process killed between creating its temporary and renaming it strands that temporary
//! (`NAME.XXXXXX.tmp`); [`remove_stale_temporaries`] clears them when the next writer starts.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// The ending of every temporary [`write_atomically`] creates (`NAME.XXXXXX.tmp`), and of
/// Burn's checkpoint writer's (`NAME.PID-N.tmp`, `burn-pack`'s `AtomicFile`).
const TEMPORARY_SUFFIX: &str = ".tmp";

/// Writes `bytes` to `path` whole or not at all, durably (see the module comment): a unique
/// temporary in the same directory, written, fsynced, renamed onto `path`, the directory
/// fsynced.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = parent_dir(path);
    let prefix = format!(
        "{}.",
        path.file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default()
    );
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(TEMPORARY_SUFFIX);
    #[cfg(unix)]
    {
        // tempfile's default is 0600; a file sgdlab writes gets the umask's mode, as
        // `std::fs::write` would give it.
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let cannot =
        |e: std::io::Error| Error::new(format!("cannot write {}: {}", path.display(), plain(&e)));
    let mut temporary = builder.tempfile_in(dir).map_err(cannot)?;
    // Dropping `temporary` on any error below removes it.
    let file = temporary.as_file_mut();
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(cannot)?;
    temporary.persist(path).map_err(|e| cannot(e.error))?;
    sync_dir(dir).map_err(|e| Error::io("sync the directory of", path, e))
}

/// Appends `bytes` to the existing file `path` and fsyncs it, so that what was appended is
/// on disk when the call returns. A crash mid-append can leave a cut-off last line, which
/// readers of appended files (`steps.csv`, `parameters.csv`) drop.
pub fn append_durably(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_data()
        })
        .map_err(|e| Error::io("write", path, e))
}

/// Removes the temporaries that writers killed mid-write left in `dir` (this module's
/// `NAME.XXXXXX.tmp`, Burn's checkpoint `NAME.PID-N.tmp`, and `NAME.partial` of earlier sgdlab
/// versions); returns the paths removed. Only for a directory no other process is writing:
/// a run dir whose lock the caller holds.
pub fn remove_stale_temporaries(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("read", dir, e)),
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !is_temporary_name(name) || !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let path = entry.path();
        std::fs::remove_file(&path).map_err(|e| Error::io("remove", &path, e))?;
        removed.push(path);
    }
    removed.sort();
    Ok(removed)
}

/// `NAME.X.tmp` (a file name, then a unique part, then `.tmp`) or `NAME.partial`.
fn is_temporary_name(name: &str) -> bool {
    if let Some(stem) = name.strip_suffix(TEMPORARY_SUFFIX) {
        return stem
            .rsplit_once('.')
            .is_some_and(|(file, unique)| !file.is_empty() && !unique.is_empty());
    }
    name.strip_suffix(".partial")
        .is_some_and(|file| !file.is_empty())
}

/// The operating system's reason, without the path of the temporary that tempfile appends
/// (`... at path "run.json.U9BHHC.tmp"`, `tempfile::error::PathError`): the error names the
/// file being written.
fn plain(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.split_once(" at path ") {
        Some((reason, _)) => reason.to_string(),
        None => text,
    }
}

/// The directory `path` is in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// fsyncs a directory, so that a rename in it is on disk (a no-op where directories cannot
/// be opened as files).
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Writes `text` to `path` for a user's `--out`: an existing file is refused (naming
/// `--force`) unless `overwrite`, the check and the creation being one operation.
pub fn write_new_file(path: &Path, text: &str, overwrite: bool) -> Result<()> {
    if overwrite {
        return std::fs::write(path, text).map_err(|e| Error::io("write", path, e));
    }
    let mut file = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Error::new(format!(
                "{} already exists: pass --force to overwrite it, or choose another --out",
                path.display()
            )));
        }
        Err(e) => return Err(Error::io("create", path, e)),
    };
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(|e| Error::io("write", path, e))
}

/// A file written piece by piece that appears at its path only once complete, and never in
/// place of an existing file: the pieces go to a temporary sibling, which
/// [`NewFile::publish`] links to the path (the check and the creation one operation). A
/// `NewFile` dropped unpublished (an error on the way) removes its temporary file, so a
/// failed command leaves nothing behind.
pub struct NewFile {
    path: PathBuf,
    partial: PathBuf,
    writer: Option<BufWriter<File>>,
}

impl NewFile {
    /// Starts `path`, refusing it now if it exists (`what` names the option that chose it).
    pub fn create(path: &Path, what: &str) -> Result<Self> {
        if path.exists() {
            return Err(already_exists(path, what));
        }
        let mut partial = path.as_os_str().to_owned();
        partial.push(format!(".partial-{}", std::process::id()));
        let partial = PathBuf::from(partial);
        let file = File::create(&partial).map_err(|e| Error::io("create", &partial, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            partial,
            writer: Some(BufWriter::new(file)),
        })
    }

    /// Where the file appears once published.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `bytes`.
    pub fn write(&mut self, bytes: &[u8]) -> Result<()> {
        let writer = self.writer.as_mut().expect("unpublished");
        writer
            .write_all(bytes)
            .map_err(|e| Error::io("write", &self.partial, e))
    }

    /// Puts the complete file at its path; refused if something appeared there meanwhile.
    pub fn publish(mut self, what: &str) -> Result<()> {
        let writer = self.writer.take().expect("published once");
        writer
            .into_inner()
            .map_err(|e| Error::io("write", &self.partial, e.into_error()))?
            .sync_all()
            .map_err(|e| Error::io("write", &self.partial, e))?;
        match std::fs::hard_link(&self.partial, &self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(already_exists(&self.path, what))
            }
            // A file system without hard links: rename, having checked the path is free.
            Err(_) if !self.path.exists() => std::fs::rename(&self.partial, &self.path)
                .map_err(|e| Error::io("write", &self.path, e)),
            Err(e) => Err(Error::io("write", &self.path, e)),
        }
    }
}

impl Drop for NewFile {
    fn drop(&mut self) {
        self.writer.take();
        let _ = std::fs::remove_file(&self.partial);
    }
}

fn already_exists(path: &Path, what: &str) -> Error {
    Error::new(format!(
        "{} already exists: it is never overwritten; choose another {what} or remove it",
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_replaces_the_file_whole_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.csv");
        write_atomically(&path, b"old\n").unwrap();
        write_atomically(&path, b"new\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new\n");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["metrics.csv"]);
        #[cfg(unix)]
        {
            // The umask's mode, not tempfile's 0600: others can read a run as before.
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            let umask_mode = {
                let probe = dir.path().join("probe");
                std::fs::write(&probe, b"").unwrap();
                std::fs::metadata(&probe).unwrap().permissions().mode()
            };
            assert_eq!(mode & 0o777, umask_mode & 0o777);
        }
    }

    #[test]
    fn a_failed_write_keeps_the_old_file_and_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no-such-dir").join("run.json");
        let message = write_atomically(&missing, b"{}").unwrap_err().to_string();
        assert!(message.contains("run.json"), "{message}");
        // The file, not tempfile's temporary.
        assert!(!message.contains(" at path "), "{message}");
    }

    #[test]
    fn stale_temporaries_are_recognized_and_nothing_else() {
        for name in [
            "metrics.csv.a1B2c3.tmp",
            "model-3.bpk.4242-0.tmp",
            "run.json.partial",
        ] {
            assert!(is_temporary_name(name), "{name}");
        }
        for name in [
            "metrics.csv",
            ".tmp",
            "x.tmp",
            "steps.csv",
            ".partial",
            "lock",
        ] {
            assert!(!is_temporary_name(name), "{name}");
        }
        let dir = tempfile::tempdir().unwrap();
        for name in ["config.toml", "config.toml.Xy12ab.tmp", "run.json.partial"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        let removed = remove_stale_temporaries(dir.path()).unwrap();
        assert_eq!(removed.len(), 2, "{removed:?}");
        assert!(dir.path().join("config.toml").exists());
        assert_eq!(
            remove_stale_temporaries(&dir.path().join("absent")).unwrap(),
            Vec::<PathBuf>::new()
        );
    }
}
