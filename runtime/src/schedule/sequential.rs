//! `SequentialLR`: schedules one after another.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use super::{LrSchedule, ScheduleError, check_base, count, rate, required};

const NAME: &str = "sequential";
const EPOCH: &str = "sequential_epoch";
const BASE: &str = "sequential_base_lr";

/// Schedules in turn, each from a milestone epoch on, as `SequentialLR`.
///
/// With schedules `s₀ … sₙ` and milestones `m₁ < … < mₙ`, epochs before `m₁`
/// follow `s₀`; at epoch `mₖ`, `sₖ` starts afresh from the base rate (so its
/// epoch 0 is the sequence's epoch `mₖ`) and is followed until `mₖ₊₁`:
///
/// ```text
/// lr(e) = sₖ(e − mₖ)   for mₖ ≤ e < mₖ₊₁   (m₀ = 0)
/// ```
///
/// Each `step` goes to the current schedule only, with its metric.
/// [`CosineAnnealingLr::with_warmup`](super::CosineAnnealingLr::with_warmup)
/// builds the usual warm-up then cosine.
///
/// Its state: `sequential_epoch`, `sequential_base_lr`, and the current
/// schedule's state beside them (which is why a sequence cannot hold another).
pub struct Sequential {
    schedules: Vec<Box<dyn LrSchedule>>,
    milestones: Vec<usize>,
    base_lr: Option<f64>,
    epoch: usize,
}

impl Sequential {
    /// `schedules` in turn, switching at the `milestones` (one fewer,
    /// increasing from above 0).
    pub fn new(
        schedules: Vec<Box<dyn LrSchedule>>,
        milestones: &[usize],
    ) -> Result<Self, ScheduleError> {
        if milestones.len() + 1 != schedules.len() {
            return Err(ScheduleError::MilestoneCount {
                schedules: schedules.len(),
                milestones: milestones.len(),
            });
        }
        let increasing =
            milestones.first().is_none_or(|&m| m > 0) && milestones.windows(2).all(|w| w[0] < w[1]);
        if !increasing {
            return Err(ScheduleError::Milestones(milestones.to_vec()));
        }
        if schedules.iter().any(|s| s.name() == NAME) {
            return Err(ScheduleError::NestedSequential);
        }
        Ok(Sequential { schedules, milestones: milestones.to_vec(), base_lr: None, epoch: 0 })
    }

    /// The index of the schedule of epoch `epoch`.
    fn current(&self, epoch: usize) -> usize {
        self.milestones.partition_point(|&m| m <= epoch)
    }
}

impl core::fmt::Debug for Sequential {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let names: Vec<&str> = self.schedules.iter().map(|s| s.name()).collect();
        f.debug_struct("Sequential")
            .field("schedules", &names)
            .field("milestones", &self.milestones)
            .field("base_lr", &self.base_lr)
            .field("epoch", &self.epoch)
            .finish()
    }
}

impl LrSchedule for Sequential {
    fn start(&mut self, base_lr: f64) -> f64 {
        check_base(NAME, base_lr);
        self.base_lr = Some(base_lr);
        self.epoch = 0;
        self.schedules[0].start(base_lr)
    }

    fn step(&mut self, metric: Option<f64>) -> f64 {
        let Some(base) = self.base_lr else { panic!("{NAME}: stepped before start") };
        self.epoch += 1;
        let k = self.current(self.epoch);
        if k > 0 && self.milestones[k - 1] == self.epoch {
            self.schedules[k].start(base)
        } else {
            self.schedules[k].step(metric)
        }
    }

