//! New examples for a trained run, read in batches so that a file of any length takes the
//! memory of one batch: a CSV whose feature columns are found by the run's feature names (any
//! other column ignored, or copied through on request), or MNIST images from an IDX file;
//! with their labels, for evaluation. Every error is one line naming the file, and in a CSV
//! the line and the column.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use super::csv::{CsvRecords, LabelParser, find_column, parse_number, quoted};
use super::idx::IdxReader;
use super::mnist::{CLASSES, SIDE, check_image_dims, find, pixel_features};
use super::{Targets, Task};
use crate::config::DataSource;
use crate::{Error, Result, bail};

/// The columns a run reads from a CSV.
#[derive(Debug, Clone, Copy)]
pub struct InputColumns<'a> {
    /// The run's feature columns, in the order it was trained on.
    pub features: &'a [String],
    /// For evaluation: the label column and what its cells may hold.
    pub label: Option<Label<'a>>,
    /// The column naming each row in the output (default: the row number).
    pub id: Option<&'a str>,
    /// Columns copied to the output as they are.
    pub pass_through: &'a [String],
}

/// A label column and the targets it holds.
#[derive(Debug, Clone, Copy)]
pub enum Label<'a> {
    /// Class indices `0..classes`, or with `names` one of those names.
    Classes {
        column: &'a str,
        classes: usize,
        names: Option<&'a [String]>,
    },
    /// Real values.
    Values { column: &'a str },
}

/// Consecutive examples of an input.
#[derive(Debug, Clone, PartialEq)]
pub struct InputBatch {
    /// Row-major, one row per example.
    pub features: Vec<f32>,
    /// Each example's id: the `id` column's cell, or its row number (0-based).
    pub ids: Vec<String>,
    /// Each example's pass-through cells, in [`InputColumns::pass_through`] order.
    pub passed: Vec<Vec<String>>,
    /// The labels, when asked for.
    pub targets: Option<Targets>,
}

impl InputBatch {
    /// The number of examples.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the batch holds no example.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// A file of examples for a trained run, read batch by batch.
pub enum Input {
    Csv(CsvInput),
    Images(ImageInput),
}

impl Input {
    /// The input of a run trained on data from `source`: for MNIST runs a folder or an IDX
    /// images file ([`Input::images`]; a `.csv` file is read as a CSV of the pixel columns),
    /// for every other run a CSV ([`Input::csv`]).
    pub fn open(
        source: DataSource,
        path: &Path,
        columns: &InputColumns,
        labelled: bool,
    ) -> Result<Self> {
        let csv = path.extension().is_some_and(|ext| ext == "csv");
        if source == DataSource::Mnist && !csv {
            if columns.id.is_some() || !columns.pass_through.is_empty() {
                bail!(
                    "{}: --id and --pass-through name CSV columns; IDX images have none",
                    path.display()
                );
            }
            return Self::images(path, labelled);
        }
        if path.is_dir() {
            bail!(
                "{}: is a folder; expected a CSV file with a header row",
                path.display()
            );
        }
        Self::csv(path, columns)
    }

    /// The CSV at `path`, its header checked for every column `columns` names.
    pub fn csv(path: &Path, columns: &InputColumns) -> Result<Self> {
        CsvInput::open(path, columns).map(Input::Csv)
    }

    /// MNIST images: an IDX images file, or a folder holding `t10k-images-idx3-ubyte` (else
    /// `train-images-idx3-ubyte`), raw or gzipped; with `labelled`, the labels file beside it
    /// (`images` → `labels`, `idx3` → `idx1` in the name).
    pub fn images(path: &Path, labelled: bool) -> Result<Self> {
        ImageInput::open(path, labelled).map(Input::Images)
    }

    /// Up to `rows` more examples; `None` after the last.
    pub fn next_batch(&mut self, rows: usize) -> Result<Option<InputBatch>> {
        match self {
            Input::Csv(input) => input.next_batch(rows),
            Input::Images(input) => input.next_batch(rows),
        }
    }

