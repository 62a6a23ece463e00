"""Runs: every run that ended (finished, failed, or left part-way by a reset or a new setting) with
its settings and curves, kept to be compared; the page keeps them in the browser across reloads
(components/browser_store.py), as JSON this module writes and reads back with care: what comes
back from a browser's storage is treated as untrusted input (bad entries are left out, and said)."""
from __future__ import annotations

import json
import math
import re

import param

from ..i18n import msg
from .stored import read_json
from . import link

MAX_RUNS = 20  # the oldest run goes when one more ends
MAX_SHOWN = 6  # curves overlaid at once (each has its own colour and dash pattern)
MAX_POINTS = 200  # points kept of a run's loss curve
MAX_STORED = 2_000_000  # characters of stored JSON read at all
OUTCOMES = ("finished", "failed", "stopped")
# and a student's layer, and the number of the class's drawings trained on, if any
SETTINGS = (*link.ORDER[:link.ORDER.index("exercise")], "layer", "drawings")
_ID = re.compile(r"[0-9a-f]{1,32}")
_VALUE = re.compile(r"[0-9A-Za-z_.\-]{1,40}")


def record(trainer, number):
    """The run ``trainer`` holds (at least one batch trained), as a JSON-ready dict (its loss curve thinned to MAX_POINTS)."""
    settings = trainer.run_settings  # (those it was trained with: a new one may have ended it)
    losses = trainer.losses
    step = max(1, math.ceil(len(losses) / MAX_POINTS))
    loss = [[round(x, 4), round(y, 4)] for x, y in losses[::step]]
    if losses and loss[-1][0] != round(losses[-1][0], 4):
        loss.append([round(losses[-1][0], 4), round(losses[-1][1], 4)])
    return {"id": trainer.run_id, "number": number, "outcome": trainer.outcome, "settings": settings,
            "epochs": trainer.epoch, "batches": trainer.steps, "seconds": round(trainer.wall(), 2),
            "test_acc": trainer.history[-1]["test_acc"] if trainer.history else None, "loss": loss,
            "test": [[h["epoch"], round(h["test_acc"], 4)] for h in trainer.history]}


def _points(value, limit):
    if not isinstance(value, list) or len(value) > limit:
        raise ValueError
    out = []
    for point in value:
        if (not isinstance(point, list) or len(point) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in point)):
            raise ValueError
        out.append([float(point[0]), float(point[1])])
    return out


def _count(value):
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10**9:
        raise ValueError
    return value


def checked(entry):
    """``entry`` read back from storage, as :func:`record` writes it; ValueError if it is not one."""
    if not isinstance(entry, dict):
        raise ValueError
    settings = entry.get("settings")
    if (not isinstance(settings, dict) or not set(settings) <= set(SETTINGS)
            or not all(isinstance(v, str) and _VALUE.fullmatch(v) for v in settings.values())):
        raise ValueError
    run_id, outcome, acc, seconds = entry.get("id"), entry.get("outcome"), entry.get("test_acc"), entry.get("seconds")
    if not isinstance(run_id, str) or not _ID.fullmatch(run_id) or outcome not in OUTCOMES:
        raise ValueError
    if acc is not None and not (isinstance(acc, (int, float)) and 0 <= acc <= 1):
        raise ValueError
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not 0 <= seconds < 1e7:
        raise ValueError
    return {"id": run_id, "number": _count(entry.get("number")), "outcome": outcome,
            "settings": {k: settings[k] for k in SETTINGS if k in settings}, "epochs": _count(entry.get("epochs")),
            "batches": _count(entry.get("batches")), "seconds": float(seconds),
            "test_acc": None if acc is None else float(acc), "loss": _points(entry.get("loss"), MAX_POINTS + 1),
            "test": _points(entry.get("test"), 1000)}


class Runs(param.Parameterized):
    runs = param.List(default=[], doc="the kept runs' records, oldest first")
    shown = param.List(default=[], doc="ids of the runs whose curves are overlaid")
    problem = param.Parameter(default=None, doc="a Message when kept runs could not be read back")

    def __init__(self, trainer=None, **params):
        super().__init__(**params)
        self.trainer = trainer
        if trainer is not None:
            trainer.param.watch(self._ended, "run_ended")

    def _ended(self, event):
        old = next((r for r in self.runs if r["id"] == self.trainer.run_id), None)
        number = old["number"] if old else max((r["number"] for r in self.runs), default=0) + 1
        self.add(record(self.trainer, number))

    def add(self, run):
        """Keep ``run`` (replacing the record of the same run) and show its curve."""
        runs = [r for r in self.runs if r["id"] != run["id"]] + [run]
        runs = runs[-MAX_RUNS:]
        kept = {r["id"] for r in runs}
        shown = [i for i in self.shown if i in kept and i != run["id"]] + [run["id"]]
        self.param.update(runs=runs, shown=shown[-MAX_SHOWN:])

    def show(self, ids):
        kept = {r["id"] for r in self.runs}
        self.shown = [i for i in ids if i in kept][-MAX_SHOWN:]

    def clear(self, event=None):
        self.param.update(runs=[], shown=[], problem=None)

    def dumps(self):
        return json.dumps({"runs": self.runs, "shown": self.shown}, separators=(",", ":"))

    def merge(self, text):
        """Add the runs kept in the browser (``text``: what :meth:`dumps` wrote) to those of this
        page; whatever cannot be read is left out, and ``problem`` says how much."""
        if not text:
            return
        try:
            data = read_json(text, MAX_STORED)
            if not isinstance(data, dict) or not isinstance(data.get("runs"), list):
                raise ValueError
            entries, shown = data["runs"][-MAX_RUNS:], data.get("shown")
        except ValueError:
            self.problem = msg("runs.unreadable")
            return
        stored, bad = [], 0
        for entry in entries:
            try:
                stored.append(checked(entry))
            except (ValueError, TypeError):
                bad += 1
        mine = {r["id"] for r in self.runs}
        runs = [r for r in stored if r["id"] not in mine] + self.runs
        shown = [i for i in shown if isinstance(i, str)] if isinstance(shown, list) else []
        self.param.update(runs=runs[-MAX_RUNS:], problem=msg("runs.some_unreadable", n=bad) if bad else None)
        self.show(shown + self.shown)

    def get(self, run_id):
        return next(r for r in self.runs if r["id"] == run_id)

    def differences(self, ids):
        """{id: [(setting, value), ...]}: for each run of ``ids``, the settings in which the runs
        differ (none for a run alone)."""
        runs = [self.get(i) for i in ids]
        names = [n for n in SETTINGS if len({r["settings"].get(n) for r in runs}) > 1]
        return {r["id"]: [(n, r["settings"].get(n, "-")) for n in names] for r in runs}
