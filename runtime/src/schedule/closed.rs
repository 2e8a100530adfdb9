//! The schedules whose rate is a function of the epoch: PyTorch's closed
//! forms (`_get_closed_form_lr`).

use alloc::vec;
use alloc::vec::Vec;
use core::f64::consts::PI;

use nalgebra::ComplexField;

use super::{
    LrSchedule, ScheduleError, Sequential, argument, check_base, count, entries, rate, required,
};

/// A schedule's base rate and epoch: all the state of a closed form.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Clock {
    /// The base rate, once started.
    base_lr: Option<f64>,
    /// Epochs since the start.
    epoch: usize,
}

impl Clock {
    #[track_caller]
    fn start(&mut self, schedule: &str, base_lr: f64) {
        check_base(schedule, base_lr);
        *self = Clock { base_lr: Some(base_lr), epoch: 0 };
    }

    /// The next epoch, and the base rate.
    #[track_caller]
    fn tick(&mut self, schedule: &str) -> (f64, usize) {
        let Some(base) = self.base_lr else { panic!("{schedule}: stepped before start") };
        self.epoch += 1;
        (base, self.epoch)
    }

    fn state(&self) -> Vec<(&'static str, f64)> {
        match self.base_lr {
            Some(base) => vec![("base_lr", base), ("epoch", self.epoch as f64)],
            None => Vec::new(),
        }
    }

    fn load(
        schedule: &'static str,
        state: &[(alloc::string::String, f64)],
    ) -> Result<Self, ScheduleError> {
        let [base, epoch] = entries(schedule, state, ["base_lr", "epoch"])?;
        let base = rate(schedule, "base_lr", required(schedule, "base_lr", base)?)?;
        let epoch = count(schedule, "epoch", required(schedule, "epoch", epoch)?)?;
        Ok(Clock { base_lr: Some(base), epoch })
    }
}

/// The [`LrSchedule`] of a closed form `lr_at(base_lr, epoch)`.
macro_rules! closed_form {
    ($ty:ty, $name:literal) => {
        impl LrSchedule for $ty {
            fn start(&mut self, base_lr: f64) -> f64 {
                self.clock.start($name, base_lr);
                self.lr_at(base_lr, 0)
            }

            fn step(&mut self, _metric: Option<f64>) -> f64 {
                let (base, epoch) = self.clock.tick($name);
                self.lr_at(base, epoch)
            }

            fn name(&self) -> &'static str {
                $name
            }

            fn state(&self) -> Vec<(&'static str, f64)> {
                self.clock.state()
            }

            fn load_state(
                &mut self,
                state: &[(alloc::string::String, f64)],
            ) -> Result<(), ScheduleError> {
                self.clock = Clock::load($name, state)?;
                Ok(())
            }
        }
    };
}

/// Checks that `gamma` is finite and above 0.
fn gamma(schedule: &'static str, gamma: f64) -> Result<(), ScheduleError> {
    argument(schedule, "gamma", gamma, gamma.is_finite() && gamma > 0.0, "finite and above 0")
}

/// `base · γ^k` as Python computes `base_lr * gamma ** k`.
fn decayed(base: f64, gamma: f64, k: usize) -> f64 {
    base * ComplexField::powf(gamma, k as f64)
}

/// Decays the rate by `γ` every `step_size` epochs, as `StepLR`:
///
/// ```text
/// lr(e) = base · γ^⌊e / step_size⌋
/// ```
///
/// Its state: `base_lr` and `epoch`.
#[derive(Clone, Debug)]
pub struct StepLr {
    step_size: usize,
    gamma: f64,
    clock: Clock,
}

impl StepLr {
    /// Decays by `gamma` (finite, above 0) every `step_size` (at least 1) epochs.
    pub fn new(step_size: usize, gamma: f64) -> Result<Self, ScheduleError> {
        let ok = step_size >= 1;
        argument("step_lr", "step_size", step_size as f64, ok, "at least 1")?;
        self::gamma("step_lr", gamma)?;
        Ok(StepLr { step_size, gamma, clock: Clock::default() })
    }

