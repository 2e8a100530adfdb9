//! The firmware in `firmware/` classifies the same digits as the host, with
//! the same bits: this test computes the host's lines and, when the firmware
//! has been built (`.ci/run` builds it) and `qemu-system-arm` is installed,
//! runs it on the emulated Cortex-M4 and compares. It also holds the firmware
//! to its stack budget.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use perceptra::prelude::*;

network! {
    /// `firmware/src/main.rs`'s network.
    struct Mnist<f32> { input: 784, Dense(128), ReLU, Dense(10) }
}

/// What the firmware prints for its digits, computed here.
fn host_lines(firmware: &Path) -> Vec<String> {
    let mut net = Mnist::new(&mut ChaCha8Rng::seed_from_u64(0));
    net.load_weights(firmware.join("mnist.safetensors")).unwrap();
    let digits = std::fs::read(firmware.join("digits.bin")).unwrap();
    let mut lines = Vec::new();
    for (i, digit) in digits.chunks_exact(785).enumerate() {
        let x =
            SVector::<f32, 784>::from_iterator(digit[1..].iter().map(|&p| f32::from(p) / 255.0));
        let y = net.forward(&x);
        lines.push(format!("digit {i}: predicted {}, label {}", y.argmax().0, digit[0]));
        if i == 0 {
            lines.push(format!("logits of digit 0: {:08x?}", y.map(f32::to_bits).as_slice()));
        }
    }
    lines
}

/// Runs `elf` in QEMU, killed after `limit`: its exit status and output.
fn qemu(elf: &Path, limit: Duration) -> Option<(i32, String)> {
    let mut child = Command::new("qemu-system-arm")
        .args(["-cpu", "cortex-m4", "-machine", "mps2-an386", "-nographic"])
        .args(["-semihosting-config", "enable=on,target=native", "-kernel"])
        .arg(elf)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().ok()? {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("the firmware ran for more than {limit:?}: it hangs");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut out = String::new();
    child.stdout.take()?.read_to_string(&mut out).ok()?;
    Some((status.code().unwrap_or(-1), out))
}

#[test]
fn firmware_predicts_what_the_host_predicts() {
    let firmware = Path::new(env!("CARGO_MANIFEST_DIR")).join("firmware");
    let host = host_lines(&firmware);
    let correct = host.iter().filter(|l| l.starts_with("digit")).filter(|l| {
        let (p, t) = l.split_once(", label ").unwrap();
        p.ends_with(&format!("predicted {t}"))
    });
    assert!(correct.count() >= 15, "the baked model classifies its digits: {host:#?}");

    // CI sets PERCEPTRA_REQUIRE_QEMU: there, skipping is a failure.
    let skip = |why: &str| {
        assert!(
            std::env::var_os("PERCEPTRA_REQUIRE_QEMU").is_none(),
            "cannot run the firmware: {why}"
        );
        eprintln!("skipping the QEMU run: {why}");
    };
    let elf = firmware.join("target/thumbv7em-none-eabihf/release/perceptra-firmware");
    if !elf.exists() {
        return skip("build the firmware first (cd firmware && cargo build --release)");
    }
    let Some((status, out)) = qemu(&elf, Duration::from_secs(60)) else {
        return skip("qemu-system-arm is not installed");
    };
    assert_eq!(status, 0, "the firmware failed:\n{out}");
    let lines: Vec<&str> = out.lines().collect();
    let predictions = |lines: &[&str]| -> Vec<String> {
        lines.iter().filter(|l| l.starts_with("digit")).map(|l| l.to_string()).collect()
    };
    let host_refs: Vec<&str> = host.iter().map(String::as_str).collect();
    assert_eq!(predictions(&lines), predictions(&host_refs), "the firmware and the host disagree");
    // The logits agree to rounding: the same bits where the host has no
    // AVX-512 (the same additions in the same order); with AVX-512 the host
    // sums in another order with fused multiply-adds.
    let logits = |lines: &[&str]| -> Vec<f32> {
        let line = lines
            .iter()
            .find_map(|l| l.strip_prefix("logits of digit 0: ["))
            .expect("a logits line");
        let line = line.strip_suffix(']').expect("a closed list");
        line.split(", ")
            .map(|b| f32::from_bits(u32::from_str_radix(b, 16).expect("hex bits")))
            .collect()
    };
    let (ours, theirs) = (logits(&lines), logits(&host_refs));
    assert_eq!(ours.len(), 10);
    for (a, b) in ours.iter().zip(&theirs) {
        assert!(
            (a - b).abs() <= 1e-4 * b.abs().max(1.0),
            "logits differ: firmware {ours:?}, host {theirs:?}"
        );
    }
    let stack: usize = lines
        .iter()
        .find_map(|l| l.strip_prefix("stack: ")?.strip_suffix(" bytes at most")?.parse().ok())
        .expect("the firmware reports its stack");
    assert!(stack < 8 * 1024, "the firmware used {stack} bytes of stack, more than 8 KiB");
}
