"""The Gradient check tab: every layer's backward pass against finite differences."""
from __future__ import annotations

import panel as pn
import param

from ..state.checker import BATCH, GradientChecker
from .common import VERDICT_COLOURS, esc, scrolling

CELL = "padding:2px 10px"


class GradientCheckView(pn.viewable.Viewer):
    checker = param.ClassSelector(class_=GradientChecker)

    def __init__(self, t, **params):
        super().__init__(**params)
        self.t = t

    def table(self, rows, seconds, checked, version):
        t = self.t
        if not rows:
            return f"<p>{t('gradcheck.prompt')}</p>"
        model = esc(t(self.checker.model_name))
        head = "".join(f"<th scope='col' style='text-align:left;{CELL}'>{t('gradcheck.col_' + h)}</th>"
                       for h in ("layer", "quantity", "verdict", "error", "checked"))
        body = []
        for r in rows:
            checked_text = t("gradcheck.checked_of", checked=r.checked, total=t.number(r.total))
            if r.kinks:
                checked_text += " " + t("gradcheck.kinks_skipped", n=r.kinks)
            body.append(f"<tr><td style='{CELL}'>{esc(r.layer)}</td><td style='{CELL}'>{esc(r.what)}</td>"
                        f"<td class='verdict' data-verdict='{r.verdict}' "
                        f"style='{CELL};color:{VERDICT_COLOURS[r.verdict]};font-weight:600'>"
                        f"{t('verdict.' + r.verdict)}</td>"
                        f"<td style='{CELL}'>{r.max_rel_error:.2e}</td><td style='{CELL}'>{checked_text}</td></tr>")
        intro = t("gradcheck.intro", model=model, n=BATCH, seconds=f"{seconds:.2f}")
        return (f"<p data-version='{version}' role='status'>{intro}</p>"
                + scrolling(f"<table class='gradcheck' style='border-collapse:collapse'>"
                            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"))

    def __panel__(self):
        c, t = self.checker, self.t
        run = pn.widgets.Button(name=t("gradcheck.run"), button_type="primary", width=220, sizing_mode="fixed")
        run.on_click(c.run)
        explain = pn.pane.HTML(f"<p>{t('gradcheck.explain')}</p>")
        table = pn.pane.HTML(pn.bind(self.table, c.param.rows, c.param.seconds, c.param.checked, c.param.version),
                             css_classes=["gradcheck-table"])
        return pn.Column(explain, run, table)
