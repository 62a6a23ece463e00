"""What is done to third-party wheels: files the page never reads are dropped (SLIM), and bokeh
gets two start-up patches (PATCHES), each applied by ``common.replace_once``."""
from __future__ import annotations

import base64
import hashlib
import re
import zipfile

from . import pins
from .common import CACHE, BuildError, log, replace_once
from .fetch import pip_download

SLIM = {  # wheel name prefix -> files the browser never needs from inside the wheel
    # the page serves Panel's JS and CSS itself from panel/dist/ (30 MB -> 0.8 MB with the line after)
    "panel-": re.compile(r"^panel/dist/(bundled|lib|dts)/|\.map$|^panel/dist/panel\.(js|json)$|^panel/tests/"
                         # ... and its TypeScript sources, lock file, images and bundle: 4.6 -> 3.0 MB to unpack
                         r"|^panel/models/.*\.ts$|^panel/package-lock\.json$|^panel/dist/images/.*\.png$"
                         r"|^panel/dist/panel\.min\.js$"
                         # ... and its Jupyter configuration files (site/page/wheels.js installs no data files)
                         r"|^panel-[^/]+\.data/"),
    # ... and BokehJS from bokeh/, and bokeh's 112 type stubs (7.0 MB -> 0.8 MB)
    "bokeh-": re.compile(r"^bokeh/server/static/|^bokeh/sphinxext/|\.map$|^bokeh/.*\.pyi$"),
    # numpy's type stubs, C headers and build files: 132 of its 338 files, never read at run time
    # (unpacking numpy in the page: about 15 % less); and f2py, which builds Fortran extensions
    # with a compiler (230 KB)
    "numpy-": re.compile(r"^numpy/.*\.(pyi|h|pxd|c|a|ini|pc)$|^numpy/f2py/"),
    # narwhals' backends for pyarrow, polars, dask, duckdb, ibis, pyspark and SQL frames, none of
    # which the site hosts: bokeh hands narwhals dicts here (410 KB)
    "narwhals-": re.compile(r"^narwhals/_(arrow|polars|dask|duckdb|ibis|spark_like|sql)/"),
    # a JupyterLab extension; a second copy of the package's providers.json; tests
    "pyviz_comms-": re.compile(r"^pyviz_comms-[^/]+\.data/|^pyviz_comms/tests/"),
    "xyzservices-": re.compile(r"^xyzservices-[^/]+\.data/|^xyzservices/tests/"),
}


# Start-up patches to the pinned bokeh 3.7.3, each an exact text that must be found once (a new
# bokeh fails the build here instead of running unpatched). Measured in Pyodide under Node: importing
# bokeh.models 0.6 s -> 0.2 s, and building the lab's first tab about 0.1 s less. The same patched
# wheel is installed in .venv (build.py env), so `panel serve` and the tests run this code too.
BOKEH_PATCHES = [
    # Every bokeh.models class computes an inspect.Signature for its __init__ when it is defined
    # (about 500 classes, each walking all its properties' defaults): only help() and IDEs read it.
    ("bokeh/model/model.py",
     '        if cls.__module__.startswith("bokeh.models"):\n'
     '            assert "__init__" in cls.__dict__, str(cls)\n',
     '        if False:  # webnet: no __init__ signatures (help() only), see site/builder/wheels.py\n'
     '            assert "__init__" in cls.__dict__, str(cls)\n'),
    # The defaults a class overrides, merged along its MRO on every read of a default (tens of
    # thousands of times while the lab is built); the per-class dicts never change after the class
    # is made, so the merge is kept per class. Callers only read the result.
    ("bokeh/core/has_props.py",
     "        defaults: dict[str, Any] = {}\n"
     "        for c in reversed(cls.__mro__):\n"
     '            defaults.update(getattr(c, "__overridden_defaults__", {}))\n'
     "        return defaults\n",
     '        defaults = cls.__dict__.get("_webnet_overridden_defaults")  # webnet: see site/builder/wheels.py\n'
     "        if defaults is None:\n"
     "            defaults = {}\n"
     "            for c in reversed(cls.__mro__):\n"
     '                defaults.update(getattr(c, "__overridden_defaults__", {}))\n'
     '            type.__setattr__(cls, "_webnet_overridden_defaults", defaults)\n'
     "        return defaults\n"),
]
PATCHES = {"bokeh-": BOKEH_PATCHES}


def rewrite_wheel(src, dst, drop=None, patches=()):
    """Copy the wheel ``src`` to ``dst`` without the files ``drop`` matches and with ``patches``
    ((path, old, new), each applied exactly once) applied; RECORD lists the new hashes."""
    todo = {path: (old, new) for path, old, new in patches}
    tmp = dst.with_name(dst.name + ".tmp")
    records = []
    try:
        with zipfile.ZipFile(src) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
            record_name = next((n for n in zin.namelist() if n.endswith(".dist-info/RECORD")), None)
            for info in zin.infolist():
                if (drop is not None and drop.search(info.filename)) or info.filename == record_name:
                    continue
                data = zin.read(info.filename)
                if info.filename in todo:
                    old, new = todo.pop(info.filename)
                    data = replace_once(data.decode("utf-8"), old, new, f"{src.name}: {info.filename}").encode()
                zout.writestr(info, data)
                digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                records.append(f"{info.filename},sha256={digest},{len(data)}")
            if todo:
                raise BuildError(f"{src.name}: no {sorted(todo)} to patch (did a pinned package change?)")
            if record_name:
                zout.writestr(zin.getinfo(record_name), "\n".join(records + [f"{record_name},,"]) + "\n")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(dst)
    return dst


def for_site(wheel, dst):
    """``wheel`` as the site hosts it: slimmed and patched where SLIM and PATCHES say so."""
    prefix = next((p for p in (*SLIM, *PATCHES) if wheel.name.startswith(p)), None)
    if prefix is None:
        dst.write_bytes(wheel.read_bytes())
        return dst
    rewrite_wheel(wheel, dst, SLIM.get(prefix), PATCHES.get(prefix, ()))
    log(f"slimmed {wheel.name}: {wheel.stat().st_size:,} -> {dst.stat().st_size:,} bytes")
    return dst


def patched_bokeh():
    """The pinned bokeh wheel with PATCHES applied and nothing dropped: what .venv installs, so
    that `panel serve` and the tests run the code the page runs."""
    name = next(f for f in pins.PURE_WHEELS if f.startswith("bokeh-"))
    key = hashlib.sha256(repr(PATCHES["bokeh-"]).encode()).hexdigest()[:16]  # a new patch, a new wheel
    out = CACHE / "patched" / key / name
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        rewrite_wheel(pip_download(name, pins.PURE_WHEELS[name]), out, None, PATCHES["bokeh-"])
    return out
