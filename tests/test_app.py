"""The lab's state classes and views (site/webnet_lab), driven without a browser: training and
its status, failures explained, the one model in use named alike everywhere, the drawing's answer,
uploads; and the pandas stand-in the static page uses (run here with pandas blocked)."""
import io
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import panel as pn
import pytest

import webnet
from webnet import metrics
from webnet.models import PRETRAINED_ARCH, PRETRAINED_TEST_ACCURACY
from webnet_lab import pandas_stand_in, png
from webnet_lab.app import App
from webnet_lab.i18n import Catalogue
from webnet_lab.state import data
from webnet_lab.state.trainer import LEARNING_RATES
from webnet_lab.views.inspect import InspectView
from webnet_lab.views.train import TrainView

ROOT = Path(__file__).resolve().parent.parent
EN = Catalogue("en")


@pytest.fixture
def app():
    return App()


def train(trainer):
    """Run until the trainer is idle, recording the status positions on the way."""
    positions = [trainer.position()]
    trainer.start()
    while trainer.busy:
        trainer.chunk()
        positions.append(trainer.position())
    return positions


def test_digits_and_pretrained_model_are_read_on_first_use():
    """The first tab (and the model bar) needs neither: the static page starts sooner."""
    data.digits.cache_clear()
    app = App()
    app.__panel__()
    assert data.digits.cache_info().currsize == 0 and "pretrained" not in vars(app.models)
    assert EN(app.models.label()) == f"pretrained: {PRETRAINED_ARCH}, test {PRETRAINED_TEST_ACCURACY:.4f}"
    d = data.digits()
    assert (len(d.X_train), len(d.X_test)) == (data.N_TRAIN, data.N_TEST)
    assert app.models.current is app.models.pretrained


def test_training_puts_the_trained_model_in_use_and_names_it(app):
    t, m = app.trainer, app.models
    assert m.source == "pretrained" and m.available() == ["pretrained"]
    t.param.update(train_size=2000, epochs=1)
    positions = train(t)
    assert t.epoch == 1 and t.phase == "finished" and m.source == "trained" and m.current is t.net
    d = data.digits()
    acc = metrics.accuracy(t.net.predict(d.X_test), d.y_test)
    assert t.history[0]["test_acc"] == acc > 0.8 and len(t.losses) == t.steps == 63 and t.samples == 2000
    assert EN(m.label()) == f"trained: 784-128-10, 1 epoch, test {acc:.4f}"
    assert positions == sorted(positions) and positions[-1] == (1, 63)  # never goes back
    m.use("pretrained")
    assert m.current is m.pretrained and m.available() == ["pretrained", "trained"]


def test_the_status_agrees_with_itself(app):
    t = app.trainer
    view = TrainView(EN, trainer=t)
    t.param.update(epochs=2)
    assert re.sub("<[^>]+>", "", view.status()) == "Ready · epoch 1/2 · batch 0/313 · learning rate 0.1"
    t.step()
    text = view.status()
    assert "Paused" in text and "epoch 1/2 · batch 1/313" in text and "samples/s" not in text
    assert re.search(r"(\d+\.\d) s of training, (\d+\.\d) s of it in the steps", text)
    t.start()
    t.chunk()
    assert "Training" in view.status() and "samples/s" in view.status()
    train(t)
    text = view.status()
    assert "Finished</b> · epoch 2/2 · batch 313/313" in text and "samples/s" not in text
    wall, compute = map(float, re.search(r"(\d+\.\d) s of training, (\d+\.\d) s of it", text).groups())
    assert compute <= wall


def test_a_too_large_learning_rate_is_stopped_explained_and_a_working_one_found(app):
    """The issue's case: learning rate 10, batch 32 ends at chance with no warning."""
    t, m = app.trainer, app.models
    t.param.update(learning_rate=10.0, epochs=3)
    train(t)
    assert t.phase == "stopped" and t.epoch <= 1 and not t.busy
    text = EN(t.alert)
    assert text.startswith("Training stopped") and "the learning rate 10 is too large" in text.lower()
    # it either blew up at once, or ended guessing with its units dead (which, depends on the order)
    assert "too large to go on" in text or re.search(r"only guesses .* (9\d|100) % of its hidden units are dead", text)
    assert t.suggestion in LEARNING_RATES and t.suggestion < 10
    assert f"Learning rate {t.suggestion:g} brought the loss from" in text
    assert "the model in use before it is back" in text and m.source == "pretrained"
    rate = t.suggestion
    t.use_suggestion()
    assert t.learning_rate == rate and t.running
    t.pause()


