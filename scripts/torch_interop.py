"""Weight files shared between PyTorch and perceptra, and PyTorch's outputs for them.

The network, in both libraries:

    PyTorch:   nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.2),
                             nn.Linear(16, 16), nn.Sigmoid(), nn.Linear(16, 4), nn.Softmax(dim=1))
    perceptra: input: 6, Dense(16), ReLU, Dropout(0.2), Dense(16), Sigmoid, Dense(4), Softmax

Usage (from the repository root, with PyTorch and safetensors installed as in
../shared/bench/README.md):

    python scripts/torch_interop.py make
        writes tests/data/torch_mlp.safetensors (a float64 state_dict saved with
        safetensors.torch.save_file) and tests/data/torch_mlp.json (inputs and
        the outputs PyTorch computes from them)

    python scripts/torch_interop.py check tests/data/perceptra_mlp.safetensors
        loads a file perceptra wrote into the PyTorch model (strict: every name
        and shape must match) and writes PyTorch's outputs for the same inputs
        beside it, as perceptra_mlp.torch.json

tests/torch_interop.rs reads all of these.
"""
import json
import pathlib
import sys

import torch
import torch.nn as nn
from safetensors.torch import load_file, save_file

DATA = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data"


def model():
    return nn.Sequential(
        nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(16, 16), nn.Sigmoid(), nn.Linear(16, 4), nn.Softmax(dim=1),
    ).double().eval()


def inputs():
    g = torch.Generator().manual_seed(7)
    return torch.randn(5, 6, generator=g, dtype=torch.float64) * 2


def make():
    torch.manual_seed(0)
    m = model()
    x = inputs()
    with torch.no_grad():
        y = m(x)
    save_file(m.state_dict(), DATA / "torch_mlp.safetensors")
    (DATA / "torch_mlp.json").write_text(json.dumps({
        "description": "outputs = model(inputs) in float64 for the state_dict in torch_mlp.safetensors; "
                       "see scripts/torch_interop.py",
        "generator": f"torch {torch.__version__}, seed 0",
        "inputs": x.tolist(),
        "outputs": y.tolist(),
    }, indent=1))


def check(path):
    path = pathlib.Path(path)
    m = model()
    state = {k: v.double() for k, v in load_file(path).items()}
    m.load_state_dict(state, strict=True)
    x = inputs()
    with torch.no_grad():
        y = m(x)
    out = path.with_name(path.stem + ".torch.json")
    out.write_text(json.dumps({
        "description": f"outputs of PyTorch's model after load_state_dict(load_file({path.name}), strict=True); "
                       "see scripts/torch_interop.py",
        "generator": f"torch {torch.__version__}",
        "inputs": x.tolist(),
        "outputs": y.tolist(),
    }, indent=1))


if __name__ == "__main__":
    if sys.argv[1:] == ["make"]:
        make()
    elif len(sys.argv) == 3 and sys.argv[1] == "check":
        check(sys.argv[2])
    else:
        sys.exit(__doc__)
