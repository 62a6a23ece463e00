"""NeuralNetwork: a stack of layers, a loss, SGD training that can run in pieces."""
from __future__ import annotations

import math

import numpy as np

from .layers import LinearLayer, Softmax
from .losses import CrossEntropy, fused_step, labels_of


class TrainingDiverged(FloatingPointError):
    """The loss or a parameter became NaN or infinite (or the loss exploded past
    ``NeuralNetwork.explode_factor``); parameters were restored to the last finite snapshot
    (attributes ``step``, ``loss``, ``learning_rate``, ``restored_step``)."""

    def __init__(self, step, loss, learning_rate, restored_step):
        self.step, self.loss, self.learning_rate, self.restored_step = step, loss, learning_rate, restored_step
        super().__init__(
            f"training diverged at step {step}: loss is {loss} with learning rate {learning_rate:g}; "
            f"parameters restored to their last finite values (from step {restored_step}). "
            f"Try a smaller learning rate.")


class NeuralNetwork:
    """layers applied in order, then ``loss(y_pred, y_true)``.

    When the last layer is ``Softmax`` and the loss is ``CrossEntropy``, training runs the fused
    softmax + cross-entropy on logits (gradient (p - t) / N, no eps bias); ``forward`` still
    returns probabilities. Targets may be integer labels (N,) or one-hot (N, C).
    """

    #: steps between snapshots of the parameters kept for the divergence guard
    snapshot_every = 50
    #: a batch loss this many times above the first loss of training (or above this many nats,
    #: whichever is more) counts as diverged, like NaN or inf: no sane step gets there
    explode_factor = 1e3

    def __init__(self, layers, loss=None):
        self.layers = list(layers)
        self.loss = CrossEntropy() if loss is None else loss
        self.step_count = 0
        self.last_correct = 0  # correct predictions in the last training batch
        self._first_loss = None  # the divergence guard's yardstick
        self._snapshot = None  # (step, [copies of parameters])

    # -- inference ---------------------------------------------------------------------------
    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    __call__ = forward

    @property
    def dtype(self):
        """The dtype of the parameters (the network computes in it); float64 if it has none."""
        for layer in self.layers:
            if layer.param_names:
                return getattr(layer, layer.param_names[0]).dtype
        return np.dtype(np.float64)

    def _cast(self, x):
        x = np.asarray(x)
        return x if x.dtype == self.dtype else x.astype(self.dtype)

    def predict_proba(self, X, batch_size=1000):
        """Class probabilities (N, C), computed in batches."""
        X = self._cast(X)
        return np.concatenate([self.forward(X[i:i + batch_size]) for i in range(0, len(X), batch_size)])

    def predict(self, X, batch_size=1000):
        return self.predict_proba(X, batch_size).argmax(axis=1)

    def evaluate(self, X, y, batch_size=1000):
        """(accuracy, mean loss) over the whole set, in batches. ``y``: labels or one-hot."""
        X, y = self._cast(X), np.asarray(y)
        if len(X) == 0:
            raise ValueError("evaluate needs at least one example")
        correct, total_loss = 0, 0.0
        for i in range(0, len(X), batch_size):
            p = self.forward(X[i:i + batch_size])
            t = y[i:i + batch_size]
            correct += int(np.sum(p.argmax(axis=1) == labels_of(t)))
            total_loss += self.loss(p, t) * (len(p) if getattr(self.loss, "reduction", "mean") == "mean" else 1)
        return correct / len(X), total_loss / len(X)

    # -- parameters --------------------------------------------------------------------------
    def named_parameters(self):
        """``[("0.W", array), ("0.b", array), ...]``: live arrays, in a stable order."""
        return [(f"{i}.{name}", p) for i, layer in enumerate(self.layers) for name, p in layer.named_params()]

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def num_params(self):
        return int(sum(layer.num_params() for layer in self.layers))

    def astype(self, dtype):
        """A copy of the network with every parameter cast to ``dtype`` (gradient checks use float64)."""
        return type(self)([layer.astype(dtype) for layer in self.layers], self.loss)

    # -- gradients ---------------------------------------------------------------------------
    def activations(self, x):
        """[x, the first layer's output, ..., the last layer's output] for the batch ``x``: what each
        layer computes (the lab's Inside tab shows them)."""
        return self._activations(x)

    def _activations(self, x):
        acts = [x]
        for layer in self.layers:
            acts.append(layer.forward(acts[-1]))
        return acts

    def grad_x(self, x, y_true):
        """dLoss/dx for the batch ``x``, by the layers' own ``grad_x`` (the notebook's path)."""
        acts = self._activations(x)
        g = self.loss.grad_x(acts[-1], y_true)
        for layer, a in zip(reversed(self.layers), reversed(acts[:-1])):
            g = layer.grad_x(a, g)
        return g

    def gradients(self, x, y_true):
        """{name: dLoss/dparam} for the batch, by ``grad_x`` / ``grad_params`` (no update)."""
        acts = self._activations(x)
        g = self.loss.grad_x(acts[-1], y_true)
        grads = {}
        for i in reversed(range(len(self.layers))):
            layer = self.layers[i]
            for (name, _), (_, dp) in zip(layer.named_params(), layer.grad_params(acts[i], g)):
                grads[f"{i}.{name}"] = dp
            g = layer.grad_x(acts[i], g)
        return grads

    @property
    def fused(self):
        """True when training uses the fused softmax + cross-entropy on logits."""
        return (bool(self.layers) and isinstance(self.layers[-1], Softmax)
                and type(self.loss) is CrossEntropy)

    # -- training ----------------------------------------------------------------------------
    def train_one_step(self, X_batch, Y_batch, learning_rate):
        """One SGD step on a batch; returns the batch loss. Raises ``TrainingDiverged``."""
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported, not warned
            return self._step(self._cast(X_batch), Y_batch, learning_rate)

    def _step(self, x, Y_batch, learning_rate):
        """``train_one_step`` on an input already in the network's dtype, under the caller's
        ``np.errstate``."""
        if self._snapshot is None or self.step_count - self._snapshot[0] >= self.snapshot_every:
            self._take_snapshot()
        fused = self.fused
        layers = self.layers[:-1] if fused else self.layers
        out, caches = x, []
        for layer in layers:  # each cache goes from this forward to the same layer's step below
            out, cache = layer.forward_train(out)
            caches.append(cache)
        if fused:
            # a LinearLayer's output is a fresh array its step does not read: the loss may
            # overwrite it (not so an activation's, which its step reads, or a view of the input)
            loss, g, correct = fused_step(out, Y_batch, self.loss.reduction, scale=learning_rate,
                                          overwrite=bool(layers) and isinstance(layers[-1], LinearLayer))
        else:
            loss = self.loss(out, Y_batch)
            g = self.loss.grad_x(out, Y_batch)
            correct = int(np.count_nonzero(out.argmax(axis=1) == labels_of(Y_batch)))
            # backprop is linear in the gradient: scale it by the learning rate once, at the top,
            # and every layer's update is then p -= g (layers are called with lr = 1)
            g *= np.asarray(learning_rate, dtype=g.dtype)
        if self._first_loss is None:
            self._first_loss = loss
        if not loss <= self.explode_factor * max(self._first_loss, 1.0):  # also catches NaN
            self._diverged(loss, learning_rate)
        self.last_correct = correct
        first = 0  # no gradient is needed below the first layer with parameters (a Reshape of the input)
        while first < len(layers) - 1 and not layers[first].param_names:
            first += 1
        for i in range(len(layers) - 1, -1, -1):
            g = layers[i].sgd_step(caches[i], g, 1.0, need_grad_x=i > first)
            if i <= first:
                break
        self.step_count += 1
        return loss

    def _take_snapshot(self):
        params = self.parameters()
        if all(np.isfinite(p).all() for p in params):
            if self._snapshot is None or len(self._snapshot[1]) != len(params):
                self._snapshot = (self.step_count, [p.copy() for p in params])
            else:
                for dst, src in zip(self._snapshot[1], params):
                    np.copyto(dst, src)
                self._snapshot = (self.step_count, self._snapshot[1])
        elif self._snapshot is not None:
            self._diverged(float("nan"), float("nan"))

    def _diverged(self, loss, learning_rate):
        restored = None
        if self._snapshot is not None:
            restored = self._snapshot[0]
            for p, saved in zip(self.parameters(), self._snapshot[1]):
                np.copyto(p, saved)
        raise TrainingDiverged(self.step_count, loss, learning_rate, restored)

    def check_finite(self, learning_rate=float("nan")):
        """Raise ``TrainingDiverged`` (restoring the snapshot) if any parameter is not finite."""
        if not all(np.isfinite(p).all() for p in self.parameters()):
            self._diverged(float("nan"), learning_rate)
        self._take_snapshot()

    def epoch(self, X, Y, batch_size, learning_rate, shuffle=True, rng=None, augment=None):
        """An ``Epoch`` that can be run in pieces: ``ep.run(k)`` trains the next k batches."""
        return Epoch(self, X, Y, batch_size, learning_rate, shuffle, rng, augment)

    def fit_one_epoch(self, X, Y, batch_size, learning_rate, shuffle=True, rng=None, callback=None, augment=None):
        """One pass over (X, Y) in mini-batches; returns the mean batch loss.

        ``callback(epoch)`` is called after every batch (``epoch.batch``, ``epoch.last_loss`` ...);
        ``augment(batch, rng) -> batch`` (e.g. ``webnet.augment.Augment()``) distorts every batch.
        """
        ep = self.epoch(X, Y, batch_size, learning_rate, shuffle, rng, augment)
        ep.run(callback=callback)
        return ep.mean_loss

    # -- state ---------------------------------------------------------------------------------
    def state_dict(self):
        """{"0.W": copy, "0.b": copy, ...}, in the order of ``named_parameters``."""
        return {name: p.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state):
        """Copy ``state`` into the live parameters (every alias stays valid). Strict: a missing or
        unexpected key, a shape or dtype mismatch or a NaN / infinite value raises ``ValueError``
        naming the key, and then nothing has been changed."""
        params = dict(self.named_parameters())
        missing = [k for k in params if k not in state]
        extra = [k for k in state if k not in params]
        for keys, what in ((missing, "missing key"), (extra, "unexpected key")):
            if keys:
                more = f" (and {len(keys) - 1} more)" if len(keys) > 1 else ""
                raise ValueError(f"{what} {keys[0]!r} in state dict{more}")
        for k, p in params.items():
            v = np.asarray(state[k])
            if v.shape != p.shape:
                raise ValueError(f"shape mismatch for {k!r}: model has {p.shape}, state dict has {v.shape}")
            if v.dtype != p.dtype:
                raise ValueError(f"dtype mismatch for {k!r}: model has {p.dtype}, state dict has {v.dtype}")
            if not np.isfinite(v).all():
                raise ValueError(f"{k!r} contains NaN or infinite values")
        for k, p in params.items():
            np.copyto(p, state[k])
        self._snapshot = None

    # -- description -------------------------------------------------------------------------
    def __repr__(self):
        lines = [f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers)]
        return "NeuralNetwork(\n" + "\n".join(lines) + f"\n  loss: {self.loss!r}\n)"


