"""The Exercises tab's state (webnet_lab.state.exercise), driven without a browser: checking,
the gallery beside the student's own code, uploads, undo, and training with the student's layer."""
import time

import panel as pn
import pytest

from webnet.exercises import BUGS, EXERCISES
from webnet_lab.app import App
from webnet_lab.i18n import Catalogue
from webnet_lab.views.exercises import ExercisesView

EN = Catalogue("en")
RELU = EXERCISES["relu"].solution


@pytest.fixture
def app():
    return App()


def train(trainer):
    trainer.start()
    while trainer.running:
        trainer.chunk()


def test_the_skeleton_is_opened_and_kept_per_exercise(app):
    s = app.session
    assert s.code == EXERCISES["relu"].skeleton
    assert s.document["key"] == "webnet.exercise.relu" and s.document["prefer_stored"]
    s.exercise = "linear"
    assert s.code == EXERCISES["linear"].skeleton and s.document["key"] == "webnet.exercise.linear"


def test_checking_the_skeleton_says_what_is_missing(app):
    s = app.session
    s.check()
    assert not s.report.passed and s.checks == 1
    assert EN(s.report.problem.key, **s.report.problem.values).startswith("forward returned None")


def test_a_correct_layer_passes_and_trains_to_webnets_accuracy(app):
    s, t = app.session, app.trainer
    t.param.update(train_size=2000, epochs=1)
    train(t)
    webnets = t.history[-1]["test_acc"]
    s.code = RELU
    s.check()
    assert s.report.passed and {r.verdict for r in s.report.rows} == {"excellent"}
    assert s.train_with() and t.custom[0] == "relu" and "yours" in repr(t.net.layers[1])
    assert EN(s.message) == "The Train tab's network now uses your ReLU: press Start there."
    train(t)
    assert t.history[-1]["test_acc"] == pytest.approx(webnets, abs=0.002)
    s.stop_using()
    assert t.custom is None and type(t.net.layers[1]).__name__ == "ReLU"


def test_training_is_refused_until_the_current_code_passes(app):
    s = app.session
    s.code = RELU
    assert not s.train_with() and "check your layer first" in EN(s.message)
    s.check()
    s.code = RELU + "\n# an edit after the check\n"
    assert not s.train_with() and app.trainer.custom is None
    s.code = BUGS["relu_threshold"].source
    s.check()
    assert not s.report.passed and not s.train_with()


def test_a_layer_the_network_does_not_have_is_refused(app):
    s = app.session
    s.exercise = "simple_conv"
    s.code = EXERCISES["simple_conv"].solution
    s.check()
    assert s.report.passed and not s.train_with()
    assert "has no layer your SimpleConv can take the place of" in EN(s.message)


def test_the_gallery_opens_beside_the_students_code(app):
    s = app.session
    s.code = "my own work"
    s.load_bug("linear_db_mean")
    assert s.exercise == "linear" and s.bug == "linear_db_mean" and s.document["key"] == ""  # not stored
    assert s.code == BUGS["linear_db_mean"].source
    # said in the tab's live region: what opened, and that the student's code is kept
    assert EN(s.message).startswith(f"Opened “{EN('bug.linear_db_mean.title')}” from the gallery. Your own code is kept")
    s.check()
    assert [r.verdict for r in s.report.rows if not r.ok] == ["wrong"]
    s.back_to_mine()
    assert EN(s.message) == "Your own code is back."
    assert s.bug == "" and s.document == {**s.document, "key": "webnet.exercise.linear", "prefer_stored": True}


def test_reset_and_upload_can_be_undone(app):
    s = app.session
    s.code = RELU
    s.reset_to_skeleton()
    assert s.code == EXERCISES["relu"].skeleton and s.previous == RELU
    s.undo()
    assert s.code == RELU and s.previous == ""
    s.upload(b"class ReLU:\n    pass\n", "mine.py")
    assert s.code == "class ReLU:\n    pass\n" and s.previous == RELU and EN(s.message) == "Opened mine.py."


@pytest.mark.parametrize("content, says", [(b"\xff\xfe\x00bad", "is not text (UTF-8)"),
                                           (b"#" * 200_000, "the file is 200000 bytes")])
def test_a_bad_upload_changes_nothing(app, content, says):
    s = app.session
    s.code = RELU
    s.upload(content, "bad.py")
    assert s.code == RELU and says in EN(s.message) and "Your code is unchanged" in EN(s.message)


def test_an_endless_loop_is_stopped_and_the_lab_goes_on(app):
    s = app.session
    s.time_limit = 1.0
    s.code = RELU.replace("return np.maximum(x, 0)", "while True:\n            pass")
    start = time.perf_counter()
    s.check()
    assert time.perf_counter() - start < 3
    assert EN(s.report.problem.key, **s.report.problem.values).startswith("your code was stopped after")
    app.trainer.step()  # the lab still trains
    assert app.trainer.steps == 1


def test_the_view_renders_verdicts_explanations_and_a_map(app):
    view = ExercisesView(EN, session=app.session)
    pn.Column(view).get_root()
    s = app.session
    s.load_bug("relu_threshold")
    s.check()
    html = view.results(s.report, s.problem, s.checks)
    assert "data-verdict='wrong'" in html and "data-verdict='excellent'" in html and "class='diff-map'" in html
    assert "does not match the numeric gradient" in html and f"data-checks='{s.checks}'" in html
    assert "Inputs between 0 and 0.5" in view.bug_banner(s.bug, s.checks)  # revealed after the check
    s.exercise = "softmax"
    s.show_hint()
    s.show_hint()
    s.show_hint()
    s.show_hint()  # no more hints than the exercise has
    assert s.hints_shown == 3 and view.statement(s.exercise, s.hints_shown).count("<li>") == 3
