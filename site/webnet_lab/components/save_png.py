"""SavePng: a button that saves a bokeh chart as a PNG, in the page (save_png.js)."""
from __future__ import annotations

import param
from panel.custom import JSComponent


class SavePng(JSComponent):
    """Saves the chart whose element has the class ``chart_class`` as ``filename``. (A Panel
    Button's js_on_click would do, but Panel attaches those only to the document's first render,
    and the charts come later.)"""

    label = param.String(default="Save as PNG")
    chart_class = param.String(default="", constant=True)
    filename = param.String(default="chart.png", constant=True)

    _esm = "save_png.js"
    _stylesheets = ["save_png.css"]
