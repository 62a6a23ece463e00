"""A stand-in ``pandas`` module for the static page, which ships without pandas.

bokeh 3.7 imports pandas in ``figure()`` and ``ColumnDataSource()`` only to ask
``isinstance(x, pd.Series)`` and the like (bokeh 3.8 guards these imports; Panel 1.7.5 needs
bokeh < 3.8). Without pandas the page downloads 7 MB less and answers about a second sooner.
Anything else taken from this module fails loudly. Under ``panel serve`` the real pandas is
installed and this is never used (tests/test_app.py runs the lab with pandas blocked).
"""
from __future__ import annotations

import sys
import types

NAMES = ("Series", "DataFrame", "Index", "Timestamp", "Timedelta", "Period", "Categorical", "NaTType")


class _Absent:
    """No object is ever an instance of these; making one fails."""

    def __init__(self, *args, **kwargs):
        raise ImportError("pandas is not available in the webnet lab page")


def _missing(name):
    raise AttributeError(f"pandas.{name}: the webnet lab page runs without pandas (see webnet_lab.pandas_stand_in)")


def install():
    """Register the stand-in as ``pandas`` (and the submodules bokeh touches) in ``sys.modules``."""
    pandas = types.ModuleType("pandas", "stand-in: the webnet lab page runs without pandas")
    pandas.__version__ = "0+webnet.stand.in"
    for name in NAMES:
        setattr(pandas, name, type(name, (_Absent,), {"__module__": __name__}))
    pandas.NaT, pandas.NA = object.__new__(pandas.NaTType), object()
    modules = {"pandas": pandas}
    submodules = {"core": {}, "core.groupby": {"GroupBy": type("GroupBy", (_Absent,), {})}, "api": {},
                  "api.extensions": {"ExtensionArray": type("ExtensionArray", (_Absent,), {})}}
    for dotted, attrs in submodules.items():
        module = types.ModuleType(f"pandas.{dotted}")
        module.__dict__.update(attrs)
        module.__getattr__ = lambda name, dotted=dotted: _missing(f"{dotted}.{name}")
        modules[f"pandas.{dotted}"] = module
        parent, _, child = f"pandas.{dotted}".rpartition(".")
        setattr(modules[parent], child, module)
    pandas.__getattr__ = _missing
    sys.modules.update(modules)


def install_if_missing():
    """The real pandas where it is installed, else the stand-in."""
    try:
        import pandas  # noqa: F401
    except ImportError:
        install()
