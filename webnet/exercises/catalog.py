"""The homework's exercises: for each layer, the class a student writes, the sizes it is checked
with, webnet's own layer it is compared against, a skeleton and a reference solution written the
way the notebook wrote them (plain numpy, loops where the notebook had them). Statements and hints
are texts (webnet/texts: "exercise.<name>.statement", ".hint1", ...), in English and Russian."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..conv import Conv2D, SimpleConv
from ..layers import Flatten, LinearLayer, ReLU, Sigmoid, Softmax, Tanh
from ..losses import CrossEntropy
from ..pool import MaxPool2D

HEADER = "import numpy as np\nfrom webnet import Layer\n\n\n"


@dataclass(frozen=True)
class Exercise:
    name: str  # "linear": the key of its texts and of --exercise
    class_name: str  # the class the student writes: "LinearLayer"
    configs: tuple  # constructor arguments the layer is checked with, each a tuple
    input_shape: Callable  # config -> the input's shape (batch of 3)
    reference: Callable  # (config, rng) -> webnet's own layer (float64)
    params: tuple  # names of the parameters ("W", "b")
    solution: str  # a reference solution (the whole file)
    kind: str = "layer"  # or "loss": forward(y_pred, y_true) -> a number, grad_x(y_pred, y_true)
    hints: int = 2  # texts "exercise.<name>.hint1" ... "hintN"
    args: Callable = lambda config, reference: config  # what the student's class is constructed with

    @property
    def skeleton(self):
        """The solution with every method body but __init__'s replaced by ``...``."""
        return skeleton_of(self.solution)


def skeleton_of(solution):
    out, skipping, indent = [], False, 0
    for line in solution.splitlines():
        stripped = line.lstrip()
        depth = len(line) - len(stripped)
        if skipping and stripped and depth <= indent:
            skipping = False
        if skipping:
            continue
        out.append(line)
        if stripped.startswith("def ") and not stripped.startswith("def __init__"):
            out.append(" " * (depth + 4) + "...  # your code here")
            out.append("")
            skipping, indent = True, depth
    text = "\n".join(out)
    while "\n\n\n\n" in text:
        text = text.replace("\n\n\n\n", "\n\n\n")
    return text.rstrip() + "\n"


LINEAR = HEADER + '''class LinearLayer(Layer):
    """y = x @ W + b.   x (N, D_in) -> y (N, D_out); W (D_in, D_out), b (D_out,)"""

    param_names = ("W", "b")

    def __init__(self, in_features, out_features):
        limit = np.sqrt(6 / (in_features + out_features))
        self.W = np.random.uniform(-limit, limit, (in_features, out_features))
        self.b = np.zeros(out_features)

    def forward(self, x):
        return x @ self.W + self.b

    def grad_x(self, x, grad_out):
        return grad_out @ self.W.T

    def grad_params(self, x, grad_out):
        dW = x.T @ grad_out
        db = grad_out.sum(axis=0)
        return [(self.W, dW), (self.b, db)]
'''

RELU = HEADER + '''class ReLU(Layer):
    """y = max(x, 0), elementwise.   x (N, D) -> y (N, D)"""

    def forward(self, x):
        return np.maximum(x, 0)

    def grad_x(self, x, grad_out):
        return grad_out * (x > 0)
'''

SIGMOID = HEADER + '''class Sigmoid(Layer):
    """y = 1 / (1 + exp(-x)), elementwise.   x (N, D) -> y (N, D)"""

    def forward(self, x):
        return 1 / (1 + np.exp(-x))

    def grad_x(self, x, grad_out):
        s = self.forward(x)
        return grad_out * s * (1 - s)
'''

TANH = HEADER + '''class Tanh(Layer):
    """y = tanh(x), elementwise.   x (N, D) -> y (N, D)"""

    def forward(self, x):
        return np.tanh(x)

    def grad_x(self, x, grad_out):
        t = np.tanh(x)
        return grad_out * (1 - t ** 2)
'''

SOFTMAX = HEADER + '''class Softmax(Layer):
    """Each row to probabilities: y[n] = exp(x[n]) / sum(exp(x[n])).   x (N, C) -> y (N, C)"""

    def forward(self, x):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def grad_x(self, x, grad_out):
        y = self.forward(x)
        dot = (grad_out * y).sum(axis=1, keepdims=True)
        return y * (grad_out - dot)
'''

