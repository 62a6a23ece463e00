"""Saving and loading models (``webnet.save``, ``webnet.load``, ``webnet.load_weights``).

A model file is an ``.npz``: one array per parameter (``"0.W"``, ``"0.b"``, ...) and
``__webnet__``, the architecture as UTF-8 JSON bytes in a uint8 array (with an optional "model
card": a small JSON object saying how the model was made). A file rebuilds its own model.

Reading trusts nothing: the file is parsed by ``npz.Archive`` within the limits below and those of
``architecture``, every size is checked before anything is allocated, and anything unsound raises
``ModelFileError`` with a plain message. Nothing is unpickled; a refused file changes nothing.
"""
from __future__ import annotations

import io
import json
import os

import numpy as np

from . import architecture, npz
from .network import NeuralNetwork

META_KEY = "__webnet__"
MAX_FILE_BYTES = 512 * 2**20  # a model at the parameter limit in float64 is about 400 MB
MAX_META_BYTES = 65_536  # the JSON description, card included
MAX_CARD_BYTES = 16_384
MAX_JSON_DEPTH = 16
PARAM_DTYPES = (np.float32, np.float64)

NPY_MAGIC = b"\x93NUMPY"
PICKLE_MAGIC = tuple(b"\x80" + bytes([protocol]) for protocol in (2, 3, 4, 5))


class ModelFileError(ValueError):
    """A model file that is missing, truncated, corrupted, pickled, too large or not a webnet model."""


# -- writing -------------------------------------------------------------------------------------
def _card_json(card):
    if not isinstance(card, dict) or not all(isinstance(k, str) for k in card):
        raise ValueError(f"the model card must be a dict with string keys, got {type(card).__name__}")
    try:
        text = json.dumps(card, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ValueError(f"the model card must hold only JSON values (text, finite numbers, lists, dicts): {e}") from None
    if len(text.encode()) > MAX_CARD_BYTES:
        raise ValueError(f"the model card takes {len(text.encode()):,} bytes as JSON, at most {MAX_CARD_BYTES:,}")
    return json.loads(text)


def save(net, file, card=None):
    """Write ``net`` (architecture and weights) to ``file``, a path or a binary file object, as
    ``.npz``; ``card`` is an optional small JSON-able dict stored with it (see ``read_card``).

    A network that ``load`` would refuse (too large, unknown layers, not ending in Softmax ...)
    raises ``ValueError`` here instead of writing a file nobody can read.
    """
    meta = architecture.describe(net)
    if card is not None:
        meta["card"] = _card_json(card)
    architecture.check(meta)
    blob = json.dumps(meta).encode()
    if len(blob) > MAX_META_BYTES:
        raise ValueError(f"the model's description takes {len(blob):,} bytes, at most {MAX_META_BYTES:,}")
    npz.write_npz(file, {META_KEY: np.frombuffer(blob, np.uint8), **net.state_dict()})


# -- reading -------------------------------------------------------------------------------------
def _open(file):
    """(name for messages, seekable binary file, its size)."""
    if isinstance(file, (str, os.PathLike)):
        name = os.fspath(file)
        try:
            size = os.stat(name).st_size
            if os.path.isdir(name):
                raise ModelFileError(f"{name} is a folder, not a model file")
            if size > MAX_FILE_BYTES:
                raise ModelFileError(f"{name} is {size:,} bytes; model files over {MAX_FILE_BYTES:,} are refused")
            return name, open(name, "rb"), size
        except FileNotFoundError:
            raise ModelFileError(f"{name}: no such file") from None
        except OSError as e:
            raise ModelFileError(f"{name}: cannot be read ({e.strerror or e})") from None
    name = "the uploaded file"
    if isinstance(file, (bytes, bytearray, memoryview)):
        data = bytes(file)
    else:
        data = file.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ModelFileError(f"{name} is over {MAX_FILE_BYTES:,} bytes; larger model files are refused")
    return name, io.BytesIO(data), len(data)


def _sniff(f, name):
    """Name what the file is when it is plainly not a zip archive."""
    head = f.read(8)
    if head.startswith(NPY_MAGIC):
        raise ModelFileError(f"{name} is a single .npy array, not a webnet model (.npz)")
    if head.startswith(PICKLE_MAGIC):
        raise ModelFileError(f"{name} contains pickled data, which webnet never loads")
    if not head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise ModelFileError(f"{name} is not a webnet model: not an .npz archive" + (" (it is empty)" if not head else ""))


def _no_constants(text):
    raise ValueError(f"{text} is not a JSON number")


def _unique_keys(pairs):
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"the key {next(k for k in keys if keys.count(k) > 1)!r} appears twice in one object")
    return dict(pairs)


