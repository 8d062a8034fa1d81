//! From TOML text to a typed config's errors: a syntax error as `file:line:column: message`,
//! and the key path of a type error inside `[optimizer]` or `[schedule]`, which serde's
//! internally tagged enums lose.

use super::{OptimizerConfig, ScheduleConfig};
use crate::Error;

/// `key.path: message` for an error inside `[optimizer]` or `[schedule]`, whose key serde
/// loses: a tagged enum's fields are buffered before the variant is chosen, so a wrong type
/// is reported at the section (`optimizer: invalid type: string "x", expected f64`).
/// Deserializing the chosen variant's own struct again finds the key. `None` when `path` is
/// not such a section or the retry finds nothing more precise.
pub(super) fn tagged_section_error(table: &toml::Table, path: &str) -> Option<String> {
    let mut fields = table.get(path)?.as_table()?.clone();
    let name = fields.remove("name")?;
    let name = name.as_str()?;
    match path {
        "optimizer" => OptimizerConfig::field_error(name, fields),
        "schedule" => ScheduleConfig::field_error(name, fields),
        _ => None,
    }
}

/// `section.key: message` for the first error in `fields` read as a `T`; `None` when they
/// read or serde names no key.
pub(super) fn field_error<T: serde::de::DeserializeOwned>(
    section: &str,
    fields: toml::Table,
) -> Option<String> {
    let error = serde_path_to_error::deserialize::<_, T>(toml::Value::Table(fields)).err()?;
    let key = error.path().to_string();
    (key != ".").then(|| format!("{section}.{key}: {}", error.inner()))
}

/// `file:line:column: message` for a TOML syntax error.
pub(super) fn syntax_error(origin: &str, text: &str, error: &toml::de::Error) -> Error {
    let position = error.span().map(|span| {
        let before = &text[..span.start.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        format!("{line}:{column}: ")
    });
    Error::new(format!(
        "{origin}:{}{}",
        position.unwrap_or_else(|| " ".into()),
        error.message()
    ))
}
