//! `fit`: training like Keras' `model.fit` and a `torch.optim` loop.
//!
//! ```ignore
//! let history = Trainer::new(CrossEntropy, Adam::new(AdamConfig::default())?)
//!     .epochs(10)
//!     .batch_size(64)
//!     .validation_split(0.1)
//!     .schedule(CosineAnnealingLr::with_warmup(1, 10, 0.0)?)
//!     .early_stopping(EarlyStopping::default())
//!     .checkpoints(Checkpoints::new("runs/mnist"))
//!     .fit(&mut net, &data.train, None)?;
//! history.write_csv("runs/mnist/history.csv")?;
//! ```
//!
//! Each epoch shuffles the training samples, runs minibatches forward in
//! training mode and backward, clips the gradients if asked, steps the
//! optimizer, then evaluates on the validation data, steps the learning-rate
//! schedule, records a [`EpochReport`] and runs the callbacks (early stopping,
//! checkpoints, your own). Every random draw (shuffles, dropout masks) derives
//! from the seed and the epoch, so a run resumed from a checkpoint continues
//! exactly as the uninterrupted run would have, bit for bit.

mod checkpoint;
mod history;
#[cfg(feature = "plot")]
mod plot;
mod progress;

use std::boxed::Box;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;
use std::vec::Vec;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

pub use checkpoint::CheckpointError;
pub use history::{EpochReport, History};
#[cfg(feature = "plot")]
pub use plot::{PlotError, PlotFiles};
pub use progress::Progress;

use crate::aligned::AlignedVec;
use crate::backprop::{Gradients, Workspace, train_pass};
use crate::data::{Dataset, Sample};
use crate::gemm::{Rows, for_each_piece, prefetch};
use crate::optim::{clip_grad_norm, clip_grad_value};
use crate::rng::mix;
use crate::schedule::LrSchedule;
use crate::{Float, Loss, Mode, Network, NetworkExt, NetworkMut, Optimizer, TargetError, Vector};

/// How many samples ahead of the one it copies [`gather`] asks for.
const PREFETCH_AHEAD: usize = 4;

/// Writes the samples `indices` of `inputs` into `x`, one after the other,
/// shared between the cores: copying a batch of rows scattered over a data
/// set is bound by memory latency, which two cores hide better than one, and
/// each core asks for the rows a few samples ahead of the one it copies.
fn gather<V: Vector, X: Sample<V>>(inputs: &[X], indices: &[usize], x: &mut AlignedVec<V::Scalar>) {
    let width = V::LEN;
    // Keeps the length of the previous batch: nothing to fill.
    x.resize(indices.len() * width);
    let rows = Rows { data: x.as_mut_slice(), width };
    for_each_piece(8, (rows, indices), &|(rows, indices)| {
        for (k, (dst, &i)) in rows.data.chunks_exact_mut(width).zip(indices).enumerate() {
            if let Some(&ahead) = indices.get(k + PREFETCH_AHEAD) {
                prefetch(&inputs[ahead]);
            }
            inputs[i].write(dst);
        }
    });
}

/// Prefix of the optimizer's tensors in a checkpoint (`optimizer.exp_avg.0.weight`).
pub(crate) const OPTIMIZER_PREFIX: &str = "optimizer.";
/// Prefix of the trainer's own tensors in a checkpoint (the best weights so far).
pub(crate) const TRAINER_PREFIX: &str = "trainer.";

/// A figure of an epoch to watch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// The mean training loss (lower is better).
    TrainLoss,
    /// The training accuracy (higher is better).
    TrainAccuracy,
    /// The validation loss (lower is better).
    ValidLoss,
    /// The validation accuracy (higher is better).
    ValidAccuracy,
}

impl Metric {
    /// Its value in `report`, if the run measures it.
    pub fn of(self, report: &EpochReport) -> Option<f64> {
        match self {
            Metric::TrainLoss => Some(report.train_loss),
            Metric::TrainAccuracy => report.train_accuracy,
            Metric::ValidLoss => report.valid_loss,
            Metric::ValidAccuracy => report.valid_accuracy,
        }
    }

