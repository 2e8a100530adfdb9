//! Learning-rate schedules, epoch by epoch, as `torch.optim.lr_scheduler`.
//!
//! A training loop calls [`LrSchedule::start`] with the optimizer's rate
//! before the first epoch and [`LrSchedule::step`] at the end of each epoch,
//! and sets the optimizer's rate to what they return.

mod closed;
mod plateau;
mod sequential;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

pub use closed::{CosineAnnealingLr, ExponentialLr, LinearLr, MultiStepLr, StepLr};
pub use plateau::{PlateauConfig, PlateauMode, ReduceLrOnPlateau, ThresholdMode};
pub use sequential::Sequential;

/// A learning rate that changes from epoch to epoch.
///
/// Object-safe, so a training loop can hold a `Box<dyn LrSchedule>`:
///
/// ```
/// use perceptra_runtime::{CosineAnnealingLr, LrSchedule};
///
/// let mut schedule: Box<dyn LrSchedule> = Box::new(CosineAnnealingLr::new(10, 0.0)?);
/// let mut lr = schedule.start(0.1); // the rate of epoch 0
/// assert_eq!(lr, 0.1);
/// for _epoch in 0..10 {
///     // … train one epoch at `lr` …
///     lr = schedule.step(None); // the rate of the next epoch
/// }
/// assert!(lr.abs() < 1e-15);
/// # Ok::<(), perceptra_runtime::ScheduleError>(())
/// ```
pub trait LrSchedule {
    /// The learning rate for the first epoch, given the optimizer's initial
    /// (base) rate; starts (or restarts) the schedule at epoch 0.
    ///
    /// # Panics
    /// If `base_lr` is negative or not finite.
    fn start(&mut self, base_lr: f64) -> f64;

    /// Called once at the end of each epoch, with that epoch's monitored
    /// metric (e.g. validation loss) when there is one; returns the learning
    /// rate for the next epoch.
    ///
    /// # Panics
    /// If the schedule was neither started nor loaded from a state.
    fn step(&mut self, metric: Option<f64>) -> f64;

    /// A short name for checkpoints, logs and errors: `"step_lr"`, …
    fn name(&self) -> &'static str;

    /// Does [`LrSchedule::step`] use the metric? (Those that do ignore epochs
    /// without one: see [`ReduceLrOnPlateau`].)
    fn needs_metric(&self) -> bool {
        false
    }

    /// State for checkpoints: named numbers, enough to resume exactly; all
    /// finite (so that they survive JSON). Empty before [`LrSchedule::start`].
    fn state(&self) -> Vec<(&'static str, f64)>;

    /// Restores a state from [`LrSchedule::state`] (in any order), after which
    /// the schedule steps on as the one it was taken from; an error names what
    /// is missing or wrong, and leaves the schedule unchanged.
    fn load_state(&mut self, state: &[(String, f64)]) -> Result<(), ScheduleError>;
}

/// A schedule's arguments or state that cannot work.
#[derive(Clone, Debug, PartialEq)]
pub enum ScheduleError {
    /// An argument out of its range.
    Argument {
        /// The schedule's name.
        schedule: &'static str,
        /// The argument's name.
        name: &'static str,
        /// Its value.
        value: f64,
        /// What it must be, as in "it must be `expected`".
        expected: &'static str,
    },
    /// [`Sequential`] milestones that are not one fewer than the schedules.
    MilestoneCount {
        /// The number of schedules.
        schedules: usize,
        /// The number of milestones.
        milestones: usize,
    },
    /// [`Sequential`] milestones that do not increase from above 0.
    Milestones(Vec<usize>),
    /// A [`Sequential`] inside another (their states would clash).
    NestedSequential,
    /// A state that lacks something; the message says what.
    Missing(String),
    /// A state entry this schedule does not keep, or keeps once.
    UnknownEntry {
        /// The schedule's name.
        schedule: &'static str,
        /// The entry's name.
        name: String,
    },
    /// A state entry whose value cannot be.
    InvalidEntry {
        /// The schedule's name.
        schedule: &'static str,
        /// The entry's name.
        name: &'static str,
        /// Its value.
        value: f64,
    },
}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScheduleError::Argument { schedule, name, value, expected } => {
                write!(f, "invalid {name} {value} for `{schedule}`; it must be {expected}")
            }
            ScheduleError::MilestoneCount { schedules, milestones } => write!(
                f,
                "{schedules} sequential schedules need {} milestones, found {milestones}",
                schedules.saturating_sub(1)
            ),
            ScheduleError::Milestones(m) => {
                write!(f, "invalid milestones {m:?}; they must increase from above 0")
            }
            ScheduleError::NestedSequential => {
                f.write_str("a sequential schedule cannot hold another")
            }
            ScheduleError::Missing(what) => f.write_str(what),
            ScheduleError::UnknownEntry { schedule, name } => {
                write!(f, "the state of `{schedule}` has an unexpected entry `{name}`")
            }
            ScheduleError::InvalidEntry { schedule, name, value } => {
                write!(f, "invalid `{name}` {value} in the state of `{schedule}`")
            }
        }
    }
}

