//! A small, strict CSV reader: header row, numeric cells, one label column.
//!
//! Hand-written rather than a `csv` crate dependency because the format needed is tiny
//! and every error must name `file:line` and the column at fault.

use super::{Dataset, Targets, Task};
use crate::config::MAX_CLASSES;
use crate::{Error, Result, bail};
use std::borrow::Cow;
use std::io::BufRead;
use std::path::Path;

/// How many column or class names an error message lists before abbreviating.
const LISTED_NAMES: usize = 10;
/// How many characters of a bad cell an error message quotes.
const QUOTED_CHARS: usize = 40;

/// Load a user CSV: header row, label column `label`, features = every other column, or
/// only `features` (in that order) when given.
///
/// Classification labels are integers `0..k` (then `classes = max + 1`) or, with
/// `class_names`, exactly one of those names (index = position, `classes = class_names.len()`).
/// Regression labels are finite numbers. Quoted fields (`"..."`, `""` escapes) work within
/// one line; blank lines are skipped; spaces around cells are trimmed.
///
/// Every error is one line `path:line: ...`, lines counted from 1 with the header on line 1.
pub fn load_csv(
    path: &Path,
    label: &str,
    features: Option<&[String]>,
    task: Task,
    class_names: Option<&[String]>,
) -> Result<Dataset> {
    let bytes = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
    let source = path.display().to_string();
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = 1 + valid.iter().filter(|&&b| b == b'\n').count();
            bail!("{source}:{line}: not valid UTF-8 text (is this a CSV file?)");
        }
    };
    parse_csv(&text, &source, label, features, task, class_names)
}

/// [`load_csv`] on text already in memory; `source` names it in error messages.
pub(crate) fn parse_csv(
    text: &str,
    source: &str,
    label: &str,
    features: Option<&[String]>,
    task: Task,
    class_names: Option<&[String]>,
) -> Result<Dataset> {
    let mut records = CsvRecords::new(text.as_bytes(), source);
    let (header_line, header) = records.header()?;

    let label_column = find_column(&header, label, "label", source, header_line)?;
    let feature_columns = choose_features(&header, label_column, features, source, header_line)?;
    let label_parser = LabelParser::new(task, class_names, source)?;

    let dim = feature_columns.len();
    let mut values = Vec::new();
    let mut labels = Vec::new();
    let mut targets = Vec::new();
    while let Some((line, cells)) = records.next_record(header.len())? {
        for &column in &feature_columns {
            let value = parse_number(&cells[column], &header[column])
                .map_err(|why| Error::new(format!("{source}:{line}: {why}")))?;
            values.push(value);
        }
        let cell = &cells[label_column];
        match &label_parser {
            LabelParser::Values => targets.push(
                parse_number(cell, label)
                    .map_err(|why| Error::new(format!("{source}:{line}: {why}")))?,
            ),
            classes => labels.push(
                classes
                    .class_index(cell)
                    .map_err(|why| Error::new(format!("{source}:{line}: {why}")))?,
            ),
        }
    }
    if labels.is_empty() && targets.is_empty() {
        bail!("{source}:{header_line}: no data rows after the header");
    }

    if let Some(&first) = labels.first()
        && labels.iter().all(|&l| l == first)
    {
        let name = match &label_parser {
            LabelParser::Names(names) => names[first as usize].clone(),
            _ => first.to_string(),
        };
        bail!(
            "{source}: label column {} holds one class ({}) in every row; a classifier needs examples of at least two",
            quoted(label),
            quoted(&name)
        );
    }
    let targets = match label_parser {
        LabelParser::Values => Targets::Values(targets),
        LabelParser::Names(names) => Targets::Classes {
            labels,
            classes: names.len(),
        },
        LabelParser::Indices => {
            let classes = labels.iter().max().map_or(0, |&max| max as usize + 1);
            Targets::Classes { labels, classes }
        }
    };
    Ok(Dataset {
        features: values,
        dim,
        targets,
        feature_names: feature_columns.iter().map(|&c| header[c].clone()).collect(),
    })
}

/// A CSV file read one record at a time, as [`load_csv`] reads it: a UTF-8 byte-order mark
/// is skipped, blank lines are skipped, line numbers are physical (1-based, the header on its
/// line, blank lines counted) so they match what an editor shows, and every error is one line
/// `source:line: ...`. Memory stays that of one line, whatever the file's size.
pub struct CsvRecords<R> {
    reader: R,
    source: String,
    /// The number of the last line read.
    line: usize,
    bytes: Vec<u8>,
}

