"""The lab's state classes and views (site/webnet_lab), driven without a browser, and the pandas
stand-in the static page uses instead of pandas (run here under CPython with pandas blocked)."""
import io
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import panel as pn
import pytest

import webnet
from webnet import metrics
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
    trainer.start()
    while trainer.running:
        trainer.chunk()


def pretrained_accuracy():
    d = data.digits()
    return metrics.accuracy(webnet.models.pretrained().predict(d.X_test), d.y_test)


def test_digits_and_pretrained_model_are_read_on_first_use():
    """The first tab needs neither: the static page starts sooner. The sizes the page states
    before reading them are the subset's."""
    data.digits.cache_clear()
    app = App()
    app.__panel__()
    assert data.digits.cache_info().currsize == 0 and "pretrained" not in vars(app.trainer)
    d = data.digits()
    assert (len(d.X_train), len(d.y_train), len(d.X_test), len(d.y_test)) == (data.N_TRAIN,) * 2 + (data.N_TEST,) * 2
    assert app.trainer.current is app.trainer.pretrained and "pretrained" in vars(app.trainer)


def test_training_records_history_and_switches_the_model(app):
    t = app.trainer
    assert t.source == "pretrained" and t.current is t.pretrained
    t.param.update(train_size=2000, epochs=1)
    train(t)
    assert t.epoch == 1 and len(t.history) == 1 and t.source == "trained" and t.current is t.net
    assert t.history[0]["test_acc"] > 0.8
    d = data.digits()
    assert t.history[0]["test_acc"] == metrics.accuracy(t.net.predict(d.X_test), d.y_test)
    assert len(t.losses) == t.steps == 63  # 2,000 digits in batches of 32
    assert t.batch == 63 and t.speed > 0
    assert EN(t.describe_current()) == "your trained model (784-128-10, 1 epoch)"


def test_step_trains_one_batch(app):
    t = app.trainer
    t.step()
    t.step()
    assert t.steps == 2 and t.batch == 2 and not t.running
    assert EN(t.describe_current()) == "your trained model (784-128-10, 2 batches)"


def test_changing_the_architecture_resets(app):
    t = app.trainer
    t.step()
    t.param.update(second_layer=True, hidden2=32)  # two changes, one batch of watcher events
    assert t.architecture == "784-128-32-10" and t.steps == 0 and t.source == "pretrained"
    t.model_kind = "CNN"
    assert t.architecture == "cnn" and [type(layer).__name__ for layer in t.net.layers][:2] == ["Reshape", "Conv2D"]
    t.step()
    assert t.steps == 1


def test_divergence_is_explained_and_keeps_finite_weights(app):
    t = app.trainer
    t.param.update(learning_rate=10.0, train_size=2000, epochs=3)
    train(t)
    assert t.alert.key == "train.diverged_alert" and t.alert.values["smaller"] == "3"
    assert "smaller learning rate, such as 3" in EN(t.alert)
    assert all(np.isfinite(p).all() for p in t.net.parameters())


def test_finished_training_asks_for_more_epochs(app):
    t = app.trainer
    t.param.update(train_size=1000, epochs=1)
    train(t)
    t.start()
    assert not t.running and EN(t.alert) == "Training finished after 1 epoch: raise Epochs to go on, or Reset."


def test_gradient_check_rows(app):
    app.checker.run()
    rows = app.checker.rows
    assert len(rows) == 10 and all(r.ok for r in rows) and app.checker.checked == "784-128-10"


def test_drawing_classifier(app):
    c = app.classifier
    pad = np.zeros((280, 280), np.uint8)
    pad[30:250, 130:152] = 255  # alpha of a vertical stroke
    c.classify_image(pad)
    assert c.probabilities.argmax() == 1 and c.message.key == "draw.looks_like" and c.message.values["digit"] == 1
    assert c.preview.shape == (28, 28)
    c.classify_image(np.zeros((280, 280), np.uint8))
    assert c.probabilities is None and EN(c.message) == "The box is empty: draw a digit."
    c.classify_test_digit(0)
    assert c.message.values["label"] == data.digits().y_test[0]


def test_classifier_follows_the_current_model(app):
    c, t = app.classifier, app.trainer
    c.classify_test_digit(3)
    before = c.probabilities.copy()
    t.param.update(train_size=1000, epochs=1)
    train(t)  # source changes to "trained": the digit is classified again by the new model
    assert np.array_equal(c.probabilities, t.net.predict_proba(data.digits().X_test[3:4])[0])
    assert not np.allclose(before, c.probabilities)


