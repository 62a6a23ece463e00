"""The kernel against numpy's own ``@``, inside Pyodide (run by tests/pyodide/pyodide_run.js).

    node tests/pyodide/pyodide_run.js PYODIDE_DIR webnet_matmul.so tests/pyodide/check_kernel.py

Prints one JSON object, checked by tests/test_accel.py: counts and the first failures per check.
"Same" means bitwise equal (``.view(np.uint32)``) with NaN in the same places (NaN payloads may
differ: WebAssembly leaves them unspecified). Every product that should take the kernel is checked
to have called it exactly once (``accel._kernel`` is wrapped to count calls), so a wrapper that
silently fell back to numpy would fail here.
"""
import itertools
import json
import sys

import numpy as np

from webnet import accel

report = {"failures": {}, "counts": {}}


def fail(check, message):
    report["failures"].setdefault(check, [])
    if len(report["failures"][check]) < 5:
        report["failures"][check].append(message)


def count(check):
    report["counts"][check] = report["counts"].get(check, 0) + 1


def same(x, y):
    """Bitwise equal float32 arrays, NaN payloads aside."""
    if x.shape != y.shape or x.dtype != y.dtype:
        return False
    nan_x, nan_y = np.isnan(x), np.isnan(y)
    return bool(np.array_equal(nan_x, nan_y) and np.array_equal(x[~nan_x].view(np.uint32), y[~nan_y].view(np.uint32)))


calls = []
accel.load(sys.argv[1])
real_kernel = accel._kernel
accel._kernel = lambda *args: (calls.append(args[:3]), real_kernel(*args))[1]


def check(name, a, b, want_kernel=True, out=None):
    """accel.matmul(a, b[, out]) against a @ b; the kernel must (or must not) have run, once."""
    count(name)
    want = np.matmul(a, b) if out is None else np.matmul(a, b, out=np.empty(out.shape, out.dtype))
    del calls[:]
    got = accel.matmul(a, b) if out is None else accel.matmul(a, b, out=out)
    if len(calls) != int(want_kernel):
        fail(name, f"{a.shape}@{b.shape} strides {a.strides} {b.strides}: kernel ran {len(calls)} times")
    if out is not None and got is not out:
        fail(name, f"{a.shape}@{b.shape}: out= not returned")
    if not same(got, want):
        fail(name, f"{a.shape}@{b.shape} strides {a.strides} {b.strides}: "
                   f"max |diff| {float(np.nanmax(np.abs(got - want))) if got.size else 0}")


rng = np.random.default_rng(20261129)


def randn(*shape):
    return rng.standard_normal(shape, dtype=np.float32)


# 0. the comparison itself: it must see a one-ulp change, a sign of zero and a NaN
x = randn(3, 4)
for changed in (np.nextafter(x, np.inf), np.where(x == x[0, 0], -0.0, x), np.where(x == x[0, 0], np.nan, x)):
    bumped = x.copy()
    bumped[0, 0] = changed[0, 0]
    count("comparison_catches")
    if same(x, bumped):
        fail("comparison_catches", f"same() missed {x[0, 0]!r} -> {bumped[0, 0]!r}")
zero = np.zeros((2, 2), np.float32)
count("comparison_catches")
if same(zero, -zero):
    fail("comparison_catches", "same() missed +0 -> -0")

# 1. every tile and edge: all combinations of sizes that are / are not multiples of 4 and 8
for m, k, n in itertools.product((1, 3, 4, 5, 8, 63, 64, 65), (1, 7, 784), (1, 3, 4, 7, 8, 9, 10, 128, 129)):
    check("shapes", randn(m, k), randn(k, n))
for m, k, n in [(0, 5, 7), (6, 0, 7), (6, 5, 0), (0, 0, 0), (1, 1, 1), (1, 1000, 1), (2, 3, 1000), (64, 128, 10)]:
    check("shapes", randn(m, k), randn(k, n))