    /// The rate of epoch `epoch` (from 0) from base rate `base_lr`.
    pub fn lr_at(&self, base_lr: f64, epoch: usize) -> f64 {
        decayed(base_lr, self.gamma, epoch / self.step_size)
    }
}

closed_form!(StepLr, "step_lr");

/// Decays the rate by `γ` at each milestone epoch, as `MultiStepLR`:
///
/// ```text
/// lr(e) = base · γ^(number of milestones ≤ e)
/// ```
///
/// A milestone given twice decays twice, as in PyTorch. Its state: `base_lr`
/// and `epoch`.
#[derive(Clone, Debug)]
pub struct MultiStepLr {
    milestones: Vec<usize>,
    gamma: f64,
    clock: Clock,
}

impl MultiStepLr {
    /// Decays by `gamma` (finite, above 0) at the epochs `milestones`, in any
    /// order.
    pub fn new(milestones: &[usize], gamma: f64) -> Result<Self, ScheduleError> {
        self::gamma("multi_step_lr", gamma)?;
        let mut milestones = milestones.to_vec();
        milestones.sort_unstable();
        Ok(MultiStepLr { milestones, gamma, clock: Clock::default() })
    }

    /// The rate of epoch `epoch` (from 0) from base rate `base_lr`.
    pub fn lr_at(&self, base_lr: f64, epoch: usize) -> f64 {
        decayed(base_lr, self.gamma, self.milestones.partition_point(|&m| m <= epoch))
    }
}

closed_form!(MultiStepLr, "multi_step_lr");

/// Decays the rate by `γ` every epoch, as `ExponentialLR`:
///
/// ```text
/// lr(e) = base · γ^e
/// ```
///
/// Its state: `base_lr` and `epoch`.
#[derive(Clone, Debug)]
pub struct ExponentialLr {
    gamma: f64,
    clock: Clock,
}

impl ExponentialLr {
    /// Decays by `gamma` (finite, above 0) every epoch.
    pub fn new(gamma: f64) -> Result<Self, ScheduleError> {
        self::gamma("exponential_lr", gamma)?;
        Ok(ExponentialLr { gamma, clock: Clock::default() })
    }

    /// The rate of epoch `epoch` (from 0) from base rate `base_lr`.
    pub fn lr_at(&self, base_lr: f64, epoch: usize) -> f64 {
        decayed(base_lr, self.gamma, epoch)
    }
}

closed_form!(ExponentialLr, "exponential_lr");

/// Anneals the rate from the base to `η_min` along half a cosine over
/// `T_max` epochs, as `CosineAnnealingLR`:
///
/// ```text
/// lr(e) = η_min + (base − η_min) (1 + cos(π e / T_max)) / 2
/// ```
///
/// After `T_max` epochs the cosine goes on, back up towards the base over the
/// next `T_max` epochs, and so on, as in PyTorch (which computes the same
/// values recursively). For a warm-up first, see
/// [`CosineAnnealingLr::with_warmup`]. Its state: `base_lr` and `epoch`.
#[derive(Clone, Debug)]
pub struct CosineAnnealingLr {
    t_max: usize,
    eta_min: f64,
    clock: Clock,
}

impl CosineAnnealingLr {
    /// Anneals to `eta_min` (finite, at least 0) over `t_max` (at least 1)
    /// epochs.
    pub fn new(t_max: usize, eta_min: f64) -> Result<Self, ScheduleError> {
        argument("cosine_annealing_lr", "t_max", t_max as f64, t_max >= 1, "at least 1")?;
        let ok = eta_min.is_finite() && eta_min >= 0.0;
        argument("cosine_annealing_lr", "eta_min", eta_min, ok, "finite and at least 0")?;
        Ok(CosineAnnealingLr { t_max, eta_min, clock: Clock::default() })
    }

