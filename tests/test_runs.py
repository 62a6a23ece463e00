"""Compare runs (site/webnet_lab/state/runs.py, views/runs.py), without a browser: which runs are
kept and when, what a record holds, the legend's names of what differs, and reading back what a
browser kept (which may be damaged or hostile: bad entries are left out and said, nothing else lost)."""
import json
import math

import pytest
from bokeh.models import Legend

from webnet_lab.i18n import Catalogue
from webnet_lab.state import link
from webnet_lab.state.runs import MAX_POINTS, MAX_RUNS, MAX_SHOWN, MAX_STORED, Runs
from webnet_lab.state.trainer import Trainer
from webnet_lab.views.runs import RunsView

EN = Catalogue("en")


def train(trainer):
    trainer.start()
    while trainer.busy:
        trainer.chunk()


@pytest.fixture
def small():
    trainer = Trainer(train_size=1000, epochs=1)
    return trainer, Runs(trainer)


def test_a_finished_run_is_kept_with_its_settings_and_curves(small):
    trainer, runs = small
    train(trainer)
    assert trainer.phase == "finished" and len(runs.runs) == 1
    run = runs.runs[0]
    assert run["outcome"] == "finished" and run["number"] == 1 and runs.shown == [run["id"]]
    assert run["settings"] == link.settings(trainer) == trainer.run_settings and run["settings"]["n"] == "1000"
    assert run["test_acc"] == trainer.history[-1]["test_acc"] and run["epochs"] == 1 and run["batches"] == 32
    assert run["loss"][-1] == [round(x, 4) for x in trainer.losses[-1]]
    assert run["test"] == [[1, round(trainer.history[-1]["test_acc"], 4)]]
    trainer.reset()  # nothing new happened since it ended: not kept twice
    assert len(runs.runs) == 1


def test_a_run_left_part_way_is_kept_as_stopped_and_an_untouched_one_not(small):
    trainer, runs = small
    trainer.reset()
    assert runs.runs == []  # no batch trained: nothing to keep
    trainer.step()
    trainer.learning_rate = 0.3  # (applies from the next batch: the run goes on)
    trainer.batch_size = 128  # (from the next epoch)
    assert runs.runs == []
    trainer.seed = 5  # a new network: the run is left
    assert [r["outcome"] for r in runs.runs] == ["stopped"] and runs.runs[0]["settings"]["seed"] == "0"
    assert runs.runs[0]["test_acc"] is None and runs.runs[0]["batches"] == 1


def test_a_run_trained_on_for_more_epochs_is_one_run(small):
    trainer, runs = small
    train(trainer)
    trainer.epochs = 2
    train(trainer)
    assert len(runs.runs) == 1 and runs.runs[0]["epochs"] == 2 and runs.runs[0]["number"] == 1
    assert len(runs.runs[0]["test"]) == 2


def test_a_long_run_keeps_a_thinned_curve_that_ends_where_it_ended():
    trainer = Trainer(train_size=10000, epochs=1, batch_size=16)
    runs = Runs(trainer)
    train(trainer)
    loss = runs.runs[0]["loss"]
    assert len(trainer.losses) == 625 and MAX_POINTS // 2 <= len(loss) <= MAX_POINTS + 1
    assert loss[0] == [round(v, 4) for v in trainer.losses[0]] and loss[-1] == [round(v, 4) for v in trainer.losses[-1]]
    assert all(a[0] < b[0] for a, b in zip(loss, loss[1:]))


def record(run_id, number, **settings):
    base = {"arch": "mlp", "hidden": "128", "lr": "0.1", "batch": "32", "epochs": "3", "n": "10000", "seed": "0",
            "augment": "0"}
    return {"id": run_id, "number": number, "outcome": "finished", "settings": {**base, **settings}, "epochs": 3,
            "batches": 939, "seconds": 12.5, "test_acc": 0.91, "loss": [[0.0, 2.3], [3.0, 0.3]],
            "test": [[1, 0.85], [2, 0.9], [3, 0.91]]}