impl<R: BufRead> CsvRecords<R> {
    /// Records from `reader`, named `source` in errors.
    pub fn new(reader: R, source: &str) -> Self {
        Self {
            reader,
            source: source.to_string(),
            line: 0,
            bytes: Vec::new(),
        }
    }

    /// The name errors give the input.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The next non-blank line as text, with its number; `None` at the end of the input.
    fn next_line(&mut self) -> Result<Option<(usize, String)>> {
        loop {
            self.bytes.clear();
            let read = self
                .reader
                .read_until(b'\n', &mut self.bytes)
                .map_err(|e| Error::new(format!("cannot read {}: {e}", self.source)))?;
            if read == 0 {
                return Ok(None);
            }
            self.line += 1;
            let mut bytes = self.bytes.as_slice();
            bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
            bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
            if self.line == 1 {
                bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
            }
            let Ok(text) = std::str::from_utf8(bytes) else {
                bail!(
                    "{}:{}: not valid UTF-8 text (is this a CSV file?)",
                    self.source,
                    self.line
                );
            };
            if !text.trim().is_empty() {
                return Ok(Some((self.line, text.to_string())));
            }
        }
    }

    /// The header row: its line number and the column names (none empty, none twice).
    pub fn header(&mut self) -> Result<(usize, Vec<String>)> {
        let Some((line, text)) = self.next_line()? else {
            bail!(
                "{}:1: empty file (expected a header row of column names)",
                self.source
            );
        };
        let header = split_fields(&text, &self.source, line)?;
        check_header(&header, &self.source, line)?;
        Ok((line, header))
    }

    /// The next record after the header, checked to have `fields` cells: its line number and
    /// its cells; `None` at the end of the input.
    pub fn next_record(&mut self, fields: usize) -> Result<Option<(usize, Vec<String>)>> {
        let Some((line, text)) = self.next_line()? else {
            return Ok(None);
        };
        let cells = split_fields(&text, &self.source, line)?;
        if cells.len() != fields {
            bail!(
                "{}:{line}: expected {fields} fields, found {}",
                self.source,
                cells.len()
            );
        }
        Ok(Some((line, cells)))
    }
}

/// `text` as one CSV field: quoted (with `""` for `"`) when it holds a comma, a quote, a line
/// break or surrounding spaces, which [`CsvRecords`] would otherwise read differently.
pub fn csv_field(text: &str) -> Cow<'_, str> {
    let plain = !text.contains([',', '"', '\n', '\r']) && text.trim() == text;
    if plain {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(format!("\"{}\"", text.replace('"', "\"\"")))
    }
}

/// Split one line into trimmed cells; `"..."` quotes a cell, `""` inside it is one `"`.
fn split_fields(line: &str, source: &str, line_no: usize) -> Result<Vec<String>> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.next_if(|c| matches!(c, ' ' | '\t')).is_some() {}
        let mut field = String::new();
        if chars.next_if_eq(&'"').is_some() {
            loop {
                match chars.next() {
                    None => bail!(
                        "{source}:{line_no}: unterminated quoted field {} (fields cannot span lines)",
                        fields.len() + 1
                    ),
                    Some('"') if chars.next_if_eq(&'"').is_some() => field.push('"'),
                    Some('"') => break,
                    Some(c) => field.push(c),
                }
            }
            while chars.next_if(|c| matches!(c, ' ' | '\t')).is_some() {}
            fields.push(field);
            match chars.next() {
                None => return Ok(fields),
                Some(',') => {}
                Some(c) => bail!(
                    "{source}:{line_no}: unexpected {c:?} after the closing quote of field {}",
                    fields.len()
                ),
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field.trim_end().to_string());
                        return Ok(fields);
                    }
                    Some(',') => break,
                    Some(c) => field.push(c),
                }
            }
            fields.push(field.trim_end().to_string());
        }
    }
}

fn check_header(header: &[String], source: &str, line: usize) -> Result<()> {
    for (i, name) in header.iter().enumerate() {
        if name.is_empty() {
            bail!("{source}:{line}: column {} has an empty name", i + 1);
        }
        if let Some(j) = header[..i].iter().position(|earlier| earlier == name) {
            bail!(
                "{source}:{line}: duplicate column name {} (columns {} and {})",
                quoted(name),
                j + 1,
                i + 1
            );
        }
    }
    Ok(())
}

pub(super) fn find_column(
    header: &[String],
    name: &str,
    role: &str,
    source: &str,
    line: usize,
) -> Result<usize> {
    header.iter().position(|h| h == name).ok_or_else(|| {
        Error::new(format!(
            "{source}:{line}: {role} column {} not found; columns are: {}",
            quoted(name),
            list_names(header)
        ))
    })
}

