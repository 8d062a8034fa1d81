//! What the machine attains, the yardsticks of the table: an n × n × n f32 matrix product
//! through Burn on the bench's device, and a large copy of memory.

use burn::tensor::{Device, Distribution, Tensor};
use rayon::prelude::*;

use super::seconds_per_call;
use crate::bench::machine::Attainable;

/// The matrix product's rate and the copy's bandwidth, each the median of `repeats`.
pub(in crate::bench) fn measure(
    device: &Device,
    matmul_size: usize,
    copy_bytes: usize,
    repeats: usize,
) -> Attainable {
    Attainable {
        matmul_size,
        matmul_gflops: matmul_gflops(device, matmul_size, repeats),
        copy_bytes,
        copy_gbps: copy_gbps(copy_bytes, repeats),
    }
}

/// GFLOP/s (2n³ flop) of `a.matmul(b)` on n × n f32 tensors of `device`, after one product
/// that warms the kernels and the allocator.
pub fn matmul_gflops(device: &Device, n: usize, repeats: usize) -> f64 {
    let a = Tensor::<2>::random([n, n], Distribution::Default, device);
    let b = Tensor::<2>::random([n, n], Distribution::Default, device);
    let product = || {
        let c = a.clone().matmul(b.clone());
        // The CPU backends compute eagerly; sync for the backends that queue work.
        device.sync().expect("the device syncs");
        std::hint::black_box(c);
    };
    product();
    let seconds = seconds_per_call(repeats, 1, product);
    2.0 * (n as f64).powi(3) / seconds / 1e9
}

/// GB/s (bytes read + bytes written) of copying a buffer of `bytes` into another, split
/// among the threads of the current rayon pool (the command's, `device::on_compute_pool`),
/// after one copy that faults the destination's pages in.
pub fn copy_gbps(bytes: usize, repeats: usize) -> f64 {
    let n = (bytes / 4).max(1);
    let source = vec![1.0f32; n];
    let mut target = vec![0.0f32; n];
    // A few chunks a thread: even shares without a task per cache line.
    let chunk = (n / (4 * rayon::current_num_threads())).max(4096);
    let mut copy = || {
        target
            .par_chunks_mut(chunk)
            .zip(source.par_chunks(chunk))
            .for_each(|(to, from)| to.copy_from_slice(from));
        std::hint::black_box(&target);
    };
    copy();
    let seconds = seconds_per_call(repeats, 1, copy);
    2.0 * (n * 4) as f64 / seconds / 1e9
}
