//! What a training run shows while it runs.

use std::io::IsTerminal;
use std::println;
use std::string::String;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::EpochReport;

/// How `fit` reports progress.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Progress {
    /// A bar per epoch on a terminal, a line per epoch otherwise (default).
    #[default]
    Auto,
    /// A bar per epoch (on standard error) showing steps, loss, accuracy and
    /// samples per second, then the epoch's line.
    Bar,
    /// One line per epoch on standard output.
    Lines,
    /// Nothing.
    Silent,
}

/// The display of one run.
pub(crate) struct Display {
    mode: Progress,
    bar: Option<ProgressBar>,
    steps: u64,
    last_draw: Instant,
}

impl Display {
    pub fn new(mode: Progress) -> Self {
        let mode = match mode {
            Progress::Auto if std::io::stderr().is_terminal() => Progress::Bar,
            Progress::Auto => Progress::Lines,
            other => other,
        };
        Display { mode, bar: None, steps: 0, last_draw: Instant::now() }
    }

    /// A new epoch of `steps` steps begins.
    pub fn start_epoch(&mut self, epoch: usize, epochs: usize, steps: usize) {
        if self.mode != Progress::Bar {
            return;
        }
        let bar = ProgressBar::with_draw_target(Some(steps as u64), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(format_epoch(epoch, epochs));
        self.bar = Some(bar);
        self.steps = 0;
    }

    /// A step ended; the figures so far in this epoch.
    pub fn step(&mut self, loss: f64, accuracy: Option<f64>, samples_per_second: f64) {
        let Some(bar) = &self.bar else { return };
        self.steps += 1;
        // Touch the bar ten times a second at most: a step can take
        // microseconds, and each update takes a lock and a format.
        if self.last_draw.elapsed() < Duration::from_millis(100) && Some(self.steps) != bar.length()
        {
            return;
        }
        self.last_draw = Instant::now();
        bar.set_position(self.steps);
        let mut msg = format_figure("loss", loss);
        if let Some(a) = accuracy {
            msg.push_str(&std::format!("  acc {:.2}%", 100.0 * a));
        }
        msg.push_str(&std::format!("  {samples_per_second:.0}/s"));
        bar.set_message(msg);
    }

    /// The epoch ended.
    pub fn end_epoch(&mut self, report: &EpochReport) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if matches!(self.mode, Progress::Bar | Progress::Lines) {
            println!("{report}");
        }
    }
}

fn format_epoch(epoch: usize, epochs: usize) -> String {
    let w = epochs.checked_ilog10().unwrap_or(0) as usize + 1;
    std::format!("epoch {epoch:>w$}/{epochs}")
}

fn format_figure(name: &str, v: f64) -> String {
    std::format!("{name} {v:.4}")
}
