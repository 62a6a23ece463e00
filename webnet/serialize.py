"""Saving and loading models: ``.npz`` files read with ``allow_pickle=False``, never unpickled.

A file holds one array per parameter (``"0.W"``, ``"0.b"``, ...) and ``__webnet__``: the
architecture as UTF-8 JSON bytes in a uint8 array, so a file rebuilds its own model.
"""
from __future__ import annotations

import io
import json
import os
import zipfile
import zlib

import numpy as np

from .conv import Conv2D, SimpleConv
from .layers import Flatten, LinearLayer, ReLU, Reshape, Sigmoid, Softmax, Tanh
from .losses import CrossEntropy

FORMAT = "webnet-model"
VERSION = 1
META_KEY = "__webnet__"


class ModelFileError(ValueError):
    """A model file that is missing, truncated, corrupted, pickled or not a webnet model."""


def state_dict(net):
    """{name: copy of the parameter}, in the network's order."""
    return {name: p.copy() for name, p in net.named_parameters()}


def load_state_dict(net, state):
    """Copy ``state`` into the live parameters. Strict: a missing or unexpected key, a shape or a
    dtype mismatch raises ``ValueError`` naming the key, and then nothing has been changed."""
    params = dict(net.named_parameters())
    missing = [k for k in params if k not in state]
    extra = [k for k in state if k not in params]
    if missing:
        raise ValueError(f"missing key {missing[0]!r} in state dict" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    if extra:
        raise ValueError(f"unexpected key {extra[0]!r} in state dict" + (f" (and {len(extra) - 1} more)" if len(extra) > 1 else ""))
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


# -- architecture ------------------------------------------------------------------------------
def _build_layer(spec, dtype):
    kind = spec.get("type")
    if kind == "LinearLayer":
        return LinearLayer(spec["in_features"], spec["out_features"], rng=np.random.default_rng(0), dtype=dtype)
    if kind == "Conv2D":
        return Conv2D(spec["in_channels"], spec["out_channels"], spec["kernel_size"], spec.get("stride", 1),
                      spec.get("padding", 0), rng=np.random.default_rng(0), dtype=dtype)
    if kind == "SimpleConv":
        return SimpleConv(np.zeros(spec["kernel_shape"], dtype=dtype))
    if kind == "Reshape":
        return Reshape(spec["shape"])
    simple = {"ReLU": ReLU, "Sigmoid": Sigmoid, "Tanh": Tanh, "Softmax": Softmax, "Flatten": Flatten}
    if kind in simple:
        return simple[kind]()
    raise ModelFileError(f"unknown layer type {kind!r}")


def describe(net):
    """The JSON-able architecture of ``net``."""
    return {"format": FORMAT, "version": VERSION, "dtype": str(net.dtype),
            "layers": [layer.spec() for layer in net.layers], "loss": net.loss.spec()}


def build(arch):
    """A freshly initialised network from ``describe``'s output."""
    from .network import NeuralNetwork

    if not isinstance(arch, dict) or arch.get("format") != FORMAT:
        raise ModelFileError("not a webnet model description")
    if arch.get("version") != VERSION:
        raise ModelFileError(f"unsupported webnet model version {arch.get('version')!r} (this is {VERSION})")
    try:
        dtype = np.dtype(arch["dtype"])
        if dtype.kind != "f":
            raise ModelFileError(f"parameter dtype must be floating point, got {dtype}")
        layers = [_build_layer(spec, dtype) for spec in arch["layers"]]
        loss_spec = arch["loss"]
        if loss_spec.get("type") != "CrossEntropy":
            raise ModelFileError(f"unknown loss {loss_spec.get('type')!r}")
        loss = CrossEntropy(loss_spec.get("eps", 1e-8), loss_spec.get("reduction", "mean"))
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise ModelFileError(f"invalid architecture description: {e}") from None
    return NeuralNetwork(layers, loss)


# -- files -------------------------------------------------------------------------------------
def write_npz(file, arrays):
    """``np.savez_compressed`` with fixed timestamps: the same arrays always give the same bytes."""
    with zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for key, value in arrays.items():
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asarray(value), allow_pickle=False)


def save(net, file):
    """Write ``net`` to ``file`` (a path or a binary file object) as ``.npz``."""
    meta = np.frombuffer(json.dumps(describe(net)).encode(), dtype=np.uint8)
    write_npz(file, {META_KEY: meta, **state_dict(net)})


ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
NPY_MAGIC = b"\x93NUMPY"
PICKLE_MAGIC = tuple(b"\x80" + bytes([protocol]) for protocol in (2, 3, 4, 5))
PICKLED = "{} contains pickled data, which webnet never loads"


def read(file):
    """(architecture dict, {name: array}) from a path, bytes or a binary file object.

    Raises ``ModelFileError`` with a plain message for anything that is not a sound webnet file.
    """
    name = os.fspath(file) if isinstance(file, (str, os.PathLike)) else "the uploaded file"
    try:
        if isinstance(file, (str, os.PathLike)):
            with open(file, "rb") as f:
                blob = f.read()
        elif isinstance(file, (bytes, bytearray, memoryview)):
            blob = bytes(file)
        else:
            blob = file.read()
    except FileNotFoundError:
        raise ModelFileError(f"{name}: no such file") from None
    except OSError as e:
        raise ModelFileError(f"{name}: cannot be read ({e.strerror or e})") from None
    if blob.startswith(NPY_MAGIC):
        raise ModelFileError(f"{name} is a single .npy array, not a webnet model (.npz)")
    if blob.startswith(PICKLE_MAGIC):
        raise ModelFileError(PICKLED.format(name))
    if not blob.startswith(ZIP_MAGIC):
        empty = " (it is empty)" if not blob else ""
        raise ModelFileError(f"{name} is not a webnet model: not an .npz archive{empty}")
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as z:
            if META_KEY not in z.files:
                raise ModelFileError(f"{name} is an .npz file but not a webnet model (no {META_KEY} entry)")
            arrays = {k: z[k] for k in z.files}
    except ModelFileError:
        raise
    except ValueError as e:
        if "pickle" in str(e):
            raise ModelFileError(PICKLED.format(name)) from None
        raise ModelFileError(f"{name} is not a valid model file ({e})") from None
    except (OSError, EOFError, zipfile.BadZipFile, KeyError, zlib.error) as e:
        raise ModelFileError(f"{name} is truncated or corrupted ({type(e).__name__}: {e})") from None
    meta = arrays.pop(META_KEY)
    try:
        arch = json.loads(meta.astype(np.uint8).tobytes().decode())
    except (ValueError, UnicodeDecodeError):
        raise ModelFileError(f"{name}: the architecture description is not valid JSON") from None
    return arch, arrays


def load(file):
    """A new network rebuilt from a file written by ``save``."""
    arch, arrays = read(file)
    net = build(arch)
    try:
        load_state_dict(net, arrays)
    except ValueError as e:
        raise ModelFileError(f"weights do not match the architecture: {e}") from None
    return net