impl core::error::Error for ScheduleError {}

/// Checks an argument of `schedule`: `Ok` when `ok(value)`.
fn argument(
    schedule: &'static str,
    name: &'static str,
    value: f64,
    ok: bool,
    expected: &'static str,
) -> Result<(), ScheduleError> {
    if ok { Ok(()) } else { Err(ScheduleError::Argument { schedule, name, value, expected }) }
}

/// Panics unless `base_lr` can start a schedule.
#[track_caller]
fn check_base(schedule: &str, base_lr: f64) {
    assert!(
        base_lr.is_finite() && base_lr >= 0.0,
        "{schedule}: invalid base learning rate {base_lr}; it must be finite and at least 0"
    );
}

/// The entries `names` of a state, each at most once and no others.
fn entries<const N: usize>(
    schedule: &'static str,
    state: &[(String, f64)],
    names: [&'static str; N],
) -> Result<[Option<f64>; N], ScheduleError> {
    let mut found = [None; N];
    for (name, value) in state {
        match names.iter().position(|n| n == name) {
            Some(i) if found[i].is_none() => found[i] = Some(*value),
            _ => return Err(ScheduleError::UnknownEntry { schedule, name: name.clone() }),
        }
    }
    Ok(found)
}

/// An entry that must be there.
fn required(
    schedule: &'static str,
    name: &'static str,
    value: Option<f64>,
) -> Result<f64, ScheduleError> {
    value
        .ok_or_else(|| ScheduleError::Missing(format!("the state of `{schedule}` has no `{name}`")))
}

/// A count: a whole number from 0 to 2⁵³.
fn count(schedule: &'static str, name: &'static str, value: f64) -> Result<usize, ScheduleError> {
    const MAX: f64 = (1u64 << 53) as f64;
    if (0.0..=MAX).contains(&value) && value == (value as u64) as f64 {
        Ok(value as usize)
    } else {
        Err(ScheduleError::InvalidEntry { schedule, name, value })
    }
}

/// A rate: finite and at least 0.
fn rate(schedule: &'static str, name: &'static str, value: f64) -> Result<f64, ScheduleError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(ScheduleError::InvalidEntry { schedule, name, value })
    }
}

#[cfg(test)]
mod tests {
    use alloc::borrow::ToOwned;
    use alloc::boxed::Box;
    use alloc::string::ToString;
    use alloc::vec;

    use super::*;

    /// Runs `schedule` from `base` for `epochs` epochs with `metrics`: the
    /// rate of each epoch.
    pub(super) fn rates(
        schedule: &mut dyn LrSchedule,
        base: f64,
        epochs: usize,
        metrics: &[f64],
    ) -> Vec<f64> {
        let mut lr = vec![schedule.start(base)];
        for e in 1..epochs {
            lr.push(schedule.step(metrics.get(e - 1).copied()));
        }
        lr
    }

