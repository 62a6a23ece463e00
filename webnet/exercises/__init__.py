"""The homework as data, shared by the lab's Exercises tab and ``python -m webnet check``.

    from webnet import exercises
    reports = exercises.grade_source(open("my_layers.py").read())
    for r in reports:
        print(r.exercise.name, r.passed, [(row.what, row.verdict) for row in r.rows])

- ``EXERCISES``: each layer a student writes (LinearLayer, ReLU, Sigmoid, Tanh, Softmax,
  CrossEntropy, Flatten, SimpleConv, Conv2D), with a skeleton and a reference solution;
  statements and hints are texts of webnet/texts ("exercise.<name>.statement").
- ``grade`` / ``grade_source``: the student's forward against webnet's layer, each gradient
  against finite differences, under a time limit.
- ``BUGS`` / ``GALLERY``: realistic broken implementations for a teacher to show.
"""
from .bugs import BUGS, GALLERY, Bug
from .catalog import EXERCISES, Exercise
from .grade import Report, compare_forward, grade, grade_source, match
from .sandbox import TIME_LIMIT, CodeProblem, TimeLimit, load

__all__ = ["BUGS", "EXERCISES", "GALLERY", "TIME_LIMIT", "Bug", "CodeProblem", "Exercise", "Report", "TimeLimit",
           "compare_forward", "grade", "grade_source", "load", "match"]