CROSS_ENTROPY = "import numpy as np\n\n\n" + '''class CrossEntropy:
    """L = -sum(t * log(p + eps)) / N for probabilities p (N, C) and one-hot targets t (N, C)."""

    def __init__(self, eps=1e-8):
        self.eps = eps

    def forward(self, y_pred, y_true):
        n = len(y_pred)
        return -np.sum(y_true * np.log(y_pred + self.eps)) / n

    def grad_x(self, y_pred, y_true):
        n = len(y_pred)
        return -y_true / (y_pred + self.eps) / n
'''

FLATTEN = HEADER + '''class Flatten(Layer):
    """x (N, d1, d2, ...) -> y (N, d1 * d2 * ...)"""

    def forward(self, x):
        return x.reshape(len(x), -1)

    def grad_x(self, x, grad_out):
        return grad_out.reshape(x.shape)
'''

SIMPLE_CONV = HEADER + '''class SimpleConv(Layer):
    """One kernel slid over each image ("valid" cross-correlation), plus a bias.
    x (N, H, W) -> y (N, H - kh + 1, W - kw + 1); K (kh, kw), b a number."""

    param_names = ("K", "b")

    def __init__(self, kernel, bias=0.0):
        self.K = np.array(kernel, dtype=float)
        self.b = np.array(bias, dtype=float)

    def forward(self, x):
        n, h, w = x.shape
        kh, kw = self.K.shape
        y = np.zeros((n, h - kh + 1, w - kw + 1))
        for i in range(h - kh + 1):
            for j in range(w - kw + 1):
                y[:, i, j] = np.sum(x[:, i:i + kh, j:j + kw] * self.K, axis=(1, 2))
        return y + self.b

    def grad_x(self, x, grad_out):
        kh, kw = self.K.shape
        dx = np.zeros_like(x)
        for i in range(grad_out.shape[1]):
            for j in range(grad_out.shape[2]):
                dx[:, i:i + kh, j:j + kw] += grad_out[:, i, j, None, None] * self.K
        return dx

    def grad_params(self, x, grad_out):
        kh, kw = self.K.shape
        dK = np.zeros_like(self.K)
        for i in range(grad_out.shape[1]):
            for j in range(grad_out.shape[2]):
                dK += np.sum(x[:, i:i + kh, j:j + kw] * grad_out[:, i, j, None, None], axis=0)
        db = grad_out.sum()
        return [(self.K, dK), (self.b, db)]
'''

CONV2D = HEADER + '''class Conv2D(Layer):
    """Several kernels over several channels, with a stride (no padding).
    x (N, C, H, W) -> y (N, O, Ho, Wo), Ho = (H - kh) // stride + 1, likewise Wo;
    K (O, C, kh, kw), b (O,)."""

    param_names = ("K", "b")

    def __init__(self, in_channels, out_channels, kernel_size, stride=1):
        limit = np.sqrt(6 / (in_channels * kernel_size * kernel_size))
        self.K = np.random.uniform(-limit, limit, (out_channels, in_channels, kernel_size, kernel_size))
        self.b = np.zeros(out_channels)
        self.stride = stride

    def forward(self, x):
        n, c, h, w = x.shape
        o, _, kh, kw = self.K.shape
        s = self.stride
        ho, wo = (h - kh) // s + 1, (w - kw) // s + 1
        y = np.zeros((n, o, ho, wo))
        for i in range(ho):
            for j in range(wo):
                patch = x[:, :, i * s:i * s + kh, j * s:j * s + kw]  # (N, C, kh, kw)
                y[:, :, i, j] = np.einsum("nchw,ochw->no", patch, self.K)
        return y + self.b[None, :, None, None]

    def grad_x(self, x, grad_out):
        o, _, kh, kw = self.K.shape
        s = self.stride
        dx = np.zeros_like(x)
        for i in range(grad_out.shape[2]):
            for j in range(grad_out.shape[3]):
                dx[:, :, i * s:i * s + kh, j * s:j * s + kw] += np.einsum("no,ochw->nchw", grad_out[:, :, i, j], self.K)
        return dx

    def grad_params(self, x, grad_out):
        o, _, kh, kw = self.K.shape
        s = self.stride
        dK = np.zeros_like(self.K)
        for i in range(grad_out.shape[2]):
            for j in range(grad_out.shape[3]):
                patch = x[:, :, i * s:i * s + kh, j * s:j * s + kw]
                dK += np.einsum("no,nchw->ochw", grad_out[:, :, i, j], patch)
        db = grad_out.sum(axis=(0, 2, 3))
        return [(self.K, dK), (self.b, db)]
'''


