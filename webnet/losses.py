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
    """Fused softmax + cross-entropy on logits (N, C): returns (loss, dL/dlogits).

    loss = logsumexp(z) - z[label], with no eps bias; gradient (p - t) / N for "mean", where
    p = softmax(z). ``y_true`` is integer labels (N,) or one-hot / soft targets (N, C).
    """
    return fused_step(logits, y_true, reduction)[:2]


def fused_step(logits, y_true, reduction="mean", scale=1.0, overwrite=False):
    """``softmax_cross_entropy`` for a training step: returns (loss, ``scale`` * dL/dlogits, the
    number of rows whose prediction, the argmax as in ``predict``, is the label). ``scale`` is the
    learning rate, applied to the smallest array of the backward pass; with ``overwrite`` the
    gradient is written into ``logits`` (a training step's own temporary), otherwise nothing
    given is changed."""
    n = len(logits)
    rows = np.arange(n)
    per_row = 1.0 / n if reduction == "mean" else 1.0
    best = logits.argmax(axis=1)  # (N,) the predictions; their logits are the row maxima
    # max-shifted, so exp never overflows
    z = np.subtract(logits, logits[rows, best][:, None], out=logits if overwrite else None)
    y_true = np.asarray(y_true)
    if y_true.ndim == 1:
        picked = z[rows, y_true].sum()
        correct = int(np.count_nonzero(best == y_true))
    else:
        picked = np.vdot(y_true, z)  # soft targets: sum_i t_i z_i (rows of t sum to 1)
        correct = int(np.count_nonzero(best == y_true.argmax(axis=1)))
    g = np.exp(z, out=z)
    s = g.sum(axis=1, keepdims=True)
    loss = float(np.log(s).sum() - picked) * per_row
    k = per_row * float(scale)
    g *= k / s  # probabilities * k
    if y_true.ndim == 1:
        g[rows, y_true] -= k
    else:
        g -= y_true * k
    return loss, g, correct
