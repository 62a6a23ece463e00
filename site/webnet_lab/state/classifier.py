"""DrawingClassifier: a drawing (or a test digit) through webnet's preprocessing and the model in
use, classified again whenever that model changes."""
from __future__ import annotations

import time

import numpy as np
import param

from webnet.preprocess import BlankImage, preprocess

from ..i18n import msg
from .data import N_TEST, digits

LIVE_EVERY = 0.5  # seconds between answers while the model is training (each chunk changes it)


class DrawingClassifier(param.Parameterized):
    preview = param.Array(default=None, allow_None=True, doc="what the network sees, 28x28")
    probabilities = param.Array(default=None, allow_None=True)
    message = param.Parameter(default=msg("draw.prompt"), doc="a Message")
    true_label = param.Integer(default=None, allow_None=True)

    def __init__(self, trainer, **params):
        super().__init__(**params)
        self.trainer = trainer
        self._last = None  # the last input, classified again when the model changes
        self._answered_at = 0.0
        self.version = None  # the model version the shown answer was computed with
        trainer.param.watch(self._model_changed, ["version", "running"])

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
        self._show(x.image, None)

    def damaged(self):
        """The drawing did not arrive whole."""
        self.message = msg("draw.damaged")

    def classify_test_digit(self, index):
        self._last = ("test", index)
        d = digits()
        self._show(d.X_test[index].reshape(28, 28), int(d.y_test[index]))

    def random_test_digit(self, event=None):
        self.classify_test_digit(int(np.random.default_rng().integers(N_TEST)))

    def _show(self, image, true_label):
        self.version, self._answered_at = self.trainer.version, time.perf_counter()
        p = self.trainer.current.predict_proba(image.reshape(1, 784))[0]
        top = int(p.argmax())
        if true_label is None:
            message = msg("draw.looks_like", digit=top, pct=round(100 * float(p[top])))
        else:
            message = msg("draw.looks_like_test", digit=top, pct=round(100 * float(p[top])), label=true_label)
        self.param.update(preview=image, probabilities=p, true_label=true_label, message=message)

    def _model_changed(self, *events):
        """Answer again with the new model: at once when it stops changing, at most every
        LIVE_EVERY seconds while it trains."""
        t = self.trainer
        if self._last is None or self.version == t.version:
            return
        if t.running and time.perf_counter() - self._answered_at < LIVE_EVERY:
            return
        kind, value = self._last
        if kind == "image":
            self.classify_image(value)
        else:
            self.classify_test_digit(value)
