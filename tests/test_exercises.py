"""webnet.exercises: every reference solution passes, every broken implementation in the gallery is
caught (on many seeds), and a student's code that raises, loops, returns the wrong thing or does
not even compile gets one plain message, never a crash."""
import re
import string
import time

import numpy as np
import pytest

from webnet import exercises as ex
from webnet.exercises.explain import difference_map, report_text, sentences
from webnet.texts import entries

SEEDS = range(10)
CORPUS_LAYERS = {"linear", "relu", "sigmoid", "tanh", "softmax", "cross_entropy", "flatten", "simple_conv", "conv2d",
                 "maxpool"}


@pytest.mark.parametrize("name", ex.EXERCISES, ids=list(ex.EXERCISES))
def test_reference_solution_is_excellent_on_many_seeds(name):
    for seed in SEEDS:
        (report,) = ex.grade_source(ex.EXERCISES[name].solution, rng=np.random.default_rng(seed))
        assert report.passed, report_text([report])
        assert {r.verdict for r in report.rows} == {"excellent"}, report_text([report])
        assert {r.what for r in report.rows} >= {"forward", "grad_x", *ex.EXERCISES[name].params}


def test_the_corpus_covers_every_kind_of_layer():
    assert len(ex.BUGS) >= 25
    assert {b.exercise for b in ex.BUGS.values()} == CORPUS_LAYERS
    assert len(ex.GALLERY) >= 8 and set(ex.GALLERY) <= set(ex.BUGS)


@pytest.mark.parametrize("name", ex.BUGS, ids=list(ex.BUGS))
def test_every_bug_is_caught_on_many_seeds(name):
    bug = ex.BUGS[name]
    for seed in SEEDS:
        (report,) = ex.grade_source(bug.source, rng=np.random.default_rng(seed))
        assert not report.passed, f"{name} passed with seed {seed}:\n{report_text([report])}"
        flagged = [r for r in report.rows if not r.ok]
        assert report.problem is not None or flagged
        assert all(r.verdict in ("wrong", "error", "suspicious") for r in flagged)


@pytest.mark.parametrize("name, expected", [
    ("linear_db_not_summed", "grad_params returned b with shape (3, 3); the parameter b has shape (3,)"),
    ("linear_dW_no_transpose", "grad_params returned W with shape (3, 5); the parameter W has shape (5, 3)"),
    ("linear_grad_x_no_transpose", "grad_x raised ValueError: matmul: Input operand 1 has a mismatch"),
    ("linear_returns_copies", "not one of the layer's parameters (W, b)"),
    ("relu_in_place", "forward changed its input x in place"),
    ("relu_boolean", "grad_x returned whole numbers (bool)"),
    ("flatten_not_reshaped", "grad_x returned an array of shape (3, 24); x has shape (3, 2, 3, 4)"),
    ("conv_off_by_one", "forward returned an array of shape (3, 3, 3); webnet's layer gives (3, 4, 4)"),
    ("maxpool_every_entry", "Your grad_x does not match the numeric gradient: 162 of 252 entries differ"),
])
def test_structural_bugs_get_a_plain_message(name, expected):
    (report,) = ex.grade_source(ex.BUGS[name].source)
    assert expected in report_text([report])


def test_an_exception_names_the_students_line():
    source = ex.EXERCISES["relu"].solution.replace("return grad_out * (x > 0)", "return grad_out * (x > 0) / 2.0 / zero")
    (report,) = ex.grade_source(source)
    text = report_text([report])
    assert "NameError: name 'zero' is not defined (line 12: return grad_out * (x > 0) / 2.0 / zero)" in text


def test_the_skeleton_is_graded_not_crashed():
    for name, exercise in ex.EXERCISES.items():
        assert "...  # your code here" in exercise.skeleton and "def forward" in exercise.skeleton
        (report,) = ex.grade_source(exercise.skeleton)
        assert not report.passed and (report.problem is not None or any(r.verdict == "error" for r in report.rows))


@pytest.mark.parametrize("body", ["while True:\n            pass", "while True:\n            try:\n                x = x + 1\n"
                                  "            except Exception:\n                pass"],
                         ids=["endless", "endless_catching_exceptions"])
def test_an_endless_loop_is_stopped(body):
    source = ex.EXERCISES["relu"].solution.replace("return np.maximum(x, 0)", body)
    start = time.perf_counter()
    (report,) = ex.grade_source(source, seconds=1.0)
    assert time.perf_counter() - start < 3
    assert report.problem.key == "problem.time_limit"
    text = report_text([report])
    line = int(re.search(r"stopped after 1 s: an endless loop, or far too slow \(line (\d+): ", text).group(1))
    assert 9 <= line <= 13  # inside the loop the student wrote


