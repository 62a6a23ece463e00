"""webnet.accel: numpy's own @ natively, and the WebAssembly kernel against @ inside Pyodide.

Natively the kernel is never loaded, so the native tests check (1) that every call is exactly
np.matmul, and (2) the wrapper's bookkeeping (which products go to the kernel, with which element
strides and copies), with the kernel replaced by its slow twin: the same contract written in numpy,
reading and writing memory by address; the layers' products through that twin too. The Pyodide
tests assemble the real kernel from webnet/kernels/matmul.wat with the build's assembler
(site/builder/kernel.py) and run tests/pyodide/check_kernel.py inside Pyodide under Node (see
tests/lib_pyodide.py for what they need and when they skip). The kernel's speed is measured by the
benchmark (bench/), not here.
"""
import copy
import ctypes
import json

import numpy as np
import pytest
from lib_pyodide import ROOT, assemble, in_pyodide, run

import webnet as wn
from webnet import accel


def bits_equal(x, y):
    return x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x.view(f"u{x.itemsize}"), y.view(f"u{y.itemsize}"))


# -- natively: np.matmul, exactly -------------------------------------------------------------------
def test_not_enabled_natively():
    assert accel.enabled() is False


rng = np.random.default_rng(7)
X32, X64 = rng.standard_normal((9, 6), dtype=np.float32), rng.standard_normal((9, 6))
FALLBACK_CASES = {
    "float32": (X32, X32.T), "transposed": (X32.T, X32), "float64": (X64, X64.T), "mixed": (X32, X64.T),
    "int": (np.arange(12).reshape(3, 4), np.arange(8).reshape(4, 2)), "vector": (X32[0], X32.T),
    "batch": (np.stack([X32, X32]), X32.T), "empty": (X32[:0], X32.T),
}


@pytest.mark.parametrize("a, b", FALLBACK_CASES.values(), ids=FALLBACK_CASES.keys())
def test_matmul_is_np_matmul_natively(a, b):
    assert bits_equal(accel.matmul(a, b), np.matmul(a, b))
    out = np.empty(np.matmul(a, b).shape, np.result_type(a, b))
    assert accel.matmul(a, b, out=out) is out and bits_equal(out, np.matmul(a, b))


def test_matmul_reports_errors_like_np_matmul():
    with pytest.raises(ValueError) as ours:
        accel.matmul(X32, X32)
    with pytest.raises(ValueError) as numpys:
        np.matmul(X32, X32)
    assert str(ours.value) == str(numpys.value)


@pytest.mark.parametrize("alpha", [1.0, -1.0, 0.05])
def test_matmul_add_natively(alpha):
    out = rng.standard_normal((9, 9), dtype=np.float32)
    want = out.copy()
    want += np.float32(alpha) * (X32 @ X32.T)
    assert accel.matmul_add(out, X32, X32.T, alpha=alpha) is out and bits_equal(out, want)


def test_load_fails_natively_and_changes_nothing(tmp_path):
    not_a_library = tmp_path / "webnet_matmul.so"
    not_a_library.write_bytes(b"\0asm\1\0\0\0")
    with pytest.raises(OSError):
        accel.load(not_a_library)
    assert not accel.enabled()


# -- natively: the wrapper's bookkeeping, with the kernel's slow twin ------------------------------
def reference_kernel(m, k, n, a, a_rs, a_cs, b, b_rs, c, c_rs, alpha, accumulate):
    """The contract of webnet/kernels/matmul.wat in numpy: addresses, strides in elements."""
    def matrix(address, shape, strides):
        first = np.ctypeslib.as_array((ctypes.c_float * 1).from_address(address))
        return np.lib.stride_tricks.as_strided(first, shape, [4 * s for s in strides])

    A, B, C = matrix(a, (m, k), (a_rs, a_cs)), matrix(b, (k, n), (b_rs, 1)), matrix(c, (m, n), (c_rs, 1))
    product = np.matmul(A, B) * np.float32(alpha.value)
    if accumulate:
        C += product
    else:
        C[...] = product
    calls.append((m, k, n, a_rs, a_cs, b_rs, c_rs))


calls = []


@pytest.fixture
def twin(monkeypatch):
    """accel with the slow twin as its kernel; small integers, so any summation order is exact."""
    monkeypatch.setattr(accel, "_kernel", reference_kernel)
    calls.clear()
    return lambda *shape: rng.integers(-8, 9, shape).astype(np.float32)


def test_twin_layouts_take_the_kernel_with_element_strides(twin):
    x, W, big = twin(64, 784), twin(784, 128), twin(70, 800)
    cases = [(x, W, (64, 784, 128, 784, 1, 128, 128)),                      # x @ W
             (x.T, twin(64, 128), (784, 64, 128, 1, 784, 128, 128)),        # x.T @ g: no copy
             (twin(64, 128), W.T, (64, 128, 784, 128, 1, 784, 784)),        # g @ W.T: W.T copied
             (big[3:67:2, 5:789], W, (32, 784, 128, 1600, 1, 128, 128)),    # a sliced view
             (x[::-1], W[:, 3:11], (64, 784, 8, -784, 1, 128, 8))]          # reversed rows; B's rows apart
    for a, b, expected in cases:
        calls.clear()
        assert bits_equal(accel.matmul(a, b), np.matmul(a, b))
        assert calls == [expected]


