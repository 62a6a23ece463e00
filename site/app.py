"""webnet lab: train a small network on MNIST digits, watch it learn, inspect it, check its
gradients, and draw digits for it to classify.

One file (``panel convert`` does not follow relative imports; shared logic lives in webnet):
state classes with no widgets in them (Trainer, GradientChecker, DrawingClassifier, ModelStore),
thin views over them, and an App that composes the views. The same file runs under
``panel serve site/app.py`` (CPython) and as the built static page (Pyodide in a web worker).
"""
import asyncio
import base64
import collections
import functools
import html
import io
import struct
import sys
import time
import types
import zlib

import numpy as np
import panel as pn
import param
from bokeh.models import ColumnDataSource, FactorRange, LinearColorMapper, Range1d
from bokeh.palettes import Blues256

import webnet
from webnet import data as mnist
from webnet import gradcheck
from webnet.models import PRETRAINED_ARCH, build_model
from webnet.models import pretrained as load_pretrained
from webnet.network import TrainingDiverged
from webnet.preprocess import BlankImage, preprocess
from webnet.serialize import ModelFileError


def install_pandas_stand_in():
    """Register a stand-in ``pandas`` module: what bokeh 3.7 touches when no pandas object is
    ever given to it. bokeh imports pandas in ``figure()`` and ``ColumnDataSource()`` only to ask
    ``isinstance(x, pd.Series)`` and the like (bokeh 3.8 guards these imports; Panel 1.7.5 needs
    bokeh < 3.8). The static page ships without pandas: 7 MB and about a second less before the
    lab answers. Anything else taken from this module fails loudly. Under ``panel serve`` the real
    pandas is installed and this is never used."""
    class _Absent:  # no object is ever an instance of these
        def __init__(self, *args, **kwargs):
            raise ImportError("pandas is not available in the webnet lab page")

    def missing(name):
        raise AttributeError(f"pandas.{name}: the webnet lab page runs without pandas (see install_pandas_stand_in)")

    names = ["Series", "DataFrame", "Index", "Timestamp", "Timedelta", "Period", "Categorical", "NaTType"]
    pandas = types.ModuleType("pandas", "stand-in: the webnet lab page runs without pandas")
    pandas.__version__ = "0+webnet.stand.in"
    for name in names:
        setattr(pandas, name, type(name, (_Absent,), {"__module__": "webnet_lab.pandas_stand_in"}))
    pandas.NaT, pandas.NA = object.__new__(pandas.NaTType), object()
    modules = {"pandas": pandas}
    for dotted, attrs in {"core": {}, "core.groupby": {"GroupBy": type("GroupBy", (_Absent,), {})}, "api": {},
                          "api.extensions": {"ExtensionArray": type("ExtensionArray", (_Absent,), {})}}.items():
        module = types.ModuleType(f"pandas.{dotted}")
        module.__dict__.update(attrs)
        module.__getattr__ = lambda name, dotted=dotted: missing(f"{dotted}.{name}")
        modules[f"pandas.{dotted}"] = module
        parent, _, child = f"pandas.{dotted}".rpartition(".")
        setattr(modules[parent], child, module)
    pandas.__getattr__ = missing
    sys.modules.update(modules)


try:
    import pandas  # noqa: F401  (bokeh imports it for every plot)
except ImportError:
    install_pandas_stand_in()

pn.extension(sizing_mode="stretch_width")

Digits = collections.namedtuple("Digits", "X_train y_train X_test y_test")


@functools.cache
def digits():
    """The MNIST subset shipped with webnet (float32 in [0, 1]; no network needed), read on first
    use: the first tab needs none of it, so the static page is ready about 0.1 s sooner."""
    return Digits(*mnist.load_mnist_subset())


N_TRAIN, N_TEST = 10_000, 2_000  # the subset's sizes (tests/test_app.py checks them)
N_EVAL = 2000  # train accuracy is measured on this many training digits, test accuracy on all 2,000
N_ESTIMATE = 300  # the quick estimate during an epoch uses this many test digits (one short unit)
EVAL_SLICE = 250  # evaluations run in slices this big (about 30 ms in Pyodide), so controls stay responsive
CHUNK_SECONDS = 0.06  # training runs in chunks this long between control events...
CHUNK_PERIOD_MS = 100  # ... started this often, each followed by a short sleep: in Pyodide a chunk
# that outlasts the period would run back to back without yielding, and clicks would wait
LEARNING_RATES = [0.001, 0.003, 0.01, 0.03, 0.05, 0.1, 0.3, 1.0, 3.0, 10.0]
VERDICT_COLOURS = {"excellent": "#1a7f37", "acceptable": "#4d8f00", "suspicious": "#b35900", "wrong": "#c62828"}
BLUE, ORANGE, GREY = "#1f77b4", "#ff7f0e", "#9e9e9e"
DIGIT_LABELS = tuple(str(i) for i in range(10))  # the ten classes as plot categories


def png_bytes(gray):
    """An 8-bit grayscale PNG of a (H, W) uint8 array. Written here rather than taken from Pillow:
    the page would download 1.2 MB and start about 0.3 s later for these few lines."""
    h, w = gray.shape

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    rows = np.hstack([np.zeros((h, 1), np.uint8), gray]).tobytes()  # filter type 0 per row
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b""))


def png_data_uri(img, scale=1):
    """A [0, 1] float array as a data: URI PNG (ink dark on white), enlarged ``scale`` times."""
    a = (255 * (1 - np.clip(np.asarray(img, dtype=float), 0, 1))).round().astype(np.uint8)
    if scale != 1:
        a = np.repeat(np.repeat(a, scale, axis=0), scale, axis=1)
    return "data:image/png;base64," + base64.b64encode(png_bytes(a)).decode()


