//! Writing files: every file sgdlab writes goes through one of these helpers, so each is
//! written whole or not at all ([`write_atomically`]) or never replaces a user's file
//! ([`write_new_file`], and [`NewFile`] for output written as it is computed).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Writes `bytes` to `path` through a temporary sibling renamed into place: a reader, or a
/// run killed mid-write, sees the old file or the new one, never half of one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    std::fs::write(&partial, bytes).map_err(|e| Error::io("write", &partial, e))?;
    std::fs::rename(&partial, path).map_err(|e| Error::io("write", path, e))
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
