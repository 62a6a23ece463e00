"""Side-by-side benchmarks: webnet against the seed notebook's code and PyTorch, natively, and the
built site in headless Chromium. Every ratio comes from pairs measured in the same round.

    python3 build.py bench            # full run: writes docs/benchmarks.json and docs/benchmarks.md
    python3 build.py bench --quick    # CI's smoke run: small data, writes dist/bench-quick.json only

One BLAS thread (threadpoolctl), implementations in rotating order round by round, medians.
The environment's OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are left as they are; a second column runs
the MLP comparison in a child process with both unset, and each column names its BLAS kernel.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import cnn_bench  # noqa: E402
import seed_notebook as seed  # noqa: E402
from torch_contender import TorchContender  # noqa: E402

import webnet as wn  # noqa: E402
from webnet import data, gradcheck  # noqa: E402
from webnet.conv import SimpleConv  # noqa: E402

BATCH, LR, HIDDEN = 64, 0.05, 128
BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def blas_kernel():
    libs = [lib for lib in threadpool_info() if lib.get("user_api") == "blas"]
    return ", ".join(f"{lib['internal_api']} {lib.get('version')} ({lib.get('architecture')})" for lib in libs)


# -- the contenders: each trains the same 784-128-10 MLP, batch 64, lr 0.05 ----------------------
class SeedNotebook:
    """The notebook's code path (float64, one-hot targets) on the seed's own classes."""

    name = "seed notebook (float64)"
    lib = seed

    def __init__(self, X, y, seed_):
        lib = self.lib
        self.X, self.Y = X.astype(np.float64), lib.one_hot(y, 10)
        rng = np.random.default_rng(seed_)
        self.net = lib.NeuralNetwork([lib.LinearLayer(784, HIDDEN, rng=rng), lib.ReLU(),
                                      lib.LinearLayer(HIDDEN, 10, rng=rng), lib.Softmax()], lib.CrossEntropy())
        self.rng = np.random.default_rng(seed_ + 1)

    def epoch(self):
        self.net.fit_one_epoch(self.X, self.Y, BATCH, LR, rng=self.rng)

    def accuracy(self, X, y):
        return float(np.mean(self.net(X.astype(np.float64)).argmax(1) == y))


class WebnetNotebookAPI(SeedNotebook):
    """The same code, unchanged, on webnet's classes: the same seeds give the same initial weights."""

    name = "webnet, notebook API (float64)"
    lib = wn


class WebnetFast:
    name = "webnet, fast path (float32)"

    def __init__(self, X, y, seed_):
        self.X, self.y = X.astype(np.float32), y
        self.net = wn.build_model(f"784-{HIDDEN}-10", rng=seed_, dtype=np.float32)
        self.rng = np.random.default_rng(seed_ + 1)

    def epoch(self):
        self.net.fit_one_epoch(self.X, self.y, BATCH, LR, rng=self.rng)

    def accuracy(self, X, y):
        return self.net.evaluate(X, y)[0]


class Torch(TorchContender):
    name, batch, lr = "PyTorch CPU (float32)", BATCH, LR

    def build(self, nn):
        return nn.Sequential(nn.Linear(784, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, 10))


def torch_available():
    try:
        import torch  # noqa: F401
        return True
    except ImportError:
        return False


def mlp_rounds(X, y, Xt, yt, rounds):
    """Rounds of one epoch per contender, in rotating order; returns per-contender seconds and the
    test accuracy after ``rounds`` epochs."""
    kinds = [SeedNotebook, WebnetNotebookAPI, WebnetFast] + ([Torch] if torch_available() else [])
    return cnn_bench.rounds(kinds, X, y, Xt, yt, rounds, "MLP")["results"]


def paired_ratio(results, slow, fast):
    a, b = results[slow]["seconds"], results[fast]["seconds"]
    return statistics.median(x / y for x, y in zip(a, b))


def gemm_bound(n_train):
    """Peak single-thread sgemm GFLOP/s (large square and the epoch's own shapes) and the
    FLOPs of one epoch's unavoidable products: forward x@W1, h@W2; backward x.T@g1, h.T@g2, g2@W2.T."""
    rng = np.random.default_rng(0)
    a, b = rng.random((1024, 1024), dtype=np.float32), rng.random((1024, 1024), dtype=np.float32)
    best = min(_timed(lambda: a @ b) for _ in range(7))
    peak = 2 * 1024 ** 3 / best / 1e9
    x, W = rng.random((BATCH, 784), dtype=np.float32), rng.random((784, HIDDEN), dtype=np.float32)
    g = rng.random((BATCH, HIDDEN), dtype=np.float32)
    shape_best = min(_timed(lambda: (x @ W, x.T @ g), 200) for _ in range(5)) / 200
    at_shape = 2 * 2 * BATCH * 784 * HIDDEN / shape_best / 1e9
    per_example = 2 * (784 * HIDDEN + HIDDEN * 10) + 2 * (784 * HIDDEN + HIDDEN * 10) + 2 * 10 * HIDDEN
    flops = per_example * n_train
    return {"peak_gflops": peak, "gflops_at_epoch_shapes": at_shape, "epoch_gflop": flops / 1e9,
            "bound_seconds_at_peak": flops / peak / 1e9, "bound_seconds_at_epoch_shapes": flops / at_shape / 1e9}


