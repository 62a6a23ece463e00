"""The Train tab: settings, Start / Pause / Step / Reset, the status line, live loss and accuracy."""
from __future__ import annotations

import asyncio
import sys

import panel as pn
import param
from bokeh.models import ColumnDataSource, Range1d

from ..state.trainer import N_ESTIMATE, Trainer
from .common import BLUE, ORANGE, alert_html, figure

CHUNK_PERIOD_MS = 100  # training chunks start this often, each followed by a short sleep: in Pyodide
# a chunk that outlasted the period would run back to back without yielding, and clicks would wait


class TrainPlots:
    """The loss and accuracy figures, made at the first batch rather than at start-up: there is
    nothing to draw before, and the static page answers a tenth of a second sooner."""

    def __init__(self, trainer, t):
        self.trainer, self.t = trainer, t
        self.loss_src = None
        self._streamed = (0, 0, 0)
        self.pane = pn.Row(pn.pane.HTML(f"<p style='color:#666'>{t('train.plots_placeholder')}</p>",
                                        css_classes=["plots-placeholder"]))

    def _make(self):
        tr, t = self.trainer, self.t
        self.loss_src = ColumnDataSource(dict(x=[], y=[]))
        self.acc_src = ColumnDataSource(dict(epoch=[], train=[], test=[]))
        self.est_src = ColumnDataSource(dict(x=[], y=[]))
        self.loss_x, self.loss_y, self.acc_x = Range1d(0, tr.epochs), Range1d(0, 2.5), Range1d(0, tr.epochs)
        loss = figure(t("train.loss_title"), x_axis_label=t("train.epoch_axis"), x_range=self.loss_x,
                      y_range=self.loss_y)
        loss.line("x", "y", source=self.loss_src, color=BLUE, line_width=2)
        acc = figure(t("train.accuracy_title"), x_axis_label=t("train.epoch_axis"), x_range=self.acc_x, y_range=(0, 1))
        acc.line("epoch", "train", source=self.acc_src, color=BLUE, line_width=2, legend_label=t("train.legend_train"))
        acc.scatter("epoch", "train", source=self.acc_src, color=BLUE, size=7)
        acc.line("epoch", "test", source=self.acc_src, color=ORANGE, line_width=2, legend_label=t("train.legend_test"))
        acc.scatter("epoch", "test", source=self.acc_src, color=ORANGE, size=7)
        acc.scatter("x", "y", source=self.est_src, color=ORANGE, marker="triangle", size=7, alpha=0.5,
                    legend_label=t("train.legend_estimate", n=N_ESTIMATE))
        acc.legend.location = "bottom_right"
        acc.legend.label_text_font_size = "11px"
        self.pane.objects = [pn.pane.Bokeh(loss), pn.pane.Bokeh(acc)]

    def stream(self, *events):
        """Send the points recorded since the last call (all of them after a reset)."""
        tr = self.trainer
        if self.loss_src is None:
            if not (tr.losses or tr.history or tr.estimates):
                return
            self._make()
        n_loss, n_hist, n_est = self._streamed
        if len(tr.losses) < n_loss or len(tr.history) < n_hist or len(tr.estimates) < n_est:  # a reset
            self.loss_src.data = dict(x=[], y=[])
            self.acc_src.data = dict(epoch=[], train=[], test=[])
            self.est_src.data = dict(x=[], y=[])
            n_loss = n_hist = n_est = 0
        if len(tr.losses) > n_loss:
            xs, ys = zip(*tr.losses[n_loss:])
            self.loss_src.stream(dict(x=list(xs), y=list(ys)))
        if len(tr.history) > n_hist:
            new = tr.history[n_hist:]
            self.acc_src.stream(dict(epoch=[h["epoch"] for h in new], train=[h["train_acc"] for h in new],
                                     test=[h["test_acc"] for h in new]))
        if len(tr.estimates) > n_est:
            xs, ys = zip(*tr.estimates[n_est:])
            self.est_src.stream(dict(x=list(xs), y=list(ys)))
        self._streamed = (len(tr.losses), len(tr.history), len(tr.estimates))
        self.loss_x.end = self.acc_x.end = max(tr.epochs, tr.losses[-1][0] if tr.losses else 0)
        self.loss_y.end = 1.1 * max((y for _, y in tr.losses), default=2.3)