class Epoch:
    """One epoch of SGD that a UI or a progress bar can drive a few batches at a time.

    Each batch is copied out of ``X`` by an index array, so the training set is never permuted
    as a whole. The order is drawn once from ``rng`` (a ``np.random.Generator``, or a seed). With
    ``augment``, a callable ``(batch, rng) -> batch`` of the same shape (``webnet.augment.Augment``),
    every batch is replaced by its distorted copy before the step, drawn from the same ``rng``:
    a seed gives the same epoch, distortions included.
    """

    def __init__(self, net, X, Y, batch_size, learning_rate, shuffle=True, rng=None, augment=None):
        batch_size, learning_rate = int(batch_size), float(learning_rate)
        if batch_size < 1:
            raise ValueError(f"batch size must be at least 1, got {batch_size}")
        if not (learning_rate > 0 and math.isfinite(learning_rate)):
            raise ValueError(f"learning rate must be a positive number, got {learning_rate}")
        if len(X) != len(Y) or len(X) == 0:
            raise ValueError(f"X and Y must be non-empty and the same length, got {len(X)} and {len(Y)}")
        self.net, self.X, self.Y = net, net._cast(X), np.asarray(Y)
        self.batch_size, self.learning_rate = batch_size, learning_rate
        n = len(self.X)
        self.rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        self.augment = augment
        if shuffle:
            self.order = self.rng.permutation(n)
            self._xbuf = np.empty((batch_size,) + self.X.shape[1:], self.X.dtype)
        else:
            self.order = None
        self.n_batches = -(-n // batch_size)
        self.batch = 0  # batches done
        self.seen = 0  # examples done
        self.loss_sum = 0.0
        self.correct = 0  # correct predictions on the batches as they were trained
        self.last_loss = float("nan")

    @property
    def done(self):
        return self.batch >= self.n_batches

    @property
    def accuracy(self):
        """Running training accuracy of this epoch (each batch judged before its update)."""
        return self.correct / self.seen if self.seen else float("nan")

    @property
    def mean_loss(self):
        return self.loss_sum / self.batch if self.batch else float("nan")

    def run(self, k=None, callback=None):
        """Train the next ``k`` batches (all that are left if None); returns how many ran."""
        stop = self.n_batches if k is None else min(self.n_batches, self.batch + int(k))
        ran = 0
        bs, net = self.batch_size, self.net
        while self.batch < stop:
            lo = self.batch * bs
            if self.order is None:
                xb, yb = self.X[lo:lo + bs], self.Y[lo:lo + bs]
            else:
                idx = self.order[lo:lo + bs]
                # into a buffer reused from batch to batch (a step keeps no reference to it);
                # mode="clip" since a permutation is always in range: with out= and the default
                # mode, numpy gathers into a temporary and copies it over, half as fast again
                xb = np.take(self.X, idx, axis=0, out=self._xbuf[:len(idx)], mode="clip")
                yb = self.Y[idx]
            if self.augment is not None:
                xb = self.augment(xb, self.rng)
            with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported, not warned
                self.last_loss = net._step(xb, yb, self.learning_rate)
            self.loss_sum += self.last_loss
            self.correct += net.last_correct
            self.batch += 1
            self.seen += len(xb)
            ran += 1
            if callback is not None:
                callback(self)
        if self.done:
            net.check_finite(self.learning_rate)
        return ran
