"""Grading a student's layer: its forward pass against webnet's own layer on random inputs, then
each of its gradients against finite differences (webnet.gradcheck), quantity by quantity, all
under a time limit. A layer whose forward and backward are consistent with each other but wrong
is caught by the forward comparison."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .. import gradcheck
from ..gradcheck import Row, error_row, verdict
from ..problems import LayerProblem, call
from .catalog import EXERCISES, Exercise, random_probabilities, random_targets
from .sandbox import TIME_LIMIT, CodeProblem, TimeLimit, captured, load, time_limit


@dataclass
class Report:
    """The verdicts on one student class for one exercise."""

    exercise: Exercise
    rows: list = field(default_factory=list)  # gradcheck.Row: "forward", then "grad_x" and each parameter
    problem: object = None  # a CodeProblem or LayerProblem when the code could not be checked at all
    output: str = ""  # what the student's code printed (bounded)
    seconds: float = 0.0

    @property
    def passed(self):
        return self.problem is None and bool(self.rows) and all(r.ok for r in self.rows)


def compare_forward(name, mine, reference):
    """The "forward" row: the student's output against webnet's, entry by entry."""
    reference = np.asarray(reference, dtype=np.float64)
    if mine is None:
        raise LayerProblem("forward", "problem.forward_none", reference.size, shape=reference.shape)
    try:
        mine = np.asarray(mine, dtype=np.float64)
    except (TypeError, ValueError):
        raise LayerProblem("forward", "problem.not_numbers", reference.size, type=type(mine).__name__) from None
    if mine.shape != reference.shape:
        return error_row(name, LayerProblem("forward", "problem.forward_shape", reference.size,
                                            got=mine.shape, want=reference.shape))
    floor = max(1e-12, 1e-6 * float(np.abs(reference).max(initial=0.0)))
    errors = np.abs(mine - reference) / np.maximum(np.maximum(np.abs(mine), np.abs(reference)), floor)
    worst_rel = float(errors.max(initial=0.0))
    order = np.argsort(-errors.ravel())[:gradcheck.WORST]
    worst = [(np.unravel_index(i, mine.shape), float(mine.ravel()[i]), float(reference.ravel()[i]))
             for i in order if errors.ravel()[i] >= gradcheck.BANDS[1][0]]
    differs = errors >= gradcheck.BANDS[1][0] if mine.size <= gradcheck.FULL_LIMIT else None
    return Row(name, "forward", worst_rel, float(np.abs(mine - reference).max(initial=0.0)), mine.size, mine.size,
               verdict(worst_rel), worst=worst, differs=differs)


def _student(cls, exercise, config, reference, name):
    """The student's layer built like webnet's ``reference``, holding the same parameter values."""
    student = call(lambda *a: cls(*a), "__init__", (), *exercise.args(config, reference))
    for pname in exercise.params:
        want = getattr(reference, pname)
        have = getattr(student, pname, None)
        if have is None:
            raise LayerProblem("__init__", "problem.no_param", name=pname, shape=want.shape)
        if np.shape(have) != want.shape:
            raise LayerProblem("__init__", "problem.param_shape", name=pname, got=np.shape(have), want=want.shape)
        setattr(student, pname, want.copy())  # the same values as webnet's, so the outputs compare
    return student


def _check_config(cls, exercise, config, rng):
    reference = exercise.reference(config, rng)
    for pname in exercise.params:  # random values, biases too: a forgotten term shows
        p = getattr(reference, pname)
        fan_in = p.size // p.shape[0] if p.ndim == 4 else p.shape[0] if p.ndim == 2 else 1  # K: C*kh*kw; W: D_in
        p[...] = rng.standard_normal(p.shape) / np.sqrt(fan_in)
    name = f"{exercise.class_name}{config if config else '()'}"
    if exercise.kind == "loss":
        shape = exercise.input_shape(config)
        p, t = random_probabilities(shape, rng), random_targets(shape, rng)
        student = call(lambda: cls(), "__init__", ())
        value = call(student.forward, "forward", ("y_pred", "y_true"), p, t)
        if value is None or np.size(value) != 1:
            raise LayerProblem("forward", "problem.loss_value", 1, value=repr(value)[:60])
        return [compare_forward(name, value, reference.forward(p, t)),
                *gradcheck.check_loss(student, p, t, rng, name=name)]
    student = _student(cls, exercise, config, reference, name)
    x = rng.standard_normal(exercise.input_shape(config))
    out = call(student.forward, "forward", ("x",), x)
    rows = [compare_forward(name, out, reference.forward(x))]
    params = [(p, getattr(student, p)) for p in exercise.params]
    return rows + gradcheck.check_layer(student, x, rng, name=name, params=params)


def grade(cls, exercise, rng=None, seconds=TIME_LIMIT):
    """Check the class ``cls`` against ``exercise`` (an Exercise or its name): a Report."""
    exercise = EXERCISES[exercise] if isinstance(exercise, str) else exercise
    rng = np.random.default_rng(0) if rng is None else rng
    report, start = Report(exercise), time.perf_counter()
    with captured() as out:
        try:
            with time_limit(seconds):
                for config in exercise.configs:
                    report.rows += _check_config(cls, exercise, config, rng)
        except LayerProblem as e:
            report.problem = e
        except TimeLimit as e:
            report.problem = LayerProblem("time", "problem.time_limit", seconds=seconds,
                                          where=LayerProblem.from_exception(e, "time").values["where"])
    report.output, report.seconds = out.getvalue(), time.perf_counter() - start
    return report


def match(classes, exercise=None):
    """[(class, Exercise)] to grade among ``classes`` ({name: class}): those named like an exercise's
    class, or with ``exercise`` given, the class of that exercise's name (or the only class)."""
    if exercise is not None:
        if exercise not in EXERCISES:
            raise CodeProblem("problem.no_exercise", name=exercise, names=", ".join(EXERCISES))
        ex = EXERCISES[exercise]
        cls = classes.get(ex.class_name) or (next(iter(classes.values())) if len(classes) == 1 else None)
        if cls is None:
            raise CodeProblem("problem.no_class", name=ex.class_name)
        return [(cls, ex)]
    found = [(classes[ex.class_name], ex) for ex in EXERCISES.values() if ex.class_name in classes]
    if not found:
        raise CodeProblem("problem.no_known_class", names=", ".join(e.class_name for e in EXERCISES.values()))
    return found


def grade_source(source, exercise=None, filename="<your code>", rng=None, seconds=TIME_LIMIT):
    """Load ``source`` and grade every class in it that matches an exercise: [Report].
    ``CodeProblem`` when the code cannot be loaded or holds no class to grade."""
    classes = load(source, filename, seconds)
    return [grade(cls, ex, rng, seconds) for cls, ex in match(classes, exercise)]