    /// A linear warm-up over `warmup_epochs`, then cosine annealing to
    /// `eta_min` over `t_max` epochs: `SequentialLR` of a `LinearLR` and a
    /// `CosineAnnealingLR` with milestone `warmup_epochs` (`w`):
    ///
    /// ```text
    /// lr(e) = base · (e + 1) / (w + 1)                                for e < w
    /// lr(e) = η_min + (base − η_min) (1 + cos(π (e − w) / T_max)) / 2  for e ≥ w
    /// ```
    ///
    /// so the rate climbs in equal steps to the base at epoch `w`, then
    /// anneals; with `w = 0` it is the cosine alone.
    pub fn with_warmup(
        warmup_epochs: usize,
        t_max: usize,
        eta_min: f64,
    ) -> Result<Sequential, ScheduleError> {
        let cosine = alloc::boxed::Box::new(Self::new(t_max, eta_min)?);
        if warmup_epochs == 0 {
            return Sequential::new(vec![cosine], &[]);
        }
        let start = 1.0 / (warmup_epochs as f64 + 1.0);
        let warmup = alloc::boxed::Box::new(LinearLr::new(start, 1.0, warmup_epochs)?);
        Sequential::new(vec![warmup, cosine], &[warmup_epochs])
    }

    /// The rate of epoch `epoch` (from 0) from base rate `base_lr`.
    pub fn lr_at(&self, base_lr: f64, epoch: usize) -> f64 {
        let cos = ComplexField::cos(PI * epoch as f64 / self.t_max as f64);
        self.eta_min + (base_lr - self.eta_min) * (1.0 + cos) / 2.0
    }
}

closed_form!(CosineAnnealingLr, "cosine_annealing_lr");

/// Scales the base rate by a factor moving linearly from `start_factor` to
/// `end_factor` over `total_iters` epochs, then holding, as `LinearLR` (a
/// warm-up when the start is below the end):
///
/// ```text
/// lr(e) = base · (start + (end − start) · min(e, total_iters) / total_iters)
/// ```
///
/// Its state: `base_lr` and `epoch`.
#[derive(Clone, Debug)]
pub struct LinearLr {
    start_factor: f64,
    end_factor: f64,
    total_iters: usize,
    clock: Clock,
}

impl LinearLr {
    /// From `start_factor` (in `(0, 1]`) to `end_factor` (in `[0, 1]`) times
    /// the base rate over `total_iters` (at least 1) epochs, with PyTorch's
    /// bounds. PyTorch's defaults are `(1/3, 1, 5)`.
    pub fn new(
        start_factor: f64,
        end_factor: f64,
        total_iters: usize,
    ) -> Result<Self, ScheduleError> {
        let ok = start_factor > 0.0 && start_factor <= 1.0;
        argument("linear_lr", "start_factor", start_factor, ok, "in (0, 1]")?;
        let ok = (0.0..=1.0).contains(&end_factor);
        argument("linear_lr", "end_factor", end_factor, ok, "in [0, 1]")?;
        argument("linear_lr", "total_iters", total_iters as f64, total_iters >= 1, "at least 1")?;
        Ok(LinearLr { start_factor, end_factor, total_iters, clock: Clock::default() })
    }

    /// The rate of epoch `epoch` (from 0) from base rate `base_lr`.
    pub fn lr_at(&self, base_lr: f64, epoch: usize) -> f64 {
        let done = epoch.min(self.total_iters) as f64;
        let span = self.end_factor - self.start_factor;
        base_lr * (self.start_factor + span * done / self.total_iters as f64)
    }
}

closed_form!(LinearLr, "linear_lr");

#[cfg(test)]
mod tests {
    use alloc::boxed::Box;
    use alloc::string::ToString;

    use super::super::tests::{assert_resumes, rates};
    use super::*;
    use crate::testing::assert_all_close;

