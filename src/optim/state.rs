//! Optimizer state records: how each optimizer's per-tensor state is flattened into the
//! named tensors and scalars of a burnpack checkpoint and rebuilt from them. Burn's
//! `#[derive(RecordState)]` only works inside burn-optim, so sgdlab writes the few impls out.

use burn::optim::{StateSink, StateSource};
use burn::tensor::{Device, Tensor};
use burn_pack::Scalar;

pub(super) fn put<const D: usize>(out: &mut StateSink, prefix: &str, leaf: &str, t: &Tensor<D>) {
    out.push_tensor(prefix, leaf, t.to_data());
}

pub(super) fn put_optional<const D: usize>(
    out: &mut StateSink,
    prefix: &str,
    leaf: &str,
    t: &Option<Tensor<D>>,
) {
    if let Some(t) = t {
        put(out, prefix, leaf, t);
    }
}

pub(super) fn take<const D: usize>(
    src: &mut StateSource,
    prefix: &str,
    leaf: &str,
    device: &Device,
) -> Option<Tensor<D>> {
    src.take_tensor(prefix, leaf)
        .map(|data| Tensor::from_data(data, device))
}

pub(super) fn put_count(out: &mut StateSink, prefix: &str, leaf: &str, count: usize) {
    out.push_scalar(prefix, leaf, Scalar::UInt(count as u64));
}

pub(super) fn take_count(src: &mut StateSource, prefix: &str, leaf: &str) -> Option<usize> {
    match src.take_scalar(prefix, leaf)? {
        Scalar::UInt(count) => usize::try_from(count).ok(),
        Scalar::Int(count) => usize::try_from(count).ok(),
        _ => None,
    }
}
