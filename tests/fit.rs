//! The training loop: history, validation, early stopping, checkpoints,
//! resuming, divergence, plots, and atomic writes that survive a crash.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use perceptra::data::{Pixels, Sample, synthetic};
use perceptra::prelude::*;
use perceptra::rand::RngExt;
use perceptra::weights;
use perceptra::{
    Adam, AdamConfig, Checkpoints, Control, EarlyStopping, Evaluation, FitError, History, Progress,
    Trainer,
};

network! {
    /// A small classifier of 2-d points, with dropout so that resuming must
    /// also restore the masks.
    struct Points<f32> { input: 2, Dense(32), ReLU, Dropout(0.1), Dense(32), Tanh, Dense(3) }
}

network! {
    /// Unbounded activations: a huge step overflows its logits.
    struct Relus<f32> { input: 2, Dense(16), ReLU, Dense(16), ReLU, Dense(3) }
}

network! {
    /// Wide enough to over-fit 60 noisy points.
    struct Overfit<f64> { input: 2, Dense(64), ReLU, Dense(64), ReLU, Dense(2) }
}

network! {
    /// Reads 20 one-byte intensities, through dropout so that the masks
    /// must also match.
    struct Intensities<f32> { input: 20, Dense(16), ReLU, Dropout(0.2), Dense(3) }
}

fn spirals(n: usize, seed: u64) -> Dataset<SVector<f32, 2>, usize> {
    synthetic::spirals(n, 3, 0.1, seed)
}

/// A fresh directory under the system's temporary directory.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("perceptra-fit-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn adam() -> Adam<f32> {
    Adam::new(AdamConfig { lr: 0.01, ..AdamConfig::default() }).unwrap()
}

#[test]
fn fit_learns_and_records_a_history() {
    let data = synthetic::blobs::<f32>(600, 3, 1.0, 1);
    let mut net = Points::new(&mut ChaCha8Rng::seed_from_u64(0));
    let history = Trainer::new(CrossEntropy, adam())
        .epochs(30)
        .batch_size(32)
        .validation_split(0.2)
        .top_k(2)
        .progress(Progress::Silent)
        .fit(&mut net, &data, None)
        .unwrap();
    assert_eq!(history.epochs.len(), 30);
    let last = history.last().unwrap();
    assert_eq!(last.samples, 480, "the split holds out the last 20 %");
    assert!(last.valid_accuracy.unwrap() > 0.9, "{last}");
    assert!(last.valid_top_k.unwrap() >= last.valid_accuracy.unwrap());
    assert!(history.epochs[0].train_loss > last.train_loss);

    let csv = history.to_csv();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "epoch,train_loss,train_accuracy,train_top2,val_loss,val_accuracy,val_top2,lr,seconds,samples_per_second"
        )
    );
    assert_eq!(lines.count(), 30);
    let back = History::from_json(&history.to_json()).unwrap();
    assert_eq!(back, history);
}

/// A data set of pixels trains exactly as the same values stored as `f32`:
/// the batches gathered from bytes (on both cores, at batch 32) and the
/// validation chunks converted from bytes hold the same scalars.
#[test]
fn pixels_train_as_their_values_do() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let pixels: Vec<Pixels<20>> =
        (0..1013).map(|_| Pixels(core::array::from_fn(|_| rng.random::<u8>()))).collect();
    // Three classes that depend on the pixels, so that there is something to learn.
    let labels: Vec<usize> = pixels
        .iter()
        .map(|p| (p.0[..3].iter().map(|&b| usize::from(b)).sum::<usize>() / 256) % 3)
        .collect();
    let values: Vec<SVector<f32, 20>> = pixels.iter().map(Pixels::to_vector).collect();
    let as_pixels = Dataset::new(pixels, labels.clone()).unwrap();
    let as_values = Dataset::new(values, labels).unwrap();
    fn run<X: Sample<SVector<f32, 20>>>(
        data: &Dataset<X, usize>,
    ) -> (Vec<f32>, History, Evaluation) {
        let mut net = Intensities::new(&mut ChaCha8Rng::seed_from_u64(1));
        let history = Trainer::new(CrossEntropy, adam())
            .epochs(3)
            .batch_size(32)
            .validation_split(0.3)
            .progress(Progress::Silent)
            .fit(&mut net, data, None)
            .unwrap();
        let eval = evaluate(&net, &CrossEntropy, data).unwrap();
        (net.params().to_vec(), history, eval)
    }
    let (a, b) = (run(&as_pixels), run(&as_values));
    assert!(a.0.iter().zip(&b.0).all(|(x, y)| x.to_bits() == y.to_bits()), "the same weights");
    let losses = |h: &History| -> Vec<_> {
        h.epochs.iter().map(|r| (r.train_loss, r.valid_loss, r.valid_accuracy)).collect()
    };
    assert_eq!(losses(&a.1), losses(&b.1));
    assert_eq!(a.2, b.2);
    assert!(a.1.epochs[2].train_loss < a.1.epochs[0].train_loss, "{:?}", losses(&a.1));
}

