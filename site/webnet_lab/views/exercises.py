"""The Exercises tab: pick a layer, read what to write, write it in the editor, check it against
finite differences and webnet's own layer, train with it; or open a broken one from the gallery,
predict what the check will say, and check."""
from __future__ import annotations

import numpy as np
import panel as pn
import param

from webnet.exercises import BUGS, EXERCISES, GALLERY
from webnet.exercises.explain import sentences

from ..components.code_editor import CodeEditor
from ..png import png_data_uri
from ..state.exercise import ExerciseSession
from .common import VERDICT_COLOURS, esc, on_upload, scrolling

CELL = "padding:4px 8px;vertical-align:top;border-top:1px solid #ddd"


class ExercisesView(pn.viewable.Viewer):
    session = param.ClassSelector(class_=ExerciseSession)

    def __init__(self, t, show_train=None, **params):
        super().__init__(**params)
        self.t, self._show_train = t, show_train
        s = self.session
        self.editor = CodeEditor(label=t("exercises.editor_label"), help=t("exercises.editor_help"),
                                 sizing_mode="stretch_width", min_height=460)
        self.editor.param.watch(lambda e: setattr(s, "code", e.new), "value")
        s.param.watch(self._document, "document")
        self._document()
        self._layout = self._build()

    def _document(self, *events):
        self.editor.opened = self.session.document

    # -- text ---------------------------------------------------------------------------------
    def statement(self, exercise, hints_shown):
        t, ex = self.t, EXERCISES[exercise]
        hints = "".join(f"<li>{esc(t(f'exercise.{exercise}.hint{i}'))}</li>" for i in range(1, hints_shown + 1))
        return (f"<h2 class='section'>{esc(t(f'exercise.{exercise}.title'))}: <code>{ex.class_name}</code></h2>"
                f"<p>{esc(t(f'exercise.{exercise}.statement'))}</p>" + (f"<ol class='hints'>{hints}</ol>" if hints else ""))

    def bug_banner(self, bug, checks):
        if not bug:
            return ""
        t = self.t
        text = t("exercises.bug_banner", title=t(f"bug.{bug}.title"))
        report = self.session.report
        why = f"<p><b>{esc(t('exercises.bug_why'))}</b> {esc(t(f'bug.{bug}.why'))}</p>" if report or self.session.problem else ""
        return f"<div class='bug-banner' role='note'><p>{esc(text)}</p>{why}</div>"

    def results(self, report, problem, checks):
        t = self.t
        if problem is not None:
            return f"<div class='check-result' data-checks='{checks}' role='status'><p>{esc(t(problem))}</p></div>"
        if report is None:
            return f"<div class='check-result' data-checks='{checks}'><p>{esc(t('exercises.not_checked'))}</p></div>"
        parts = [f"<p class='summary'><b>{esc(t('explain.passed' if report.passed else 'explain.failed', name=report.exercise.class_name))}</b></p>"]
        if report.problem is not None:
            parts.append(f"<p class='problem'>{esc(t(report.problem.key, **report.problem.values))}</p>")
        if report.rows:
            head = "".join(f"<th scope='col' style='text-align:left;padding:4px 8px'>{esc(t('exercises.col_' + c))}</th>"
                           for c in ("quantity", "verdict", "error", "explanation"))
            body = "".join(self._row(r) for r in report.rows)
            parts.append(scrolling(f"<table class='verdicts' style='border-collapse:collapse'><thead><tr>{head}</tr>"
                                   f"</thead><tbody>{body}</tbody></table>"))
            parts.append(f"<p style='color:#444'>{esc(t('explain.relative_error'))}</p>")
        if report.output.strip():
            parts.append(f"<p>{esc(t('explain.output'))}</p><pre class='output'>{esc(report.output[:2000])}</pre>")
        return f"<div class='check-result' data-checks='{checks}' role='status'>{''.join(parts)}</div>"

    def _row(self, r):
        t = self.t
        said = "<br>".join(esc(t(key, **values)) for key, values in sentences(r))
        picture = ""
        if r.differs is not None and not r.ok and 1 < r.differs.size <= 400:
            grid = r.differs.reshape(-1, r.differs.shape[-1]) if r.differs.ndim > 1 else r.differs[None]
            scale = max(4, min(16, 240 // max(grid.shape)))
            alt = t("exercises.map_alt", n=int(r.differs.sum()), m=r.differs.size)
            picture = (f"<br><img class='diff-map' src='{png_data_uri(np.where(grid, 1.0, 0.08), scale)}' alt='{esc(alt)}' "
                       f"title='{esc(alt)}' style='image-rendering:pixelated;border:1px solid #bbb;margin-top:4px'/>")
        error = "—" if r.verdict == "error" else f"{r.max_rel_error:.1e}"
        mark = "✓" if r.ok else "✗"
        return (f"<tr><td style='{CELL}'>{esc(r.layer)} · <code>{esc(r.what)}</code></td>"
                f"<td class='verdict' data-verdict='{r.verdict}' style='{CELL};color:{VERDICT_COLOURS.get(r.verdict, '#c62828')};"
                f"font-weight:600'>{mark} {esc(t('verdict.' + r.verdict))}</td><td style='{CELL}'>{error}</td>"
                f"<td style='{CELL}'>{said}{picture}</td></tr>")

    # -- layout ---------------------------------------------------------------------------------
    def _build(self):
        s, t, w = self.session, self.t, pn.widgets
        choose = w.Select.from_param(s.param.exercise, name=t("exercises.choose"),
                                     options={t(f"exercise.{n}.title"): n for n in EXERCISES}, width=280,
                                     sizing_mode="fixed")
        statement = pn.pane.HTML(pn.bind(self.statement, s.param.exercise, s.param.hints_shown),
                                 css_classes=["exercise-statement"])
        hint = w.Button(name=t("exercises.hint"), button_type="light", width=180, sizing_mode="fixed")
        hint.on_click(s.show_hint)
        check = w.Button(name=t("exercises.check"), button_type="primary", width=180, sizing_mode="fixed")
        check.on_click(lambda e: self.editor.with_text(lambda text: s.check()))
        train = w.Button(name=t("exercises.train"), button_type="primary", width=200, sizing_mode="fixed")
        train.on_click(self._train)
        reset = w.Button(name=t("exercises.reset"), button_type="light", width=180, sizing_mode="fixed")
        reset.on_click(s.reset_to_skeleton)
        undo = w.Button(name=t("exercises.undo"), button_type="light", width=180, sizing_mode="fixed",
                        visible=pn.bind(bool, s.param.previous))
        undo.on_click(s.undo)
        gallery = w.Select(name=t("exercises.gallery"), width=280, sizing_mode="fixed",
                           options={t(f"bug.{b}.title"): b for b in (*GALLERY, *(b for b in BUGS if b not in GALLERY))})
        open_bug = w.Button(name=t("exercises.open_bug"), width=180, sizing_mode="fixed")
        open_bug.on_click(lambda e: s.load_bug(gallery.value))
        mine = w.Button(name=t("exercises.back_to_mine"), width=180, sizing_mode="fixed",
                        visible=pn.bind(bool, s.param.bug))
        mine.on_click(s.back_to_mine)
        download = w.FileDownload(callback=self._download, filename="my_layer.py", label=t("exercises.download"),
                                  width=180, sizing_mode="fixed")
        upload = w.FileInput(accept=".py", width=240, sizing_mode="fixed", css_classes=["upload-code"])
        on_upload(upload, s.upload)
        message = pn.pane.HTML(pn.bind(lambda m: f"<p role='status'>{esc(t(m))}</p>" if m else "", s.param.message),
                               css_classes=["exercise-message"])
        banner = pn.pane.HTML(pn.bind(self.bug_banner, s.param.bug, s.param.checks), css_classes=["bug-banner-pane"])
        results = pn.pane.HTML(pn.bind(self.results, s.param.report, s.param.problem, s.param.checks),
                               css_classes=["exercise-results"])
        left = pn.Column(choose, statement, hint, pn.pane.HTML(f"<h2 class='section'>{esc(t('exercises.gallery_heading'))}</h2>"
                                                               f"<p>{esc(t('exercises.gallery_help'))}</p>"),
                         gallery, open_bug, mine, pn.pane.HTML(f"<h2 class='section'>{esc(t('exercises.files_heading'))}</h2>"),
                         download, upload, width=320, sizing_mode="fixed")
        buttons = pn.FlexBox(check, train, reset, undo, gap="8px")
        right = pn.Column(banner, self.editor, buttons, message, results, sizing_mode="stretch_width",
                          styles={"flex": "1 1 420px", "min-width": "0"})
        return pn.FlexBox(left, right, flex_wrap="wrap", gap="24px")

    def _download(self):
        import io
        return io.BytesIO(self.session.code.encode("utf-8"))

    def _train(self, event=None):
        def train(text):
            if self.session.train_with() and self._show_train is not None:
                self._show_train()
        self.editor.with_text(train)

    def __panel__(self):
        return self._layout
