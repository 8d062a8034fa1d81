//! Fused updates on the CPU backends: an optimizer's whole formula in one pass over memory.
//!
//! Written as tensor operations, an update like momentum's `b ← λ b + g ; θ ← θ − α b` is
//! four passes (`λ b`, `+ g`, `α b`, `θ −`), each reading and writing whole tensors: ten
//! arrays of P floats moved where the formula needs five (θ, g and b read, θ and b written).
//! burn-flex already reuses a uniquely owned buffer in place (`scalar_op_typed` and
//! `binary_op_typed` in burn-flex-0.22.1/src/ops/binary.rs), so the cost is the passes, not
//! allocation. Here the tensors are taken as their f32 buffers (`into_data`, which hands over
//! a uniquely owned contiguous buffer without copying: `FlexTensor::into_data` in
//! burn-flex-0.22.1/src/tensor.rs), updated element by element in one pass split among the
//! command's threads, and given back (`from_data`, which adopts the buffer).
//!
//! Each kernel performs the same f32 operations in the same order as the optimizer's tensor
//! form, so both give the same numbers bit for bit (`tests` in each optimizer's file check
//! it). The GPU backends keep the tensor form: there, the operations run on the device.

use burn::tensor::{DType, Tensor};
use rayon::prelude::*;

/// Elements a task updates: 64 KiB of each array, a few tasks a thread for P ≈ 10⁵–10⁶.
const CHUNK: usize = 1 << 14;

/// Whether [`update`] applies: every tensor f32 and on a CPU backend (flex or ndarray),
/// where its buffer is host memory.
pub(super) fn applies<const D: usize>(tensors: &[&Tensor<D>]) -> bool {
    tensors
        .iter()
        .all(|t| t.dtype() == DType::F32 && crate::device::is_host(&t.device()))
}

/// `g + μ θ`, the coupled L2 weight of `with_weight_decay`, for a kernel: g itself when μ = 0,
/// as the tensor form skips the term then.
#[inline(always)]
pub(super) fn coupled(g: f32, theta: f32, mu: f32) -> f32 {
    if mu != 0.0 { g + theta * mu } else { g }
}

/// `kernel([&mut w₀[i], …, &mut w_{W−1}[i]], g[i])` for every index i of the `written` tensors
/// (θ and the state, all of the gradient's shape), in one pass; returns them updated.
/// Only where [`applies`] holds.
pub(super) fn update<const D: usize, const W: usize>(
    written: [Tensor<D>; W],
    gradient: Tensor<D>,
    kernel: impl Fn([&mut f32; W], f32) + Sync,
) -> [Tensor<D>; W] {
    let device = gradient.device();
    let gradient = gradient.into_data();
    let mut written = written.map(|t| t.into_data());
    {
        let g: &[f32] = gradient.as_slice().expect("applies: f32");
        let mut arrays = written.each_mut().map(|data| {
            data.as_mut_slice::<f32>()
                .expect("applies: f32")
                .chunks_mut(CHUNK)
        });
        let tasks: Vec<([&mut [f32]; W], &[f32])> = g
            .chunks(CHUNK)
            .map(|g| {
                let chunk = arrays.each_mut().map(|chunks| {
                    chunks
                        .next()
                        .expect("every array has the gradient's length")
                });
                (chunk, g)
            })
            .collect();
        let run = |(chunk, g): ([&mut [f32]; W], &[f32])| apply(chunk, g, &kernel);
        if g.len() <= 2 * CHUNK {
            tasks.into_iter().for_each(run);
        } else {
            tasks.into_par_iter().for_each(run);
        }
    }
    written.map(|data| Tensor::from_data(data, &device))
}

/// The kernel over one chunk, compiled for AVX-512 too and chosen at run time. Either way
/// the same IEEE operations, exactly rounded (no contraction into FMA): the same bits.
fn apply<const W: usize>(
    chunk: [&mut [f32]; W],
    g: &[f32],
    kernel: &(impl Fn([&mut f32; W], f32) + Sync),
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F, checked just above.
        return unsafe { apply_avx512(chunk, g, kernel) };
    }
    apply_portable(chunk, g, kernel)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn apply_avx512<const W: usize>(
    chunk: [&mut [f32]; W],
    g: &[f32],
    kernel: &(impl Fn([&mut f32; W], f32) + Sync),
) {
    apply_portable(chunk, g, kernel)
}

#[inline(always)]
fn apply_portable<const W: usize>(
    chunk: [&mut [f32]; W],
    g: &[f32],
    kernel: &(impl Fn([&mut f32; W], f32) + Sync),
) {
    // Every array cut to the gradient's length, so indexing needs no bounds checks.
    let n = g.len();
    let mut chunk = chunk.map(|array| &mut array[..n]);
    for (i, &g) in g.iter().enumerate() {
        kernel(chunk.each_mut().map(|array| &mut array[i]), g);
    }
}

/// For the optimizers' tests: `step` (the optimizer's, fused on the CPU after its first step)
/// and `tensor_form` (its tensor operations) give the same θ bit for bit over six steps of
/// changing α, on tensors large enough to be split among threads.
#[cfg(test)]
pub(super) fn assert_same_bits<S>(
    step: impl Fn(f64, Tensor<2>, Tensor<2>, Option<S>) -> (Tensor<2>, Option<S>),
    tensor_form: impl Fn(f64, Tensor<2>, Tensor<2>, Option<S>) -> (Tensor<2>, Option<S>),
) {
    let device = crate::device::resolve("cpu").expect("the CPU backend is compiled in");
    let shape = [3, 3 * CHUNK + 17];
    let mut seed = 0x2545_f491_u32;
    let mut values = |scale: f32| {
        let n = shape[0] * shape[1];
        let data: Vec<f32> = (0..n)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                (seed as f32 / u32::MAX as f32 - 0.5) * scale
            })
            .collect();
        Tensor::<2>::from_data(burn::tensor::TensorData::new(data, shape), &device)
    };
    let start = values(2.0);
    let (mut fused, mut tensors) = ((start.clone(), None), (start, None));
    for t in 0..6 {
        let gradient = values(if t == 3 { 0.0 } else { 1.0 + t as f32 });
        let alpha = 0.1 / (1.0 + t as f64);
        assert!(applies(&[&fused.0, &gradient]));
        fused = step(alpha, fused.0, gradient.clone(), fused.1);
        tensors = tensor_form(alpha, tensors.0, gradient, tensors.1);
        let bits = |t: &Tensor<2>| -> Vec<u32> {
            let data = t.to_data();
            data.as_slice::<f32>()
                .unwrap()
                .iter()
                .map(|x| x.to_bits())
                .collect()
        };
        let (a, b) = (bits(&fused.0), bits(&tensors.0));
        let differ = a.iter().zip(&b).filter(|(a, b)| a != b).count();
        assert_eq!(
            differ,
            0,
            "step {t}: {differ} of {} elements of θ differ",
            a.len()
        );
    }
}
