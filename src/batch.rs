//! Mini-batches: rows of a [`Dataset`] gathered into tensors on the training device.
//!
//! The loader's items are example *indices*; the batcher gathers their rows from one shared
//! copy of the data, so shuffling never copies examples and a batch is built in one pass.

use std::sync::{Arc, Mutex};

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::{Dataset as BurnDataset, DatasetError};
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::data::{Dataset, Targets};
use crate::rng::Rng;

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

/// The training loader's items: example indices 0..n in a fresh permutation every epoch,
/// drawn from `(seed, epoch)` with sgdlab's own generator.
///
/// Why not the loader's own `shuffle(seed)`: its generator restarts from the seed when a run
/// is resumed, so epoch 3 of a resumed run would repeat epoch 1's order. Here the permutation
/// of epoch e depends only on (seed, e), so `--resume` continues the same sequence of batches
/// an uninterrupted run sees. The loader reads a pass in order from position 0; a request for
/// position 0 after the first pass begins the next epoch.
pub struct EpochShuffledIndices {
    len: usize,
    seed: u64,
    state: Mutex<ShuffleState>,
}

struct ShuffleState {
    epoch: usize,
    started: bool,
    permutation: Vec<usize>,
}

impl EpochShuffledIndices {
    /// Indices for a run that has already completed `epochs_done` epochs.
    pub fn new(len: usize, seed: u64, epochs_done: usize) -> Self {
        Self {
            len,
            seed,
            state: Mutex::new(ShuffleState {
                epoch: epochs_done,
                started: false,
                permutation: permutation(len, seed, epochs_done),
            }),
        }
    }
}

/// The order of epoch `epoch` (0-based): a Fisher–Yates shuffle seeded by (seed, epoch).
pub fn permutation(len: usize, seed: u64, epoch: usize) -> Vec<usize> {
    let mut indices: Vec<usize> = (0..len).collect();
    let stream = seed ^ (epoch as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    Rng::new(stream).shuffle(&mut indices);
    indices
}

impl BurnDataset<usize> for EpochShuffledIndices {
    fn get(&self, position: usize) -> Result<usize, DatasetError> {
        if position >= self.len {
            return Err(DatasetError::new(crate::Error::new(format!(
                "index {position} past the {} training examples",
                self.len
            ))));
        }
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if position == 0 {
            if state.started {
                state.epoch += 1;
                state.permutation = permutation(self.len, self.seed, state.epoch);
            }
            state.started = true;
        }
        Ok(state.permutation[position])
    }

    fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass(indices: &EpochShuffledIndices) -> Vec<usize> {
        (0..indices.len())
            .map(|i| indices.get(i).unwrap())
            .collect()
    }

    #[test]
    fn every_epoch_is_a_new_permutation_and_resume_continues_the_sequence() {
        let straight = EpochShuffledIndices::new(50, 7, 0);
        let epochs: Vec<Vec<usize>> = (0..4).map(|_| pass(&straight)).collect();
        for order in &epochs {
            let mut sorted = order.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        }
        assert_ne!(epochs[0], epochs[1]);
        assert_ne!(epochs[1], epochs[2]);
        // A run resumed after two epochs sees epochs 3 and 4 exactly as the straight run did.
        let resumed = EpochShuffledIndices::new(50, 7, 2);
        assert_eq!(pass(&resumed), epochs[2]);
        assert_eq!(pass(&resumed), epochs[3]);
        assert!(resumed.get(50).is_err());
    }
}