#[test]
fn early_stopping_restores_the_best_weights() {
    let train = synthetic::blobs::<f64>(60, vec![[0.0, 0.0], [1.0, 1.0]], 1.5, 3);
    let valid = synthetic::blobs::<f64>(400, vec![[0.0, 0.0], [1.0, 1.0]], 1.5, 4);
    let mut net = Overfit::new(&mut ChaCha8Rng::seed_from_u64(0));
    let epochs = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let seen = epochs.clone();
    let history = Trainer::new(
        CrossEntropy,
        Adam::new(AdamConfig { lr: 0.01, ..AdamConfig::default() }).unwrap(),
    )
    .epochs(300)
    .batch_size(60)
    .early_stopping(EarlyStopping { patience: 10, ..EarlyStopping::default() })
    .progress(Progress::Silent)
    .on_epoch(move |r| {
        seen.borrow_mut().push(r.valid_loss.unwrap());
        Control::Continue
    })
    .fit(&mut net, &train, Some(&valid))
    .unwrap();
    let losses = epochs.borrow();
    assert!(history.epochs.len() < 300, "it over-fits and stops");
    let best = losses.iter().copied().fold(f64::INFINITY, f64::min);
    let best_epoch = losses.iter().position(|&l| l == best).unwrap() + 1;
    assert_eq!(
        history.epochs.len(),
        best_epoch + 10,
        "stops after `patience` epochs without improvement"
    );
    let now = perceptra::evaluate(&net, &CrossEntropy, &valid).unwrap().loss;
    assert!((now - best).abs() < 1e-12, "restored weights give the best loss {best}, not {now}");
}

#[test]
fn a_callback_can_stop_the_run() {
    let data = spirals(90, 2);
    let mut net = Points::new(&mut ChaCha8Rng::seed_from_u64(0));
    let history = Trainer::new(CrossEntropy, adam())
        .epochs(50)
        .progress(Progress::Silent)
        .on_epoch(|r| if r.epoch == 3 { Control::Stop } else { Control::Continue })
        .fit(&mut net, &data, None)
        .unwrap();
    assert_eq!(history.epochs.len(), 3);
}

/// Four epochs straight, or two then a resume from the checkpoint: the same
/// weights, bit for bit, with Adam, a schedule and dropout in play.
#[test]
fn resuming_gives_the_uninterrupted_weights() {
    let data = spirals(300, 5);
    let trainer = |dir: &Path, epochs| {
        Trainer::new(CrossEntropy, adam())
            .epochs(epochs)
            .batch_size(16)
            .seed(9)
            .validation_split(0.1)
            .schedule(perceptra::StepLr::new(1, 0.7).unwrap())
            .early_stopping(EarlyStopping { patience: 100, ..EarlyStopping::default() })
            .checkpoints(Checkpoints::new(dir).every(1))
            .progress(Progress::Silent)
    };
    let straight_dir = scratch("straight");
    let mut straight = Points::new(&mut ChaCha8Rng::seed_from_u64(3));
    let full = trainer(&straight_dir, 4).fit(&mut straight, &data, None).unwrap();

    let split_dir = scratch("split");
    let mut first = Points::new(&mut ChaCha8Rng::seed_from_u64(3));
    trainer(&split_dir, 2).fit(&mut first, &data, None).unwrap();
    // A new process would start from a fresh network and optimizer.
    let mut resumed = Points::new(&mut ChaCha8Rng::seed_from_u64(77));
    let history = trainer(&split_dir, 4)
        .resume(&mut resumed, split_dir.join("epoch-0002.safetensors"), &data, None)
        .unwrap();

    let bits = |n: &Points| n.params().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&resumed), bits(&straight));
    assert_eq!(history.epochs.len(), 4);
    for (a, b) in history.epochs.iter().zip(&full.epochs) {
        assert_eq!((a.train_loss, a.valid_loss, a.lr), (b.train_loss, b.valid_loss, b.lr));
    }
    // Every epoch left a checkpoint, and `last` is the fourth.
    for e in 1..=4 {
        assert!(straight_dir.join(format!("epoch-{e:04}.safetensors")).exists());
    }
    let mut last = Points::new(&mut ChaCha8Rng::seed_from_u64(0));
    last.load_weights(straight_dir.join("last.safetensors")).unwrap();
    assert_eq!(bits(&last), bits(&straight));
}

