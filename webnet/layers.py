"""Layers: the notebook's API (forward / grad_x / grad_params) plus a fused SGD step.

Every layer maps a batch ``x`` to ``y = forward(x)``. Backward methods take ``x`` explicitly, so a
finite-difference check may call ``forward`` freely between them:

- ``grad_x(x, grad_out)`` -> dL/dx, same shape as ``x``;
- ``grad_params(x, grad_out)`` -> ``[(param, grad), ...]`` where ``param`` is the live array.

Training runs cs231n-style: ``y, cache = forward_train(x)``, then
``sgd_step(cache, grad_out, lr, need_grad_x)`` -> dL/dx (or None), which updates the parameters in
place (``p -= lr * g``), so every alias of a parameter stays valid. The cache is handed from the
one call to the other by the caller; a layer remembers nothing between calls, and the step reads
the parameters as they are when it runs. ``grad_out`` there is the network's own temporary: a
layer may overwrite it.

Dtype policy: a layer keeps its parameters' dtype. Layers built without explicit arrays default to
float64 (the notebook's behaviour); webnet's own entry points ask for float32 via ``dtype=``.
"""
from __future__ import annotations

import numpy as np

from . import accel


class Layer:
    """Base class. Subclasses without parameters only need ``forward`` and ``grad_x``."""

    #: names of parameter attributes, in ``state_dict`` order
    param_names: tuple[str, ...] = ()

    def forward(self, x):
        raise NotImplementedError

    def __call__(self, x):
        return self.forward(x)

    def grad_x(self, x, grad_out):
        raise NotImplementedError

    def grad_params(self, x, grad_out):
        return []

    def num_params(self):
        return int(sum(p.size for _, p in self.named_params()))

    def named_params(self):
        """``[(name, live array), ...]`` for this layer's parameters."""
        return [(name, getattr(self, name)) for name in self.param_names]

    def forward_train(self, x):
        """``forward`` for a training step: (y, cache), the cache being what ``sgd_step`` needs
        (here ``(x, y)``)."""
        y = self.forward(x)
        return y, (x, y)

    def sgd_step(self, cache, grad_out, lr, need_grad_x=True):
        """Backward from ``forward_train``'s cache and an in-place SGD update; returns dL/dx (or None).

        The reference every fused ``sgd_step`` is tested against: ``grad_x`` and ``grad_params``
        on the cached input, then ``p -= lr * g``."""
        x, _ = cache
        gx = self.grad_x(x, grad_out) if need_grad_x else None
        for p, g in self.grad_params(x, grad_out):
            p -= lr * g
        return gx

    def spec(self):
        """JSON-able description from which ``architecture.build`` rebuilds this layer's shape."""
        return {"type": type(self).__name__}

    def astype(self, dtype):
        """A copy with parameters cast to ``dtype`` (a layer without parameters is shared)."""
        if not self.param_names:
            return self
        clone = object.__new__(type(self))
        clone.__dict__.update({k: v for k, v in self.__dict__.items() if not k.startswith("_")})
        for name, p in self.named_params():
            setattr(clone, name, np.array(p, dtype=dtype))
        return clone

    def __repr__(self):
        return f"{type(self).__name__}()"


def _as_batch(x):
    x = np.asarray(x)
    return x[None, :] if x.ndim == 1 else x


def used_columns(x):
    """(N, D) -> (D,) nonzero where column j is nonzero in some row: ``x.any(axis=0)``, but for a
    C-contiguous float batch by OR-ing the bit patterns, twice as fast (a -0.0 counts as used,
    which only costs a row of work)."""
    if x.flags.c_contiguous and x.dtype.kind == "f":
        return np.bitwise_or.reduce(x.view(f"u{x.itemsize}"), axis=0)
    return x.any(axis=0)


