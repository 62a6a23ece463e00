"""CodeEditor: a Python code editor (code_editor.js, code_editor.css) over CodeJar and Prism."""
from __future__ import annotations

from functools import cache
from importlib import resources

import param
from panel.custom import JSComponent

VENDOR_FILES = {"codejar": "codejar.js", "prism_core": "prism-core.min.js", "prism_python": "prism-python.min.js"}


@cache
def libraries():
    """The editor's libraries' JavaScript, from components/vendor/ (build.py env puts them there)."""
    vendor = resources.files(__package__).joinpath("vendor")
    try:
        return {key: vendor.joinpath(name).read_text(encoding="utf-8") for key, name in VENDOR_FILES.items()}
    except FileNotFoundError as e:
        raise RuntimeError(f"{e.filename} is missing: run `python3 build.py env` to fetch the editor's "
                           "libraries") from None


class CodeEditor(JSComponent):
    """Python sets ``opened`` ({key, text, prefer_stored, n}): the editor shows ``text``, or with
    ``prefer_stored`` what the browser kept under ``key`` ("" keeps nothing). ``value`` is the
    text the editor shows, sent back after each change."""

    opened = param.Dict(default={})
    value = param.String(default="")
    label = param.String(default="Code", doc="the editor's accessible name")
    help = param.String(default="", doc="how to use it, read out with it")
    libraries = param.Dict(default={}, constant=True)
    asked = param.Integer(default=0, doc="bumped to ask the page for the current text")

    _esm = "code_editor.js"
    _stylesheets = ["code_editor.css"]

    def __init__(self, **params):
        super().__init__(libraries=libraries(), **params)
        self._waiting = {}  # request number -> what to call with the text

    def with_text(self, callback):
        """Call ``callback(text)`` with the editor's current text, as the page has it: the page is
        asked for it (typing reaches Python a moment late, and a click can overtake it)."""
        self._waiting[self.asked + 1] = callback
        self.asked += 1

    def _handle_msg(self, data):
        callback = self._waiting.pop(data.get("answered"), None)
        if callback is not None:
            self.value = data["text"]
            callback(data["text"])