    /// Whether smaller values are better (losses) or larger (accuracies).
    pub fn lower_is_better(self) -> bool {
        matches!(self, Metric::TrainLoss | Metric::ValidLoss)
    }

    /// Whether `value` improves on `best` by more than `min_delta`.
    fn improves(self, value: f64, best: Option<f64>, min_delta: f64) -> bool {
        match best {
            None => true,
            Some(best) if self.lower_is_better() => value < best - min_delta,
            Some(best) => value > best + min_delta,
        }
    }
}

/// Stops training when a metric has not improved for `patience` epochs, like
/// Keras' `EarlyStopping`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EarlyStopping {
    /// What to watch (default: the validation loss).
    pub monitor: Metric,
    /// Epochs without improvement before stopping (default 5).
    pub patience: usize,
    /// The smallest change that counts as an improvement (default 0).
    pub min_delta: f64,
    /// Put back the weights of the best epoch when stopping or finishing
    /// (default true).
    pub restore_best: bool,
}

impl Default for EarlyStopping {
    fn default() -> Self {
        EarlyStopping {
            monitor: Metric::ValidLoss,
            patience: 5,
            min_delta: 0.0,
            restore_best: true,
        }
    }
}

/// Where and when to save checkpoints: weights, optimizer state and the
/// trainer's own state, in one safetensors file each (see the `checkpoint`
/// docs of [`Trainer::resume`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoints {
    /// The directory; created if missing.
    pub dir: PathBuf,
    /// Also keep `epoch-NNNN.safetensors` every this many epochs (default: never).
    pub every: Option<usize>,
    /// Also keep `best.safetensors`, the epoch best by this metric (default: none).
    pub best: Option<Metric>,
}

impl Checkpoints {
    /// `last.safetensors` in `dir` after every epoch.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Checkpoints { dir: dir.into(), every: None, best: None }
    }

    /// Also keeps a checkpoint every `n` epochs.
    #[must_use]
    pub fn every(mut self, n: usize) -> Self {
        self.every = Some(n.max(1));
        self
    }

    /// Also keeps the best epoch by `metric` as `best.safetensors`.
    #[must_use]
    pub fn best(mut self, metric: Metric) -> Self {
        self.best = Some(metric);
        self
    }

    /// The file of the latest epoch.
    pub fn last_path(&self) -> PathBuf {
        self.dir.join("last.safetensors")
    }

    /// The file of the best epoch.
    pub fn best_path(&self) -> PathBuf {
        self.dir.join("best.safetensors")
    }

    /// The file kept for `epoch`.
    pub fn epoch_path(&self, epoch: usize) -> PathBuf {
        self.dir.join(std::format!("epoch-{epoch:04}.safetensors"))
    }
}

/// What a callback asks of the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// Go on.
    Continue,
    /// Stop after this epoch.
    Stop,
}

/// Why `fit` stopped early.
#[derive(Debug)]
#[non_exhaustive]
pub enum FitError {
    /// The training set is empty (or the validation split took all of it).
    EmptyDataset,
    /// A batch size of zero.
    ZeroBatchSize,
    /// A validation split outside `[0, 1)`.
    ValidationSplit(f64),
    /// A gradient clipping bound that is negative or not finite.
    Clip(f64),
    /// A target the loss cannot take.
    Target {
        /// `"training"` or `"validation"`.
        set: &'static str,
        /// The sample's index in its set.
        index: usize,
        /// What is wrong with it.
        error: TargetError,
    },
    /// The loss became NaN or infinite. The step's update was not applied,
    /// and no checkpoint was written after the last good epoch.
    NonFinite {
        /// The epoch, from 1.
        epoch: usize,
        /// The step within the epoch, from 1.
        step: usize,
        /// The loss found.
        loss: f64,
    },
    /// Saving or loading a checkpoint failed.
    Checkpoint(CheckpointError),
}