MAXPOOL = HEADER + '''class MaxPool2D(Layer):
    """The largest value of each k x k window, windows `stride` apart (no padding).
    x (N, C, H, W) -> y (N, C, Ho, Wo), Ho = (H - k) // stride + 1, likewise Wo.
    On a tie, the first maximum in reading order gets the window's gradient."""

    def __init__(self, kernel_size, stride=None):
        self.k = kernel_size
        self.stride = kernel_size if stride is None else stride

    def forward(self, x):
        n, c, h, w = x.shape
        k, s = self.k, self.stride
        y = np.zeros((n, c, (h - k) // s + 1, (w - k) // s + 1))
        for i in range(y.shape[2]):
            for j in range(y.shape[3]):
                window = x[:, :, i * s:i * s + k, j * s:j * s + k]  # (N, C, k, k)
                y[:, :, i, j] = window.max(axis=(2, 3))
        return y

    def grad_x(self, x, grad_out):
        n, c = x.shape[:2]
        k, s = self.k, self.stride
        dx = np.zeros_like(x)
        for i in range(grad_out.shape[2]):
            for j in range(grad_out.shape[3]):
                window = x[:, :, i * s:i * s + k, j * s:j * s + k].reshape(n, c, k * k)
                first = window.argmax(axis=2)  # (N, C): where each window's maximum is
                mask = np.arange(k * k) == first[:, :, None]  # (N, C, k * k): True there only
                g = grad_out[:, :, i, j, None] * mask
                dx[:, :, i * s:i * s + k, j * s:j * s + k] += g.reshape(n, c, k, k)
        return dx
'''


def _simple_conv(config, rng):
    (kh, kw), = config
    return SimpleConv(rng.standard_normal((kh, kw)), float(rng.standard_normal()))


EXERCISES = {e.name: e for e in (
    Exercise("linear", "LinearLayer", ((5, 3),), lambda c: (3, c[0]),
             lambda c, rng: LinearLayer(*c, rng=rng), ("W", "b"), LINEAR, hints=3),
    # elementwise layers see 60 entries: a wrong threshold or a wrong tensor shows on some of them
    Exercise("relu", "ReLU", ((),), lambda c: (5, 12), lambda c, rng: ReLU(), (), RELU),
    Exercise("sigmoid", "Sigmoid", ((),), lambda c: (5, 12), lambda c, rng: Sigmoid(), (), SIGMOID),
    Exercise("tanh", "Tanh", ((),), lambda c: (5, 12), lambda c, rng: Tanh(), (), TANH),
    Exercise("softmax", "Softmax", ((),), lambda c: (3, 5), lambda c, rng: Softmax(), (), SOFTMAX, hints=3),
    Exercise("cross_entropy", "CrossEntropy", ((),), lambda c: (3, 5), lambda c, rng: CrossEntropy(), (),
             CROSS_ENTROPY, kind="loss"),
    Exercise("flatten", "Flatten", ((),), lambda c: (3, 2, 3, 4), lambda c, rng: Flatten(), (), FLATTEN),
    Exercise("simple_conv", "SimpleConv", (((3, 2),),), lambda c: (3, 6, 5), _simple_conv, ("K", "b"),
             SIMPLE_CONV, hints=3, args=lambda c, ref: (ref.K.copy(), float(ref.b))),
    Exercise("conv2d", "Conv2D", ((2, 3, 3, 1), (2, 3, 3, 2)), lambda c: (3, c[0], 7, 6),
             lambda c, rng: Conv2D(*c, rng=rng), ("K", "b"), CONV2D, hints=3),
    # windows side by side (the last row left over), then overlapping windows (3 x 3, stride 2)
    Exercise("maxpool", "MaxPool2D", ((2,), (3, 2)), lambda c: (3, 2, 7, 6), lambda c, rng: MaxPool2D(*c), (),
             MAXPOOL, hints=3),
)}


def random_targets(shape, rng):
    """One-hot targets (N, C) for a loss exercise."""
    t = np.zeros(shape)
    t[np.arange(shape[0]), rng.integers(0, shape[1], shape[0])] = 1.0
    return t


def random_probabilities(shape, rng):
    """Rows of probabilities, none near 0 (where log has no useful derivative)."""
    e = np.exp(rng.uniform(-1, 1, shape))
    return e / e.sum(axis=1, keepdims=True)
