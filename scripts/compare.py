"""perceptra against PyTorch, side by side: the README's speed table.

Runs each workload's two programs alternately (ours, then PyTorch's) for
several rounds in one session, so that both see the same machine, and prints
a Markdown table: medians over the rounds, the median of the rounds' ratios
with each round's ratio, and the ratio of the medians. Build first:

  cargo build --release --example bench --example mnist_cnn
  MNIST_DIR=../shared/data/mnist python3 scripts/compare.py --rounds 5

PyTorch comes from the interpreter in --python (see ../shared/bench/README.md
for installing it); its scripts from --bench. Nothing is timed here: every
figure is the one the program itself prints (RESULT_JSON lines, or the CNN
example's "s per epoch").
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys

TRAIN = [
    ("784-128-10, SGD lr 0.1, batch 32: s/epoch", "--arch 784-128-10 --opt sgd --lr 0.1 --bs 32"),
    ("same, batch 128: s/epoch", "--arch 784-128-10 --opt sgd --lr 0.1 --bs 128"),
    ("784-256-128-10, Adam lr 1e-3, batch 64: s/epoch", "--arch 784-256-128-10 --opt adam --lr 1e-3 --bs 64"),
]


def run(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.exit(f"`{' '.join(cmd)}` failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout


def result_json(text):
    for line in text.splitlines():
        if line.startswith("RESULT_JSON "):
            return json.loads(line[len("RESULT_JSON "):])
    sys.exit(f"no RESULT_JSON line in:\n{text}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--python", default="/tmp/torchenv/bin/python")
    p.add_argument("--bench", default="../shared/bench")
    p.add_argument("--no-cnn", action="store_true", help="skip LeNet (the slowest pair)")
    args = p.parse_args()
    if "MNIST_DIR" not in os.environ:
        sys.exit("set MNIST_DIR to the directory of the MNIST files")
    ours = "./target/release/examples/"
    epochs = ["--epochs", str(args.epochs)]

    # workload -> list of (ours, torch) per round; lower is better for all.
    rows = {}

    def add(name, a, b):
        rows.setdefault(name, []).append((a, b))

    for r in range(args.rounds):
        print(f"round {r + 1} of {args.rounds}", file=sys.stderr, flush=True)
        for name, cfg in TRAIN:
            a = result_json(run([ours + "bench", "train", *cfg.split(), *epochs]))["median_epoch_s"]
            b = result_json(run([args.python, f"{args.bench}/torch_train.py", *cfg.split(), *epochs]))
            add(name, a, b["median_epoch_s"])
        a = result_json(run([ours + "bench", "infer"]))
        b = result_json(run([args.python, f"{args.bench}/torch_infer.py", "--threads", "2",
                             "--modes", "eager,inference_mode,jit"]))
        # PyTorch's fastest mode for each figure.
        modes = b["modes"].values()
        add("one-sample inference, 784-128-10: µs", a["single_us"],
            min(m["batch1"]["median_us"] for m in modes))
        add("a batch of 1,000, 784-128-10: ms", a["batch1000_ms"],
            min(m["batch1000"]["median_ms"] for m in modes))
        if not args.no_cnn:
            cnn_epochs = ["--epochs", "2"]
            text = run([ours + "mnist_cnn", *cnn_epochs])
            m = re.search(r"([0-9.]+) s per epoch", text)
            if not m:
                sys.exit(f"no 's per epoch' in:\n{text}")
            b = result_json(run([args.python, "scripts/torch_lenet.py", *cnn_epochs, "--threads", "2"]))
            add("LeNet (mnist_cnn against torch_lenet.py), Adam, batch 64: s/epoch",
                float(m.group(1)), b["median_epoch_s"])

    # The median of the rounds' ratios pairs runs made side by side, so it
    # holds better than the ratio of medians when the machine slows down
    # for a while; both are printed.
    print("| workload | perceptra | PyTorch | PyTorch / perceptra: median of rounds (each round) | ratio of medians |")
    print("| --- | --- | --- | --- | --- |")
    for name, pairs in rows.items():
        a = statistics.median(x for x, _ in pairs)
        b = statistics.median(y for _, y in pairs)
        ratios = [y / x for x, y in pairs]
        each = ", ".join(f"{r:.2f}" for r in ratios)
        print(f"| {name} | {a:.4g} | {b:.4g} | {statistics.median(ratios):.2f}× ({each}) | {b / a:.2f}× |")


if __name__ == "__main__":
    main()
