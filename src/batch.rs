//! Mini-batches: rows of a [`Dataset`] gathered into tensors on the training device.
//!
//! The loader's items are example *indices*; the batcher gathers their rows from one shared
//! copy of the data, so shuffling never copies examples and a batch is built in one pass.

use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::data::{Dataset, Targets};

/// One mini-batch B: features `[m, d]` and their targets.
#[derive(Clone, Debug)]
pub struct Batch {
    pub features: Tensor<2>,
    pub targets: BatchTargets,
}

#[derive(Clone, Debug)]
pub enum BatchTargets {
    /// Class indices `[m]`.
    Classes(Tensor<1, Int>),
    /// Real targets `[m, 1]`.
    Values(Tensor<2>),
}

/// Gathers example indices into a [`Batch`].
#[derive(Clone)]
pub struct IndexBatcher {
    data: Arc<Dataset>,
}

impl IndexBatcher {
    pub fn new(data: Arc<Dataset>) -> Self {
        Self { data }
    }
}

impl Batcher<usize, Batch> for IndexBatcher {
    fn batch(&self, indices: Vec<usize>, device: &Device) -> Batch {
        gather(&self.data, &indices, device)
    }
}

/// The rows `indices` of `data` as a batch on `device`.
pub fn gather(data: &Dataset, indices: &[usize], device: &Device) -> Batch {
    let m = indices.len();
    let d = data.dim;
    let mut features = Vec::with_capacity(m * d);
    for &i in indices {
        features.extend_from_slice(data.row(i));
    }
    let features = Tensor::from_data(TensorData::new(features, [m, d]), device);
    let targets = match &data.targets {
        Targets::Classes { labels, .. } => {
            let labels: Vec<i64> = indices.iter().map(|&i| i64::from(labels[i])).collect();
            BatchTargets::Classes(Tensor::from_data(TensorData::new(labels, [m]), device))
        }
        Targets::Values(values) => {
            let values: Vec<f32> = indices.iter().map(|&i| values[i]).collect();
            BatchTargets::Values(Tensor::from_data(TensorData::new(values, [m, 1]), device))
        }
    };
    Batch { features, targets }
}
