"""Compare runs (on the Train tab, under the run's own curves): the runs kept so far, which to
overlay, their loss and test-accuracy curves with a legend naming what differs between them, a
table of all of them, and Clear."""
from __future__ import annotations

import panel as pn
import param

from ..state import link
from ..state.runs import MAX_SHOWN, Runs
from .common import MARKER_MARGIN, alert_html, chart, esc, figure, scrolling

# told apart without colour too: each curve has its own dash pattern and marker
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
DASHES = ("solid", "dashed", "dotted", "dotdash", "dashdot", [8, 3, 2, 3])
MARKERS = ("circle", "square", "triangle", "diamond", "inverted_triangle", "star")
PLOT_HEIGHT = 240
LEGEND_SETTINGS = 3  # differing settings named in a legend entry at most


class RunsView(pn.viewable.Viewer):
    runs = param.ClassSelector(class_=Runs)

    def __init__(self, t, **params):
        super().__init__(**params)
        self.t = t
        self.picker = pn.widgets.CheckBoxGroup(options={}, value=[], inline=False, css_classes=["run-picker"],
                                               sizing_mode="stretch_width")
        self.picker.param.watch(lambda event: self.runs.show(event.new), "value")
        self.plots = pn.FlexBox(gap="12px", sizing_mode="stretch_width", css_classes=["runs-plots"])
        self.slots = None  # the figures' lines, made when there is a first run to show
        self.table = pn.pane.HTML("", css_classes=["runs-table"], sizing_mode="stretch_width")
        self.note = pn.pane.HTML("", css_classes=["runs-note"], sizing_mode="stretch_width")
        self.clear = pn.widgets.Button(name=t("runs.clear"), button_type="default", width=200, sizing_mode="fixed",
                                       css_classes=["clear-runs"])
        self.clear.on_click(self.runs.clear)
        self.runs.param.watch(self._update, ["runs", "shown", "problem"])
        self._update()

    def setting(self, name, value):
        if name == "arch":
            value = link.ARCHS.get(value, value)  # as the network choice names them: MLP, CNN, LeNet
        if name == "augment":
            value = self.t("runs.yes") if value == "1" else self.t("runs.no")
        if name == "epochs":  # "1 epoch", "2 epochs"
            return self.t("runs.setting_epochs", n=int(value))
        return self.t(f"runs.setting_{name}", value=value)

    def label(self, run, differences):
        """The legend's name of ``run``: its number and how it differs from the other runs shown."""
        parts = [self.setting(n, v) for n, v in differences[:LEGEND_SETTINGS]]
        if len(differences) > LEGEND_SETTINGS:
            parts.append("…")  # (the table has them all; a legend wider than its plot upsets bokeh's layout)
        return " · ".join([self.t("runs.number", n=run["number"]), *parts])

    def _update(self, *_):
        r, t = self.runs, self.t
        self.note.object = alert_html(t(r.problem)) if r.problem else ""
        self.clear.visible = bool(r.runs)
        every = r.differences([run["id"] for run in r.runs]) if r.runs else {}
        options = {}
        for run in reversed(r.runs):  # the newest first
            acc = "–" if run["test_acc"] is None else f"{run['test_acc']:.4f}"
            options[t("runs.option", label=self.label(run, every[run["id"]]), acc=acc,
                      outcome=t(f"runs.outcome_{run['outcome']}"))] = run["id"]
        self.picker.param.update(options=options, value=list(r.shown))
        self.table.object = self._table(every) if r.runs else f"<p>{esc(t('runs.none'))}</p>"
        self._update_plots()

    def _table(self, every):
        t = self.t
        head = "".join(f"<th scope='col'>{esc(t(f'runs.col_{c}'))}</th>"
                       for c in ("run", "settings", "outcome", "epochs", "test_acc", "seconds"))
        rows = []
        for run in reversed(self.runs.runs):
            settings = ", ".join(self.setting(n, v) for n, v in run["settings"].items())
            acc = "–" if run["test_acc"] is None else f"{run['test_acc']:.4f}"
            outcome = t(f"runs.outcome_{run['outcome']}")
            rows.append(f"<tr data-run='{esc(run['id'])}'><th scope='row'>{esc(t('runs.number', n=run['number']))}</th>"
                        f"<td style='text-align:left'>{esc(settings)}</td><td>{esc(outcome)}</td>"
                        f"<td>{run['epochs']}</td><td class='acc'>{acc}</td><td>{run['seconds']:.1f}</td></tr>")
        return scrolling(f"<table class='runs' style='border-collapse:collapse;text-align:right'>"
                         f"<caption style='text-align:left'>{esc(t('runs.table_caption'))}</caption>"
                         f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")

    def _make_plots(self):
        """Two figures with a line (and markers) for each of MAX_SHOWN slots, made once: picking
        runs changes their data, names and visibility (figures made anew on every change would
        leave the page's messages about the old ones pointing at nothing, under `panel serve`)."""
        from bokeh.core.properties import value
        from bokeh.models import ColumnDataSource, Legend, LegendItem, Range1d

        t = self.t
        self.x_range, self.loss_y = Range1d(0, 1), Range1d(0, 2.5)
        loss = figure(t("runs.loss_title"), height=PLOT_HEIGHT, x_axis_label=t("train.epoch_axis"),
                      x_range=self.x_range, y_range=self.loss_y)
        acc = figure(t("runs.accuracy_title"), height=PLOT_HEIGHT, x_axis_label=t("train.epoch_axis"),
                     x_range=self.x_range, y_range=(0, 1))
        self.slots = []
        loss_items, acc_items = [], []
        for i in range(MAX_SHOWN):
            style = dict(color=COLOURS[i], line_width=2, line_dash=DASHES[i])
            losses = ColumnDataSource(dict(x=[], y=[]), name=f"run-loss-{i}")
            tests = ColumnDataSource(dict(x=[], y=[]))
            renderers = [loss.line("x", "y", source=losses, **style)]
            marks = [acc.line("x", "y", source=tests, **style),
                     acc.scatter("x", "y", source=tests, color=COLOURS[i], size=8, marker=MARKERS[i])]
            items = (LegendItem(label=value(""), renderers=renderers, visible=False),
                     LegendItem(label=value(""), renderers=marks, visible=False))
            loss_items.append(items[0])
            acc_items.append(items[1])
            self.slots.append((losses, tests, renderers + marks, items))
        for fig, items in ((loss, loss_items), (acc, acc_items)):
            fig.add_layout(Legend(items=items, label_text_font_size="14px", spacing=2, margin=0, padding=2), "below")
        self.figures = (loss, acc)
        self.plots.objects = [chart(fig, t, f"webnet-runs-{name}.png", sizing_mode="stretch_width",
                                    styles={"flex": "1 1 340px", "min-width": "0"})
                              for fig, name in ((loss, "loss"), (acc, "accuracy"))]

    def _update_plots(self):
        from bokeh.core.properties import value

        r = self.runs
        if not r.shown and self.slots is None:
            return
        if self.slots is None:
            self._make_plots()
        names = r.differences(r.shown)
        runs = [r.get(i) for i in r.shown]
        for i, (losses, tests, renderers, items) in enumerate(self.slots):
            run = runs[i] if i < len(runs) else None
            losses.data = dict(x=[p[0] for p in run["loss"]], y=[p[1] for p in run["loss"]]) if run else dict(x=[], y=[])
            tests.data = dict(x=[p[0] for p in run["test"]], y=[p[1] for p in run["test"]]) if run else dict(x=[], y=[])
            for renderer in renderers:
                renderer.visible = run is not None
            for item in items:
                item.label = value(self.label(run, names[run["id"]]) if run else "")
                item.visible = run is not None
        end = max([1.0] + [p[0] for run in runs for p in run["loss"] + run["test"]])
        self.x_range.start, self.x_range.end = -MARKER_MARGIN * end, (1 + MARKER_MARGIN) * end
        self.loss_y.end = 1.1 * max([2.3] + [p[1] for run in runs for p in run["loss"]])
        self.plots.visible = bool(runs)

    def __panel__(self):
        t = self.t
        return pn.Column(
            pn.pane.HTML(f"<h2 class='section'>{esc(t('runs.heading'))}</h2><p>{esc(t('runs.intro'))}</p>",
                         margin=(0, 10)),
            self.note,
            pn.FlexBox(pn.Column(pn.pane.HTML(f"<b id='run-picker-label'>{esc(t('runs.pick'))}</b>", margin=(0, 10)),
                                 self.picker, self.clear, styles={"flex": "0 1 300px"}),
                       pn.Column(self.plots, styles={"flex": "1 1 600px", "min-width": "0"}),
                       gap="12px", sizing_mode="stretch_width"),
            self.table, sizing_mode="stretch_width", css_classes=["compare-runs"])
