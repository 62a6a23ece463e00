"""Trainer: the settings, the network being trained, and its training, run in short chunks so the
page's controls stay responsive (a running callback cannot be interrupted).

It also watches the run (webnet.monitor): a run that diverges, learns nothing, or kills its hidden
units is stopped and explained, a learning rate shown to work is found by trying smaller ones from
the same starting weights, and the best weights seen (by test accuracy) are what is kept."""
from __future__ import annotations

import time

import numpy as np
import param

from webnet import metrics, monitor
from webnet.augment import Augment
from webnet.models import build_model
from webnet.network import TrainingDiverged

from ..i18n import msg
from . import link
from .drawings import held_out_accuracy, mix_in, split_drawings
from .failure import failed_run
from .data import digits

N_EVAL = 2000  # train accuracy: on this many of the digits trained on (fewer if fewer); test: on all 2,000
N_ESTIMATE = 300  # the quick estimate during an epoch uses this many test digits (one short unit)
N_PROBE = 256  # training digits the dead-unit count looks at
ESTIMATE_EVERY = 25  # batches between quick estimates (and dead-unit counts)
EARLY_DEAD = 0.9  # this share of dead units, with the estimate at chance, stops a run before its epoch ends
EVAL_SLICE = 250  # evaluations run in slices this big (about 30 ms in Pyodide): controls stay responsive
CHUNK_SECONDS = 0.06  # training runs in chunks this long between control events
LEARNING_RATES = [0.001, 0.003, 0.01, 0.03, 0.05, 0.1, 0.3, 1.0, 3.0, 10.0]
BATCH_SIZES = [16, 32, 64, 128, 256]
MODEL_KINDS = ["MLP", "CNN", "LeNet"]
ARCHITECTURES = {"CNN": "cnn", "LeNet": "lenet"}  # the MLP's is made of its sizes
AUGMENT_PREVIEW = 8  # distorted copies of one training digit the Train tab shows


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
    augment = param.Boolean(default=False, doc="distort every training batch afresh (from the next epoch)")
    with_drawings = param.Boolean(default=False, doc="train on the class's kept drawings too, a quarter of each "
                                                     "digit's held out to test on")
    drawings_kept = param.Integer(default=0, doc="how many drawings the class keeps (the choice shows when some are)")
    custom = param.Parameter(default=None, doc="(exercise name, the student's class) trained with, or None")

    running = param.Boolean(default=False)
    phase = param.Selector(default="ready", objects=["ready", "training", "evaluating", "paused", "finished",
                                                     "stopped"])
    epoch = param.Integer(default=0, doc="epochs completed")
    batch = param.Integer(default=0, doc="batches done in the epoch under way")
    n_batches = param.Integer(default=1)
    speed = param.Number(default=0.0, doc="training samples per second of wall time while running")
    estimate = param.Number(default=None, allow_None=True, doc="quick test accuracy during an epoch")
    dead = param.Number(default=None, allow_None=True, doc="share of hidden ReLU units that never fire")
    alert = param.Parameter(default=None, doc="a Message for the user, or None")
    suggestion = param.Number(default=None, allow_None=True, doc="a learning rate shown to work after a failure")
    tick = param.Integer(default=0, doc="bumps after every chunk: views stream new points")
    net_version = param.Integer(default=0, doc="bumps whenever the trained network or its weights change")
    started = param.Integer(default=0, doc="bumps when training starts (Start or Step) on a fresh run")
    failed = param.Integer(default=0, doc="bumps when a run fails and keeps no weights worth using")
    run_ended = param.Integer(default=0, doc="bumps when a run ends (``outcome``), before anything of it is cleared")

    ARCH_PARAMS = ("model_kind", "hidden", "second_layer", "hidden2", "seed", "train_size", "custom", "with_drawings")

    def __init__(self, **params):
        super().__init__(**params)
        self.param.watch(self._settings_changed, list(self.ARCH_PARAMS))
        self.param.watch(self._rate_changed, "learning_rate")
        self.param.watch(self._batch_size_changed, "batch_size")
        self.param.watch(self._running_changed, "running")
        self.param.watch(self._phase_changed, "phase")
        self.run_id, self.outcome = None, None
        self.class_drawings = None  # a callable giving the class's kept drawings (webnet.drawings.Drawings)
        self.reset()

    # -- settings ---------------------------------------------------------------------------
    @property
    def architecture(self):
        if self.model_kind in ARCHITECTURES:
            return ARCHITECTURES[self.model_kind]
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

    def _batches_per_epoch(self):
        return -(-self.train_size // self.batch_size)

    def augment_preview(self):
        """(AUGMENT_PREVIEW, 28, 28): the first training digit as augmentation distorts it (a fixed seed)."""
        x = np.repeat(digits().X_train[:1], AUGMENT_PREVIEW, axis=0)
        return Augment()(x, np.random.default_rng(self.seed)).reshape(-1, 28, 28)

    def custom_class_name(self):
        return None if self.custom is None else self.custom[1].__name__

    # -- controls -----------------------------------------------------------------------------
    def _fresh_net(self):
        net = build_model(self.architecture, rng=np.random.default_rng(self.seed))
        if self.custom is not None:
            from webnet.exercises.swap import with_student_layer

            net = with_student_layer(net, *self.custom)
        return net

    def reset(self, event=None):
        """A fresh network from the settings; the run's history cleared (a run left part-way ends
        as "stopped" first)."""
        import uuid

        from webnet.exercises import CodeProblem

        try:
            net = self._fresh_net()
        except CodeProblem as e:  # the new architecture has no layer the student's class replaces
            self.custom = None  # (which resets again, with webnet's own layers)
            self.alert = msg(e.key, **e.values)
            return
        if self.run_id is not None:
            self._end("stopped")
        self.run_id, self._ended_at, self.run_settings = uuid.uuid4().hex[:12], 0, None
        self.drawing_split = None  # (trained on, held out) of the class's drawings, fixed at the run's start
        self.net, self.rng = net, np.random.default_rng(self.seed + 1)
        self.steps, self.samples, self._seen = 0, 0, 0
        self._work = self._epoch = None
        self.losses, self.history, self.estimates = [], [], []  # per batch / per epoch / every few batches
        self.evaluation = None  # (net_version, test probabilities) of the last epoch's end
        self._smoothed = None
        self.monitor = monitor.Monitor()
        self.compute_seconds = self.wall_seconds = 0.0  # in training steps / while running
        self._running_since = None
        self.param.update(running=False, phase="ready", epoch=0, batch=0, n_batches=self._batches_per_epoch(),
                          speed=0.0, estimate=None, dead=None, alert=None, suggestion=None,
                          net_version=self.net_version + 1, tick=self.tick + 1)

    def _finished(self):
        """True (and says so in the alert) when every epoch asked for is done."""
        if self.epoch >= self.epochs:
            self.alert = msg("train.finished_alert", n=self.epoch)
        return self.epoch >= self.epochs

    def start(self, event=None):
        if self.phase == "stopped" or self._finished():
            return
        if not self.steps:
            self.started += 1
        self.param.update(alert=None, running=True)

    def pause(self, event=None):
        self.running = False

    def step(self, event=None):
        """Train exactly one batch (and any evaluation due before it)."""
        if self.running or self.phase == "stopped" or self._finished():
            return
        if not self.steps:
            self.started += 1
        self._advance(until_batch=True)

    def use_suggestion(self, event=None):
        """Set the learning rate that was shown to work, reset, and start again."""
        if self.suggestion is not None:
            rate = self.suggestion
            self.reset()
            self.learning_rate = rate
            self.start()

    def use_layer(self, exercise, cls):
        """Train from now on with the student's ``cls`` in place of webnet's layers of that kind
        (``exercise``: its name); None for webnet's own layers. ``CodeProblem`` if the network has
        no such layer (nothing changes then)."""
        if exercise is not None:
            from webnet.exercises.swap import with_student_layer

            with_student_layer(build_model(self.architecture, rng=0), exercise, cls)  # raises if it cannot
        self.custom = None if exercise is None else (exercise, cls)

    def _running_changed(self, event):
        now = time.perf_counter()
        if event.new:
            self._running_since = now
            self.phase = "training"
        elif self._running_since is not None:
            self.wall_seconds += now - self._running_since
            self._running_since = None
            if self.phase in ("training", "evaluating"):
                self.phase = "finished" if self.epoch >= self.epochs else "paused"

    def _settings(self):
        """The settings the run trains with, named as in a link (a new one resets: see ``run_settings``)."""
        settings = link.settings(self)
        if self.custom is not None:
            settings["layer"] = self.custom[0]
        if self.drawing_split is not None:
            settings["drawings"] = str(len(self.drawing_split[0]))
        return settings

    def _phase_changed(self, event):
        if event.new in ("finished", "stopped"):
            self._end("finished" if event.new == "finished" else "failed")

    def _end(self, outcome):
        """Say a run ended (once per state of it: a finished run trained on for more epochs ends again)."""
        if self.steps and self.steps != self._ended_at:
            self.outcome, self._ended_at = outcome, self.steps
            self.run_ended += 1

    # -- what the status line shows ---------------------------------------------------------------
    def wall(self):
        """Seconds spent running (paused time excluded), so far."""
        live = time.perf_counter() - self._running_since if self._running_since is not None else 0.0
        return self.wall_seconds + live

    def position(self):
        """(epoch, batch) to show: the epoch under way (1-based) and its batches done; after the
        last epoch, the last epoch complete. Never goes back while a run lasts."""
        if self.epoch >= self.epochs:
            return self.epochs, self.n_batches
        return self.epoch + 1, self.batch

    # -- the work, one unit per yield -----------------------------------------------------------
    def _units(self):
        """Batches, quick estimates, then evaluation slices at the end of each epoch; yields what it did."""
        from webnet.exercises import TIME_LIMIT
        from webnet.exercises.sandbox import time_limit

        d = digits()
        X, y = self._training_data(d)
        while self.epoch < self.epochs:
            ep = self._epoch = self.net.epoch(X, y, self.batch_size, self.learning_rate, rng=self.rng,
                                              augment=Augment() if self.augment else None)
            self.n_batches, self._seen = ep.n_batches, 0
            while not ep.done:
                t0 = time.perf_counter()
                if self.custom is None:
                    ep.run(1)
                else:  # the student's code: a batch may not take for ever
                    with time_limit(TIME_LIMIT):
                        ep.run(1)
                self.compute_seconds += time.perf_counter() - t0
                self._record_batch(ep)
                yield "batch"
                if ep.batch % ESTIMATE_EVERY == 0 and not ep.done:
                    yield from self._estimate(ep, d)
                    if self.phase == "stopped":  # failed, explained, a rate found: the run is over
                        return
            self.phase = "evaluating"
            yield from self._end_of_epoch(ep, d)
            if self.phase == "stopped":
                return

    def _training_data(self, d):
        """The training digits, with the class's drawings mixed in when asked (split once a run)."""
        X, y = d.X_train[:self.train_size], d.y_train[:self.train_size]
        if self.drawing_split is None and self.with_drawings and self.class_drawings is not None:
            self.drawing_split = split_drawings(self.class_drawings(), self.seed)
        return mix_in(X, y, self.drawing_split)

    def held_out_accuracy(self, net=None):
        """(accuracy of ``net`` (the trained network) on the held-out drawings, how many), or None."""
        return held_out_accuracy(net or self.net, self.drawing_split)

    def _record_batch(self, ep):
        """Per batch: plain attributes only; the params views watch change once per chunk."""
        self.steps += 1
        self.samples += ep.seen - self._seen
        self._seen = ep.seen
        loss = ep.last_loss
        self._smoothed = loss if self._smoothed is None else 0.9 * self._smoothed + 0.1 * loss
        self.losses.append((self.epoch + ep.batch / ep.n_batches, self._smoothed))

    def _estimate(self, ep, d):
        acc = metrics.accuracy(self.net.predict(d.X_test[:N_ESTIMATE]), d.y_test[:N_ESTIMATE])
        dead = monitor.dead_fraction(self.net, d.X_train[:N_PROBE])
        self.estimates.append((self.epoch + ep.batch / ep.n_batches, acc, dead))
        self.param.update(estimate=acc, dead=dead)
        yield "estimate"
        if (dead is not None and dead >= EARLY_DEAD and acc < 1.5 * self.monitor.chance_accuracy
                and ep.batch >= 2 * ESTIMATE_EVERY):
            yield from self._fail(monitor.Diagnosis("dead", self.epoch + 1, ep.mean_loss, acc, dead))

    def n_eval(self):
        """How many training digits the train accuracy is measured on: only digits trained on."""
        return min(N_EVAL, self.train_size)

    def _end_of_epoch(self, ep, d):
        probs = []
        for i in range(0, len(d.X_test), EVAL_SLICE):
            probs.append(self.net.predict_proba(d.X_test[i:i + EVAL_SLICE]))
            yield "evaluate"
        probs = np.concatenate(probs)
        train_pred, n_eval = [], self.n_eval()
        for i in range(0, n_eval, EVAL_SLICE):
            train_pred.append(self.net.predict(d.X_train[i:min(i + EVAL_SLICE, n_eval)]))
            yield "evaluate"
        test_acc = metrics.accuracy(probs.argmax(1), d.y_test)
        dead = monitor.dead_fraction(self.net, d.X_train[:N_PROBE])
        self.history.append(dict(epoch=self.epoch + 1, seconds=self.compute_seconds, wall=self.wall(),
                                 train_loss=float(ep.mean_loss),
                                 train_acc=metrics.accuracy(np.concatenate(train_pred), d.y_train[:n_eval]),
                                 test_acc=test_acc, test_loss=metrics.mean_cross_entropy(probs, d.y_test),
                                 dead=dead, held_out_drawings=(self.held_out_accuracy() or (None,))[0]))
        self.evaluation = (self.net_version, probs)
        diagnosis = self.monitor.epoch_done(self.net, self.epoch + 1, ep.mean_loss, test_acc, dead)
        # a new version: the model's name now carries this epoch's test accuracy
        self.param.update(epoch=self.epoch + 1, batch=0, estimate=None, dead=dead, phase="training",
                          net_version=self.net_version + 1)
        if diagnosis is not None:
            yield from self._fail(diagnosis)

    def _fail(self, diagnosis):
        """Stop, explain, find a learning rate that works, keep the best weights (state/failure.py)."""
        return failed_run(self, diagnosis)

    def _advance(self, budget=None, until_batch=False):
        """Run units until ``budget`` seconds have passed (or one batch is done); returns seconds."""
        from webnet.exercises import TIME_LIMIT, TimeLimit
        from webnet.problems import LayerProblem

        if self._work is None:
            self._work = self._units()
        self.run_settings = self._settings()  # what this chunk trains with (once a chunk: 30 µs)
        start = time.perf_counter()
        trained = False
        try:
            while True:
                unit = next(self._work)
                if unit == "batch":
                    trained = True
                    if until_batch:
                        break
                if unit == "stopped" or (budget is not None and time.perf_counter() - start >= budget):
                    if unit != "stopped" or not self.running:
                        break
        except StopIteration:
            self._work = None
            self.running = False
        except TimeLimit:
            self._work = None
            self.param.update(running=False, phase="stopped",
                              alert=msg("problem.too_slow_training", seconds=TIME_LIMIT, where=""))
        except TrainingDiverged as e:  # the network is back to its last finite weights
            self._work = self._fail(monitor.Diagnosis("diverged", self.epoch + 1, e.loss, None, None))
            next(self._work)  # stopped and explained now; the search for a rate goes on in later chunks
        except Exception as e:  # the student's layer failing on the training data
            if self.custom is None:
                raise
            self._work = None
            problem = LayerProblem.from_exception(e, "training")
            self.param.update(running=False, phase="stopped", alert=msg(problem.key, **problem.values))
        update = dict(tick=self.tick + 1)
        if until_batch and not self.running and self.phase in ("ready", "training"):
            update["phase"] = "finished" if self.epoch >= self.epochs else "paused"
        if trained:  # publish what the chunk did, once
            wall = self.wall()
            update.update(speed=self.samples / wall if wall > 0 else 0.0, net_version=self.net_version + 1,
                          batch=self._epoch.batch if self._epoch is not None else self.batch)
        self.param.update(**update)
        return time.perf_counter() - start

    @property
    def busy(self):
        """Training, or (after a failure) still trying smaller learning rates."""
        return self.running or (self._work is not None and self.phase == "stopped")

    def chunk(self):
        """One chunk of work: called by the periodic callback while ``busy``."""
        if self.busy:
            self._advance(budget=CHUNK_SECONDS)