def test_upload_round_trip_and_bad_files(app):
    store, t = app.store, app.trainer
    good = store.download().getvalue()
    for bad in (b"", b"garbage", good[: len(good) // 2], b"PK\x03\x04 nope"):
        store.upload(bad, "bad.npz")
        text = EN(store.message)
        assert not store.ok and text.startswith("Could not use bad.npz: ") and text.endswith("unchanged.")
        assert t.source == "pretrained"
    store.upload(good, "mine.npz")
    assert store.ok and t.source == "uploaded" and t.uploaded_name == "mine.npz"
    assert EN(store.message) == f"Loaded mine.npz: 784-128-10, test accuracy {pretrained_accuracy():.4f}."
    x = np.zeros((1, 784), np.float32)
    assert np.array_equal(t.current.predict_proba(x), t.pretrained.predict_proba(x))


def test_empty_upload_says_so(app):
    app.store.upload(b"", "nothing.npz")
    assert EN(app.store.message) == "Could not use nothing.npz: the file is empty. The current model is unchanged."


def test_upload_of_a_model_that_is_not_for_digits(app):
    buf = io.BytesIO()
    webnet.save(webnet.build_model("20-5-3", rng=0), buf)
    app.store.upload(buf.getvalue(), "small.npz")
    assert not app.store.ok and "784" in EN(app.store.message) and app.trainer.source == "pretrained"


def test_png_writer_is_a_valid_png():
    from PIL import Image

    a = (np.random.default_rng(0).random((9, 13)) * 255).astype(np.uint8)
    im = Image.open(io.BytesIO(png.png_bytes(a)))
    assert im.size == (13, 9) and np.array_equal(np.asarray(im), a)
    import base64
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
    """Every view renders to bokeh models, and batched parameter changes (several events in one
    watcher call) reach them."""
    layout = app.__panel__()
    model = layout.get_root()
    assert type(model).__name__ == "Column" and len(model.children) == 4  # title, intro, tabs, about
    t = app.trainer
    t.param.update(train_size=1000, epochs=1)
    early = TrainView(EN, trainer=t)  # the figures come with the first batch
    assert early.plots.loss_src is None and [type(o).__name__ for o in early.plots.pane.objects] == ["HTML"]
    inspect = InspectView(EN, trainer=t)
    inspect.show()
    expected = f"test accuracy <b>{pretrained_accuracy():.4f}</b> on 2,000 digits"
    assert "the pretrained model" in inspect.summary.object and expected in inspect.summary.object
    train(t)
    t.param.update(tick=t.tick + 1, source="trained")  # two params at once
    assert "your trained model" in inspect.summary.object
    assert inspect.gallery.object.count("<img") == 16 and "<img" in inspect.weights.object
    view = TrainView(EN, trainer=t)
    view.plots.stream()
    assert len(view.plots.loss_src.data["x"]) == len(t.losses) and len(view.plots.acc_src.data["epoch"]) == 1
    for v in (view, early):
        assert [type(o).__name__ for o in v.plots.pane.objects] == ["Bokeh", "Bokeh"]
        assert len(v.plots.loss_src.data["x"]) == len(t.losses)
    pn.Column(view).get_root()


def test_inspect_confusion_matrix_matches_the_library(app):
    inspect = InspectView(EN, trainer=app.trainer)
    inspect.show()
    d = data.digits()
    cm = metrics.confusion_matrix(d.y_test, app.trainer.pretrained.predict(d.X_test), 10)
    assert inspect.cm_src.data["count"] == cm.ravel().tolist()
    assert inspect.pc_src.data["acc"] == metrics.per_class_accuracy(cm).tolist()


def test_tabs_are_built_when_first_shown(app):
    """Only the Train tab is built at start-up; the others the first time they are shown."""
    layout = app.__panel__()
    (tabs,) = [o for o in layout.objects if isinstance(o, pn.Tabs)]

    def built():
        return ["tab-loading" not in t.objects[0].css_classes for t in tabs.objects]

    assert built() == [True, False, False, False, False, False]
    assert tabs._names == ["Train", "Inspect", "Gradient check", "Exercises", "Draw", "Model"]
    for i in (3, 1, 4, 5, 2, 1):
        tabs.active = i
        assert built()[i] and len(tabs.objects[i].objects) == 1
    assert built() == [True] * 6
    summaries = [str(m.object) for m in tabs.objects[1].select(pn.pane.HTML)]
    assert any(f"test accuracy <b>{pretrained_accuracy():.4f}</b>" in s for s in summaries)  # evaluated when shown
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
        while t.running:
            t.chunk()
        view = TrainView(Catalogue("en"), trainer=t)
        view.plots.stream()
        inspect = InspectView(Catalogue("en"), trainer=t)
        inspect.show()
        for fig in [*[p.object for p in view.plots.pane], *[p.object for p in inspect.plots]]:
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
