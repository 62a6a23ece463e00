"""webnet lab (first cut): webnet's gradient check of a small network, computed where the app runs.

Under ``panel serve site/app.py`` it runs in CPython; in the built static page it runs in Pyodide
in a web worker, with webnet imported from its wheel.
"""
import sys
import time

import numpy as np
import panel as pn
import param

import webnet
from webnet import gradcheck

pn.extension(sizing_mode="stretch_width")

VERDICT_COLOURS = {"excellent": "#1a7f37", "acceptable": "#4d8f00", "suspicious": "#b35900", "wrong": "#c62828"}


class GradientChecker(param.Parameterized):
    """Runs webnet's gradient check on a fresh network; no widgets in here."""

    architecture = param.Selector(default="784-32-10", objects=["784-32-10", "784-64-32-10", "cnn"])
    seed = param.Integer(default=0, bounds=(0, None))
    rows = param.List(default=[])
    seconds = param.Number(default=0.0)
    runs = param.Integer(default=0)

    def run(self, event=None):
        rng = np.random.default_rng(self.seed + self.runs)
        net = webnet.build_model(self.architecture, rng=rng)
        x, y = rng.random((4, 784)), rng.integers(0, 10, 4)
        start = time.perf_counter()
        rows = gradcheck.check_network(net, x, y, rng, max_coords=20)
        self.param.update(rows=rows, seconds=time.perf_counter() - start, runs=self.runs + 1)


def rows_html(rows):
    head = "".join(f"<th>{h}</th>" for h in ("layer", "what", "max rel. error", "checked", "verdict"))
    body = "".join(
        f"<tr><td>{r.layer}</td><td>{r.what}</td><td>{r.max_rel_error:.2e}</td><td>{r.checked}/{r.total}</td>"
        f"<td class='verdict' style='color:{VERDICT_COLOURS[r.verdict]};font-weight:600'>{r.verdict}</td></tr>"
        for r in rows)
    return f"<table class='gradcheck'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class GradientCheckView(pn.viewable.Viewer):
    checker = param.ClassSelector(class_=GradientChecker)

    def __panel__(self):
        button = pn.widgets.Button(name="Run the gradient check again", button_type="primary", width=260)
        button.on_click(self.checker.run)
        table = pn.pane.HTML(pn.bind(rows_html, self.checker.param.rows))
        status = pn.pane.Markdown(pn.bind(
            lambda runs, secs: f"Run {runs}: {secs:.2f} s.", self.checker.param.runs, self.checker.param.seconds),
            css_classes=["status"])
        return pn.Column(pn.Row(pn.widgets.Select.from_param(self.checker.param.architecture, width=200),
                                button), status, table)


def about():
    where = webnet.__file__.rsplit("/", 1)[0]
    return (f"Python {sys.version.split()[0]} on {sys.platform}, numpy {np.__version__}, "
            f"webnet {webnet.__version__} from {where}. MNIST by Yann LeCun and Corinna Cortes, CC BY-SA 3.0.")


checker = GradientChecker()
checker.run()
pn.Column(
    "# webnet lab",
    "Each layer's gradients, checked against finite differences, computed right here by webnet.",
    GradientCheckView(checker=checker),
    pn.pane.Markdown(about(), css_classes=["about"]),
    max_width=900,
).servable(title="webnet lab")
