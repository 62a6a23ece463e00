"""The baseline: the seed homework notebook's network, kept as the notebook wrote it.

The notebook itself is not part of this repository; this is the faithful copy the benchmarks time
webnet against, written from the API the engine issue describes: float64 everywhere, layers with
forward / grad_x / grad_params taking x explicitly (so backward recomputes what it needs), a
Softmax whose grad_x builds each sample's Jacobian, CrossEntropy on probabilities with eps, and
SGD over the (param, grad) pairs. SimpleConv uses the notebook's Python loops over pixels.
Do not optimise this file: it is the "before" in every side-by-side number.
"""
import numpy as np


class Layer:
    def forward(self, x):
        raise NotImplementedError

    def grad_x(self, x, grad_out):
        raise NotImplementedError

    def grad_params(self, x, grad_out):
        return []

    def num_params(self):
        return 0


class LinearLayer(Layer):
    def __init__(self, in_features, out_features, W=None, b=None, rng=None):
        rng = np.random.default_rng() if rng is None else rng
        limit = np.sqrt(6.0 / (in_features + out_features))
        self.W = rng.uniform(-limit, limit, (in_features, out_features)) if W is None else W
        self.b = np.zeros(out_features) if b is None else b

    def forward(self, x):
        if x.ndim == 1:
            x = x[None, :]
        return x @ self.W + self.b

    def grad_x(self, x, grad_out):
        return grad_out @ self.W.T

    def grad_params(self, x, grad_out):
        if x.ndim == 1:
            x = x[None, :]
        return [(self.W, x.T @ grad_out), (self.b, grad_out.sum(axis=0))]

    def num_params(self):
        return self.W.size + self.b.size


class ReLU(Layer):
    def forward(self, x):
        return np.maximum(0, x)

    def grad_x(self, x, grad_out):
        return grad_out * (x > 0)


class Sigmoid(Layer):
    def forward(self, x):
        return np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))

    def grad_x(self, x, grad_out):
        s = self.forward(x)
        return grad_out * s * (1 - s)


class Softmax(Layer):
    def forward(self, x):
        e = np.exp(x - np.max(x, axis=1, keepdims=True))
        return e / np.sum(e, axis=1, keepdims=True)

    def grad_x(self, x, grad_out):
        s = self.forward(x)
        # per-sample Jacobian diag(s) - s s^T, (N, C, C)
        jac = np.einsum("ij,jk->ijk", s, np.eye(s.shape[1])) - np.einsum("ij,ik->ijk", s, s)
        return np.einsum("ij,ijk->ik", grad_out, jac)


class CrossEntropy:
    def __init__(self, eps=1e-8, reduction="mean"):
        self.eps = eps
        self.reduction = reduction

    def forward(self, y_pred, y_true):
        loss = -np.sum(y_true * np.log(y_pred + self.eps))
        return loss / y_pred.shape[0] if self.reduction == "mean" else loss

    def __call__(self, y_pred, y_true):
        return self.forward(y_pred, y_true)

    def grad_x(self, y_pred, y_true):
        g = -y_true / (y_pred + self.eps)
        return g / y_pred.shape[0] if self.reduction == "mean" else g


class SimpleConv(Layer):
    def __init__(self, kernel, bias=0.0):
        self.K = np.array(kernel, dtype=float)
        self.b = bias

    def forward(self, x):
        kh, kw = self.K.shape
        n, h, w = x.shape
        out = np.zeros((n, h - kh + 1, w - kw + 1))
        for i in range(n):
            for r in range(h - kh + 1):
                for c in range(w - kw + 1):
                    out[i, r, c] = np.sum(x[i, r:r + kh, c:c + kw] * self.K) + self.b
        return out

    def grad_x(self, x, grad_out):
        kh, kw = self.K.shape
        gx = np.zeros_like(x)
        for i in range(grad_out.shape[0]):
            for r in range(grad_out.shape[1]):
                for c in range(grad_out.shape[2]):
                    gx[i, r:r + kh, c:c + kw] += grad_out[i, r, c] * self.K
        return gx

    def grad_params(self, x, grad_out):
        kh, kw = self.K.shape
        gK = np.zeros_like(self.K)
        for i in range(grad_out.shape[0]):
            for r in range(grad_out.shape[1]):
                for c in range(grad_out.shape[2]):
                    gK += grad_out[i, r, c] * x[i, r:r + kh, c:c + kw]
        return [(self.K, gK), (self.b, np.sum(grad_out))]


def one_hot(y, num_classes):
    out = np.zeros((len(y), num_classes))
    out[np.arange(len(y)), y] = 1
    return out


class NeuralNetwork:
    def __init__(self, layers, loss):
        self.layers = layers
        self.loss = loss

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def __call__(self, x):
        return self.forward(x)

    def num_params(self):
        return sum(layer.num_params() for layer in self.layers)

    def grad_x(self, x, y_true):
        inputs = []
        for layer in self.layers:
            inputs.append(x)
            x = layer.forward(x)
        g = self.loss.grad_x(x, y_true)
        for layer, inp in zip(reversed(self.layers), reversed(inputs)):
            g = layer.grad_x(inp, g)
        return g

    def train_one_step(self, X_batch, Y_batch, learning_rate):
        inputs = []
        x = X_batch
        for layer in self.layers:
            inputs.append(x)
            x = layer.forward(x)
        loss = self.loss(x, Y_batch)
        g = self.loss.grad_x(x, Y_batch)
        updates = []
        for layer, inp in zip(reversed(self.layers), reversed(inputs)):
            updates.extend(layer.grad_params(inp, g))
            g = layer.grad_x(inp, g)
        for p, dp in updates:
            p -= learning_rate * dp
        return loss

    def fit_one_epoch(self, X, Y, batch_size, learning_rate, shuffle=True, rng=None):
        rng = np.random.default_rng() if rng is None else rng
        idx = rng.permutation(len(X)) if shuffle else np.arange(len(X))
        losses = []
        for start in range(0, len(X), batch_size):
            b = idx[start:start + batch_size]
            losses.append(self.train_one_step(X[b], Y[b], learning_rate))
        return float(np.mean(losses))