# 2. layouts: A transposed, sliced, stepped, reversed; B sliced, transposed (copied), reversed rows
for m, k, n in [(784, 64, 128), (37, 21, 19), (4, 9, 8), (65, 7, 13)]:
    check("a_transposed", randn(k, m).T, randn(k, n))
    check("a_sliced", randn(m + 3, k + 5)[2:2 + m, 3:3 + k], randn(k, n))
    check("a_stepped", randn(2 * m, 3 * k)[::2, ::3], randn(k, n))
    check("a_reversed", randn(m, k)[::-1, ::-1], randn(k, n))
    check("a_transposed_stepped", randn(2 * k, m)[::2].T, randn(k, n))
    check("b_sliced", randn(m, k), randn(k + 2, n + 6)[1:1 + k, 5:5 + n])
    check("b_transposed", randn(m, k), randn(n, k).T)  # e.g. g @ W.T: copied, then the kernel
    check("b_reversed_rows", randn(m, k), randn(k, n)[::-1])
    unaligned = np.frombuffer(bytes(2) + randn(m, k).tobytes() + randn(k, n).tobytes(), np.uint8)[2:]
    a, b = unaligned[:4 * m * k].view(np.float32).reshape(m, k), unaligned[4 * m * k:].view(np.float32).reshape(k, n)
    check("unaligned", a, b)  # read-only arrays, 2 bytes off a multiple of 4
    if a.ctypes.data % 4 != 2:
        fail("unaligned", f"not unaligned: {a.ctypes.data}")
    out = np.full((m + 2, n + 9), np.nan, np.float32)
    check("out_view", randn(m, k), randn(k, n), out=out[1:1 + m, 4:4 + n])
    count("out_view_untouched")
    if not (np.isnan(out[0]).all() and np.isnan(out[:, :4]).all() and np.isnan(out[:, 4 + n:]).all()):
        fail("out_view_untouched", f"{m}x{n}: the kernel wrote outside out")
    check("out_contiguous", randn(m, k), randn(k, n), out=np.empty((m, n), np.float32))

# 3. special values: -0, subnormals, underflow, overflow, inf, NaN (propagation and inf * 0)
specials = np.array([0.0, -0.0, 1e-40, -3e-39, 1e-30, 1e30, -1e30, 3e38, np.inf, -np.inf, np.nan, 1.0, -1.0],
                    np.float32)
for m, k, n in [(5, 7, 13), (8, 3, 12), (1, 17, 1), (9, 64, 11)]:
    check("specials", rng.choice(specials, (m, k)), rng.choice(specials, (k, n)))
    check("specials_mixed", np.where(rng.random((m, k)) < 0.3, rng.choice(specials, (m, k)), randn(m, k)),
          np.where(rng.random((k, n)) < 0.3, rng.choice(specials, (k, n)), randn(k, n)))
    # products that are all -0: numpy's sum starts at +0 and +0 + -0 is +0
    check("negative_zero_products", np.full((m, k), -0.0, np.float32), np.abs(randn(k, n)))
    check("negative_zero_products", np.abs(randn(m, k)), -np.abs(randn(k, n)) * np.float32(1e-30) * np.float32(1e-30))
    check("subnormal", randn(m, k) * np.float32(1e-20), randn(k, n) * np.float32(1e-20))

# 4. matmul_add: out += alpha * (a @ b), like numpy's two steps
for alpha in (1.0, -1.0, 0.05, -0.0125):
    for m, k, n in [(784, 64, 128), (13, 5, 11), (64, 128, 10)]:
        count("matmul_add")
        a, b, c = randn(k, m).T, randn(k, n), randn(m, n)
        want = c.copy()
        want += np.float32(alpha) * (a @ b)
        del calls[:]
        got = accel.matmul_add(c, a, b, alpha=alpha)
        if got is not c or len(calls) != 1 or not same(c, want):
            fail("matmul_add", f"alpha={alpha} {m}x{k}x{n}: kernel ran {len(calls)}x, same={same(c, want)}")

# 5. what must not take the kernel: still exactly np.matmul
x32, x64 = randn(6, 5), randn(6, 5).astype(np.float64)
for name, a, b in [("float64", x64, x64.T), ("mixed", randn(6, 5), x64.T), ("int", np.ones((3, 3), int), np.ones((3, 3), int)),
                   ("vector", randn(5), randn(5, 3)), ("batch", randn(2, 3, 5), randn(5, 4)), ("float16", x32.astype(np.float16), x32.T.astype(np.float16))]:
    check("fallback_" + name, a, b, want_kernel=False)