def test_the_legend_names_what_differs(small):
    _, runs = small
    for i, (lr, seed) in enumerate([("0.3", "0"), ("0.03", "0"), ("0.03", "1")]):
        runs.add(record(f"a{i}", i + 1, lr=lr, seed=seed))
    assert runs.differences(["a0", "a1"]) == {"a0": [("lr", "0.3")], "a1": [("lr", "0.03")]}
    assert runs.differences(["a1", "a2"]) == {"a1": [("seed", "0")], "a2": [("seed", "1")]}
    view = RunsView(EN, runs=runs)
    runs.show(["a0", "a1"])
    loss = view.figures[0]
    legend = loss.select_one({"type": Legend})
    shown = [item for item in legend.items if item.visible]
    assert [item.label.value for item in shown] == ["#1 · lr 0.3", "#2 · lr 0.03"]
    lines = [r for r in loss.renderers if r.visible]
    assert len(lines) == 2 and len({str(r.glyph.line_dash) for r in lines}) == 2  # not by colour alone
    assert lines[0].data_source.data["y"] == [2.3, 0.3]
    assert set(view.picker.value) == {"a0", "a1"} and len(view.picker.options) == 3
    runs.show(["a2"])  # the same figures, other data
    assert view.figures[0] is loss and [item.label.value for item in legend.items if item.visible] == ["#3"]


def test_the_table_lists_every_run_newest_first_and_clear_empties_it(small):
    _, runs = small
    view = RunsView(EN, runs=runs)
    assert "No runs kept yet" in view.table.object and not view.clear.visible
    runs.add(record("a1", 1, lr="0.3"))
    runs.add(record("a2", 2, lr="0.03", augment="1"))
    html = view.table.object
    assert html.index("data-run='a2'") < html.index("data-run='a1'")
    assert "lr 0.03" in html and "augmentation on" in html and "0.9100" in html and "12.5" in html
    view.clear.clicks += 1
    assert runs.runs == [] and runs.shown == [] and "No runs kept yet" in view.table.object


def test_runs_are_bounded(small):
    _, runs = small
    for i in range(MAX_RUNS + 5):
        runs.add(record(f"{i:x}", i + 1))
    assert len(runs.runs) == MAX_RUNS and runs.runs[0]["number"] == 6
    assert len(runs.shown) == MAX_SHOWN and runs.shown[-1] == f"{MAX_RUNS + 4:x}"
    runs.show([r["id"] for r in runs.runs])
    assert len(runs.shown) == MAX_SHOWN


def test_kept_runs_come_back_from_the_browser_merged(small):
    trainer, runs = small
    runs.add(record("a1", 1, lr="0.3"))
    runs.add(record("a2", 2, lr="0.03"))
    stored = runs.dumps()
    again = Runs(Trainer())
    again.add(record("b1", 1, seed="4"))  # a run of this page, made before the browser's arrived
    again.merge(stored)
    assert [r["id"] for r in again.runs] == ["a1", "a2", "b1"] and again.problem is None
    assert again.runs[0] == runs.runs[0]
    again.merge(stored)  # the same runs twice: no duplicates
    assert [r["id"] for r in again.runs] == ["a1", "a2", "b1"]
    train(trainer)  # a new run after the reload is numbered after the kept ones
    assert runs.runs[-1]["number"] == 3


@pytest.mark.parametrize("text", ["not json", "[1, 2]", '{"runs": 5}', "[" * 100_000, '{"runs": [' + "1," * 10 + "1]",
                                  " " * (MAX_STORED + 1)])
def test_damaged_storage_is_said_and_changes_nothing(small, text):
    _, runs = small
    runs.add(record("a1", 1))
    before = runs.dumps()
    runs.merge(text)
    assert "could not be read" in EN(runs.problem)
    assert [r["id"] for r in runs.runs] == ["a1"] and json.loads(runs.dumps())["runs"] == json.loads(before)["runs"]


def bad_entries():
    good = record("c1", 1)
    for change in ({"id": "<script>"}, {"outcome": "won"}, {"test_acc": 7}, {"test_acc": "0.9"},
                   {"seconds": math.inf}, {"loss": [[0, math.nan]]}, {"loss": [[0, 1]] * (MAX_POINTS + 2)},
                   {"settings": {"lr": "<img src=x onerror=alert(1)>"}}, {"settings": {"evil": "1"}},
                   {"number": -1}, {"epochs": True}, {"test": "[[1, 0.9]]"}):
        yield {**good, **change}
    yield [1, 2]


def test_bad_entries_are_left_out_and_counted(small):
    _, runs = small
    entries = list(bad_entries())
    text = json.dumps({"runs": [record("a1", 1)] + entries + [record("a2", 2)], "shown": ["a2", "nope", 5]},
                      allow_nan=True)
    runs.merge(text)
    assert [r["id"] for r in runs.runs] == ["a1", "a2"] and runs.shown == ["a2"]
    assert EN(runs.problem) == f"{len(entries)} of the runs kept in this browser could not be read and are left out."
    view = RunsView(EN, runs=runs)
    assert "<img" not in view.table.object and "could not be read" in view.note.object
