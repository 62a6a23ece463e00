"""A student's layer in a real network: ``with_student_layer`` puts instances of the student's
class where the network has webnet's own layer of that kind (the same parameter values, so the
two can be compared run for run), and the network trains with the student's code."""
from __future__ import annotations

import copy

import numpy as np

from ..conv import Conv2D
from ..layers import Flatten, Layer, LinearLayer, ReLU, Softmax
from ..losses import CrossEntropy, one_hot
from ..network import NeuralNetwork
from ..pool import MaxPool2D
from .catalog import EXERCISES
from .sandbox import CodeProblem

#: which of webnet's layers each exercise's class takes the place of (activations replace ReLU)
REPLACES = {"linear": LinearLayer, "relu": ReLU, "sigmoid": ReLU, "tanh": ReLU, "softmax": Softmax,
            "flatten": Flatten, "conv2d": Conv2D, "maxpool": MaxPool2D, "cross_entropy": CrossEntropy}


class StudentLayer(Layer):
    """A student's layer inside a webnet network: forward and the gradients are the student's;
    saving it writes the webnet layer it replaced (``spec``), so the file loads anywhere."""

    def __init__(self, student, replaced, params):
        self.student, self.replaced, self.param_names = student, replaced, tuple(params)

    def __getattr__(self, name):  # the parameters are the student's arrays: layer.W is student.W
        if name in self.__dict__.get("param_names", ()):
            return getattr(self.__dict__["student"], name)
        raise AttributeError(name)

    def named_params(self):
        return [(name, getattr(self.student, name)) for name in self.param_names]

    def forward(self, x):
        return self.student.forward(x)

    def grad_x(self, x, grad_out):
        return self.student.grad_x(x, grad_out)

    def grad_params(self, x, grad_out):
        return self.student.grad_params(x, grad_out) if self.param_names else []

    def astype(self, dtype):
        student = copy.deepcopy(self.student)
        for name in self.param_names:
            setattr(student, name, np.array(getattr(student, name), dtype=dtype))
        return StudentLayer(student, self.replaced.astype(dtype), self.param_names)

    def spec(self):
        return self.replaced.spec()

    def __repr__(self):
        return f"{type(self.student).__name__} (yours, in place of {self.replaced!r})"


class StudentLoss:
    """A student's cross-entropy as a network's loss: targets given as labels become one-hot (the
    exercise's form) before they reach the student's code; saved as webnet's CrossEntropy."""

    reduction = "mean"

    def __init__(self, student, replaced):
        self.student, self.replaced = student, replaced

    def _targets(self, y_pred, y_true):
        y_true = np.asarray(y_true)
        return one_hot(y_true, np.shape(y_pred)[-1]).astype(y_pred.dtype) if y_true.ndim == 1 else y_true

    def forward(self, y_pred, y_true):
        return float(self.student.forward(y_pred, self._targets(y_pred, y_true)))

    __call__ = forward

    def grad_x(self, y_pred, y_true):
        return self.student.grad_x(y_pred, self._targets(y_pred, y_true))

    def spec(self):
        return self.replaced.spec()

    def __repr__(self):
        return f"{type(self.student).__name__} (yours, in place of {self.replaced!r})"


def _instance(cls, exercise, layer):
    """The student's class built like webnet's ``layer``, holding copies of its parameters."""
    if exercise.name == "linear":
        args = (layer.in_features, layer.out_features)
    elif exercise.name == "conv2d":
        if layer.padding or layer.kernel_size[0] != layer.kernel_size[1]:
            raise CodeProblem("problem.cannot_replace", name=exercise.class_name, layer=repr(layer))
        args = (layer.in_channels, layer.out_channels, layer.kernel_size[0], layer.stride)
    elif exercise.name == "maxpool":
        if len(set(layer.kernel_size)) > 1 or len(set(layer.stride)) > 1:
            raise CodeProblem("problem.cannot_replace", name=exercise.class_name, layer=repr(layer))
        args = (layer.kernel_size[0], layer.stride[0])
    else:
        args = ()
    try:
        student = cls(*args)
    except Exception as e:
        raise CodeProblem("problem.import_error", error=f"{type(e).__name__}: {e}", where="") from None
    for name in exercise.params:
        setattr(student, name, getattr(layer, name).copy())
    return StudentLayer(student, layer, exercise.params)


def with_student_layer(net, exercise, cls):
    """A new network: ``net``'s layers (shared) with the student's ``cls`` in place of every layer
    of the kind ``exercise`` replaces (or as the loss). ``CodeProblem`` if there is none."""
    exercise = EXERCISES[exercise] if isinstance(exercise, str) else exercise
    target = REPLACES.get(exercise.name)
    if target is CrossEntropy:
        if not isinstance(net.layers[-1], Softmax) or type(net.loss) is not CrossEntropy:
            raise CodeProblem("problem.not_in_network", name=exercise.class_name)
        try:
            student = cls()
        except Exception as e:
            raise CodeProblem("problem.import_error", error=f"{type(e).__name__}: {e}", where="") from None
        return NeuralNetwork(net.layers, StudentLoss(student, net.loss))
    if target is None or not any(type(layer) is target for layer in net.layers):
        raise CodeProblem("problem.not_in_network", name=exercise.class_name)
    layers = [_instance(cls, exercise, layer) if type(layer) is target else layer for layer in net.layers]
    return NeuralNetwork(layers, net.loss)