fn choose_features(
    header: &[String],
    label_column: usize,
    features: Option<&[String]>,
    source: &str,
    line: usize,
) -> Result<Vec<usize>> {
    let label = &header[label_column];
    let columns: Vec<usize> = match features {
        None => (0..header.len()).filter(|&c| c != label_column).collect(),
        Some(names) => {
            let mut columns = Vec::with_capacity(names.len());
            for name in names {
                let column = find_column(header, name, "feature", source, line)?;
                if column == label_column {
                    bail!(
                        "{source}:{line}: feature column {} is also the label column",
                        quoted(name)
                    );
                }
                if columns.contains(&column) {
                    bail!(
                        "{source}:{line}: feature column {} is listed twice",
                        quoted(name)
                    );
                }
                columns.push(column);
            }
            columns
        }
    };
    if columns.is_empty() {
        bail!(
            "{source}:{line}: no feature columns besides the label {}",
            quoted(label)
        );
    }
    Ok(columns)
}

/// How label cells become targets.
pub(super) enum LabelParser<'a> {
    /// Regression: any finite number.
    Values,
    /// Classification by integer index `0..k`.
    Indices,
    /// Classification by name; the index is the position in the list.
    Names(&'a [String]),
}

impl<'a> LabelParser<'a> {
    pub(super) fn new(task: Task, class_names: Option<&'a [String]>, source: &str) -> Result<Self> {
        match (task, class_names) {
            (Task::Regression, _) => Ok(Self::Values),
            (Task::Classification, None) => Ok(Self::Indices),
            (Task::Classification, Some(names)) => {
                if names.is_empty() {
                    bail!("{source}: data.classes is empty");
                }
                for (i, name) in names.iter().enumerate() {
                    if names[..i].contains(name) {
                        bail!("{source}: data.classes lists {} twice", quoted(name));
                    }
                }
                Ok(Self::Names(names))
            }
        }
    }

    pub(super) fn class_index(&self, cell: &str) -> std::result::Result<u32, String> {
        let cell = cell.trim();
        match self {
            Self::Values => unreachable!("regression labels are parsed as numbers"),
            Self::Indices => match cell.parse::<u32>() {
                // A label is an output width: a stray large number must not size the model.
                Ok(index) if index as usize >= MAX_CLASSES => Err(format!(
                    "label {index} is not a class index below {MAX_CLASSES}, the most classes allowed"
                )),
                Ok(index) => Ok(index),
                Err(_) => Err(format!(
                    "unknown label {} (expected an integer class index 0, 1, 2, ... or data.classes)",
                    quoted(cell)
                )),
            },
            Self::Names(names) => match names.iter().position(|name| name == cell) {
                Some(i) => Ok(i as u32),
                None => Err(format!(
                    "unknown label {} (expected one of data.classes: {})",
                    quoted(cell),
                    list_names(names)
                )),
            },
        }
    }
}

/// A finite `f32`, or why not (without location; the caller adds `path:line`).
pub(super) fn parse_number(cell: &str, column: &str) -> std::result::Result<f32, String> {
    let cell = cell.trim();
    if cell.is_empty() {
        return Err(format!("empty cell in column {}", quoted(column)));
    }
    // Parse straight to f32 (correctly rounded), not via f64, which could round twice.
    match cell.parse::<f32>() {
        Ok(value) if value.is_finite() => Ok(value),
        Ok(_) if cell.parse::<f64>().is_ok_and(f64::is_finite) => Err(format!(
            "value {} in column {} is beyond the f32 range",
            quoted(cell),
            quoted(column)
        )),
        Ok(_) => Err(format!(
            "NaN or infinite cell {} in column {}",
            quoted(cell),
            quoted(column)
        )),
        Err(_) => Err(format!(
            "non-numeric cell {} in column {}",
            quoted(cell),
            quoted(column)
        )),
    }
}

/// `"text"`, escaped so the message stays on one line, abbreviated when long.
pub(super) fn quoted(text: &str) -> String {
    if text.chars().count() > QUOTED_CHARS {
        let head: String = text.chars().take(QUOTED_CHARS).collect();
        format!("{head:?}...")
    } else {
        format!("{text:?}")
    }
}

