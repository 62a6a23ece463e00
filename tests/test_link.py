"""The experiment in the URL (webnet_lab.state.link): a link restores every setting, bad values
become defaults with one note, and the same link gives the same run bit for bit."""

from webnet.exercises import EXERCISES
from webnet_lab.app import TABS, App

EXERCISE = list(EXERCISES)[1]
FULL = {"arch": "mlp", "hidden": "64", "hidden2": "32", "lr": "0.03", "batch": "64", "epochs": "5", "n": "2000",
        "seed": "7", "augment": "1", "exercise": EXERCISE, "tab": "draw", "lang": "ru"}


def test_a_link_restores_every_setting_and_is_written_back_the_same():
    app = App(query=FULL)
    app.__panel__()
    t = app.trainer
    assert (t.architecture, t.learning_rate, t.batch_size, t.epochs, t.train_size, t.seed, t.augment) == \
        ("784-64-32-10", 0.03, 64, 5, 2000, 7, True)
    assert app.tabs.active == TABS.index("draw") and app.t.lang == "ru" and app.session.exercise == EXERCISE
    assert app.link_problems == [] and app.link_query() == FULL
    for arch, kind in (("lenet", "LeNet"), ("CNN", "CNN")):
        app = App(query={"arch": arch})
        assert app.trainer.model_kind == kind and app.link_query()["arch"] == arch.lower()
        assert "hidden" not in app.link_query()  # the MLP's sizes only for an MLP


def test_bad_values_in_a_link_become_defaults_and_are_named_once():
    bad = {"lr": "banana", "epochs": "999", "hidden": "17", "arch": "resnet", "tab": "nope", "batch": "64",
           "seed": "-1", "augment": "maybe", "n": "2500", "exercise": "nope", "lang": "xx", "other": "ignored"}
    app = App(query=bad)
    layout = app.__panel__()
    defaults = App(query={}).trainer
    t = app.trainer
    assert t.batch_size == 64  # the one good value is used
    for name in ("learning_rate", "epochs", "hidden", "model_kind", "seed", "augment", "train_size"):
        assert getattr(t, name) == getattr(defaults, name), name
    named = {name for name, _ in app.link_problems}
    assert named == {"lr", "epochs", "hidden", "arch", "tab", "seed", "augment", "n", "exercise", "lang"}
    assert app.tabs.active == 0 and app.t.lang == "en"
    intro = layout.objects[1].objects[0].object
    assert intro.count("class='link-problems'") == 1 and "lr=banana" in intro and "epochs=999" in intro


def test_the_same_link_gives_the_same_run_bit_for_bit():
    runs = []
    for _ in range(2):
        app = App(query={"arch": "lenet", "lr": "0.1", "batch": "32", "seed": "11", "augment": "1", "n": "1000"})
        for _ in range(5):
            app.trainer.step()
        runs.append((list(app.trainer.losses), [p.tobytes() for p in app.trainer.net.parameters()]))
    assert runs[0] == runs[1] and len(runs[0][0]) == 5
    other = App(query={"arch": "lenet", "lr": "0.1", "batch": "32", "seed": "12", "augment": "1", "n": "1000"})
    other.trainer.step()
    assert other.trainer.losses[0] != runs[0][0][0]  # the seed matters: the test could fail


def test_the_benchmarks_kernel_switch_turns_the_kernel_off(monkeypatch):
    from webnet import accel

    monkeypatch.setattr(accel, "_kernel", object())  # as in the page, where the kernel is loaded
    App(query={"arch": "mlp"})
    assert accel.enabled()
    app = App(query={"kernel": "off"})
    assert not accel.enabled() and app.link_problems == []  # not a setting: no note, not in the link
    assert "kernel" not in app.link_query()