class LinearLayer(Layer):
    """y = x @ W + b.   x (N, D_in) -> y (N, D_out); W (D_in, D_out), b (D_out,).

    A 1-D ``x`` is a batch of one. Default init is Xavier-uniform, limit sqrt(6 / (in + out)).
    """

    param_names = ("W", "b")

    def __init__(self, in_features, out_features, W=None, b=None, rng=None, dtype=np.float64):
        self.in_features, self.out_features = int(in_features), int(out_features)
        if self.in_features < 1 or self.out_features < 1:
            raise ValueError(f"LinearLayer needs positive sizes, got ({in_features}, {out_features})")
        if W is None:
            rng = np.random.default_rng() if rng is None else rng
            limit = np.sqrt(6.0 / (self.in_features + self.out_features))
            W = rng.uniform(-limit, limit, size=(self.in_features, self.out_features)).astype(dtype)
        W = np.asarray(W)
        if W.shape != (self.in_features, self.out_features):
            raise ValueError(f"W: expected shape {(self.in_features, self.out_features)}, got {W.shape}")
        self.W = W
        self.b = np.zeros(self.out_features, dtype=W.dtype) if b is None else np.asarray(b)
        if self.b.shape != (self.out_features,):
            raise ValueError(f"b: expected shape ({self.out_features},), got {self.b.shape}")

    #: skip input features that are 0 for the whole batch when fewer than this fraction are used
    sparse_below = 0.75

    def _active(self, x):
        """Indices of the input features that are nonzero somewhere in the batch, or None if there
        are too many for skipping the rest to pay. On MNIST about a third of the pixels are blank
        in every image of a batch of 64: their rows of W take no part in x @ W or in dW, so both
        products shrink by that third. The result is the same up to float rounding."""
        if x.ndim != 2 or x.shape[0] > 256 or x.shape[1] < 256:  # small products: not worth a scan
            return None
        active = used_columns(x).nonzero()[0]
        return active if len(active) < self.sparse_below * x.shape[1] else None

    def _forward(self, x):
        """(x as a batch, y, active, x[:, active]); active is None on the dense path."""
        x = _as_batch(x)
        if x.shape[-1] != self.in_features:
            raise ValueError(f"{self!r}: expected (N, {self.in_features}), got {x.shape}")
        active = self._active(x)
        if active is None:
            xa, y = None, accel.matmul(x, self.W)
        else:
            xa = x[:, active]  # (N, A)
            y = accel.matmul(xa, self.W.take(active, axis=0))  # (N, A) @ (A, D_out); take: faster than W[active]
        y += self.b  # in place: one pass less than x @ W + b
        return x, y, active, xa

    def forward(self, x):
        return self._forward(x)[1]

    def forward_train(self, x):
        """(y, cache): cache = (x, active, x[:, active]) from the batch alone, never from W."""
        x, y, active, xa = self._forward(x)
        return y, (x, active, xa)

    def grad_x(self, x, grad_out):
        return accel.matmul(np.asarray(grad_out), self.W.T)

    def grad_params(self, x, grad_out):
        x, grad_out = _as_batch(x), _as_batch(grad_out)
        return [(self.W, accel.matmul(x.T, grad_out)), (self.b, grad_out.sum(axis=0))]

    def sgd_step(self, cache, grad_out, lr, need_grad_x=True):
        """Fused backward + update. On the sparse path only the active rows of W change (the
        others have a zero gradient): they are read from W as it is now, updated, written back."""
        x, active, xa = cache
        gx = accel.matmul(grad_out, self.W.T) if need_grad_x else None  # before W changes
        g = grad_out if lr == 1 else grad_out * np.asarray(lr, dtype=grad_out.dtype)  # the small array
        if active is None:
            self._subtract(self.W, x, g)  # W -= x.T @ g, (D_in, D_out)
        else:
            Wa = self.W.take(active, axis=0)  # (A, D_out): W's active rows as they are now
            self._subtract(Wa, xa, g)
            self.W[active] = Wa  # rows of inputs that were 0 in the whole batch have a zero gradient
        self.b -= g.sum(axis=0)
        return gx

    def _subtract(self, W, x, g):
        """W -= x.T @ g in place: with the kernel, added as it is made; else through a scratch buffer."""
        if accel.enabled():
            accel.matmul_add(W, x.T, g, alpha=-1)
        else:
            W -= accel.matmul(x.T, g, out=self._scratch(len(W), x, g))

    def _scratch(self, rows, a, b):
        """A reused (rows, D_out) buffer for ``a.T @ b``, which overwrites all of it: no
        (D_in, D_out) allocation per step, and nothing in it outlives the step that fills it."""
        dtype = np.result_type(a, b)
        buf = getattr(self, "_dW", None)
        if buf is None or buf.shape != self.W.shape or buf.dtype != dtype:
            buf = self._dW = np.empty(self.W.shape, dtype)
        return buf[:rows]

    def spec(self):
        return {"type": "LinearLayer", "in_features": self.in_features, "out_features": self.out_features}

    def __repr__(self):
        return f"LinearLayer(in={self.in_features}, out={self.out_features})"


