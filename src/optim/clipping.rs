//! Gradient clipping, applied to the whole gradient before any optimizer's update rule
//! (`[training] clip_grad_norm` or `clip_grad_value`):
//!
//! ```text
//! by global norm c:  g ← g · min(1, c / ‖g‖₂),  ‖g‖₂ over every parameter of the model at once
//! by value c:        g_j ← clamp(g_j, −c, c)
//! ```
//!
//! The global norm keeps the gradient's direction (PyTorch's `clip_grad_norm_`); Burn's
//! built-in `GradientClipping::Norm` clips each parameter tensor by its own norm instead, which
//! changes the direction, so sgdlab does this itself.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GradientClipping {
    /// Rescale to at most this global L2 norm.
    GlobalNorm(f64),
    /// Clamp each component to [−c, c].
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