impl fmt::Display for FitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FitError::EmptyDataset => f.write_str("the training set is empty"),
            FitError::ZeroBatchSize => f.write_str("batch size must be at least 1"),
            FitError::ValidationSplit(s) => {
                write!(f, "validation split must be in [0, 1), found {s}")
            }
            FitError::Clip(c) => {
                write!(f, "gradient clipping bound must be finite and at least 0, found {c}")
            }
            FitError::Target { set, index, error } => write!(f, "{set} sample {index}: {error}"),
            FitError::NonFinite { epoch, step, loss } => write!(
                f,
                "loss became {loss} at epoch {epoch}, step {step}; the update was not applied \
                 and earlier checkpoints are intact (try a smaller learning rate)"
            ),
            FitError::Checkpoint(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for FitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FitError::Target { error, .. } => Some(error),
            FitError::Checkpoint(e) => Some(e),
            _ => None,
        }
    }
}

impl From<CheckpointError> for FitError {
    fn from(e: CheckpointError) -> Self {
        FitError::Checkpoint(e)
    }
}

/// Loss and accuracy of a network on a dataset.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    /// Mean loss over the samples.
    pub loss: f64,
    /// Share of samples predicted correctly, when the loss defines it.
    pub accuracy: Option<f64>,
    /// Share of samples whose target is among the `k` highest outputs, when asked.
    pub top_k: Option<f64>,
}

/// Running totals of a pass over samples.
#[derive(Clone, Copy, Default)]
struct Tally {
    loss: f64,
    samples: usize,
    hits: Option<usize>,
    top_k: Option<usize>,
}

impl Tally {
    fn new(top_k: Option<usize>) -> Self {
        Tally { loss: 0.0, samples: 0, hits: Some(0), top_k: top_k.map(|_| 0) }
    }

    /// Adds a batch of outputs `[OUTPUT, n]` with their mean loss.
    fn add<N, L>(&mut self, loss: &L, k: Option<usize>, mean: f64, y: &[N::Scalar], t: &[L::Target])
    where
        N: Network + ?Sized,
        L: Loss<N::Output>,
    {
        self.loss += mean * t.len() as f64;
        self.samples += t.len();
        for (y, t) in y.chunks_exact(N::OUTPUT).zip(t) {
            self.hits = self.hits.zip(loss.is_correct(y, t)).map(|(h, c)| h + usize::from(c));
            if let (Some(count), Some(k)) = (&mut self.top_k, k) {
                match loss.target_rank(y, t) {
                    Some(rank) => *count += usize::from(rank < k),
                    None => self.top_k = None,
                }
            }
        }
    }

    fn evaluation(&self) -> Evaluation {
        let n = self.samples.max(1) as f64;
        Evaluation {
            loss: self.loss / n,
            accuracy: self.hits.map(|h| h as f64 / n),
            top_k: self.top_k.map(|h| h as f64 / n),
        }
    }
}

fn check_targets<O: Vector, L: Loss<O>>(
    loss: &L,
    targets: &[L::Target],
    set: &'static str,
) -> Result<(), FitError> {
    for (index, t) in targets.iter().enumerate() {
        loss.check_target(t).map_err(|error| FitError::Target { set, index, error })?;
    }
    Ok(())
}

/// Evaluates `net` on `inputs` and `targets` in inference mode, in chunks;
/// samples not stored as inputs are converted a chunk at a time into `x`.
fn evaluate_slices<N, L, X>(
    net: &N,
    loss: &L,
    inputs: &[X],
    targets: &[L::Target],
    top_k: Option<usize>,
    ws: &mut Workspace<N::Scalar>,
    x: &mut Vec<N::Scalar>,
) -> Evaluation
where
    N: Network + ?Sized,
    L: Loss<N::Output>,
    X: Sample<N::Input>,
{
    const CHUNK: usize = 500;
    let mut tally = Tally::new(top_k);
    let stored = X::as_scalars(inputs);
    for (k, t) in targets.chunks(CHUNK).enumerate() {
        let n = t.len();
        let start = k * CHUNK;
        let x: &[N::Scalar] = match stored {
            Some(flat) => &flat[start * N::INPUT..(start + n) * N::INPUT],
            None => {
                x.resize(n * N::INPUT, N::Scalar::default());
                for (dst, sample) in x.chunks_exact_mut(N::INPUT).zip(&inputs[start..start + n]) {
                    sample.write(dst);
                }
                x
            }
        };
        let acts = ws.take(N::forward_len(n));
        net.forward_slices(x, acts, Mode::Eval);
        let y = N::outputs(acts, n);
        let mean = loss.loss(y, t).as_f64();
        tally.add::<N, L>(loss, top_k, mean, y, t);
    }
    tally.evaluation()
}

