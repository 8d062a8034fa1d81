//! MNIST from the four classic IDX files in one folder.

use super::idx::{IdxArray, read_idx};
use super::{Dataset, Targets};
use crate::{Result, bail};
use std::path::{Path, PathBuf};

/// Images are `SIDE × SIDE` pixels.
pub(super) const SIDE: usize = 28;
pub(super) const CLASSES: usize = 10;

/// MNIST in memory: the training files, and the test (`t10k`) files when present.
#[derive(Debug, Clone, PartialEq)]
pub struct Mnist {
    pub train: Dataset,
    pub test: Option<Dataset>,
}

/// Load MNIST from `dir`: `train-images-idx3-ubyte` and `train-labels-idx1-ubyte` are
/// required, `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte` optional (both or neither).
/// Each may be raw or gzipped (`.gz`), and the dotted spelling `train-images.idx3-ubyte` works
/// too. Pixels are scaled to `[0, 1]`; `limit` keeps the first N examples of each file.
pub fn load_mnist(dir: &Path, limit: Option<usize>) -> Result<Mnist> {
    if !dir.is_dir() {
        bail!(
            "{}: MNIST folder not found (expected a directory holding train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz])",
            dir.display()
        );
    }
    if limit == Some(0) {
        bail!(
            "{}: an MNIST example limit of 0 leaves no data",
            dir.display()
        );
    }
    let train_images = require(dir, "train-images-idx3-ubyte")?;
    let train_labels = require(dir, "train-labels-idx1-ubyte")?;
    let train = load_pair(&train_images, &train_labels, limit)?;

    let test_images = find(dir, "t10k-images-idx3-ubyte");
    let test_labels = find(dir, "t10k-labels-idx1-ubyte");
    let test = match (test_images, test_labels) {
        (Some(images), Some(labels)) => Some(load_pair(&images, &labels, limit)?),
        (None, None) => None,
        (Some(present), None) => bail!(
            "{}: found test images but no t10k-labels-idx1-ubyte[.gz] beside them",
            present.display()
        ),
        (None, Some(present)) => bail!(
            "{}: found test labels but no t10k-images-idx3-ubyte[.gz] beside them",
            present.display()
        ),
    };
    Ok(Mnist { train, test })
}

/// The file for `name` in `dir`, trying the dotted spelling and a `.gz` suffix.
pub(super) fn find(dir: &Path, name: &str) -> Option<PathBuf> {
    let dotted = name.replacen("-idx", ".idx", 1);
    [name, dotted.as_str()]
        .into_iter()
        .flat_map(|stem| [stem.to_string(), format!("{stem}.gz")])
        .map(|file| dir.join(file))
        .find(|path| path.is_file())
}

fn require(dir: &Path, name: &str) -> Result<PathBuf> {
    match find(dir, name) {
        Some(path) => Ok(path),
        None => bail!(
            "{}: MNIST file {name} not found (also tried {name}.gz and the dotted spelling {})",
            dir.display(),
            name.replacen("-idx", ".idx", 1)
        ),
    }
}

fn load_pair(images_path: &Path, labels_path: &Path, limit: Option<usize>) -> Result<Dataset> {
    let IdxArray {
        dims: image_dims,
        data: pixels,
    } = read_idx(images_path)?;
    check_image_dims(&image_dims, images_path)?;
    let IdxArray {
        dims: label_dims,
        data: labels,
    } = read_idx(labels_path)?;
    if label_dims.len() != 1 {
        bail!(
            "{}: expected MNIST labels with dims [n], found {label_dims:?}",
            labels_path.display()
        );
    }
    let count = image_dims[0];
    if count != label_dims[0] {
        bail!(
            "MNIST count mismatch: {} has {count} images but {} has {} labels",
            images_path.display(),
            labels_path.display(),
            label_dims[0]
        );
    }
    if count == 0 {
        bail!("{}: holds no images", images_path.display());
    }
    let kept = limit.map_or(count, |limit| limit.min(count));
    let labels = &labels[..kept];
    if let Some((index, label)) = labels
        .iter()
        .enumerate()
        .find(|&(_, &l)| l as usize >= CLASSES)
    {
        bail!(
            "{}: label {label} at index {index} is not a digit 0..9",
            labels_path.display()
        );
    }
    let features = pixel_features(&pixels[..kept * SIDE * SIDE]);
    Ok(Dataset {
        features,
        dim: SIDE * SIDE,
        targets: Targets::Classes {
            labels: labels.iter().map(|&l| u32::from(l)).collect(),
            classes: CLASSES,
        },
        feature_names: pixel_names(),
    })
}

/// Refuses image dims other than MNIST's `[n, 28, 28]`, naming the file.
pub(super) fn check_image_dims(dims: &[usize], path: &Path) -> Result<()> {
    if dims.len() != 3 || dims[1..] != [SIDE, SIDE] {
        bail!(
            "{}: expected MNIST images with dims [n, {SIDE}, {SIDE}], found {dims:?}",
            path.display()
        );
    }
    Ok(())
}

/// Pixels as features: scaled from 0..=255 to [0, 1].
pub(super) fn pixel_features(pixels: &[u8]) -> Vec<f32> {
    pixels.iter().map(|&p| f32::from(p) / 255.0).collect()
}