#[test]
fn resuming_checks_the_checkpoint_first() {
    let data = spirals(60, 6);
    let dir = scratch("check");
    let mut net = Points::new(&mut ChaCha8Rng::seed_from_u64(0));
    Trainer::new(CrossEntropy, adam())
        .epochs(1)
        .checkpoints(Checkpoints::new(&dir))
        .progress(Progress::Silent)
        .fit(&mut net, &data, None)
        .unwrap();
    let before = net.params().to_vec();
    // Another optimizer kind.
    let err = Trainer::new(CrossEntropy, Sgd::<f32>::with_lr(0.1).unwrap())
        .epochs(2)
        .progress(Progress::Silent)
        .resume(&mut net, dir.join("last.safetensors"), &data, None)
        .unwrap_err();
    assert!(err.to_string().contains("is for optimizer `adam`, but this run has `sgd`"), "{err}");
    assert_eq!(net.params(), before);
    // Another network of the same name.
    mod other {
        perceptra::network! { pub struct Points<f32> { input: 2, Dense(8), Dense(3) } }
    }
    let mut other = other::Points::new(&mut ChaCha8Rng::seed_from_u64(0));
    let err = Trainer::new(CrossEntropy, adam())
        .epochs(2)
        .progress(Progress::Silent)
        .resume(&mut other, dir.join("last.safetensors"), &data, None)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("is for a network of `1251 parameters`, but this run has `51 parameters`"),
        "{err}"
    );
    // A file that is not a checkpoint.
    std::fs::write(dir.join("junk.safetensors"), b"\x10\0\0\0\0\0\0\0{\"a\":").unwrap();
    let err = Trainer::new(CrossEntropy, adam())
        .progress(Progress::Silent)
        .resume(&mut net, dir.join("junk.safetensors"), &data, None)
        .unwrap_err();
    assert!(err.to_string().contains("not a valid safetensors file"), "{err}");
}

#[test]
fn divergence_stops_with_the_epoch_and_step_and_keeps_the_last_checkpoint() {
    let data = spirals(300, 7);
    let dir = scratch("nan");
    let mut net = Relus::new(&mut ChaCha8Rng::seed_from_u64(0));
    let mut sgd = Sgd::with_lr(0.05).unwrap();
    // One good epoch with a checkpoint, then a learning rate that explodes.
    let good = Trainer::new(CrossEntropy, &mut sgd)
        .epochs(1)
        .checkpoints(Checkpoints::new(&dir))
        .progress(Progress::Silent)
        .fit(&mut net, &data, None)
        .unwrap();
    assert_eq!(good.epochs.len(), 1);
    let saved = std::fs::read(dir.join("last.safetensors")).unwrap();
    // Weights overflow to infinity within a few steps, and the loss to NaN.
    sgd.set_learning_rate(1e30);
    let err = Trainer::new(CrossEntropy, &mut sgd)
        .epochs(3)
        .checkpoints(Checkpoints::new(&dir))
        .progress(Progress::Silent)
        .fit(&mut net, &data, None)
        .unwrap_err();
    let FitError::NonFinite { epoch, step, loss } = err else { panic!("{err}") };
    assert_eq!(epoch, 1);
    assert!(step > 1 && !loss.is_finite());
    assert!(net.params().iter().all(|p| p.is_finite()), "the bad step was not applied");
    assert_eq!(
        std::fs::read(dir.join("last.safetensors")).unwrap(),
        saved,
        "the checkpoint is untouched"
    );
}

