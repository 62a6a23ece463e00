"""The gallery: realistic broken implementations, each the reference solution with one edit
(the kinds of mistake students make), named and explained in webnet/texts ("bug.<name>.title",
"bug.<name>.why"). A teacher loads one, the class predicts what the check will say, then checks.
The test suite checks that the checker flags every one of them, on many seeds."""
from __future__ import annotations

from dataclasses import dataclass

from .catalog import EXERCISES


@dataclass(frozen=True)
class Bug:
    name: str
    exercise: str
    old: str  # text of the reference solution ...
    new: str  # ... replaced by this (it must occur exactly once)

    @property
    def source(self):
        solution = EXERCISES[self.exercise].solution
        if solution.count(self.old) != 1:
            raise ValueError(f"bug {self.name}: {self.old!r} occurs {solution.count(self.old)} times in the solution")
        return solution.replace(self.old, self.new)


BUGS = {b.name: b for b in (
    # LinearLayer
    Bug("linear_grad_x_no_transpose", "linear", "return grad_out @ self.W.T", "return grad_out @ self.W"),
    Bug("linear_dW_no_transpose", "linear", "dW = x.T @ grad_out", "dW = grad_out.T @ x"),
    Bug("linear_db_not_summed", "linear", "db = grad_out.sum(axis=0)", "db = grad_out"),
    Bug("linear_db_mean", "linear", "db = grad_out.sum(axis=0)", "db = grad_out.mean(axis=0)"),
    Bug("linear_dW_divided", "linear", "dW = x.T @ grad_out", "dW = x.T @ grad_out / len(x)"),
    Bug("linear_grad_x_sign", "linear", "return grad_out @ self.W.T", "return -grad_out @ self.W.T"),
    Bug("linear_forward_no_bias", "linear", "return x @ self.W + self.b", "return x @ self.W"),
    Bug("linear_returns_copies", "linear", "return [(self.W, dW), (self.b, db)]",
        "return [(self.W.copy(), dW), (self.b.copy(), db)]"),
    # ReLU
    Bug("relu_threshold", "relu", "return grad_out * (x > 0)", "return grad_out * (x > 0.5)"),
    Bug("relu_wrong_tensor", "relu", "return grad_out * (x > 0)", "return grad_out * (grad_out > 0)"),
    Bug("relu_mask_only", "relu", "return grad_out * (x > 0)", "return (x > 0) * 1.0"),
    Bug("relu_in_place", "relu", "return np.maximum(x, 0)", "x[x < 0] = 0\n        return x"),
    Bug("relu_boolean", "relu", "return grad_out * (x > 0)", "return x > 0"),
    # Sigmoid
    Bug("sigmoid_no_grad_out", "sigmoid", "return grad_out * s * (1 - s)", "return s * (1 - s)"),
    Bug("sigmoid_wrong_tensor", "sigmoid", "return grad_out * s * (1 - s)", "return grad_out * x * (1 - x)"),
    # Tanh
    Bug("tanh_wrong_tensor", "tanh", "return grad_out * (1 - t ** 2)", "return grad_out * (1 - x ** 2)"),
    Bug("tanh_no_square", "tanh", "return grad_out * (1 - t ** 2)", "return grad_out * (1 - t)"),
    # Softmax
    Bug("softmax_diagonal_only", "softmax", "return y * (grad_out - dot)", "return grad_out * y * (1 - y)"),
    Bug("softmax_wrong_axis_sum", "softmax", "dot = (grad_out * y).sum(axis=1, keepdims=True)",
        "dot = (grad_out * y).sum(axis=0, keepdims=True)"),
    Bug("softmax_forward_wrong_axis", "softmax", "return e / e.sum(axis=1, keepdims=True)",
        "return e / e.sum(axis=0, keepdims=True)"),
    # CrossEntropy
    Bug("ce_sign", "cross_entropy", "return -y_true / (y_pred + self.eps) / n",
        "return y_true / (y_pred + self.eps) / n"),
    Bug("ce_not_averaged", "cross_entropy", "return -y_true / (y_pred + self.eps) / n",
        "return -y_true / (y_pred + self.eps)"),
    Bug("ce_fused_gradient", "cross_entropy", "return -y_true / (y_pred + self.eps) / n",
        "return (y_pred - y_true) / n"),
    Bug("ce_mean_over_classes", "cross_entropy", "return -np.sum(y_true * np.log(y_pred + self.eps)) / n",
        "return -np.mean(y_true * np.log(y_pred + self.eps))"),
    # Flatten
    Bug("flatten_not_reshaped", "flatten", "return grad_out.reshape(x.shape)", "return grad_out"),
    Bug("flatten_batch_too", "flatten", "return x.reshape(len(x), -1)", "return x.reshape(-1)"),
    # SimpleConv
    Bug("conv_off_by_one", "simple_conv", "y = np.zeros((n, h - kh + 1, w - kw + 1))\n"
        "        for i in range(h - kh + 1):\n            for j in range(w - kw + 1):",
        "y = np.zeros((n, h - kh, w - kw))\n        for i in range(h - kh):\n            for j in range(w - kw):"),
    Bug("conv_grad_x_border", "simple_conv",
        "dx[:, i:i + kh, j:j + kw] += grad_out[:, i, j, None, None] * self.K",
        "if 0 < i < grad_out.shape[1] - 1 and 0 < j < grad_out.shape[2] - 1:\n"
        "                    dx[:, i:i + kh, j:j + kw] += grad_out[:, i, j, None, None] * self.K"),
    Bug("conv_flipped_kernel", "simple_conv", "y[:, i, j] = np.sum(x[:, i:i + kh, j:j + kw] * self.K, axis=(1, 2))",
        "y[:, i, j] = np.sum(x[:, i:i + kh, j:j + kw] * self.K[::-1, ::-1], axis=(1, 2))"),
    Bug("conv_db_mean", "simple_conv", "db = grad_out.sum()", "db = grad_out.mean()"),
    # Conv2D
    Bug("conv2d_first_sample_only", "conv2d", 'dK += np.einsum("no,nchw->ochw", grad_out[:, :, i, j], patch)',
        'dK += np.einsum("o,chw->ochw", grad_out[0, :, i, j], patch[0])'),
    Bug("conv2d_grad_x_ignores_stride", "conv2d",
        'dx[:, :, i * s:i * s + kh, j * s:j * s + kw] += np.einsum("no,ochw->nchw", grad_out[:, :, i, j], self.K)',
        'dx[:, :, i:i + kh, j:j + kw] += np.einsum("no,ochw->nchw", grad_out[:, :, i, j], self.K)'),
    # MaxPool2D
    Bug("maxpool_every_entry", "maxpool", "g = grad_out[:, :, i, j, None] * mask",
        "g = grad_out[:, :, i, j, None] * np.ones(k * k)"),
    Bug("maxpool_assign", "maxpool", "dx[:, :, i * s:i * s + k, j * s:j * s + k] += g.reshape(n, c, k, k)",
        "dx[:, :, i * s:i * s + k, j * s:j * s + k] = g.reshape(n, c, k, k)"),
    Bug("maxpool_grad_ignores_stride", "maxpool", "dx[:, :, i * s:i * s + k, j * s:j * s + k] += g.reshape(n, c, k, k)",
        "dx[:, :, i:i + k, j:j + k] += g.reshape(n, c, k, k)"),
    Bug("maxpool_argmax_transposed", "maxpool",
        "window = x[:, :, i * s:i * s + k, j * s:j * s + k].reshape(n, c, k * k)",
        "window = x[:, :, i * s:i * s + k, j * s:j * s + k].transpose(0, 1, 3, 2).reshape(n, c, k * k)"),
)}

#: the gallery's selection, one or two per exercise, in the order the page lists them
GALLERY = ("linear_grad_x_no_transpose", "linear_db_not_summed", "linear_db_mean", "relu_threshold",
           "relu_in_place", "sigmoid_wrong_tensor", "tanh_no_square", "softmax_diagonal_only", "ce_fused_gradient",
           "flatten_not_reshaped", "conv_grad_x_border", "conv2d_first_sample_only", "maxpool_every_entry",
           "maxpool_assign")
