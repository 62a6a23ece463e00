"""webnet: a small, fast, readable NumPy neural-network library for a classroom lab.

The homework notebook's API works unchanged (``from webnet import LinearLayer, ReLU, ...``).
Models are saved and loaded by ``webnet.save(net, file, card=None)``, ``webnet.load(file)`` and
``webnet.load_weights(net, file)``; ``webnet.metrics`` scores a classifier. ``webnet.augment``
distorts training digits, ``webnet.drawn`` draws test digits the way the lab's pad does, and
``webnet.accel`` is the WebAssembly matrix product the layers use in Pyodide. Depends on numpy only
(Pillow, for ``preprocess.read_image``, is optional); runs natively and in Pyodide.
"""
from . import metrics
from .conv import Conv2D, SimpleConv
from .layers import Flatten, Layer, LinearLayer, ReLU, Reshape, Sigmoid, Softmax, Tanh
from .losses import CrossEntropy, one_hot, softmax_cross_entropy
from .models import build_model, check_digit_classifier, parse_architecture
from .network import Epoch, NeuralNetwork, TrainingDiverged
from .pool import AvgPool2D, MaxPool2D
from .serialize import ModelFileError, load, load_weights, read_card, save

__version__ = "0.1.0"

__all__ = [
    "metrics", "AvgPool2D", "Conv2D", "CrossEntropy", "Epoch", "Flatten", "Layer", "LinearLayer", "MaxPool2D",
    "ModelFileError", "NeuralNetwork", "ReLU", "Reshape", "Sigmoid", "SimpleConv", "Softmax", "Tanh",
    "TrainingDiverged",
    "build_model", "check_digit_classifier", "load", "load_weights", "one_hot", "parse_architecture",
    "read_card", "save", "softmax_cross_entropy",
]