def test_a_diverging_run_keeps_its_best_epoch(app):
    t, m = app.trainer, app.models
    t.param.update(train_size=2000, epochs=1)
    train(t)
    good = t.history[-1]["test_acc"]
    t.param.update(epochs=3, learning_rate=10.0, batch_size=256)
    train(t)
    assert t.phase == "stopped" and "Training stopped" in EN(t.alert)
    assert f"The weights of epoch 1 (test accuracy {good:.4f}) are kept." in EN(t.alert)
    assert m.source == "trained" and metrics.accuracy(t.net.predict(data.digits().X_test), data.digits().y_test) == good
    assert all(np.isfinite(p).all() for p in t.net.parameters())


def test_finished_training_asks_for_more_epochs(app):
    t = app.trainer
    t.param.update(train_size=1000, epochs=1)
    train(t)
    t.start()
    assert not t.running and EN(t.alert) == "Training finished after 1 epoch: raise Epochs to go on, or Reset."


def test_changing_the_architecture_resets_and_gives_the_model_back(app):
    t, m = app.trainer, app.models
    t.step()
    assert m.source == "trained" and EN(m.label()) == "trained: 784-128-10, 1 batch, not tested yet"
    t.param.update(second_layer=True, hidden2=32)
    assert t.architecture == "784-128-32-10" and t.steps == 0 and m.source == "pretrained"
    t.model_kind = "CNN"
    assert [type(layer).__name__ for layer in t.net.layers][:2] == ["Reshape", "Conv2D"]


def test_gradient_check_checks_the_model_in_use(app):
    app.checker.run()
    assert app.checker.checked == PRETRAINED_ARCH == "lenet" and app.checker.version == app.models.version
    assert EN(app.checker.model_name).startswith("pretrained")
    assert len(app.checker.rows) == 18 and all(r.ok for r in app.checker.rows)  # 16 layer rows, 2 network rows
    app.trainer.model_kind = "CNN"
    app.trainer.step()
    app.checker.run()
    assert app.checker.checked == "cnn" and all(r.ok for r in app.checker.rows)


def pad_stroke(points, width=23):
    rows, cols = np.mgrid[:280, :280]
    ink = np.zeros((280, 280), bool)
    for (x0, y0), (x1, y1) in zip(points, points[1:] or points):
        d = np.array([x1 - x0, y1 - y0], float)
        s = np.clip(((cols - x0) * d[0] + (rows - y0) * d[1]) / max(d @ d, 1e-9), 0, 1)
        ink |= np.hypot(cols - (x0 + s * d[0]), rows - (y0 + s * d[1])) <= width / 2
    return (255 * ink).astype(np.uint8)


def test_drawing_answers_and_unsure(app):
    c = app.classifier
    c.classify_image(pad_stroke([(140, 30), (140, 250)]))
    assert c.message.key == "draw.looks_like" and c.message.values["digit"] == 1 and c.preview.shape == (28, 28)
    assert c.version == app.models.version and EN(c.model_name).startswith("pretrained")
    c.classify_image(pad_stroke([(140, 140)]))  # a dot
    assert EN(c.message).startswith("That is too small to be a digit")
    c.classify_image(pad_stroke([(30, 140), (250, 140)]))  # a line on its side
    assert EN(c.message) == "That looks like a straight line on its side, not a digit."
    c.classify_image(np.zeros((280, 280), np.uint8))
    assert c.probabilities is None and EN(c.message) == "The box is empty: draw a digit."
    c.classify_test_digit(0)
    assert EN(c.message).endswith(f"The test digit is a {data.digits().y_test[0]}.")


def test_the_answer_follows_the_model_in_use(app):
    """No view shows an answer of an older model: the drawing is answered again when it changes."""
    c, t, m = app.classifier, app.trainer, app.models
    c.classify_test_digit(3)
    before = c.probabilities.copy()
    t.param.update(train_size=1000, epochs=1)
    train(t)
    assert c.version == m.version and np.array_equal(c.probabilities, t.net.predict_proba(data.digits().X_test[3:4])[0])
    assert not np.allclose(before, c.probabilities)
    m.use("pretrained")
    assert c.version == m.version and np.allclose(c.probabilities, before)


