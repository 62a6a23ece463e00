"""The Inspect tab: confusion matrix, accuracy per class, the most confidently wrong test digits,
and what the first layer looks for."""
from __future__ import annotations

import time

import numpy as np
import panel as pn
import param
from bokeh.models import ColumnDataSource, FactorRange, LinearColorMapper
from bokeh.palettes import Blues256

import webnet

from ..png import png_data_uri, tile_grid
from ..state.data import digits
from ..state.evaluation import Evaluation
from ..state.models import Models
from .common import BLUE, DIGIT_LABELS, chart, esc, figure, table_html

WEIGHTS_EVERY = 1.0  # seconds between redraws of the first layer's weights while training
SHOWN_UNITS = 64  # first-layer units whose weights are drawn


class InspectView(pn.viewable.Viewer):
    models = param.ClassSelector(class_=Models)

    def __init__(self, t, **params):
        super().__init__(**params)
        self.t = t
        self.cm_src = ColumnDataSource(dict(true=[], pred=[], count=[], label=[], text_color=[]))
        cm = figure(t("inspect.confusion_title"), height=380, x_range=FactorRange(*DIGIT_LABELS),
                    y_range=FactorRange(*reversed(DIGIT_LABELS)), x_axis_label=t("inspect.predicted"),
                    y_axis_label=t("inspect.true"))
        self.mapper = LinearColorMapper(palette=Blues256[::-1], low=0, high=50)
        cm.rect("pred", "true", 1, 1, source=self.cm_src, fill_color={"field": "count", "transform": self.mapper},
                line_color="white")
        cm.text("pred", "true", "label", source=self.cm_src, text_align="center", text_baseline="middle",
                text_font_size="11px", text_color="text_color")
        cm.grid.visible = False
        self.pc_src = ColumnDataSource(dict(digit=list(DIGIT_LABELS), acc=[0.0] * 10, label=[""] * 10))
        pc = figure(t("inspect.per_class_title"), height=380, x_range=FactorRange(*DIGIT_LABELS), y_range=(0, 1.15))
        pc.vbar("digit", top="acc", width=0.7, source=self.pc_src, color=BLUE)
        pc.text("digit", "acc", "label", source=self.pc_src, text_align="center", text_baseline="bottom",
                text_font_size="10px")
        self.gallery = pn.pane.HTML("", css_classes=["gallery"])
        self.weights = pn.pane.HTML("", css_classes=["weights"])
        self.summary = pn.pane.HTML("", css_classes=["inspect-summary"])
        self.table = pn.pane.HTML("", css_classes=["confusion-table-pane"])
        side = dict(sizing_mode="stretch_width", styles={"flex": "1 1 340px", "min-width": "0"})
        self.plots = pn.FlexBox(chart(cm, t, "webnet-confusion.png", **side), chart(pc, t, "webnet-per-class.png", **side),
                                gap="12px", sizing_mode="stretch_width")
        self._shown = None
        self._weights_at = 0.0
        self.visible = False  # nothing is computed before the tab is first shown
        self.models.param.watch(self.refresh, "version")
        self.models.trainer.param.watch(self.refresh, "running")

    def refresh(self, *events):
        """Redraw from one evaluation of the model in use. While it trains that is the evaluation
        made at the end of its last epoch (a fresh one would hold up the controls); the first
        layer's weights are redrawn live, at most once a second."""
        models, t = self.models, self.t
        tr = models.trainer
        if not self.visible:
            return
        training = models.source == "trained" and tr.running
        now = time.perf_counter()
        if not training or now - self._weights_at > WEIGHTS_EVERY:
            self._weights_at = now
            self.weights.object = self._weights_html(models.current)
        if training:
            probs = tr.evaluation[1] if tr.evaluation is not None else None
        else:
            probs = models.test_probabilities()
        name = t(models.label())
        if probs is None:
            self.summary.object = (f"<p data-version='{models.version}'>"
                                   f"{t('inspect.summary_waiting', model=esc(name))}</p>")
            return
        if self._shown is probs:
            return
        self._shown = probs
        ev = Evaluation.of(probs)
        counts = ev.confusion.ravel()
        true, predicted = np.divmod(np.arange(100), 10)
        self.mapper.high = max(20, int(ev.confusion[~np.eye(10, dtype=bool)].max()) * 2)
        self.cm_src.data = dict(true=[str(v) for v in true], pred=[str(v) for v in predicted], count=counts.tolist(),
                                label=[str(c) if c else "" for c in counts],
                                text_color=["white" if c > self.mapper.high * 0.6 else "#333" for c in counts])
        self.pc_src.data = dict(digit=list(DIGIT_LABELS), acc=ev.per_class.tolist(),
                                label=[f"{a:.2f}" for a in ev.per_class])
        key = "inspect.summary_running" if training else "inspect.summary"
        epoch = tr.history[-1]["epoch"] if tr.history else 0
        self.summary.object = (f"<p data-version='{models.version}'>"
                               + t(key, model=esc(name), epoch=epoch, acc=f"{ev.accuracy:.4f}", n=t.number(len(ev.pred)),
                                   mistakes=ev.n_mistakes) + "</p>")
        self.table.object = self._table_html(ev)
        self.gallery.object = self._gallery_html(ev)

    def _table_html(self, ev):
        """The confusion matrix as a table: what the chart shows, for screen readers and for copying."""
        t = self.t
        header = [f"{t('inspect.true')} / {t('inspect.predicted')}", *DIGIT_LABELS, t("inspect.per_class_short")]
        rows = [[d, *ev.confusion[i], f"{ev.per_class[i]:.2f}"] for i, d in enumerate(DIGIT_LABELS)]
        return table_html(t("inspect.table_summary"), t("inspect.confusion_title"), header, rows, "confusion-table")

    def _gallery_html(self, ev):
        X_test, y_test = digits()[2:]
        t = self.t
        cards = "".join(
            f"<figure style='margin:4px;text-align:center;width:96px'>"
            f"<img src='{png_data_uri(X_test[i].reshape(28, 28), 2)}' width='56' height='56' "
            f"alt='{esc(t('inspect.mistake_alt', label=y_test[i], pred=ev.pred[i]))}' "
            f"style='image-rendering:pixelated;border:1px solid #ddd'/>"
            f"<figcaption style='font-size:14px;line-height:1.3'>"
            + t("inspect.mistake_caption", label=y_test[i], pred=ev.pred[i], pct=round(100 * ev.probs[i, ev.pred[i]]))
            + "</figcaption></figure>" for i in ev.mistakes)
        return f"<div style='display:flex;flex-wrap:wrap'>{cards}</div>" if cards else f"<p>{t('inspect.no_mistakes')}</p>"

    def _weights_html(self, net):
        t = self.t
        first = next((layer for layer in net.layers if layer.param_names), None)
        if isinstance(first, webnet.LinearLayer) and first.in_features == 784:
            tiles = first.W[:, :SHOWN_UNITS].T.reshape(-1, 28, 28)
            caption = t("inspect.weights_linear", k=tiles.shape[0], n=first.out_features)
        elif isinstance(first, webnet.Conv2D):
            tiles = first.K[:, 0]
            caption = t("inspect.weights_conv", k=tiles.shape[0], h=tiles.shape[1], w=tiles.shape[2])
        else:
            return ""
        scale = np.abs(tiles).max(axis=(1, 2), keepdims=True) + 1e-12
        tiles = 0.5 - 0.5 * tiles / scale  # positive dark, negative light, zero grey
        grid = tile_grid(tiles, 16 if len(tiles) > 8 else len(tiles))
        src = png_data_uri(grid, 3 if tiles.shape[1] >= 20 else 12)
        return (f"<p style='margin:0 0 4px 0'>{caption}</p>"
                f"<img src='{src}' alt='{esc(caption)}' style='image-rendering:pixelated;max-width:100%'/>")

    def show(self):
        self.visible = True
        self.refresh()

    def __panel__(self):
        t = self.t
        return pn.Column(self.summary, self.plots, self.table, pn.pane.HTML(f"<h2 class='section'>{t('inspect.gallery_heading')}</h2>"),
                         self.gallery, pn.pane.HTML(f"<h2 class='section'>{t('inspect.weights_heading')}</h2>"), self.weights)