def describe(net):
    """'784-128-10' for an MLP, 'cnn' for the tiny CNN, else the layer list."""
    linear = [layer for layer in net.layers if isinstance(layer, webnet.LinearLayer)]
    if any(isinstance(layer, webnet.Conv2D) for layer in net.layers):
        return "cnn"
    if linear and len(linear) == sum(1 for layer in net.layers if layer.param_names):
        return "-".join(str(s) for s in [linear[0].in_features] + [layer.out_features for layer in linear])
    return ", ".join(type(layer).__name__ for layer in net.layers)


# == state: no widgets below this line until the views ==========================================
class Trainer(param.Parameterized):
    """Settings, the network being trained, and its training, run in short chunks."""

    model_kind = param.Selector(default="MLP", objects=["MLP", "CNN"], label="Network")
    hidden = param.Integer(default=128, bounds=(16, 256), step=16, label="Hidden units")
    second_layer = param.Boolean(default=False, label="Second hidden layer")
    hidden2 = param.Integer(default=64, bounds=(16, 256), step=16, label="Units in the second layer")
    learning_rate = param.Selector(default=0.1, objects=LEARNING_RATES, label="Learning rate")
    batch_size = param.Selector(default=32, objects=[16, 32, 64, 128, 256], label="Batch size")
    epochs = param.Integer(default=3, bounds=(1, 30), label="Epochs")
    train_size = param.Integer(default=10000, bounds=(1000, 10000), step=1000, label="Training digits")
    seed = param.Integer(default=0, bounds=(0, 9999), label="Seed")

    running = param.Boolean(default=False)
    epoch = param.Integer(default=0, doc="epochs completed")
    batch = param.Integer(default=0, doc="batches done in the current epoch")
    n_batches = param.Integer(default=1)
    speed = param.Number(default=0.0, doc="training samples per second in the last chunk")
    estimate = param.Number(default=None, allow_None=True, doc="quick test accuracy during an epoch")
    alert = param.String(default="")
    tick = param.Integer(default=0, doc="bumps after every chunk: views stream new points")
    version = param.Integer(default=0, doc="bumps whenever the current model changes")
    source = param.String(default="pretrained", doc="'pretrained', 'trained' or 'uploaded <name>'")

    ARCH_PARAMS = ("model_kind", "hidden", "second_layer", "hidden2", "seed", "train_size")

    def __init__(self, **params):
        super().__init__(**params)
        self.losses = []  # (epoch position, smoothed loss) per batch
        self.history = []  # per epoch: dict(epoch, train_acc, test_acc, test_loss)
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
        if self.source == "pretrained":
            return f"the pretrained model ({PRETRAINED_ARCH}, shipped with webnet)"
        if self.source == "trained":
            done = f"{self.epoch} epoch{'s' if self.epoch != 1 else ''}" if self.epoch else f"{self.steps} batches"
            return f"your trained model ({describe(self.net)}, {done})"
        return f"the {self.source} ({describe(self.net)})"

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
        self.steps = 0
        self._work = self._epoch = None
        self.losses, self.history, self.estimates = [], [], []
        self._smoothed = None
        self.param.update(running=False, epoch=0, batch=0, n_batches=self._batches_per_epoch(), speed=0.0,
                          estimate=None, alert="", source="pretrained", version=self.version + 1,
                          tick=self.tick + 1)

    def _batches_per_epoch(self):
        return -(-self.train_size // self.batch_size)

    def _finished(self):
        """True (and says so in the alert) when every epoch asked for is done."""
        if self.epoch >= self.epochs:
            self.alert = f"Training finished after {self.epoch} epochs: raise Epochs to go on, or Reset."
        return self.epoch >= self.epochs

    def start(self, event=None):
        if self._finished():
            return
        self.alert = ""
        self.running = True

    def pause(self, event=None):
        self.running = False

    def step(self, event=None):
        """Train exactly one batch (and any evaluation due before it)."""
        if self.running or self._finished():
            return
        self._advance(until_batch=True)

    def adopt(self, net, source):
        """Make ``net`` (e.g. an uploaded model) the current one."""
        self.running = False
        self.net, self._work, self._epoch, self.steps = net, None, None, 0
        self.losses, self.history, self.estimates = [], [], []
        self.param.update(epoch=0, batch=0, alert="", source=source, version=self.version + 1, tick=self.tick + 1)

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
                ep.run(1)
                trained += time.perf_counter() - t0
                self._record_batch(ep)
                yield "batch"
                if ep.batch % 25 == 0 and not ep.done:
                    acc = float(np.mean(self.net.predict(d.X_test[:N_ESTIMATE]) == d.y_test[:N_ESTIMATE]))
                    self.estimates.append((self.epoch + ep.batch / ep.n_batches, acc))
                    self._estimate = acc
                    yield "estimate"
            probs = []
            for i in range(0, len(d.X_test), EVAL_SLICE):
                probs.append(self.net.predict_proba(d.X_test[i:i + EVAL_SLICE]))
                yield "evaluate"
            test_probs = np.concatenate(probs)
            train_pred = []
            for i in range(0, N_EVAL, EVAL_SLICE):
                train_pred.append(self.net.predict(d.X_train[i:i + EVAL_SLICE]))
                yield "evaluate"
            test_loss = float(-np.mean(np.log(test_probs[np.arange(len(d.y_test)), d.y_test] + 1e-12)))
            self.history.append(dict(epoch=self.epoch + 1, train_acc=float(np.mean(np.concatenate(train_pred) == d.y_train[:N_EVAL])),
                                     test_acc=float(np.mean(test_probs.argmax(1) == d.y_test)), test_loss=test_loss,
                                     seconds=trained))
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
        except TrainingDiverged as e:
            self._work = None
            smaller = max([lr for lr in LEARNING_RATES if lr < self.learning_rate], default=LEARNING_RATES[0])
            self.param.update(running=False, alert=(
                f"Training diverged at step {e.step}: the loss became {e.loss:.3g} with learning rate "
                f"{e.learning_rate:g}. The weights are back to their last good values. "
                f"Try a smaller learning rate, such as {smaller:g}."))
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


class GradientChecker(param.Parameterized):
    """webnet's gradient check on a float64 copy of the current architecture, a small batch."""

    rows = param.List(default=[])
    seconds = param.Number(default=None, allow_None=True)
    checked = param.String(default="")

    def __init__(self, trainer, **params):
        super().__init__(**params)
        self.trainer = trainer

    def run(self, event=None):
        net = self.trainer.net
        d = digits()
        x, y = d.X_test[:4], d.y_test[:4]
        start = time.perf_counter()
        rows = gradcheck.check_network(net, x, y, np.random.default_rng(0), max_coords=20)
        self.param.update(rows=rows, seconds=time.perf_counter() - start, checked=describe(net))


class DrawingClassifier(param.Parameterized):
    """A drawing (or a test digit) through webnet's preprocessing and the current model."""

    preview = param.Array(default=None, allow_None=True, doc="what the network sees, 28x28")
    probabilities = param.Array(default=None, allow_None=True)
    message = param.String(default="Draw a digit in the box.")
    true_label = param.Integer(default=None, allow_None=True)

    def __init__(self, trainer, **params):
        super().__init__(**params)
        self.trainer = trainer
        self._last = None  # the last input, re-classified when the model changes
        trainer.param.watch(self._model_changed, "source")

    def classify_image(self, image):
        """``image``: a canvas as (H, W) alpha / grayscale or (H, W, 4) RGBA; None clears."""
        self._last = ("image", image)
        if image is None:
            self.param.update(preview=None, probabilities=None, true_label=None, message="Draw a digit in the box.")
            return
        try:
            x = preprocess(image)
        except BlankImage:
            self.param.update(preview=None, probabilities=None, true_label=None,
                              message="The box is empty: draw a digit.")
            return
        self._show(x.image, None)

    def classify_test_digit(self, index):
        self._last = ("test", index)
        d = digits()
        self._show(d.X_test[index].reshape(28, 28), int(d.y_test[index]))

    def random_test_digit(self, event=None):
        self.classify_test_digit(int(np.random.default_rng().integers(N_TEST)))

    def _show(self, image, true_label):
        p = self.trainer.current.predict_proba(image.reshape(1, 784))[0]
        top = int(p.argmax())
        msg = f"It looks like a **{top}** ({100 * p[top]:.0f} % sure)."
        if true_label is not None:
            msg += f" The test digit is a {true_label}."
        self.param.update(preview=image, probabilities=p, true_label=true_label, message=msg)

    def _model_changed(self, event):
        if self._last is None:
            return
        kind, value = self._last
        if kind == "image":
            self.classify_image(value)
        else:
            self.classify_test_digit(value)


class ModelStore(param.Parameterized):
    """Download the current weights; upload a saved model (a bad file changes nothing)."""

    message = param.String(default="")
    ok = param.Boolean(default=True)

    def __init__(self, trainer, **params):
        super().__init__(**params)
        self.trainer = trainer

    def download(self):
        buf = io.BytesIO()
        self.trainer.current.save(buf)
        buf.seek(0)
        return buf

    def upload(self, content, filename):
        if not content:
            return
        try:
            net = webnet.load(content)
            if net.layers[0].param_names and getattr(net.layers[0], "in_features", 784) != 784:
                raise ModelFileError("this model does not take 28x28 digits (784 inputs)")
            out = net.layers[-1]
            if not isinstance(out, webnet.Softmax):
                raise ModelFileError("this model does not end in a Softmax over the ten digits")
            probs = net.predict_proba(digits().X_test[:2])
            if probs.shape != (2, 10):
                raise ModelFileError(f"this model has {probs.shape[1]} outputs, not 10")
        except (ModelFileError, ValueError) as e:
            self.param.update(ok=False, message=f"Could not use {filename}: {e}. The current model is unchanged.")
            return
        self.trainer.adopt(net.astype(np.float32), f"uploaded model {filename}")
        d = digits()
        acc = float(np.mean(net.predict(d.X_test) == d.y_test))
        self.param.update(ok=True, message=f"Loaded {filename}: {describe(net)}, test accuracy {acc:.4f}.")


# == views ======================================================================================
class DrawingPad(pn.custom.JSComponent):
    """A canvas drawn on with pointer events (mouse, pen and touch alike) and its Clear button;
    sends its ink as the base64 alpha channel while drawing (throttled), at the end of each
    stroke, and '' when cleared."""

    image = param.String(default="", doc="base64 of the size x size alpha channel; '' when cleared")
    size = param.Integer(default=280)
    clears = param.Integer(default=0, doc="times Clear was pressed")

    _esm = """
    export function render({ model, el }) {
      const size = model.size
      const canvas = document.createElement("canvas")
      canvas.className = "webnet-pad"
      canvas.width = size
      canvas.height = size
      // (no JS template literals in this file: panel convert embeds it in one)
      canvas.style.cssText = "width:" + size + "px;height:" + size + "px;touch-action:none;background:#fff;" +
        "border:2px solid #888;border-radius:8px;cursor:crosshair;display:block"
      const ctx = canvas.getContext("2d", { willReadFrequently: true })
      ctx.lineCap = "round"
      ctx.lineJoin = "round"
      ctx.strokeStyle = "#000"
      ctx.fillStyle = "#000"
      ctx.lineWidth = Math.round(size / 12)
      let drawing = false, last = null, lastSent = 0
      const pos = (e) => {
        const r = canvas.getBoundingClientRect()
        return [(e.clientX - r.left) * size / r.width, (e.clientY - r.top) * size / r.height]
      }
      const send = () => {
        const rgba = ctx.getImageData(0, 0, size, size).data
        const alpha = new Uint8Array(size * size)
        for (let i = 0; i < alpha.length; i++) alpha[i] = rgba[4 * i + 3]
        let bin = ""
        for (let i = 0; i < alpha.length; i += 8192) bin += String.fromCharCode.apply(null, alpha.subarray(i, i + 8192))
        lastSent = performance.now()
        model.image = btoa(bin)
      }
      canvas.addEventListener("pointerdown", (e) => {
        drawing = true
        canvas.setPointerCapture(e.pointerId)
        last = pos(e)
        ctx.beginPath()
        ctx.arc(last[0], last[1], ctx.lineWidth / 2, 0, 2 * Math.PI)
        ctx.fill()
        e.preventDefault()
      })
      canvas.addEventListener("pointermove", (e) => {
        if (!drawing) return
        const p = pos(e)
        ctx.beginPath()
        ctx.moveTo(last[0], last[1])
        ctx.lineTo(p[0], p[1])
        ctx.stroke()
        last = p
        if (performance.now() - lastSent > 150) send()
        e.preventDefault()
      })
      const end = (e) => {
        if (!drawing) return
        drawing = false
        window.webnetStrokeEnded = performance.now()
        send()
      }
      canvas.addEventListener("pointerup", end)
      canvas.addEventListener("pointercancel", end)
      // Clear lives here, not in Python: it needs no round trip, so it answers at once
      const clear = document.createElement("button")
      clear.textContent = "Clear"
      clear.className = "webnet-clear"
      clear.style.cssText = "margin-top:8px;padding:6px 18px;font:inherit;border:1px solid #bbb;" +
        "border-radius:4px;background:#f5f5f5;cursor:pointer"
      clear.addEventListener("click", () => {
        ctx.clearRect(0, 0, size, size)
        model.image = ""
        model.clears = model.clears + 1  // tells Python even when the pad was already empty
      })
      el.appendChild(canvas)
      el.appendChild(clear)
    }
    """


def alert_html(message):
    """A warning in a red box (an HTML pane: see TrainView), or nothing."""
    if not message:
        return ""
    return ("<div role='alert' style='border:1px solid #c62828;border-left-width:6px;border-radius:4px;"
            f"padding:8px 12px;color:#b71c1c;background:#fff5f5'>{html.escape(message)}</div>")


def _fig(title, height=260, **kw):
    from bokeh.plotting import figure  # here: no tab shown at start-up has a plot (0.08 s in the page)

    f = figure(title=title, height=height, sizing_mode="stretch_width", tools="", toolbar_location=None, **kw)
    f.title.text_font_size = "13px"
    f.outline_line_color = None
    return f


class TrainView(pn.viewable.Viewer):
    trainer = param.ClassSelector(class_=Trainer)

    def __init__(self, **params):
        super().__init__(**params)
        t = self.trainer
        self._streamed = (0, 0, 0)
        self.loss_src = None  # the figures are made when there is a first point to draw (_make_plots)
        self.plots = pn.Row(pn.pane.HTML("<p style='color:#666'>The loss and accuracy curves appear here when "
                                         "training starts.</p>", css_classes=["plots-placeholder"]))
        t.param.watch(self._stream, ["tick", "epochs"])
        self._periodic = None
        t.param.watch(self._running_changed, "running")

    def _make_plots(self):
        """The loss and accuracy figures, made at the first batch rather than at start-up: there is
        nothing to draw before, and the static page answers a tenth of a second sooner."""
        t = self.trainer
        self.loss_src = ColumnDataSource(dict(x=[], y=[]))
        self.acc_src = ColumnDataSource(dict(epoch=[], train=[], test=[]))
        self.est_src = ColumnDataSource(dict(x=[], y=[]))
        self.loss_x, self.loss_y, self.acc_x = Range1d(0, t.epochs), Range1d(0, 2.5), Range1d(0, t.epochs)
        loss = _fig("Training loss (per batch, smoothed)", x_axis_label="epoch", x_range=self.loss_x,
                    y_range=self.loss_y)
        loss.line("x", "y", source=self.loss_src, color=BLUE, line_width=2)
        acc = _fig("Accuracy", x_axis_label="epoch", x_range=self.acc_x, y_range=(0, 1))
        acc.line("epoch", "train", source=self.acc_src, color=BLUE, line_width=2, legend_label="train (2,000 digits)")
        acc.scatter("epoch", "train", source=self.acc_src, color=BLUE, size=7)
        acc.line("epoch", "test", source=self.acc_src, color=ORANGE, line_width=2, legend_label="test (2,000 digits)")
        acc.scatter("epoch", "test", source=self.acc_src, color=ORANGE, size=7)
        acc.scatter("x", "y", source=self.est_src, color=ORANGE, marker="triangle", size=7, alpha=0.5,
                    legend_label=f"quick estimate ({N_ESTIMATE})")
        acc.legend.location = "bottom_right"
        acc.legend.label_text_font_size = "11px"
        self.plots.objects = [pn.pane.Bokeh(loss), pn.pane.Bokeh(acc)]

    def _stream(self, *events):
        t = self.trainer
        if self.loss_src is None:
            if not (t.losses or t.history or t.estimates):
                return
            self._make_plots()
        n_loss, n_hist, n_est = self._streamed
        if len(t.losses) < n_loss or len(t.history) < n_hist or len(t.estimates) < n_est:  # reset
            self.loss_src.data, self.acc_src.data, self.est_src.data = dict(x=[], y=[]), dict(epoch=[], train=[], test=[]), dict(x=[], y=[])
            n_loss = n_hist = n_est = 0
        if len(t.losses) > n_loss:
            xs, ys = zip(*t.losses[n_loss:])
            self.loss_src.stream(dict(x=list(xs), y=list(ys)))
        if len(t.history) > n_hist:
            new = t.history[n_hist:]
            self.acc_src.stream(dict(epoch=[h["epoch"] for h in new], train=[h["train_acc"] for h in new],
                                     test=[h["test_acc"] for h in new]))
        if len(t.estimates) > n_est:
            xs, ys = zip(*t.estimates[n_est:])
            self.est_src.stream(dict(x=list(xs), y=list(ys)))
        self._streamed = (len(t.losses), len(t.history), len(t.estimates))
        end = max(t.epochs, t.losses[-1][0] if t.losses else 0)
        self.loss_x.end = self.acc_x.end = end
        self.loss_y.end = 1.1 * max((y for _, y in t.losses), default=2.3)

    def _running_changed(self, event):
        # started at the first Start and left running (a paused chunk returns at once): stopping
        # it in Pyodide cancels its asyncio task, which logs a CancelledError traceback
        live = sys.platform == "emscripten" or (pn.state.curdoc is not None and pn.state.curdoc.session_context)
        if event.new and self._periodic is None and live:  # (without a live page, tests call chunk())
            self._periodic = pn.state.add_periodic_callback(self._tick, period=CHUNK_PERIOD_MS)

    async def _tick(self):
        self.trainer.chunk()
        await asyncio.sleep(0.005)  # always let the page's messages (a click on Pause) in first

    def _status(self, epoch, batch, n_batches, speed, estimate, running, tick, epochs, learning_rate):
        t = self.trainer
        state = "training" if running else ("finished" if epoch >= t.epochs else "paused" if t.steps else "ready")
        parts = [f"<b>{state.capitalize()}</b> · epoch {min(epoch + (1 if batch < n_batches and running else 0), t.epochs)}"
                 f"/{t.epochs} · batch {batch}/{n_batches} · learning rate {t.learning_rate:g}"]
        if speed and t.steps:
            parts.append(f"{speed:,.0f} samples/s")
        if estimate is not None:
            parts.append(f"quick test estimate {estimate:.3f}")
        if t.history:
            h = t.history[-1]
            parts.append(f"test accuracy {h['test_acc']:.3f} after epoch {h['epoch']} ({h['seconds']:.2f} s of training)")
        return " · ".join(parts)

    def _test_accuracy(self, tick):
        h = self.trainer.history
        return f"Test accuracy: {h[-1]['test_acc']:.4f}" if h else "Test accuracy: not measured yet"

    def __panel__(self):
        t = self.trainer
        w = pn.widgets
        kind = w.RadioButtonGroup.from_param(t.param.model_kind, button_type="default")
        arch = [w.IntSlider.from_param(t.param.hidden), w.Checkbox.from_param(t.param.second_layer),
                w.IntSlider.from_param(t.param.hidden2)]

        def show_arch(*_):
            for widget in arch:
                widget.visible = t.model_kind == "MLP"
            arch[2].visible = t.model_kind == "MLP" and t.second_layer
        show_arch()
        t.param.watch(show_arch, ["model_kind", "second_layer"])
        lr = w.DiscreteSlider.from_param(t.param.learning_rate)
        bs = w.Select.from_param(t.param.batch_size)
        epochs = w.IntSlider.from_param(t.param.epochs)
        size = w.IntSlider.from_param(t.param.train_size)
        seed = w.IntInput.from_param(t.param.seed)
        frozen = [kind, *arch, lr, bs, size, seed]

        start = w.Button(name="Start", button_type="primary")
        pause = w.Button(name="Pause", button_type="warning", disabled=True)
        step = w.Button(name="Step (one batch)", button_type="default")
        reset = w.Button(name="Reset", button_type="danger", button_style="outline")
        start.on_click(t.start)
        pause.on_click(t.pause)
        step.on_click(t.step)
        reset.on_click(t.reset)

        def running_changed(event):
            for widget in frozen + [start, step]:
                widget.disabled = event.new
            pause.disabled = not event.new
        t.param.watch(running_changed, "running")
        progress = w.Progress(value=pn.bind(lambda b, n: int(100 * b / max(n, 1)), t.param.batch, t.param.n_batches),
                              max=100, height=16, bar_color="primary")
        # HTML panes, not Markdown, on the first tab: Markdown's parser loads and compiles its
        # rules on first use, a tenth of a second of the static page's start-up
        status = pn.pane.HTML(pn.bind(self._status, t.param.epoch, t.param.batch, t.param.n_batches, t.param.speed,
                                      t.param.estimate, t.param.running, t.param.tick, t.param.epochs,
                                      t.param.learning_rate),
                              css_classes=["train-status"])
        test_acc = pn.pane.HTML(pn.bind(self._test_accuracy, t.param.tick), css_classes=["test-accuracy"])
        alert = pn.pane.HTML(pn.bind(alert_html, t.param.alert), visible=pn.bind(bool, t.param.alert),
                             css_classes=["train-alert"])
        controls = pn.Column(
            pn.pane.HTML("<h3>Network</h3>"), kind, *arch, pn.pane.HTML("<h3>Training</h3>"),
            lr, bs, epochs, size, seed, width=300, sizing_mode="fixed")
        buttons = pn.FlexBox(start, pause, step, reset, gap="8px")
        for b in (start, pause, step, reset):
            b.width = 140
            b.sizing_mode = "fixed"
        main = pn.Column(buttons, progress, status, alert, test_acc, self.plots, sizing_mode="stretch_width")
        return pn.FlexBox(controls, main, flex_wrap="wrap", gap="24px")


class InspectView(pn.viewable.Viewer):
    trainer = param.ClassSelector(class_=Trainer)

    def __init__(self, **params):
        super().__init__(**params)
        self.cm_src = ColumnDataSource(dict(true=[], pred=[], count=[], label=[], text_color=[]))
        cm = _fig("Confusion matrix (test digits): rows true, columns predicted", height=380,
                  x_range=FactorRange(*DIGIT_LABELS), y_range=FactorRange(*reversed(DIGIT_LABELS)),
                  x_axis_label="predicted", y_axis_label="true")
        self.mapper = LinearColorMapper(palette=Blues256[::-1], low=0, high=50)
        cm.rect("pred", "true", 1, 1, source=self.cm_src, fill_color={"field": "count", "transform": self.mapper},
                line_color="white")
        cm.text("pred", "true", "label", source=self.cm_src, text_align="center", text_baseline="middle",
                text_font_size="11px", text_color="text_color")
        cm.grid.visible = False
        self.pc_src = ColumnDataSource(dict(digit=list(DIGIT_LABELS), acc=[0.0] * 10, label=[""] * 10))
        pc = _fig("Accuracy per class (test digits)", height=380, x_range=FactorRange(*DIGIT_LABELS), y_range=(0, 1.08))
        pc.vbar("digit", top="acc", width=0.7, source=self.pc_src, color=BLUE)
        pc.text("digit", "acc", "label", source=self.pc_src, text_align="center", text_baseline="bottom",
                text_font_size="10px")
        self.gallery = pn.pane.HTML("", css_classes=["gallery"])
        self.weights = pn.pane.HTML("", css_classes=["weights"])
        self.summary = pn.pane.Markdown("", css_classes=["inspect-summary"])
        self.plots = pn.Row(pn.pane.Bokeh(cm), pn.pane.Bokeh(pc))
        self._shown = None
        self._weights_at = 0.0
        self.visible = False  # nothing is computed before the tab is first shown
        self.trainer.param.watch(self.refresh, ["tick", "source"])

    def refresh(self, *events):
        """Redraw from one evaluation of the current model. While training that is the evaluation
        made at the end of the last epoch (a fresh one would hold up the controls); the first
        layer's weights are redrawn live, at most once a second."""
        t = self.trainer
        if not self.visible:
            return
        now = time.perf_counter()
        if not t.running or now - self._weights_at > 1.0:
            self._weights_at = now
            self.weights.object = self._weights_html(t.current)
        if t.running:
            evaluation = t.evaluation if t.history else None
        else:
            evaluation = (t.version, t.test_probabilities())
        if evaluation is None:
            self.summary.object = (f"Showing **{t.describe_current()}**; its test digits are evaluated at the end "
                                   "of each epoch.")
            return
        if self._shown is evaluation[1]:
            return
        self._shown = probs = evaluation[1]
        pred, y_test = probs.argmax(1), digits().y_test
        cm = np.zeros((10, 10), int)
        np.add.at(cm, (y_test, pred), 1)
        true, predicted = np.divmod(np.arange(100), 10)
        counts = cm.ravel()
        self.mapper.high = max(20, int(cm[~np.eye(10, dtype=bool)].max()) * 2)
        self.cm_src.data = dict(true=[str(v) for v in true], pred=[str(v) for v in predicted], count=counts.tolist(),
                                label=[str(c) if c else "" for c in counts],
                                text_color=["white" if c > self.mapper.high * 0.6 else "#333" for c in counts])
        per_class = cm.diagonal() / np.maximum(cm.sum(1), 1)
        self.pc_src.data = dict(digit=list(DIGIT_LABELS), acc=per_class.tolist(),
                                label=[f"{a:.2f}" for a in per_class])
        acc = float(np.mean(pred == y_test))
        when = f" after epoch {t.history[-1]['epoch']}" if t.running and t.history else ""
        self.summary.object = (f"Showing **{t.describe_current()}**{when}: test accuracy **{acc:.4f}** on "
                               f"{len(y_test):,} digits ({int((pred != y_test).sum())} mistakes).")
        self.gallery.object = self._gallery_html(probs, pred)

    @staticmethod
    def _gallery_html(probs, pred):
        X_test, y_test = digits()[2:]
        wrong = np.flatnonzero(pred != y_test)
        conf = probs[wrong, pred[wrong]]
        worst = wrong[np.argsort(-conf)][:16]
        cards = "".join(
            f"<figure style='margin:4px;text-align:center;width:84px'>"
            f"<img src='{png_data_uri(X_test[i].reshape(28, 28), 2)}' width='56' height='56' "
            f"style='image-rendering:pixelated;border:1px solid #ddd'/>"
            f"<figcaption style='font-size:11px;line-height:1.3'>true {y_test[i]}, said <b>{pred[i]}</b><br>"
            f"{100 * probs[i, pred[i]]:.0f} % sure</figcaption></figure>" for i in worst)
        return ("<div style='display:flex;flex-wrap:wrap'>" + cards + "</div>") if cards else "<p>No mistakes.</p>"

    @staticmethod
    def _weights_html(net):
        first = next((layer for layer in net.layers if layer.param_names), None)
        if isinstance(first, webnet.LinearLayer) and first.in_features == 784:
            W = first.W[:, :64]  # (784, k)
            tiles = W.T.reshape(-1, 28, 28)
            caption = f"The first layer's weights into {tiles.shape[0]} of its {first.out_features} units, as 28x28 images"
        elif isinstance(first, webnet.Conv2D):
            tiles = first.K[:, 0]
            caption = f"The {tiles.shape[0]} convolution kernels ({tiles.shape[1]}x{tiles.shape[2]})"
        else:
            return ""
        scale = np.abs(tiles).max(axis=(1, 2), keepdims=True) + 1e-12
        tiles = 0.5 - 0.5 * tiles / scale  # positive dark, negative light, zero grey
        k, h, w = tiles.shape
        cols = 16 if k > 8 else k
        rows = -(-k // cols)
        grid = np.zeros((rows * (h + 1) + 1, cols * (w + 1) + 1))
        for i, tile in enumerate(tiles):
            r, c = divmod(i, cols)
            grid[1 + r * (h + 1):1 + r * (h + 1) + h, 1 + c * (w + 1):1 + c * (w + 1) + w] = tile
        scale_px = 3 if h >= 20 else 12
        src = png_data_uri(grid, scale_px)
        return (f"<p style='margin:0 0 4px 0'>{caption} (dark: positive, light: negative).</p>"
                f"<img src='{src}' style='image-rendering:pixelated;max-width:100%'/>")

    def show(self):
        self.visible = True
        self.refresh()

    def __panel__(self):
        return pn.Column(self.summary, self.plots, "### The most confidently wrong test digits", self.gallery,
                         "### What the first layer looks for", self.weights)


class GradientCheckView(pn.viewable.Viewer):
    checker = param.ClassSelector(class_=GradientChecker)

    def _table(self, rows, seconds, checked):
        if not rows:
            return "<p>Press the button to check the gradients of the network you are training.</p>"
        head = "".join(f"<th style='text-align:left;padding:2px 10px'>{h}</th>" for h in
                       ("layer", "quantity", "max. relative error", "coordinates checked", "verdict"))
        body = "".join(
            f"<tr><td style='padding:2px 10px'>{r.layer}</td><td style='padding:2px 10px'>{r.what}</td>"
            f"<td style='padding:2px 10px'>{r.max_rel_error:.2e}</td>"
            f"<td style='padding:2px 10px'>{r.checked} of {r.total:,}" + (f" ({r.kinks} at kinks skipped)" if r.kinks else "")
            + f"</td><td class='verdict' style='padding:2px 10px;color:{VERDICT_COLOURS[r.verdict]};font-weight:600'>"
            f"{r.verdict}</td></tr>" for r in rows)
        return (f"<p>{checked}, float64 copy, 4 test digits: {seconds:.2f} s.</p>"
                f"<table class='gradcheck' style='border-collapse:collapse'><thead><tr>{head}</tr></thead>"
                f"<tbody>{body}</tbody></table>")

    def __panel__(self):
        c = self.checker
        run = pn.widgets.Button(name="Check the gradients", button_type="primary", width=220, sizing_mode="fixed")
        run.on_click(c.run)
        explain = pn.pane.Markdown(
            "Each layer's backward pass against central finite differences (float64, h = 1e-5), "
            "per layer and quantity and for the whole network. Relative error "
            "|analytic − numeric| / max(|analytic|, |numeric|): below 1e-7 *excellent*, below 1e-4 "
            "*acceptable* (near ReLU kinks), below 1e-2 *suspicious*, otherwise *wrong*.")
        table = pn.pane.HTML(pn.bind(self._table, c.param.rows, c.param.seconds, c.param.checked),
                             css_classes=["gradcheck-table"])
        return pn.Column(explain, run, table)


class DrawView(pn.viewable.Viewer):
    classifier = param.ClassSelector(class_=DrawingClassifier)

    def __init__(self, **params):
        super().__init__(**params)
        self.pad = DrawingPad(width=284, height=326, sizing_mode="fixed")
        self.pad.param.watch(self._drawn, "image")
        self.pad.param.watch(lambda event: self.classifier.classify_image(None), "clears")
        self.bars = ColumnDataSource(dict(digit=list(DIGIT_LABELS), p=[0.0] * 10, color=[GREY] * 10))
        f = _fig("Probabilities", height=240, x_range=FactorRange(*DIGIT_LABELS), y_range=(0, 1))
        f.vbar("digit", top="p", width=0.7, color="color", source=self.bars)
        self.figure = f
        self.classifier.param.watch(self._update_bars, "probabilities")

    def _drawn(self, event):
        raw = event.new
        if not raw:
            self.classifier.classify_image(None)
            return
        size = self.pad.size
        alpha = np.frombuffer(base64.b64decode(raw), np.uint8)
        if alpha.size != size * size:
            self.classifier.message = "The drawing arrived damaged: please draw again."
            return
        self.classifier.classify_image(alpha.reshape(size, size))

    def _update_bars(self, event):
        p = event.new
        if p is None:
            self.bars.data = dict(digit=list(DIGIT_LABELS), p=[0.0] * 10, color=[GREY] * 10)
            return
        top = int(np.argmax(p))
        self.bars.data = dict(digit=list(DIGIT_LABELS), p=[float(v) for v in p],
                              color=[ORANGE if i == top else BLUE for i in range(10)])

    @staticmethod
    def _preview(img):
        if img is None:
            return "<div style='width:140px;height:140px;border:1px dashed #bbb;border-radius:6px'></div>"
        return (f"<img src='{png_data_uri(img, 5)}' width='140' height='140' "
                f"style='image-rendering:pixelated;border:1px solid #bbb;border-radius:6px'/>")

    def __panel__(self):
        c = self.classifier
        rand = pn.widgets.Button(name="A random test digit", width=170, sizing_mode="fixed")
        rand.on_click(c.random_test_digit)
        source = pn.pane.Markdown(pn.bind(lambda src, v: f"Classified by {c.trainer.describe_current()}.",
                                          c.trainer.param.source, c.trainer.param.epoch), css_classes=["model-source"])
        prediction = pn.pane.Markdown(c.param.message, css_classes=["prediction"])
        preview = pn.Column("**What the network sees** (28x28)",
                            pn.pane.HTML(pn.bind(self._preview, c.param.preview), css_classes=["preview"]),
                            width=170, sizing_mode="fixed")
        left = pn.Column(self.pad, rand, width=320, sizing_mode="fixed")
        right = pn.Column(prediction, source, pn.Row(preview, pn.pane.Bokeh(self.figure)))
        return pn.FlexBox(left, right, flex_wrap="wrap", gap="24px")


class ModelView(pn.viewable.Viewer):
    store = param.ClassSelector(class_=ModelStore)

    def __panel__(self):
        s = self.store
        download = pn.widgets.FileDownload(callback=s.download, filename="webnet-model.npz",
                                           label="Download the current model (.npz)", button_type="primary",
                                           width=300, sizing_mode="fixed")
        upload = pn.widgets.FileInput(accept=".npz", multiple=False, width=300, sizing_mode="fixed")
        seen = []

        def uploaded(*events):  # value and filename arrive as two changes, in either order
            if upload.value and upload.filename and seen[-1:] != [(id(upload.value), upload.filename)]:
                seen.append((id(upload.value), upload.filename))
                s.upload(upload.value, upload.filename)
        upload.param.watch(uploaded, ["value", "filename"])
        current = pn.pane.Markdown(pn.bind(lambda src, ep: f"Current model: {s.trainer.describe_current()}.",
                                           s.trainer.param.source, s.trainer.param.epoch))
        message = pn.pane.Alert(s.param.message, alert_type="success", visible=pn.bind(bool, s.param.message),
                                css_classes=["upload-message"])
        s.param.watch(lambda e: setattr(message, "alert_type", "success" if e.new else "danger"), "ok")
        return pn.Column(current, download, "### Upload a saved model",
                         "A file saved here or by `python -m webnet train --save`. A wrong or damaged file is "
                         "refused and the current model stays.", upload, message)


def about():
    where = webnet.__file__.rsplit("/", 1)[0]
    return (f"Python {sys.version.split()[0]} on {sys.platform}, numpy {np.__version__}, webnet "
            f"{webnet.__version__} from {where}. MNIST by Yann LeCun and Corinna Cortes (CC BY-SA 3.0); "
            f"the lab uses a stratified subset of {N_TRAIN:,} training and {N_TEST:,} test digits.")


class App(pn.viewable.Viewer):
    """The whole lab: state objects and the tabs over them."""

    def __init__(self, **params):
        super().__init__(**params)
        self.trainer = Trainer()
        self.checker = GradientChecker(self.trainer)
        self.classifier = DrawingClassifier(self.trainer)
        self.store = ModelStore(self.trainer)

    TABS = ("Train", "Inspect", "Gradient check", "Draw", "Model")

    def view(self, name):
        """The view behind the tab ``name`` (built when asked for)."""
        if name == "Train":
            return TrainView(trainer=self.trainer)
        if name == "Inspect":
            return InspectView(trainer=self.trainer)
        if name == "Gradient check":
            return GradientCheckView(checker=self.checker)
        if name == "Draw":
            return DrawView(classifier=self.classifier)
        return ModelView(store=self.store)

    def __panel__(self):
        # Only the first tab is built at start-up; each other one the first time it is shown. In the
        # static page that saves a good part of the start-up (every widget and plot becomes bokeh
        # models, built by Python in the worker and then by BokehJS). Each tab is a Column whose
        # content is filled in on first use. (In the page this relies on the worker marking its
        # document loaded, which build.py adds: Panel 1.7.5's worker drops such updates otherwise.)
        holders = [pn.Column(pn.pane.HTML("<p style='color:#666'>Loading…</p>", css_classes=["tab-loading"]),
                             sizing_mode="stretch_width") for _ in self.TABS]
        views = {}

        def show(index):
            name = self.TABS[index]
            if name not in views:
                views[name] = self.view(name)
                holders[index].objects = [views[name]]
            if name == "Inspect":  # evaluates the model when shown, not at start-up
                views[name].show()

        show(0)
        tabs = pn.Tabs(*zip(self.TABS, holders), dynamic=False)
        tabs.param.watch(lambda event: show(event.new), "active")
        return pn.Column(
            pn.pane.HTML("<h1>webnet lab · a neural network you can watch learn</h1>", margin=(0, 10)),
            pn.pane.HTML("<p>Pick a network and press <b>Start</b> to train it on handwritten digits; then see "
                         "where it goes wrong, check its gradients, and draw digits for it to read.</p>",
                         margin=(0, 10)),
            tabs,
            pn.pane.HTML(f"<p>{html.escape(about())}</p>", css_classes=["about"],
                         styles={"color": "#666", "font-size": "12px"}),
            max_width=1280,
        )


App().servable(title="webnet lab")
