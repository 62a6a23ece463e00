"""ModelStore: download the model in use (with a model card inside); upload a saved one (a bad
file changes nothing)."""
from __future__ import annotations

import datetime
import io

import numpy as np
import param

import webnet
from webnet import ModelFileError
from webnet.models import architecture_name

from ..i18n import msg

MAX_UPLOAD = 100_000_000  # bytes: webnet refuses larger model files anyway


class ModelStore(param.Parameterized):
    message = param.Parameter(default=None, doc="a Message about the last upload, or None")
    ok = param.Boolean(default=True)
    card = param.Dict(default=None, allow_None=True, doc="the model card of the last upload, if it had one")

    def __init__(self, models, **params):
        super().__init__(**params)
        self.models = models

    def card_for(self):
        """What the downloaded file says about itself: architecture, data, training, test accuracy."""
        models, t = self.models, self.models.trainer
        card = {"architecture": architecture_name(models.current), "date": datetime.date.today().isoformat(),
                "made_by": f"webnet lab (webnet {webnet.__version__})", "source": models.source,
                "test_accuracy": round(models.test_accuracy(), 4), "test_digits": "MNIST subset, 2,000 digits"}
        if models.source == "trained":
            card.update(data=f"MNIST subset, {t.train_size:,} training digits", epochs=t.epoch, batches=t.steps,
                        learning_rate=t.learning_rate, batch_size=t.batch_size, seed=t.seed)
        return card

    def download(self):
        buf = io.BytesIO()
        webnet.save(self.models.current, buf, card=self.card_for())
        buf.seek(0)
        return buf

    def upload(self, content, filename):
        try:
            if not content:
                raise ModelFileError("the file is empty")
            if len(content) > MAX_UPLOAD:
                raise ModelFileError(f"the file is {len(content):,} bytes, more than a model can be")
            net = webnet.load(content)
            webnet.check_digit_classifier(net)
            card = webnet.read_card(content)
        except (ModelFileError, ValueError) as e:
            self.param.update(ok=False, message=msg("upload.refused", name=filename, reason=str(e)))
            return
        self.models.adopt_upload(net.astype(np.float32), filename)
        self.param.update(ok=True, card=card, message=msg("upload.loaded", name=filename,
                                                          model=self.models.label()))
