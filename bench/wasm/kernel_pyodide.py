"""Time the kernel against numpy's ``@`` and einsum inside Pyodide (run by tests/pyodide/pyodide_run.js).

    node tests/pyodide/pyodide_run.js PYODIDE_DIR webnet_matmul.so bench/wasm/kernel_pyodide.py [REPEATS]

The products of a 784-128-10 network's training step with batch 64, and the whole step. The
methods are interleaved within each repeat (this machine's speed drifts between runs), medians
are printed as a table, then as one JSON line. Each timing of a product is the mean of enough calls
in a row to take about 1 ms with `@` (1 for the big products, which then start with caches holding
the previous product's data, as in a training step); "warm kernel" is the kernel's mean over 10
calls in a row. The steps are timed one by one. "kernel" is ``accel.matmul`` as the layers would
call it: it allocates its output, and for ``d1 @ W1.T`` it includes copying W1.T contiguous.
"""
import json
import sys
import time

import numpy as np

from webnet import accel

REPEATS = int(sys.argv[2]) if len(sys.argv) > 2 else 50
accel.load(sys.argv[1])
rng = np.random.default_rng(0)


def f32(*shape):
    return rng.standard_normal(shape, dtype=np.float32)


x, W1, W2, b1, b2 = f32(64, 784), f32(784, 128) * 0.05, f32(128, 10) * 0.1, f32(128), f32(10)
h, d1, d2 = np.maximum(f32(64, 128), 0), f32(64, 128), f32(64, 10)
PRODUCTS = {  # name: (A, B, the same product with einsum on the untransposed arrays)
    "x @ W1      (64x784 @ 784x128)": (x, W1, lambda: np.einsum("ni,io->no", x, W1)),
    "x.T @ d1    (784x64 @ 64x128)": (x.T, d1, lambda: np.einsum("ni,no->io", x, d1)),
    "d1 @ W1.T   (64x128 @ 128x784)": (d1, W1.T, lambda: np.einsum("no,io->ni", d1, W1)),
    "h @ W2      (64x128 @ 128x10)": (h, W2, lambda: np.einsum("nh,ho->no", h, W2)),
    "h.T @ d2    (128x64 @ 64x10)": (h.T, d2, lambda: np.einsum("nh,no->ho", h, d2)),
}


def clock(fn, calls=1):
    """Seconds per call of fn, over `calls` calls in a row (the first call after other work pays
    for cold caches: up to ~0.1 ms here, which would swamp the small products)."""
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t0) / calls


def step(mm, fused=False):
    """One SGD step of 784-128-10 (ReLU, softmax cross-entropy), all five products through mm."""
    global W1, W2
    hh = mm(x, W1)
    hh += b1
    np.maximum(hh, 0, out=hh)
    z = mm(hh, W2)
    z += b2
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(64), np.arange(64) % 10] -= 1
    p *= np.float32(0.01 / 64)
    g1 = mm(p, W2.T)
    g1 *= hh > 0
    if fused:
        accel.matmul_add(W2, hh.T, p, alpha=-1)
        accel.matmul_add(W1, x.T, g1, alpha=-1)
    else:
        W2 -= mm(hh.T, p)
        W1 -= mm(x.T, g1)


methods = {"kernel": lambda a, b, e: accel.matmul(a, b), "@": lambda a, b, e: a @ b, "einsum": lambda a, b, e: e()}
steps = {"step kernel": lambda: step(accel.matmul), "step kernel fused update": lambda: step(accel.matmul, True),
         "step @": lambda: step(np.matmul)}

for (a, b, e) in PRODUCTS.values():  # warm up, and check the three agree
    got = {name: fn(a, b, e) for name, fn in methods.items()}
    assert np.array_equal(got["kernel"].view(np.uint32), got["@"].view(np.uint32))
    assert np.allclose(got["@"], got["einsum"], atol=1e-3)
for fn in steps.values():
    fn()
# calls in a row per timing: enough for about 1 ms with numpy's @
CALLS = {name: max(1, int(1e-3 / clock(lambda: a @ b, 20))) for name, (a, b, e) in PRODUCTS.items()}

times = {name: {method: [] for method in methods} for name in PRODUCTS}
step_times = {name: [] for name in steps}
tiny, raw, warm = np.ones((1, 1), np.float32), [], {name: [] for name in PRODUCTS}
for _ in range(REPEATS):
    for name, (a, b, e) in PRODUCTS.items():
        for method, fn in methods.items():
            times[name][method].append(clock(lambda: fn(a, b, e), CALLS[name]))
    for name, fn in steps.items():
        step_times[name].append(clock(fn))
    raw.append(clock(lambda: accel.matmul(tiny, tiny), 100))
    for name, (a, b, e) in PRODUCTS.items():  # the kernel again, 10 calls in a row: warm caches
        warm[name].append(clock(lambda: accel.matmul(a, b), 10))

result = {"products": {}, "steps_ms": {}, "repeats": REPEATS}
print(f"{'product':34} {'kernel ms':>10} {'GFLOP/s':>8} {'@ ms':>8} {'GFLOP/s':>8} {'einsum ms':>10} {'speed-up':>9}"
      f" {'warm kernel ms':>15} {'GFLOP/s':>8}")
for name, (a, b, e) in PRODUCTS.items():
    flops = 2 * a.shape[0] * a.shape[1] * b.shape[1]
    med = {method: float(np.median(t)) for method, t in times[name].items()}
    med["kernel_warm"] = float(np.median(warm[name]))
    result["products"][name.split("  ")[0]] = {m: round(t * 1e3, 4) for m, t in med.items()} | {
        "gflops_kernel": round(flops / med["kernel"] / 1e9, 1), "gflops_@": round(flops / med["@"] / 1e9, 2),
        "gflops_kernel_warm": round(flops / med["kernel_warm"] / 1e9, 1)}
    print(f"{name:34} {med['kernel'] * 1e3:10.3f} {flops / med['kernel'] / 1e9:8.1f} {med['@'] * 1e3:8.3f} "
          f"{flops / med['@'] / 1e9:8.2f} {med['einsum'] * 1e3:10.3f} {med['@'] / med['kernel']:8.1f}x"
          f" {med['kernel_warm'] * 1e3:15.3f} {flops / med['kernel_warm'] / 1e9:8.1f}")
for name, t in step_times.items():
    result["steps_ms"][name] = round(float(np.median(t)) * 1e3, 3)
    print(f"{name:34} {np.median(t) * 1e3:10.3f} ms per step")
result["call_overhead_us"] = round(float(np.median(raw)) * 1e6, 2)
print(f"{'accel.matmul, 1x1x1':34} {np.median(raw) * 1e6:10.2f} us per call")
print(json.dumps(result))