/// Mean loss and accuracy of `net` on `data`, in inference mode.
///
/// The samples are the network's inputs, or any other [`Sample`] of them
/// (such as [`Pixels`](crate::data::Pixels)).
pub fn evaluate<N, L, X>(
    net: &N,
    loss: &L,
    data: &Dataset<X, L::Target>,
) -> Result<Evaluation, FitError>
where
    N: Network + ?Sized,
    L: Loss<N::Output>,
    X: Sample<N::Input>,
{
    check_targets(loss, data.targets(), "validation")?;
    Ok(evaluate_slices(
        net,
        loss,
        data.inputs(),
        data.targets(),
        None,
        &mut Workspace::new(),
        &mut Vec::new(),
    ))
}

/// Gradient clipping before each optimizer step.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Clip {
    Norm(f64),
    Value(f64),
}

/// Early stopping's running state.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct StopState {
    best: Option<f64>,
    best_epoch: usize,
    wait: usize,
    /// The best checkpoint metric so far (for `best.safetensors`).
    best_checkpoint: Option<f64>,
}

/// A function called with every epoch's report.
type EpochCallback = Box<dyn FnMut(&EpochReport) -> Control>;

/// Trains a network: epochs of shuffled minibatches with an optimizer, a
/// schedule, gradient clipping, validation, early stopping and checkpoints.
///
/// Build one with [`Trainer::new`] and the setters, then call
/// [`Trainer::fit`] (or [`Trainer::resume`]). Defaults: 10 epochs, batches
/// of 32 (the last partial batch kept), shuffled with seed 0, no validation,
/// a progress bar on a terminal and one line per epoch otherwise.
pub struct Trainer<L, O> {
    loss: L,
    optimizer: O,
    epochs: usize,
    batch_size: usize,
    shuffle: bool,
    seed: u64,
    validation_split: f64,
    schedule: Option<Box<dyn LrSchedule>>,
    plateau_metric: Option<Metric>,
    clip: Option<Clip>,
    top_k: Option<usize>,
    early_stopping: Option<EarlyStopping>,
    checkpoints: Option<Checkpoints>,
    progress: Progress,
    on_epoch: Option<EpochCallback>,
}

impl<L, O> Trainer<L, O> {
    /// A trainer minimising `loss` with `optimizer`.
    pub fn new(loss: L, optimizer: O) -> Self {
        Trainer {
            loss,
            optimizer,
            epochs: 10,
            batch_size: 32,
            shuffle: true,
            seed: 0,
            validation_split: 0.0,
            schedule: None,
            plateau_metric: None,
            clip: None,
            top_k: None,
            early_stopping: None,
            checkpoints: None,
            progress: Progress::Auto,
            on_epoch: None,
        }
    }