class TrainView(pn.viewable.Viewer):
    trainer = param.ClassSelector(class_=Trainer)

    def __init__(self, t, **params):
        super().__init__(**params)
        self.t = t
        self.plots = TrainPlots(self.trainer, t)
        self.trainer.param.watch(self.plots.stream, ["tick", "epochs"])
        self._periodic = None
        self.trainer.param.watch(self._running_changed, "running")
        self._layout = self._build()

    def _running_changed(self, event):
        # started at the first Start and left running (a paused chunk returns at once): stopping
        # it in Pyodide cancels its asyncio task, which logs a CancelledError traceback
        live = sys.platform == "emscripten" or (pn.state.curdoc is not None and pn.state.curdoc.session_context)
        if event.new and self._periodic is None and live:  # (without a live page, tests call chunk())
            self._periodic = pn.state.add_periodic_callback(self._tick, period=CHUNK_PERIOD_MS)

    async def _tick(self):
        self.trainer.chunk()
        await asyncio.sleep(0.005)  # always let the page's messages (a click on Pause) in first

    def status(self, epoch, batch, n_batches, speed, estimate, running, tick, epochs, learning_rate):
        tr, t = self.trainer, self.t
        state = "running" if running else ("finished" if epoch >= tr.epochs else "paused" if tr.steps else "ready")
        shown = min(epoch + (1 if batch < n_batches and running else 0), tr.epochs)
        parts = [f"<b>{t('train.state_' + state)}</b> · "
                 + t("train.status_position", epoch=shown, epochs=tr.epochs, batch=batch, n_batches=n_batches,
                     lr=f"{tr.learning_rate:g}")]
        if speed and tr.steps:
            parts.append(t("train.status_speed", speed=f"{speed:,.0f}"))
        if estimate is not None:
            parts.append(t("train.status_estimate", acc=f"{estimate:.3f}"))
        if tr.history:
            h = tr.history[-1]
            parts.append(t("train.status_tested", acc=f"{h['test_acc']:.3f}", epoch=h["epoch"],
                           seconds=f"{h['seconds']:.2f}"))
        return " · ".join(parts)

    def test_accuracy(self, tick):
        h = self.trainer.history
        if not h:
            return self.t("train.test_accuracy_none")
        return self.t("train.test_accuracy", acc=f"{h[-1]['test_acc']:.4f}")

    def _build(self):
        tr, t, w = self.trainer, self.t, pn.widgets
        kind = w.RadioButtonGroup.from_param(tr.param.model_kind, name=t("train.network"), button_type="default")
        arch = [w.IntSlider.from_param(tr.param.hidden, name=t("train.hidden")),
                w.Checkbox.from_param(tr.param.second_layer, name=t("train.second_layer")),
                w.IntSlider.from_param(tr.param.hidden2, name=t("train.hidden2"))]

        def show_arch(*_):
            for widget in arch:
                widget.visible = tr.model_kind == "MLP"
            arch[2].visible = tr.model_kind == "MLP" and tr.second_layer
        show_arch()
        tr.param.watch(show_arch, ["model_kind", "second_layer"])
        lr = w.DiscreteSlider.from_param(tr.param.learning_rate, name=t("train.learning_rate"))
        bs = w.Select.from_param(tr.param.batch_size, name=t("train.batch_size"))
        epochs = w.IntSlider.from_param(tr.param.epochs, name=t("train.epochs"))
        size = w.IntSlider.from_param(tr.param.train_size, name=t("train.train_size"))
        seed = w.IntInput.from_param(tr.param.seed, name=t("train.seed"))
        frozen = [kind, *arch, lr, bs, size, seed]

        start = w.Button(name=t("train.start"), button_type="primary")
        pause = w.Button(name=t("train.pause"), button_type="warning", disabled=True)
        step = w.Button(name=t("train.step"), button_type="default")
        reset = w.Button(name=t("train.reset"), button_type="danger", button_style="outline")
        start.on_click(tr.start)
        pause.on_click(tr.pause)
        step.on_click(tr.step)
        reset.on_click(tr.reset)

        def running_changed(event):
            for widget in frozen + [start, step]:
                widget.disabled = event.new
            pause.disabled = not event.new
        tr.param.watch(running_changed, "running")
        progress = w.Progress(value=pn.bind(lambda b, n: int(100 * b / max(n, 1)), tr.param.batch, tr.param.n_batches),
                              max=100, height=16, bar_color="primary")
        # HTML panes, not Markdown, on the first tab: Markdown's parser loads and compiles its
        # rules on first use, a tenth of a second of the static page's start-up
        status = pn.pane.HTML(pn.bind(self.status, tr.param.epoch, tr.param.batch, tr.param.n_batches, tr.param.speed,
                                      tr.param.estimate, tr.param.running, tr.param.tick, tr.param.epochs,
                                      tr.param.learning_rate), css_classes=["train-status"])
        test_acc = pn.pane.HTML(pn.bind(self.test_accuracy, tr.param.tick), css_classes=["test-accuracy"])
        alert = pn.pane.HTML(pn.bind(lambda m: alert_html(t(m) if m else ""), tr.param.alert),
                             visible=pn.bind(bool, tr.param.alert), css_classes=["train-alert"])
        controls = pn.Column(
            pn.pane.HTML(f"<h3>{t('train.network_heading')}</h3>"), kind, *arch,
            pn.pane.HTML(f"<h3>{t('train.training_heading')}</h3>"), lr, bs, epochs, size, seed,
            width=300, sizing_mode="fixed")
        buttons = pn.FlexBox(start, pause, step, reset, gap="8px")
        for b in (start, pause, step, reset):
            b.width = 140
            b.sizing_mode = "fixed"
        main = pn.Column(buttons, progress, status, alert, test_acc, self.plots.pane, sizing_mode="stretch_width")
        return pn.FlexBox(controls, main, flex_wrap="wrap", gap="24px")

    def __panel__(self):
        return self._layout
