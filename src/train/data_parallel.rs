//! Data-parallel training over several devices (`[training] devices = [...]`), through
//! burn-train's own `ExecutionStrategy::MultiDevice` (optimizer on the first device).
//!
//! burn-train splits the training loader into one contiguous slice of the epoch's order per
//! device, and each step takes the next batch of every slice, computes each batch's gradient
//! on its device and *sums* them before one optimizer step. sgdlab arranges both ends so that
//! a step is the lecture's mini-batch step on the global batch of m = `batch_size` examples,
//!
//! ```text
//! Θ ← Θ − α ∇ (1/m) Σ_{i ∈ batch} ℓ̂_i   with the batch spread over D devices, m/D each,
//! ```
//!
//! and the same batches as single-device training of the same seed:
//! - [`DeviceMajorOrder`] lays the epoch's shuffled order out so that step s of device d
//!   holds the d-th part of the single-device batch s;
//! - each device's batch loss `(1/m_d) Σ ℓ̂` is weighted by `m_d / m_s` (m_s: the examples of
//!   the whole step) before its backward pass, so the summed gradients are the global batch's
//!   mean gradient.
//!
//! When every slice holds a whole number of device batches (n a multiple of m, m of D) this
//! is single-device training to floating-point summation order; otherwise the epoch's last
//! steps group its remaining examples differently.

use std::sync::Arc;

use burn::data::dataset::Dataset as BurnDataset;

use crate::config::TrainingConfig;
use crate::optim::schedule::steps_per_epoch;

/// Where each example position of an epoch goes: the devices' slices (as burn-train's
/// `split_dataloader` cuts them) and their batches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataParallelLayout {
    /// Examples in each device's slice of the epoch.
    slices: Vec<usize>,
    /// m / D.
    device_batch: usize,
    /// Examples of each step, all devices together.
    step_examples: Vec<usize>,
}

impl DataParallelLayout {
    /// The layout of `n` training examples over `devices` devices, `batch_size` per step in all
    /// (a multiple of `devices`, see [`check_devices`](crate::config::check_devices)).
    pub fn new(n: usize, batch_size: usize, devices: usize) -> Self {
        let share = n / devices;
        let mut slices = vec![share; devices];
        // split_dataloader gives the remainder to the last device.
        slices[devices - 1] = n - share * (devices - 1);
        let device_batch = (batch_size / devices).max(1);
        let steps = slices
            .iter()
            .map(|slice| slice.div_ceil(device_batch))
            .max()
            .unwrap_or(0);
        let step_examples = (0..steps)
            .map(|step| {
                (0..devices)
                    .map(|d| Self::batch_of(slices[d], device_batch, step))
                    .sum()
            })
            .collect();
        Self {
            slices,
            device_batch,
            step_examples,
        }
    }

    fn batch_of(slice: usize, device_batch: usize, step: usize) -> usize {
        slice.saturating_sub(step * device_batch).min(device_batch)
    }

    /// Optimizer steps per epoch: the longest slice's batches.
    pub fn steps_per_epoch(&self) -> usize {
        self.step_examples.len()
    }

    /// Devices that have a batch at the epoch's `step` (0-based).
    pub fn devices_in_step(&self, step: usize) -> usize {
        self.slices
            .iter()
            .filter(|&&slice| Self::batch_of(slice, self.device_batch, step) > 0)
            .count()
    }

    /// Examples of the epoch's `step` (0-based) over all devices.
    pub fn step_examples(&self, step: usize) -> usize {
        self.step_examples.get(step).copied().unwrap_or(0)
    }

    /// The position in single-device order of the example at `position` of the devices'
    /// concatenated slices.
    fn single_device_position(&self, position: usize) -> usize {
        let mut start = 0;
        let mut device = 0;
        while position >= start + self.slices[device] {
            start += self.slices[device];
            device += 1;
        }
        let offset = position - start;
        let (step, within) = (offset / self.device_batch, offset % self.device_batch);
        let before_step: usize = self.step_examples[..step].iter().sum();
        let before_device: usize = self.slices[..device]
            .iter()
            .map(|&slice| Self::batch_of(slice, self.device_batch, step))
            .sum();
        before_step + before_device + within
    }
}

/// The epoch's example order re-laid for burn-train's per-device slices (see the module doc).
pub struct DeviceMajorOrder<D> {
    inner: D,
    positions: Vec<usize>,
}

impl<D: BurnDataset<usize>> DeviceMajorOrder<D> {
    pub fn new(inner: D, layout: &DataParallelLayout) -> Self {
        let positions = (0..inner.len())
            .map(|p| layout.single_device_position(p))
            .collect();
        Self { inner, positions }
    }
}

impl<D: BurnDataset<usize>> BurnDataset<usize> for DeviceMajorOrder<D> {
    fn get(&self, position: usize) -> Result<usize, burn::data::dataset::DatasetError> {
        match self.positions.get(position) {
            Some(&inner) => self.inner.get(inner),
            None => self.inner.get(position),
        }
    }

    fn len(&self) -> usize {
        self.inner.len()
    }
}

/// Optimizer steps per epoch of `n` training examples: ⌈n/m⌉ on one device; with several,
/// as many as the longest of burn-train's per-device slices has batches.
pub fn training_steps_per_epoch(training: &TrainingConfig, n: usize) -> usize {
    match training.devices.len() {
        0 | 1 => steps_per_epoch(n, training.batch_size),
        devices => DataParallelLayout::new(n, training.batch_size, devices).steps_per_epoch(),
    }
}

/// What a training step needs to weight its device's share of the gradient.
#[derive(Debug, Clone)]
pub struct GradientShare {
    pub layout: Arc<DataParallelLayout>,
}

impl GradientShare {
    /// `m_d / m_s`: this device's batch of `examples` within the epoch's `step` (0-based).
    pub fn weight(&self, step: usize, examples: usize) -> f64 {
        examples as f64 / self.layout.step_examples(step).max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn even_layout_puts_each_single_device_batch_across_the_devices() {
        // 12 examples, m = 4 over 2 devices: device 0 holds positions 0..6, device 1 6..12;
        // step s of device d must be the d-th half of single-device batch s.
        let layout = DataParallelLayout::new(12, 4, 2);
        assert_eq!(layout.steps_per_epoch(), 3);
        let order: Vec<usize> = (0..12).map(|p| layout.single_device_position(p)).collect();
        assert_eq!(order, [0, 1, 4, 5, 8, 9, 2, 3, 6, 7, 10, 11]);
    }

    #[test]
    fn uneven_layout_is_still_a_permutation_with_burn_trains_step_count() {
        // 8 examples over 3 devices, m = 9: slices 2, 2, 4 (remainder to the last), 3 each a step.
        let layout = DataParallelLayout::new(8, 9, 3);
        assert_eq!(layout.steps_per_epoch(), 2);
        assert_eq!(layout.step_examples(0), 7);
        assert_eq!(layout.step_examples(1), 1);
        let mut order: Vec<usize> = (0..8).map(|p| layout.single_device_position(p)).collect();
        order.sort();
        assert_eq!(order, (0..8).collect::<Vec<_>>());
    }

    #[test]
    fn device_weights_of_a_step_sum_to_one() {
        let share = GradientShare {
            layout: Arc::new(DataParallelLayout::new(8, 9, 3)),
        };
        let total: f64 = [2, 2, 3].iter().map(|&m| share.weight(0, m)).sum();
        assert!((total - 1.0).abs() < 1e-12);
    }
}
