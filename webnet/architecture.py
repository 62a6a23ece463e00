"""A network's architecture as JSON-able data, and back: ``describe(net)``, ``check(arch)``,
``build(arch)``.

``check`` reads a description from outside (a file, an upload) strictly, before anything is
allocated: only known keys, whole-number sizes within the limits below, a chain of shapes that
fits from the first layer's input to a Softmax at the end, and the number of parameters.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .conv import Conv2D, SimpleConv
from .layers import Flatten, LinearLayer, ReLU, Reshape, Sigmoid, Softmax, Tanh
from .losses import CrossEntropy
from .network import NeuralNetwork
from .pool import AvgPool2D, MaxPool2D

FORMAT = "webnet-model"
VERSION = 1

# Limits, generous for anything trained on digits (784-128-10 has 101,770 parameters in 4 layers)
MAX_LAYERS = 64
MAX_PARAMETERS = 50_000_000  # 200 MB in float32, 400 MB in float64
MAX_UNITS = 65_536  # features of a LinearLayer, channels of a convolution, a Reshape dimension
MAX_KERNEL = 64  # kernel side, stride and padding of a convolution or a pooling
MAX_VALUES_PER_EXAMPLE = 1_000_000  # the output of any layer, for one example
DTYPES = ("float32", "float64")

# layer type -> (class, the spec's keys besides "type")
LAYERS = {
    "LinearLayer": (LinearLayer, ("in_features", "out_features")),
    "Conv2D": (Conv2D, ("in_channels", "out_channels", "kernel_size", "stride", "padding")),
    "SimpleConv": (SimpleConv, ("kernel_shape",)),
    "MaxPool2D": (MaxPool2D, ("kernel_size", "stride")),
    "AvgPool2D": (AvgPool2D, ("kernel_size", "stride")),
    "Reshape": (Reshape, ("shape",)),
    "Flatten": (Flatten, ()),
    "ReLU": (ReLU, ()),
    "Sigmoid": (Sigmoid, ()),
    "Tanh": (Tanh, ()),
    "Softmax": (Softmax, ()),
}
TOP_KEYS = ("format", "version", "dtype", "layers", "loss")
LOSS_KEYS = ("type", "eps", "reduction")


class ArchitectureError(ValueError):
    """An architecture description that webnet cannot or will not build; the message says why."""


@dataclass
class Plan:
    """What ``check`` found: shapes are per example (without the batch dimension)."""

    input_shape: tuple  # (D,): webnet networks take flat rows
    output_shape: tuple
    shapes: list  # the output shape of each layer
    params: dict  # {"0.W": shape, ...} in the network's order
    num_params: int


def _shown(value, limit=40):
    """``value`` for a one-line message: a string quoted (its newlines escaped), all cut to ``limit``."""
    return (repr(value) if isinstance(value, str) else str(value))[:limit]


def describe(net):
    """The JSON-able architecture of ``net`` (without its weights)."""
    return {"format": FORMAT, "version": VERSION, "dtype": str(net.dtype),
            "layers": [layer.spec() for layer in net.layers], "loss": net.loss.spec()}


def _keys(obj, required, optional=(), what="the description"):
    if not isinstance(obj, dict):
        raise ArchitectureError(f"{what} must be a JSON object, got {type(obj).__name__}")
    unknown = sorted(set(obj) - set(required) - set(optional))
    if unknown:
        raise ArchitectureError(f"{what} has an unknown key {unknown[0]!r}")
    missing = [k for k in required if k not in obj]
    if missing:
        raise ArchitectureError(f"{what} lacks the key {missing[0]!r}")


def _int(value, what, lo, hi):
    if type(value) is not int or not lo <= value <= hi:
        raise ArchitectureError(f"{what} must be a whole number from {lo} to {hi:,}, got {_shown(value)}")
    return value


def _ints(value, what, lengths, lo, hi):
    if not isinstance(value, list) or len(value) not in lengths:
        raise ArchitectureError(f"{what} must be a list of {' or '.join(map(str, lengths))} whole numbers, "
                                f"got {_shown(value)}")
    return tuple(_int(v, what, lo, hi) for v in value)


def _layer(i, spec, shape):
    """(output shape, {param name: shape}) of layer ``i`` on an input of ``shape`` (None: the
    network's input, fixed by this layer)."""
    if not isinstance(spec, dict):
        raise ArchitectureError(f"layer {i} must be a JSON object, got {type(spec).__name__}")
    kind = spec.get("type")
    if not isinstance(kind, str) or kind not in LAYERS:
        raise ArchitectureError(f"layer {i}: unknown layer type {str(kind)[:40]!r}")
    what = f"layer {i} ({kind})"
    _keys(spec, ("type",) + LAYERS[kind][1], what=what)
    if shape is None and kind not in ("LinearLayer", "Reshape"):
        raise ArchitectureError(f"{what} cannot come first: a network starts with a LinearLayer or a "
                                f"Reshape of its flat input rows")
    if kind == "LinearLayer":
        d_in = _int(spec["in_features"], f"{what} in_features", 1, MAX_UNITS)
        d_out = _int(spec["out_features"], f"{what} out_features", 1, MAX_UNITS)
        if shape is not None and shape != (d_in,):
            raise ArchitectureError(f"{what} takes {d_in} features but gets shape {shape}")
        return (d_out,), {"W": (d_in, d_out), "b": (d_out,)}
    if kind == "Reshape":
        target = _ints(spec["shape"], f"{what} shape", (1, 2, 3), 1, MAX_UNITS)
        if shape is not None and math.prod(shape) != math.prod(target):
            raise ArchitectureError(f"{what} cannot reshape {shape} into {target}")
        return target, {}
    if kind == "Conv2D":
        c_in = _int(spec["in_channels"], f"{what} in_channels", 1, MAX_UNITS)
        c_out = _int(spec["out_channels"], f"{what} out_channels", 1, MAX_UNITS)
        kh, kw = _ints(spec["kernel_size"], f"{what} kernel_size", (2,), 1, MAX_KERNEL)
        stride = _int(spec["stride"], f"{what} stride", 1, MAX_KERNEL)
        pad = _int(spec["padding"], f"{what} padding", 0, MAX_KERNEL)
        if len(shape) != 3 or shape[0] != c_in:
            raise ArchitectureError(f"{what} takes ({c_in}, H, W) but gets shape {shape}")
        if shape[1] + 2 * pad < kh or shape[2] + 2 * pad < kw:
            raise ArchitectureError(f"{what} kernel {(kh, kw)} is larger than its input {shape[1:]}")
        out = (c_out, (shape[1] + 2 * pad - kh) // stride + 1, (shape[2] + 2 * pad - kw) // stride + 1)
        return out, {"K": (c_out, c_in, kh, kw), "b": (c_out,)}
    if kind == "SimpleConv":
        kh, kw = _ints(spec["kernel_shape"], f"{what} kernel_shape", (2,), 1, MAX_KERNEL)
        if len(shape) != 2 or shape[0] < kh or shape[1] < kw:
            raise ArchitectureError(f"{what} with kernel {(kh, kw)} cannot take shape {shape}")
        return (shape[0] - kh + 1, shape[1] - kw + 1), {"K": (kh, kw), "b": ()}
    if kind in ("MaxPool2D", "AvgPool2D"):
        kh, kw = _ints(spec["kernel_size"], f"{what} kernel_size", (2,), 1, MAX_KERNEL)
        sh, sw = _ints(spec["stride"], f"{what} stride", (2,), 1, MAX_KERNEL)
        if len(shape) != 3 or shape[1] < kh or shape[2] < kw:
            raise ArchitectureError(f"{what} with kernel {(kh, kw)} takes (C, H, W) with H >= {kh} and W >= {kw}, "
                                    f"but gets shape {shape}")
        return (shape[0], (shape[1] - kh) // sh + 1, (shape[2] - kw) // sw + 1), {}
    if kind == "Flatten":
        return (math.prod(shape),), {}
    if kind == "Softmax" and len(shape) != 1:
        raise ArchitectureError(f"{what} needs flat class scores, gets shape {shape}")
    return shape, {}  # ReLU, Sigmoid, Tanh, Softmax keep the shape


def check(arch):
    """A ``Plan`` for a sound description; ``ArchitectureError`` naming what is wrong otherwise."""
    _keys(arch, TOP_KEYS, ("card",))
    if arch["format"] != FORMAT:
        raise ArchitectureError(f"not a webnet model description (format {str(arch['format'])[:40]!r})")
    if arch["version"] != VERSION or type(arch["version"]) is not int:
        raise ArchitectureError(f"unsupported webnet model version {_shown(arch['version'], 20)} (this is {VERSION})")
    if arch["dtype"] not in DTYPES:
        raise ArchitectureError(f"parameters must be float32 or float64, got {str(arch['dtype'])[:40]!r}")
    _check_loss(arch["loss"])
    if arch.get("card") is not None and not isinstance(arch["card"], dict):
        raise ArchitectureError("the model card must be a JSON object")
    specs = arch["layers"]
    if not isinstance(specs, list) or not 1 <= len(specs) <= MAX_LAYERS:
        n = len(specs) if isinstance(specs, list) else "no list of"
        raise ArchitectureError(f"a model has 1 to {MAX_LAYERS} layers, this one has {n}")
    shape, shapes, params, total = None, [], {}, 0
    for i, spec in enumerate(specs):
        out, layer_params = _layer(i, spec, shape)
        if shape is None:
            input_shape = (math.prod(out),) if spec["type"] == "Reshape" else (spec["in_features"],)
        if math.prod(out) > MAX_VALUES_PER_EXAMPLE:
            raise ArchitectureError(f"layer {i} ({spec['type']}) outputs {math.prod(out):,} values per example "
                                    f"(at most {MAX_VALUES_PER_EXAMPLE:,})")
        for name, p in layer_params.items():
            params[f"{i}.{name}"] = p
            total += math.prod(p)
        if total > MAX_PARAMETERS:
            raise ArchitectureError(f"the model would have {total:,} parameters or more; at most "
                                    f"{MAX_PARAMETERS:,} are allowed")
        if spec["type"] == "Softmax" and i != len(specs) - 1:
            raise ArchitectureError(f"layer {i} (Softmax) must be the last layer")
        shape = out
        shapes.append(out)
    if specs[-1]["type"] != "Softmax":
        raise ArchitectureError("the last layer must be a Softmax (the loss is a cross-entropy on probabilities)")
    if not params:
        raise ArchitectureError("the model has no layer with parameters")
    return Plan(input_shape, shape, shapes, params, total)


def _check_loss(spec):
    _keys(spec, LOSS_KEYS, what="the loss")
    if spec["type"] != "CrossEntropy":
        raise ArchitectureError(f"unknown loss {str(spec['type'])[:40]!r}")
    eps = spec["eps"]
    if type(eps) not in (int, float) or not 0 <= eps < 1:  # also refuses NaN and infinity
        raise ArchitectureError(f"the loss's eps must be a number from 0 up to 1, got {_shown(eps)}")
    if spec["reduction"] not in ("mean", "sum"):
        raise ArchitectureError(f"the loss's reduction must be 'mean' or 'sum', got {str(spec['reduction'])[:40]!r}")


def build(arch, rng=None):
    """A freshly initialised network from a description (checked first); ``rng`` seeds the init."""
    check(arch)
    rng = np.random.default_rng(0) if rng is None else rng
    dtype = np.dtype(arch["dtype"])
    layers = []
    for spec in arch["layers"]:
        kind = spec["type"]
        if kind == "LinearLayer":
            layers.append(LinearLayer(spec["in_features"], spec["out_features"], rng=rng, dtype=dtype))
        elif kind == "Conv2D":
            layers.append(Conv2D(spec["in_channels"], spec["out_channels"], spec["kernel_size"], spec["stride"],
                                 spec["padding"], rng=rng, dtype=dtype))
        elif kind == "SimpleConv":
            layers.append(SimpleConv(rng.standard_normal(spec["kernel_shape"]).astype(dtype)))
        elif kind == "Reshape":
            layers.append(Reshape(spec["shape"]))
        elif kind in ("MaxPool2D", "AvgPool2D"):
            layers.append(LAYERS[kind][0](spec["kernel_size"], spec["stride"]))
        else:
            layers.append(LAYERS[kind][0]())
    loss = arch["loss"]
    return NeuralNetwork(layers, CrossEntropy(loss["eps"], loss["reduction"]))
