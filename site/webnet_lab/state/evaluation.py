"""What the Inspect tab shows of a model: its mistakes on the test digits, from one evaluation."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from webnet import metrics

from .data import digits

GALLERY = 16  # most confidently wrong test digits shown


@dataclass
class Evaluation:
    """The test digits through one model: confusion matrix, per-class accuracy, worst mistakes."""

    probs: np.ndarray  # (N_TEST, 10)
    pred: np.ndarray
    confusion: np.ndarray  # (10, 10), rows true, columns predicted
    per_class: np.ndarray  # (10,)
    accuracy: float
    mistakes: np.ndarray  # test indices, most confident first (at most GALLERY)

    @classmethod
    def of(cls, probs):
        y = digits().y_test
        pred = probs.argmax(1)
        cm = metrics.confusion_matrix(y, pred, 10)
        return cls(probs, pred, cm, metrics.per_class_accuracy(cm), metrics.accuracy(pred, y),
                   metrics.most_confident_mistakes(probs, y, GALLERY))

    @property
    def n_mistakes(self):
        return int((self.pred != digits().y_test).sum())
