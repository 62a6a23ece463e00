"""The optimize step: every hosted wheel and the stdlib compiled to .pyc by Pyodide's own Python
(pyc.js runs compile_archives.py under Node), cached by content in cache/pyc/."""
from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

from . import pins
from .common import CACHE, PYODIDE_OUT, log, run, sha256_file
from .fetch import pyodide_tarball

# compile() optimisation level for the site's bytecode: 2 drops docstrings and asserts, which makes
# modules smaller and faster to load in the browser (the stdlib: 4.0 -> 3.4 MB); numpy attaches
# docstrings at import time, so it keeps them (-O only)
PYC_OPTIMIZE = 2
KEEP_DOCSTRINGS = ("numpy-",)
HERE = Path(__file__).resolve().parent


def compile_site():
    """Replace every wheel in the site's pyodide/ folder and python_stdlib.zip by its compiled copy."""
    todo = sorted(PYODIDE_OUT.glob("*.whl")) + [PYODIDE_OUT / "python_stdlib.zip"]
    cache, work = CACHE / "pyc", CACHE / "pyc-work"
    shutil.rmtree(work, ignore_errors=True)
    (work / "in").mkdir(parents=True)
    (work / "out").mkdir()
    pending, levels = {}, {}
    for path in todo:
        level = 1 if path.name.startswith(KEEP_DOCSTRINGS) else PYC_OPTIMIZE
        key = f"{sha256_file(path)[:16]}-O{level}-{path.name}"
        if (cache / key).exists():
            shutil.copy2(cache / key, path)
        else:
            shutil.copy2(path, work / "in" / path.name)
            pending[path.name], levels[path.name] = key, level
    if pending:
        core = work / "core"
        core.mkdir()
        with tarfile.open(pyodide_tarball()) as tar:
            for name in (*pins.PYODIDE_CORE, "pyodide-lock.json"):
                (core / name).write_bytes(tar.extractfile(f"package/{name}").read())
        run(["node", HERE / "pyc.js", core, work, json.dumps(levels)])
        cache.mkdir(parents=True, exist_ok=True)
        for name, key in pending.items():
            shutil.copy2(work / "out" / name, cache / key)
            shutil.copy2(work / "out" / name, PYODIDE_OUT / name)
    shutil.rmtree(work)
    log(f"compiled to .pyc: {len(todo)} archives ({len(todo) - len(pending)} from cache)")
