"""The convolutional side of the native benchmark (bench/run.py calls these): lenet against PyTorch,
the cost of augmentation, the shipped model on MNIST and on the drawn digits, and webnet inside
Pyodide under Node (bench/pyodide_epochs.py) when a runtime is there.

Every comparison is made of rounds in which each contender runs once, in rotating order; a ratio is
the median of the ratios of the same round (this machine is shared and its speed drifts).
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from torch_contender import TorchContender

import webnet as wn
from webnet import drawn
from webnet.augment import Augment
from webnet.preprocess import preprocess

ROOT = Path(__file__).resolve().parent.parent
LENET_BATCH, LENET_LR = 32, 0.1


class WebnetLenet:
    name = "webnet lenet (float32)"

    def __init__(self, X, y, seed, augment=None):
        self.X, self.y, self.augment = X, y, augment
        self.net = wn.build_model("lenet", rng=seed)
        self.rng = np.random.default_rng(seed + 1)

    def epoch(self):
        self.net.fit_one_epoch(self.X, self.y, LENET_BATCH, LENET_LR, rng=self.rng, augment=self.augment)

    def accuracy(self, X, y):
        return self.net.evaluate(X, y)[0]


class AugmentedLenet(WebnetLenet):
    name = "webnet lenet, augmented"

    def __init__(self, X, y, seed):
        super().__init__(X, y, seed, Augment())


class TorchLenet(TorchContender):
    name, batch, lr = "PyTorch CPU lenet (float32)", LENET_BATCH, LENET_LR

    def build(self, nn):
        return nn.Sequential(nn.Unflatten(1, (1, 28, 28)), nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(8, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(256, 10))


def rounds(kinds, X, y, Xt, yt, n_rounds, label):
    """One epoch per contender per round, rotating the order; per-contender seconds, medians, the
    test accuracy after the rounds, and same-round ratios."""
    contenders = [k(X, y, 0) for k in kinds]
    times = {c.name: [] for c in contenders}
    for r in range(n_rounds):
        order = contenders[r % len(contenders):] + contenders[:r % len(contenders)]
        for c in order:
            start = time.perf_counter()
            c.epoch()
            times[c.name].append(time.perf_counter() - start)
        print(f"  {label} round {r + 1}: " + ", ".join(f"{c.name} {times[c.name][-1]:.3f} s" for c in contenders),
              flush=True)
    out = {"results": {c.name: {"seconds": times[c.name], "median": statistics.median(times[c.name]),
                                "test_accuracy": c.accuracy(Xt, yt)} for c in contenders}}
    names = list(times)
    out["ratios"] = {f"{a} / {b}": statistics.median(p / q for p, q in zip(times[a], times[b]))
                     for a in names for b in names if a != b}
    return out


def lenet_vs_torch(X, y, Xt, yt, n_rounds, torch_ok):
    kinds = [WebnetLenet] + ([TorchLenet] if torch_ok else [])
    return rounds(kinds, X, y, Xt, yt, n_rounds, "lenet") | {"n_train": len(X), "rounds": n_rounds,
                                                             "batch": LENET_BATCH, "lr": LENET_LR}


def augmentation_cost(X, y, Xt, yt, n_rounds):
    return rounds([WebnetLenet, AugmentedLenet], X, y, Xt, yt, n_rounds, "augment") | {"augment": repr(Augment())}


def per_drawing_ms(net, canvases, repeats=3):
    """Median time to preprocess one 280 x 280 pad drawing and classify it (ms)."""
    times = []
    for _ in range(repeats):
        for c in canvases:
            start = time.perf_counter()
            net.predict_proba(preprocess(c).x)
            times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def models_on_digits(old_path, mnist_test):
    """The old (784-128-10, from git) and the shipped model on MNIST's test digits, the shipped
    subset's 2,000, and the drawn set."""
    Xd, yd = drawn.digits()
    _, _, Xs, ys = wn.data.load_mnist_subset()
    rng = np.random.default_rng(0)
    canvases = [drawn.draw(d, list(drawn.STYLES[d])[0], rng) for d in range(10)]
    out = {"drawn_set": {"n": len(Xd), "seed": drawn.SEED}}
    for label, net, size in (("old", wn.load(old_path), old_path.stat().st_size),
                             ("shipped", wn.models.pretrained(), None)):
        row = {"arch": wn.models.architecture_name(net), "params": net.num_params(),
               "subset_test_accuracy": net.evaluate(Xs, ys)[0], "drawn_accuracy": float(np.mean(net.predict(Xd) == yd)),
               "per_drawing_ms": per_drawing_ms(net, canvases)}
        if mnist_test is not None:
            row["mnist_test_accuracy"] = net.evaluate(*mnist_test)[0]
        row["file_bytes"] = size if size else len(
            (ROOT / "webnet" / "assets" / wn.models.PRETRAINED).read_bytes())
        out[label] = row
    return out


def old_model_file():
    """The 784-128-10 model shipped before lenet, from git (the commit before it was replaced)."""
    path = Path(tempfile.mkdtemp()) / "old_pretrained.npz"
    blob = subprocess.run(["git", "-C", str(ROOT), "show", "4d18140:webnet/assets/pretrained.npz"],
                          capture_output=True, check=True).stdout
    path.write_bytes(blob)
    return path


def pyodide_epochs(quick):
    """bench/pyodide_epochs.py under Node with the assembled kernel, or a note saying why not."""
    pyodide = Path(os.environ.get("WEBNET_PYODIDE_DIR", ROOT / "dist" / "site" / "pyodide"))
    if not (pyodide / "pyodide.js").exists():
        return {"note": f"no Pyodide runtime at {pyodide} (build the site or set WEBNET_PYODIDE_DIR)"}
    sys.path.insert(0, str(ROOT / "site"))
    from builder.kernel import assemble_kernel

    with tempfile.TemporaryDirectory() as tmp:
        kernel = assemble_kernel(Path(tmp) / "webnet_matmul.so")
        args = ["2", "10"] if quick else ["5", "60"]
        done = subprocess.run(["node", ROOT / "tests" / "pyodide" / "pyodide_run.js", pyodide, kernel,
                               ROOT / "bench" / "pyodide_epochs.py", *args], capture_output=True, text=True)
    if done.returncode:
        return {"note": f"bench/pyodide_epochs.py failed: {done.stderr.strip()[-500:]}"}
    print(done.stdout, flush=True)
    return json.loads(done.stdout.strip().splitlines()[-1]) | {"pyodide_dir": str(pyodide)}