    /// The file read (for a folder of IDX files, the images file in it).
    pub fn path(&self) -> &Path {
        match self {
            Input::Csv(input) => &input.path,
            Input::Images(input) => &input.images_path,
        }
    }
}

/// A CSV read a batch at a time.
pub struct CsvInput {
    path: PathBuf,
    records: CsvRecords<BufReader<File>>,
    header: Vec<String>,
    header_line: usize,
    features: Vec<usize>,
    id: Option<usize>,
    pass_through: Vec<usize>,
    label: Option<(usize, LabelKind)>,
    rows_read: usize,
}

enum LabelKind {
    Classes {
        classes: usize,
        names: Option<Vec<String>>,
    },
    Values,
}

impl CsvInput {
    fn open(path: &Path, columns: &InputColumns) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io("read", path, e))?;
        let source = path.display().to_string();
        let mut records = CsvRecords::new(BufReader::new(file), &source);
        let (line, header) = records.header()?;
        let column = |name: &str, role: &str| find_column(&header, name, role, &source, line);
        let features = columns
            .features
            .iter()
            .map(|name| column(name, "feature"))
            .collect::<Result<Vec<_>>>()?;
        let id = columns.id.map(|name| column(name, "id")).transpose()?;
        let pass_through = columns
            .pass_through
            .iter()
            .map(|name| column(name, "pass-through"))
            .collect::<Result<Vec<_>>>()?;
        let label = match columns.label {
            None => None,
            Some(Label::Classes {
                column: name,
                classes,
                names,
            }) => Some((
                column(name, "label")?,
                LabelKind::Classes {
                    classes,
                    names: names.map(<[String]>::to_vec),
                },
            )),
            Some(Label::Values { column: name }) => {
                Some((column(name, "label")?, LabelKind::Values))
            }
        };
        if let Some((label, _)) = &label
            && let Some(feature) = features.iter().position(|c| c == label)
        {
            bail!(
                "{source}:{line}: the label column {} is also the run's feature {}",
                quoted(&header[*label]),
                feature + 1
            );
        }
        Ok(Self {
            path: path.to_path_buf(),
            records,
            header,
            header_line: line,
            features,
            id,
            pass_through,
            label,
            rows_read: 0,
        })
    }

    fn next_batch(&mut self, rows: usize) -> Result<Option<InputBatch>> {
        let mut batch = InputBatch {
            features: Vec::with_capacity(rows * self.features.len()),
            ids: Vec::with_capacity(rows),
            passed: Vec::with_capacity(if self.pass_through.is_empty() {
                0
            } else {
                rows
            }),
            targets: None,
        };
        let mut labels = Vec::new();
        let mut values = Vec::new();
        let source = self.records.source().to_string();
        let source = source.as_str();
        let located =
            |line: usize| move |why: String| Error::new(format!("{source}:{line}: {why}"));
        let parser = match &self.label {
            Some((_, LabelKind::Classes { names, .. })) => Some(LabelParser::new(
                Task::Classification,
                names.as_deref(),
                source,
            )?),
            _ => None,
        };
        while batch.len() < rows {
            let Some((line, cells)) = self.records.next_record(self.header.len())? else {
                break;
            };
            for &column in &self.features {
                let value =
                    parse_number(&cells[column], &self.header[column]).map_err(located(line))?;
                batch.features.push(value);
            }
            match &self.label {
                Some((column, LabelKind::Values)) => values.push(
                    parse_number(&cells[*column], &self.header[*column]).map_err(located(line))?,
                ),
                Some((column, LabelKind::Classes { classes, .. })) => {
                    let parser = parser.as_ref().expect("a class label has its parser");
                    let index = parser.class_index(&cells[*column]).map_err(located(line))?;
                    if index as usize >= *classes {
                        return Err(located(line)(format!(
                            "label {index} in column {} is not one of the run's {classes} classes (0 to {})",
                            quoted(&self.header[*column]),
                            classes - 1
                        )));
                    }
                    labels.push(index);
                }
                None => {}
            }
            batch.ids.push(match self.id {
                Some(column) => cells[column].clone(),
                None => self.rows_read.to_string(),
            });
            if !self.pass_through.is_empty() {
                batch.passed.push(
                    self.pass_through
                        .iter()
                        .map(|&c| cells[c].clone())
                        .collect(),
                );
            }
            self.rows_read += 1;
        }
        if self.rows_read == 0 {
            bail!(
                "{}:{}: no data rows after the header",
                self.records.source(),
                self.header_line
            );
        }
        batch.targets = match &self.label {
            Some((_, LabelKind::Values)) => Some(Targets::Values(values)),
            Some((_, LabelKind::Classes { classes, .. })) => Some(Targets::Classes {
                labels,
                classes: *classes,
            }),
            None => None,
        };
        Ok((!batch.is_empty()).then_some(batch))
    }
}

/// MNIST images (and labels) read a batch at a time.
pub struct ImageInput {
    images_path: PathBuf,
    images: IdxReader,
    labels: Option<(PathBuf, IdxReader)>,
    rows_read: usize,
}

