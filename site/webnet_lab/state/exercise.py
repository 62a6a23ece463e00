"""ExerciseSession: the homework in the page. The student picks an exercise, writes the layer,
checks it (webnet.exercises grades it), and trains with it; a teacher loads a broken one from the
gallery. Nothing the student wrote is ever lost: the code is kept in the browser per exercise (the
editor does that), a gallery bug or an upload is opened beside it, and a replaced text can be
brought back."""
from __future__ import annotations

import param

from webnet import exercises
from webnet.exercises import BUGS, EXERCISES, TIME_LIMIT, CodeProblem

from ..i18n import msg

MAX_UPLOAD = 100_000  # bytes: a layer's code is a few kilobytes
STORAGE = "webnet.exercise.{}"  # the browser storage key of the student's code for an exercise


class ExerciseSession(param.Parameterized):
    exercise = param.Selector(default="relu", objects=list(EXERCISES))
    code = param.String(default="", doc="the code in the editor")
    bug = param.String(default="", doc="the gallery bug in the editor, or '' for the student's own code")
    document = param.Dict(default={}, doc="what the editor should show: {key, text, prefer_stored, n}")
    report = param.Parameter(default=None, doc="the last check's webnet.exercises.Report, or None")
    problem = param.Parameter(default=None, doc="a Message when the code could not be checked at all")
    message = param.Parameter(default=None, doc="a Message about the last action, or None")
    hints_shown = param.Integer(default=0)
    checks = param.Integer(default=0, doc="bumps after each check (tests and views wait for it)")
    previous = param.String(default="", doc="the text an upload or a reset replaced ('' if none)")

    def __init__(self, trainer, **params):
        super().__init__(**params)
        self.trainer = trainer
        self.time_limit = TIME_LIMIT  # seconds a check may take
        self._checked_code = None  # the code the last passing check was run on
        self._open(EXERCISES[self.exercise].skeleton, prefer_stored=True)
        self.param.watch(self._exercise_changed, "exercise")

    @property
    def storage_key(self):
        return "" if self.bug else STORAGE.format(self.exercise)

    def _open(self, text, prefer_stored=False):
        """Show ``text`` in the editor (or, with ``prefer_stored``, what the browser kept for this
        exercise, if anything); the editor answers with the text it shows (``code``)."""
        self.document = {"key": self.storage_key, "text": text, "prefer_stored": prefer_stored,
                         "n": self.document.get("n", 0) + 1}
        self.code = text

    def _exercise_changed(self, event):
        self.param.update(bug="", report=None, problem=None, message=None, hints_shown=0, previous="")
        self._open(EXERCISES[self.exercise].skeleton, prefer_stored=True)

    # -- the editor's text --------------------------------------------------------------------
    def replace(self, text):
        """Put ``text`` in place of the student's code; the old one can be restored (``undo``)."""
        self.previous = self.code
        self._open(text)

    def reset_to_skeleton(self, event=None):
        self.replace(EXERCISES[self.exercise].skeleton)
        self.message = msg("exercises.reset_done")

    def undo(self, event=None):
        if self.previous:
            text, self.previous = self.previous, ""
            self._open(text)
            self.message = msg("exercises.undone")

    def upload(self, content, filename):
        """A .py file as the student's code (a bad file changes nothing)."""
        if len(content) > MAX_UPLOAD:
            self.message = msg("exercises.upload_refused", name=filename,
                               reason=msg("problem.file_too_large", size=len(content), limit=MAX_UPLOAD))
            return
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError as e:
            self.message = msg("exercises.upload_refused", name=filename, reason=msg("problem.not_text", msg=str(e)))
            return
        self.back_to_mine()
        self.replace(text)
        self.message = msg("exercises.uploaded", name=filename)

    def load_bug(self, name):
        """Open the gallery's broken implementation ``name`` beside the student's own code."""
        bug = BUGS[name]
        if bug.exercise != self.exercise:
            self.exercise = bug.exercise
        self.param.update(bug=name, report=None, problem=None, previous="",
                          message=msg("exercises.bug_opened", title=msg(f"bug.{name}.title")))
        self._open(bug.source)

    def back_to_mine(self, event=None):
        if self.bug:
            self.param.update(bug="", report=None, problem=None, message=msg("exercises.mine_back"))
            self._open(EXERCISES[self.exercise].skeleton, prefer_stored=True)

    def show_hint(self, event=None):
        self.hints_shown = min(self.hints_shown + 1, EXERCISES[self.exercise].hints)

    # -- checking and training --------------------------------------------------------------------
    def check(self, event=None):
        """Grade the code in the editor for the chosen exercise."""
        try:
            (report,) = exercises.grade_source(self.code, self.exercise, seconds=self.time_limit)
        except CodeProblem as e:
            self.param.update(report=None, problem=msg(e.key, **e.values), checks=self.checks + 1)
            return
        self._checked_code = self.code if report.passed else None
        self.param.update(report=report, problem=None, message=None, checks=self.checks + 1)

    def train_with(self, event=None):
        """Use the student's layer in the Train tab's network, if its last check passed on this code.
        Returns True when it is in use."""
        if self._checked_code is None or self._checked_code != self.code:
            self.message = msg("exercises.train_refused", reason=msg("exercises.check_first"))
            return False
        exercise = EXERCISES[self.exercise]
        try:
            classes = exercises.load(self.code)
            (cls, _), = exercises.match(classes, self.exercise)
            self.trainer.use_layer(self.exercise, cls)
        except CodeProblem as e:
            self.message = msg("exercises.train_refused", reason=msg(e.key, **e.values))
            return False
        self.message = msg("exercises.training_with", name=exercise.class_name)
        return True

    def stop_using(self, event=None):
        self.trainer.use_layer(None, None)
        self.message = msg("exercises.webnet_layers_again")
