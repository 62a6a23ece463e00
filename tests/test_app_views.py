"""The lab's newer views in CPython, without a browser: the Train tab's LeNet, augmentation and
downloads, and the Inside tab (the browser tests drive the same in the page)."""
import io
import re

import numpy as np
import pytest

import webnet
from test_app import EN, train
from webnet.augment import Augment
from webnet_lab import i18n
from webnet_lab.app import App
from webnet_lab.state import data
from webnet_lab.views.train import TrainView


@pytest.fixture
def app():
    return App()


def test_the_run_downloads_as_csv_and_json_holding_what_the_tab_shows(app):
    import csv
    import json

    t = app.trainer
    t.param.update(train_size=1000, epochs=2, seed=4)
    train(t)
    view = TrainView(EN, trainer=t)
    view.plots.stream()
    rows = list(csv.DictReader(io.StringIO(view.plots.history_csv().getvalue().decode())))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    for row, h in zip(rows, t.history):
        assert float(row["test_acc"]) == h["test_acc"] and float(row["train_loss"]) == h["train_loss"]
        assert f"{h['test_acc']:.4f}" in view.plots.table.object  # the same numbers as the tab's table
    run = json.loads(view.plots.history_json().getvalue())
    assert run["settings"]["architecture"] == "784-128-10" and run["settings"]["seed"] == 4
    assert len(run["batch_losses"]) == len(t.losses) == 2 * 32 and run["epochs"][1]["test_acc"] == t.history[1]["test_acc"]


def test_train_accuracy_is_measured_on_digits_trained_on_and_the_legend_says_how_many(app):
    from webnet import metrics

    t = app.trainer
    t.param.update(train_size=1000, epochs=1, seed=2)
    train(t)
    X, y = data.digits()[:2]
    assert t.history[0]["train_acc"] == metrics.accuracy(t.net.predict(X[:1000]), y[:1000])
    view = TrainView(EN, trainer=t)
    view.plots.stream()
    assert [item.label.value for item in view.plots.legend.items][0] == "train (1,000 digits)"
    t.reset()
    t.train_size = 3000
    t.step()
    view.plots.stream()
    assert view.plots.legend.items[0].label.value == "train (2,000 digits)"
    ru = TrainView(i18n.Catalogue("ru"), trainer=t)
    ru.plots.stream()
    assert ru.plots.legend.items[0].label.value.endswith("(2\u00a0000 цифр)")


def test_lenet_and_augmentation_from_the_train_tab(app):
    t = app.trainer
    t.model_kind = "LeNet"
    assert t.architecture == "lenet" and [type(layer).__name__ for layer in t.net.layers][3] == "MaxPool2D"
    view = TrainView(EN, trainer=t)
    assert "5,994 parameters" in view.arch_note("LeNet") and view.arch_note("MLP") == ""
    assert view.augment_preview(False, 0) == ""
    t.param.update(augment=True, train_size=1000)
    assert t.steps == 0 and t.architecture == "lenet"  # a training setting: the network is kept
    t.step()
    assert isinstance(t._epoch.augment, Augment) and t.steps == 1
    preview = t.augment_preview()
    assert preview.shape == (8, 28, 28) and len({p.tobytes() for p in preview}) == 8  # eight different distortions
    assert np.array_equal(preview, t.augment_preview())  # the same seed, the same preview
    assert view.augment_preview(True, 0).count("<img") == 8
    t.augment = False
    t.reset()
    t.step()
    assert t._epoch.augment is None


def inside_sections(html):
    """{section id: (heading, number of feature maps, number of bars)} of the Inside tab's HTML."""
    found = {}
    for ident, body in re.findall(r"<section class='inside-layer' data-layer='([^']+)'.*?>(.*?)</section>", html):
        heading = re.search(r"<h2[^>]*>([^<]*)</h2>", body).group(1)
        found[ident] = (heading, body.count("class='feature-map'"), body.count("class='unit'"))
    return found


def test_inside_shows_every_layer_of_the_model_in_use_for_the_digit(app):
    from webnet_lab.views.inside import InsideView

    c, m = app.classifier, app.models
    view = InsideView(EN, classifier=c)
    assert "No digit yet" in view.body.object
    c.classify_test_digit(0)
    net = m.current
    sections = inside_sections(view.body.object)
    assert list(sections) == ["input"] + [f"layer-{i + 1}" for i in range(len(net.layers))]
    acts = net.activations(data.digits().X_test[:1])
    for i, layer in enumerate(net.layers):  # every conv or pool output: one map per channel
        heading, maps, bars = sections[f"layer-{i + 1}"]
        assert repr(layer) in heading
        if acts[i + 1].ndim == 4:
            assert maps == acts[i + 1].shape[1] and bars == 0
    assert sections["layer-2"][1] == 8 and sections["layer-5"][1] == 16  # lenet's two convolutions
    assert view.body.object.count("class='kernels'") == 2
    probabilities = net.predict_proba(data.digits().X_test[:1])[0]
    softmax = view.body.object.split("data-layer='layer-10'")[1]
    assert sections["layer-10"][2] == 10 and f"<title>{int(probabilities.argmax())}: {probabilities.max():.3g}</title>" in softmax

    # the model changes: the view follows it (an MLP from the Train tab: its weights are on Inspect)
    app.trainer.param.update(model_kind="MLP", train_size=1000)
    app.trainer.step()
    sections = inside_sections(view.body.object)
    assert len(sections) == 1 + 4 and sections["layer-2"][2] == 128 and "Inspect tab" in view.body.object

    # any architecture that classifies digits: a Tanh and an average pooling too
    odd = webnet.NeuralNetwork([webnet.Reshape((1, 28, 28)), webnet.AvgPool2D(4), webnet.Flatten(),
                                webnet.LinearLayer(49, 12), webnet.Tanh(), webnet.LinearLayer(12, 10), webnet.Softmax()],
                               webnet.CrossEntropy())
    buf = io.BytesIO()
    webnet.save(odd, buf)
    app.store.upload(buf.getvalue(), "odd.npz")
    assert app.store.ok
    sections = inside_sections(view.body.object)
    assert sections["layer-2"][1] == 1 and sections["layer-5"][2] == 12 and "squashed into -1 to 1" in view.body.object
    assert sections["layer-6"][2] == 10  # the scores of the ten digits, labelled as digits
    assert view.body.object.count(">9</text>") == 2


def test_the_status_line_follows_a_new_batch_size_at_once(app):
    import panel as pn

    view = TrainView(EN, trainer=app.trainer)
    (status,) = [p for p in view.__panel__().select(pn.pane.HTML) if "train-status" in p.css_classes]
    assert "batch 0/313" in status.object
    app.trainer.batch_size = 64  # nothing else changes: the line must still say the new count
    assert "batch 0/157" in status.object