impl ImageInput {
    fn open(path: &Path, labelled: bool) -> Result<Self> {
        let (images_path, labels_path) = if path.is_dir() {
            let (images, labels) = ["t10k", "train"]
                .into_iter()
                .find_map(|set| {
                    find(path, &format!("{set}-images-idx3-ubyte"))
                        .map(|images| (images, find(path, &format!("{set}-labels-idx1-ubyte"))))
                })
                .ok_or_else(|| {
                    Error::new(format!(
                        "{}: no MNIST images file in this folder (t10k-images-idx3-ubyte or train-images-idx3-ubyte, raw or .gz)",
                        path.display()
                    ))
                })?;
            let labels = match labels {
                Some(labels) => Some(labels),
                None if labelled => bail!(
                    "{}: no labels file beside it (expected {})",
                    images.display(),
                    labels_name(&images).display()
                ),
                None => None,
            };
            (images, labels)
        } else {
            let labels = labelled.then(|| labels_name(path));
            if let Some(labels) = &labels
                && !labels.is_file()
            {
                bail!(
                    "{}: no labels file beside it (expected {})",
                    path.display(),
                    labels.display()
                );
            }
            (path.to_path_buf(), labels)
        };
        let images = IdxReader::open(&images_path)?;
        check_image_dims(&images.dims, &images_path)?;
        if images.is_empty() {
            bail!("{}: holds no images", images_path.display());
        }
        let labels = match labels_path.filter(|_| labelled) {
            None => None,
            Some(labels_path) => {
                let labels = IdxReader::open(&labels_path)?;
                if labels.dims.len() != 1 {
                    bail!(
                        "{}: expected MNIST labels with dims [n], found {:?}",
                        labels_path.display(),
                        labels.dims
                    );
                }
                if labels.len() != images.len() {
                    bail!(
                        "MNIST count mismatch: {} has {} images but {} has {} labels",
                        images_path.display(),
                        images.len(),
                        labels_path.display(),
                        labels.len()
                    );
                }
                Some((labels_path, labels))
            }
        };
        Ok(Self {
            images_path,
            images,
            labels,
            rows_read: 0,
        })
    }

    fn next_batch(&mut self, rows: usize) -> Result<Option<InputBatch>> {
        let pixels = self.images.next_items(rows)?;
        let count = pixels.len() / (SIDE * SIDE);
        if count == 0 {
            return Ok(None);
        }
        let targets = match &mut self.labels {
            None => None,
            Some((path, labels)) => {
                let bytes = labels.next_items(count)?;
                if let Some((offset, label)) = bytes
                    .iter()
                    .enumerate()
                    .find(|&(_, &l)| usize::from(l) >= CLASSES)
                {
                    bail!(
                        "{}: label {label} at index {} is not a digit 0..9",
                        path.display(),
                        self.rows_read + offset
                    );
                }
                Some(Targets::Classes {
                    labels: bytes.into_iter().map(u32::from).collect(),
                    classes: CLASSES,
                })
            }
        };
        let ids = (self.rows_read..self.rows_read + count)
            .map(|i| i.to_string())
            .collect();
        self.rows_read += count;
        Ok(Some(InputBatch {
            features: pixel_features(&pixels),
            ids,
            passed: Vec::new(),
            targets,
        }))
    }
}

