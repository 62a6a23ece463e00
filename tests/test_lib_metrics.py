"""webnet.metrics on small cases worked out by hand."""
import math

import numpy as np
import pytest

from webnet import metrics

Y_TRUE = np.array([0, 0, 1, 1, 1, 2])
Y_PRED = np.array([0, 1, 1, 1, 0, 2])
# rows true, columns predicted: class 0 -> one right, one called 1; class 1 -> two right, one
# called 0; class 2 -> right
CM = np.array([[1, 1, 0],
               [1, 2, 0],
               [0, 0, 1]])


def test_accuracy_by_hand():
    assert metrics.accuracy(Y_PRED, Y_TRUE) == 4 / 6
    probs = np.eye(3)[Y_PRED] * 0.7 + 0.1  # argmax is Y_PRED
    assert metrics.accuracy(probs, Y_TRUE) == 4 / 6
    assert metrics.accuracy(Y_TRUE, Y_TRUE) == 1.0


def test_confusion_matrix_by_hand():
    cm = metrics.confusion_matrix(Y_TRUE, Y_PRED, num_classes=3)
    assert cm.dtype == np.int64 and np.array_equal(cm, CM)
    assert np.array_equal(metrics.confusion_matrix(Y_TRUE, Y_PRED).shape, (10, 10))  # digits by default
    assert metrics.confusion_matrix(Y_TRUE, Y_PRED)[:3, :3].tolist() == CM.tolist()
    assert metrics.confusion_matrix(Y_TRUE, Y_PRED).sum() == 6


def test_confusion_matrix_is_not_transposed():
    cm = metrics.confusion_matrix([2], [0], num_classes=3)  # a 2 called 0
    assert cm[2, 0] == 1 and cm.sum() == 1


def test_per_class_accuracy_by_hand():
    acc = metrics.per_class_accuracy(CM)
    assert acc.tolist() == [1 / 2, 2 / 3, 1.0]
    with_empty = metrics.per_class_accuracy(metrics.confusion_matrix(Y_TRUE, Y_PRED, num_classes=4))
    assert with_empty[:3].tolist() == [1 / 2, 2 / 3, 1.0] and math.isnan(with_empty[3])


def test_mean_cross_entropy_by_hand():
    probs = np.array([[0.5, 0.5, 0.0], [0.1, 0.8, 0.1], [0.25, 0.25, 0.5]])
    y = np.array([0, 1, 2])
    expected = -(math.log(0.5) + math.log(0.8) + math.log(0.5)) / 3
    assert metrics.mean_cross_entropy(probs, y) == pytest.approx(expected, rel=1e-15)


def test_mean_cross_entropy_floors_zero_probabilities():
    probs = np.array([[1.0, 0.0], [1.0, 0.0]])
    loss = metrics.mean_cross_entropy(probs, np.array([1, 0]))
    assert loss == pytest.approx(-math.log(metrics.PROB_FLOOR) / 2, rel=1e-12)
    assert metrics.mean_cross_entropy(np.array([[0.3, 0.7]]), [1]) == pytest.approx(-math.log(0.7), rel=1e-15)


def test_most_confident_mistakes_by_hand():
    probs = np.array([[0.9, 0.1],    # 0: says 0, true 1: wrong, 0.9 sure
                      [0.6, 0.4],    # 1: says 0, true 0: right
                      [0.3, 0.7],    # 2: says 1, true 0: wrong, 0.7
                      [0.95, 0.05],  # 3: says 0, true 1: wrong, 0.95
                      [0.3, 0.7]])   # 4: says 1, true 0: wrong, 0.7 (tie with 2: lower index first)
    y = np.array([1, 0, 0, 1, 0])
    assert metrics.most_confident_mistakes(probs, y, 10).tolist() == [3, 0, 2, 4]
    assert metrics.most_confident_mistakes(probs, y, 2).tolist() == [3, 0]
    assert metrics.most_confident_mistakes(probs, y, 0).tolist() == []
    assert metrics.most_confident_mistakes(np.eye(2), [0, 1], 5).tolist() == []


@pytest.mark.parametrize("call, message", [
    (lambda: metrics.accuracy([0, 1], [0, 1, 1]), "expected 3 labels"),
    (lambda: metrics.accuracy([], []), "no examples"),
    (lambda: metrics.confusion_matrix([0, 10], [0, 1]), r"in \[0, 10\), got 0 to 10"),
    (lambda: metrics.confusion_matrix([0.5], [0]), "whole numbers"),
    (lambda: metrics.per_class_accuracy(np.zeros((2, 3))), r"square confusion matrix, got shape \(2, 3\)"),
    (lambda: metrics.mean_cross_entropy(np.ones((2, 3)) / 3, [0, 3]), r"in \[0, 3\), got 0 to 3"),
    (lambda: metrics.mean_cross_entropy(np.ones(3) / 3, [0, 1, 2]), r"expected \(3, C\), got shape \(3,\)"),
])
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()