/// `pixel_R_C`, row-major: the names of an image's features.
pub(super) fn pixel_names() -> Vec<String> {
    (0..SIDE)
        .flat_map(|r| (0..SIDE).map(move |c| format!("pixel_{r}_{c}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::idx::write_idx;

    /// Write `n` fake images (pixel value = image index) and labels `i % 10`.
    fn write_set(dir: &Path, prefix: &str, n: usize, gzip: bool, dotted: bool) {
        let sep = if dotted { "." } else { "-" };
        let suffix = if gzip { ".gz" } else { "" };
        let pixels: Vec<u8> = (0..n).flat_map(|i| [i as u8; SIDE * SIDE]).collect();
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        let images = dir.join(format!("{prefix}-images{sep}idx3-ubyte{suffix}"));
        write_idx(&images, &[n, SIDE, SIDE], &pixels, gzip).unwrap();
        let labels_path = dir.join(format!("{prefix}-labels{sep}idx1-ubyte{suffix}"));
        write_idx(&labels_path, &[n], &labels, gzip).unwrap();
    }

    #[test]
    fn loads_train_and_test_with_limit() {
        let dir = tempfile::tempdir().unwrap();
        write_set(dir.path(), "train", 12, false, false);
        write_set(dir.path(), "t10k", 5, true, true);
        let mnist = load_mnist(dir.path(), None).unwrap();
        assert_eq!((mnist.train.len(), mnist.train.dim), (12, 784));
        assert_eq!(mnist.train.classes(), Some(10));
        assert_eq!(mnist.train.row(11)[0], 11.0 / 255.0);
        assert_eq!(mnist.train.feature_names[783], "pixel_27_27");
        let test = mnist.test.unwrap();
        assert_eq!(test.len(), 5);

        let limited = load_mnist(dir.path(), Some(3)).unwrap();
        assert_eq!(limited.train.len(), 3);
        assert_eq!(limited.test.unwrap().len(), 3);
        assert_eq!(
            limited.train.targets,
            Targets::Classes {
                labels: vec![0, 1, 2],
                classes: 10
            }
        );
    }

    #[test]
    fn test_set_is_optional() {
        let dir = tempfile::tempdir().unwrap();
        write_set(dir.path(), "train", 2, true, false);
        assert!(load_mnist(dir.path(), None).unwrap().test.is_none());
    }

    #[test]
    fn count_mismatch_names_both_files() {
        let dir = tempfile::tempdir().unwrap();
        write_set(dir.path(), "train", 4, false, false);
        write_idx(
            &dir.path().join("train-labels-idx1-ubyte"),
            &[3],
            &[0, 1, 2],
            false,
        )
        .unwrap();
        let message = load_mnist(dir.path(), None).unwrap_err().to_string();
        assert!(
            message.contains("train-images-idx3-ubyte has 4 images"),
            "{message}"
        );
        assert!(
            message.contains("train-labels-idx1-ubyte has 3 labels"),
            "{message}"
        );
    }

    #[test]
    fn wrong_magic_and_truncation_surface() {
        let dir = tempfile::tempdir().unwrap();
        write_set(dir.path(), "train", 2, false, false);
        let images = dir.path().join("train-images-idx3-ubyte");
        let bytes = std::fs::read(&images).unwrap();
        std::fs::write(&images, &bytes[..bytes.len() - 10]).unwrap();
        let message = load_mnist(dir.path(), None).unwrap_err().to_string();
        assert!(
            message.contains("train-images-idx3-ubyte: truncated IDX file"),
            "{message}"
        );
        assert!(message.contains("expected 1568 bytes of data"), "{message}");

        std::fs::write(&images, b"\x00\x00\x0c\x03").unwrap();
        let message = load_mnist(dir.path(), None).unwrap_err().to_string();
        assert!(message.contains("0x0c"), "{message}");

        std::fs::write(&images, b"<html>").unwrap();
        let message = load_mnist(dir.path(), None).unwrap_err().to_string();
        assert!(message.contains("3c 68 74 6d"), "{message}");
    }

    #[test]
    fn bad_dims_labels_and_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let message = load_mnist(dir.path(), None).unwrap_err().to_string();
        assert!(
            message.contains("train-images-idx3-ubyte not found"),
            "{message}"
        );

        write_idx(
            &dir.path().join("train-images-idx3-ubyte"),
            &[1, 8, 8],
            &[0; 64],
            false,
        )
        .unwrap();
        write_idx(
            &dir.path().join("train-labels-idx1-ubyte"),
            &[1],
            &[0],
            false,
        )
        .unwrap();
        let message = load_mnist(dir.path(), None).unwrap_err().to_string();
        assert!(
            message.contains("dims [n, 28, 28], found [1, 8, 8]"),
            "{message}"
        );

        write_set(dir.path(), "train", 2, false, false);
        write_idx(
            &dir.path().join("train-labels-idx1-ubyte"),
            &[2],
            &[3, 12],
            false,
        )
        .unwrap();
        let message = load_mnist(dir.path(), None).unwrap_err().to_string();
        assert!(message.contains("label 12 at index 1"), "{message}");

        write_set(dir.path(), "train", 2, false, false);
        write_idx(
            &dir.path().join("t10k-images-idx3-ubyte"),
            &[1, 28, 28],
            &[0; 784],
            false,
        )
        .unwrap();
        let message = load_mnist(dir.path(), None).unwrap_err().to_string();
        assert!(message.contains("no t10k-labels"), "{message}");

        assert!(load_mnist(dir.path(), Some(0)).is_err());
        let message = load_mnist(&dir.path().join("nowhere"), None)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("nowhere: MNIST folder not found"),
            "{message}"
        );
    }
}
