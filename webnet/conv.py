"""Vectorised 2-D convolution (cross-correlation).

With several channels: im2col + one matrix product (webnet/im2col.py). The output y = cols @ K.T + b
is an (N * Ho * Wo, O) matrix, i.e. stored channels-last: ``Conv2D`` returns it as an (N, O, Ho, Wo)
view without copying it (``y.transpose(0, 3, 1, 2)``); elementwise layers and pooling keep that
layout, and the next convolution's im2col reads it in long runs. With one input and one output
channel (the notebook's SimpleConv): each kernel row as a banded (Toeplitz) matrix, all input rows
times all kernel rows in one product, then a sum of kh shifted slices. Python loops run only over
kernel rows or offsets, never over pixels or images. Matrix products go through ``accel.matmul``
(numpy's ``@`` natively; a WebAssembly kernel in Pyodide).
"""
from __future__ import annotations

import numpy as np

from . import accel
from .im2col import im2col, input_grad, kernel_from_matrix, kernel_matrix, weight_grad
from .layers import Layer


def _pair(k):
    return (int(k), int(k)) if np.isscalar(k) else (int(k[0]), int(k[1]))


def _out_size(size, k, stride, padding):
    return (size + 2 * padding - k) // stride + 1


def _pad(x, padding):
    return np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding))) if padding else x


def _single_channel(K):
    """One input and one output channel: im2col's product would have an inner and an outer
    dimension of 1 and be all memory traffic, so these layers take the row-Toeplitz route below."""
    return K.shape[0] * K.shape[1] == 1


def _row_toeplitz(K, width, wo, stride):
    """(width, kh * wo): block i maps an input row to kernel row i's contribution to an output row,
    T_i[w, v] = K[i, w - v * stride] where that index is inside the kernel, else 0."""
    k = K[0, 0]
    kh, kw = k.shape
    T = np.zeros((width, kh, wo), dtype=k.dtype)
    v = np.arange(wo)
    for j in range(kw):  # kernel column j sits on the band w = v * stride + j
        T[v * stride + j, :, v] = k[:, j]
    return T.reshape(width, kh * wo)


def _check(x, K, padding):
    o, c, kh, kw = K.shape
    if x.ndim != 4 or x.shape[1] != c:
        raise ValueError(f"expected input (N, {c}, H, W), got {x.shape}")
    if x.shape[2] + 2 * padding < kh or x.shape[3] + 2 * padding < kw:
        raise ValueError(f"input {x.shape[2:]} is smaller than the kernel {(kh, kw)}")


def _add_bias(y2, b, wo):
    """y2 (N * Ho * Wo, O) += b, in place, by rows of Wo * O (numpy adds a short row slowly)."""
    y2.reshape(-1, wo * len(b))[...] += np.tile(b, wo)


def _bias_grad(g2, wo):
    """dL/db (O,) = g2.sum(axis=0) for g2 (N * Ho * Wo, O), summed by rows of Wo * O first."""
    o = g2.shape[1]
    return np.ascontiguousarray(g2).reshape(-1, wo * o).sum(axis=0).reshape(wo, o).sum(axis=0)


def conv_forward_cols(x, K, b, stride=1, padding=0):
    """(y (N, O, Ho, Wo), the ``Columns`` a step needs): x (N, C, H, W), K (O, C, kh, kw), b (O,).
    y is a view of an (N, Ho, Wo, O) array (channels-last)."""
    _check(x, K, padding)
    columns = im2col(x, K.shape[2:], stride, padding)
    y2 = accel.matmul(columns.cols, kernel_matrix(K, columns.channels_last).T)  # (N * Ho * Wo, O)
    ho, wo = columns.out
    _add_bias(y2, b, wo)
    return y2.reshape(len(x), ho, wo, len(K)).transpose(0, 3, 1, 2), columns


def _grad_rows(grad_out):
    """dL/dy (N, O, Ho, Wo) as the (N * Ho * Wo, O) matrix (no copy if it is stored channels-last)."""
    return grad_out.transpose(0, 2, 3, 1).reshape(-1, grad_out.shape[1])


def conv_backward_cols(columns, K, grad_out, need_grad_x=True):
    """(dL/dx or None, dL/dK, dL/db) from ``conv_forward_cols``'s columns and dL/dy."""
    g2 = _grad_rows(grad_out)
    dx = input_grad(g2, K, columns.x_shape, columns.out, columns.stride, columns.padding,
                    columns.channels_last) if need_grad_x else None
    dK = kernel_from_matrix(weight_grad(columns, g2), K.shape, columns.channels_last)
    return dx, dK, _bias_grad(g2, columns.out[1])


