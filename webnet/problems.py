"""What can be wrong with a layer before its numbers can even be compared, said plainly.

A gradient check calls a layer's ``forward``, ``grad_x`` and ``grad_params`` through these
functions: an exception, a result of the wrong shape or type, a missing or extra parameter,
NaN or infinity, or an input changed in place becomes a ``LayerProblem`` whose message a
student can act on ("grad_params returned b with shape (4, 10); the parameter b has shape
(10,)"), with the line of the student's code where an exception was raised. Each problem is a
key of webnet's texts (``webnet/texts``) and its values, so the lab can say it in Russian too.
"""
from __future__ import annotations

import linecache
import traceback

import numpy as np

from .texts import text

#: where library code lives: a traceback is walked back to the innermost frame outside it
LIBRARY_FILES = ("/webnet/", "/numpy/", "<frozen", "/lib/python")


class LayerProblem(Exception):
    """A layer that cannot be checked: ``key`` (a text of webnet/texts) and its ``values``."""

    def __init__(self, what, key, total=0, **values):
        self.what, self.key, self.total, self.values = what, key, total, {"what": what, **values}
        super().__init__(self.message)

    @property
    def message(self):
        """In English (the lab uses ``key`` and ``values`` with its own language)."""
        return text(self.key, **self.values)

    @classmethod
    def from_exception(cls, e, what, total=0):
        return cls(what, "problem.raised", total, error=f"{type(e).__name__}: {e}", where=where(e))


#: file names that student code was compiled with (webnet.exercises.sandbox.load adds them): a
#: traceback is walked back to the innermost of their frames, else to the innermost frame outside
#: LIBRARY_FILES
STUDENT_FILES = {"<your code>"}


def where(e):
    """" (line 12: return x / 0)" for the innermost frame of ``e``'s traceback in the student's
    code, or ""."""
    frames = traceback.extract_tb(e.__traceback__)
    theirs = [f for f in frames if f.filename in STUDENT_FILES]
    frames = theirs or [f for f in frames if not any(p in f.filename.replace("\\", "/") for p in LIBRARY_FILES)]
    if not frames:
        return ""
    f = frames[-1]
    line = (f.line or linecache.getline(f.filename, f.lineno)).strip()
    return f" (line {f.lineno}: {line})" if line else f" (line {f.lineno})"


def call(fn, what, names, *originals):
    """``fn`` on copies of ``originals`` (named ``names`` in messages); a problem if it raises or
    changes an array it was given (a layer must not modify its input: the layer before it, or the
    optimiser, still needs it)."""
    copies = [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in originals]
    try:
        result = fn(*copies)
    except Exception as e:  # the student's code: any exception is a verdict, not a crash
        raise LayerProblem.from_exception(e, what) from None
    for name, before, after in zip(names, originals, copies):
        if isinstance(before, np.ndarray) and not np.array_equal(before, after, equal_nan=True):
            raise LayerProblem(what, "problem.in_place", before.size, name=name)
    return result


def as_gradient(g, like, what, name):
    """``g`` as a float64 array of ``like``'s shape, or a problem saying why it is not one."""
    shape, size = tuple(np.shape(like)), int(np.size(like))
    if g is None:
        raise LayerProblem(what, "problem.none", size, shape=shape, name=name)
    try:
        a = np.asarray(g)
    except Exception:  # a ragged list, or something numpy cannot hold
        a = None
    if a is None or a.dtype == object:
        raise LayerProblem(what, "problem.not_numbers", size, type=type(g).__name__)
    if a.shape != shape:
        key = "problem.shape_param" if what == "grad_params" else "problem.shape"
        raise LayerProblem(what, key, size, name=name, got=a.shape, want=shape)
    if a.dtype.kind in "biu":
        raise LayerProblem(what, "problem.whole_numbers", size, name=name, dtype=str(a.dtype))
    if a.dtype.kind != "f":
        raise LayerProblem(what, "problem.not_real", size, name=name, dtype=str(a.dtype))
    bad = ~np.isfinite(a)
    if bad.any():
        raise LayerProblem(what, "problem.non_finite", size, name=name,
                           index=tuple(int(i) for i in np.argwhere(bad)[0]))
    return a.astype(np.float64)


def grads_by_name(pairs, params):
    """{name: gradient} from grad_params' [(param, grad), ...], matched to ``params`` ([(name, live
    array)]) by identity; a problem for anything missing, extra or not a pair."""
    names = [n for n, _ in params]
    usage = "[" + ", ".join(f"(self.{n}, d{n})" for n in names) + "]"
    if pairs is None:
        raise LayerProblem("grad_params", "problem.pairs_none", usage=usage)
    try:
        pairs = list(pairs)
    except TypeError:
        raise LayerProblem("grad_params", "problem.pairs_type", type=type(pairs).__name__, usage=usage) from None
    found = {}
    for item in pairs:
        if not (isinstance(item, (tuple, list)) and len(item) == 2):
            raise LayerProblem("grad_params", "problem.not_pairs", usage=usage)
        p, g = item
        name = next((n for n, live in params if p is live), None)
        if name is None:
            raise LayerProblem("grad_params", "problem.not_param", names=", ".join(names) or "-", usage=usage)
        if name in found:
            raise LayerProblem("grad_params", "problem.twice", name=name)
        found[name] = g
    missing = [n for n in names if n not in found]
    if missing:
        raise LayerProblem("grad_params", "problem.missing", names=", ".join(missing), usage=usage)
    return found