def test_upload_round_trip_card_and_bad_files(app):
    store, m = app.store, app.models
    good = store.download().getvalue()
    assert webnet.read_card(good)["architecture"] == PRETRAINED_ARCH
    for bad, says in ((b"", "the file is empty"), (b"garbage", "not"), (good[: len(good) // 2], "truncated"),
                      (b"PK\x03\x04 nope", "")):
        store.upload(bad, "bad.npz")
        text = EN(store.message)
        assert not store.ok and text.startswith("Could not use bad.npz: ") and text.endswith("unchanged.")
        assert says in text and "state dict" not in text and m.source == "pretrained"
    store.upload(good, "mine.npz")
    assert store.ok and m.source == "uploaded" and store.card["source"] == "pretrained"
    assert EN(store.message) == f"Loaded mine.npz: uploaded: mine.npz ({PRETRAINED_ARCH}), test {PRETRAINED_TEST_ACCURACY:.4f}."
    x = np.zeros((1, 784), np.float32)
    assert np.array_equal(m.current.predict_proba(x), m.pretrained.predict_proba(x))


def test_upload_of_a_model_that_is_not_for_digits(app):
    buf = io.BytesIO()
    webnet.save(webnet.build_model("20-5-3", rng=0), buf)
    app.store.upload(buf.getvalue(), "small.npz")
    assert not app.store.ok and "784" in EN(app.store.message) and app.models.source == "pretrained"


def test_png_writer_is_a_valid_png():
    import base64

    from PIL import Image

    a = (np.random.default_rng(0).random((9, 13)) * 255).astype(np.uint8)
    im = Image.open(io.BytesIO(png.png_bytes(a)))
    assert im.size == (13, 9) and np.array_equal(np.asarray(im), a)
    uri = png.png_data_uri(np.eye(3), 2)
    decoded = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))
    assert decoded.shape == (6, 6) and decoded[0, 0] == 0 and decoded[0, 2] == 255  # ink dark, scaled 2x


def test_tile_grid_places_tiles_with_gaps():
    tiles = np.arange(1, 4)[:, None, None] * np.ones((3, 2, 2))
    grid = png.tile_grid(tiles, cols=2)
    assert grid.shape == (2 * 3 + 1, 2 * 3 + 1)
    assert (grid[1:3, 1:3] == 1).all() and (grid[1:3, 4:6] == 2).all() and (grid[4:6, 1:3] == 3).all()
    assert grid[0].sum() == 0 and grid[:, 3].sum() == 0 and (grid[4:6, 4:6] == 0).all()


def test_views_build_and_follow_the_state(app):
    layout = app.__panel__()
    model = layout.get_root()
    # the banner (title, language), main (intro, model bar, tabs), the footer, the accessibility
    # helper, the browser's stores of kept runs and drawings
    assert type(model).__name__ == "Column" and len(model.children) == 6
    assert [type(c).__name__ for c in model.children[1].children] == ["HTML", "HTML", "HTML", "ReactiveHTML", "Tabs"]
    t, m = app.trainer, app.models
    t.param.update(train_size=1000, epochs=1)
    early = TrainView(EN, trainer=t)  # the figures come with the first batch
    assert early.plots.loss_src is None and [type(o).__name__ for o in early.plots.pane.objects] == ["HTML"]
    inspect = InspectView(EN, models=m)
    inspect.show()
    expected = f"test accuracy <b>{PRETRAINED_TEST_ACCURACY:.4f}</b> on 2,000 digits"
    assert f"pretrained: {PRETRAINED_ARCH}" in inspect.summary.object and expected in inspect.summary.object
    assert f"data-version='{m.version}'" in inspect.summary.object and "<table class='confusion-table'" in inspect.table.object
    train(t)
    assert "trained: 784-128-10, 1 epoch" in inspect.summary.object and f"data-version='{m.version}'" in inspect.summary.object
    assert inspect.gallery.object.count("<img") == 16 and "<img" in inspect.weights.object
    view = TrainView(EN, trainer=t)
    view.plots.stream()
    assert len(view.plots.loss_src.data["x"]) == len(t.losses) and len(view.plots.acc_src.data["epoch"]) == 1
    pn.Column(view).get_root()


def test_inspect_confusion_matrix_matches_the_library(app):
    inspect = InspectView(EN, models=app.models)
    inspect.show()
    d = data.digits()
    cm = metrics.confusion_matrix(d.y_test, app.models.pretrained.predict(d.X_test), 10)
    assert inspect.cm_src.data["count"] == cm.ravel().tolist()
    assert inspect.pc_src.data["acc"] == metrics.per_class_accuracy(cm).tolist()


