//! The lecture's accuracy ρ, measured: `suboptimality = ℓ(f_Θ) − ℓ(f*)` on the whole
//! training set, with f* from [`crate::solve`] and ℓ evaluated in f64 on the model's current
//! parameters (the same objective the solver minimized: the mean loss plus `½ μ ‖Θ‖²`).
//!
//! f64 matters: ρ = 1e-8 is below f32's resolution of a loss near 0.5, while the parameters'
//! own f32 rounding costs only about (1e-7)² in ℓ at the optimum.

use std::sync::Arc;

use crate::data::Dataset;
use crate::model::Model;
use crate::solve::Objective;
use crate::train::monitor::RunMonitor;
use crate::train::trace::flat_parameters;

/// Measures the suboptimality after the last step of every epoch.
pub struct SuboptimalityTracker {
    pub objective: Objective,
    pub data: Arc<Dataset>,
    /// ℓ(f*).
    pub optimum: f64,
}

impl std::fmt::Debug for SuboptimalityTracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SuboptimalityTracker")
            .field("optimum", &self.optimum)
            .finish_non_exhaustive()
    }
}

impl SuboptimalityTracker {
    /// `ℓ(f_Θ) − ℓ(f*)` for `model`'s parameters Θ.
    pub fn measure(&self, model: &Model) -> f64 {
        let parameters: Vec<f64> = flat_parameters(model).into_iter().map(f64::from).collect();
        self.objective.loss(&self.data, &parameters) - self.optimum
    }

    /// Records `epoch`'s suboptimality, measured on `model`, in `monitor`.
    pub fn record(&self, epoch: usize, model: &Model, monitor: &RunMonitor) {
        monitor.record_suboptimality(epoch, self.measure(model));
    }
}
