//! Checkpoints: a network's weights, its optimizer's state and the trainer's
//! state in one safetensors file.
//!
//! Tensors: the weights under their PyTorch names (`0.weight`, …), so
//! `load_weights` and `safetensors.torch.load_file` read a checkpoint as a
//! weight file; each optimizer buffer per parameter tensor as
//! `optimizer.<buffer>.<tensor>` (`optimizer.exp_avg.0.weight`); with early
//! stopping's restore, the best weights so far as `trainer.best.<tensor>`.
//! Metadata (strings): the network's name and size, the epochs done, the
//! seed, the optimizer's name, steps and learning rate, and as JSON the
//! schedule's state, early stopping's state and the history.

use std::collections::HashMap;
use std::fmt;
use std::format;
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::vec::Vec;

use super::{History, OPTIMIZER_PREFIX, StopState, TRAINER_PREFIX};
use crate::optim::{OptimizerState, StateError};
use crate::schedule::{LrSchedule, ScheduleError};
use crate::weights::{self, Entry, Parsed, WeightsError, WeightsErrorKind};
use crate::{Network, Optimizer};

const EPOCH: &str = "perceptra.epoch";
const PARAMS: &str = "perceptra.params";
const SEED: &str = "perceptra.seed";
const OPTIMIZER: &str = "perceptra.optimizer";
const STEPS: &str = "perceptra.optimizer.steps";
const LR: &str = "perceptra.lr";
const SCHEDULE: &str = "perceptra.schedule";
const STOP: &str = "perceptra.early_stopping";
const HISTORY: &str = "perceptra.history";

/// A checkpoint that cannot be written or does not fit this run.
#[derive(Debug)]
pub struct CheckpointError {
    path: PathBuf,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Io(std::io::Error),
    Weights(WeightsError),
    Mismatch { what: &'static str, expected: String, found: String },
    Optimizer(StateError),
    Schedule(ScheduleError),
}

impl CheckpointError {
    pub(crate) fn io(path: &Path, e: std::io::Error) -> Self {
        CheckpointError { path: path.to_path_buf(), kind: Kind::Io(e) }
    }

    fn new(path: &Path, kind: Kind) -> Self {
        CheckpointError { path: path.to_path_buf(), kind }
    }

    /// The checkpoint file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        match &self.kind {
            Kind::Io(e) => write!(f, "checkpoint {path}: {e}"),
            // A weights error names the file itself.
            Kind::Weights(e) => write!(f, "checkpoint {e}"),
            Kind::Mismatch { what, expected, found } => write!(
                f,
                "checkpoint {path} is for {what} `{found}`, but this run has `{expected}`"
            ),
            Kind::Optimizer(e) => write!(f, "checkpoint {path}: {e}"),
            Kind::Schedule(e) => write!(f, "checkpoint {path}: schedule: {e}"),
        }
    }
}

impl std::error::Error for CheckpointError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            Kind::Io(e) => Some(e),
            Kind::Weights(e) => Some(e),
            Kind::Optimizer(e) => Some(e),
            Kind::Schedule(e) => Some(e),
            Kind::Mismatch { .. } => None,
        }
    }
}

/// The trainer's state to save beside the weights.
pub(crate) struct Meta<'a, T> {
    pub epoch: usize,
    pub seed: u64,
    pub history: &'a History,
    pub stop: &'a StopState,
    pub best: Option<&'a [T]>,
}

/// The bytes of a checkpoint.
pub(crate) fn to_bytes<N, O>(
    net: &N,
    optimizer: &O,
    schedule: Option<&dyn LrSchedule>,
    meta: Meta<'_, N::Scalar>,
) -> Vec<u8>
where
    N: Network + ?Sized,
    O: Optimizer<N::Scalar>,
{
    let state = optimizer.state();
    let mut entries = weights::network_entries::<N>(net.params());
    for (buffer, values) in &state.buffers {
        for t in weights::tensors::<N>() {
            entries.push(Entry {
                name: format!("{OPTIMIZER_PREFIX}{buffer}.{}", t.name),
                shape: t.shape.to_vec(),
                values: &values[t.offset..t.offset + t.len],
            });
        }
    }
    if let Some(best) = meta.best {
        for t in weights::tensors::<N>() {
            entries.push(Entry {
                name: format!("{TRAINER_PREFIX}best.{}", t.name),
                shape: t.shape.to_vec(),
                values: &best[t.offset..t.offset + t.len],
            });
        }
    }
    let mut m = HashMap::new();
    m.insert("format".to_string(), "pt".to_string());
    m.insert(weights::NETWORK_KEY.to_string(), N::NAME.to_string());
    m.insert(PARAMS.to_string(), N::PARAMS.to_string());
    m.insert(EPOCH.to_string(), meta.epoch.to_string());
    m.insert(SEED.to_string(), meta.seed.to_string());
    m.insert(OPTIMIZER.to_string(), optimizer.name().to_string());
    m.insert(STEPS.to_string(), state.steps.to_string());
    m.insert(LR.to_string(), format!("{:?}", optimizer.learning_rate()));
    if let Some(s) = schedule {
        let named: Vec<(&str, f64)> = s.state();
        m.insert(SCHEDULE.to_string(), serde_json::to_string(&named).unwrap_or_default());
    }
    m.insert(STOP.to_string(), serde_json::to_string(meta.stop).unwrap_or_default());
    m.insert(HISTORY.to_string(), serde_json::to_string(meta.history).unwrap_or_default());
    weights::serialize(&entries, m)
}

