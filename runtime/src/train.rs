//! A training loop over shuffled minibatches and epochs.

use alloc::vec::Vec;
use core::fmt;
use std::time::Instant;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::backprop::{Gradients, Workspace, train_pass};
use crate::data::Dataset;
use crate::{Float, Loss, Mode, Network, NetworkExt, NetworkMut, Optimizer, TargetError, Vector};

/// Settings of [`train`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrainConfig {
    /// Passes over the training set (default 10).
    pub epochs: usize,
    /// Samples per step (default 32); the last batch of an epoch keeps what
    /// is left, as PyTorch's `DataLoader` does by default.
    pub batch_size: usize,
    /// Shuffle the training set at the start of every epoch (default true).
    pub shuffle: bool,
    /// Seed of the shuffles and of the dropout masks (default 0): the same
    /// seed, data and initial weights give the same run.
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig { epochs: 10, batch_size: 32, shuffle: true, seed: 0 }
    }
}

/// The figures of one epoch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochReport {
    /// This epoch, from 1.
    pub epoch: usize,
    /// The number of epochs of the run.
    pub epochs: usize,
    /// Mean training loss over the epoch's steps (weighted by batch size).
    pub train_loss: f64,
    /// Share of training samples predicted correctly during the epoch, in
    /// training mode; `None` when the loss has no notion of accuracy.
    pub train_accuracy: Option<f64>,
    /// Mean loss on the validation set after the epoch, if one was given.
    pub valid_loss: Option<f64>,
    /// Accuracy on the validation set after the epoch.
    pub valid_accuracy: Option<f64>,
    /// Wall-clock seconds of the epoch's training steps (shuffle included,
    /// validation excluded).
    pub seconds: f64,
    /// Training samples seen in the epoch.
    pub samples: usize,
}

impl fmt::Display for EpochReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self.epochs.checked_ilog10().unwrap_or(0) as usize + 1;
        write!(f, "epoch {:>w$}/{}  loss {:.4}", self.epoch, self.epochs, self.train_loss)?;
        if let Some(a) = self.train_accuracy {
            write!(f, "  acc {:6.2}%", 100.0 * a)?;
        }
        if let Some(l) = self.valid_loss {
            write!(f, "  val_loss {l:.4}")?;
        }
        if let Some(a) = self.valid_accuracy {
            write!(f, "  val_acc {:6.2}%", 100.0 * a)?;
        }
        let rate = self.samples as f64 / self.seconds.max(1e-9);
        write!(f, "  {:.2} s  {:.0} samples/s", self.seconds, rate)
    }
}

/// Why training stopped early.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TrainError {
    /// The training set is empty.
    EmptyDataset,
    /// A batch size of zero.
    ZeroBatchSize,
    /// A target the loss cannot take.
    Target {
        /// `"training"` or `"validation"`.
        set: &'static str,
        /// The sample's index in its set.
        index: usize,
        /// What is wrong with it.
        error: TargetError,
    },
    /// The loss became NaN or infinite; the step's update was not applied,
    /// so the weights are those after the previous step.
    NonFinite {
        /// The epoch, from 1.
        epoch: usize,
        /// The step within the epoch, from 1.
        step: usize,
        /// The loss found.
        loss: f64,
    },
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TrainError::EmptyDataset => f.write_str("the training set is empty"),
            TrainError::ZeroBatchSize => f.write_str("batch size must be at least 1"),
            TrainError::Target { set, index, error } => {
                write!(f, "{set} sample {index}: {error}")
            }
            TrainError::NonFinite { epoch, step, loss } => write!(
                f,
                "loss became {loss} at epoch {epoch}, step {step}; the weights are kept from \
                 the step before (try a smaller learning rate)"
            ),
        }
    }
}

impl std::error::Error for TrainError {}

/// Loss and accuracy of a network on a dataset.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    /// Mean loss over the samples.
    pub loss: f64,
    /// Share of samples predicted correctly, when the loss defines it.
    pub accuracy: Option<f64>,
}

/// Counts correct predictions in a batch of outputs `[OUTPUT, n]`.
fn count_correct<N, L>(loss: &L, y: &[N::Scalar], targets: &[L::Target]) -> Option<usize>
where
    N: Network + ?Sized,
    L: Loss<N::Output>,
{
    let mut hits = 0;
    for (y, t) in y.chunks_exact(N::OUTPUT).zip(targets) {
        hits += usize::from(loss.is_correct(y, t)?);
    }
    Some(hits)
}

fn check_targets<O: Vector, L: Loss<O>>(
    loss: &L,
    targets: &[L::Target],
    set: &'static str,
) -> Result<(), TrainError> {
    for (index, t) in targets.iter().enumerate() {
        loss.check_target(t).map_err(|error| TrainError::Target { set, index, error })?;
    }
    Ok(())
}

