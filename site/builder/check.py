"""The check step: nothing in the site points at another host, every file the page refers to is
there, every wheel matches its lock entry; then SHA256SUMS lists every file, and the service
worker (site/page/sw.js) is written with that list (see sw.js for how it uses it)."""
from __future__ import annotations

import hashlib
import json
import re
from urllib.parse import unquote

from . import pins
from .common import PAGE, PYODIDE_OUT, SITE, BuildError, log, replace_once, sha256_file

TEXT_SUFFIXES = {".html", ".js", ".mjs", ".css", ".json", ".txt", ".svg", ".webmanifest"}
# src= / href= attributes, importScripts(...), and quoted paths of scripts the page loads
LOCAL_REF = re.compile(r"""(?:src|href)=["'](\./[^"'#?]+)["']|importScripts\("(\./[^"]+)"\)""" + r'|"(\./[^"]+\.js)"')
PAGE_FILES = ("index.html", "worker.js", "wheels.js")
NOT_PRECACHED = ("SHA256SUMS", "sw.js")  # the service worker's list, and itself


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
            if not (SITE / unquote(ref)).is_file() and unquote(ref)[2:] not in NOT_PRECACHED:  # sw.js: written next
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


def site_files(site=SITE):
    """Every file of the site (without precompressed copies, SHA256SUMS and sw.js), sorted."""
    return sorted(p for p in site.rglob("*") if p.is_file() and p.suffix not in (".gz", ".br")
                  and p.relative_to(site).as_posix() not in NOT_PRECACHED)


def _hash(sums):
    return hashlib.sha256(json.dumps(sums, sort_keys=True).encode()).hexdigest()[:16]


def write_service_worker(site=SITE):
    """Fill in the page's ASSETS (the version of every file but index.html), then SHA256SUMS and
    sw.js with the whole list and its VERSION; returns {path: sha256}."""
    sums = {p.relative_to(site).as_posix(): sha256_file(p) for p in site_files(site)}
    assets = _hash({path: digest for path, digest in sums.items() if path != "index.html"})
    index = site / "index.html"
    # the marker stays: the check step can run again
    html, n = re.subn(r'/\* webnet:assets \*/ "[0-9a-f]*"', f"/* webnet:assets */ {json.dumps(assets)}",
                      index.read_text(encoding="utf-8"))
    if n != 1:
        raise BuildError(f"index.html: {n} ASSETS markers, expected 1")
    index.write_text(html, encoding="utf-8")
    sums["index.html"] = sha256_file(index)
    (site / "SHA256SUMS").write_text("".join(f"{digest}  {path}\n" for path, digest in sums.items()))
    sw = (PAGE / "sw.js").read_text(encoding="utf-8")
    for name, value in (("version", _hash(sums)), ("assets", assets), ("files", sums)):
        default = "{}" if name == "files" else '""'
        sw = replace_once(sw, f"/* webnet:{name} */ {default}", json.dumps(value, indent=None), "sw.js")
    (site / "sw.js").write_text(sw, encoding="utf-8")
    return sums


def check_site():
    found = problems()
    if found:
        raise BuildError("site check failed:\n  " + "\n  ".join(found))
    sums = write_service_worker()
    size = sum((SITE / path).stat().st_size for path in sums)
    log(f"check passed: {len(sums)} files, {size / 1e6:.1f} MB, no reference to another host; "
        "sw.js precaches them")
