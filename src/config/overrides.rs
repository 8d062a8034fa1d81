//! `--set key.path=value` overrides, applied on the TOML table before it is typed, and the
//! comparison `--resume` makes between two configs.

use super::Config;
use crate::{Result, bail};

/// Applies one `key.path=value` override. The value is read as a TOML value (`0.5`, `true`,
/// `[64, 32]`, `"text"`); anything that is not valid TOML is taken as a bare string, so
/// `--set data.source=digits` works without quotes.
pub fn apply_override(table: &mut toml::Table, assignment: &str) -> Result<()> {
    let Some((key, raw)) = assignment.split_once('=') else {
        bail!("--set {assignment}: expected key.path=value, e.g. optimizer.learning_rate=0.05");
    };
    let key = key.trim();
    let raw = raw.trim();
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        bail!("--set {assignment}: empty key segment in `{key}`");
    }
    let value = format!("value = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("value"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()));

    let (last, parents) = parts.split_last().expect("split yields at least one part");
    let mut current = table;
    for (depth, part) in parents.iter().enumerate() {
        let entry = current
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        current = match entry {
            toml::Value::Table(t) => t,
            _ => bail!(
                "--set {assignment}: `{}` is a value, not a section",
                parts[..=depth].join(".")
            ),
        };
    }
    current.insert(last.to_string(), value);
    Ok(())
}

/// The first key path (in `a.b` form) where two configs differ, if any.
pub fn first_difference(left: &Config, right: &Config) -> Option<String> {
    let left = toml::Value::try_from(left).ok()?;
    let right = toml::Value::try_from(right).ok()?;
    fn walk(prefix: &str, l: &toml::Value, r: &toml::Value) -> Option<String> {
        match (l, r) {
            (toml::Value::Table(lt), toml::Value::Table(rt)) => {
                let mut keys: Vec<&String> = lt.keys().chain(rt.keys()).collect();
                keys.sort();
                keys.dedup();
                keys.into_iter().find_map(|k| {
                    let path = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    match (lt.get(k), rt.get(k)) {
                        (Some(a), Some(b)) => walk(&path, a, b),
                        _ => Some(path),
                    }
                })
            }
            _ => (l != r).then(|| prefix.to_string()),
        }
    }
    walk("", &left, &right)
}
