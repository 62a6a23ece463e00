"""The lab's state classes and views, driven without a browser, and the pandas stand-in the static
page uses instead of pandas (run here under CPython with the real pandas blocked)."""
import importlib.util
import io
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "site" / "app.py"


@pytest.fixture(scope="module")
def lab():
    spec = importlib.util.spec_from_file_location("webnet_lab", APP)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def app(lab):
    return lab.App()


def test_digits_and_pretrained_model_are_read_on_first_use(lab):
    """The first tab needs neither: the static page starts sooner. The sizes the page states
    before reading them are the subset's."""
    lab.digits.cache_clear()
    app = lab.App()
    app.__panel__()
    assert lab.digits.cache_info().currsize == 0 and "pretrained" not in vars(app.trainer)
    d = lab.digits()
    assert (len(d.X_train), len(d.y_train), len(d.X_test), len(d.y_test)) == (lab.N_TRAIN,) * 2 + (lab.N_TEST,) * 2
    assert app.trainer.current is app.trainer.pretrained and "pretrained" in vars(app.trainer)


def train(trainer):
    trainer.start()
    while trainer.running:
        trainer.chunk()


def test_training_records_history_and_switches_the_model(app):
    t = app.trainer
    assert t.source == "pretrained" and t.current is t.pretrained
    t.param.update(train_size=2000, epochs=1)
    train(t)
    assert t.epoch == 1 and len(t.history) == 1 and t.source == "trained" and t.current is t.net
    assert t.history[0]["test_acc"] > 0.8
    assert len(t.losses) == t.steps == 63  # 2,000 digits in batches of 32
    assert t.batch == 63 and t.speed > 0


def test_step_trains_one_batch(app):
    t = app.trainer
    t.step()
    t.step()
    assert t.steps == 2 and t.batch == 2 and not t.running


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
    assert "diverged" in t.alert and "smaller learning rate, such as 3" in t.alert
    assert all(np.isfinite(p).all() for p in t.net.parameters())


def test_finished_training_asks_for_more_epochs(app):
    t = app.trainer
    t.param.update(train_size=1000, epochs=1)
    train(t)
    t.start()
    assert not t.running and "raise Epochs" in t.alert


def test_gradient_check_rows(app):
    app.checker.run()
    rows = app.checker.rows
    assert len(rows) == 10 and all(r.ok for r in rows) and app.checker.seconds < 5


def test_drawing_classifier(lab, app):
    c = app.classifier
    pad = np.zeros((280, 280), np.uint8)
    pad[30:250, 130:152] = 255  # alpha of a vertical stroke
    c.classify_image(pad)
    assert c.probabilities.argmax() == 1 and "looks like a **1**" in c.message
    assert c.preview.shape == (28, 28)
    c.classify_image(np.zeros((280, 280), np.uint8))
    assert c.probabilities is None and "empty" in c.message
    c.classify_test_digit(0)
    assert f"The test digit is a {lab.digits().y_test[0]}" in c.message


def test_classifier_follows_the_current_model(app):
    c, t = app.classifier, app.trainer
    c.classify_test_digit(3)
    before = c.probabilities.copy()
    t.param.update(train_size=1000, epochs=1)
    train(t)  # source changes to "trained": the digit is classified again by the new model
    assert not np.allclose(before, c.probabilities)


