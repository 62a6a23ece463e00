"""Losses: the notebook's CrossEntropy on probabilities, and the fused softmax + cross-entropy."""
from __future__ import annotations

import numpy as np


def one_hot(y, num_classes):
    """Integer labels (N,) -> one-hot float64 (N, num_classes)."""
    y = np.asarray(y)
    if y.ndim != 1 or (y.size and (y.min() < 0 or y.max() >= num_classes)):
        raise ValueError(f"labels must be a 1-D array of ints in [0, {num_classes}), got shape {y.shape}")
    out = np.zeros((y.size, num_classes))
    out[np.arange(y.size), y.astype(np.intp)] = 1.0
    return out


def labels_of(y_true):
    """Class indices from integer labels (N,) or one-hot / soft targets (N, C)."""
    y_true = np.asarray(y_true)
    return y_true if y_true.ndim == 1 else y_true.argmax(axis=1)


class CrossEntropy:
    """L = -sum(t * log(p + eps)) / N (reduction "mean") or without the / N ("sum").

    ``y_pred`` are probabilities (N, C); ``y_true`` one-hot (N, C) or integer labels (N,).
    """

    def __init__(self, eps=1e-8, reduction="mean"):
        if reduction not in ("mean", "sum"):
            raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
        self.eps, self.reduction = float(eps), reduction

    def _targets(self, y_pred, y_true):
        y_true = np.asarray(y_true)
        if y_true.ndim == 1:
            y_true = one_hot(y_true, y_pred.shape[-1])
        if y_true.shape != y_pred.shape:
            raise ValueError(f"y_true shape {y_true.shape} does not match y_pred shape {y_pred.shape}")
        return y_true

    def _scale(self, n):
        return 1.0 / n if self.reduction == "mean" else 1.0

    def forward(self, y_pred, y_true):
        y_pred = np.atleast_2d(y_pred)
        t = self._targets(y_pred, y_true)
        return float(-np.sum(t * np.log(y_pred + self.eps)) * self._scale(len(y_pred)))

    __call__ = forward

    def grad_x(self, y_pred, y_true):
        y_pred = np.atleast_2d(y_pred)
        t = self._targets(y_pred, y_true)
        return -t / (y_pred + self.eps) * self._scale(len(y_pred))

    def spec(self):
        return {"type": "CrossEntropy", "eps": self.eps, "reduction": self.reduction}

    def __repr__(self):
        return f"CrossEntropy(eps={self.eps:g}, reduction={self.reduction!r})"


def softmax_cross_entropy(logits, y_true, reduction="mean"):
    """Fused softmax + cross-entropy on logits (N, C): returns (loss, dL/dlogits, probabilities).

    loss = logsumexp(z) - z[label] (no eps bias); gradient (p - t) / N for "mean".
    ``y_true`` is integer labels (N,) or one-hot / soft targets (N, C).
    """
    m = logits.max(axis=1, keepdims=True)
    e = np.exp(logits - m)
    s = e.sum(axis=1, keepdims=True)
    p = e / s
    y_true = np.asarray(y_true)
    n = len(logits)
    g = p.copy()
    if y_true.ndim == 1:
        rows = np.arange(n)
        loss = float(np.sum(np.log(s[:, 0]) + m[:, 0] - logits[rows, y_true]))
        g[rows, y_true] -= 1
    else:
        loss = float(np.sum(y_true * (np.log(s) + m - logits)))
        g -= y_true
    if reduction == "mean":
        loss /= n
        g *= np.asarray(1.0 / n, dtype=g.dtype)
    return loss, g, p
