"""The digits the lab trains and tests on: webnet's shipped MNIST subset, read on first use."""
from __future__ import annotations

import collections
import functools

from webnet import data as mnist

N_TRAIN, N_TEST = 10_000, 2_000  # the subset's sizes (tests/test_app.py checks them)

Digits = collections.namedtuple("Digits", "X_train y_train X_test y_test")


@functools.cache
def digits():
    """(X_train, y_train, X_test, y_test), float32 in [0, 1]; read on first use: the first tab
    needs none of it, so the static page is ready about 0.1 s sooner."""
    return Digits(*mnist.load_mnist_subset())
