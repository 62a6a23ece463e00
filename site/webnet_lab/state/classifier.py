"""DrawingClassifier: a drawing (or a test digit) through webnet's preprocessing and the model in
use, answered again whenever that model changes; "that does not look like a digit" when it does
not (webnet.novelty)."""
from __future__ import annotations

import functools
import time

import numpy as np
import param

from webnet.novelty import Novelty
from webnet.preprocess import BlankImage, preprocess

from ..i18n import msg
from .data import N_TEST, digits

LIVE_EVERY = 0.5  # seconds between answers while the model in use is training (each chunk changes it)
PEN = 1 / 12  # the pad's pen width, as a share of its side (components/drawing_pad.js)
MIN_EXTENT = 2.5  # pen widths: ink spanning less than this is a dot or a tap, too small to be a digit
SURE = 0.5  # below this top probability the answer names the two likeliest digits


@functools.cache
def novelty():
    """Distances to the training digits, set up on first use."""
    return Novelty(digits().X_train)


class DrawingClassifier(param.Parameterized):
    preview = param.Array(default=None, allow_None=True, doc="what the network sees, 28x28")
    probabilities = param.Array(default=None, allow_None=True)
    message = param.Parameter(default=msg("draw.prompt"), doc="a Message")
    model_name = param.Parameter(default=None, doc="a Message naming the model the answer came from")
    version = param.Integer(default=-1, doc="the version of the model in use the answer came from")
    true_label = param.Integer(default=None, allow_None=True)

    def __init__(self, models, **params):
        super().__init__(**params)
        self.models = models
        self._last = None  # the last input, answered again when the model changes
        self._answered_at = 0.0
        models.param.watch(self._model_changed, "version")
        models.trainer.param.watch(self._model_changed, "running")

    def classify_image(self, image):
        """``image``: a canvas as (H, W) alpha / grayscale or (H, W, 4) RGBA; None clears."""
        self._last = ("image", image)
        if image is None:
            self.param.update(preview=None, probabilities=None, true_label=None, message=msg("draw.prompt"))
            return
        try:
            x = preprocess(image)
        except BlankImage:
            self.param.update(preview=None, probabilities=None, true_label=None, message=msg("draw.empty"))
            return
        small = max(x.cropped.shape) < MIN_EXTENT * PEN * max(np.shape(image)[:2])
        self._show(x.image, None, unsure="small" if small else None)

    def drawn(self):
        """True when the answer shown is for a drawing (not a test digit, not an empty pad)."""
        return self._last is not None and self._last[0] == "image" and self.preview is not None

    def damaged(self):
        """The drawing did not arrive whole."""
        self.message = msg("draw.damaged")

    def classify_test_digit(self, index):
        self._last = ("test", index)
        d = digits()
        self._show(d.X_test[index].reshape(28, 28), int(d.y_test[index]))

    def random_test_digit(self, event=None):
        self.classify_test_digit(int(np.random.default_rng().integers(N_TEST)))

    def _show(self, image, true_label, unsure=None):
        models = self.models
        self._answered_at = time.perf_counter()
        p = models.current.predict_proba(image.reshape(1, 784))[0]
        first, second = (int(i) for i in np.argsort(-p)[:2])
        unlike = unsure or (novelty().unlike_a_digit(image.reshape(1, 784))[0] if true_label is None else None)
        if unlike is not None:
            message = msg(f"draw.unsure_{unlike}")
        elif p[first] < SURE:
            message = msg("draw.maybe", digit=first, pct=round(100 * float(p[first])), other=second,
                          other_pct=round(100 * float(p[second])))
        else:
            message = msg("draw.looks_like", digit=first, pct=round(100 * float(p[first])))
        if true_label is not None:
            message = msg("draw.with_label", answer=message, label=true_label)
        self.param.update(preview=image, probabilities=p, true_label=true_label, message=message,
                          model_name=models.label(), version=models.version)

    def _model_changed(self, *events):
        """Answer again with the model now in use: at once when it stops changing, at most every
        LIVE_EVERY seconds while it trains."""
        if self._last is None or self.version == self.models.version:
            return
        if self.models.trainer.running and time.perf_counter() - self._answered_at < LIVE_EVERY:
            return
        kind, value = self._last
        if kind == "image":
            self.classify_image(value)
        else:
            self.classify_test_digit(value)
