"""An optional fast float32 matrix product for Pyodide, where numpy has no BLAS.

    from webnet import accel
    accel.enabled()                         # in Pyodide: True once webnet is imported (see below)
    y = accel.matmul(x, W)                  # x (M, K) @ W (K, N) -> y (M, N), bit for bit x @ W
    accel.matmul_add(W, x.T, g, alpha=-1)   # W -= x.T @ g, in place, with no (K, N) temporary

Pyodide's numpy computes float32 ``@`` with plain C loops at about 2.5 GFLOP/s. The kernel
(``webnet/kernels/matmul.wat``, WebAssembly SIMD, assembled at build time by
site/builder/kernel.py into ``webnet/kernels/webnet_matmul.so``, which the wheel carries) does the
same arithmetic in the same order about ten times faster, so its results equal numpy's bit for bit
(NaN payloads aside). It is opened with ``ctypes.CDLL``: Pyodide's dynamic linker links it to
Pyodide's own memory, and it reads and writes numpy's buffers in place.

In Pyodide (``sys.platform == "emscripten"``) importing this module loads the kernel from the
package data, with its self-check; if anything fails (no file, no ctypes, a check that disagrees)
products silently stay numpy's. ``load(path)`` loads another copy, ``disable()`` turns it off.
Natively (CPython anywhere) nothing is ever loaded: ``matmul`` is ``np.matmul`` behind one check.

The layers call it for their products (webnet/layers.py, webnet/conv.py, webnet/im2col.py).
The kernel takes a product when both operands are float32 ndarrays with 2 dimensions whose strides
are whole elements (any strides for ``a``: ``x.T`` and slices need no copy; ``b`` with rows that
are not contiguous, like ``W.T``, is copied once with ``np.ascontiguousarray``), and ``out``, if
given, is a float32 (M, N) array with contiguous rows that does not overlap ``a`` or ``b``.
Anything else goes to ``np.matmul`` as it is (float64, other dtypes, 1-D, stacks of matrices,
subclasses, mismatched shapes: numpy reports those).

Nothing is cached between calls: every call reads each array's address afresh (the number
``arr.ctypes.data`` gives), because a buffer can be freed or moved. The kernel holds no JavaScript
views: it imports Pyodide's ``WebAssembly.Memory`` object, which stays the same when memory grows.
"""
from __future__ import annotations

import ctypes
import os
import sys
from importlib import resources

import numpy as np

__all__ = ["KERNEL", "disable", "enabled", "load", "load_packaged", "matmul", "matmul_add"]

KERNEL = "webnet_matmul.so"  # in webnet/kernels/, put there by the build (site/builder/kernel.py)

_F32 = np.dtype(np.float32)
_ONE = ctypes.c_float(1.0)  # alpha for plain products; never mutated
_kernel = None  # the kernel's entry point (a ctypes function) while it is in use


def load(path):
    """Open the assembled kernel at ``path`` (a file in Pyodide's file system) and use it from now on.

    It is first checked against ``np.matmul`` on a small product that takes every kind of tile.
    Raises OSError if the file cannot be opened as a library (natively: always) and RuntimeError if
    the check fails; in both cases nothing changes.
    """
    global _kernel
    fn = ctypes.CDLL(os.fspath(path)).webnet_matmul
    fn.restype = None
    # No argtypes on purpose: ctypes then converts Python ints to C int and passes c_float as is,
    # which matches the kernel's (i32 x 10, f32, i32) signature and calls ~5x faster (1.2 vs 6 us).
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((5, 3), dtype=np.float32), rng.standard_normal((3, 13), dtype=np.float32)
    got, want = _product(fn, a, b, None, _ONE, 0), np.matmul(a, b)
    if got is None or not np.array_equal(got.view(np.uint32), want.view(np.uint32)):
        raise RuntimeError(f"the kernel at {path} disagrees with np.matmul on a (5, 3) @ (3, 13) product: "
                           f"max difference {np.max(np.abs(got - want)) if got is not None else 'n/a'}")
    _kernel = fn