def _parse_meta(blob):
    try:
        meta = json.loads(blob.decode("utf-8"), parse_constant=_no_constants, object_pairs_hook=_unique_keys)
    except RecursionError:
        raise architecture.ArchitectureError("the architecture description is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise architecture.ArchitectureError(f"the architecture description is not valid JSON ({str(e)[:80]})") from None
    stack = [(meta, 1)]
    while stack:  # nesting depth, without recursion
        obj, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise architecture.ArchitectureError(f"the architecture description is nested over {MAX_JSON_DEPTH} deep")
        children = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, list) else ()
        stack.extend((child, depth + 1) for child in children)
    if isinstance(meta, dict) and "card" in meta and len(json.dumps(meta["card"]).encode()) > MAX_CARD_BYTES:
        raise architecture.ArchitectureError(f"the model card is over {MAX_CARD_BYTES:,} bytes")
    return meta


def _read_checked(f, size):
    """(architecture, {key: array}) from an open archive, or ``NpzError`` / ``ArchitectureError``."""
    archive = npz.Archive(f, size, (np.uint8, *PARAM_DTYPES), max_entries=2 * architecture.MAX_LAYERS + 1,
                          max_bytes=architecture.MAX_PARAMETERS * 8 + MAX_META_BYTES + 256 * (2 * architecture.MAX_LAYERS + 1))
    meta_entry = archive.entries.get(META_KEY)
    if meta_entry is None:
        raise architecture.ArchitectureError(f"it is an .npz file but not a webnet model (no {META_KEY} entry)")
    if meta_entry.dtype != np.uint8 or len(meta_entry.shape) != 1 or meta_entry.nbytes > MAX_META_BYTES:
        raise architecture.ArchitectureError(f"its {META_KEY} entry is not a JSON text of at most {MAX_META_BYTES:,} bytes")
    arch = _parse_meta(archive.read(META_KEY).tobytes())
    plan = architecture.check(arch)
    dtype = np.dtype(arch["dtype"])
    found = {k: e for k, e in archive.entries.items() if k != META_KEY}
    for key, shape in plan.params.items():
        e = found.get(key)
        if e is None:
            raise architecture.ArchitectureError(f"the weights lack {key!r}")
        if e.shape != shape or e.dtype != dtype:
            raise architecture.ArchitectureError(f"{key!r} is {e.dtype} {e.shape}; the architecture needs {dtype} {shape}")
    unexpected = sorted(set(found) - set(plan.params))
    if unexpected:
        raise architecture.ArchitectureError(f"unexpected entry {unexpected[0]!r} (not a parameter of the architecture)")
    for key in plan.params:  # integrity and finiteness first, with nothing the arrays' size allocated
        archive.check(key, finite=True)
    return arch, {key: archive.read(key) for key in plan.params}


def read(file):
    """(architecture dict, {name: array}, card or None) from a path, bytes or a binary file
    object. Raises ``ModelFileError`` with a plain message for anything that is not a sound,
    buildable webnet model within the limits."""
    name, f, size = _open(file)
    with f:
        _sniff(f, name)
        try:
            arch, arrays = _read_checked(f, size)
        except (npz.NpzError, architecture.ArchitectureError) as e:
            raise ModelFileError(f"{name}: {e}") from None
        except OSError as e:
            raise ModelFileError(f"{name}: cannot be read ({e.strerror or e})") from None
    return arch, arrays, arch.get("card")


def load(file):
    """A new network rebuilt from a file written by ``save`` (``ModelFileError`` if unsound)."""
    arch, arrays, _ = read(file)
    net = architecture.build(arch)
    net.load_state_dict(arrays)  # shapes, dtypes and finiteness were checked by read
    return net


def load_weights(net: NeuralNetwork, file):
    """Load a saved file's weights into ``net``; on any error it is left unchanged."""
    _, arrays, _ = read(file)
    try:
        net.load_state_dict(arrays)
    except ValueError as e:
        raise ModelFileError(f"the file does not fit this model: {e}") from None


def read_card(file):
    """The model card saved with the file (a dict), or None if it has none."""
    return read(file)[2]
