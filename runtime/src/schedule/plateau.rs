//! `ReduceLROnPlateau`: a rate cut when a metric stops improving.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::{LrSchedule, ScheduleError, argument, check_base, count, entries, rate, required};

/// Whether the monitored metric improves downwards or upwards.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PlateauMode {
    /// Lower is better (a loss); PyTorch's default.
    #[default]
    Min,
    /// Higher is better (an accuracy).
    Max,
}

/// How [`PlateauConfig::threshold`] measures a significant improvement.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ThresholdMode {
    /// Relative to the best so far: below `best · (1 − threshold)` (or above
    /// `best · (1 + threshold)` in [`PlateauMode::Max`]); PyTorch's default.
    #[default]
    Rel,
    /// Absolute: below `best − threshold` (or above `best + threshold`).
    Abs,
}

/// Settings of [`ReduceLrOnPlateau`], with PyTorch's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlateauConfig {
    /// Whether lower or higher is better (default [`PlateauMode::Min`]).
    pub mode: PlateauMode,
    /// The factor `f` a cut multiplies the rate by, in `[0, 1)` (default 0.1).
    pub factor: f64,
    /// Epochs without improvement tolerated before a cut (default 10).
    pub patience: usize,
    /// The least improvement that counts, finite and at least 0, below 1 when
    /// relative (default 10⁻⁴).
    pub threshold: f64,
    /// How the threshold is measured (default [`ThresholdMode::Rel`]).
    pub threshold_mode: ThresholdMode,
    /// Epochs after a cut during which bad epochs are not counted (default 0).
    pub cooldown: usize,
    /// The rate is never cut below this, finite and at least 0 (default 0).
    pub min_lr: f64,
    /// Cuts smaller than this are skipped, finite and at least 0 (default 10⁻⁸).
    pub eps: f64,
}

impl Default for PlateauConfig {
    fn default() -> Self {
        PlateauConfig {
            mode: PlateauMode::Min,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            threshold_mode: ThresholdMode::Rel,
            cooldown: 0,
            min_lr: 0.0,
            eps: 1e-8,
        }
    }
}

/// Cuts the rate when a metric stops improving, as `ReduceLROnPlateau`.
///
/// At the end of each epoch, with that epoch's metric `m`:
///
/// ```text
/// if m improves on the best so far (by the threshold): best ← m, bad ← 0
/// else: bad ← bad + 1
/// if cooling down: cooldown_counter ← cooldown_counter − 1, bad ← 0
/// if bad > patience:
///     new ← max(lr · f, min_lr);  lr ← new  if lr − new > eps
///     cooldown_counter ← cooldown,  bad ← 0
/// ```
///
/// The first metric always improves (the best starts at ±∞). Unlike in
/// PyTorch, a metric that is not finite never improves: it counts as a bad
/// epoch, as NaN does in PyTorch (where −∞ would become a best that nothing
/// beats).
///
/// An epoch without a metric (`step(None)`) is ignored: the rate and the
/// counters stay as they are. [`LrSchedule::needs_metric`] says so, for a
/// training loop to check that it has one to give.
///
/// Its state: `lr`, `epoch`, `num_bad_epochs`, `cooldown_counter` and, once
/// there is one, `best`.
#[derive(Clone, Debug)]
pub struct ReduceLrOnPlateau {
    config: PlateauConfig,
    lr: Option<f64>,
    best: Option<f64>,
    num_bad_epochs: usize,
    cooldown_counter: usize,
    epoch: usize,
}

const NAME: &str = "reduce_lr_on_plateau";