def conv_forward(x, K, b, stride=1, padding=0):
    """x (N, C, H, W), K (O, C, kh, kw), b (O,) -> y (N, O, Ho, Wo)."""
    _check(x, K, padding)
    if not _single_channel(K):
        return conv_forward_cols(x, K, b, stride, padding)[0]
    # every input row times every kernel row in one product, then sum the kh shifted rows
    o, c, kh, kw = K.shape
    xp = _pad(x, padding)
    n, _, hp, wp = xp.shape
    ho, wo = (hp - kh) // stride + 1, (wp - kw) // stride + 1
    P = accel.matmul(xp.reshape(n * hp, wp), _row_toeplitz(K, wp, wo, stride)).reshape(n, hp, kh, wo)
    y = P[:, 0:stride * ho:stride, 0] + b
    for i in range(1, kh):
        y += P[:, i:i + stride * ho:stride, i]
    return y.reshape(n, 1, ho, wo)


def conv_grad_x(x_shape, K, grad_out, stride=1, padding=0):
    """dL/dx (N, C, H, W) for dL/dy ``grad_out`` (N, O, Ho, Wo)."""
    n, c, h, w = x_shape
    o, _, kh, kw = K.shape
    ho, wo = grad_out.shape[2:]
    if not _single_channel(K):
        return input_grad(_grad_rows(grad_out), K, x_shape, (ho, wo), stride, padding, False)
    hp, wp = h + 2 * padding, w + 2 * padding
    T = _row_toeplitz(K, wp, wo, stride).reshape(wp, kh, wo)
    Q = accel.matmul(grad_out.reshape(n * ho, wo), T.transpose(2, 1, 0).reshape(wo, kh * wp)).reshape(n, ho, kh, wp)
    dx = np.zeros((n, 1, hp, wp), dtype=Q.dtype)
    for i in range(kh):
        dx[:, 0, i:i + stride * ho:stride] += Q[:, :, i]
    return dx[:, :, padding:padding + h, padding:padding + w] if padding else dx


def conv_grad_params(x, K, grad_out, stride=1, padding=0):
    """(dL/dK, dL/db) for input ``x`` and dL/dy ``grad_out``."""
    if not _single_channel(K):
        columns = im2col(x, K.shape[2:], stride, padding)
        g2 = _grad_rows(grad_out)
        return (kernel_from_matrix(weight_grad(columns, g2), K.shape, columns.channels_last),
                _bias_grad(g2, columns.out[1]))
    o, c, kh, kw = K.shape
    xp = _pad(x, padding)
    db = grad_out.sum(axis=(0, 2, 3))
    ho, wo = grad_out.shape[2:]  # k * k dot products of the output gradient with shifted inputs
    g = grad_out[:, 0]
    dK = np.empty(K.shape, dtype=np.result_type(x, grad_out))
    for i in range(kh):
        for j in range(kw):
            dK[0, 0, i, j] = np.einsum("nhw,nhw->", g, xp[:, 0, i:i + stride * ho:stride, j:j + stride * wo:stride])
    return dK, db


class Conv2D(Layer):
    """Multi-channel convolution.   x (N, C_in, H, W) -> y (N, C_out, Ho, Wo).

    K (C_out, C_in, kh, kw), b (C_out,); Ho = (H + 2 * padding - kh) // stride + 1.
    He-uniform init (limit sqrt(6 / fan_in)), suited to a following ReLU. y is stored channels-last
    (see the module doc); the training step caches the im2col matrix (``forward_train``).
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
        return conv_grad_x(np.shape(x), self.K, np.asarray(grad_out), self.stride, self.padding)

    def grad_params(self, x, grad_out):
        dK, db = conv_grad_params(np.asarray(x), self.K, np.asarray(grad_out), self.stride, self.padding)
        return [(self.K, dK), (self.b, db)]

    def forward_train(self, x):
        """(y, cache): cache = the im2col ``Columns`` of x (never anything of K)."""
        return conv_forward_cols(np.asarray(x), self.K, self.b, self.stride, self.padding)

    def sgd_step(self, cache, grad_out, lr, need_grad_x=True):
        dx, dK, db = conv_backward_cols(cache, self.K, grad_out, need_grad_x)  # dx from K as it is now
        if lr != 1:
            dK, db = dK * lr, db * lr
        self.K -= dK
        self.b -= db
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
        return conv_grad_x(self._to4d(x).shape, self.K[None, None], self._to4d(grad_out)).reshape(x.shape)

    def grad_params(self, x, grad_out):
        dK, db = conv_grad_params(self._to4d(x), self.K[None, None], self._to4d(grad_out))
        return [(self.K, dK[0, 0]), (self.b, db.reshape(()))]

    def spec(self):
        return {"type": "SimpleConv", "kernel_shape": list(self.K.shape)}

    def __repr__(self):
        return f"SimpleConv(kernel={self.K.shape})"
