"""Watching a training run for the ways it fails, so a user can be told what happened and why.

- ``dead_fraction``: the share of a network's hidden ReLU units that output zero for every input
  of a probe batch (a too-large step throws units into a region where they never fire again);
- ``Monitor``: per batch and per epoch, a loss or a test accuracy stuck at chance level
  (ln C nats, 1 / C), and the best weights seen by test accuracy, kept as a copy to go back to;
- ``probe_learning_rates``: smaller learning rates tried for a few batches from the same starting
  weights, so a suggested rate is one shown to work, not a guess.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .layers import ReLU
from .network import TrainingDiverged

# a mean loss at or above this share of ln C (no better than guessing), or an accuracy below 1.5 / C,
# is chance level (at 0.9, a slow learning rate's first epoch was taken for one: loss 2.11 with a
# test accuracy of 0.53)
CHANCE_MARGIN = 1.0
DEAD_WARNING = 0.5  # a share of dead hidden units worth telling the user about


def hidden_relu_outputs(net, X):
    """The outputs of each of ``net``'s ReLU layers on ``X``: [(layer index, (N, ...) array)]."""
    outputs, a = [], net._cast(X)
    for i, layer in enumerate(net.layers):
        a = layer.forward(a)
        if isinstance(layer, ReLU):
            outputs.append((i, a))
    return outputs


def dead_fraction(net, X):
    """The share of hidden ReLU units (channels for a convolution) that output 0 for every input of
    ``X``; None for a network without ReLU."""
    dead = total = 0
    for _, out in hidden_relu_outputs(net, X):
        per_unit = out.reshape(len(out), out.shape[1], -1).max(axis=(0, 2))  # (units,): its largest output
        dead += int(np.count_nonzero(per_unit <= 0))
        total += per_unit.size
    return dead / total if total else None


@dataclass
class Diagnosis:
    """What went wrong: ``kind`` is "diverged" (NaN, infinity, an exploding loss), "chance" (the
    network learned nothing) or "dead" (most hidden units never fire), with the numbers that say so."""

    kind: str
    epoch: int
    loss: float
    accuracy: float | None
    dead: float | None


class Monitor:
    """Per-epoch bookkeeping of one training run: is it at chance, and which weights were best."""

    def __init__(self, num_classes=10):
        self.chance_loss = math.log(num_classes)
        self.chance_accuracy = 1.0 / num_classes
        self.best = None  # (test accuracy, epoch, {name: copy of the parameter})

    def at_chance(self, mean_loss, test_accuracy=None):
        """True if a whole epoch's mean loss, or its test accuracy, is what guessing gives."""
        if not math.isfinite(mean_loss) or mean_loss >= CHANCE_MARGIN * self.chance_loss:
            return True
        return test_accuracy is not None and test_accuracy < 1.5 * self.chance_accuracy

    def epoch_done(self, net, epoch, mean_loss, test_accuracy, dead=None):
        """Record an epoch; keeps a copy of the weights when they are the best so far. Returns a
        ``Diagnosis`` if the epoch is at chance, else None."""
        if self.best is None or test_accuracy > self.best[0]:
            self.best = (test_accuracy, epoch, net.state_dict())
        if self.at_chance(mean_loss, test_accuracy):
            kind = "dead" if dead is not None and dead >= DEAD_WARNING else "chance"
            return Diagnosis(kind, epoch, mean_loss, test_accuracy, dead)
        return None

    def restore_best(self, net):
        """Put the best weights seen back into ``net``; returns (test accuracy, epoch) or None."""
        if self.best is None:
            return None
        accuracy, epoch, state = self.best
        net.load_state_dict(state)
        return accuracy, epoch


def probe_learning_rates(make_net, X, y, rates, batches=30, batch_size=32, rng=0):
    """For each rate, a fresh network from ``make_net()`` trained for ``batches`` batches of the same
    digits: [(rate, loss of the first batch, mean loss of the last five)]. A rate whose late loss
    is well below its first and below chance works; the caller picks the largest such."""
    order = np.resize(np.random.default_rng(rng).permutation(len(X)), batches * batch_size)  # repeats if short
    results = []
    for rate in rates:
        net = make_net()
        losses = []
        try:
            for i in range(batches):
                idx = order[i * batch_size:(i + 1) * batch_size]
                losses.append(net.train_one_step(X[idx], y[idx], rate))
        except TrainingDiverged:
            losses.append(float("inf"))
        results.append((rate, losses[0], float(np.mean(losses[-5:]))))
    return results


def working_rate(results, num_classes=10):
    """The largest probed rate whose loss fell to below half its start and below chance, or None."""
    chance = math.log(num_classes)
    good = [rate for rate, first, last in results if math.isfinite(last) and last < min(0.5 * first, chance)]
    return max(good, default=None)