class ReLU(Layer):
    """y = max(x, 0), elementwise."""

    def forward(self, x):
        return np.maximum(x, 0)

    def grad_x(self, x, grad_out):
        return grad_out * (np.asarray(x) > 0)

    def sgd_step(self, cache, grad_out, lr, need_grad_x=True):
        _, y = cache
        # grad_out is the network's own temporary: masked in place
        return np.multiply(grad_out, y > 0, out=grad_out) if need_grad_x else None


class Sigmoid(Layer):
    """y = 1 / (1 + exp(-x)), computed without overflow for large |x|."""

    def forward(self, x):
        x = np.asarray(x)
        e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
        return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)

    def grad_x(self, x, grad_out):
        y = self.forward(x)
        return grad_out * y * (1 - y)

    def sgd_step(self, cache, grad_out, lr, need_grad_x=True):
        _, y = cache
        return grad_out * y * (1 - y) if need_grad_x else None


class Tanh(Layer):
    """y = tanh(x)."""

    def forward(self, x):
        return np.tanh(x)

    def grad_x(self, x, grad_out):
        y = np.tanh(x)
        return grad_out * (1 - y * y)

    def sgd_step(self, cache, grad_out, lr, need_grad_x=True):
        _, y = cache
        return grad_out * (1 - y * y) if need_grad_x else None


class Softmax(Layer):
    """Row-wise softmax, max-shifted.   x (N, C) -> y (N, C), rows sum to 1."""

    def forward(self, x):
        x = _as_batch(x)
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def grad_x(self, x, grad_out):
        y = self.forward(x)
        return self._backward(y, _as_batch(grad_out))

    @staticmethod
    def _backward(y, grad_out):
        # Jacobian-vector product without the (N, C, C) Jacobian: y * (g - <g, y>)
        return y * (grad_out - (grad_out * y).sum(axis=-1, keepdims=True))

    def sgd_step(self, cache, grad_out, lr, need_grad_x=True):
        _, y = cache
        return self._backward(y, grad_out) if need_grad_x else None


class Reshape(Layer):
    """x (N, *in) -> y (N, *shape). ``Reshape((1, 28, 28))`` turns flat MNIST rows into images."""

    def __init__(self, shape):
        self.shape = tuple(int(s) for s in shape)

    def forward(self, x):
        x = np.asarray(x)
        return x.reshape((x.shape[0],) + self.shape)

    def grad_x(self, x, grad_out):
        return np.asarray(grad_out).reshape(np.shape(x))

    def sgd_step(self, cache, grad_out, lr, need_grad_x=True):
        x, _ = cache
        return grad_out.reshape(np.shape(x)) if need_grad_x else None

    def spec(self):
        return {"type": "Reshape", "shape": list(self.shape)}

    def __repr__(self):
        return f"Reshape{self.shape}"


class Flatten(Reshape):
    """x (N, d1, d2, ...) -> y (N, d1 * d2 * ...)."""

    def __init__(self):
        super().__init__((-1,))

    def spec(self):
        return {"type": "Flatten"}

    def __repr__(self):
        return "Flatten()"
