"""Accessibility: an invisible component whose JavaScript (a11y.js) gives bokeh's and Panel's
widgets what keyboards, screen readers and small screens need (a11y.css is its stylesheet)."""
from __future__ import annotations

from pathlib import Path

import param
from panel.custom import JSComponent

CSS = (Path(__file__).parent / "a11y.css").read_text(encoding="utf-8")


class Accessibility(JSComponent):
    labels = param.Dict(default={}, doc="accessible names: 'increase', 'decrease', and a css class of "
                                        "a file input -> its name")
    closes = param.Dict(default={}, doc="css class of a box -> css class of the button that shows and hides "
                                        "it: Escape hides the box, as that button does, and focuses the button")
    css = param.String(default=CSS)
    font_size = param.String(default="15px", doc="bokeh's widgets' text size (its default is 12px)")

    _esm = "a11y.js"