/// Mean loss and accuracy of `net` on `data`, in inference mode.
pub fn evaluate<N, L>(
    net: &N,
    loss: &L,
    data: &Dataset<N::Input, L::Target>,
) -> Result<Evaluation, TrainError>
where
    N: Network + ?Sized,
    L: Loss<N::Output>,
{
    check_targets(loss, data.targets(), "validation")?;
    let mut ws = Workspace::new();
    Ok(evaluate_with(net, loss, data, &mut ws))
}

fn evaluate_with<N, L>(
    net: &N,
    loss: &L,
    data: &Dataset<N::Input, L::Target>,
    ws: &mut Workspace<N::Scalar>,
) -> Evaluation
where
    N: Network + ?Sized,
    L: Loss<N::Output>,
{
    const CHUNK: usize = 500;
    let (mut total, mut hits) = (0.0, Some(0));
    let x: &[N::Scalar] = bytemuck::cast_slice(data.inputs());
    for (x, t) in x.chunks(CHUNK * N::INPUT).zip(data.targets().chunks(CHUNK)) {
        let n = t.len();
        let acts = ws.take(n * N::ACTIVATIONS);
        net.forward_slices(x, acts, Mode::Eval);
        let y = &acts[(N::ACTIVATIONS - N::OUTPUT) * n..];
        total += loss.loss(y, t).as_f64() * n as f64;
        hits = hits.zip(count_correct::<N, L>(loss, y, t)).map(|(a, b)| a + b);
    }
    let len = data.len().max(1) as f64;
    Evaluation { loss: total / len, accuracy: hits.map(|h| h as f64 / len) }
}

/// Trains `net` on `train` for `config.epochs` epochs of shuffled
/// minibatches, evaluating on `valid` after each epoch.
///
/// Each step runs a batch forward in training mode and backward, then applies
/// `optimizer`. `on_epoch` sees each epoch's report as it ends; the reports
/// are also returned. Targets are checked before the first step; the run
/// stops with [`TrainError::NonFinite`] as soon as a loss is NaN or infinite,
/// before that step's update.
pub fn train<N, L, O>(
    net: &mut N,
    loss: &L,
    optimizer: &mut O,
    train: &Dataset<N::Input, L::Target>,
    valid: Option<&Dataset<N::Input, L::Target>>,
    config: &TrainConfig,
    mut on_epoch: impl FnMut(&EpochReport),
) -> Result<Vec<EpochReport>, TrainError>
where
    N: NetworkMut,
    L: Loss<N::Output>,
    O: Optimizer<N::Scalar>,
{
    if config.batch_size == 0 {
        return Err(TrainError::ZeroBatchSize);
    }
    if train.is_empty() {
        return Err(TrainError::EmptyDataset);
    }
    check_targets(loss, train.targets(), "training")?;
    if let Some(valid) = valid {
        check_targets(loss, valid.targets(), "validation")?;
    }

    let batch = config.batch_size.min(train.len());
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut grads: Gradients<N::Scalar> = net.zero_grads();
    grads.seed(config.seed);
    let mut order: Vec<usize> = (0..train.len()).collect();
    let mut x = Vec::with_capacity(batch * N::INPUT);
    let mut t = Vec::with_capacity(batch);
    let mut eval_ws = Workspace::new();
    let mut reports = Vec::with_capacity(config.epochs);

    for epoch in 1..=config.epochs {
        let start = Instant::now();
        if config.shuffle {
            order.shuffle(&mut rng);
        }
        let (mut total, mut hits) = (0.0, Some(0));
        for (step, indices) in order.chunks(batch).enumerate() {
            x.clear();
            t.clear();
            for &i in indices {
                x.extend_from_slice(train.inputs()[i].as_slice());
                t.push(train.targets()[i].clone());
            }
            let mode = grads.next_mode();
            let (values, ws) = grads.parts();
            let (value, y) = train_pass(&*net, &x, &t, loss, values, ws, mode);
            let value = value.as_f64();
            if !value.is_finite() {
                return Err(TrainError::NonFinite { epoch, step: step + 1, loss: value });
            }
            total += value * indices.len() as f64;
            hits = hits.zip(count_correct::<N, L>(loss, y, &t)).map(|(a, b)| a + b);
            optimizer.step(net.params_mut(), grads.as_slice());
            grads.zero();
        }
        let seconds = start.elapsed().as_secs_f64();
        let samples = train.len() as f64;
        let eval = valid.map(|v| evaluate_with(&*net, loss, v, &mut eval_ws));
        let report = EpochReport {
            epoch,
            epochs: config.epochs,
            train_loss: total / samples,
            train_accuracy: hits.map(|h| h as f64 / samples),
            valid_loss: eval.map(|e| e.loss),
            valid_accuracy: eval.and_then(|e| e.accuracy),
            seconds,
            samples: train.len(),
        };
        on_epoch(&report);
        reports.push(report);
    }
    Ok(reports)
}