def test_twin_out_and_matmul_add(twin):
    a, b = twin(13, 21), twin(21, 11)
    out = np.full((15, 20), np.nan, np.float32)
    assert accel.matmul(a, b, out=out[1:14, 2:13]) is not None and calls[-1][-1] == 20
    assert bits_equal(out[1:14, 2:13], a @ b) and np.isnan(out[0]).all() and np.isnan(out[:, 13:]).all()
    c = twin(13, 11)
    want = c - np.float32(0.5) * (a @ b)
    assert accel.matmul_add(c, a, b, alpha=-0.5) is c and bits_equal(c, want) and len(calls) == 2


@pytest.mark.parametrize("case", ["float64", "vector", "batch", "int", "out_overlaps", "out_float64", "odd_strides"])
def test_twin_fallbacks_do_not_take_the_kernel(twin, case):
    a, b = twin(6, 5), twin(5, 4)
    out = None
    if case in ("float64", "int"):
        a, b = a.astype(case), b.astype(case)
    elif case == "vector":
        a = a[0]
    elif case == "batch":
        a = np.stack([a, a])
    elif case == "out_overlaps":
        a = np.concatenate([a, np.zeros((6, 4), np.float32)], axis=1)[:, :5]
        out = a.base[:, 5:]
    elif case == "out_float64":
        out = np.empty((6, 4))
    elif case == "odd_strides":  # a view whose row stride is not a whole number of float32 elements
        a = np.lib.stride_tricks.as_strided(np.zeros(40, np.float32), (6, 5), (22, 4))
    want = np.matmul(a, b) if out is None else np.matmul(a, b, out=np.empty_like(out))
    got = accel.matmul(a, b) if out is None else accel.matmul(a, b, out=out)
    assert bits_equal(got, want) and calls == []


# -- the layers' products through the kernel's twin ----------------------------------------------------
@pytest.mark.parametrize("arch", ["784-32-10", "lenet"])
def test_training_through_the_twin_takes_the_kernel_and_matches_numpy(twin, arch, monkeypatch):
    """Every product of a float32 training step goes to the kernel (the update of W fused into it),
    with results equal to numpy's up to the twin's own rounding."""
    from webnet.data import load_mnist_subset

    X, y = load_mnist_subset(n_train=64, n_test=1)[:2]
    with_kernel = wn.build_model(arch, rng=0)
    plain = copy.deepcopy(with_kernel)
    with_kernel.train_one_step(X[:32], y[:32], 0.1)
    kernel_calls = len(calls)
    monkeypatch.setattr(accel, "_kernel", None)
    plain.train_one_step(X[:32], y[:32], 0.1)
    assert kernel_calls >= (5 if arch != "lenet" else 2 + 2 + 25 + 3)  # lenet: conv products, taps, linear
    for (name, a), (_, b) in zip(with_kernel.named_parameters(), plain.named_parameters()):
        assert np.allclose(a, b, rtol=0, atol=1e-6), name


def test_load_packaged_without_a_library_changes_nothing(monkeypatch):
    assert accel.load_packaged() is False and not accel.enabled()  # natively the .so cannot be opened


# -- the real kernel: assembled by the build, run inside Pyodide under Node -------------------------------
@pytest.fixture(scope="module")
def kernel_so(tmp_path_factory):
    """site/builder/kernel.py's output, assembled here from webnet/kernels/matmul.wat."""
    return assemble(tmp_path_factory.mktemp("wasm") / "webnet_matmul.so")


def test_assembly_is_deterministic_and_a_side_module(kernel_so, tmp_path):
    again = assemble(tmp_path / "again.so")
    so = kernel_so.read_bytes()
    assert again.read_bytes() == so
    # header, then a custom section (id 0) of 15 bytes named dylink.0: mem info (1), all sizes 0
    assert so[:8] == b"\0asm\1\0\0\0" and so[8:25] == b"\0\x0f\x08dylink.0\x01\x04\0\0\0\0"
    shape = run(["node", "-e", "const m = new WebAssembly.Module(require('fs').readFileSync(process.argv[1]));"
                 "console.log(JSON.stringify([WebAssembly.Module.imports(m), WebAssembly.Module.exports(m)]))", kernel_so])
    assert json.loads(shape.stdout) == [[{"module": "env", "name": "memory", "kind": "memory"}],
                                        [{"name": "webnet_matmul", "kind": "function"}]]


def test_kernel_equals_numpy_bitwise_in_pyodide(kernel_so):
    report = in_pyodide(ROOT / "tests" / "pyodide" / "check_kernel.py", kernel_so)
    assert report["failures"] == {}
    assert report["pyodide"] == "0.27.7" and report["numpy"] == "2.0.2" and report["enabled"] is True
    counts = report["counts"]
    assert counts["shapes"] == 8 * 3 * 9 + 8 and counts["comparison_catches"] == 4
    for check in ("a_transposed", "a_reversed", "b_transposed", "out_view", "specials", "negative_zero_products",
                  "matmul_add", "fallback_float64", "fallback_out_overlaps", "mlp_20_steps", "above_2GiB"):
        assert counts.get(check, 0) >= 1, check
    assert report["mlp_kernel_calls"] == 2 * 20 * 5  # two runs (plain, fused update), 20 steps, 5 products
    first, last = report["mlp_loss_first_last"]
    assert last < 0.7 * first  # the network learnt: the weights compared are not a fixed point
    assert report["memory_growth"]["lowest_operand_address"] >= 2**31