/// The labels file named like an images file: `t10k-images-idx3-ubyte.gz` →
/// `t10k-labels-idx1-ubyte.gz`.
fn labels_name(images: &Path) -> PathBuf {
    let name = images
        .file_name()
        .map(|name| name.to_string_lossy().to_string())
        .unwrap_or_default();
    images.with_file_name(
        name.replacen("images", "labels", 1)
            .replacen("idx3", "idx1", 1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::idx::write_idx;

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn write(dir: &Path, text: &str) -> PathBuf {
        let path = dir.join("new.csv");
        std::fs::write(&path, text).unwrap();
        path
    }

    fn read_all(input: &mut Input, rows: usize) -> Result<Vec<InputBatch>> {
        let mut batches = Vec::new();
        while let Some(batch) = input.next_batch(rows)? {
            batches.push(batch);
        }
        Ok(batches)
    }

    #[test]
    fn columns_by_name_in_the_run_order_and_batches() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "name,b,label,a\n\"x, 1\",2,1,10\n\ny2,4,0,20\ny3,6,1,30\n",
        );
        let features = strings(&["a", "b"]);
        let passed = strings(&["label"]);
        let columns = InputColumns {
            features: &features,
            label: None,
            id: Some("name"),
            pass_through: &passed,
        };
        let mut input = Input::csv(&path, &columns).unwrap();
        let batches = read_all(&mut input, 2).unwrap();
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[0].features, vec![10.0, 2.0, 20.0, 4.0]);
        assert_eq!(batches[0].ids, strings(&["x, 1", "y2"]));
        assert_eq!(batches[1].passed, vec![strings(&["1"])]);
        assert_eq!(batches[1].targets, None);

        let plain = InputColumns {
            features: &features,
            label: Some(Label::Classes {
                column: "label",
                classes: 2,
                names: None,
            }),
            id: None,
            pass_through: &[],
        };
        let mut input = Input::csv(&path, &plain).unwrap();
        let batch = input.next_batch(10).unwrap().unwrap();
        assert_eq!(batch.ids, strings(&["0", "1", "2"]));
        assert_eq!(
            batch.targets,
            Some(Targets::Classes {
                labels: vec![1, 0, 1],
                classes: 2
            })
        );
        assert!(input.next_batch(10).unwrap().is_none());
    }

    #[test]
    fn errors_name_the_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let features = strings(&["a", "b"]);
        let columns = InputColumns {
            features: &features,
            label: None,
            id: None,
            pass_through: &[],
        };
        let error = |text: &str, columns: &InputColumns| {
            let path = write(dir.path(), text);
            match Input::csv(&path, columns) {
                Err(e) => e.to_string(),
                Ok(mut input) => read_all(&mut input, 1).unwrap_err().to_string(),
            }
        };
        let message = error("a,c\n1,2\n", &columns);
        assert!(
            message.contains("new.csv:1: feature column \"b\" not found; columns are: a, c"),
            "{message}"
        );
        let message = error("a,b\n1,2\n3,x\n", &columns);
        assert!(
            message.ends_with("new.csv:3: non-numeric cell \"x\" in column \"b\""),
            "{message}"
        );
        let message = error("a,b\n", &columns);
        assert!(message.contains("new.csv:1: no data rows"), "{message}");
        let message = error("a,b\n1,2,3\n", &columns);
        assert!(
            message.contains("new.csv:2: expected 2 fields, found 3"),
            "{message}"
        );

        let names = strings(&["no", "yes"]);
        let labelled = InputColumns {
            label: Some(Label::Classes {
                column: "y",
                classes: 2,
                names: Some(&names),
            }),
            ..columns
        };
        let message = error("a,b,y\n1,2,yes\n1,2,maybe\n", &labelled);
        assert!(
            message.contains(
                "new.csv:3: unknown label \"maybe\" (expected one of data.classes: no, yes)"
            ),
            "{message}"
        );
        let indexed = InputColumns {
            label: Some(Label::Classes {
                column: "y",
                classes: 2,
                names: None,
            }),
            ..columns
        };
        let message = error("a,b,y\n1,2,1\n1,2,2\n", &indexed);
        assert!(
            message.contains(
                "new.csv:3: label 2 in column \"y\" is not one of the run's 2 classes (0 to 1)"
            ),
            "{message}"
        );
        let message = error("a,b\n1,2\n", &indexed);
        assert!(
            message.contains("label column \"y\" not found"),
            "{message}"
        );
        let as_feature = InputColumns {
            label: Some(Label::Values { column: "b" }),
            ..columns
        };
        let message = error("a,b\n1,2\n", &as_feature);
        assert!(message.contains("is also the run's feature 2"), "{message}");
    }

    #[test]
    fn images_from_a_file_or_a_folder_with_labels() {
        let dir = tempfile::tempdir().unwrap();
        let pixels: Vec<u8> = (0..3).flat_map(|i| [i as u8 * 100; 784]).collect();
        let images = dir.path().join("t10k-images-idx3-ubyte.gz");
        write_idx(&images, &[3, 28, 28], &pixels, true).unwrap();
        let mut input = Input::images(&images, false).unwrap();
        let batches = read_all(&mut input, 2).unwrap();
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[1].ids, strings(&["2"]));
        assert_eq!(batches[1].features[0], 200.0 / 255.0);
        assert_eq!(batches[1].features.len(), 784);

        let message = Input::images(dir.path(), true).err().unwrap().to_string();
        assert!(
            message.contains("t10k-images-idx3-ubyte.gz: no labels file beside it (expected")
                && message.contains("t10k-labels-idx1-ubyte.gz"),
            "{message}"
        );
        write_idx(
            &dir.path().join("t10k-labels-idx1-ubyte"),
            &[3],
            &[7, 1, 12],
            false,
        )
        .unwrap();
        let mut input = Input::images(dir.path(), true).unwrap();
        assert!(input.path().ends_with("t10k-images-idx3-ubyte.gz"));
        let first = input.next_batch(2).unwrap().unwrap();
        assert_eq!(
            first.targets,
            Some(Targets::Classes {
                labels: vec![7, 1],
                classes: 10
            })
        );
        let message = input.next_batch(2).unwrap_err().to_string();
        assert!(message.contains("label 12 at index 2"), "{message}");

        let small = dir.path().join("small-images-idx3-ubyte");
        write_idx(&small, &[1, 8, 8], &[0; 64], false).unwrap();
        let message = Input::images(&small, false).err().unwrap().to_string();
        assert!(
            message.contains("small-images-idx3-ubyte: expected MNIST images with dims [n, 28, 28], found [1, 8, 8]"),
            "{message}"
        );
    }
}
