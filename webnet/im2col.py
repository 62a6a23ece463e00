"""im2col: every window of a batch of images as one row of a matrix, so that a convolution is one
matrix product (a GEMM), and its adjoint.

``im2col(x, ...)`` copies x (N, C, H, W) once into ``cols`` (N * Ho * Wo, C * kh * kw). numpy's
copy is fast when it reads and writes long contiguous runs and slow when it moves a few floats at
a time, so the copy follows x's memory layout:

- x stored channel-first (N, C, H, W), numpy's default: ``cols`` is the transpose of a
  (C * kh * kw, N * Ho * Wo) array, filled in runs of Wo; its columns are in (c, i, j) order;
- x stored channels-last (N, H, W, C) (what ``Conv2D`` returns: see webnet/conv.py): ``cols`` is a
  (N * Ho * Wo, kh * kw * C) array, filled in runs of kw * C; its columns are in (i, j, c) order.

Either way ``cols`` is the same matrix up to the order of its columns, and ``kernel_matrix``
reshapes the kernel to the same order. Nothing here loops over pixels or images: Python loops run
over the kh * kw kernel offsets only.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import accel


@dataclass
class Columns:
    """``im2col``'s matrix and what undoing it needs (a convolution's training cache)."""

    cols: np.ndarray  # (N * Ho * Wo, C * kh * kw): row (n, p, q) is the window at output (p, q) of image n
    channels_last: bool  # column order (i, j, c) if True, else (c, i, j)
    x_shape: tuple  # (N, C, H, W)
    out: tuple  # (Ho, Wo)
    kernel: tuple  # (kh, kw)
    stride: int
    padding: int


def channels_last(x):
    """True when x (N, C, H, W), C > 1, is stored as (N, H, W, C) and not also as (N, C, H, W)."""
    return x.ndim == 4 and x.shape[1] > 1 and not x.flags.c_contiguous and x.transpose(0, 2, 3, 1).flags.c_contiguous


def im2col(x, kernel, stride=1, padding=0):
    """x (N, C, H, W) -> ``Columns`` with ``cols`` (N * Ho * Wo, C * kh * kw), Ho = (H + 2 * padding
    - kh) // stride + 1, likewise Wo. One copy (two with padding)."""
    (kh, kw), p, shape = kernel, padding, x.shape
    if channels_last(x):
        xp = x.transpose(0, 2, 3, 1)  # (N, H, W, C), contiguous
        if p:
            xp = np.pad(xp, ((0, 0), (p, p), (p, p), (0, 0)))
        win = sliding_window_view(xp, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]  # (N, Ho, Wo, C, kh, kw)
        n, ho, wo, c = win.shape[:4]
        cols = win.transpose(0, 1, 2, 4, 5, 3).reshape(n * ho * wo, kh * kw * c)  # the copy
        return Columns(cols, True, shape, (ho, wo), (kh, kw), stride, p)
    if p:
        x = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    win = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]  # (N, C, Ho, Wo, kh, kw)
    n, c, ho, wo = win.shape[:4]
    cols = win.transpose(1, 4, 5, 0, 2, 3).reshape(c * kh * kw, n * ho * wo).T  # the copy, then a view
    return Columns(cols, False, shape, (ho, wo), (kh, kw), stride, p)


def kernel_matrix(K, channels_last_order):
    """K (O, C, kh, kw) -> (O, C * kh * kw) with columns in the order of ``cols`` (a view of K for
    the (c, i, j) order, a copy for (i, j, c))."""
    if channels_last_order:
        return K.transpose(0, 2, 3, 1).reshape(len(K), -1)
    return K.reshape(len(K), -1)


def kernel_from_matrix(M, shape, channels_last_order):
    """The inverse of ``kernel_matrix``: (O, C * kh * kw) -> (O, C, kh, kw) (a view)."""
    o, c, kh, kw = shape
    return M.reshape(o, kh, kw, c).transpose(0, 3, 1, 2) if channels_last_order else M.reshape(shape)


def weight_grad(columns, g2):
    """dL/dK as the (O, C * kh * kw) matrix g2.T @ cols, for g2 = dL/dy (N * Ho * Wo, O); computed
    so that the right-hand operand has contiguous rows (what the WebAssembly kernel reads fastest)."""
    cols = columns.cols
    if cols.T.flags.c_contiguous:  # cols is the transpose of a contiguous array
        return accel.matmul(cols.T, g2).T  # (C * kh * kw, O) -> (O, C * kh * kw)
    return accel.matmul(g2.T, cols)


def input_grad(g2, K, x_shape, out, stride, padding, channels_last_order):
    """dL/dx (N, C, H, W) for g2 = dL/dy (N * Ho * Wo, O), stored channels-last or not as asked
    (like the x that ``im2col`` read): the adjoint of im2col, without its matrix.

    For each kernel offset (i, j), the gradient of every window's tap (i, j), g2 @ K[:, :, i, j]
    (N * Ho * Wo, C), is one small product, added where that tap read x in runs of Wo * C (or Wo).
    (One big product and then adding tap by tap out of it measured slower: its taps are C values
    apart in memory.)"""
    n, c, h, w = x_shape
    (kh, kw), (ho, wo), s, p = K.shape[2:], out, stride, padding
    rows = [slice(i, i + s * (ho - 1) + 1, s) for i in range(kh)]
    cols = [slice(j, j + s * (wo - 1) + 1, s) for j in range(kw)]
    if channels_last_order:
        dx = np.zeros((n, h + 2 * p, w + 2 * p, c), g2.dtype)
        for i in range(kh):
            for j in range(kw):
                dx[:, rows[i], cols[j]] += accel.matmul(g2, K[:, :, i, j]).reshape(n, ho, wo, c)
        return dx[:, p:p + h, p:p + w].transpose(0, 3, 1, 2)
    g2t = np.ascontiguousarray(g2.T)  # (O, N * Ho * Wo)
    dx = np.zeros((n, c, h + 2 * p, w + 2 * p), g2.dtype)
    for i in range(kh):
        for j in range(kw):
            tap = accel.matmul(K[:, :, i, j].T, g2t).reshape(c, n, ho, wo)
            dx[:, :, rows[i], cols[j]] += tap.transpose(1, 0, 2, 3)
    return dx[:, :, p:p + h, p:p + w]