    /// The state as `load_state` takes it.
    pub(super) fn owned(state: &[(&'static str, f64)]) -> Vec<(String, f64)> {
        state.iter().map(|&(n, v)| (n.to_owned(), v)).collect()
    }

    /// Takes the state after `at` epochs, loads it into `fresh`, and checks
    /// that both step on alike, with `metrics`; and that bad states are
    /// rejected, leaving `fresh` unchanged.
    pub(super) fn assert_resumes(
        make: &dyn Fn() -> Box<dyn LrSchedule>,
        at: usize,
        metrics: &[f64],
    ) {
        let mut a = make();
        assert!(a.state().is_empty(), "{}: state before start", a.name());
        rates(a.as_mut(), 0.1, at + 1, metrics);
        let state = a.state();
        assert!(state.iter().all(|(_, v)| v.is_finite()));
        let mut b = make();
        b.load_state(&owned(&state)).expect("its own state");
        assert_eq!(b.state(), state);
        // In another order too.
        let mut c = make();
        let mut reversed = owned(&state);
        reversed.reverse();
        c.load_state(&reversed).expect("its own state, reversed");
        assert_eq!(c.state(), state);
        for e in at..at + 12 {
            let m = metrics.get(e).copied();
            let (x, y, z) = (a.step(m), b.step(m), c.step(m));
            assert_eq!(x.to_bits(), y.to_bits(), "{}: epoch {}", a.name(), e + 1);
            assert_eq!(x.to_bits(), z.to_bits(), "{}: epoch {}", a.name(), e + 1);
        }
        assert_eq!(a.state(), b.state());

        // Bad states leave the schedule as it was.
        let name = b.name();
        let before = b.state();
        let mut bad = owned(&state);
        bad.push(("bogus".to_owned(), 1.0));
        let err = b.load_state(&bad).unwrap_err();
        assert!(matches!(err, ScheduleError::UnknownEntry { ref name, .. } if name == "bogus"));
        let mut bad = owned(&state);
        bad.push(bad[0].clone());
        assert!(matches!(b.load_state(&bad), Err(ScheduleError::UnknownEntry { .. })));
        for i in 0..state.len() {
            let mut bad = owned(&state);
            let (entry, _) = bad.remove(i);
            match b.load_state(&bad) {
                Err(ScheduleError::Missing(m)) => assert!(m.contains(&entry), "{m}"),
                // Optional entries.
                Ok(()) => assert_eq!(entry, "best"),
                Err(e) => panic!("{name} without {entry}: {e}"),
            }
            b.load_state(&owned(&before)).unwrap();
            let mut bad = owned(&state);
            if bad[i].0 != "best" {
                bad[i].1 = -0.5;
                assert!(
                    matches!(b.load_state(&bad), Err(ScheduleError::InvalidEntry { .. })),
                    "{name}: {} = -0.5",
                    bad[i].0
                );
                assert_eq!(b.state(), before);
            }
            bad[i].1 = f64::NAN;
            assert!(b.load_state(&bad).is_err());
            assert_eq!(b.state(), before);
        }
        assert!(matches!(b.load_state(&[]), Err(ScheduleError::Missing(_))));
        assert_eq!(b.state(), before);
    }

    #[test]
    fn error_messages() {
        let e = StepLr::new(0, 0.5).unwrap_err();
        assert_eq!(e.to_string(), "invalid step_size 0 for `step_lr`; it must be at least 1");
        let e = ExponentialLr::new(-0.5).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid gamma -0.5 for `exponential_lr`; it must be finite and above 0"
        );
        let e = ScheduleError::MilestoneCount { schedules: 3, milestones: 1 };
        assert_eq!(e.to_string(), "3 sequential schedules need 2 milestones, found 1");
        let e = ScheduleError::Milestones(vec![3, 2]);
        assert_eq!(e.to_string(), "invalid milestones [3, 2]; they must increase from above 0");
        let e = ScheduleError::UnknownEntry { schedule: "step_lr", name: "x".to_owned() };
        assert_eq!(e.to_string(), "the state of `step_lr` has an unexpected entry `x`");
        let e = ScheduleError::InvalidEntry { schedule: "step_lr", name: "epoch", value: 0.5 };
        assert_eq!(e.to_string(), "invalid `epoch` 0.5 in the state of `step_lr`");
        let e = StepLr::new(1, 0.5).unwrap().load_state(&[]).unwrap_err();
        assert_eq!(e.to_string(), "the state of `step_lr` has no `base_lr`");
        assert_eq!(
            ScheduleError::NestedSequential.to_string(),
            "a sequential schedule cannot hold another"
        );
    }

    #[test]
    fn counts_are_whole() {
        assert_eq!(count("s", "epoch", 3.0), Ok(3));
        assert_eq!(count("s", "epoch", 0.0), Ok(0));
        for bad in [-1.0, 0.5, f64::NAN, f64::INFINITY, 1e300] {
            assert!(count("s", "epoch", bad).is_err(), "{bad}");
        }
    }

    #[test]
    #[should_panic(
        expected = "step_lr: invalid base learning rate -1; it must be finite and at least 0"
    )]
    fn negative_base_rates_panic() {
        StepLr::new(1, 0.5).unwrap().start(-1.0);
    }

    #[test]
    #[should_panic(expected = "exponential_lr: stepped before start")]
    fn stepping_before_start_panics() {
        ExponentialLr::new(0.5).unwrap().step(None);
    }

    /// The six schedules of `torch.optim.lr_scheduler` in the shared
    /// fixtures, over 12 epochs from base rate 0.1, to 10⁻¹².
    #[cfg(feature = "std")]
    #[test]
    fn matches_pytorch() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/schedules.json");
        let Ok(text) = std::fs::read_to_string(path) else {
            std::eprintln!("skipping: {path} is absent");
            return;
        };
        let fixture: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        let floats = |v: &serde_json::Value| -> Vec<f64> {
            v.as_array().expect("an array").iter().map(|x| x.as_f64().expect("a number")).collect()
        };
        let cases = fixture["cases"].as_object().unwrap();
        let plateau = PlateauConfig {
            mode: PlateauMode::Min,
            factor: 0.5,
            patience: 2,
            threshold: 1e-4,
            ..PlateauConfig::default()
        };
        let mut schedules: Vec<(&str, &str, Box<dyn LrSchedule>)> = vec![
            ("step_lr", "StepLR(step_size=3, gamma=0.5)", Box::new(StepLr::new(3, 0.5).unwrap())),
            (
                "multistep_lr",
                "MultiStepLR(milestones=[2, 5, 9], gamma=0.1)",
                Box::new(MultiStepLr::new(&[2, 5, 9], 0.1).unwrap()),
            ),
            (
                "exponential_lr",
                "ExponentialLR(gamma=0.9)",
                Box::new(ExponentialLr::new(0.9).unwrap()),
            ),
            (
                "cosine_annealing",
                "CosineAnnealingLR(T_max=10, eta_min=0.001)",
                Box::new(CosineAnnealingLr::new(10, 0.001).unwrap()),
            ),
            (
                "linear_warmup",
                "LinearLR(start_factor=0.1, total_iters=4)",
                Box::new(LinearLr::new(0.1, 1.0, 4).unwrap()),
            ),
            (
                "reduce_on_plateau",
                "ReduceLROnPlateau(mode='min', factor=0.5, patience=2, threshold=1e-4)",
                Box::new(ReduceLrOnPlateau::new(plateau).unwrap()),
            ),
        ];
        assert_eq!(cases.len(), schedules.len(), "every case is checked");
        for (name, torch, schedule) in &mut schedules {
            let case = &cases[*name];
            assert_eq!(case["scheduler"], *torch);
            let want = floats(&case["lr"]);
            assert_eq!(want.len(), 12);
            let metrics =
                if case.get("metrics").is_some() { floats(&case["metrics"]) } else { vec![] };
            let got = rates(schedule.as_mut(), 0.1, 12, &metrics);
            for (e, (&g, &w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (g - w).abs() <= 1e-12 * w.abs(),
                    "{name}, epoch {e}: got {g:e}, PyTorch {w:e}"
                );
            }
        }
    }
}