def test_upload_round_trip_and_bad_files(app):
    store, t = app.store, app.trainer
    good = store.download().getvalue()
    for bad in (b"garbage", good[: len(good) // 2], b"PK\x03\x04 nope"):
        store.upload(bad, "bad.npz")
        assert not store.ok and "Could not use bad.npz" in store.message and "unchanged" in store.message
        assert t.source == "pretrained"
    store.upload(good, "mine.npz")
    assert store.ok and t.source == "uploaded model mine.npz"
    assert np.array_equal(t.current.predict_proba(np.zeros((1, 784), np.float32)),
                          t.pretrained.predict_proba(np.zeros((1, 784), np.float32)))


def test_upload_of_a_model_that_is_not_for_digits(app):
    import webnet

    buf = io.BytesIO()
    webnet.build_model("20-5-3", rng=0).save(buf)
    app.store.upload(buf.getvalue(), "small.npz")
    assert not app.store.ok and "784" in app.store.message and app.trainer.source == "pretrained"


def test_png_writer_is_a_valid_png(lab):
    from PIL import Image

    a = (np.random.default_rng(0).random((9, 13)) * 255).astype(np.uint8)
    im = Image.open(io.BytesIO(lab.png_bytes(a)))
    assert im.size == (13, 9) and np.array_equal(np.asarray(im), a)
    assert lab.png_data_uri(np.zeros((28, 28)), 2).startswith("data:image/png;base64,")


def test_views_build_and_follow_the_state(app, lab):
    """Every view renders to bokeh models, and batched parameter changes (several events in one
    watcher call) reach them without errors."""
    import panel as pn

    root = app.__panel__().get_root()
    assert root is not None
    t = app.trainer
    t.param.update(train_size=1000, epochs=1)
    early = lab.TrainView(trainer=t)  # the figures come with the first batch
    assert early.loss_src is None and [type(o).__name__ for o in early.plots.objects] == ["HTML"]
    inspect = lab.InspectView(trainer=t)
    inspect.show()
    assert "pretrained model" in inspect.summary.object and "test accuracy **0.9545**" in inspect.summary.object
    train(t)
    t.param.update(tick=t.tick + 1, source="trained")  # two params at once
    assert "your trained model" in inspect.summary.object
    assert "<img" in inspect.gallery.object and "<img" in inspect.weights.object
    view = lab.TrainView(trainer=t)
    view._stream()
    assert len(view.loss_src.data["x"]) == len(t.losses) and len(view.acc_src.data["epoch"]) == 1
    for v in (view, early):
        assert [type(o).__name__ for o in v.plots.objects] == ["Bokeh", "Bokeh"]
        assert len(v.loss_src.data["x"]) == len(t.losses)
    pn.Column(view).get_root()


def test_tabs_are_built_when_first_shown(app):
    """Only the Train tab is built at start-up; the others the first time they are shown."""
    import panel as pn

    layout = app.__panel__()
    (tabs,) = [o for o in layout.objects if isinstance(o, pn.Tabs)]
    def built():
        return ["tab-loading" not in t.objects[0].css_classes for t in tabs.objects]

    assert built() == [True, False, False, False, False] and tabs._names == list(app.TABS)
    for i in (3, 1, 4, 2, 1):
        tabs.active = i
        assert built()[i] and len(tabs.objects[i].objects) == 1
    assert built() == [True] * 5
    summaries = [str(m.object) for m in tabs.objects[1].select(pn.pane.Markdown)]
    assert any("test accuracy **0.9545**" in t for t in summaries)  # Inspect evaluates when shown
    layout.get_root()


def test_pandas_stand_in_runs_the_lab_without_pandas():
    """With pandas blocked, the app installs the stand-in, and bokeh builds, streams to and
    serializes every plot of the lab; anything else taken from the stand-in fails loudly."""
    code = textwrap.dedent(f"""
        import sys
        sys.modules["pandas"] = None  # import pandas -> ImportError, as in the static page
        import importlib.util
        spec = importlib.util.spec_from_file_location("lab", {str(APP)!r})
        lab = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(lab)
        import pandas
        assert pandas.__version__.endswith("stand.in"), pandas.__version__
        from bokeh.document import Document
        from bokeh.embed import json_item
        app = lab.App()
        doc = Document()
        panel_root = app.__panel__().get_root(doc)
        t = app.trainer
        t.param.update(train_size=1000, epochs=1)
        t.start()
        while t.running:
            t.chunk()
        view = lab.TrainView(trainer=t)
        view._stream()
        inspect = lab.InspectView(trainer=t)
        inspect.show()
        for fig in [*[p.object for p in view.plots], *[p.object for p in inspect.plots]]:
            json_item(fig)  # serializes: no pandas needed
        doc.to_json()
        try:
            pandas.DataFrame({{"a": [1]}})
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
