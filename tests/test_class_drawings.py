"""The class's own handwriting in the lab (state/drawings.py, views/class_drawings.py), without a
browser: keep a labelled drawing (only a drawing, once), remove it, export and import (merged, bad
files refused with nothing lost), read back from the browser's storage (damaged: said, nothing
lost), and how the model in use reads them, wrong ones shown."""
import numpy as np
import pytest

from webnet.drawings import Drawings
from webnet_lab.app import App
from webnet_lab.i18n import Catalogue
from webnet_lab.views.class_drawings import ClassDrawingsView

EN = Catalogue("en")


def one():
    canvas = np.zeros((280, 280), np.uint8)
    canvas[40:240, 130:152] = 255  # a vertical stroke: a one
    return canvas


@pytest.fixture
def lab():
    app = App()
    view = ClassDrawingsView(EN, drawings=app.drawings, classifier=app.classifier)
    return app, view


def test_a_drawing_is_kept_with_its_label_once(lab):
    app, view = lab
    assert view.keep.disabled and "No drawings kept yet" in view.summary.object
    app.classifier.classify_image(one())
    assert not view.keep.disabled and view.label.value == "1"  # the label starts at what was read
    view.keep.clicks += 1
    d = app.drawings.drawings
    assert len(d) == 1 and d.labels.tolist() == [1] and EN(app.drawings.message) == "Kept as a 1: 1 drawing kept."
    expected = np.clip(np.rint(app.classifier.preview * 255), 0, 255).astype(np.uint8)
    assert np.array_equal(d.images[0], expected)  # what the network saw
    view.keep.clicks += 1
    assert len(app.drawings.drawings) == 1 and "already kept as a 1" in EN(app.drawings.message)
    view.label.value = "7"  # the same ink labelled otherwise is another example
    assert view.keep.name == "Keep as a 7"  # the button says what it keeps
    view.keep.clicks += 1
    assert app.drawings.drawings.labels.tolist() == [1, 7]
    assert view.gallery.objects[0].objects[1].name == "Remove #2 (7)"  # the newest first
    assert "reads 1 of your 2 drawings right (50.0 %)" in view.summary.object
    assert "2,000 test digits: 99." in view.summary.object
    assert "1 drawing read wrong" in view.wrong.object and "a 7, read as 1" in view.wrong.object
    view.gallery.objects[0].objects[1].clicks += 1
    assert app.drawings.drawings.labels.tolist() == [1] and view.wrong.object == ""


def test_a_test_digit_is_not_the_class_handwriting(lab):
    app, view = lab
    app.classifier.classify_test_digit(0)
    assert view.keep.disabled
    view._keep()
    assert len(app.drawings.drawings) == 0 and not app.drawings.ok


def test_export_import_merges_and_a_bad_file_changes_nothing(lab):
    app, view = lab
    app.classifier.classify_image(one())
    view.keep.clicks += 1
    data = view.download.callback().getvalue()
    assert Drawings.load(data).labels.tolist() == [1]
    other = App()
    other.drawings.drawings = Drawings.of(np.full((1, 28, 28), 0.5), [3])
    other.drawings.import_file(data, "anna.npz")
    assert other.drawings.drawings.labels.tolist() == [3, 1]
    assert EN(other.drawings.message) == "anna.npz: 1 new drawing added (2 kept; drawings already kept are skipped)."
    other.drawings.import_file(data, "anna.npz")
    assert len(other.drawings.drawings) == 2 and "0 new drawings added" in EN(other.drawings.message)
    for bad in (b"", b"PK\x03\x04 junk", b"\x80\x04\x95pickle"):
        other.drawings.import_file(bad, "bad.npz")
        assert not other.drawings.ok and EN(other.drawings.message).startswith("bad.npz was not imported: ")
        assert other.drawings.drawings.labels.tolist() == [3, 1]


def test_the_browser_keeps_them_and_damage_is_said(lab):
    app, view = lab
    app.classifier.classify_image(one())
    view.keep.clicks += 1
    stored = app.drawings_store.value
    again = App()
    again.drawings_store.stored = stored  # what the page sends once it shows the store
    assert np.array_equal(again.drawings.drawings.images, app.drawings.drawings.images)
    for damaged in ("{", '{"images": "!!", "labels": [1]}', '{"images": "", "labels": [1]}',
                    '{"images": "AAAA", "labels": [[1]]}', "x" * 20_000_000):
        again.drawings.merge_stored(damaged)
        assert "could not be read" in EN(again.drawings.message) and len(again.drawings.drawings) == 1


def test_training_on_mnist_and_the_drawings_keeps_a_quarter_out(lab):
    from webnet import drawn
    from webnet_lab.state.data import digits
    from webnet_lab.state.drawings import DRAWINGS_SHARE

    app, view = lab
    X, y = drawn.digits(n_per_digit=4, seed=5)
    app.drawings.drawings = Drawings.of(X, y)
    opened = []
    view.show_train = lambda: opened.append(True)
    t = app.trainer
    t.param.update(train_size=1000, epochs=1)
    view.train_with.clicks += 1
    assert t.with_drawings and opened == [True] and t.steps == 0
    Xm, ym = t._training_data(digits())
    trained, held = t.drawing_split
    assert len(trained) == 30 and len(held) == 10 and sorted(held.labels.tolist()) == list(range(10))
    times = round(DRAWINGS_SHARE * 1000 / 30)
    assert len(Xm) == 1000 + times * 30 and np.array_equal(Xm[1000:1030], trained.X)
    assert not {r.tobytes() for r in held.images} & {r.tobytes() for r in trained.images}
    t.start()
    while t.busy:
        t.chunk()
    acc, n = t.held_out_accuracy()
    assert n == 10 and t.history[-1]["held_out_drawings"] == acc and t.run_settings["drawings"] == "30"
    assert app.models.source == "trained"
    assert f"on the 10 drawings held out (never trained on) it is right {100 * acc:.1f} %" in view.summary.object
    t.with_drawings = False  # another run, on MNIST alone
    assert t.drawing_split is None and t._training_data(digits())[0].shape[0] == 1000
