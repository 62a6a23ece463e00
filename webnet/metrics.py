"""Classification metrics: what the lab shows about a trained network.

Labels are integer class indices (N,); where predictions may be given as probabilities or one-hot
rows (N, C), the class is their argmax (the first one on a tie, like ``NeuralNetwork.predict``).
"""
from __future__ import annotations

import numpy as np

from .losses import labels_of

#: probabilities below this count as this in ``mean_cross_entropy``: -log(1e-12) = 27.6 nats, so a
#: digit given probability 0 costs a large but finite loss instead of making the mean infinite
PROB_FLOOR = 1e-12


def _labels(y, name, n=None, num_classes=None):
    y = labels_of(y)
    if y.ndim != 1 or (n is not None and len(y) != n):
        raise ValueError(f"{name}: expected {n if n is not None else 'N'} labels, got shape {y.shape}")
    if y.dtype.kind not in "iu":
        if not np.all(np.isfinite(y)) or not np.array_equal(y, np.round(y)):
            raise ValueError(f"{name}: labels must be whole numbers, got {y[:5]}...")
        y = y.astype(np.int64)
    if num_classes is not None and y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"{name}: labels must be in [0, {num_classes}), got {y.min()} to {y.max()}")
    # as numpy's index type: int64 natively, int32 in Pyodide (wasm32), whose bincount refuses int64
    return y.astype(np.intp, copy=False)


def _probs(probs, n):
    probs = np.asarray(probs)
    if probs.ndim != 2 or len(probs) != n:
        raise ValueError(f"probs: expected ({n}, C), got shape {probs.shape}")
    return probs


def accuracy(y_pred, y_true):
    """Share of correct predictions, in [0, 1]. ``y_pred``: labels (N,) or probabilities (N, C)."""
    y_true = _labels(y_true, "y_true")
    y_pred = _labels(y_pred, "y_pred", len(y_true))
    if len(y_true) == 0:
        raise ValueError("accuracy of no examples is undefined")
    return float(np.mean(y_pred == y_true))


def confusion_matrix(y_true, y_pred, num_classes=10):
    """(C, C) int64 counts: row = true class, column = predicted class; the rows sum to the
    class counts and the diagonal holds the correct predictions."""
    y_true = _labels(y_true, "y_true", num_classes=num_classes)
    y_pred = _labels(y_pred, "y_pred", len(y_true), num_classes)
    return np.bincount(y_true * num_classes + y_pred, minlength=num_classes * num_classes).reshape(
        num_classes, num_classes).astype(np.int64)


def per_class_accuracy(cm):
    """(C,) share of each true class predicted correctly (the recall): diagonal / row sums. A
    class without examples gets NaN (there is nothing to be right or wrong about)."""
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"expected a square confusion matrix, got shape {cm.shape}")
    totals = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(cm) / np.maximum(totals, 1), np.nan)


def mean_cross_entropy(probs, y_true):
    """Mean of -log p[label] over the rows of ``probs`` (N, C), each probability floored at
    ``PROB_FLOOR``: the one place webnet's callers get a safe log-loss from probabilities."""
    y_true = _labels(y_true, "y_true")
    probs = _probs(probs, len(y_true))
    if len(y_true) == 0:
        raise ValueError("cross-entropy of no examples is undefined")
    if y_true.min() < 0 or y_true.max() >= probs.shape[1]:
        raise ValueError(f"y_true: labels must be in [0, {probs.shape[1]}), got {y_true.min()} to {y_true.max()}")
    p = probs[np.arange(len(y_true)), y_true].astype(np.float64)
    return float(-np.mean(np.log(np.maximum(p, PROB_FLOOR))))


def most_confident_mistakes(probs, y_true, k):
    """Indices of at most ``k`` wrong predictions, the most confident first (by the probability of
    the predicted class; equal confidence: lower index first)."""
    y_true = _labels(y_true, "y_true")
    probs = _probs(probs, len(y_true))
    pred = probs.argmax(axis=1)
    wrong = np.flatnonzero(pred != y_true)
    confidence = probs[wrong, pred[wrong]]
    order = np.argsort(-confidence, kind="stable")
    return wrong[order[:max(int(k), 0)]]