    fn name(&self) -> &'static str {
        NAME
    }

    fn needs_metric(&self) -> bool {
        self.schedules.iter().any(|s| s.needs_metric())
    }

    fn state(&self) -> Vec<(&'static str, f64)> {
        let Some(base) = self.base_lr else { return Vec::new() };
        let mut state = alloc::vec![(EPOCH, self.epoch as f64), (BASE, base)];
        state.extend(self.schedules[self.current(self.epoch)].state());
        state
    }

    fn load_state(&mut self, state: &[(String, f64)]) -> Result<(), ScheduleError> {
        let (own, inner): (Vec<_>, Vec<_>) =
            state.iter().cloned().partition(|(name, _)| name == EPOCH || name == BASE);
        let [epoch, base] = super::entries(NAME, &own, [EPOCH, BASE])?;
        let epoch = count(NAME, EPOCH, required(NAME, EPOCH, epoch)?)?;
        let base = rate(NAME, BASE, required(NAME, BASE, base)?)?;
        let k = self.current(epoch);
        self.schedules[k].load_state(&inner)?;
        self.epoch = epoch;
        self.base_lr = Some(base);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use alloc::borrow::ToOwned;
    use alloc::vec;

    use super::super::tests::{assert_resumes, owned, rates};
    use super::super::{ExponentialLr, LinearLr, PlateauConfig, ReduceLrOnPlateau, StepLr};
    use super::*;
    use crate::testing::assert_all_close;

    fn exp(gamma: f64) -> Box<dyn LrSchedule> {
        Box::new(ExponentialLr::new(gamma).unwrap())
    }

    #[test]
    fn schedules_follow_each_other() {
        // Halving for 2 epochs, then constant (γ = 1) for 2, then 10 % less
        // each epoch, each from the base.
        let mut s = Sequential::new(vec![exp(0.5), exp(1.0), exp(0.9)], &[2, 4]).unwrap();
        let lr = rates(&mut s, 1.0, 7, &[]);
        assert_all_close(&lr, &[1.0, 0.5, 1.0, 1.0, 1.0, 0.9, 0.81], 1e-15);
        assert!(!s.needs_metric());
        // As PyTorch's SequentialLR(LinearLR, ExponentialLR, milestones=[2]).
        let warm: Box<dyn LrSchedule> = Box::new(LinearLr::new(0.5, 1.0, 2).unwrap());
        let mut s = Sequential::new(vec![warm, exp(0.5)], &[2]).unwrap();
        assert_all_close(&rates(&mut s, 1.0, 5, &[]), &[0.5, 0.75, 1.0, 0.5, 0.25], 1e-15);
        // A single schedule.
        let mut s = Sequential::new(vec![exp(0.5)], &[]).unwrap();
        assert_eq!(rates(&mut s, 1.0, 3, &[]), [1.0, 0.5, 0.25]);
        let d = alloc::format!("{s:?}");
        assert!(d.contains("exponential_lr"), "{d}");
    }

    #[test]
    fn metrics_go_to_the_current_schedule() {
        let plateau = PlateauConfig { patience: 0, factor: 0.5, ..Default::default() };
        let plateau: Box<dyn LrSchedule> = Box::new(ReduceLrOnPlateau::new(plateau).unwrap());
        let mut s = Sequential::new(vec![exp(1.0), plateau], &[2]).unwrap();
        assert!(s.needs_metric());
        // The metrics of epochs 0 and 1 are not the plateau's: it starts at 2.
        let lr = rates(&mut s, 1.0, 6, &[9.0, 9.0, 1.0, 2.0, 0.5]);
        assert_eq!(lr, [1.0, 1.0, 1.0, 1.0, 0.5, 0.5]);
        let make: &dyn Fn() -> Box<dyn LrSchedule> = &|| {
            let plateau = PlateauConfig { patience: 1, factor: 0.5, ..Default::default() };
            let plateau: Box<dyn LrSchedule> = Box::new(ReduceLrOnPlateau::new(plateau).unwrap());
            Box::new(Sequential::new(vec![exp(0.9), plateau], &[3]).unwrap())
        };
        let metrics = [
            5.0, 4.0, 3.0, 1.0, 1.1, 1.2, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
            1.0, 1.0, 1.0,
        ];
        for at in [0, 2, 3, 4, 6] {
            assert_resumes(make, at, &metrics);
        }
    }

    #[test]
    fn invalid_sequences_are_errors() {
        let e = Sequential::new(vec![exp(0.5), exp(0.5)], &[]).unwrap_err();
        assert_eq!(e, ScheduleError::MilestoneCount { schedules: 2, milestones: 0 });
        let e = Sequential::new(vec![], &[]).unwrap_err();
        assert_eq!(e, ScheduleError::MilestoneCount { schedules: 0, milestones: 0 });
        let e = Sequential::new(vec![exp(0.5), exp(0.5), exp(0.5)], &[3, 3]).unwrap_err();
        assert_eq!(e, ScheduleError::Milestones(vec![3, 3]));
        let e = Sequential::new(vec![exp(0.5), exp(0.5)], &[0]).unwrap_err();
        assert_eq!(e, ScheduleError::Milestones(vec![0]));
        let inner: Box<dyn LrSchedule> = Box::new(Sequential::new(vec![exp(0.5)], &[]).unwrap());
        let e = Sequential::new(vec![exp(0.5), inner], &[2]).unwrap_err();
        assert_eq!(e, ScheduleError::NestedSequential);
    }

    #[test]
    fn states_round_trip() {
        let make: &dyn Fn() -> Box<dyn LrSchedule> = &|| {
            let step: Box<dyn LrSchedule> = Box::new(StepLr::new(2, 0.5).unwrap());
            Box::new(Sequential::new(vec![exp(0.5), step, exp(0.9)], &[2, 5]).unwrap())
        };
        for at in [0, 1, 2, 3, 5, 6] {
            assert_resumes(make, at, &[]);
        }
        // The state of the current schedule sits beside the sequence's own.
        let mut s = make();
        rates(s.as_mut(), 0.1, 4, &[]);
        assert_eq!(
            s.state(),
            [
                ("sequential_epoch", 3.0),
                ("sequential_base_lr", 0.1),
                ("base_lr", 0.1),
                ("epoch", 1.0)
            ]
        );
        // A state whose epoch falls in another schedule's span loads into that
        // schedule, when the entries fit.
        let mut bad = owned(&s.state());
        bad[0].1 = 7.0;
        let before = s.state();
        assert!(s.load_state(&bad).is_ok(), "exponential_lr takes the same entries");
        s.load_state(&owned(&before)).unwrap();
        bad.push(("bogus".to_owned(), 0.0));
        assert!(s.load_state(&bad).is_err());
        assert_eq!(s.state(), before);
    }
}
