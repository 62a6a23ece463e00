"""Named architectures for the command line and the app: "784-128-10" MLPs, the tiny "cnn" and
"lenet", and the pretrained model shipped with the package."""
from __future__ import annotations

from importlib import resources

import numpy as np

from . import architecture, serialize
from .conv import Conv2D
from .layers import Flatten, LinearLayer, ReLU, Reshape, Softmax
from .losses import CrossEntropy
from .network import NeuralNetwork
from .pool import MaxPool2D

MAX_WIDTH = 4096
CNN = "cnn"
LENET = "lenet"
PRESETS = (CNN, LENET)  # the named architectures besides layer sizes


def parse_architecture(text):
    """"784-128-10" -> [784, 128, 10]; "cnn" -> "cnn", "lenet" -> "lenet". Raises ``ValueError`` with
    a plain message."""
    text = str(text).strip().lower()
    if text in PRESETS:
        return text
    parts = text.split("-")
    try:
        sizes = [int(p) for p in parts]
    except ValueError:
        raise ValueError(f"bad architecture {text!r}: expected layer sizes like 784-128-10, "
                         f"or one of {', '.join(PRESETS)}") from None
    if len(sizes) < 2:
        raise ValueError(f"bad architecture {text!r}: give at least input and output sizes, like 784-10")
    if any(s < 1 or s > MAX_WIDTH for s in sizes):
        raise ValueError(f"bad architecture {text!r}: every size must be between 1 and {MAX_WIDTH}")
    return sizes


def build_model(arch="784-128-10", rng=None, dtype=np.float32):
    """A fresh network: Linear-ReLU-...-Linear-Softmax with cross-entropy; the tiny "cnn"
    (Reshape(1, 28, 28) - Conv2D(1, 8, 5, stride 2) - ReLU - Flatten - Linear(1152, 10) - Softmax);
    or "lenet": Reshape(1, 28, 28) - Conv2D(1, 8, 5) - ReLU - MaxPool2D(2) - Conv2D(8, 16, 5) - ReLU -
    MaxPool2D(2) - Flatten - Linear(256, 10) - Softmax (1, 28, 28 -> 8, 24, 24 -> 8, 12, 12 ->
    16, 8, 8 -> 16, 4, 4 -> 256 -> 10; 5,994 parameters).

    ``rng``: a ``np.random.Generator`` or a seed. webnet's entry points train in float32.
    """
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    sizes = parse_architecture(arch) if isinstance(arch, str) else arch
    if sizes == CNN:
        conv = Conv2D(1, 8, 5, stride=2, rng=rng, dtype=dtype)
        c, h, w = conv.output_shape(28, 28)
        layers = [Reshape((1, 28, 28)), conv, ReLU(), Flatten(),
                  LinearLayer(c * h * w, 10, rng=rng, dtype=dtype), Softmax()]
    elif sizes == LENET:
        layers = [Reshape((1, 28, 28)), Conv2D(1, 8, 5, rng=rng, dtype=dtype), ReLU(), MaxPool2D(2),
                  Conv2D(8, 16, 5, rng=rng, dtype=dtype), ReLU(), MaxPool2D(2), Flatten(),
                  LinearLayer(16 * 4 * 4, 10, rng=rng, dtype=dtype), Softmax()]
    else:
        layers = []
        for i, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(LinearLayer(d_in, d_out, rng=rng, dtype=dtype))
            layers.append(ReLU() if i < len(sizes) - 2 else Softmax())
    return NeuralNetwork(layers, CrossEntropy())


PRETRAINED = "pretrained.npz"
PRETRAINED_ARCH = LENET
#: its accuracy on the shipped subset's 2,000 test digits (tests/test_data.py checks it), so the lab
#: can name it without loading it (0.9924 on MNIST's 10,000; 0.9983 of webnet.drawn's 600 drawings)
PRETRAINED_TEST_ACCURACY = 0.994


def pretrained():
    """The shipped pretrained lenet, trained on the full MNIST with augmentation; its model card
    (``webnet.read_card``) holds the command that made it:
    ``python -m webnet train lenet --epochs 30 --batch-size 32 --lr 0.1 --schedule cosine --seed 0
    --dtype float32 --full --augment --save webnet/assets/pretrained.npz``."""
    return serialize.load(resources.files("webnet").joinpath("assets", PRETRAINED).read_bytes())


DIGIT_PIXELS, DIGIT_CLASSES = 784, 10
DIGIT_IMAGES = ((1, 28, 28), (28, 28))  # what a first Reshape may make of the 784 pixels


def check_digit_classifier(net):
    """Raise ``ValueError`` with a plain message unless ``net`` classifies 28x28 digits into 10
    classes: it takes 784 pixels (flat, or reshaped to (1, 28, 28) or (28, 28) by its first
    layer), ends in a Softmax over 10 outputs, and is a network webnet can save and load."""
    try:
        plan = architecture.check(architecture.describe(net))
    except architecture.ArchitectureError as e:
        raise ValueError(f"this model is not one webnet can use: {e}") from None
    if plan.input_shape != (DIGIT_PIXELS,):
        raise ValueError(f"this model takes {plan.input_shape[0]} inputs, not {DIGIT_PIXELS} (28x28 pixels)")
    first = net.layers[0]
    if isinstance(first, Reshape) and first.shape not in DIGIT_IMAGES:
        raise ValueError(f"this model reshapes the 784 pixels into {first.shape}, not a 28x28 image")
    if plan.output_shape != (DIGIT_CLASSES,):
        raise ValueError(f"this model has {plan.output_shape[0]} outputs, not {DIGIT_CLASSES} (one per digit)")


def architecture_name(net):
    """The inverse of ``parse_architecture`` where there is one: "784-128-10" for an MLP that
    ``build_model`` could have made, "lenet" for a network of lenet's layers, "cnn" for any other
    network with a convolution, else the layer list."""
    linear = [layer for layer in net.layers if isinstance(layer, LinearLayer)]
    if [layer.spec() for layer in net.layers] == _LENET_SPECS:
        return LENET
    if any(isinstance(layer, Conv2D) for layer in net.layers):
        return CNN
    if linear and len(linear) == sum(1 for layer in net.layers if layer.param_names):
        return "-".join(str(s) for s in [linear[0].in_features] + [layer.out_features for layer in linear])
    return ", ".join(type(layer).__name__ for layer in net.layers)


_LENET_SPECS = [layer.spec() for layer in build_model(LENET, rng=0).layers]