impl ReduceLrOnPlateau {
    /// A schedule with these settings, checked.
    pub fn new(config: PlateauConfig) -> Result<Self, ScheduleError> {
        let c = &config;
        argument(NAME, "factor", c.factor, (0.0..1.0).contains(&c.factor), "in [0, 1)")?;
        let (ok, expected) = match c.threshold_mode {
            ThresholdMode::Rel => ((0.0..1.0).contains(&c.threshold), "in [0, 1) when relative"),
            ThresholdMode::Abs => {
                (c.threshold.is_finite() && c.threshold >= 0.0, "finite and at least 0")
            }
        };
        argument(NAME, "threshold", c.threshold, ok, expected)?;
        let ok = c.min_lr.is_finite() && c.min_lr >= 0.0;
        argument(NAME, "min_lr", c.min_lr, ok, "finite and at least 0")?;
        let ok = c.eps.is_finite() && c.eps >= 0.0;
        argument(NAME, "eps", c.eps, ok, "finite and at least 0")?;
        Ok(ReduceLrOnPlateau {
            config,
            lr: None,
            best: None,
            num_bad_epochs: 0,
            cooldown_counter: 0,
            epoch: 0,
        })
    }

    /// The settings.
    pub fn config(&self) -> &PlateauConfig {
        &self.config
    }

    /// The best metric so far, if any.
    pub fn best(&self) -> Option<f64> {
        self.best
    }

    /// Does `m` improve on the best so far?
    fn is_better(&self, m: f64) -> bool {
        let Some(best) = self.best else { return m.is_finite() };
        let t = self.config.threshold;
        m.is_finite()
            && match (self.config.mode, self.config.threshold_mode) {
                (PlateauMode::Min, ThresholdMode::Rel) => m < best * (1.0 - t),
                (PlateauMode::Min, ThresholdMode::Abs) => m < best - t,
                (PlateauMode::Max, ThresholdMode::Rel) => m > best * (t + 1.0),
                (PlateauMode::Max, ThresholdMode::Abs) => m > best + t,
            }
    }
}

impl LrSchedule for ReduceLrOnPlateau {
    fn start(&mut self, base_lr: f64) -> f64 {
        check_base(NAME, base_lr);
        self.lr = Some(base_lr);
        self.best = None;
        self.num_bad_epochs = 0;
        self.cooldown_counter = 0;
        self.epoch = 0;
        base_lr
    }

