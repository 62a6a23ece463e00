"""The Train tab: settings, Start / Pause / Step / Reset, the status line, live loss and accuracy."""
from __future__ import annotations

import asyncio
import sys

import panel as pn
import param
from bokeh.core.properties import value
from bokeh.models import ColumnDataSource, Legend, Range1d

from ..png import png_data_uri
from ..state.trainer import N_ESTIMATE, Trainer
from .common import BLUE, MARKER_MARGIN, ORANGE, alert_html, chart, esc, figure, table_html

CHUNK_PERIOD_MS = 100  # training chunks start this often, each followed by a short sleep: in Pyodide
# a chunk that outlasted the period would run back to back without yielding, and clicks would wait
PLOT_HEIGHT = 250  # both curves fit beside the controls in a 1280x800 window


class TrainPlots:
    """The loss and accuracy figures, made at the first batch rather than at start-up: there is
    nothing to draw before, and the static page answers a tenth of a second sooner."""

    def __init__(self, trainer, t):
        self.trainer, self.t = trainer, t
        self.loss_src = None
        self._streamed = (0, 0, 0)
        self.pane = pn.FlexBox(pn.pane.HTML(f"<p style='color:#666'>{esc(t('train.plots_placeholder'))}</p>",
                                            css_classes=["plots-placeholder"]), gap="12px", sizing_mode="stretch_width")

    def _make(self):
        tr, t = self.trainer, self.t
        self.loss_src = ColumnDataSource(dict(x=[], y=[]), name="train-loss")  # (tests read it by name)
        self.acc_src = ColumnDataSource(dict(epoch=[], train=[], test=[]))
        self.est_src = ColumnDataSource(dict(x=[], y=[]))
        self.loss_x, self.loss_y, self.acc_x = Range1d(0, tr.epochs), Range1d(0, 2.5), Range1d(0, tr.epochs)
        loss = figure(t("train.loss_title"), height=PLOT_HEIGHT, x_axis_label=t("train.epoch_axis"),
                      x_range=self.loss_x, y_range=self.loss_y)
        loss.line("x", "y", source=self.loss_src, color=BLUE, line_width=2)
        acc = figure(t("train.accuracy_title"), height=PLOT_HEIGHT, x_axis_label=t("train.epoch_axis"),
                     x_range=self.acc_x, y_range=(0, 1))
        # solid line and circles for train, dashed line and squares for test, triangles for the
        # estimate: told apart without colour too; the legend sits below, never over the curves
        train_line = acc.line("epoch", "train", source=self.acc_src, color=BLUE, line_width=2)
        train_dots = acc.scatter("epoch", "train", source=self.acc_src, color=BLUE, size=7)
        test_line = acc.line("epoch", "test", source=self.acc_src, color=ORANGE, line_width=2, line_dash="dashed")
        test_dots = acc.scatter("epoch", "test", source=self.acc_src, color=ORANGE, size=7, marker="square")
        est = acc.scatter("x", "y", source=self.est_src, color=ORANGE, marker="triangle", size=7, alpha=0.6)
        self._train_label = self._train_legend()
        legend = Legend(items=[(self._train_label, [train_line, train_dots]),
                               (t("train.legend_test"), [test_line, test_dots]),
                               (t("train.legend_estimate", n=N_ESTIMATE), [est])],
                        orientation="horizontal", nrows=2, label_text_font_size="14px", spacing=8, margin=0, padding=2)
        acc.add_layout(legend, "below")
        self.legend = legend
        self.figures = (loss, acc)
        self.table = pn.pane.HTML("", css_classes=["history-table"], sizing_mode="stretch_width")
        downloads = pn.FlexBox(
            pn.widgets.FileDownload(callback=self.history_csv, filename="webnet-history.csv", label=t("train.download_csv"),
                                    button_type="light", width=220, sizing_mode="fixed", css_classes=["download-csv"]),
            pn.widgets.FileDownload(callback=self.history_json, filename="webnet-history.json",
                                    label=t("train.download_json"), button_type="light", width=220, sizing_mode="fixed",
                                    css_classes=["download-json"]), gap="8px", sizing_mode="stretch_width")
        self.pane.objects = [chart(fig, t, f"webnet-{name}.png", sizing_mode="stretch_width",
                                   styles={"flex": "1 1 340px", "min-width": "0"})
                             for fig, name in ((loss, "loss"), (acc, "accuracy"))]
        self.pane.objects += [self.table, downloads]

    COLUMNS = ("epoch", "train_loss", "train_acc", "test_acc", "test_loss", "seconds")

    def history_csv(self):
        """The run's epochs as CSV (one row per epoch, the table's numbers in full)."""
        import csv
        import io

        text = io.StringIO()
        out = csv.writer(text, lineterminator="\n")
        out.writerow(self.COLUMNS)
        for h in self.trainer.history:
            out.writerow([h[c] for c in self.COLUMNS])
        return io.BytesIO(text.getvalue().encode())

    def history_json(self):
        """The run as JSON: its settings, the epochs, and every batch's loss."""
        import io
        import json

        tr = self.trainer
        run = {"settings": {"architecture": tr.architecture, "learning_rate": tr.learning_rate,
                            "batch_size": tr.batch_size, "epochs": tr.epochs, "train_size": tr.train_size,
                            "seed": tr.seed, "augment": tr.augment, "custom_layer": tr.custom_class_name()},
               "epochs": [{c: h[c] for c in self.COLUMNS} for h in tr.history],
               "batch_losses": [{"epoch": x, "loss": y} for x, y in tr.losses]}
        return io.BytesIO(json.dumps(run, indent=1).encode())

    def _table(self):
        """The epochs' numbers the curves show, as a table (screen readers cannot read a canvas)."""
        t = self.t
        rows = [[h["epoch"], f"{h['train_loss']:.4f}", f"{h['train_acc']:.4f}", f"{h['test_acc']:.4f}",
                 f"{h['test_loss']:.4f}"] for h in self.trainer.history]
        header = [t("train.table_epoch"), t("train.table_loss"), t("train.table_train_acc"),
                  t("train.table_test_acc"), t("train.table_test_loss")]
        return table_html(t("train.table_summary"), t("train.accuracy_title"), header, rows, "history")

    def _train_legend(self):
        n = self.trainer.n_eval()
        return self.t("train.legend_train", n=self.t.number(n))

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
        label = self._train_legend()  # (a run on fewer digits measures its train accuracy on those)
        if label != self._train_label:
            self.legend.items[0].label = value(label)
            self._train_label = label
        if len(tr.losses) > n_loss:
            xs, ys = zip(*tr.losses[n_loss:])
            self.loss_src.stream(dict(x=list(xs), y=list(ys)))
        if len(tr.history) != n_hist:
            self.table.object = self._table()
        if len(tr.history) > n_hist:
            new = tr.history[n_hist:]
            self.acc_src.stream(dict(epoch=[h["epoch"] for h in new], train=[h["train_acc"] for h in new],
                                     test=[h["test_acc"] for h in new]))
        if len(tr.estimates) > n_est:
            new = tr.estimates[n_est:]
            self.est_src.stream(dict(x=[e[0] for e in new], y=[e[1] for e in new]))
        self._streamed = (len(tr.losses), len(tr.history), len(tr.estimates))
        end = max(tr.epochs, tr.losses[-1][0] if tr.losses else 0)
        # the accuracies' markers sit on whole epochs: a margin keeps the first and last whole
        self.loss_x.end = end
        self.acc_x.start, self.acc_x.end = -MARKER_MARGIN * end, (1 + MARKER_MARGIN) * end
        self.loss_y.end = 1.1 * max((y for _, y in tr.losses), default=2.3)


