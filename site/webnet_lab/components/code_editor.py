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

    _esm = "code_editor.js"
    _stylesheets = ["code_editor.css"]

    def __init__(self, **params):
        super().__init__(libraries=libraries(), **params)
