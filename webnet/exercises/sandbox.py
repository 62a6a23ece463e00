"""Running a student's code: compiled under its own file name (so errors point at its lines),
stopped after a time limit, its printed output kept (bounded).

The time limit works by tracing: while the student's code runs, every line it executes checks
the clock, in CPython as in Pyodide (which has no threads to interrupt with). Only the
student's own frames are traced, so library code runs at full speed. It cannot stop a single
long call into compiled code (a numpy product on a huge array), nor code that catches every
exception with a bare ``except:`` inside its own endless loop.
"""
from __future__ import annotations

import contextlib
import io
import linecache
import sys
import time

from ..problems import STUDENT_FILES, LayerProblem

STUDENT_FILE = "<your code>"
TIME_LIMIT = 5.0  # seconds
OUTPUT_LIMIT = 4000  # characters of printed output kept


class TimeLimit(BaseException):
    """The student's code ran past its time limit (a BaseException: ``except Exception`` in the
    student's code does not swallow it)."""


class CodeProblem(Exception):
    """The code cannot be run at all (a syntax error, an error at import time): a text key of
    webnet/texts and its values."""

    def __init__(self, key, **values):
        from ..texts import text

        self.key, self.values = key, values
        super().__init__(text(key, **values))


@contextlib.contextmanager
def time_limit(seconds=TIME_LIMIT):
    """Raise ``TimeLimit`` in the student's code (frames of the files in ``STUDENT_FILES``) once
    ``seconds`` have passed."""
    deadline = time.monotonic() + seconds

    def line(frame, event, arg):
        if event == "line" and time.monotonic() > deadline:
            raise TimeLimit(seconds)
        return line

    def new_frame(frame, event, arg):
        return line if frame.f_code.co_filename in STUDENT_FILES else None

    previous = sys.gettrace()
    sys.settrace(new_frame)
    try:
        yield
    finally:
        sys.settrace(previous)


class BoundedOutput(io.StringIO):
    """Keeps the first ``OUTPUT_LIMIT`` characters written to it."""

    def write(self, s):
        room = OUTPUT_LIMIT - self.tell()
        if room > 0:
            super().write(s[:room])
        return len(s)


@contextlib.contextmanager
def captured():
    """stdout and stderr of the student's code, kept in the yielded buffer."""
    out = BoundedOutput()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        yield out


def load(source, filename=STUDENT_FILE, seconds=TIME_LIMIT):
    """Run ``source`` as a module; returns {class name: class} for the classes it defines.
    ``CodeProblem`` for a syntax error, an exception or the time limit at import."""
    try:
        code = compile(source, filename, "exec")
    except SyntaxError as e:
        if not e.lineno:  # a NUL byte, an undecodable file: nothing to point at
            raise CodeProblem("problem.unreadable", msg=e.msg) from None
        raise CodeProblem("problem.syntax", line=e.lineno, msg=e.msg, text=(e.text or "").strip()) from None
    except ValueError as e:  # a NUL byte (older Pythons)
        raise CodeProblem("problem.unreadable", msg=str(e)) from None
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)  # for error lines
    STUDENT_FILES.add(filename)
    namespace = {"__name__": "student", "__file__": filename}
    try:
        with time_limit(seconds), captured():
            exec(code, namespace)
    except TimeLimit:
        raise CodeProblem("problem.time_limit_import", seconds=seconds) from None
    except Exception as e:
        problem = LayerProblem.from_exception(e, "import")
        raise CodeProblem("problem.import_error", error=problem.values["error"], where=problem.values["where"]) from None
    return {name: obj for name, obj in namespace.items() if isinstance(obj, type) and obj.__module__ == "student"}
