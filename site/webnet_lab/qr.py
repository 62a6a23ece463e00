"""QR codes of the lab's links (the Share control), made by segno. In the static page segno is not
loaded at start-up: the first QR code loads it (its wheel is hosted with the others)."""
from __future__ import annotations

import sys


async def load_segno():
    """segno, loaded into the page's Python on first use (installed as usual elsewhere)."""
    try:
        import segno
    except ImportError:
        if sys.platform != "emscripten":
            raise
        import pyodide_js  # the page's Pyodide: its lock file has the hosted segno wheel

        await pyodide_js.loadPackage("segno")
        import segno
    return segno


def qr_svg(segno, url, scale=6):
    """``url`` as an inline SVG QR code (black on white, with its quiet zone)."""
    return segno.make(url, error="m", micro=False).svg_inline(scale=scale, dark="#000", light="#fff")