    /// Number of epochs (default 10); with [`Trainer::resume`], the total
    /// including those already done.
    #[must_use]
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }

    /// Samples per step (default 32).
    #[must_use]
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Shuffle the training samples every epoch (default true).
    #[must_use]
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }

    /// The seed of the shuffles and dropout masks (default 0).
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Holds out the last `fraction` of the training samples (before any
    /// shuffling, as Keras does) for validation when no validation set is
    /// given.
    #[must_use]
    pub fn validation_split(mut self, fraction: f64) -> Self {
        self.validation_split = fraction;
        self
    }

    /// A learning-rate schedule, stepped at the end of every epoch. Its base
    /// rate is the optimizer's rate when training starts.
    #[must_use]
    pub fn schedule(mut self, schedule: impl LrSchedule + 'static) -> Self {
        self.schedule = Some(Box::new(schedule));
        self
    }

    /// The metric handed to the schedule each epoch (what
    /// `ReduceLrOnPlateau` watches); default: the validation loss when there
    /// is validation data, the training loss otherwise.
    #[must_use]
    pub fn schedule_metric(mut self, metric: Metric) -> Self {
        self.plateau_metric = Some(metric);
        self
    }

    /// Scales the gradients to a global L2 norm of at most `max_norm` before
    /// each step (`torch.nn.utils.clip_grad_norm_`).
    #[must_use]
    pub fn clip_grad_norm(mut self, max_norm: f64) -> Self {
        self.clip = Some(Clip::Norm(max_norm));
        self
    }

    /// Clamps every gradient to `[−value, value]` before each step
    /// (`torch.nn.utils.clip_grad_value_`).
    #[must_use]
    pub fn clip_grad_value(mut self, value: f64) -> Self {
        self.clip = Some(Clip::Value(value));
        self
    }

    /// Also measures top-`k` accuracy (for losses with class targets).
    #[must_use]
    pub fn top_k(mut self, k: usize) -> Self {
        self.top_k = Some(k);
        self
    }

    /// Stops when a metric stops improving.
    #[must_use]
    pub fn early_stopping(mut self, early_stopping: EarlyStopping) -> Self {
        self.early_stopping = Some(early_stopping);
        self
    }

    /// Saves checkpoints.
    #[must_use]
    pub fn checkpoints(mut self, checkpoints: Checkpoints) -> Self {
        self.checkpoints = Some(checkpoints);
        self
    }

    /// How to show progress (default [`Progress::Auto`]).
    #[must_use]
    pub fn progress(mut self, progress: Progress) -> Self {
        self.progress = progress;
        self
    }

    /// Calls `f` with each epoch's report; returning [`Control::Stop`] ends
    /// the run after that epoch.
    #[must_use]
    pub fn on_epoch(mut self, f: impl FnMut(&EpochReport) -> Control + 'static) -> Self {
        self.on_epoch = Some(Box::new(f));
        self
    }

    /// The optimizer, with the state training left it in.
    pub fn optimizer(&self) -> &O {
        &self.optimizer
    }

    /// The loss.
    pub fn loss(&self) -> &L {
        &self.loss
    }

    /// Trains `net` on `train`, evaluating on `valid` (or on the validation
    /// split) after every epoch.
    pub fn fit<N, X>(
        &mut self,
        net: &mut N,
        train: &Dataset<X, L::Target>,
        valid: Option<&Dataset<X, L::Target>>,
    ) -> Result<History, FitError>
    where
        N: NetworkMut,
        L: Loss<N::Output>,
        X: Sample<N::Input>,
        O: Optimizer<N::Scalar>,
    {
        let state = RunState {
            start_epoch: 1,
            history: History { top_k: self.top_k, epochs: Vec::new() },
            stop: StopState::default(),
            best: None,
        };
        self.run(net, train, valid, state)
    }

    /// Continues a run from a checkpoint written by [`Trainer::checkpoints`]:
    /// restores the weights, the optimizer's state, the schedule, the
    /// history, early stopping's state and the seed, then trains until
    /// `epochs` in all. With the same data and settings, the weights at the
    /// end are those of the uninterrupted run, bit for bit.
    ///
    /// The checkpoint is checked first: it must come from a network of the
    /// same name and shape and an optimizer of the same kind.
    pub fn resume<N, X>(
        &mut self,
        net: &mut N,
        checkpoint: impl AsRef<Path>,
        train: &Dataset<X, L::Target>,
        valid: Option<&Dataset<X, L::Target>>,
    ) -> Result<History, FitError>
    where
        N: NetworkMut,
        L: Loss<N::Output>,
        X: Sample<N::Input>,
        O: Optimizer<N::Scalar>,
    {
        let restored = checkpoint::load::<N, O>(
            checkpoint.as_ref(),
            &mut self.optimizer,
            self.schedule.as_deref_mut(),
        )?;
        net.params_mut().copy_from_slice(&restored.weights);
        self.seed = restored.seed;
        let state = RunState {
            start_epoch: restored.epoch + 1,
            history: restored.history,
            stop: restored.stop,
            best: restored.best,
        };
        self.run(net, train, valid, state)
    }

    fn run<N, X>(
        &mut self,
        net: &mut N,
        train: &Dataset<X, L::Target>,
        valid: Option<&Dataset<X, L::Target>>,
        mut state: RunState<N::Scalar>,
    ) -> Result<History, FitError>
    where
        N: NetworkMut,
        L: Loss<N::Output>,
        X: Sample<N::Input>,
        O: Optimizer<N::Scalar>,
    {
        if self.batch_size == 0 {
            return Err(FitError::ZeroBatchSize);
        }
        if !(0.0..1.0).contains(&self.validation_split) {
            return Err(FitError::ValidationSplit(self.validation_split));
        }
        if let Some(Clip::Norm(c) | Clip::Value(c)) = self.clip
            && !(c.is_finite() && c >= 0.0)
        {
            return Err(FitError::Clip(c));
        }
        // The validation split: the last samples, before shuffling.
        let (inputs, targets) = (train.inputs(), train.targets());
        let held = if valid.is_none() {
            (inputs.len() as f64 * self.validation_split) as usize
        } else {
            0
        };
        let n_train = inputs.len() - held;
        let (valid_x, valid_t) = match valid {
            Some(v) => (v.inputs(), v.targets()),
            None => (&inputs[n_train..], &targets[n_train..]),
        };
        if n_train == 0 {
            return Err(FitError::EmptyDataset);
        }
        check_targets(&self.loss, &targets[..n_train], "training")?;
        check_targets(&self.loss, valid_t, "validation")?;
        let has_valid = !valid_t.is_empty();
        if let Some(dir) = self.checkpoints.as_ref().map(|c| c.dir.clone()) {
            std::fs::create_dir_all(&dir).map_err(|e| CheckpointError::io(&dir, e))?;
        }

        // The learning rate of the first epoch (a resumed run's was restored
        // with the optimizer).
        if let (Some(s), 1) = (&mut self.schedule, state.start_epoch) {
            let lr = s.start(self.optimizer.learning_rate());
            self.optimizer.set_learning_rate(lr);
        }

        let batch = self.batch_size.min(n_train);
        let mut grads: Gradients<N::Scalar> = net.zero_grads();
        let mut order: Vec<usize> = Vec::with_capacity(n_train);
        let mut x = AlignedVec::<N::Scalar>::zeroed(batch * N::INPUT);
        let mut t: Vec<L::Target> = Vec::with_capacity(batch);
        let mut eval_ws = Workspace::new();
        let mut eval_x = Vec::new();
        let mut display = progress::Display::new(self.progress);
        let steps = n_train.div_ceil(batch);

        for epoch in state.start_epoch..=self.epochs {
            let start = Instant::now();
            order.clear();
            order.extend(0..n_train);
            if self.shuffle {
                order.shuffle(&mut ChaCha8Rng::seed_from_u64(mix(self.seed ^ mix(epoch as u64))));
            }
            display.start_epoch(epoch, self.epochs, steps);
            let lr = self.optimizer.learning_rate();
            let mut tally = Tally::new(self.top_k);
            for (step, indices) in order.chunks(batch).enumerate() {
                gather(inputs, indices, &mut x);
                t.clear();
                t.extend(indices.iter().map(|&i| targets[i].clone()));
                let seed = mix(self.seed ^ mix((epoch as u64) << 32 | step as u64));
                let (values, ws) = grads.parts();
                let (mean, y) = train_pass(
                    &*net,
                    x.as_slice(),
                    &t,
                    &self.loss,
                    values,
                    ws,
                    Mode::Train { seed },
                );
                let mean = mean.as_f64();
                if !mean.is_finite() {
                    return Err(FitError::NonFinite { epoch, step: step + 1, loss: mean });
                }
                tally.add::<N, L>(&self.loss, self.top_k, mean, y, &t);
                match self.clip {
                    Some(Clip::Norm(max)) => {
                        clip_grad_norm(grads.as_mut_slice(), max);
                    }
                    Some(Clip::Value(v)) => clip_grad_value(grads.as_mut_slice(), v),
                    None => {}
                }
                self.optimizer.step_and_zero(net.params_mut(), grads.as_mut_slice());
                let so_far = tally.evaluation();
                let rate = tally.samples as f64 / start.elapsed().as_secs_f64().max(1e-9);
                display.step(so_far.loss, so_far.accuracy, rate);
            }
            let seconds = start.elapsed().as_secs_f64();
            let train_eval = tally.evaluation();
            let valid_eval = has_valid.then(|| {
                evaluate_slices(
                    &*net,
                    &self.loss,
                    valid_x,
                    valid_t,
                    self.top_k,
                    &mut eval_ws,
                    &mut eval_x,
                )
            });
            let report = EpochReport {
                epoch,
                epochs: self.epochs,
                train_loss: train_eval.loss,
                train_accuracy: train_eval.accuracy,
                k: self.top_k,
                train_top_k: train_eval.top_k,
                valid_loss: valid_eval.map(|e| e.loss),
                valid_accuracy: valid_eval.and_then(|e| e.accuracy),
                valid_top_k: valid_eval.and_then(|e| e.top_k),
                lr,
                seconds,
                samples: n_train,
            };
            display.end_epoch(&report);
            state.history.epochs.push(report);

            // The schedule sets the next epoch's rate.
            if let Some(s) = &mut self.schedule {
                let metric = self.plateau_metric.unwrap_or(if has_valid {
                    Metric::ValidLoss
                } else {
                    Metric::TrainLoss
                });
                let next = s.step(metric.of(&report));
                self.optimizer.set_learning_rate(next);
            }

            let mut stop = false;
            if let Some(es) = self.early_stopping
                && let Some(value) = es.monitor.of(&report)
            {
                if es.monitor.improves(value, state.stop.best, es.min_delta) {
                    state.stop.best = Some(value);
                    state.stop.best_epoch = epoch;
                    state.stop.wait = 0;
                    if es.restore_best {
                        state.best = Some(net.params().to_vec());
                    }
                } else {
                    state.stop.wait += 1;
                    stop = state.stop.wait >= es.patience;
                }
            }
            if let Some(f) = &mut self.on_epoch {
                stop |= f(&report) == Control::Stop;
            }
            if let Some(cp) = self.checkpoints.clone() {
                self.save_checkpoints::<N>(net, &cp, epoch, &report, &mut state)?;
            }
            if stop {
                break;
            }
        }
        if let (Some(es), Some(best)) = (self.early_stopping, &state.best)
            && es.restore_best
        {
            net.params_mut().copy_from_slice(best);
        }
        Ok(state.history)
    }

    fn save_checkpoints<N>(
        &mut self,
        net: &N,
        cp: &Checkpoints,
        epoch: usize,
        report: &EpochReport,
        state: &mut RunState<N::Scalar>,
    ) -> Result<(), FitError>
    where
        N: Network,
        O: Optimizer<N::Scalar>,
    {
        let mut is_best = false;
        if let Some(metric) = cp.best
            && let Some(value) = metric.of(report)
            && metric.improves(value, state.stop.best_checkpoint, 0.0)
        {
            state.stop.best_checkpoint = Some(value);
            is_best = true;
        }
        let bytes = checkpoint::to_bytes::<N, O>(
            net,
            &self.optimizer,
            self.schedule.as_deref(),
            checkpoint::Meta {
                epoch,
                seed: self.seed,
                history: &state.history,
                stop: &state.stop,
                best: state.best.as_deref(),
            },
        );
        let mut paths = std::vec![cp.last_path()];
        if cp.every.is_some_and(|n| epoch.is_multiple_of(n)) {
            paths.push(cp.epoch_path(epoch));
        }
        if is_best {
            paths.push(cp.best_path());
        }
        for path in paths {
            crate::weights::write_atomic(&path, &bytes)
                .map_err(|e| CheckpointError::io(&path, e))?;
        }
        Ok(())
    }
}

impl<L, O> fmt::Debug for Trainer<L, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Trainer")
            .field("epochs", &self.epochs)
            .field("batch_size", &self.batch_size)
            .field("shuffle", &self.shuffle)
            .field("seed", &self.seed)
            .field("validation_split", &self.validation_split)
            .field("schedule", &self.schedule.is_some())
            .field("early_stopping", &self.early_stopping)
            .field("checkpoints", &self.checkpoints)
            .finish_non_exhaustive()
    }
}

/// What a run carries from epoch to epoch, and a checkpoint restores.
struct RunState<T> {
    start_epoch: usize,
    history: History,
    stop: StopState,
    /// The weights of the best epoch, for early stopping's restore.
    best: Option<Vec<T>>,
}
