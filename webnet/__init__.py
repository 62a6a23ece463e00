"""webnet: a small, fast, readable NumPy neural-network library for a classroom lab.

The homework notebook's API works unchanged (``from webnet import LinearLayer, ReLU, ...``).
Depends on numpy only; runs natively and in Pyodide.
"""
from .conv import Conv2D, SimpleConv
from .layers import Flatten, Layer, LinearLayer, ReLU, Reshape, Sigmoid, Softmax, Tanh
from .losses import CrossEntropy, one_hot, softmax_cross_entropy
from .models import build_model, parse_architecture
from .network import Epoch, NeuralNetwork, TrainingDiverged
from .serialize import ModelFileError

__version__ = "0.1.0"

load = NeuralNetwork.load


def save(net, file, card=None):
    net.save(file)


def check_digit_classifier(net):
    from .serialize import ModelFileError
    if net.layers[0].param_names and getattr(net.layers[0], "in_features", 784) != 784:
        raise ModelFileError("this model does not take 28x28 digits (784 inputs)")
    if not isinstance(net.layers[-1], Softmax):
        raise ModelFileError("this model does not end in a Softmax over the ten digits")
    import numpy as np
    probs = net.predict_proba(np.zeros((2, 784), net.dtype))
    if probs.shape != (2, 10):
        raise ModelFileError(f"this model has {probs.shape[1]} outputs, not 10")

__all__ = [
    "Conv2D", "CrossEntropy", "Epoch", "Flatten", "Layer", "LinearLayer", "ModelFileError",
    "NeuralNetwork", "ReLU", "Reshape", "Sigmoid", "SimpleConv", "Softmax", "Tanh", "TrainingDiverged",
    "build_model", "load", "one_hot", "parse_architecture", "softmax_cross_entropy",
]
