//! Writing files: every file sgdlab writes goes through one of these two helpers, so each is
//! written whole or not at all ([`write_atomically`]) or never replaces a user's file
//! ([`write_new_file`]).

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