/// What a checkpoint restores.
pub(crate) struct Restored<T> {
    pub weights: Vec<T>,
    pub epoch: usize,
    pub seed: u64,
    pub history: History,
    pub stop: StopState,
    pub best: Option<Vec<T>>,
}

fn meta<'a>(parsed: &'a Parsed<'_>, key: &str) -> Result<&'a str, WeightsError> {
    parsed.metadata().get(key).map(String::as_str).ok_or_else(|| {
        WeightsError::new(WeightsErrorKind::Metadata {
            key: key.to_string(),
            problem: "missing".to_string(),
        })
    })
}

fn parse<T: std::str::FromStr>(parsed: &Parsed<'_>, key: &str) -> Result<T, WeightsError>
where
    T::Err: fmt::Display,
{
    meta(parsed, key)?.parse().map_err(|e: T::Err| {
        WeightsError::new(WeightsErrorKind::Metadata {
            key: key.to_string(),
            problem: e.to_string(),
        })
    })
}

/// The largest count (epochs, optimizer steps, early stopping's epochs) a
/// checkpoint may hold, as the schedules' states allow: 2⁵³, exact in `f64`
/// and far beyond any run. Larger values can only come from a corrupt file,
/// and would overflow the counting that resumes from them.
const MAX_COUNT: u64 = 1 << 53;

fn invalid(key: &str, problem: String) -> WeightsError {
    WeightsError::new(WeightsErrorKind::Metadata { key: key.to_string(), problem })
}

/// A count in the metadata: a whole number of at most [`MAX_COUNT`].
fn count(parsed: &Parsed<'_>, key: &str) -> Result<u64, WeightsError> {
    let n: u64 = parse(parsed, key)?;
    if n > MAX_COUNT {
        return Err(invalid(key, format!("{n} is more than the {MAX_COUNT} a run can count")));
    }
    Ok(n)
}

fn json<T: serde::de::DeserializeOwned>(parsed: &Parsed<'_>, key: &str) -> Result<T, WeightsError> {
    serde_json::from_str(meta(parsed, key)?).map_err(|e| {
        WeightsError::new(WeightsErrorKind::Metadata {
            key: key.to_string(),
            problem: e.to_string(),
        })
    })
}

/// Reads a checkpoint, restoring `optimizer` and `schedule` in place; the
/// weights and the trainer's state are returned. Everything is checked before
/// anything changes.
pub(crate) fn load<N, O>(
    path: &Path,
    optimizer: &mut O,
    schedule: Option<&mut (dyn LrSchedule + 'static)>,
) -> Result<Restored<N::Scalar>, CheckpointError>
where
    N: Network + ?Sized,
    O: Optimizer<N::Scalar>,
{
    let weights_err = |e: WeightsError| CheckpointError::new(path, Kind::Weights(e.at(path)));
    let limit = weights::size_limit(5 * 8 * N::PARAMS as u64 + 64 * N::LAYERS.len() as u64);
    let bytes = weights::read_bounded(path, limit).map_err(weights_err)?;
    let parsed = Parsed::new(&bytes).map_err(weights_err)?;

    let name = meta(&parsed, weights::NETWORK_KEY).map_err(weights_err)?;
    if name != N::NAME {
        let (expected, found) = (N::NAME.to_string(), name.to_string());
        return Err(CheckpointError::new(
            path,
            Kind::Mismatch { what: "network", expected, found },
        ));
    }
    let params: usize = parse(&parsed, PARAMS).map_err(weights_err)?;
    if params != N::PARAMS {
        let (expected, found) =
            (format!("{} parameters", N::PARAMS), format!("{params} parameters"));
        return Err(CheckpointError::new(
            path,
            Kind::Mismatch { what: "a network of", expected, found },
        ));
    }
    let opt_name = meta(&parsed, OPTIMIZER).map_err(weights_err)?;
    if opt_name != optimizer.name() {
        let (expected, found) = (optimizer.name().to_string(), opt_name.to_string());
        return Err(CheckpointError::new(
            path,
            Kind::Mismatch { what: "optimizer", expected, found },
        ));
    }

    let weights =
        parsed.read_network::<N>(&[OPTIMIZER_PREFIX, TRAINER_PREFIX]).map_err(weights_err)?;
    // Counts and rates are checked as the optimizers and schedules check
    // theirs: a corrupt value is an error here, not an overflow or a NaN
    // in the middle of training.
    let epoch = count(&parsed, EPOCH).map_err(weights_err)?;
    let epoch = usize::try_from(epoch)
        .map_err(|_| weights_err(invalid(EPOCH, format!("{epoch} does not fit in `usize`"))))?;
    let seed: u64 = parse(&parsed, SEED).map_err(weights_err)?;
    let steps = count(&parsed, STEPS).map_err(weights_err)?;
    let lr: f64 = parse(&parsed, LR).map_err(weights_err)?;
    if !(lr.is_finite() && lr >= 0.0) {
        let problem = format!("learning rate {lr} must be finite and at least 0");
        return Err(weights_err(invalid(LR, problem)));
    }
    let history: History = json(&parsed, HISTORY).map_err(weights_err)?;
    let stop: StopState = json(&parsed, STOP).map_err(weights_err)?;
    if let Some(n) = [stop.wait, stop.best_epoch].into_iter().find(|&n| n as u64 > MAX_COUNT) {
        let problem = format!("{n} is more than the {MAX_COUNT} a run can count");
        return Err(weights_err(invalid(STOP, problem)));
    }

    // Optimizer buffers: every `optimizer.<buffer>.<tensor>` of every tensor.
    let mut buffers: Vec<(String, Vec<N::Scalar>)> = Vec::new();
    let first = weights::tensors::<N>().next().map(|t| t.name).unwrap_or_default();
    let mut names: Vec<&str> = parsed.names();
    names.sort_unstable();
    for full in names {
        let Some(rest) = full.strip_prefix(OPTIMIZER_PREFIX) else { continue };
        let Some(buffer) = rest.strip_suffix(first).and_then(|b| b.strip_suffix('.')) else {
            continue;
        };
        let mut values = std::vec![nalgebra::zero::<N::Scalar>(); N::PARAMS];
        for t in weights::tensors::<N>() {
            let name = format!("{OPTIMIZER_PREFIX}{buffer}.{}", t.name);
            parsed
                .read(&name, t.shape, &mut values[t.offset..t.offset + t.len])
                .map_err(weights_err)?;
        }
        buffers.push((buffer.to_string(), values));
    }
    let best = if parsed.names().iter().any(|n| n.starts_with(TRAINER_PREFIX)) {
        let mut best = std::vec![nalgebra::zero::<N::Scalar>(); N::PARAMS];
        for t in weights::tensors::<N>() {
            let name = format!("{TRAINER_PREFIX}best.{}", t.name);
            parsed
                .read(&name, t.shape, &mut best[t.offset..t.offset + t.len])
                .map_err(weights_err)?;
        }
        Some(best)
    } else {
        None
    };

    // Restore the schedule and the optimizer last, so that a bad file
    // changes neither.
    let schedule_state: Option<Vec<(String, f64)>> =
        match (&schedule, parsed.metadata().contains_key(SCHEDULE)) {
            (Some(_), true) => Some(json(&parsed, SCHEDULE).map_err(weights_err)?),
            (Some(_), false) => {
                return Err(CheckpointError::new(
                    path,
                    Kind::Schedule(ScheduleError::Missing(
                        "the checkpoint has no schedule state".to_string(),
                    )),
                ));
            }
            (None, _) => None,
        };
    if let (Some(s), Some(state)) = (schedule, schedule_state) {
        s.load_state(&state).map_err(|e| CheckpointError::new(path, Kind::Schedule(e)))?;
    }
    optimizer
        .load_state(OptimizerState { steps, buffers })
        .map_err(|e| CheckpointError::new(path, Kind::Optimizer(e)))?;
    optimizer.set_learning_rate(lr);
    Ok(Restored { weights, epoch, seed, history, stop, best })
}
