"""PyTorch beside examples/mnist_cnn.rs: the same LeNet, timed the same way.

The network of examples/mnist_cnn.rs in PyTorch, trained on MNIST with Adam
(lr 1e-3), batches of 64, timed as ../shared/bench/torch_train.py times its
multilayer perceptrons: each epoch is a shuffle plus every minibatch step,
data already in memory as float32 in [0, 1], the last partial batch kept.
It reuses that folder's MNIST reader and load monitor.

    /tmp/torchenv/bin/python scripts/torch_lenet.py --epochs 10 --threads 2

Prints a line per epoch and one RESULT_JSON line.
"""
import argparse
import json
import pathlib
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

BENCH = pathlib.Path(__file__).resolve().parent.parent.parent / "shared" / "bench"
sys.path.insert(0, str(BENCH))
import loadmon  # noqa: E402
import mnist_idx  # noqa: E402


def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--bs", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    Xtr, ytr = mnist_idx.load("train")
    Xte, yte = mnist_idx.load("test")
    Xtr = torch.from_numpy(Xtr).reshape(-1, 1, 28, 28)
    Xte = torch.from_numpy(Xte).reshape(-1, 1, 28, 28)
    ytr, yte = torch.from_numpy(ytr), torch.from_numpy(yte)
    model = lenet()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    n, bs = Xtr.shape[0], args.bs
    Xs, ys = Xtr.clone(), ytr.clone()
    times, accs, loads = [], [], []
    for ep in range(1, args.epochs + 1):
        model.train()
        s0 = loadmon.snap()
        t0 = time.perf_counter()
        perm = torch.randperm(n)
        torch.index_select(Xtr, 0, perm, out=Xs)
        torch.index_select(ytr, 0, perm, out=ys)
        for i in range(0, n, bs):
            loss = F.cross_entropy(model(Xs[i:i + bs]), ys[i:i + bs])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        t1 = time.perf_counter()
        loads.append(loadmon.other_frac(s0, loadmon.snap()))
        times.append(t1 - t0)
        model.eval()
        with torch.no_grad():
            acc = (model(Xte).argmax(1) == yte).float().mean().item()
        accs.append(acc)
        print(f"epoch {ep} time {t1 - t0:.3f}s test_acc {acc:.4f} other_load {loads[-1]:.2f}", flush=True)
    print("RESULT_JSON " + json.dumps({
        "torch": torch.__version__, "threads": torch.get_num_threads(), "bs": bs, "lr": args.lr,
        "epoch_times": times, "median_epoch_s": statistics.median(times), "test_acc": accs,
        "other_load": loads,
    }), flush=True)


if __name__ == "__main__":
    main()
