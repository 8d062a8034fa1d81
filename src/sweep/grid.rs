//! `--grid KEY=V1,V2,...`: a config key and the values a sweep gives it, each read as `--set`
//! reads a value ([`apply_override`]), and the filesystem-safe run names made of them.

use crate::config::apply_override;
use crate::{Result, bail};

/// One `--grid`: a key path and its values, in the order given.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub key: String,
    pub values: Vec<GridValue>,
}

/// A value of a grid: as typed, and as the config reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct GridValue {
    /// The text after `=` between commas, trimmed: what `--set KEY=TEXT` would be given.
    pub text: String,
    /// What `--set` makes of it: a TOML value, or a bare string when it is not one.
    pub value: toml::Value,
}

impl Grid {
    /// Parses `KEY=V1,V2,...`. Commas inside brackets, braces or quotes belong to the value
    /// (`model.hidden=[64],[128,64]` is two values). Errors name the argument.
    pub fn parse(argument: &str) -> Result<Grid> {
        let Some((key, list)) = argument.split_once('=') else {
            bail!(
                "--grid {argument}: expected KEY=V1,V2,..., e.g. optimizer.learning_rate=0.01,0.1"
            );
        };
        let key = key.trim();
        if key.is_empty() || key.split('.').any(|part| part.trim().is_empty()) {
            bail!("--grid {argument}: empty key segment in `{key}`");
        }
        let mut values: Vec<GridValue> = Vec::new();
        for text in split_values(list)
            .map_err(|what| crate::Error::new(format!("--grid {argument}: {what}")))?
        {
            let value = read_value(key, &text)?;
            if let Some(earlier) = values.iter().find(|v| v.value == value) {
                bail!(
                    "--grid {key}: the value {text} is given twice (as {} before)",
                    earlier.text
                );
            }
            values.push(GridValue { text, value });
        }
        Ok(Grid {
            key: key.to_string(),
            values,
        })
    }

    /// Whether every value is a number (the figures draw the loss against such a key).
    pub fn is_numeric(&self) -> bool {
        self.values
            .iter()
            .all(|v| matches!(v.value, toml::Value::Integer(_) | toml::Value::Float(_)))
    }
}

impl GridValue {
    /// The value as a number, for the figures' x axis.
    pub fn number(&self) -> Option<f64> {
        match self.value {
            toml::Value::Integer(i) => Some(i as f64),
            toml::Value::Float(x) => Some(x),
            _ => None,
        }
    }
}

/// The value `--set key=text` gives `key`, read by the override code itself.
fn read_value(key: &str, text: &str) -> Result<toml::Value> {
    let mut table = toml::Table::new();
    apply_override(&mut table, &format!("value={text}"))
        .map_err(|e| crate::Error::new(format!("--grid {key}={text}: {e}")))?;
    Ok(table.remove("value").expect("the override sets `value`"))
}

/// Splits `list` at its top-level commas: not inside `[...]`, `{...}`, `"..."` or `'...'`.
/// Each value is trimmed; an empty one, or brackets and quotes left open, is an error.
pub fn split_values(list: &str) -> std::result::Result<Vec<String>, String> {
    let mut values = Vec::new();
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut start = 0;
    for (at, c) in list.char_indices() {
        if let Some(open) = quote {
            match c {
                _ if escaped => escaped = false,
                '\\' if open == '"' => escaped = true,
                _ if c == open => quote = None,
                _ => {}
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '[' | '{' => depth += 1,
            ']' | '}' => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| format!("`{c}` closes nothing"))?;
            }
            ',' if depth == 0 => {
                values.push(list[start..at].trim().to_string());
                start = at + 1;
            }
            _ => {}
        }
    }
    if let Some(open) = quote {
        return Err(format!("the quote {open} is not closed"));
    }
    if depth > 0 {
        return Err("a bracket is not closed".into());
    }
    values.push(list[start..].trim().to_string());
    if values.iter().any(String::is_empty) {
        return Err("an empty value (two commas in a row, or a comma at an end)".into());
    }
    Ok(values)
}