    #[test]
    fn step_lr_by_hand() {
        let mut s = StepLr::new(2, 0.1).unwrap();
        let lr = rates(&mut s, 1.0, 6, &[]);
        assert_all_close(&lr, &[1.0, 1.0, 0.1, 0.1, 0.01, 0.01], 1e-15);
        assert_eq!(s.lr_at(1.0, 7), s.lr_at(1.0, 6));
        assert_eq!(s.name(), "step_lr");
        assert!(!s.needs_metric());
        // Restarting starts over, from the new base.
        assert_eq!(s.start(0.5), 0.5);
        assert_eq!(s.step(None), 0.5);
        assert_all_close(&[s.step(None)], &[0.05], 1e-15);
    }

    #[test]
    fn multi_step_lr_by_hand() {
        // Unsorted, with a milestone twice.
        let mut s = MultiStepLr::new(&[4, 1, 4], 0.5).unwrap();
        let lr = rates(&mut s, 1.0, 6, &[]);
        assert_eq!(lr, [1.0, 0.5, 0.5, 0.5, 0.125, 0.125]);
        let mut s = MultiStepLr::new(&[], 0.5).unwrap();
        assert_eq!(rates(&mut s, 1.0, 3, &[]), [1.0; 3]);
    }

    #[test]
    fn exponential_lr_by_hand() {
        let mut s = ExponentialLr::new(0.5).unwrap();
        assert_eq!(rates(&mut s, 2.0, 4, &[]), [2.0, 1.0, 0.5, 0.25]);
        // A growing rate is allowed.
        let mut s = ExponentialLr::new(2.0).unwrap();
        assert_eq!(rates(&mut s, 1.0, 3, &[]), [1.0, 2.0, 4.0]);
    }

    #[test]
    fn cosine_annealing_by_hand() {
        let mut s = CosineAnnealingLr::new(4, 0.0).unwrap();
        let lr = rates(&mut s, 1.0, 9, &[]);
        let h = 0.5 * (1.0 + 0.5f64.sqrt());
        let l = 0.5 * (1.0 - 0.5f64.sqrt());
        // Down to η_min at T_max, then back up.
        assert_all_close(&lr, &[1.0, h, 0.5, l, 0.0, l, 0.5, h, 1.0], 1e-14);
        let mut s = CosineAnnealingLr::new(2, 0.1).unwrap();
        assert_all_close(&rates(&mut s, 0.5, 3, &[]), &[0.5, 0.3, 0.1], 1e-15);
    }

    #[test]
    fn warmup_then_cosine_by_hand() {
        // w = 3: 1/4, 2/4, 3/4 of the base, then a cosine over 4 epochs to 0.1.
        let mut s = CosineAnnealingLr::with_warmup(3, 4, 0.1).unwrap();
        assert_eq!(s.name(), "sequential");
        let lr = rates(&mut s, 2.0, 9, &[]);
        let c = |e: f64| 0.1 + 1.9 * (1.0 + (core::f64::consts::PI * e / 4.0).cos()) / 2.0;
        let want = [0.5, 1.0, 1.5, 2.0, c(1.0), c(2.0), c(3.0), 0.1, c(3.0)];
        assert_all_close(&lr, &want, 1e-15);
        assert_all_close(&lr[4..6], &[0.1 + 1.9 * (2.0 + 2f64.sqrt()) / 4.0, 1.05], 1e-15);
        // Without a warm-up, the cosine alone.
        let mut s = CosineAnnealingLr::with_warmup(0, 4, 0.0).unwrap();
        let mut cosine = CosineAnnealingLr::new(4, 0.0).unwrap();
        assert_eq!(rates(&mut s, 1.0, 9, &[]), rates(&mut cosine, 1.0, 9, &[]));
        // One epoch of warm-up: half the base.
        let mut s = CosineAnnealingLr::with_warmup(1, 2, 0.0).unwrap();
        assert_all_close(&rates(&mut s, 1.0, 4, &[]), &[0.5, 1.0, 0.5, 0.0], 1e-15);
        // Its arguments are checked.
        assert!(CosineAnnealingLr::with_warmup(2, 0, 0.0).is_err());
        assert!(CosineAnnealingLr::with_warmup(2, 5, -1.0).is_err());
    }