def test_model_bar_offers_the_others_and_says_when_the_pretrained_is_better(app):
    from webnet_lab.views.model import ModelBar

    t, m = app.trainer, app.models
    bar = ModelBar(EN, models=m)
    assert [s for s, b in bar.buttons.items() if b.visible] == []
    t.param.update(train_size=1000, epochs=1)
    train(t)
    assert [s for s, b in bar.buttons.items() if b.visible] == ["pretrained"]
    assert f"The pretrained model reads more of the test digits ({PRETRAINED_TEST_ACCURACY:.4f})." in bar.text.object
    bar.buttons["pretrained"].clicks += 1
    assert m.source == "pretrained" and f"data-version='{m.version}'" in bar.text.object


def test_tabs_are_built_when_first_shown(app):
    layout = app.__panel__()
    tabs = app.tabs

    def built():
        return ["tab-loading" not in t.objects[0].css_classes for t in tabs.objects]

    assert built() == [True, False, False, False, False, False, False]
    assert tabs._names == ["Train", "Inspect", "Gradient check", "Exercises", "Draw", "Inside", "Model"]
    for i in (3, 1, 4, 6, 5, 2, 1):
        tabs.active = i
        assert built()[i] and len(tabs.objects[i].objects) == 1
    assert built() == [True] * 7
    layout.get_root()


def test_learning_rates_are_sorted_and_include_the_default(app):
    assert LEARNING_RATES == sorted(LEARNING_RATES) and app.trainer.learning_rate in LEARNING_RATES


def test_pandas_stand_in_runs_the_lab_without_pandas():
    """With pandas blocked, the lab installs the stand-in, and bokeh builds, streams to and
    serializes every plot of the lab; anything else taken from the stand-in fails loudly."""
    code = textwrap.dedent("""
        import sys
        sys.modules["pandas"] = None  # import pandas -> ImportError, as in the static page
        from webnet_lab import pandas_stand_in
        pandas_stand_in.install_if_missing()
        import pandas
        assert pandas.__version__.endswith("stand.in"), pandas.__version__
        from bokeh.document import Document
        from bokeh.embed import json_item
        from webnet_lab.app import App
        from webnet_lab.i18n import Catalogue
        from webnet_lab.views.inspect import InspectView
        from webnet_lab.views.train import TrainView
        app = App()
        doc = Document()
        app.__panel__().get_root(doc)
        t = app.trainer
        t.param.update(train_size=1000, epochs=1)
        t.start()
        while t.busy:
            t.chunk()
        view = TrainView(Catalogue("en"), trainer=t)
        view.plots.stream()
        inspect = InspectView(Catalogue("en"), models=app.models)
        inspect.show()
        for fig in [*view.plots.figures, *[c[0].object for c in inspect.plots]]:
            json_item(fig)  # serializes: no pandas needed
        doc.to_json()
        try:
            pandas.DataFrame({"a": [1]})
        except ImportError as e:
            assert "not available" in str(e)
        else:
            raise AssertionError("the stand-in built a DataFrame")
        try:
            pandas.read_csv
        except AttributeError as e:
            assert "runs without pandas" in str(e)
        else:
            raise AssertionError("the stand-in has read_csv")
        print("ok")
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stderr[-3000:]


def test_stand_in_is_only_used_without_pandas():
    import pandas as real

    pandas_stand_in.install_if_missing()
    assert sys.modules["pandas"] is real and not real.__version__.endswith("stand.in")


def test_a_run_that_fails_at_an_epochs_end_trains_no_further(app, monkeypatch):
    """A run found at chance after epoch 1 of 3 stops there: the search for a working rate runs,
    and then no more epochs (they used to go on, with the status stuck at "Testing")."""
    from webnet import monitor

    t = app.trainer
    t.param.update(train_size=1000, epochs=3)
    t.reset()
    monkeypatch.setattr(t.monitor, "epoch_done",
                        lambda net, epoch, loss, acc, dead: monitor.Diagnosis("chance", epoch, loss, acc, dead))
    train(t)
    assert t.phase == "stopped" and not t.busy and t.epoch == 1 and t.steps == 32 and len(t.history) == 1
    assert EN(t.alert).startswith("Training stopped: after epoch 1 the network only guesses")
    assert app.runs.runs[-1]["outcome"] == "failed" and app.runs.runs[-1]["epochs"] == 1