def _timed(f, n=1):
    start = time.perf_counter()
    for _ in range(n):
        f()
    return time.perf_counter() - start


def conv_bench(quick):
    rng = np.random.default_rng(0)
    x, K = rng.standard_normal((64, 28, 28)), rng.standard_normal((3, 3))
    g = rng.standard_normal((64, 26, 26))
    loops, fast = seed.SimpleConv(K), SimpleConv(K)

    def run(layer):
        layer.forward(x), layer.grad_x(x, g), layer.grad_params(x, g)

    slow = [_timed(lambda: run(loops)) for _ in range(1 if quick else 3)]
    quick_times = [_timed(lambda: run(fast), 10) / 10 for _ in range(5)]
    return {"notebook_loops_ms": 1e3 * statistics.median(slow), "vectorised_ms": 1e3 * statistics.median(quick_times),
            "speedup": statistics.median(slow) / statistics.median(quick_times)}


def gradcheck_bench():
    rng = np.random.default_rng(0)
    net = wn.build_model("784-128-10", rng=rng)
    X, y, _, _ = data.load_mnist_subset(n_train=4, n_test=1, dtype=np.float64)
    times = [_timed(lambda: gradcheck.check_network(net, X, y, np.random.default_rng(1))) for _ in range(5)]
    return {"seconds": statistics.median(times)}


def native(quick):
    if quick:
        X, y, Xt, yt = data.load_mnist_subset(n_train=3000, n_test=1000)
        rounds = 2
    else:
        X, y, Xt, yt = data.load_mnist(dtype=np.float32)
        rounds = 7
    mnist_test = None if quick else (Xt, yt)
    with threadpool_limits(limits=1):
        kernel = blas_kernel()
        print(f"MLP 784-{HIDDEN}-10, batch {BATCH}, lr {LR}, {len(X):,} digits, {rounds} rounds, BLAS {kernel}",
              flush=True)
        results = mlp_rounds(X, y, Xt, yt, rounds)
        out = {"blas": kernel, "env": {v: os.environ.get(v) for v in BLAS_VARS}, "n_train": len(X),
               "rounds": rounds, "mlp": results, "gemm": gemm_bound(len(X))}
        names = list(results)
        out["ratios"] = {f"{a} / {b}": paired_ratio(results, a, b) for a in names for b in names if a != b}
        if os.environ.get("WEBNET_BENCH_CHILD"):
            return out
        out["conv"] = conv_bench(quick)
        out["gradcheck_native"] = gradcheck_bench()
        cnn_X, cnn_y = (X[:1000], y[:1000]) if quick else (X, y)
        print(f"lenet, batch {cnn_bench.LENET_BATCH}, lr {cnn_bench.LENET_LR}, {len(cnn_X):,} digits", flush=True)
        out["lenet"] = cnn_bench.lenet_vs_torch(cnn_X, cnn_y, Xt, yt, 2 if quick else 5, torch_available())
        out["augmentation"] = cnn_bench.augmentation_cost(cnn_X, cnn_y, Xt, yt, 2 if quick else 3)
        try:
            out["models"] = cnn_bench.models_on_digits(cnn_bench.old_model_file(), mnist_test)
        except subprocess.CalledProcessError as e:
            out["models"] = {"note": f"the old model could not be read from git: {e.stderr.decode()[:200]}"}
    return out


def unset_blas_column(quick):
    """The MLP comparison again in a child process with OPENBLAS_CORETYPE / L2_SIZE unset."""
    if not any(os.environ.get(v) for v in BLAS_VARS):
        return {"note": "OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are not set here: one column is the whole story"}
    env = {k: v for k, v in os.environ.items() if k not in BLAS_VARS}
    env["WEBNET_BENCH_CHILD"] = "1"
    cmd = [sys.executable, __file__, "--child"] + (["--quick"] if quick else [])
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def machine():
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
            "platform": platform.platform(), "date": datetime.date.today().isoformat()}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--no-browser", action="store_true")
    args = p.parse_args()
    if args.child:
        print(json.dumps(native(args.quick)))
        return
    report = {"machine": machine(), "quick": args.quick, "native": native(args.quick),
              "native_blas_vars_unset": unset_blas_column(args.quick), "pyodide": cnn_bench.pyodide_epochs(args.quick)}
    import lan_bench
    import robust_bench

    report["lan"] = lan_bench.classroom(10 if args.quick else lan_bench.CLIENTS)
    report["robust"] = {"images": robust_bench.images(),
                        "server_100": lan_bench.classroom(20 if args.quick else 100, visits=("first",))}
    if not args.no_browser:
        from browser_bench import browser_bench

        report["browser"] = browser_bench(args.quick, report["native"])
    if args.quick:
        out = ROOT / "dist" / "bench-quick.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(report, indent=2))
        print(f"quick benchmark ran: {out}")
        print(render_markdown(report))
    else:
        (ROOT / "docs" / "benchmarks.json").write_text(json.dumps(report, indent=2) + "\n")
        (ROOT / "docs" / "benchmarks.md").write_text(render_markdown(report))
        print("wrote docs/benchmarks.md and docs/benchmarks.json")


def render_markdown(r):
    from report import render

    return render(r)


if __name__ == "__main__":
    main()
