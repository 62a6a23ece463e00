"""Running webnet inside Pyodide under Node, for the tests: the runtime, the kernel and the harness.

The runtime comes from $WEBNET_PYODIDE_DIR, else the built site's dist/site/pyodide/; the kernel is
assembled from webnet/kernels/matmul.wat by the build's own ``assemble_kernel`` (wabt fetched with
npm into cache/downloads/ once). Without node or a runtime the tests that need them skip, saying
which is missing.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HARNESS = ROOT / "tests" / "pyodide" / "pyodide_run.js"
PYODIDE_DIR = Path(os.environ.get("WEBNET_PYODIDE_DIR", ROOT / "dist" / "site" / "pyodide"))


def require_node():
    if shutil.which("node") is None:
        pytest.skip("node is not on PATH: the kernel is assembled, and Pyodide run, with Node")


def require_runtime():
    require_node()
    if not (PYODIDE_DIR / "pyodide.js").exists():
        pytest.skip(f"no Pyodide runtime at {PYODIDE_DIR}: build the site (python3 build.py build) "
                    "or set WEBNET_PYODIDE_DIR")


def assemble(out):
    """The kernel, assembled into the file ``out`` by site/builder/kernel.py."""
    require_node()
    sys.path.insert(0, str(ROOT / "site"))
    try:
        from builder.common import BuildError
        from builder.kernel import assemble_kernel
    finally:
        sys.path.remove(str(ROOT / "site"))
    try:
        return assemble_kernel(out)
    except BuildError as e:
        if "npm pack" in str(e):
            pytest.skip(f"wabt could not be fetched with npm: {e}")
        raise


def run(args, timeout=900):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout)


def in_pyodide(script, kernel=None, *args, timeout=900):
    """Run ``script`` inside Pyodide with webnet installed (and ``kernel`` as its packaged kernel, or
    none); its last stdout line is a JSON report, returned as an object."""
    require_runtime()
    done = run(["node", HARNESS, PYODIDE_DIR, kernel or "-", script, *args], timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