aliased = randn(8, 8)
check("fallback_out_overlaps", aliased[:, :4], randn(4, 4), want_kernel=False, out=aliased[:, 4:])
check("fallback_out_float64", x32, x32.T, want_kernel=False, out=np.empty((6, 6)))
count("fallback_shape_error")
try:
    accel.matmul(randn(3, 4), randn(5, 2))
    fail("fallback_shape_error", "no error for (3, 4) @ (5, 2)")
except ValueError:
    pass

# 6. a whole 784-128-10 MLP, 20 SGD steps of batch 64 on the shipped MNIST subset: kernel vs @
import webnet.data  # noqa: E402

X, y = webnet.data.load_mnist_subset()[:2]
X, y = X[:64 * 20].reshape(20, 64, 784).astype(np.float32), y[:64 * 20].reshape(20, 64)


def train(mm, fused_update):
    r = np.random.default_rng(0)
    W1 = r.uniform(-0.08, 0.08, (784, 128)).astype(np.float32)
    W2 = r.uniform(-0.2, 0.2, (128, 10)).astype(np.float32)
    b1, b2, lr, losses = np.zeros(128, np.float32), np.zeros(10, np.float32), np.float32(0.1), []
    for xb, yb in zip(X, y):
        h = mm(xb, W1)                                # (64, 128)
        h += b1
        np.maximum(h, 0, out=h)
        z = mm(h, W2)                                 # (64, 10)
        z += b2
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        losses.append(float(-np.log(p[np.arange(64), yb] + 1e-12).mean()))
        d2 = p
        d2[np.arange(64), yb] -= 1
        d2 *= lr / 64                                 # (64, 10), the learning rate folded in
        d1 = mm(d2, W2.T)                             # (64, 128)
        d1 *= h > 0
        if fused_update:
            accel.matmul_add(W2, h.T, d2, alpha=-1)   # W2 -= h.T @ d2
            accel.matmul_add(W1, xb.T, d1, alpha=-1)  # W1 -= x.T @ d1
        else:
            W2 -= mm(h.T, d2)                         # (128, 10)
            W1 -= mm(xb.T, d1)                        # (784, 128)
        b2 -= d2.sum(axis=0)
        b1 -= d1.sum(axis=0)
    return [W1, b1, W2, b2], losses


reference, ref_losses = train(np.matmul, False)
del calls[:]
for fused in (False, True):
    count("mlp_20_steps")
    params, losses = train(accel.matmul, fused)
    if not all(same(p, q) for p, q in zip(params, reference)) or losses != ref_losses:
        fail("mlp_20_steps", f"fused={fused}: weights differ after 20 steps")
report["mlp_kernel_calls"] = len(calls)
report["mlp_loss_first_last"] = [ref_losses[0], ref_losses[-1]]

# 7. memory growth past 2 GiB: operands at addresses above 2**31 (ctypes passes them unsigned)
import pyodide_js  # noqa: E402

heap_before = pyodide_js._module.HEAPU8.length
# one block that ends 4 MB past 2 GiB: the memory grows that far, but untouched pages cost no RAM
# (Node's peak RSS stays near 300 MB); the operands sit in its last 400 kB
top = np.empty(1 << 20, np.uint8).ctypes.data  # about where malloc's next large block starts
filler = np.empty(2**31 + 4_000_000 - top, np.uint8)
tail = filler[-400_000:].view(np.float32)
a, b, c = tail[:33 * 70].reshape(33, 70), tail[4000:4000 + 70 * 21].reshape(70, 21), tail[8000:8000 + 33 * 21]
a[...], b[...] = randn(33, 70), randn(70, 21)
report["memory_growth"] = {"heap_before": heap_before, "heap_after": pyodide_js._module.HEAPU8.length,
                           "lowest_operand_address": min(x.ctypes.data for x in (a, b, c))}
check("above_2GiB", a, b, out=c.reshape(33, 21))
check("above_2GiB", a, b)
del filler

report["enabled"] = accel.enabled()
report["numpy"] = np.__version__
report["pyodide"] = pyodide_js.version
report["products_checked"] = sum(report["counts"].values())
print(json.dumps(report))
