"""InsideView: what every layer of the model in use computes for the digit on the Draw tab (a
drawing or a test digit): feature maps, pooled maps, hidden units, the ten probabilities, and the
convolutions' kernels. It reads the layers' outputs (``NeuralNetwork.activations``), so it works
for any architecture the lab can build or load."""
from __future__ import annotations

import numpy as np
import panel as pn

from ..png import png_data_uri, tile_grid
from .common import esc, table_html

# a sentence per kind of layer; other layers get "inside.what.other"
WHAT = {"Reshape": "inside.what.reshape", "Flatten": "inside.what.flatten", "Conv2D": "inside.what.conv",
        "SimpleConv": "inside.what.conv", "ReLU": "inside.what.relu", "Sigmoid": "inside.what.sigmoid",
        "Tanh": "inside.what.tanh", "MaxPool2D": "inside.what.maxpool", "AvgPool2D": "inside.what.avgpool",
        "LinearLayer": "inside.what.linear", "Softmax": "inside.what.softmax"}
BARS = 256  # outputs with at most this many values are drawn as bars (longer ones: the maps above)
MAP_PX = 84  # a feature map is enlarged to about this many pixels across
TOP = 10  # values listed in each layer's table
TIP = 16  # pixels above the bars for the value of the bar pointed at
# a unit's value shows while the pointer is on it, or after a tap (touch browsers hover on tap);
# keyboards and screen readers get every layer's values as a table instead
STYLE = ("<style>.unit, .map { cursor: pointer } .unit .tip, .map .tip { visibility: hidden }"
         " .unit:hover .tip, .unit:active .tip, .map:hover .tip, .map:active .tip { visibility: visible }"
         " .unit:hover rect { opacity: 0.7 }"
         " .map { margin: 0; position: relative } .map .tip { position: absolute; left: 0; top: 100%; z-index: 1;"
         " background: #fff; border: 1px solid #999; padding: 1px 4px; font-size: 14px; white-space: nowrap }"
         " .unit .tip { font-size: 14px; paint-order: stroke; stroke: #fff; stroke-width: 3px }</style>")


def _span(a):
    """(low, high) to scale ``a`` into [0, 1] with: from 0 (or below) to the largest value."""
    lo, hi = min(0.0, float(a.min())), float(a.max())
    return lo, hi if hi > lo else lo + 1.0


def _unit(a, lo, hi):
    return (a - lo) / (hi - lo)


def _fmt(v):
    return f"{v:.3g}"


