"""The lab in the page's web worker: runs the app and carries the document's changes to and from
the page (site/page/worker.js calls these functions; site/page/start.js is the other side).

This is the one module that uses Panel's Pyodide internals (checked against Panel 1.7.5, listed
in site/builder/private_apis.py); it runs only inside Pyodide.
"""
from __future__ import annotations

import json
from functools import partial

from . import pandas_stand_in

pandas_stand_in.install_if_missing()  # before Panel and bokeh are imported: the page has no pandas

from panel.io.pyodide import _convert_json_patch, _link_docs_worker, init_doc, write_doc  # noqa: E402
from panel.io.state import state  # noqa: E402
from panel.util import edit_readonly  # noqa: E402

#: where the page serves Panel's CSS (build.py copies panel/dist there)
PANEL_DIST = "./panel/dist/"

_send_patch = None
SEARCH, LANGUAGES = "", ""  # the page's query and the browser's languages (webnet_lab.context)


async def start(app_source, send_patch, search="", languages=""):
    """Run ``app_source`` (site/app.py) on a fresh document; returns (docs_json, render_items,
    root_ids) for the page to render."""
    global _send_patch, SEARCH, LANGUAGES
    _send_patch, SEARCH, LANGUAGES = send_patch, search, languages
    init_doc()
    # Panel takes its components' stylesheets from the document's dist_url, as under panel serve
    state.curdoc._template_variables["dist_url"] = PANEL_DIST
    # As panel serve does, mark the document loaded when the page says it is: without this,
    # Panel 1.7.5 drops the changes a callback makes under its hold(), such as a tab's content
    # built when it is first shown
    state.curdoc.on_event("document_ready", partial(state._schedule_on_load, state.curdoc))
    exec(compile(app_source, "app.py", "exec"), {"__name__": "__main__"})
    return await write_doc()


def rendered():
    """The page has rendered the document: from now on Python's changes go to it."""
    _link_docs_worker(state.curdoc, _send_patch, setter="js")


def apply_patch(patch):
    """A change made on the page (a click, a slider moved), applied to the Python document."""
    state.curdoc.apply_json_patch(_convert_json_patch(patch), setter="js")


def set_location(location_json):
    """The page's URL, so ``pn.state.location`` reads (and writes) its query."""
    if state.location:
        fields = json.loads(location_json)
        with edit_readonly(state.location):
            state.location.param.update({k: v for k, v in fields.items() if k in state.location.param})
