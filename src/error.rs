//! One error type for the whole crate: a single line, naming the file, key or line at fault.

use std::fmt;

/// A user-facing error. Its `Display` is one line, printed as `error: <message>` by the CLI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
    kind: ErrorKind,
}

/// What kind of failure, for the CLI's exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ErrorKind {
    /// Bad input or an I/O failure (exit status 1).
    #[default]
    Input,
    /// Training stopped because the loss stopped being finite (exit status 3).
    Diverged,
}

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        let message: String = message.into();
        // Keep the promise of one line whatever the source (serde, io, toml) said.
        let message = message
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        Self {
            message,
            kind: ErrorKind::Input,
        }
    }

    /// Training diverged: the loss or gradient stopped being finite.
    pub fn diverged(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Diverged,
            ..Self::new(message)
        }
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// An I/O error about `path`, e.g. `cannot read data/x.csv: No such file or directory`.
    pub fn io(action: &str, path: &std::path::Path, error: std::io::Error) -> Self {
        Self::new(format!("cannot {action} {}: {error}", path.display()))
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// `bail!("...", args)` returns an [`Error`] from the current function.
#[macro_export]
macro_rules! bail {
    ($($arg:tt)*) => {
        return Err($crate::error::Error::new(format!($($arg)*)))
    };
}
