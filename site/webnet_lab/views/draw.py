"""The Draw tab: a pad for mouse, pen or finger, what the network sees, the ten probabilities."""
from __future__ import annotations

import numpy as np
import panel as pn
import param
from bokeh.models import ColumnDataSource, FactorRange

from ..components.drawing_pad import DrawingPad
from ..png import png_data_uri
from ..state.classifier import DrawingClassifier
from .common import BLUE, DIGIT_LABELS, GREY, ORANGE, chart, esc, figure, table_html


class DrawView(pn.viewable.Viewer):
    classifier = param.ClassSelector(class_=DrawingClassifier)
    answered = param.Integer(default=0, doc="the last stroke whose answer is shown (tests wait for it)")

    def __init__(self, t, **params):
        super().__init__(**params)
        self.t = t
        self.pad = DrawingPad(self._drawn, clear_label=t("draw.clear"), label=t("draw.pad_label"), sizing_mode="stretch_width", max_width=480)
        self.bars = ColumnDataSource(dict(digit=list(DIGIT_LABELS), p=[0.0] * 10, color=[GREY] * 10))
        f = figure(t("draw.probabilities"), height=240, x_range=FactorRange(*DIGIT_LABELS), y_range=(0, 1))
        f.vbar("digit", top="p", width=0.7, color="color", source=self.bars)
        self.figure = f
        self.table = pn.pane.HTML("", css_classes=["probability-table"])
        self.classifier.param.watch(self._update_bars, "probabilities")

    def _drawn(self, alpha, stroke, damaged=False):
        if damaged:
            self.classifier.damaged()
        else:
            self.classifier.classify_image(alpha)
        if stroke is not None:
            self.answered = stroke

    def _update_bars(self, event):
        p = event.new
        self.table.object = "" if p is None else table_html(
            self.t("draw.table_summary"), self.t("draw.probabilities"),
            [self.t("draw.table_digit"), self.t("draw.table_p")],
            [[d, f"{v:.3f}"] for d, v in zip(DIGIT_LABELS, p)], "probabilities")
        if p is None:
            self.bars.data = dict(digit=list(DIGIT_LABELS), p=[0.0] * 10, color=[GREY] * 10)
            return
        top = int(np.argmax(p))
        self.bars.data = dict(digit=list(DIGIT_LABELS), p=[float(v) for v in p],
                              color=[ORANGE if i == top else BLUE for i in range(10)])

    def preview(self, img):
        if img is None:
            return "<div style='width:140px;height:140px;border:1px dashed #bbb;border-radius:6px'></div>"
        return (f"<img src='{png_data_uri(img, 5)}' width='140' height='140' alt='{esc(self.t('draw.preview_alt'))}' "
                "style='image-rendering:pixelated;border:1px solid #bbb;border-radius:6px'/>")

    def prediction(self, message, answered, version):
        return f"<p role='status' data-answer='{answered}' data-version='{version}'>{self.t(message)}</p>"

    def source(self, model_name, version):
        if model_name is None:
            return ""
        return f"<p data-version='{version}'>{esc(self.t('draw.classified_by', model=self.t(model_name)))}</p>"

    def __panel__(self):
        c, t = self.classifier, self.t
        rand = pn.widgets.Button(name=t("draw.random"), width=170, sizing_mode="fixed")
        rand.on_click(c.random_test_digit)
        source = pn.pane.HTML(pn.bind(self.source, c.param.model_name, c.param.version), css_classes=["model-source"])
        prediction = pn.pane.HTML(pn.bind(self.prediction, c.param.message, self.param.answered, c.param.version),
                                  css_classes=["prediction"])
        preview = pn.Column(pn.pane.HTML(f"<b>{t('draw.sees')}</b>"),
                            pn.pane.HTML(pn.bind(self.preview, c.param.preview), css_classes=["preview"]),
                            width=170, sizing_mode="fixed")
        instructions = pn.pane.HTML(f"<p>{t('draw.instructions')}</p>", sizing_mode="stretch_width")
        # the pad as wide as it can be (up to 500 px): the answer goes beside it only where both fit
        left = pn.Column(instructions, self.pad, rand, sizing_mode="stretch_width", max_width=500,
                         styles={"flex": "1 1 480px", "min-width": "0"})
        # the chart beside what the network sees, or under it on a phone (beside, it was a sliver)
        probabilities = chart(self.figure, t, "webnet-probabilities.png", sizing_mode="stretch_width",
                              styles={"flex": "1 1 240px", "min-width": "0"})
        right = pn.Column(prediction, source, pn.FlexBox(preview, probabilities, gap="12px", sizing_mode="stretch_width"),
                          self.table, sizing_mode="stretch_width", styles={"flex": "1 1 320px", "min-width": "0"})
        return pn.FlexBox(left, right, flex_wrap="wrap", gap="24px")
