"""Trainer: the settings, the network being trained, and its training, run in short chunks so the
page's controls stay responsive (a running callback cannot be interrupted)."""
from __future__ import annotations

import functools
import time

import numpy as np
import param

from webnet import metrics
from webnet.exercises import TIME_LIMIT, CodeProblem, TimeLimit
from webnet.exercises.sandbox import time_limit
from webnet.exercises.swap import with_student_layer
from webnet.models import PRETRAINED_ARCH, architecture_name, build_model
from webnet.models import pretrained as load_pretrained
from webnet.network import TrainingDiverged
from webnet.problems import LayerProblem

from ..i18n import msg
from .data import digits

N_EVAL = 2000  # train accuracy is measured on this many training digits, test accuracy on all 2,000
N_ESTIMATE = 300  # the quick estimate during an epoch uses this many test digits (one short unit)
ESTIMATE_EVERY = 25  # batches between quick estimates
EVAL_SLICE = 250  # evaluations run in slices this big (about 30 ms in Pyodide): controls stay responsive
CHUNK_SECONDS = 0.06  # training runs in chunks this long between control events
LEARNING_RATES = [0.001, 0.003, 0.01, 0.03, 0.05, 0.1, 0.3, 1.0, 3.0, 10.0]
BATCH_SIZES = [16, 32, 64, 128, 256]
MODEL_KINDS = ["MLP", "CNN"]


