"""DrawingPad: a canvas to draw digits on (drawing_pad.js, drawing_pad.css)."""
from __future__ import annotations

import base64

import numpy as np
import param
from panel.custom import JSComponent


class DrawingPad(JSComponent):
    """Calls ``on_image(alpha, stroke)`` with each drawing as a (size, size) uint8 alpha array
    (None when cleared or damaged) and the stroke's number when the stroke has ended (None while it
    is being drawn)."""

    size = param.Integer(default=280, constant=True, doc="canvas pixels per side")
    clear_label = param.String(default="Clear")
    label = param.String(default="Drawing pad", doc="the canvas's accessible name")

    _esm = "drawing_pad.js"
    _stylesheets = ["drawing_pad.css"]

    def __init__(self, on_image, **params):
        super().__init__(**params)
        self._on_image = on_image

    def _handle_msg(self, data):
        raw, stroke = data.get("image", ""), data.get("stroke")
        if not raw:
            self._on_image(None, stroke)
            return
        alpha = np.frombuffer(base64.b64decode(raw), np.uint8)
        if alpha.size != self.size * self.size:
            self._on_image(None, stroke, damaged=True)
            return
        self._on_image(alpha.reshape(self.size, self.size), stroke)