    #[test]
    fn linear_lr_by_hand() {
        let mut s = LinearLr::new(0.25, 1.0, 3).unwrap();
        assert_all_close(&rates(&mut s, 4.0, 5, &[]), &[1.0, 2.0, 3.0, 4.0, 4.0], 1e-15);
        // Decaying to 0.
        let mut s = LinearLr::new(1.0, 0.0, 2).unwrap();
        assert_eq!(rates(&mut s, 1.0, 4, &[]), [1.0, 0.5, 0.0, 0.0]);
    }

    #[test]
    fn invalid_arguments_are_errors() {
        let arg = |e: ScheduleError| match e {
            ScheduleError::Argument { schedule, name, .. } => (schedule, name),
            other => panic!("{other}"),
        };
        assert_eq!(arg(StepLr::new(0, 0.5).unwrap_err()), ("step_lr", "step_size"));
        assert_eq!(arg(StepLr::new(1, 0.0).unwrap_err()), ("step_lr", "gamma"));
        assert_eq!(arg(StepLr::new(1, f64::NAN).unwrap_err()), ("step_lr", "gamma"));
        assert_eq!(arg(MultiStepLr::new(&[1], -1.0).unwrap_err()), ("multi_step_lr", "gamma"));
        let e = ExponentialLr::new(f64::INFINITY).unwrap_err();
        assert_eq!(arg(e), ("exponential_lr", "gamma"));
        let e = CosineAnnealingLr::new(0, 0.0).unwrap_err();
        assert_eq!(arg(e), ("cosine_annealing_lr", "t_max"));
        let e = CosineAnnealingLr::new(1, -0.1).unwrap_err();
        assert_eq!(arg(e), ("cosine_annealing_lr", "eta_min"));
        assert_eq!(arg(LinearLr::new(0.0, 1.0, 1).unwrap_err()), ("linear_lr", "start_factor"));
        assert_eq!(arg(LinearLr::new(1.5, 1.0, 1).unwrap_err()), ("linear_lr", "start_factor"));
        assert_eq!(arg(LinearLr::new(0.5, 1.5, 1).unwrap_err()), ("linear_lr", "end_factor"));
        assert_eq!(arg(LinearLr::new(0.5, f64::NAN, 1).unwrap_err()), ("linear_lr", "end_factor"));
        assert_eq!(arg(LinearLr::new(0.5, 1.0, 0).unwrap_err()), ("linear_lr", "total_iters"));
        assert_eq!(
            LinearLr::new(0.0, 1.0, 1).unwrap_err().to_string(),
            "invalid start_factor 0 for `linear_lr`; it must be in (0, 1]"
        );
    }

    #[test]
    fn states_round_trip() {
        let makes: [&dyn Fn() -> Box<dyn LrSchedule>; 6] = [
            &|| Box::new(StepLr::new(3, 0.5).unwrap()),
            &|| Box::new(MultiStepLr::new(&[2, 5, 9], 0.1).unwrap()),
            &|| Box::new(ExponentialLr::new(0.9).unwrap()),
            &|| Box::new(CosineAnnealingLr::new(10, 0.001).unwrap()),
            &|| Box::new(LinearLr::new(0.1, 1.0, 4).unwrap()),
            &|| Box::new(CosineAnnealingLr::with_warmup(3, 5, 0.0).unwrap()),
        ];
        for make in makes {
            for at in [0, 1, 3, 4, 7] {
                assert_resumes(make, at, &[]);
            }
        }
        let s = StepLr::new(3, 0.5).unwrap();
        assert!(s.state().is_empty());
        let mut s = StepLr::new(3, 0.5).unwrap();
        s.start(0.2);
        s.step(None);
        assert_eq!(s.state(), [("base_lr", 0.2), ("epoch", 1.0)]);
    }
}
