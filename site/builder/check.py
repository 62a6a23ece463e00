"""The check step: nothing in the site points at another host, every file the page refers to is
there, every wheel matches its lock entry; then SHA256SUMS lists every file."""
from __future__ import annotations

import json
import re
from urllib.parse import unquote

from . import pins
from .common import PYODIDE_OUT, SITE, BuildError, log, sha256_file

TEXT_SUFFIXES = {".html", ".js", ".mjs", ".css", ".json", ".txt", ".svg", ".webmanifest"}
# src= / href= attributes, importScripts(...), and quoted paths of scripts the page loads
LOCAL_REF = re.compile(r"""(?:src|href)=["'](\./[^"'#?]+)["']|importScripts\("(\./[^"]+)"\)""" + r'|"(\./[^"]+\.js)"')
PAGE_FILES = ("index.html", "worker.js", "wheels.js")


def local_refs(text):
    """The ./relative paths a page file refers to."""
    return [m.group(1) or m.group(2) or m.group(3) for m in LOCAL_REF.finditer(text)]


def problems():
    found = []
    for path in sorted(SITE.rglob("*")):
        if path.suffix not in TEXT_SUFFIXES or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        found += [f"{path.relative_to(SITE)}: refers to {host}" for host in pins.CDN_HOSTS if host in text]
    for name in PAGE_FILES:
        for ref in local_refs((SITE / name).read_text(encoding="utf-8")):
            if not (SITE / unquote(ref)).is_file():
                found.append(f"{name} refers to {ref}, which is missing")
    lock = json.loads((PYODIDE_OUT / "pyodide-lock.json").read_text())
    for name, entry in lock["packages"].items():
        wheel = PYODIDE_OUT / entry["file_name"]
        if not wheel.is_file():
            found.append(f"lock entry {name}: {entry['file_name']} missing")
        elif sha256_file(wheel) != entry["sha256"]:
            found.append(f"lock entry {name}: sha256 of {wheel.name} differs")
    found += [f"pyodide/{name} missing" for name in pins.PYODIDE_CORE if not (PYODIDE_OUT / name).is_file()]
    return found


def site_files():
    """Every file of the site (without precompressed copies and SHA256SUMS itself), sorted."""
    return sorted(p for p in SITE.rglob("*") if p.is_file() and p.suffix not in (".gz", ".br")
                  and p.name != "SHA256SUMS")


def check_site():
    found = problems()
    if found:
        raise BuildError("site check failed:\n  " + "\n  ".join(found))
    files = site_files()
    (SITE / "SHA256SUMS").write_text("".join(f"{sha256_file(p)}  {p.relative_to(SITE).as_posix()}\n" for p in files))
    log(f"check passed: {len(files)} files, {sum(p.stat().st_size for p in files) / 1e6:.1f} MB, "
        "no reference to another host")
