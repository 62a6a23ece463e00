"""webnet.drawn, the drawn-digit test set, and the shipped model against it (issue #19: the default
model must read what people draw on the pad, not only MNIST)."""
import numpy as np
import pytest

import webnet as wn
from webnet import drawn
from webnet.preprocess import preprocess


@pytest.fixture(scope="module")
def drawn_set():
    return drawn.digits()


def test_the_set_is_made_from_its_seed_and_is_large_enough(drawn_set):
    X, y = drawn_set
    assert X.shape == (600, 784) and X.dtype == np.float32 and y.dtype == np.int64
    assert np.array_equal(np.bincount(y), [60] * 10) and X.min() == 0.0 and X.max() == 1.0
    again = drawn.digits(n_per_digit=2)
    assert np.array_equal(again[0], drawn.digits(n_per_digit=2)[0])  # deterministic
    assert not np.array_equal(again[0], drawn.digits(n_per_digit=2, seed=1)[0])
    assert len({s for styles in drawn.STYLES.values() for s in styles}) >= 15
    assert all(len(drawn.STYLES[d]) >= 2 for d in range(10))


def test_a_drawing_is_the_pads_canvas():
    canvas = drawn.draw(1, "plain", np.random.default_rng(0))
    assert canvas.shape == (280, 280) and canvas.dtype == np.uint8 and canvas.max() == 255
    # round caps, 23 px wide, antialiased: a straight stroke seen across is 23 pixels of ink
    line = drawn.render([[(100.0, 50.0), (100.0, 200.0)]])
    assert line[125].astype(bool).sum() in (23, 24) and (line[125] == 255).sum() == 22
    assert 0 < line[125, 88] < 255  # the antialiased edge
    assert line[38:40, 100].any() and not line[36, 100]  # the cap reaches 11.5 px past the end


def test_each_style_is_a_digit_the_preprocessing_accepts():
    rng = np.random.default_rng(1)
    for digit, styles in drawn.STYLES.items():
        for style in styles:
            image = preprocess(drawn.draw(digit, style, rng)).image
            assert image.shape == (28, 28) and image.max() == 1.0, (digit, style)


def test_the_shipped_model_reads_the_drawn_digits(drawn_set):
    X, y = drawn_set
    net = wn.models.pretrained()
    accuracy = float(np.mean(net.predict(X) == y))
    assert accuracy >= 0.99, f"{accuracy:.4f}"
    per_digit = [float(np.mean(net.predict(X[y == d]) == d)) for d in range(10)]
    assert min(per_digit) >= 0.9, per_digit
