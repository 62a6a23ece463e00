"""GradientChecker: webnet's gradient check on a float64 copy of the model in use."""
from __future__ import annotations

import time

import numpy as np
import param

from webnet import gradcheck
from webnet.models import architecture_name

from .data import digits

BATCH = 4  # test digits the whole-network rows run on: the model's least sure of the first POOL
POOL = 100
SAMPLE = 20  # entries compared per larger tensor, plus one random direction per row of it
FULL_LIMIT = 64  # tensors this small are compared in full (LeNet's check: 0.5 s natively, not 11 s)


class GradientChecker(param.Parameterized):
    rows = param.List(default=[])
    seconds = param.Number(default=None, allow_None=True)
    checked = param.String(default="", doc="the architecture that was checked")
    model_name = param.Parameter(default=None, doc="a Message naming the model that was checked")
    version = param.Integer(default=-1, doc="the version of the model in use that was checked")

    def __init__(self, models, **params):
        super().__init__(**params)
        self.models = models

    def run(self, event=None):
        models = self.models
        net, name, version = models.current, models.label(), models.version
        d = digits()
        start = time.perf_counter()
        x, y = gradcheck.least_sure(net, d.X_test[:POOL], d.y_test[:POOL], BATCH)
        rows = gradcheck.check_network(net, x, y, np.random.default_rng(0), sample=SAMPLE, full_limit=FULL_LIMIT)
        self.param.update(rows=rows, seconds=time.perf_counter() - start, checked=architecture_name(net),
                          model_name=name, version=version)