def test_an_endless_loop_at_the_top_level_is_stopped():
    with pytest.raises(ex.CodeProblem, match="stopped after 1 s while it was loading"):
        ex.grade_source("x = 0\nwhile True:\n    x += 1\n", seconds=1.0)


@pytest.mark.parametrize("source, match", [
    ("class ReLU(Layer):\n    def forward(self, x)\n        return x\n", "syntax error on line 2"),
    ("import numpy as np\nraise RuntimeError('boom')\n", r"RuntimeError: boom while it was loading \(line 2"),
    ("x = 1\n", "no class to check"),
    ("\x00", "cannot be read"),
])
def test_code_that_cannot_run_gets_one_message(source, match):
    with pytest.raises(ex.CodeProblem, match=match):
        ex.grade_source(source)


def test_exercise_by_name_and_unknown_exercise():
    source = ex.EXERCISES["relu"].solution.replace("class ReLU", "class MyRelu")
    (report,) = ex.grade_source(source, exercise="relu")
    assert report.passed
    with pytest.raises(ex.CodeProblem, match="there is no exercise 'nope'"):
        ex.grade_source(source, exercise="nope")


def test_printed_output_is_kept_and_bounded():
    source = ex.EXERCISES["relu"].solution.replace("return np.maximum(x, 0)",
                                                   "print('hello ' * 1000)\n        return np.maximum(x, 0)")
    (report,) = ex.grade_source(source)
    assert report.passed and report.output.startswith("hello hello") and len(report.output) == ex.sandbox.OUTPUT_LIMIT


def test_a_wrong_row_explains_where_it_differs():
    (report,) = ex.grade_source(ex.BUGS["relu_threshold"].source)
    row = next(r for r in report.rows if r.what == "grad_x")
    said = sentences(row)
    assert said[0][0] == "explain.grad.wrong" and said[0][1]["m"] == 60 and said[0][1]["n"] == int(row.differs.sum()) > 0
    assert any(key == "explain.worst_grad" for key, _ in said)
    picture = difference_map(row)
    assert len(picture) == 5 and all(len(line.split()) == 12 for line in picture)
    assert sum(line.count("x") for line in picture) == int(row.differs.sum())


def test_every_text_exists_in_both_languages_with_the_same_placeholders():
    en, ru = entries("en"), entries("ru")
    assert set(en) == set(ru)
    for key in en:
        names = {p for _, p, _, _ in string.Formatter().parse(en[key]) if p}
        assert names == {p for _, p, _, _ in string.Formatter().parse(ru[key]) if p}, key
    for name, exercise in ex.EXERCISES.items():
        for key in ("title", "statement", *(f"hint{i}" for i in range(1, exercise.hints + 1))):
            assert f"exercise.{name}.{key}" in en
    for name in ex.BUGS:
        assert f"bug.{name}.title" in en and f"bug.{name}.why" in en


def test_a_students_max_pool_trains_in_lenet_like_webnets():
    """The student's MaxPool2D takes the place of both of lenet's pools; the reference solution then
    trains to the same weights as webnet's own layer (ties included: the same first maximum)."""
    import webnet as wn
    from webnet.data import load_mnist_subset
    from webnet.exercises.swap import with_student_layer

    cls = ex.load(ex.EXERCISES["maxpool"].solution)["MaxPool2D"]
    X, y = load_mnist_subset(n_train=96, n_test=1)[:2]
    ours = wn.build_model("lenet", rng=0, dtype=np.float64)
    theirs = with_student_layer(wn.build_model("lenet", rng=0, dtype=np.float64), "maxpool", cls)
    assert [repr(layer).startswith("MaxPool2D (yours") for layer in theirs.layers].count(True) == 2
    for net in (ours, theirs):
        net.fit_one_epoch(X, y, 32, 0.1, shuffle=False)
    for (name, a), (_, b) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert np.allclose(a, b, rtol=0, atol=1e-10), name
    with pytest.raises(ex.CodeProblem, match="cannot take the place of MaxPool2D"):
        with_student_layer(wn.NeuralNetwork([wn.Reshape((1, 28, 28)), wn.MaxPool2D((2, 1)), wn.Flatten(),
                                             wn.LinearLayer(392, 10), wn.Softmax()]), "maxpool", cls)
