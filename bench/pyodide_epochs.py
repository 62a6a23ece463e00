"""Whole training epochs inside Pyodide, with the WebAssembly kernel and without it, side by side.

    node tests/pyodide/pyodide_run.js PYODIDE_DIR webnet_matmul.so bench/pyodide_epochs.py [ROUNDS] [SECONDS]

On the shipped 10,000 digits (what the page trains on): the 784-128-10 MLP (batch 64, lr 0.05), also
with LinearLayer's sparse-input trick turned off; lenet (batch 32, lr 0.1). Each round runs every
variant once, in rotating order; medians and same-round ratios. Then lenet is trained with the
kernel for SECONDS (default 60) of training time, epoch after epoch, and scored on the 2,000 test
digits after each epoch. Last, the time to preprocess and classify one 280 x 280 pad drawing with
the shipped model (webnet.drawn's drawings), with the kernel. Prints one JSON line last.
"""
import json
import statistics
import sys
import time

import numpy as np

import webnet as wn
from webnet import accel, data
from webnet.layers import LinearLayer

ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
SECONDS = float(sys.argv[3]) if len(sys.argv) > 3 else 60.0
X, y, Xt, yt = data.load_mnist_subset()
KERNEL = sys.argv[1]


def use_kernel(on):
    if on:
        accel.load(KERNEL)
    else:
        accel.disable()


def mlp_epoch(kernel, sparse=True):
    def run():
        use_kernel(kernel)
        LinearLayer.sparse_below = 0.75 if sparse else 0.0
        net = wn.build_model("784-128-10", rng=0)
        start = time.perf_counter()
        net.fit_one_epoch(X, y, 64, 0.05, rng=1)
        return time.perf_counter() - start
    return run


def lenet_epoch(kernel):
    def run():
        use_kernel(kernel)
        net = wn.build_model("lenet", rng=0)
        start = time.perf_counter()
        net.fit_one_epoch(X, y, 32, 0.1, rng=1)
        return time.perf_counter() - start
    return run


VARIANTS = {"mlp kernel": mlp_epoch(True), "mlp kernel, dense": mlp_epoch(True, sparse=False),
            "mlp numpy": mlp_epoch(False), "mlp numpy, dense": mlp_epoch(False, sparse=False),
            "lenet kernel": lenet_epoch(True), "lenet numpy": lenet_epoch(False)}
times = {name: [] for name in VARIANTS}
names = list(VARIANTS)
for r in range(ROUNDS):
    for name in names[r % len(names):] + names[:r % len(names)]:
        times[name].append(VARIANTS[name]())
    print(f"round {r + 1}: " + ", ".join(f"{n} {times[n][-1]:.2f} s" for n in names), flush=True)
LinearLayer.sparse_below = 0.75


def ratio(a, b):
    return statistics.median(x / z for x, z in zip(times[a], times[b]))


result = {"rounds": ROUNDS, "epoch_seconds": {n: round(statistics.median(t), 3) for n, t in times.items()},
          "ratios": {"mlp numpy / kernel": round(ratio("mlp numpy", "mlp kernel"), 2),
                     "mlp kernel dense / sparse": round(ratio("mlp kernel, dense", "mlp kernel"), 2),
                     "mlp numpy dense / sparse": round(ratio("mlp numpy, dense", "mlp numpy"), 2),
                     "lenet numpy / kernel": round(ratio("lenet numpy", "lenet kernel"), 2)}}

# lenet for SECONDS of training with the kernel, scored after every epoch
use_kernel(True)
net, trained, curve, rng = wn.build_model("lenet", rng=0), 0.0, [], np.random.default_rng(1)
while trained < SECONDS:
    start = time.perf_counter()
    ep = net.epoch(X, y, 32, 0.1, rng=rng)
    while not ep.done and trained + time.perf_counter() - start < SECONDS:
        ep.run(20)
    trained += time.perf_counter() - start
    curve.append((round(trained, 1), ep.batch, round(net.evaluate(Xt, yt)[0], 4)))
    print(f"lenet: {trained:.1f} s, {ep.batch} batches of this epoch, test accuracy {curve[-1][2]:.4f}", flush=True)
result["lenet_in_seconds"] = {"seconds": SECONDS, "curve": curve, "test_accuracy": curve[-1][2]}

# one drawing from the pad to an answer, as the page does it, with the shipped model
from webnet import drawn  # noqa: E402
from webnet.preprocess import preprocess  # noqa: E402

shipped, draw_rng, per_drawing = wn.models.pretrained(), np.random.default_rng(0), []
for digit in range(10):
    canvas = drawn.draw(digit, list(drawn.STYLES[digit])[0], draw_rng)
    for _ in range(3):
        start = time.perf_counter()
        shipped.predict_proba(preprocess(canvas).x)
        per_drawing.append(time.perf_counter() - start)
result["per_drawing_ms"] = {"model": wn.models.architecture_name(shipped),
                            "median": round(1e3 * statistics.median(per_drawing), 2),
                            "max": round(1e3 * max(per_drawing), 2)}
print(json.dumps(result))