    fn step(&mut self, metric: Option<f64>) -> f64 {
        let Some(lr) = self.lr else { panic!("{NAME}: stepped before start") };
        self.epoch += 1;
        let Some(m) = metric else { return lr };
        if self.is_better(m) {
            self.best = Some(m);
            self.num_bad_epochs = 0;
        } else {
            self.num_bad_epochs += 1;
        }
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.num_bad_epochs = 0;
        }
        if self.num_bad_epochs > self.config.patience {
            let new = (lr * self.config.factor).max(self.config.min_lr);
            if lr - new > self.config.eps {
                self.lr = Some(new);
            }
            self.cooldown_counter = self.config.cooldown;
            self.num_bad_epochs = 0;
        }
        self.lr.unwrap_or(lr)
    }

    fn name(&self) -> &'static str {
        NAME
    }

    fn needs_metric(&self) -> bool {
        true
    }

    fn state(&self) -> Vec<(&'static str, f64)> {
        let Some(lr) = self.lr else { return Vec::new() };
        let mut state = vec![
            ("lr", lr),
            ("epoch", self.epoch as f64),
            ("num_bad_epochs", self.num_bad_epochs as f64),
            ("cooldown_counter", self.cooldown_counter as f64),
        ];
        if let Some(best) = self.best {
            state.push(("best", best));
        }
        state
    }

    fn load_state(&mut self, state: &[(String, f64)]) -> Result<(), ScheduleError> {
        let names = ["lr", "epoch", "num_bad_epochs", "cooldown_counter", "best"];
        let [lr, epoch, bad, cooldown, best] = entries(NAME, state, names)?;
        let lr = rate(NAME, "lr", required(NAME, "lr", lr)?)?;
        let epoch = count(NAME, "epoch", required(NAME, "epoch", epoch)?)?;
        let bad = count(NAME, "num_bad_epochs", required(NAME, "num_bad_epochs", bad)?)?;
        let cooldown =
            count(NAME, "cooldown_counter", required(NAME, "cooldown_counter", cooldown)?)?;
        if let Some(value) = best.filter(|b| !b.is_finite()) {
            return Err(ScheduleError::InvalidEntry { schedule: NAME, name: "best", value });
        }
        self.lr = Some(lr);
        self.epoch = epoch;
        self.num_bad_epochs = bad;
        self.cooldown_counter = cooldown;
        self.best = best;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use alloc::boxed::Box;
    use alloc::string::ToString;

    use super::super::tests::{assert_resumes, rates};
    use super::*;

    fn plateau(config: PlateauConfig) -> ReduceLrOnPlateau {
        ReduceLrOnPlateau::new(config).expect("valid settings")
    }

    #[test]
    fn cuts_after_patience_bad_epochs() {
        let mut s = plateau(PlateauConfig { patience: 1, factor: 0.5, ..Default::default() });
        assert!(s.needs_metric());
        assert_eq!(s.name(), "reduce_lr_on_plateau");
        // Best 3, then 3 (not better), 4: two bad epochs > 1 → cut.
        let lr = rates(&mut s, 1.0, 6, &[3.0, 3.0, 4.0, 2.0, 2.5]);
        assert_eq!(lr, [1.0, 1.0, 1.0, 0.5, 0.5, 0.5]);
        assert_eq!(s.best(), Some(2.0));
        // The relative threshold: 2 · (1 − 10⁻⁴) = 1.9998 is not beaten by 1.9999.
        assert_eq!(s.step(Some(1.9999)), 0.25);
        assert_eq!(s.best(), Some(2.0));
    }

    #[test]
    fn max_mode_and_absolute_threshold() {
        let config = PlateauConfig {
            mode: PlateauMode::Max,
            threshold_mode: ThresholdMode::Abs,
            threshold: 0.1,
            patience: 0,
            factor: 0.5,
            ..Default::default()
        };
        let mut s = plateau(config);
        // 0.5 best; 0.55 is not 0.1 better: cut; 0.7 is: no cut.
        let lr = rates(&mut s, 1.0, 4, &[0.5, 0.55, 0.7]);
        assert_eq!(lr, [1.0, 1.0, 0.5, 0.5]);
        assert_eq!(s.best(), Some(0.7));
        // Relative, in max mode: above 0.7 · 1.5 = 1.05.
        let config = PlateauConfig { threshold_mode: ThresholdMode::Rel, threshold: 0.5, ..config };
        let mut s = plateau(config);
        let lr = rates(&mut s, 1.0, 4, &[0.7, 1.0, 1.1]);
        assert_eq!(lr, [1.0, 1.0, 0.5, 0.5]);
    }

    #[test]
    fn cooldown_min_lr_and_eps() {
        let config = PlateauConfig {
            patience: 0,
            factor: 0.5,
            cooldown: 2,
            min_lr: 0.3,
            ..Default::default()
        };
        let mut s = plateau(config);
        // Epoch 1 bad → cut to 0.5, then 2 epochs of cooldown, then a cut to
        // max(0.25, 0.3) = 0.3, then no cut below min_lr.
        let lr = rates(&mut s, 1.0, 8, &[1.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0]);
        assert_eq!(lr, [1.0, 1.0, 0.5, 0.5, 0.5, 0.3, 0.3, 0.3]);
        // Cuts smaller than eps are skipped.
        let config = PlateauConfig { patience: 0, factor: 0.5, eps: 0.6, ..Default::default() };
        let mut s = plateau(config);
        assert_eq!(rates(&mut s, 1.0, 4, &[1.0, 2.0, 2.0]), [1.0, 1.0, 1.0, 1.0]);
    }

    #[test]
    fn missing_and_non_finite_metrics() {
        let mut s = plateau(PlateauConfig { patience: 1, factor: 0.5, ..Default::default() });
        s.start(1.0);
        s.step(Some(1.0));
        let state = s.state();
        // No metric: nothing changes but the epoch.
        assert_eq!(s.step(None), 1.0);
        assert_eq!(s.step(None), 1.0);
        assert_eq!(s.state()[2..], state[2..]);
        assert_eq!(s.state()[1], ("epoch", 3.0));
        // Non-finite metrics are bad epochs, and never the best.
        assert_eq!(s.step(Some(f64::NEG_INFINITY)), 1.0);
        assert_eq!(s.step(Some(f64::NAN)), 0.5);
        assert_eq!(s.best(), Some(1.0));
        let mut s = plateau(PlateauConfig { patience: 0, ..Default::default() });
        s.start(1.0);
        assert_eq!(s.step(Some(f64::INFINITY)), 0.1);
        assert_eq!(s.best(), None);
        assert_eq!(s.state().len(), 4);
    }

    #[test]
    fn defaults_are_pytorchs() {
        let c = PlateauConfig::default();
        assert_eq!(c.mode, PlateauMode::Min);
        assert_eq!(c.factor, 0.1);
        assert_eq!(c.patience, 10);
        assert_eq!(c.threshold, 1e-4);
        assert_eq!(c.threshold_mode, ThresholdMode::Rel);
        assert_eq!(c.cooldown, 0);
        assert_eq!(c.min_lr, 0.0);
        assert_eq!(c.eps, 1e-8);
        assert_eq!(plateau(c).config(), &c);
    }

    #[test]
    fn invalid_settings_are_errors() {
        let name = |c: PlateauConfig| match ReduceLrOnPlateau::new(c).unwrap_err() {
            ScheduleError::Argument { name, .. } => name,
            other => panic!("{other}"),
        };
        let base = PlateauConfig::default();
        assert_eq!(name(PlateauConfig { factor: 1.0, ..base }), "factor");
        assert_eq!(name(PlateauConfig { factor: -0.1, ..base }), "factor");
        assert_eq!(name(PlateauConfig { threshold: -0.1, ..base }), "threshold");
        assert_eq!(name(PlateauConfig { threshold: 1.0, ..base }), "threshold");
        let abs = PlateauConfig { threshold_mode: ThresholdMode::Abs, ..base };
        assert!(ReduceLrOnPlateau::new(PlateauConfig { threshold: 5.0, ..abs }).is_ok());
        assert_eq!(name(PlateauConfig { threshold: f64::INFINITY, ..abs }), "threshold");
        assert_eq!(name(PlateauConfig { min_lr: -1.0, ..base }), "min_lr");
        assert_eq!(name(PlateauConfig { eps: f64::NAN, ..base }), "eps");
        assert!(ReduceLrOnPlateau::new(PlateauConfig { factor: 0.0, ..base }).is_ok());
        assert_eq!(
            ReduceLrOnPlateau::new(PlateauConfig { factor: 1.0, ..base }).unwrap_err().to_string(),
            "invalid factor 1 for `reduce_lr_on_plateau`; it must be in [0, 1)"
        );
    }

    #[test]
    fn states_round_trip() {
        let metrics = [
            1.0, 0.9, 0.95, 0.96, 0.97, 0.8, 0.85, 0.86, 0.87, 0.9, 0.91, 0.92, 0.93, 0.94, 0.95,
            0.96, 0.97, 0.98, 0.99, 1.0,
        ];
        let config = PlateauConfig { patience: 1, factor: 0.5, cooldown: 1, ..Default::default() };
        let make: &dyn Fn() -> Box<dyn LrSchedule> = &|| Box::new(plateau(config));
        for at in [0, 1, 2, 3, 4, 6, 8] {
            assert_resumes(make, at, &metrics);
        }
        // A best that is not finite is refused.
        let mut s = plateau(config);
        s.start(0.1);
        s.step(Some(1.0));
        let mut state = super::super::tests::owned(&s.state());
        state[4].1 = f64::INFINITY;
        assert_eq!(
            s.load_state(&state),
            Err(ScheduleError::InvalidEntry { schedule: NAME, name: "best", value: f64::INFINITY })
        );
    }
}