class TrainView(pn.viewable.Viewer):
    trainer = param.ClassSelector(class_=Trainer)

    def __init__(self, t, **params):
        super().__init__(**params)
        self.t = t
        self.plots = TrainPlots(self.trainer, t)
        self.trainer.param.watch(self.plots.stream, ["tick", "epochs"])
        self._periodic = None
        self.trainer.param.watch(self._busy_changed, ["running", "phase"])
        # what a screen reader hears: the run's milestones, not every batch (a polite live region)
        self.announce = pn.pane.HTML("", css_classes=["announce"], margin=0)
        self.trainer.param.watch(self._announce, ["phase", "epoch"])
        self._layout = self._build()

    def _announce(self, *events):
        tr, t = self.trainer, self.t
        epoch, batch = tr.position()
        if tr.phase == "training" and any(e.name == "epoch" for e in events) and tr.history:
            text = t("train.announce_epoch", epoch=tr.history[-1]["epoch"], acc=f"{tr.history[-1]['test_acc']:.3f}")
        elif tr.phase in ("training", "paused", "finished", "stopped"):
            text = t(f"train.announce_{tr.phase}", epoch=epoch, batch=batch,
                     acc=f"{tr.history[-1]['test_acc']:.3f}" if tr.history else "—")
        else:
            return
        self.announce.object = f"<p role='status' class='sr-only'>{esc(text)}</p>"

    def _busy_changed(self, *events):
        # started at the first Start and left running (an idle chunk returns at once): stopping it
        # in Pyodide cancels its asyncio task, which logs a CancelledError traceback
        live = sys.platform == "emscripten" or (pn.state.curdoc is not None and pn.state.curdoc.session_context)
        if self.trainer.busy and self._periodic is None and live:  # (without a live page, tests call chunk())
            self._periodic = pn.state.add_periodic_callback(self._tick, period=CHUNK_PERIOD_MS)

    async def _tick(self):
        self.trainer.chunk()
        await asyncio.sleep(0.005)  # always let the page's messages (a click on Pause) in first

    def status(self, *_):
        """The status line: state, position, and (while training) speed; each part agrees with the others."""
        tr, t = self.trainer, self.t
        epoch, batch = tr.position()
        parts = [f"<b>{esc(t('train.state_' + tr.phase))}</b>",
                 t("train.status_position", epoch=epoch, epochs=tr.epochs, batch=batch, n_batches=tr.n_batches),
                 t("train.status_rate", lr=f"{tr.learning_rate:g}")]
        if tr.phase in ("training", "evaluating") and tr.speed:
            parts.append(t("train.status_speed", speed=t.number(tr.speed)))
        if tr.steps:
            parts.append(t("train.status_time", wall=f"{tr.wall():.1f}", compute=f"{tr.compute_seconds:.1f}"))
        if tr.estimate is not None:
            parts.append(t("train.status_estimate", acc=f"{tr.estimate:.3f}"))
        if tr.dead is not None:
            parts.append(t("train.status_dead", pct=round(100 * tr.dead)))
        return (f"<p data-phase='{tr.phase}' data-epoch='{epoch}' data-batch='{batch}' "
                f"data-compute='{tr.compute_seconds:.4f}' data-wall='{tr.wall():.4f}'>" + " · ".join(parts) + "</p>")

    def test_accuracy(self, *_):
        h = self.trainer.history
        if not h:
            return self.t("train.test_accuracy_none")
        return self.t("train.test_accuracy", acc=f"{h[-1]['test_acc']:.4f}", epoch=h[-1]["epoch"])

    def arch_note(self, kind):
        """What the chosen kind of network is, in a sentence (the MLP's sliders say it for it)."""
        key = {"CNN": "train.arch_cnn", "LeNet": "train.arch_lenet"}.get(kind)
        return f"<p>{esc(self.t(key))}</p>" if key else ""

    def augment_preview(self, on, seed):
        """With augmentation on: the first training digit as the batches will see it, distorted."""
        if not on:
            return ""
        tiles = self.trainer.augment_preview()
        imgs = "".join(f"<img src='{png_data_uri(tile, 2)}' width='48' height='48' alt=''>" for tile in tiles)
        return (f"<p style='margin:4px 0'>{esc(self.t('train.augment_preview'))}</p>"
                f"<div role='img' aria-label='{esc(self.t('train.augment_preview_label', n=len(tiles)))}' "
                f"style='display:flex;flex-wrap:wrap;gap:4px'>{imgs}</div>")

    def _build(self):
        tr, t, w = self.trainer, self.t, pn.widgets
        kind = w.RadioButtonGroup.from_param(tr.param.model_kind, name=t("train.network"), button_type="default",
                                             css_classes=["network-kind"])  # (a11y.js names the group)
        arch = [w.IntSlider.from_param(tr.param.hidden, name=t("train.hidden")),
                w.Checkbox.from_param(tr.param.second_layer, name=t("train.second_layer")),
                w.IntSlider.from_param(tr.param.hidden2, name=t("train.hidden2"))]

        arch_note = pn.pane.HTML(pn.bind(self.arch_note, tr.param.model_kind), css_classes=["arch-note"],
                                 margin=(0, 10))

        def show_arch(*_):
            for widget in arch:
                widget.visible = tr.model_kind == "MLP"
            arch[2].visible = tr.model_kind == "MLP" and tr.second_layer
        show_arch()
        tr.param.watch(show_arch, ["model_kind", "second_layer"])
        augment = w.Checkbox.from_param(tr.param.augment, name=t("train.augment"))
        with_drawings = w.Checkbox.from_param(tr.param.with_drawings, name=t("train.with_drawings"),
                                              visible=pn.bind(lambda n: n > 0, tr.param.drawings_kept))
        preview = pn.pane.HTML(pn.bind(self.augment_preview, tr.param.augment, tr.param.seed),
                               css_classes=["augment-preview"], margin=(0, 10))
        # a select, not a slider: it announces the rate itself (0.1), and a click reaches any of them
        lr = w.Select.from_param(tr.param.learning_rate, name=t("train.learning_rate"),
                                 options={f"{r:g}": r for r in tr.param.learning_rate.objects})
        bs = w.Select.from_param(tr.param.batch_size, name=t("train.batch_size"))
        epochs = w.IntSlider.from_param(tr.param.epochs, name=t("train.epochs"))
        size = w.IntSlider.from_param(tr.param.train_size, name=t("train.train_size"))
        seed = w.IntInput.from_param(tr.param.seed, name=t("train.seed"))
        frozen = [kind, *arch, lr, bs, size, seed, augment, with_drawings]

        start = w.Button(name=t("train.start"), button_type="primary")
        pause = w.Button(name=t("train.pause"), button_type="warning", disabled=True)
        step = w.Button(name=t("train.step"), button_type="default")
        reset = w.Button(name=t("train.reset"), button_type="danger", button_style="outline")
        start.on_click(tr.start)
        pause.on_click(tr.pause)
        step.on_click(tr.step)
        reset.on_click(tr.reset)
        suggest = w.Button(name="", button_type="primary", visible=False, width=300, sizing_mode="fixed")
        suggest.on_click(tr.use_suggestion)

        def suggestion_changed(*_):
            suggest.visible = tr.suggestion is not None
            if tr.suggestion is not None:
                suggest.name = t("train.use_suggestion", rate=f"{tr.suggestion:g}")
        tr.param.watch(suggestion_changed, "suggestion")

        def running_changed(event):
            # what becomes usable first, then what does not: in the static page each change reaches
            # the browser on its own, and a focused button that disables itself hands the focus to
            # the first enabled button beside it (Start's to Pause, Pause's to Start; never Reset)
            usable, unusable = ([pause], frozen + [start, step]) if event.new else (frozen + [start, step], [pause])
            for widget in usable:
                widget.disabled = False
            for widget in unusable:
                widget.disabled = True
        tr.param.watch(running_changed, "running")
        progress = w.Progress(value=pn.bind(lambda b, n: int(100 * b / max(n, 1)), tr.param.batch, tr.param.n_batches),
                              max=100, height=12, bar_color="primary", sizing_mode="stretch_width")
        # HTML panes, not Markdown, on the first tab: Markdown's parser loads and compiles its
        # rules on first use, a tenth of a second of the static page's start-up
        status = pn.pane.HTML(pn.bind(self.status, tr.param.phase, tr.param.epoch, tr.param.batch, tr.param.tick,
                                      tr.param.epochs, tr.param.learning_rate, tr.param.estimate, tr.param.dead,
                                      tr.param.n_batches),  # (a new batch size: a new count of batches)
                              css_classes=["train-status"], margin=(0, 10))
        test_acc = pn.pane.HTML(pn.bind(self.test_accuracy, tr.param.tick), css_classes=["test-accuracy"],
                                margin=(0, 10))
        alert = pn.pane.HTML(pn.bind(lambda m: alert_html(t(m) if m else ""), tr.param.alert),
                             visible=pn.bind(bool, tr.param.alert), css_classes=["train-alert"])
        controls = pn.Column(
            pn.pane.HTML(f"<h2 class='section'>{esc(t('train.network_heading'))}</h2>", margin=(0, 10)), kind,
            arch_note, *arch,
            pn.pane.HTML(f"<h2 class='section'>{esc(t('train.training_heading'))}</h2>", margin=(0, 10)),
            pn.Row(lr, bs), epochs, size, pn.Row(seed, augment, align="center"), preview, with_drawings, width=300,
            sizing_mode="fixed")
        # two to a row: at 1280 x 800 every setting and both curves fit above the fold
        for half in (lr, bs, seed):
            half.param.update(width=135, sizing_mode="fixed")
        augment.param.update(width=135, sizing_mode="fixed")
        buttons = pn.FlexBox(start, pause, step, reset, gap="8px")
        for b in (start, pause, step, reset):
            b.width = 150
            b.sizing_mode = "fixed"
        main = pn.Column(buttons, progress, status, self.announce, alert, suggest, test_acc, self.plots.pane,
                         sizing_mode="stretch_width", styles={"flex": "1 1 600px", "min-width": "0"})
        return pn.FlexBox(controls, main, gap="16px", flex_wrap="wrap")

    def __panel__(self):
        return self._layout
