"""Pooling: the largest value (``MaxPool2D``) or the mean (``AvgPool2D``) of each window.

x (N, C, H, W) -> y (N, C, Ho, Wo), Ho = (H - kh) // sh + 1, likewise Wo (no padding; rows and
columns left over at the bottom and right are dropped, as in PyTorch).

How: one copy puts entry (i, j) of every window side by side, ``windows(x)`` (kh * kw, N, C, Ho,
Wo); the maximum is then kh * kw - 1 elementwise steps over contiguous arrays (numpy is several
times slower on strided views). The backward pass adds each window's gradient back through the
strided view of dx for each offset. Python loops run over the kh * kw offsets, never over pixels or
images. Both work in x's memory layout: a channels-last x (a convolution's output, see
webnet/conv.py) gives a channels-last y and dx.

Ties in a max-pool: the gradient of a window goes, whole, to its first maximum in window order
(row by row, left to right, as ``np.argmax`` on the flattened window). A tie is a kink of the max,
where the derivative does not exist; any single winner is a valid subgradient, and this one is
deterministic. NaN: a window whose first maximum candidate is NaN gives NaN; a later NaN never wins.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .im2col import channels_last
from .layers import Layer


def _pair(k):
    return (int(k), int(k)) if np.isscalar(k) else (int(k[0]), int(k[1]))


def _physical(a, last):
    """a (N, C, H, W) as the array its memory holds: (N, H, W, C) if ``last``, else itself."""
    return a.transpose(0, 2, 3, 1) if last else a


def _logical(a, last):
    return a.transpose(0, 3, 1, 2) if last else a


def windows(x, kernel, stride):
    """(xw (kh * kw, ...), channels_last): xw[i * kw + j] holds entry (i, j) of every window, as an
    (N, C, Ho, Wo) array or, for a channels-last x, an (N, Ho, Wo, C) one. One copy."""
    (kh, kw), (sh, sw) = kernel, stride
    if x.ndim != 4 or x.shape[2] < kh or x.shape[3] < kw:
        raise ValueError(f"expected input (N, C, H, W) with H >= {kh} and W >= {kw}, got {x.shape}")
    last = channels_last(x)
    if last:
        # (N, Ho, Wo, C, kh, kw)
        win = sliding_window_view(x.transpose(0, 2, 3, 1), (kh, kw), axis=(1, 2))[:, ::sh, ::sw]
    else:
        win = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]  # (N, C, Ho, Wo, kh, kw)
    return win.transpose(4, 5, 0, 1, 2, 3).reshape((kh * kw,) + win.shape[:4]), last


def _scatter(dx_shape, last, kernel, stride, pieces, dtype):
    """dx (N, C, H, W), zero but for ``pieces``: (k, g) pairs adding g (shaped like a window
    entry's array) at window offset k = i * kw + j, through strided views."""
    (kh, kw), (sh, sw) = kernel, stride
    n, c, h, w = dx_shape
    dx = np.zeros((n, h, w, c) if last else dx_shape, dtype)
    ho, wo = (h - kh) // sh + 1, (w - kw) // sw + 1
    disjoint = sh >= kh and sw >= kw  # each entry of x in at most one window: write, do not add
    for k, g in pieces:
        i, j = divmod(k, kw)
        rows, cols = slice(i, i + sh * (ho - 1) + 1, sh), slice(j, j + sw * (wo - 1) + 1, sw)
        view = dx[:, rows, cols] if last else dx[:, :, rows, cols]
        if disjoint:
            view[...] = g
        else:
            view += g
    return _logical(dx, last)


class _Pool(Layer):
    def __init__(self, kernel_size, stride=None):
        self.kernel_size = _pair(kernel_size)
        self.stride = self.kernel_size if stride is None else _pair(stride)
        if min(*self.kernel_size, *self.stride) < 1:
            raise ValueError(f"impossible {type(self).__name__} settings: kernel {self.kernel_size}, "
                             f"stride {self.stride}")

    def output_shape(self, c, h, w):
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        return c, (h - kh) // sh + 1, (w - kw) // sw + 1

    def spec(self):
        return {"type": type(self).__name__, "kernel_size": list(self.kernel_size), "stride": list(self.stride)}

    def __repr__(self):
        return f"{type(self).__name__}(kernel={self.kernel_size}, stride={self.stride})"


def maxpool_forward(x, kernel, stride):
    """(y (N, C, Ho, Wo), arg, channels_last): each window's maximum, and the position of its first
    maximum in window order (i * kw + j) as uint8 (int16 for windows over 256 entries), both stored
    like x."""
    xw, last = windows(x, kernel, stride)
    y = xw[0].copy()
    arg = np.zeros(y.shape, np.uint8 if len(xw) <= 256 else np.int16)
    better = np.empty(y.shape, bool)
    for k in range(1, len(xw)):
        np.greater(xw[k], y, out=better)  # strictly: on a tie the earlier entry stays
        np.maximum(y, xw[k], out=y)
        # positions only grow with k, so "k where better" is a maximum (and no slow masked write)
        np.maximum(arg, better.astype(arg.dtype) * arg.dtype.type(k), out=arg)
    return _logical(y, last), _logical(arg, last), last


def maxpool_grad_x(x_shape, arg, last, grad_out, kernel, stride):
    """dL/dx (N, C, H, W): each window's gradient at its first maximum ``arg``."""
    g, a = _physical(grad_out, last), _physical(arg, last)
    pieces = ((k, g * (a == k)) for k in range(kernel[0] * kernel[1]))
    return _scatter(x_shape, last, kernel, stride, pieces, grad_out.dtype)


class MaxPool2D(_Pool):
    """The largest value of each kh x kw window, windows (sh, sw) apart (stride defaults to the
    kernel: windows side by side).   x (N, C, H, W) -> y (N, C, Ho, Wo).

    The gradient of a window goes to its first maximum in window order (see the module doc);
    the training step caches that position (``forward_train``), so it is not searched twice."""

    def forward(self, x):
        return maxpool_forward(np.asarray(x), self.kernel_size, self.stride)[0]

    def grad_x(self, x, grad_out):
        x = np.asarray(x)
        _, arg, last = maxpool_forward(x, self.kernel_size, self.stride)
        return maxpool_grad_x(x.shape, arg, last, np.asarray(grad_out), self.kernel_size, self.stride)

    def forward_train(self, x):
        """(y, cache): cache = (x's shape, each window's first maximum, x's layout)."""
        x = np.asarray(x)
        y, arg, last = maxpool_forward(x, self.kernel_size, self.stride)
        return y, (x.shape, arg, last)

    def sgd_step(self, cache, grad_out, lr, need_grad_x=True):
        x_shape, arg, last = cache
        return maxpool_grad_x(x_shape, arg, last, grad_out, self.kernel_size, self.stride) if need_grad_x else None


class AvgPool2D(_Pool):
    """The mean of each kh x kw window, windows (sh, sw) apart (stride defaults to the kernel).
    x (N, C, H, W) -> y (N, C, Ho, Wo); each entry of a window gets 1 / (kh * kw) of its gradient."""

    def forward(self, x):
        x = np.asarray(x)
        xw, last = windows(x if x.dtype.kind == "f" else x.astype(np.float64), self.kernel_size, self.stride)
        return _logical(xw.mean(axis=0, dtype=xw.dtype), last)

    def grad_x(self, x, grad_out):
        x, grad_out = np.asarray(x), np.asarray(grad_out)
        last = channels_last(x)
        share = _physical(grad_out, last) * grad_out.dtype.type(1.0 / (self.kernel_size[0] * self.kernel_size[1]))
        pieces = ((k, share) for k in range(self.kernel_size[0] * self.kernel_size[1]))
        return _scatter(x.shape, last, self.kernel_size, self.stride, pieces, grad_out.dtype)

    def sgd_step(self, cache, grad_out, lr, need_grad_x=True):
        x, _ = cache
        return self.grad_x(x, grad_out) if need_grad_x else None
