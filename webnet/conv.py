"""Vectorised 2-D convolution (cross-correlation) by im2col + one matrix product.

Python loops run only over kernel offsets (k * k iterations, in the backward pass), never over
pixels or images. ``SimpleConv`` is the notebook's single-channel layer on top of the same code.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .layers import Layer


def _pair(k):
    return (int(k), int(k)) if np.isscalar(k) else (int(k[0]), int(k[1]))


def _out_size(size, k, stride, padding):
    return (size + 2 * padding - k) // stride + 1


def im2col(x, kh, kw, stride, padding):
    """x (N, C, H, W) -> cols (N * Ho * Wo, C * kh * kw), plus (Ho, Wo)."""
    if padding:
        x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    win = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]  # (N, C, Ho, Wo, kh, kw)
    n, c, ho, wo = win.shape[:4]
    cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * kh * kw)  # the one copy
    return cols, ho, wo


def col2im(dcols, x_shape, kh, kw, ho, wo, stride, padding):
    """Adjoint of ``im2col``: scatter-add (N*Ho*Wo, C*kh*kw) back into (N, C, H, W)."""
    n, c, h, w = x_shape
    d = dcols.reshape(n, ho, wo, c, kh, kw).transpose(0, 3, 4, 5, 1, 2)  # (N, C, kh, kw, Ho, Wo)
    dx = np.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=dcols.dtype)
    for i in range(kh):
        for j in range(kw):
            dx[:, :, i:i + stride * ho:stride, j:j + stride * wo:stride] += d[:, :, i, j]
    return dx[:, :, padding:padding + h, padding:padding + w] if padding else dx


def conv_forward(x, K, b, stride=1, padding=0):
    """x (N, C, H, W), K (O, C, kh, kw), b (O,) -> y (N, O, Ho, Wo)."""
    o, c, kh, kw = K.shape
    if x.ndim != 4 or x.shape[1] != c:
        raise ValueError(f"expected input (N, {c}, H, W), got {x.shape}")
    if x.shape[2] + 2 * padding < kh or x.shape[3] + 2 * padding < kw:
        raise ValueError(f"input {x.shape[2:]} is smaller than the kernel {(kh, kw)}")
    cols, ho, wo = im2col(x, kh, kw, stride, padding)
    y = cols @ K.reshape(o, -1).T + b  # (N*Ho*Wo, O)
    return y.reshape(x.shape[0], ho, wo, o).transpose(0, 3, 1, 2)


def conv_backward(x, K, grad_out, stride=1, padding=0, need_grad_x=True):
    """Gradients of ``conv_forward``: (dx or None, dK, db)."""
    o, c, kh, kw = K.shape
    cols, ho, wo = im2col(x, kh, kw, stride, padding)
    g = grad_out.transpose(0, 2, 3, 1).reshape(-1, o)  # (N*Ho*Wo, O)
    dK = (g.T @ cols).reshape(K.shape)
    db = g.sum(axis=0)
    dx = col2im(g @ K.reshape(o, -1), x.shape, kh, kw, ho, wo, stride, padding) if need_grad_x else None
    return dx, dK, db


class Conv2D(Layer):
    """Multi-channel convolution.   x (N, C_in, H, W) -> y (N, C_out, Ho, Wo).

    K (C_out, C_in, kh, kw), b (C_out,); Ho = (H + 2 * padding - kh) // stride + 1.
    He-uniform init (limit sqrt(6 / fan_in)), suited to a following ReLU.
    """

    param_names = ("K", "b")

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, rng=None,
                 dtype=np.float64):
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _pair(kernel_size)
        self.stride, self.padding = int(stride), int(padding)
        if min(self.in_channels, self.out_channels, *self.kernel_size, self.stride) < 1 or self.padding < 0:
            raise ValueError(f"impossible Conv2D settings: {self!r}")
        rng = np.random.default_rng() if rng is None else rng
        fan_in = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
        limit = np.sqrt(6.0 / fan_in)
        shape = (self.out_channels, self.in_channels) + self.kernel_size
        self.K = rng.uniform(-limit, limit, size=shape).astype(dtype)
        self.b = np.zeros(self.out_channels, dtype=dtype)

    def output_shape(self, h, w):
        kh, kw = self.kernel_size
        return (self.out_channels, _out_size(h, kh, self.stride, self.padding),
                _out_size(w, kw, self.stride, self.padding))

    def forward(self, x):
        return conv_forward(np.asarray(x), self.K, self.b, self.stride, self.padding)

    def grad_x(self, x, grad_out):
        return conv_backward(np.asarray(x), self.K, np.asarray(grad_out), self.stride, self.padding)[0]

    def grad_params(self, x, grad_out):
        _, dK, db = conv_backward(np.asarray(x), self.K, np.asarray(grad_out), self.stride, self.padding,
                                  need_grad_x=False)
        return [(self.K, dK), (self.b, db)]

    def sgd_step(self, x, y, grad_out, lr, need_grad_x=True):
        dx, dK, db = conv_backward(x, self.K, grad_out, self.stride, self.padding, need_grad_x)
        self.K -= lr * dK
        self.b -= lr * db
        return dx

    def spec(self):
        return {"type": "Conv2D", "in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": list(self.kernel_size), "stride": self.stride, "padding": self.padding}

    def __repr__(self):
        return (f"Conv2D(in={self.in_channels}, out={self.out_channels}, kernel={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding})")


class SimpleConv(Layer):
    """The notebook's single-channel "valid" cross-correlation.   x (N, H, W) or (H, W) -> y (N, Ho, Wo)
    or (Ho, Wo); K (kh, kw), b a scalar (stored as a 0-d array so SGD can update it in place)."""

    param_names = ("K", "b")

    def __init__(self, kernel, bias=0.0):
        kernel = np.asarray(kernel)
        self.K = np.array(kernel, dtype=kernel.dtype if kernel.dtype.kind == "f" else np.float64)
        if self.K.ndim != 2:
            raise ValueError(f"SimpleConv kernel must be 2-D, got shape {self.K.shape}")
        self.b = np.array(bias, dtype=self.K.dtype)

    @staticmethod
    def _to4d(a):
        a = np.asarray(a)
        return a[:, None] if a.ndim == 3 else a[None, None]

    def forward(self, x):
        x = np.asarray(x)
        if x.ndim not in (2, 3):
            raise ValueError(f"SimpleConv expects (N, H, W) or (H, W), got {x.shape}")
        y = conv_forward(self._to4d(x), self.K[None, None], self.b.reshape(1))
        return y[:, 0] if x.ndim == 3 else y[0, 0]

    def grad_x(self, x, grad_out):
        x = np.asarray(x)
        dx = conv_backward(self._to4d(x), self.K[None, None], self._to4d(grad_out))[0]
        return dx.reshape(x.shape)

    def grad_params(self, x, grad_out):
        _, dK, db = conv_backward(self._to4d(x), self.K[None, None], self._to4d(grad_out), need_grad_x=False)
        return [(self.K, dK[0, 0]), (self.b, db.reshape(()))]

    def spec(self):
        return {"type": "SimpleConv", "kernel_shape": list(self.K.shape)}

    def __repr__(self):
        return f"SimpleConv(kernel={self.K.shape})"
