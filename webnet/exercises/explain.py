"""Verdicts in words a student can act on: for each row, what the verdict means, which entries
differ (yours and the numeric value of the worst few) and, for a small tensor, a picture of where
they differ. Each sentence is (text key, values), so the command line and the page can say it in
their language (webnet/texts)."""
from __future__ import annotations

import numpy as np

from ..texts import text
from .sandbox import CodeProblem

MAP_LIMIT = 400  # entries: a smaller tensor gets a map of where it differs


def sentences(row):
    """[(key, values)] explaining one gradcheck Row."""
    if row.verdict == "error":
        return [(row.problem.key, row.problem.values)]
    err = f"{row.max_rel_error:.1e}"
    if row.what == "forward":
        if row.ok:
            return [("explain.forward.ok", {"err": err})]
        n = int(row.differs.sum()) if row.differs is not None else len(row.worst)
        out = [("explain.forward.bad", {"n": n, "m": row.total, "err": err})]
        worst_key = "explain.worst_forward"
    else:
        if row.verdict != "wrong" and row.kinks <= row.checked:
            out = [(f"explain.grad.{row.verdict}", {"what": row.what, "err": err})]
        elif row.verdict != "wrong":
            out = []
        elif row.differs is not None:
            out = [("explain.grad.wrong", {"what": row.what, "n": int(row.differs.sum()), "m": row.total, "err": err})]
        else:
            out = [("explain.grad.wrong_sampled", {"what": row.what, "m": row.checked, "d": row.directions,
                                                   "err": err})]
        worst_key = "explain.worst_grad"
    if not row.ok:
        out += [(worst_key, {"index": tuple(int(i) for i in index), "mine": f"{mine:.4g}", "ref": f"{ref:.4g}"})
                for index, mine, ref in row.worst]
    if row.kinks > row.checked:
        out.append(("explain.too_many_kinks", {"n": row.kinks, "m": row.checked + row.kinks}))
    elif row.kinks:
        out.append(("explain.kinks", {"n": row.kinks}))
    return out


def difference_map(row):
    """Rows of text, "x" where the tensor differs and "." where it agrees, for a small tensor
    (the last axis across; leading axes stacked), or []."""
    if row.differs is None or row.ok or row.differs.size > MAP_LIMIT:
        return []
    grid = np.atleast_2d(row.differs.reshape(-1, row.differs.shape[-1]) if row.differs.ndim > 1 else row.differs)
    return [" ".join("x" if d else "." for d in line) for line in grid]


def report_text(reports, lang="en"):
    """A plain-text report of ``reports`` (a list of grade.Report) for the command line."""
    lines = []
    for report in reports:
        name = report.exercise.class_name
        lines.append(f"== {name} ({text('exercise.' + report.exercise.name + '.title', lang)})")
        if report.problem is not None:
            lines.append("   " + text(report.problem.key, lang, **report.problem.values))
        for row in report.rows:
            verdict = text("verdict." + row.verdict, lang)
            lines.append(f"   {row.layer:<22} {row.what:<8} {verdict:<13} {row.max_rel_error:9.1e}")
            lines += ["      " + text(key, lang, **values) for key, values in sentences(row)]
            lines += ["      " + line for line in difference_map(row)]
        if report.output.strip():
            lines.append("   " + text("explain.output", lang))
            lines += ["   | " + line for line in report.output.rstrip().splitlines()[:20]]
        lines.append("   " + text("explain.passed" if report.passed else "explain.failed", lang, name=name))
    return "\n".join(lines)


def problem_text(problem, lang="en"):
    """One line for a CodeProblem (the code cannot be loaded)."""
    assert isinstance(problem, CodeProblem)
    return text(problem.key, lang, **problem.values)
