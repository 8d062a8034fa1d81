//! Gradient clipping, [`GradientClipping`], applied to the whole gradient before any
//! optimizer's update rule.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

/// Gradient clipping, `[training] clip_grad_norm = c` or `clip_grad_value = c` (one of the
/// two), applied to the gradient g of the whole model before any optimizer's update rule
/// (and so before its weight decay):
///
/// ```text
/// by global norm c:  ‖g‖₂ = √(Σ_j g_j²), over every parameter of the model at once
///                    if ‖g‖₂ > c:  g ← g · c / ‖g‖₂
/// by value c:        g_j ← clamp(g_j, −c, c) for every component j
/// ```
///
/// The global norm keeps the gradient's direction, as PyTorch's
/// `torch.nn.utils.clip_grad_norm_(parameters, max_norm=c)`, except that PyTorch divides by
/// `‖g‖₂ + 1e-6` (and so shrinks by a factor just under 1 even at ‖g‖₂ = c); Burn's built-in
/// `GradientClipping::Norm` clips each parameter tensor by its own norm instead, which
/// changes the direction, so sgdlab does this itself. By value is
/// `torch.nn.utils.clip_grad_value_(parameters, clip_value=c)`.
///
/// | symbol | `[training]` key | default | PyTorch |
/// |---|---|---|---|
/// | c | `clip_grad_norm` | unset (no clipping) | `clip_grad_norm_(max_norm=…)` |
/// | c | `clip_grad_value` | unset (no clipping) | `clip_grad_value_(clip_value=…)` |
///
/// Reference: Pascanu, Mikolov & Bengio, "On the difficulty of training recurrent neural
/// networks", ICML 2013.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GradientClipping {
    /// Rescale g to at most this global L2 norm c (`clip_grad_norm`).
    GlobalNorm(f64),
    /// Clamp each component of g to [−c, c] (`clip_grad_value`).
    Value(f64),
}

/// `grads` of `module`'s parameters, clipped.
pub fn clip_gradients<M: Module>(
    module: &M,
    mut grads: GradientsParams,
    clipping: GradientClipping,
) -> GradientsParams {
    match clipping {
        GradientClipping::Value(limit) => {
            module.visit(&mut Rescale {
                grads: &mut grads,
                map: |g: Tensor<1>| g.clamp(-limit, limit),
            });
        }
        GradientClipping::GlobalNorm(limit) => {
            let norm = global_norm(module, &grads);
            if norm > limit {
                let factor = limit / norm;
                module.visit(&mut Rescale {
                    grads: &mut grads,
                    map: |g: Tensor<1>| g.mul_scalar(factor),
                });
            }
        }
    }
    grads
}

/// `‖g‖₂` over every parameter of `module` that has a gradient.
pub fn global_norm<M: Module>(module: &M, grads: &GradientsParams) -> f64 {
    let mut visitor = SumOfSquares { grads, total: None };
    module.visit(&mut visitor);
    visitor
        .total
        .map_or(0.0, |total| f64::from(total.into_scalar::<f32>()).sqrt())
}

struct SumOfSquares<'a> {
    grads: &'a GradientsParams,
    total: Option<Tensor<1>>,
}

impl ModuleVisitor for SumOfSquares<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(gradient) = self.grads.get::<D>(param.id) {
            let squares = gradient.square().sum();
            self.total = Some(match self.total.take() {
                Some(total) => total + squares,
                None => squares,
            });
        }
    }
}

/// Replaces each parameter's gradient with `map(gradient)`.
struct Rescale<'a, F> {
    grads: &'a mut GradientsParams,
    map: F,
}

/// A rank-generic tensor map (closures cannot be generic over the rank D).
trait TensorMap {
    fn apply<const D: usize>(&self, tensor: Tensor<D>) -> Tensor<D>;
}

impl<F: Fn(Tensor<1>) -> Tensor<1>> TensorMap for F {
    fn apply<const D: usize>(&self, tensor: Tensor<D>) -> Tensor<D> {
        let shape = tensor.shape();
        let flat: Tensor<1> = tensor.reshape([-1]);
        self(flat).reshape(shape)
    }
}

impl<F: TensorMap> ModuleVisitor for Rescale<'_, F> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(gradient) = self.grads.remove::<D>(param.id) {
            self.grads.register(param.id, self.map.apply(gradient));
        }
    }
}
