"""The products of `bench kernels`, timed the same way with the vendors'
libraries: PyTorch's (Intel MKL) and NumPy's (OpenBLAS), on 1 and 2 threads.

    /tmp/torchenv/bin/python scripts/blas_shapes.py

Each product is timed as `examples/bench.rs` times ours: 20 calls of
warm-up, then the best of 7 rounds of 200 calls, into outputs allocated
once. The layouts are ours: weights `[m, k]` row-major, samples `[k, n]` and
`dL/dY` `[m, n]` column-major (so, seen row-major, `n` rows of samples), the
weight gradient added into its buffer (beta = 1; NumPy has no such call, so
its weight gradient overwrites). Run it beside

    PERCEPTRA_THREADS=1 target/release/examples/bench kernels
    target/release/examples/bench kernels

to compare kernels with kernels: this is the ceiling a vendor library reaches
on these shapes on this machine.
"""

import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

SHAPES = [(128, 784, 128), (256, 784, 64), (128, 784, 1000), (768, 768, 768), (128, 784, 1)]


def best_of(f):
    for _ in range(20):
        f()
    best = float("inf")
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(200):
            f()
        best = min(best, (time.perf_counter() - start) / 200)
    return best


def products(lib, m, k, n):
    """The three products of a dense layer, as closures over buffers."""
    rng = np.random.default_rng(0)
    w = rng.random((m, k), dtype=np.float32)  # [m, k] row-major
    x = rng.random((n, k), dtype=np.float32)  # [k, n] column-major
    dy = rng.random((n, m), dtype=np.float32)  # [m, n] column-major
    y, dw, dx = np.zeros((n, m), np.float32), np.zeros((m, k), np.float32), np.zeros((n, k), np.float32)
    if lib == "torch":
        w, x, dy, y, dw, dx = (torch.from_numpy(a) for a in (w, x, dy, y, dw, dx))
        if n == 1:
            x1, y1 = x[0], y[0]
            return {"forward": lambda: torch.mv(w, x1, out=y1)}
        return {
            "forward": lambda: torch.mm(x, w.t(), out=y),
            "weight gradient": lambda: dw.addmm_(dy.t(), x),
            "input gradient": lambda: torch.mm(dy, w, out=dx),
        }
    if n == 1:
        x1, y1 = x[0], y[0]
        return {"forward": lambda: np.matmul(w, x1, out=y1)}
    return {
        "forward": lambda: np.matmul(x, w.T, out=y),
        "weight gradient": lambda: np.matmul(dy.T, x, out=dw),
        "input gradient": lambda: np.matmul(dy, w, out=dx),
    }


def main():
    print(f"torch {torch.__version__}, numpy {np.__version__}")
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for lib in ("torch", "numpy"):
            with threadpool_limits(limits=threads):
                for m, k, n in SHAPES:
                    flops = 2.0 * m * k * n
                    samples = "1 sample" if n == 1 else f"{n} samples"
                    for name, f in products(lib, m, k, n).items():
                        t = best_of(f)
                        label = f"{lib} {threads}t {name} {m}x{k}, {samples}"
                        print(f"{label:48} {t * 1e6:9.2f} us {flops / t / 1e9:7.1f} GFLOP/s")


if __name__ == "__main__":
    main()