#[test]
fn bad_settings_are_errors() {
    let data = spirals(30, 8);
    let mut net = Points::new(&mut ChaCha8Rng::seed_from_u64(0));
    let run = |t: Trainer<CrossEntropy, Adam<f32>>, net: &mut Points| {
        t.progress(Progress::Silent).fit(net, &data, None)
    };
    assert!(matches!(
        run(Trainer::new(CrossEntropy, adam()).batch_size(0), &mut net),
        Err(FitError::ZeroBatchSize)
    ));
    assert!(matches!(
        run(Trainer::new(CrossEntropy, adam()).validation_split(1.0), &mut net),
        Err(FitError::ValidationSplit(_))
    ));
    let bad = Dataset::new(vec![SVector::from([0.0, 0.0])], vec![3]).unwrap();
    let err = Trainer::new(CrossEntropy, adam())
        .progress(Progress::Silent)
        .fit(&mut net, &bad, None)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "training sample 0: class index 3 is out of range for a network with 3 outputs"
    );
}

#[cfg(feature = "plot")]
#[test]
fn history_plots_as_svg_and_png() {
    let data = spirals(120, 9);
    let mut net = Points::new(&mut ChaCha8Rng::seed_from_u64(0));
    let history = Trainer::new(CrossEntropy, adam())
        .epochs(5)
        .validation_split(0.25)
        .progress(Progress::Silent)
        .fit(&mut net, &data, None)
        .unwrap();
    let dir = scratch("plot");
    let files = history.plot(dir.join("curves")).unwrap();
    let svg = std::fs::read_to_string(&files.svg).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("Accuracy") && svg.contains("validation"));
    let png = std::fs::read(&files.png).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(png.len() > 10_000, "a real picture, not an empty canvas");
}

/// A save interrupted by a crash (the process killed while it writes) leaves
/// the previous file whole and loadable.
#[test]
fn a_crash_during_a_save_leaves_the_previous_file() {
    const CHILD: &str = "PERCEPTRA_CRASH_CHILD";
    let child_dir = std::env::var_os(CHILD).map(PathBuf::from);
    let net = Points::new(&mut ChaCha8Rng::seed_from_u64(0));
    if let Some(dir) = child_dir {
        // In the child: start overwriting, then hang half-way until killed.
        let bytes = weights::to_bytes(&Points::new(&mut ChaCha8Rng::seed_from_u64(1)));
        let _ = weights::write_atomic_with(&dir.join("model.safetensors"), |f| {
            use std::io::Write;
            f.write_all(&bytes[..bytes.len() / 2])?;
            f.sync_all()?;
            std::thread::sleep(Duration::from_secs(60));
            Ok(())
        });
        return;
    }
    let dir = scratch("crash");
    net.save_weights(dir.join("model.safetensors")).unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args(["--exact", "a_crash_during_a_save_leaves_the_previous_file", "--nocapture"])
        .env(CHILD, &dir)
        .spawn()
        .unwrap();
    // Wait for the half-written temporary file, then kill the writer.
    let start = Instant::now();
    let tmp = loop {
        let found =
            std::fs::read_dir(&dir).unwrap().filter_map(Result::ok).map(|e| e.path()).find(|p| {
                p.extension().is_some_and(|e| e == "tmp")
                    && std::fs::metadata(p).is_ok_and(|m| m.len() > 0)
            });
        if let Some(p) = found {
            break p;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "the child never started writing");
        std::thread::sleep(Duration::from_millis(10));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(tmp.exists(), "the crash left the temporary file");
    let mut back = Points::new(&mut ChaCha8Rng::seed_from_u64(5));
    back.load_weights(dir.join("model.safetensors")).unwrap();
    assert_eq!(back.params(), net.params(), "the previous save is intact");
}

#[test]
fn a_failed_save_removes_its_temporary_file() {
    let dir = scratch("failed");
    let path = dir.join("model.safetensors");
    std::fs::write(&path, b"old").unwrap();
    let err = weights::write_atomic_with(&path, |f| {
        use std::io::Write;
        f.write_all(b"new and half")?;
        Err(std::io::Error::other("disk full"))
    })
    .unwrap_err();
    assert_eq!(err.to_string(), "disk full");
    assert_eq!(std::fs::read(&path).unwrap(), b"old");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no temporary file is left");
}