/// `a, b, c, ... (N more)`.
pub(super) fn list_names(names: &[String]) -> String {
    let shown: Vec<&str> = names
        .iter()
        .take(LISTED_NAMES)
        .map(String::as_str)
        .collect();
    let mut list = shown.join(", ");
    if names.len() > LISTED_NAMES {
        list.push_str(&format!(", ... ({} more)", names.len() - LISTED_NAMES));
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// Write `content` to `name` in a fresh temp dir; keep the dir alive with the path.
    fn write(name: &str, content: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        (dir, path)
    }

    fn load(content: &str) -> Result<Dataset> {
        load_with(content, "y", None, Task::Classification, None)
    }

    fn load_with(
        content: &str,
        label: &str,
        features: Option<&[String]>,
        task: Task,
        class_names: Option<&[String]>,
    ) -> Result<Dataset> {
        let (_dir, path) = write("points.csv", content.as_bytes());
        load_csv(&path, label, features, task, class_names)
    }

    /// The error of loading `content`, checked to be one line naming `points.csv:line:`.
    fn error_at(result: Result<Dataset>, line: usize) -> String {
        let message = result.expect_err("expected an error").message().to_string();
        assert!(
            message.contains(&format!("points.csv:{line}: ")),
            "no points.csv:{line}: in {message:?}"
        );
        assert!(!message.contains('\n'));
        message
    }

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn good_classification_file() {
        let data =
            load("\u{feff}a, y ,\"b, quoted\"\r\n1.5,0,2\r\n\r\n  -3e2 , 2 ,\" 4 \"\n").unwrap();
        assert_eq!(data.dim, 2);
        assert_eq!(data.feature_names, strings(&["a", "b, quoted"]));
        assert_eq!(data.features, vec![1.5, 2.0, -300.0, 4.0]);
        assert_eq!(
            data.targets,
            Targets::Classes {
                labels: vec![0, 2],
                classes: 3
            }
        );
    }

    #[test]
    fn selected_features_in_given_order() {
        let features = strings(&["c", "a"]);
        let data = load_with(
            "a,b,c,y\n1,2,3,0\n4,5,6,1\n",
            "y",
            Some(&features),
            Task::Classification,
            None,
        )
        .unwrap();
        assert_eq!(data.feature_names, features);
        assert_eq!(data.features, vec![3.0, 1.0, 6.0, 4.0]);
    }

    #[test]
    fn class_names_and_regression() {
        let names = strings(&["cat", "dog", "eel"]);
        let data = load_with(
            "x,kind\n1,dog\n2,\"cat\"\n",
            "kind",
            None,
            Task::Classification,
            Some(&names),
        )
        .unwrap();
        assert_eq!(
            data.targets,
            Targets::Classes {
                labels: vec![1, 0],
                classes: 3
            }
        );
        let data = load_with("x,y\n1,0.25\n2,-7\n", "y", None, Task::Regression, None).unwrap();
        assert_eq!(data.targets, Targets::Values(vec![0.25, -7.0]));
        assert_eq!(data.classes(), None);
    }

    #[test]
    fn empty_file_and_blank_only() {
        error_at(load(""), 1);
        let message = error_at(load("\n  \n"), 1);
        assert!(message.contains("empty file"), "{message}");
    }

    #[test]
    fn header_only() {
        let message = error_at(load("x,y\n\n"), 1);
        assert!(message.contains("no data rows"), "{message}");
    }

    #[test]
    fn duplicate_and_empty_header_names() {
        let message = error_at(load("x,y,x\n1,0,2\n"), 1);
        assert!(message.contains("duplicate column name \"x\""), "{message}");
        let message = error_at(load("x,,y\n1,2,0\n"), 1);
        assert!(message.contains("column 2 has an empty name"), "{message}");
    }

    #[test]
    fn missing_label_lists_columns_truncated() {
        let header: Vec<String> = (0..15).map(|i| format!("c{i}")).collect();
        let row = vec!["0"; 15].join(",");
        let message = error_at(load(&format!("{}\n{row}\n", header.join(","))), 1);
        assert!(
            message.contains("label column \"y\" not found"),
            "{message}"
        );
        assert!(message.contains("c0, c1,"), "{message}");
        assert!(message.contains("(5 more)"), "{message}");
        assert!(!message.contains("c14"), "{message}");
    }

    #[test]
    fn bad_feature_selection() {
        let unknown = strings(&["a", "nope"]);
        let message = error_at(
            load_with(
                "a,y\n1,0\n",
                "y",
                Some(&unknown),
                Task::Classification,
                None,
            ),
            1,
        );
        assert!(
            message.contains("feature column \"nope\" not found"),
            "{message}"
        );
        let label_as_feature = strings(&["y"]);
        let message = error_at(
            load_with(
                "a,y\n1,0\n",
                "y",
                Some(&label_as_feature),
                Task::Classification,
                None,
            ),
            1,
        );
        assert!(message.contains("also the label"), "{message}");
        let message = error_at(load("y\n0\n"), 1);
        assert!(message.contains("no feature columns"), "{message}");
    }

    #[test]
    fn ragged_row() {
        let message = error_at(load("a,b,y\n1,2,0\n\n1,2\n"), 4);
        assert!(message.contains("expected 3 fields, found 2"), "{message}");
    }

    #[test]
    fn non_numeric_cell_names_column() {
        let message = error_at(load("radius,y\n1,0\n2,1\nabc,0\n"), 4);
        assert!(
            message.ends_with("points.csv:4: non-numeric cell \"abc\" in column \"radius\""),
            "{message}"
        );
        let message = error_at(load("radius,y\n,0\n"), 2);
        assert!(
            message.contains("empty cell in column \"radius\""),
            "{message}"
        );
    }

    #[test]
    fn nan_inf_and_overflow_cells() {
        for cell in ["NaN", "inf", "-Infinity"] {
            let message = error_at(load(&format!("x,y\n1,0\n{cell},1\n")), 3);
            assert!(message.contains("NaN or infinite"), "{message}");
            assert!(message.contains("column \"x\""), "{message}");
        }
        let message = error_at(load("x,y\n1e50,0\n"), 2);
        assert!(message.contains("beyond the f32 range"), "{message}");
        let message = error_at(
            load_with("x,y\n1,nan\n", "y", None, Task::Regression, None),
            2,
        );
        assert!(message.contains("column \"y\""), "{message}");
    }

    #[test]
    fn unknown_labels() {
        for label in ["-1", "1.5", "cat"] {
            let message = error_at(load(&format!("x,y\n1,0\n2,{label}\n")), 3);
            assert!(message.contains("unknown label"), "{message}");
        }
        let names = strings(&["benign", "malignant"]);
        let message = error_at(
            load_with(
                "x,y\n1,benign\n2,Benign\n",
                "y",
                None,
                Task::Classification,
                Some(&names),
            ),
            3,
        );
        assert!(message.contains("unknown label \"Benign\""), "{message}");
        assert!(message.contains("benign, malignant"), "{message}");
    }

    #[test]
    fn bad_class_names_list() {
        let twice = strings(&["a", "a"]);
        let result = load_with("x,y\n1,a\n", "y", None, Task::Classification, Some(&twice));
        let message = result.unwrap_err().message().to_string();
        assert!(
            message.contains("points.csv: data.classes lists \"a\" twice"),
            "{message}"
        );
    }

    #[test]
    fn malformed_quotes() {
        let message = error_at(load("x,y\n\"1,0\n"), 2);
        assert!(message.contains("unterminated quoted field"), "{message}");
        let message = error_at(load("x,y\n\"1\"2,0\n"), 2);
        assert!(message.contains("after the closing quote"), "{message}");
        let data = load("x,y\n\"1\"\"\",0\n");
        let message = error_at(data, 2);
        assert!(message.contains(r#""1\"""#), "{message}");
    }

    #[test]
    fn a_single_class_is_refused() {
        let message = load("x,y\n1,0\n2,0\n").unwrap_err().to_string();
        assert!(
            message.contains("points.csv: label column \"y\" holds one class (\"0\")"),
            "{message}"
        );
        let names = strings(&["a", "b"]);
        let message = load_with("x,y\n1,b\n", "y", None, Task::Classification, Some(&names))
            .unwrap_err()
            .to_string();
        assert!(message.contains("one class (\"b\")"), "{message}");
        // Regression has no classes to count.
        assert!(load_with("x,y\n1,0\n2,0\n", "y", None, Task::Regression, None).is_ok());
    }

    #[test]
    fn huge_integer_labels_do_not_size_the_model() {
        let message = error_at(load("x,y\n1,0\n2,4294967295\n"), 3);
        assert!(message.contains("label 4294967295"), "{message}");
        assert!(message.contains(&MAX_CLASSES.to_string()), "{message}");
    }

    #[test]
    fn missing_file_and_invalid_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent.csv");
        let message = load_csv(&path, "y", None, Task::Classification, None)
            .unwrap_err()
            .message()
            .to_string();
        assert!(
            message.contains("cannot read") && message.contains("absent.csv"),
            "{message}"
        );
        let (_dir, path) = write("points.csv", b"x,y\n1,0\n\xff,1\n");
        error_at(load_csv(&path, "y", None, Task::Classification, None), 3);
    }
}
