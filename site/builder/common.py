"""Paths, logging, hashing and the one helper that edits third-party text."""
from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv"
CACHE = ROOT / "cache"
DOWNLOADS = CACHE / "downloads"
DIST = ROOT / "dist"
WHEELS = DIST / "wheels"  # webnet's and the lab's own wheels
SITE = DIST / "site"
PYODIDE_OUT = SITE / "pyodide"
PAGE = ROOT / "site" / "page"  # the page's own files
LAB = ROOT / "site"  # the lab's project (site/pyproject.toml, site/webnet_lab)
APP = LAB / "app.py"


class BuildError(Exception):
    """A build problem with a message that says what to do."""


def log(msg):
    print(f"[build] {msg}", flush=True)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify(path, expected):
    got = sha256_file(path)
    if got != expected:
        raise BuildError(f"sha256 mismatch for {path.name}: expected {expected}, got {got}. "
                         f"Delete {path} and run again; if it persists the source changed.")


def run(cmd, **kw):
    log("$ " + " ".join(map(str, cmd)))
    return subprocess.run([str(c) for c in cmd], check=True, **kw)


def replace_once(text, old, new, where):
    """``text`` with ``old`` replaced by ``new``; stops the build unless ``old`` occurs exactly once.
    ``old`` may be a compiled regular expression (``new`` is then its replacement template)."""
    if isinstance(old, re.Pattern):
        found = len(old.findall(text))
    else:
        found = text.count(old)
    if found != 1:
        shown = old.pattern if isinstance(old, re.Pattern) else old
        raise BuildError(f"{where}: expected {shown!r} exactly once, found it {found} times "
                         "(did a pinned package change?)")
    return old.sub(new, text) if isinstance(old, re.Pattern) else text.replace(old, new)
