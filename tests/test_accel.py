"""webnet.accel: numpy's own @ natively, and the WebAssembly kernel against @ inside Pyodide.

Natively the kernel is never loaded, so the native tests check (1) that every call is exactly
np.matmul, and (2) the wrapper's bookkeeping (which products go to the kernel, with which element
strides and copies), with the kernel replaced by its slow twin: the same contract written in numpy,
reading and writing memory by address. The Pyodide tests assemble the real kernel from
webnet/kernels/matmul.wat and run tools/wasm/check_kernel.py inside Pyodide under Node; they need
node, wabt (fetched with npm into cache/downloads/ if missing) and a Pyodide 0.27.7 runtime at
$WEBNET_PYODIDE_DIR (default dist/site/pyodide/), and skip, saying which is missing, without them.
"""
import ctypes
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from webnet import accel

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "tools" / "wasm"
PYODIDE_DIR = Path(os.environ.get("WEBNET_PYODIDE_DIR", ROOT / "dist" / "site" / "pyodide"))
WABT_TGZ = ROOT / "cache" / "downloads" / "wabt-1.0.39.tgz"


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


# -- the real kernel: assembled with wabt, run inside Pyodide under Node -------------------------------
def run(args, **kw):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600, **kw)


@pytest.fixture(scope="module")
def kernel_so(tmp_path_factory):
    """tools/wasm/assemble.js's output, assembled here from webnet/kernels/matmul.wat."""
    if shutil.which("node") is None:
        pytest.skip("node is not on PATH: the kernel is assembled and run with Node")
    wabt = Path(os.environ.get("WEBNET_WABT", WABT_TGZ))
    if not wabt.exists():
        WABT_TGZ.parent.mkdir(parents=True, exist_ok=True)
        fetched = shutil.which("npm") and run(["npm", "pack", "wabt@1.0.39", "--pack-destination", WABT_TGZ.parent])
        if not fetched or fetched.returncode != 0 or not wabt.exists():
            pytest.skip(f"no wabt at {wabt} and `npm pack wabt@1.0.39` did not fetch it")
    out = tmp_path_factory.mktemp("wasm")
    done = run(["node", TOOLS / "assemble.js", "--wabt", wabt, "--out", out])
    assert done.returncode == 0, done.stderr
    return out / "webnet_matmul.so"


def test_assembly_is_deterministic_and_a_side_module(kernel_so, tmp_path):
    again = run(["node", TOOLS / "assemble.js", "--wabt", os.environ.get("WEBNET_WABT", WABT_TGZ), "--out", tmp_path])
    assert again.returncode == 0, again.stderr
    so = kernel_so.read_bytes()
    assert (tmp_path / "webnet_matmul.so").read_bytes() == so
    # header, then a custom section (id 0) of 15 bytes named dylink.0: mem info (1), all sizes 0
    assert so[:8] == b"\0asm\1\0\0\0" and so[8:25] == b"\0\x0f\x08dylink.0\x01\x04\0\0\0\0"
    shape = run(["node", "-e", "const m = new WebAssembly.Module(require('fs').readFileSync(process.argv[1]));"
                 "console.log(JSON.stringify([WebAssembly.Module.imports(m), WebAssembly.Module.exports(m)]))", kernel_so])
    assert json.loads(shape.stdout) == [[{"module": "env", "name": "memory", "kind": "memory"}],
                                        [{"name": "webnet_matmul", "kind": "function"}]]


def in_pyodide(kernel_so, script, *args):
    """Run tools/wasm/<script> inside Pyodide; its last stdout line is a JSON report."""
    if not (PYODIDE_DIR / "pyodide.js").exists():
        pytest.skip(f"no Pyodide runtime at {PYODIDE_DIR}: build the site (python3 build.py build) "
                    "or set WEBNET_PYODIDE_DIR")
    done = run(["node", TOOLS / "pyodide_run.js", PYODIDE_DIR, kernel_so, TOOLS / script, *args])
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_kernel_equals_numpy_bitwise_in_pyodide(kernel_so):
    report = in_pyodide(kernel_so, "check_kernel.py")
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


def test_benchmark_runs_and_the_kernel_is_faster(kernel_so):
    report = in_pyodide(kernel_so, "bench_kernel.py", "3")
    for name in ("x @ W1", "x.T @ d1", "d1 @ W1.T"):
        assert report["products"][name]["kernel"] * 2 < report["products"][name]["@"], name
    assert report["steps_ms"]["step kernel"] * 2 < report["steps_ms"]["step @"]