class Trainer(param.Parameterized):
    """Settings, the network being trained, and its training."""

    model_kind = param.Selector(default="MLP", objects=MODEL_KINDS)
    hidden = param.Integer(default=128, bounds=(16, 256), step=16)
    second_layer = param.Boolean(default=False)
    hidden2 = param.Integer(default=64, bounds=(16, 256), step=16)
    learning_rate = param.Selector(default=0.1, objects=LEARNING_RATES)
    batch_size = param.Selector(default=32, objects=BATCH_SIZES)
    epochs = param.Integer(default=3, bounds=(1, 30))
    train_size = param.Integer(default=10000, bounds=(1000, 10000), step=1000)
    seed = param.Integer(default=0, bounds=(0, 9999))

    running = param.Boolean(default=False)
    epoch = param.Integer(default=0, doc="epochs completed")
    batch = param.Integer(default=0, doc="batches done in the current epoch")
    n_batches = param.Integer(default=1)
    speed = param.Number(default=0.0, doc="training samples per second in the last chunk")
    estimate = param.Number(default=None, allow_None=True, doc="quick test accuracy during an epoch")
    alert = param.Parameter(default=None, doc="a Message for the user, or None")
    tick = param.Integer(default=0, doc="bumps after every chunk: views stream new points")
    version = param.Integer(default=0, doc="bumps whenever the current model changes")
    source = param.String(default="pretrained", doc="'pretrained', 'trained' or 'uploaded'")
    uploaded_name = param.String(default="", doc="the file name of an uploaded model")
    custom = param.Parameter(default=None, doc="(exercise name, the student's class) trained with, or None")

    ARCH_PARAMS = ("model_kind", "hidden", "second_layer", "hidden2", "seed", "train_size", "custom")

    def __init__(self, **params):
        super().__init__(**params)
        self.losses = []  # (epoch position, smoothed loss) per batch
        self.history = []  # per epoch: dict(epoch, train_acc, test_acc, test_loss, seconds)
        self.estimates = []  # (epoch position, quick test accuracy)
        self.evaluation = None  # (version, test probabilities) of the current model
        self._epoch = None
        self._estimate = None
        self.param.watch(self._settings_changed, list(self.ARCH_PARAMS))
        self.param.watch(self._rate_changed, "learning_rate")
        self.param.watch(self._batch_size_changed, "batch_size")
        self.reset()

    # -- settings ---------------------------------------------------------------------------
    @property
    def architecture(self):
        if self.model_kind == "CNN":
            return "cnn"
        sizes = [784, self.hidden] + ([self.hidden2] if self.second_layer else []) + [10]
        return "-".join(map(str, sizes))

    def _settings_changed(self, *events):
        self.reset()

    def _batch_size_changed(self, event):
        if self._epoch is None or self._epoch.done:  # else it applies from the next epoch
            self.n_batches = self._batches_per_epoch()

    def _rate_changed(self, event):
        if self._epoch is not None:  # applies from the next batch; the batch size from the next epoch
            self._epoch.learning_rate = float(event.new)

    # -- the model in use ---------------------------------------------------------------------
    @functools.cached_property
    def pretrained(self):
        """The model shipped with webnet, read on first use (like the digits)."""
        return load_pretrained()

    @property
    def current(self):
        """The model that classifies: the pretrained one until training (or an upload) replaces it."""
        return self.pretrained if self.source == "pretrained" else self.net

    def describe_current(self):
        """A Message naming the model in use."""
        if self.source == "pretrained":
            return msg("model.pretrained", arch=PRETRAINED_ARCH)
        arch = architecture_name(self.net)
        if self.source == "trained":
            if self.epoch:
                return msg("model.trained_epochs", arch=arch, n=self.epoch)
            return msg("model.trained_batches", arch=arch, n=self.steps)
        return msg("model.uploaded", arch=arch, name=self.uploaded_name)

    def test_probabilities(self):
        """Test-set probabilities of the current model (cached per model version)."""
        if self.evaluation is None or self.evaluation[0] != self.version:
            self.evaluation = (self.version, self.current.predict_proba(digits().X_test, batch_size=EVAL_SLICE))
        return self.evaluation[1]

    # -- controls -----------------------------------------------------------------------------
    def reset(self, event=None):
        """A fresh network from the settings; histories cleared; the pretrained model classifies."""
        self.rng = np.random.default_rng(self.seed)
        self.net = build_model(self.architecture, rng=self.rng)
        if self.custom is not None:
            try:
                self.net = with_student_layer(self.net, *self.custom)
            except CodeProblem as e:  # the new architecture has no layer of that kind
                self.custom = None
                self.alert = msg(e.key, **e.values)
                return
        self.steps = 0
        self._work = self._epoch = None
        self.losses, self.history, self.estimates = [], [], []
        self._smoothed = None
        self.param.update(running=False, epoch=0, batch=0, n_batches=self._batches_per_epoch(), speed=0.0,
                          estimate=None, alert=None, source="pretrained", version=self.version + 1,
                          tick=self.tick + 1)

    def _batches_per_epoch(self):
        return -(-self.train_size // self.batch_size)

    def _finished(self):
        """True (and says so in the alert) when every epoch asked for is done."""
        if self.epoch >= self.epochs:
            self.alert = msg("train.finished_alert", n=self.epoch)
        return self.epoch >= self.epochs

    def start(self, event=None):
        if self._finished():
            return
        self.alert = None
        self.running = True

    def pause(self, event=None):
        self.running = False

    def step(self, event=None):
        """Train exactly one batch (and any evaluation due before it)."""
        if self.running or self._finished():
            return
        self._advance(until_batch=True)

    def use_layer(self, exercise, cls):
        """Train from now on with the student's ``cls`` in place of webnet's layers of that kind
        (``exercise``: its name); None for webnet's own layers. ``CodeProblem`` if the network has
        no such layer (nothing changes then)."""
        if exercise is not None:
            with_student_layer(build_model(self.architecture, rng=0), exercise, cls)  # raises if it cannot
        self.custom = None if exercise is None else (exercise, cls)

    def adopt(self, net, name):
        """Make ``net`` (an uploaded model, named by its file) the current one."""
        self.running = False
        self.net, self._work, self._epoch, self.steps = net, None, None, 0
        self.losses, self.history, self.estimates = [], [], []
        self.param.update(epoch=0, batch=0, alert=None, source="uploaded", uploaded_name=name,
                          version=self.version + 1, tick=self.tick + 1)

    # -- the work, one unit per yield -----------------------------------------------------------
    def _units(self):
        """Batches, then evaluation slices at the end of each epoch; yields what it just did."""
        d = digits()
        X, y = d.X_train[:self.train_size], d.y_train[:self.train_size]
        while self.epoch < self.epochs:
            ep = self._epoch = self.net.epoch(X, y, self.batch_size, self.learning_rate, rng=self.rng)
            self.n_batches = ep.n_batches
            self._estimate = None
            trained = 0.0
            while not ep.done:
                t0 = time.perf_counter()
                if self.custom is None:
                    ep.run(1)
                else:  # the student's code: a batch may not take for ever
                    with time_limit(TIME_LIMIT):
                        ep.run(1)
                trained += time.perf_counter() - t0
                self._record_batch(ep)
                yield "batch"
                if ep.batch % ESTIMATE_EVERY == 0 and not ep.done:
                    pred = self.net.predict(d.X_test[:N_ESTIMATE])
                    self._estimate = metrics.accuracy(pred, d.y_test[:N_ESTIMATE])
                    self.estimates.append((self.epoch + ep.batch / ep.n_batches, self._estimate))
                    yield "estimate"
            test_probs = []
            for i in range(0, len(d.X_test), EVAL_SLICE):
                test_probs.append(self.net.predict_proba(d.X_test[i:i + EVAL_SLICE]))
                yield "evaluate"
            test_probs = np.concatenate(test_probs)
            train_pred = []
            for i in range(0, N_EVAL, EVAL_SLICE):
                train_pred.append(self.net.predict(d.X_train[i:i + EVAL_SLICE]))
                yield "evaluate"
            self.history.append(dict(
                epoch=self.epoch + 1, seconds=trained,
                train_acc=metrics.accuracy(np.concatenate(train_pred), d.y_train[:N_EVAL]),
                test_acc=metrics.accuracy(test_probs.argmax(1), d.y_test),
                test_loss=metrics.mean_cross_entropy(test_probs, d.y_test)))
            self.evaluation = (self.version, test_probs)
            self._estimate = None
            self.param.update(epoch=self.epoch + 1, estimate=None)

    def _record_batch(self, ep):
        """Per batch: plain attributes only; the params views watch change once per chunk."""
        self.steps += 1
        loss = ep.last_loss
        self._smoothed = loss if self._smoothed is None else 0.9 * self._smoothed + 0.1 * loss
        self.losses.append((self.epoch + ep.batch / ep.n_batches, self._smoothed))

    def _advance(self, budget=None, until_batch=False):
        """Run units until ``budget`` seconds have passed (or one batch is done); returns seconds."""
        if self._work is None:
            self._work = self._units()
        start = time.perf_counter()
        samples = 0
        try:
            while True:
                unit = next(self._work)
                if unit == "batch":
                    samples += self.batch_size
                    if until_batch:
                        break
                if budget is not None and time.perf_counter() - start >= budget:
                    break
        except StopIteration:
            self._work = None
            self.running = False
        except TimeLimit:
            self._work = None
            self.param.update(running=False, alert=msg("problem.too_slow_training", seconds=TIME_LIMIT, where=""))
        except TrainingDiverged as e:
            self._work = None
            smaller = max([lr for lr in LEARNING_RATES if lr < self.learning_rate], default=LEARNING_RATES[0])
            self.param.update(running=False, alert=msg("train.diverged_alert", step=e.step, loss=f"{e.loss:.3g}",
                                                       lr=f"{e.learning_rate:g}", smaller=f"{smaller:g}"))
        except Exception as e:  # the student's layer failing on the training data
            if self.custom is None:
                raise
            self._work = None
            problem = LayerProblem.from_exception(e, "training")
            self.param.update(running=False, alert=msg(problem.key, **problem.values))
        elapsed = time.perf_counter() - start
        update = dict(tick=self.tick + 1)
        if samples:  # publish what the chunk did, once
            update.update(speed=samples / max(elapsed, 1e-9), version=self.version + 1,
                          batch=self._epoch.batch if self._epoch is not None else self.batch,
                          estimate=self._estimate)
            if self.source != "trained":
                update["source"] = "trained"
        self.param.update(**update)
        return elapsed

    def chunk(self):
        """One chunk of training: called by the periodic callback while running."""
        if self.running:
            self._advance(budget=CHUNK_SECONDS)

