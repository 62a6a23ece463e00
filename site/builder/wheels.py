"""What is done to third-party wheels: files the page never reads are dropped (SLIM), and bokeh and
Panel get start-up patches (PATCHES), each applied by ``common.replace_once``."""
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

# Panel 1.7.5's `import panel` imports its chat components, templates and pipelines (about 30
# modules the lab never uses): here they are imported when first asked for (pn.chat, pn.template,
# pn.Template, pn.pipeline), by a module-level __getattr__. (interact stays: importing the module
# panel.interact would make pn.interact that module instead of the function.) Measured in Pyodide
# under Node: `import panel` about 0.1 s less of about 1.3 s.
_PANEL_EAGER = """from . import pipeline  # noqa
from . import reactive  # noqa
from . import template  # noqa
from . import viewable  # noqa
from . import widgets  # noqa
from .config import __version__, config, panel_extension as extension  # noqa
from .depends import bind, depends  # noqa
from .interact import interact  # noqa
from .io import (  # noqa
    _jupyter_server_extension_paths, cache, ipywidget, serve, state,
)
from .layout import (  # noqa
    Accordion, Card, Column, Feed, FlexBox, FloatPanel, GridBox, GridSpec,
    GridStack, HSpacer, Modal, Row, Spacer, Swipe, Tabs, VSpacer, WidgetBox,
)
from .pane import panel  # noqa
from .param import Param, ReactiveExpr  # noqa
from .template import Template  # noqa
from .widgets import indicators, widget  # noqa

from . import custom  # isort:skip noqa has to be after widgets
from . import chat  # isort:skip noqa has to be after widgets
"""
# the lines of that block that go, and what takes their place at its end
_PANEL_DEFERRED = ("from . import pipeline  # noqa\n", "from . import template  # noqa\n",
                   "from .template import Template  # noqa\n",
                   "from . import chat  # isort:skip noqa has to be after widgets\n")
_PANEL_LAZY = "".join(line for line in _PANEL_EAGER.splitlines(keepends=True) if line not in _PANEL_DEFERRED) + """
_WEBNET_LAZY = {"chat": ("chat", None), "pipeline": ("pipeline", None), "template": ("template", None),
                "Template": ("template", "Template")}


def __getattr__(name):  # webnet: imported when first used, see site/builder/wheels.py
    if name not in _WEBNET_LAZY:
        raise AttributeError(f"module 'panel' has no attribute {name!r}")
    import importlib
    module, attr = _WEBNET_LAZY[name]
    module = importlib.import_module(f"{__name__}.{module}")
    return module if attr is None else getattr(module, attr)
"""
PANEL_PATCHES = [
    ("panel/__init__.py", _PANEL_EAGER, _PANEL_LAZY),
    # Panel passes every string parameter of a ReactiveHTML component (a FlexBox's "wrap", "8px")
    # through bleach, which makes the lab import bleach, html5lib and xml (about 50 modules) for
    # strings it returns unchanged: printable text without <, > or & (tests/test_build.py checks
    # the answers are bleach's). Measured in Pyodide under Node: the lab's app built about 0.06 s sooner.
    ("panel/util/__init__.py",
     "    def clean(self, text):\n        if self._cleaner is None:\n",
     "    def clean(self, text):\n"
     "        if isinstance(text, str) and text.isprintable() and not any(c in text for c in '<>&'):\n"
     "            return text  # webnet: what bleach would return, see site/builder/wheels.py\n"
     "        if self._cleaner is None:\n"),
]
PATCHES = {"bokeh-": BOKEH_PATCHES, "panel-": PANEL_PATCHES}


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


#: the patches .venv installs too, so that `panel serve` and the tests run that code: bokeh's. Panel's
#: (import-time savings for the page's start) are the page's only. (They were kept out of .venv when
#: `panel serve` sent the page references to models it did not have yet, "reference p3181 isn't
#: known"; the cause turned out to be Panel's and bokeh's order of writing, which webnet_lab.server
#: fixes, not these patches.)
VENV_PATCHED = ("bokeh-",)


def patched_wheels(prefixes=VENV_PATCHED):
    """The pinned wheels that PATCHES changes (those named by ``prefixes``), patched, with nothing
    dropped: what .venv installs, and what the tests of Panel's patches import."""
    found = []
    for prefix in prefixes:
        patches = PATCHES[prefix]
        name = next(f for f in pins.PURE_WHEELS if f.startswith(prefix))
        key = hashlib.sha256(repr(patches).encode()).hexdigest()[:16]  # a new patch, a new wheel
        out = CACHE / "patched" / key / name
        if not out.exists():
            out.parent.mkdir(parents=True, exist_ok=True)
            rewrite_wheel(pip_download(name, pins.PURE_WHEELS[name]), out, None, patches)
        found.append(out)
    return found
