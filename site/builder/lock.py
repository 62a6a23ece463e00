"""The lock step: pyodide/pyodide-lock.json covering exactly the hosted wheels (with the
pyodide-lock package): the official entries for the official wheels, entries derived from each
wheel's metadata for the others, every sha256 that of the hosted (compiled) file. The wheels the
page's own loader fetches are hosted packed (pack.py): their entries name the packed file."""
from __future__ import annotations

import shutil

from . import pins
from .common import CACHE, DOWNLOADS, PYODIDE_OUT, WHEELS, BuildError, log, sha256_file
from .fetch import built_sdist_wheels, official_lock
from .pack import pack


def write_lock():
    from pyodide_lock import PyodideLockSpec
    from pyodide_lock.utils import add_wheels_to_spec

    official = official_lock()
    hosted_official = {}
    for pkg in pins.OFFICIAL_PACKAGES:
        entry = dict(official["packages"][pkg])
        entry["sha256"] = sha256_file(PYODIDE_OUT / entry["file_name"])
        hosted_official[pkg] = entry
    base = PyodideLockSpec.model_validate({"info": official["info"], "packages": hosted_official})
    # metadata and import names come from the original wheels (the hosted ones hold .pyc only)
    originals = CACHE / "lock-src"
    shutil.rmtree(originals, ignore_errors=True)
    originals.mkdir(parents=True)
    sources = ([DOWNLOADS / f for f in pins.PURE_WHEELS] + built_sdist_wheels()
               + sorted(WHEELS.glob("*.whl")))
    for src in sources:
        shutil.copy2(src, originals / src.name)
    spec = add_wheels_to_spec(base, sorted(originals.glob("*.whl")), base_path=originals,
                              ignore_missing_dependencies=True)
    shutil.rmtree(originals)
    hosted = set(spec.packages)
    for name, pkg in spec.packages.items():
        missing = set(pkg.depends) - hosted
        if missing - pins.DROPPED_DEPENDS:
            raise BuildError(f"{name} depends on {sorted(missing - pins.DROPPED_DEPENDS)}, which the site does not host")
        pkg.depends = sorted(set(pkg.depends) & hosted)
    for name in pins.APP_PACKAGES:
        if name not in hosted:
            raise BuildError(f"the page's worker loads {name!r} but no hosted wheel provides it")
    # what the page's own loader fetches is packed (pack.py); the rest (segno) stays a wheel for
    # Pyodide's loadPackage
    loaded = closure(spec.packages, pins.APP_PACKAGES)
    for name, pkg in spec.packages.items():
        path = PYODIDE_OUT / pkg.file_name
        if name in loaded:
            path = pack(path)
            pkg.file_name = path.name
        pkg.sha256 = sha256_file(path)
    spec.to_json(PYODIDE_OUT / "pyodide-lock.json")
    log(f"pyodide-lock.json: {len(hosted)} packages ({len(loaded)} packed for the page's loader)")


def closure(packages, names):
    """``names`` and everything they depend on, as site/page/wheels.js finds them."""
    found, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo += packages[name].depends
    return found
