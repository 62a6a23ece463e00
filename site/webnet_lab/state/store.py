"""ModelStore: download the model in use; upload a saved one (a bad file changes nothing)."""
from __future__ import annotations

import io

import numpy as np
import param

import webnet
from webnet import ModelFileError, metrics
from webnet.models import architecture_name

from ..i18n import msg
from .data import digits


class ModelStore(param.Parameterized):
    message = param.Parameter(default=None, doc="a Message about the last upload, or None")
    ok = param.Boolean(default=True)

    def __init__(self, trainer, **params):
        super().__init__(**params)
        self.trainer = trainer

    def download(self):
        buf = io.BytesIO()
        webnet.save(self.trainer.current, buf)
        buf.seek(0)
        return buf

    def upload(self, content, filename):
        try:
            if not content:
                raise ModelFileError("the file is empty")
            net = webnet.load(content)
            webnet.check_digit_classifier(net)
        except (ModelFileError, ValueError) as e:
            self.param.update(ok=False, message=msg("upload.refused", name=filename, reason=str(e)))
            return
        self.trainer.adopt(net.astype(np.float32), filename)
        d = digits()
        acc = metrics.accuracy(net.predict(d.X_test), d.y_test)
        self.param.update(ok=True, message=msg("upload.loaded", name=filename, arch=architecture_name(net),
                                               acc=f"{acc:.4f}"))
