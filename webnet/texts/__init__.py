"""The library's own texts for students, one catalogue per language (``en.json``, ``ru.json``):
the exercises' statements and hints, and what the checker says about a layer. The lab merges
these into its catalogue; the command line prints them in English (or ``--lang ru``).
"""
from __future__ import annotations

import json
from functools import cache
from importlib import resources

LANGUAGES = ("en", "ru")


@cache
def entries(lang="en"):
    if lang not in LANGUAGES:
        raise ValueError(f"no texts for language {lang!r}; there are {LANGUAGES}")
    return json.loads(resources.files(__name__).joinpath(f"{lang}.json").read_text(encoding="utf-8"))


def text(key, lang="en", **values):
    """The text ``key`` in ``lang``, formatted with ``values``."""
    return entries(lang)[key].format(**values)
