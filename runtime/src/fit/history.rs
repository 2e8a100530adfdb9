//! Per-epoch figures and their history, as CSV and JSON.

use std::fmt;
use std::format;
use std::io;
use std::path::Path;
use std::string::String;
use std::vec::Vec;

use serde::{Deserialize, Serialize};

/// The figures of one epoch.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochReport {
    /// This epoch, from 1.
    pub epoch: usize,
    /// The number of epochs of the run.
    pub epochs: usize,
    /// Mean training loss over the epoch's steps (weighted by batch size).
    pub train_loss: f64,
    /// Share of training samples predicted correctly during the epoch (in
    /// training mode); `None` when the loss has no notion of accuracy.
    pub train_accuracy: Option<f64>,
    /// The `k` of the top-k figures, when they were asked for.
    #[serde(default)]
    pub k: Option<usize>,
    /// Share of training samples whose class is among the `k` highest
    /// outputs, when top-k accuracy was asked for.
    pub train_top_k: Option<f64>,
    /// Mean loss on the validation data after the epoch.
    pub valid_loss: Option<f64>,
    /// Accuracy on the validation data after the epoch.
    pub valid_accuracy: Option<f64>,
    /// Top-k accuracy on the validation data after the epoch.
    pub valid_top_k: Option<f64>,
    /// The learning rate used in this epoch.
    pub lr: f64,
    /// Wall-clock seconds of the epoch's training steps (shuffle included,
    /// validation excluded).
    pub seconds: f64,
    /// Training samples seen in the epoch.
    pub samples: usize,
}

impl EpochReport {
    /// Training samples per second.
    pub fn samples_per_second(&self) -> f64 {
        self.samples as f64 / self.seconds.max(1e-9)
    }
}

impl fmt::Display for EpochReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self.epochs.checked_ilog10().unwrap_or(0) as usize + 1;
        write!(f, "epoch {:>w$}/{}  loss {:.4}", self.epoch, self.epochs, self.train_loss)?;
        if let Some(a) = self.train_accuracy {
            write!(f, "  acc {:6.2}%", 100.0 * a)?;
        }
        let k = self.k.unwrap_or(0);
        if let Some(a) = self.train_top_k {
            write!(f, "  top-{k} {:6.2}%", 100.0 * a)?;
        }
        if let Some(l) = self.valid_loss {
            write!(f, "  val_loss {l:.4}")?;
        }
        if let Some(a) = self.valid_accuracy {
            write!(f, "  val_acc {:6.2}%", 100.0 * a)?;
        }
        if let Some(a) = self.valid_top_k {
            write!(f, "  val_top-{k} {:6.2}%", 100.0 * a)?;
        }
        write!(
            f,
            "  lr {:.3e}  {:.2} s  {:.0} samples/s",
            self.lr,
            self.seconds,
            self.samples_per_second()
        )
    }
}

/// Every epoch's report, in order: what `fit` returns.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// The `k` of the top-k columns, when they were computed.
    pub top_k: Option<usize>,
    /// The epochs, first to last.
    pub epochs: Vec<EpochReport>,
}

fn cell(v: Option<f64>) -> String {
    v.map_or_else(String::new, |v| format!("{v}"))
}

impl History {
    /// The last epoch's report.
    pub fn last(&self) -> Option<&EpochReport> {
        self.epochs.last()
    }

    /// The history as CSV: a header line, then one line per epoch; absent
    /// figures are empty cells.
    pub fn to_csv(&self) -> String {
        let k = self.top_k.unwrap_or(0);
        let mut out = format!(
            "epoch,train_loss,train_accuracy,train_top{k},val_loss,val_accuracy,val_top{k},lr,seconds,samples_per_second\n"
        );
        for r in &self.epochs {
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{}\n",
                r.epoch,
                r.train_loss,
                cell(r.train_accuracy),
                cell(r.train_top_k),
                cell(r.valid_loss),
                cell(r.valid_accuracy),
                cell(r.valid_top_k),
                r.lr,
                r.seconds,
                r.samples_per_second()
            ));
        }
        out
    }

    /// The history as JSON: `{"top_k": .., "epochs": [{..}, ..]}`, absent
    /// figures as `null`.
    pub fn to_json(&self) -> String {
        // Non-finite numbers cannot occur: training stops before recording one.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads a history written by [`History::to_json`].
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// Writes [`History::to_csv`] to `path`, atomically.
    pub fn write_csv(&self, path: impl AsRef<Path>) -> io::Result<()> {
        crate::weights::write_atomic(path.as_ref(), self.to_csv().as_bytes())
    }

    /// Writes [`History::to_json`] to `path`, atomically.
    pub fn write_json(&self, path: impl AsRef<Path>) -> io::Result<()> {
        crate::weights::write_atomic(path.as_ref(), self.to_json().as_bytes())
    }
}
