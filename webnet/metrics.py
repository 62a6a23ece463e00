"""Classification metrics (interim: replaced by the library branch's version at merge)."""
from __future__ import annotations

import numpy as np


def accuracy(y_pred, y_true):
    return float(np.mean(np.asarray(y_pred) == np.asarray(y_true)))


def confusion_matrix(y_true, y_pred, num_classes=10):
    cm = np.zeros((num_classes, num_classes), int)
    np.add.at(cm, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return cm


def per_class_accuracy(cm):
    return cm.diagonal() / np.maximum(cm.sum(1), 1)


def mean_cross_entropy(probs, y_true):
    p = probs[np.arange(len(y_true)), y_true]
    return float(-np.mean(np.log(np.maximum(p, np.finfo(probs.dtype).tiny))))


def most_confident_mistakes(probs, y_true, k):
    pred = probs.argmax(1)
    wrong = np.flatnonzero(pred != y_true)
    return wrong[np.argsort(-probs[wrong, pred[wrong]], kind="stable")][:k]
