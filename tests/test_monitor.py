"""webnet.monitor: dead units, chance level, the best weights, and a learning rate shown to work."""
import math

import numpy as np
import pytest

import webnet as wn
from webnet import monitor
from webnet.data import load_mnist_subset


@pytest.fixture(scope="module")
def digits():
    return load_mnist_subset(n_test=500)


def test_dead_fraction_counts_units_that_never_fire():
    net = wn.build_model("4-6-3", rng=0, dtype=np.float64)
    X = np.random.default_rng(0).random((32, 4))
    assert monitor.dead_fraction(net, X) < 1
    net.layers[0].W[:, :3] = -1.0  # inputs are >= 0: units 0-2 get a negative sum for every input
    net.layers[0].b[:3] = 0.0
    before = monitor.dead_fraction(wn.build_model("4-6-3", rng=0, dtype=np.float64), X)
    assert monitor.dead_fraction(net, X) == pytest.approx(before + 3 / 6 if before == 0 else 0.5, abs=1 / 6)
    assert monitor.dead_fraction(wn.NeuralNetwork([wn.LinearLayer(4, 3), wn.Softmax()]), X) is None


def test_a_too_large_learning_rate_kills_the_units_and_is_diagnosed(digits):
    """The issue's case: learning rate 10, batch 32: the loss jumps, then flattens near ln 10."""
    X, y, Xt, yt = digits
    net = wn.build_model("784-128-10", rng=0)
    m = monitor.Monitor()
    loss = net.fit_one_epoch(X, y, 32, 10.0, rng=0)
    acc = net.evaluate(Xt, yt)[0]
    dead = monitor.dead_fraction(net, X[:256])
    diagnosis = m.epoch_done(net, 1, loss, acc, dead)
    assert diagnosis.kind == "dead" and dead > 0.9 and acc < 0.15


def test_a_good_run_is_not_diagnosed_and_its_best_weights_come_back(digits):
    X, y, Xt, yt = digits
    net = wn.build_model("784-32-10", rng=0)
    m = monitor.Monitor()
    for epoch in (1, 2):
        loss = net.fit_one_epoch(X, y, 32, 0.1, rng=epoch)
        acc = net.evaluate(Xt, yt)[0]
        assert m.epoch_done(net, epoch, loss, acc, monitor.dead_fraction(net, X[:256])) is None
    best_acc, best_epoch = m.best[0], m.best[1]
    for p in net.parameters():  # ruined
        p[...] = 0
    assert net.evaluate(Xt, yt)[0] < best_acc
    assert m.restore_best(net) == (best_acc, best_epoch)
    assert net.evaluate(Xt, yt)[0] == best_acc


def test_at_chance():
    m = monitor.Monitor(10)
    assert m.at_chance(math.log(10)) and m.at_chance(float("nan")) and m.at_chance(0.5, test_accuracy=0.11)
    assert not m.at_chance(0.5, test_accuracy=0.9)
    assert not m.at_chance(2.11, test_accuracy=0.53)  # a slow learning rate's first epoch: learning


def test_the_suggested_rate_is_one_that_worked(digits):
    X, y, _, _ = digits
    results = monitor.probe_learning_rates(lambda: wn.build_model("784-128-10", rng=0), X, y, [10.0, 3.0, 0.3])
    assert [r for r, _, _ in results] == [10.0, 3.0, 0.3]
    rate = monitor.working_rate(results)
    assert rate == 0.3
    (_, first, last), = [r for r in results if r[0] == rate]
    assert last < first / 2 and last < math.log(10)


def test_the_probe_works_with_fewer_digits_than_its_batches_need(digits):
    X, y, _, _ = digits
    results = monitor.probe_learning_rates(lambda: wn.build_model("784-16-10", rng=0), X[:100], y[:100], [0.3],
                                           batches=10, batch_size=64)
    assert len(results) == 1 and math.isfinite(results[0][2])