def load_packaged():
    """Load the kernel the package carries (``webnet/kernels/webnet_matmul.so``); returns True if it
    is in use. Never raises: without the file, or if it cannot be opened or fails its check,
    products stay numpy's."""
    try:
        with resources.as_file(resources.files(__package__).joinpath("kernels", KERNEL)) as path:
            load(path)
    except Exception:  # no file, no ctypes, not a library here, a failed check: numpy it is
        return False
    return True


def enabled():
    """True while products go to the kernel (after ``load``, until ``disable``)."""
    return _kernel is not None


def disable():
    """Go back to ``np.matmul`` for every product (``load`` again to re-enable)."""
    global _kernel
    _kernel = None


def matmul(a, b, out=None):
    """``a @ b``: a (M, K), b (K, N) -> (M, N); with ``out`` the result is written there.

    The same as ``np.matmul(a, b, out=out)`` for every input, bit for bit (NaN payloads aside).
    """
    if _kernel is None:
        return np.matmul(a, b, out=out)
    result = _product(_kernel, a, b, out, _ONE, 0)
    return np.matmul(a, b, out=out) if result is None else result


def matmul_add(out, a, b, alpha=1.0):
    """``out += alpha * (a @ b)`` in place and return ``out``: out (M, N), a (M, K), b (K, N).

    Bit for bit the same as ``out += np.float32(alpha) * (a @ b)`` for float32 arrays (``alpha`` is
    a Python number, taken as float32 the way numpy takes a Python float). With the kernel, the
    product is added as it is made: no (M, N) temporary. ``alpha=-1`` subtracts exactly.
    """
    alpha = float(alpha)
    if _kernel is not None and _product(_kernel, a, b, out, ctypes.c_float(alpha), 1) is not None:
        return out
    product = np.matmul(a, b)
    if alpha == -1.0:
        out -= product  # x - p is x + (-p) exactly: one pass less
    else:
        if alpha != 1.0:
            product *= alpha
        out += product
    return out


def _product(kernel, a, b, out, alpha, accumulate):
    """Run ``kernel`` for a (M, K) @ b (K, N) into ``out`` (a new array if None) and return it, or
    return None without touching anything if the kernel does not apply to these arguments."""
    if type(a) is not np.ndarray or type(b) is not np.ndarray or a.dtype != _F32 or b.dtype != _F32 \
            or a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        return None
    (m, k), n = a.shape, b.shape[1]
    a_rs, a_cs = a.strides
    if b.strides[1] != 4 and n > 1:
        b = np.ascontiguousarray(b)  # e.g. W.T: the kernel needs B's rows contiguous
    b_rs = b.strides[0]
    if (a_rs | a_cs | b_rs) & 3:  # strides that are not whole float32 elements
        return None
    if out is None:
        if accumulate:
            return None
        out = np.empty((m, n), _F32)
    else:
        if type(out) is not np.ndarray or out.dtype != _F32 or out.shape != (m, n) or not out.flags.writeable:
            return None
        c_rs, c_cs = out.strides
        if (c_cs != 4 and n > 1) or (c_rs < 4 * n and m > 1) or c_rs & 3:  # rows contiguous and apart
            return None
        if np.may_share_memory(out, a) or np.may_share_memory(out, b):
            return None  # the kernel would read what it has already written: np.matmul copies
    # addresses as arr.ctypes.data gives them (a little faster this way); ctypes passes an int of
    # 2 GiB or more as the unsigned 32-bit value it is (checked: operands above 2 GiB work)
    kernel(m, k, n, a.__array_interface__["data"][0], a_rs >> 2, a_cs >> 2,
           b.__array_interface__["data"][0], b_rs >> 2,
           out.__array_interface__["data"][0], out.strides[0] >> 2, alpha, accumulate)
    return out


if sys.platform == "emscripten":  # Pyodide: the packaged kernel, or numpy if anything is amiss
    load_packaged()
