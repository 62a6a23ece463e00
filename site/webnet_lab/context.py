"""Where the lab starts: the page's query (``?lang=ru``, the experiment's settings) and the
browser's preferred languages, known before anything is built: in the static page the worker is
started with the page's query and reads ``navigator.languages``; under ``panel serve`` they come
with the request."""
from __future__ import annotations

import sys
from urllib.parse import parse_qsl


def startup():
    """(query {name: value}, languages "ru-RU,ru;q=0.9,en")."""
    if sys.platform == "emscripten":
        from . import worker

        return dict(parse_qsl(worker.SEARCH.lstrip("?"))), worker.LANGUAGES
    import panel as pn

    query = {}
    if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
        args = pn.state.curdoc.session_context.request.arguments
        query = {k: v[-1].decode("utf-8", "replace") for k, v in args.items() if v}
    headers = pn.state.headers or {}
    return query, headers.get("Accept-Language", "")
