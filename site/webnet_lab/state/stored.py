"""What the lab keeps in the browser's storage comes back as untrusted text: read it here."""
from __future__ import annotations

import json


def read_json(text, limit):
    """The JSON value of ``text``; ValueError if it is longer than ``limit`` characters, not JSON,
    or nested too deeply to parse."""
    if len(text) > limit:
        raise ValueError(f"{len(text):,} characters, more than {limit:,}")
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None