class InsideView(pn.viewable.Viewer):
    """The layers of the model in use, one section each, for the classifier's current digit."""

    def __init__(self, t, classifier, **params):
        super().__init__(**params)
        self.t, self.classifier = t, classifier
        self.random = pn.widgets.Button(name=t("draw.random"), button_type="primary", width=240,
                                        sizing_mode="fixed")
        self.random.on_click(classifier.random_test_digit)
        self.body = pn.pane.HTML(self.html(), css_classes=["inside-layers"], sizing_mode="stretch_width")
        classifier.param.watch(self.update, ["preview", "version"])

    def update(self, *_):
        self.body.object = self.html()

    def html(self):
        c, t = self.classifier, self.t
        if c.preview is None:
            return f"<p class='inside-empty'>{esc(t('inside.empty'))}</p>"
        net = c.models.current
        x = np.asarray(c.preview, dtype=np.float64).reshape(1, -1).astype(net.dtype, copy=False)
        acts = net.activations(x)
        parts = [STYLE, f"<p>{esc(t('inside.model', model=t(c.models.label())))}</p>",
                 self._section(t("inside.input"), t("inside.what.input"), acts[0][0].reshape(28, 28), "input")]
        for i, layer in enumerate(net.layers):
            kind = type(layer).__name__
            heading = t("inside.layer", i=i + 1, layer=repr(layer), shape=" x ".join(map(str, acts[i + 1].shape[1:])))
            extra = ""
            if hasattr(layer, "K") and np.ndim(layer.K) == 4:
                extra = self._kernels(layer.K)
            elif kind == "LinearLayer" and i == 0 and layer.W.shape[0] == 784:
                extra = f"<p>{esc(t('inside.weights_on_inspect'))}</p>"
            # the last two layers' ten outputs (scores, probabilities) are the digits'
            digits = i >= len(net.layers) - 2 and acts[i + 1].shape[1:] == (10,)
            parts.append(self._section(heading, t(WHAT.get(kind, "inside.what.other")), acts[i + 1][0],
                                       f"layer-{i + 1}", extra, digits=digits))
        return "".join(parts)

    def _section(self, heading, what, a, ident, extra="", digits=False):
        return (f"<section class='inside-layer' data-layer='{ident}' aria-labelledby='inside-{ident}'>"
                f"<h2 class='section' id='inside-{ident}' style='margin:14px 0 2px'>{esc(heading)}</h2>"
                f"<p style='margin:2px 0 6px'>{esc(what)}</p>{self._picture(a, digits)}{extra}</section>")

    def _picture(self, a, digits):
        t = self.t
        if a.ndim == 2:
            a = a[None]
        if a.ndim == 3:  # (channels, height, width): one image per map
            lo, hi = _span(a)
            scale = max(1, MAP_PX // max(a.shape[1:]))
            imgs = []
            for k, m in enumerate(a):
                title = esc(t("inside.map_title", k=k + 1, lo=_fmt(m.min()), hi=_fmt(m.max())))
                imgs.append(f"<figure class='map'><img class='feature-map' src='{png_data_uri(_unit(m, lo, hi), scale)}' "
                            f"title='{title}' alt='{title}' style='image-rendering:pixelated;border:1px solid #ccc'>"
                            f"<figcaption class='tip' aria-hidden='true'>{title}</figcaption></figure>")
            return f"<div style='display:flex;flex-wrap:wrap;gap:6px'>{''.join(imgs)}</div>"
        a = a.ravel()
        if len(a) > BARS:
            return f"<p>{esc(t('inside.too_many', n=len(a)))}</p>"
        return self._bars(a, digits) + self._table(a, digits)

    def _bars(self, a, digits):
        """An SVG bar per value (its value on hover), baseline at 0; digits under the bars for the
        probabilities."""
        t, n = self.t, len(a)
        w = max(3, min(24, 720 // n))
        height = 60
        lo, hi = min(0.0, float(a.min())), max(0.0, float(a.max()))
        per = height / ((hi - lo) or 1.0)  # pixels per unit of value
        base = hi * per  # the y of 0
        rects = []
        for k, v in enumerate(a):
            label = esc(t("inside.unit_title", k=k if digits else k + 1, v=_fmt(v)))
            y, h = (base - v * per, v * per) if v >= 0 else (base, -v * per)
            anchor = "start" if k < n / 3 else "end" if k > 2 * n / 3 else "middle"
            rects.append(f"<g class='unit'><rect x='{k * w}' y='{y:.1f}' width='{w - 1}' height='{max(h, 0.5):.1f}' "
                         f"fill='{'#1f77b4' if v >= 0 else '#d62728'}'><title>{label}</title></rect>"
                         f"<text class='tip' aria-hidden='true' x='{k * w + w / 2}' y='-4' "
                         f"text-anchor='{anchor}'>{label}</text></g>")
            if digits:
                rects.append(f"<text x='{k * w + w / 2}' y='{height + 14}' font-size='12' text-anchor='middle'>{k}</text>")
        total_h = TIP + height + (18 if digits else 2)
        label = esc(t("inside.bars_label", n=n, lo=_fmt(a.min()), hi=_fmt(a.max())))
        return (f"<svg role='img' aria-label='{label}' width='{n * w}' height='{total_h}' "
                f"viewBox='0 0 {n * w} {total_h}' style='max-width:100%;height:auto'>"
                f"<g transform='translate(0 {TIP})'>{''.join(rects)}</g></svg>")

    def _table(self, a, digits):
        t = self.t
        order = np.argsort(-a, kind="stable")[:TOP]
        rows = [[str(k if digits else k + 1), _fmt(a[k])] for k in order]
        return table_html(t("inside.table_summary", n=min(TOP, len(a))), t("inside.table_caption"),
                          [t("inside.col_digit" if digits else "inside.col_unit"), t("inside.col_value")],
                          rows, "inside-table")

    def _kernels(self, K):
        """The kernels (out, in, kh, kw) as small images, one row per filter, 0 as mid-grey."""
        out, cin, kh, kw = K.shape
        m = float(np.abs(K).max()) or 1.0
        # one row per filter (its kernel for each input channel), or one row of all when one channel
        grid = tile_grid(0.5 + 0.5 * np.asarray(K, dtype=np.float64).reshape(out * cin, kh, kw) / m,
                         cin if cin > 1 else out)
        label = esc(self.t("inside.kernels", out=out, cin=cin, size=f"{kh}x{kw}"))
        scale = max(2, 40 // kw) if cin == 1 else max(2, 20 // kw)
        return (f"<p style='margin:6px 0 2px'>{label}</p><img class='kernels' src='{png_data_uri(grid, scale)}' "
                f"alt='{label}' style='image-rendering:pixelated;max-width:100%'>")

    def __panel__(self):
        return pn.Column(pn.pane.HTML(f"<p>{esc(self.t('inside.intro'))}</p>", margin=(0, 10)), self.random,
                         self.body, sizing_mode="stretch_width")