/// Run names longer than this are cut and end in a hash of the whole name instead (a file
/// name may have 255 bytes).
const MAX_NAME: usize = 200;

/// `key=value,key=value` as a directory name: letters, digits and `. - + _ = ,` are kept,
/// brackets, quotes and spaces are dropped, a comma inside a value becomes `_` (so
/// `model.hidden=[128, 64]` is `model.hidden=128_64`) and anything else `_`.
pub fn run_name(assignments: &[(&str, &str)]) -> String {
    let parts: Vec<String> = assignments
        .iter()
        .map(|(key, text)| format!("{}={}", safe(key), safe(text)))
        .collect();
    let name = parts.join(",");
    if name.len() <= MAX_NAME {
        return name;
    }
    let mut cut = MAX_NAME - 17;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}-{:016x}", &name[..cut], fnv1a(name.as_bytes()))
}

fn safe(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '[' | ']' | '{' | '}' | '"' | '\'' | ' '))
        .map(|c| match c {
            c if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '_' | '=') => c,
            _ => '_',
        })
        .collect()
}

/// FNV-1a, 64 bits: a stable hash (the standard library's may change between releases).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commas_inside_brackets_and_quotes_belong_to_the_value() {
        assert_eq!(split_values("[64],[128,64]").unwrap(), ["[64]", "[128,64]"]);
        assert_eq!(
            split_values(r#" "a,b" , 'c,d',{x = 1, y = 2}, "q\"," "#).unwrap(),
            [r#""a,b""#, "'c,d'", "{x = 1, y = 2}", r#""q\",""#]
        );
        assert_eq!(split_values("0.01,0.1,1").unwrap(), ["0.01", "0.1", "1"]);
        for bad in ["0.1,", ",0.1", "0.1,,1", "[64", "64]", "\"open", ""] {
            assert!(split_values(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn values_are_read_as_set_reads_them() {
        let grid = Grid::parse("model.hidden=[64],[128, 64]").unwrap();
        assert_eq!(grid.key, "model.hidden");
        assert_eq!(grid.values[1].text, "[128, 64]");
        let widths: Vec<i64> = grid.values[1]
            .value
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_integer().unwrap())
            .collect();
        assert_eq!(widths, [128, 64]);
        assert!(!grid.is_numeric());

        let grid = Grid::parse("optimizer.learning_rate=1e-2, 0.1,1").unwrap();
        assert!(grid.is_numeric());
        let numbers: Vec<f64> = grid.values.iter().filter_map(GridValue::number).collect();
        assert_eq!(numbers, [0.01, 0.1, 1.0]);

        // A bare word is a string, as with --set.
        let grid = Grid::parse("schedule.name=constant,\"cosine\"").unwrap();
        assert_eq!(grid.values[0].value.as_str(), Some("constant"));
        assert_eq!(grid.values[1].value.as_str(), Some("cosine"));
    }

    #[test]
    fn bad_grids_name_the_argument() {
        let message = |arg: &str| Grid::parse(arg).unwrap_err().to_string();
        assert!(message("optimizer.learning_rate").contains("expected KEY=V1,V2"));
        assert!(message("optimizer..x=1").contains("empty key segment"));
        assert!(message("a=1,,2").contains("--grid a=1,,2: an empty value"));
        let twice = message("optimizer.learning_rate=0.1,0.10");
        assert!(
            twice.contains("optimizer.learning_rate") && twice.contains("0.10 is given twice"),
            "{twice}"
        );
    }

    #[test]
    fn run_names_are_filesystem_safe() {
        assert_eq!(
            run_name(&[
                ("optimizer.learning_rate", "0.1"),
                ("training.batch_size", "10")
            ]),
            "optimizer.learning_rate=0.1,training.batch_size=10"
        );
        assert_eq!(
            run_name(&[("model.hidden", "[128, 64]"), ("data.path", "\"a/b c\"")]),
            "model.hidden=128_64,data.path=a_bc"
        );
        let long = "x".repeat(300);
        let name = run_name(&[("data.path", &long)]);
        assert_eq!(name.len(), MAX_NAME);
        assert_ne!(name, run_name(&[("data.path", &format!("{long}y"))]));
    }
}
