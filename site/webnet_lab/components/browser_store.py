"""BrowserStore: a text kept in the browser's storage (browser_store.js), in both runtimes (the
static page's Python runs in a worker, which has no localStorage; under `panel serve` it runs on
the server)."""
from __future__ import annotations

import param
from panel.custom import JSComponent


class BrowserStore(JSComponent):
    """What the browser kept under ``key`` arrives in ``stored`` ("" for nothing) once the page
    shows the component; every later ``value`` set by Python is kept under ``key``."""

    key = param.String(default="", constant=True)
    value = param.String(default=None, allow_None=True)
    stored = param.String(default=None, allow_None=True)

    _esm = "browser_store.js"
