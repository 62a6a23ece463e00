"""Models: the one model in use, named the same way on every tab.

There are up to three: the pretrained one shipped with webnet, the one being trained (the
Trainer's network), and one uploaded from a file. Exactly one is in use; ``version`` changes
whenever it, or its weights, change, and every view that shows an answer records the version it
used, so no view can show an answer of an older model without saying so."""
from __future__ import annotations

import functools

import param

from webnet import metrics
from webnet.models import PRETRAINED_ARCH, PRETRAINED_TEST_ACCURACY, architecture_name
from webnet.models import pretrained as load_pretrained

from ..i18n import msg
from .data import digits

EVAL_SLICE = 250  # test digits per forward pass when the model in use is evaluated


class Models(param.Parameterized):
    source = param.Selector(default="pretrained", objects=["pretrained", "trained", "uploaded"])
    version = param.Integer(default=0, doc="bumps whenever the model in use or its weights change")
    uploaded_name = param.String(default="")

    def __init__(self, trainer, **params):
        super().__init__(**params)
        self.trainer = trainer
        self.uploaded = None
        self.before_training = "pretrained"  # what was in use when the current run started
        self._evaluations = {}  # (source, version of that model) -> test probabilities
        trainer.param.watch(self._trained_changed, "net_version")
        trainer.param.watch(self._training_started, "started")
        trainer.param.watch(self._training_failed, "failed")
        self.param.watch(lambda *events: setattr(self, "version", self.version + 1), ["source", "uploaded_name"])

    def _trained_changed(self, event):
        if self.source == "trained" and not self.trainer.steps:  # reset: no trained model to show
            self.source = self.before_training
        elif self.source == "trained":
            self.version += 1

    def _training_started(self, event):
        """A new run is in use from its first step (every tab says so, and offers the one before)."""
        if self.source != "trained":
            self.before_training = self.source
        self.source = "trained"

    def _training_failed(self, event):
        """A run that failed and kept nothing worth using hands back the model in use before it."""
        if self.source == "trained":
            self.source = self.before_training

    @functools.cached_property
    def pretrained(self):
        """The model shipped with webnet, read on first use."""
        return load_pretrained()

    def net(self, source=None):
        source = source or self.source
        if source == "pretrained":
            return self.pretrained
        return self.trainer.net if source == "trained" else self.uploaded

    @property
    def current(self):
        return self.net()

    def available(self):
        """The sources that can be put in use: pretrained, and trained / uploaded once there is one."""
        return (["pretrained"] + (["trained"] if self.trainer.steps else [])
                + (["uploaded"] if self.uploaded is not None else []))

    def use(self, source):
        if source in self.available():
            self.source = source

    def adopt_upload(self, net, name):
        """``net`` (checked by the caller) becomes the uploaded model, and the one in use."""
        self.uploaded = net
        self.param.update(uploaded_name=name, source="uploaded")

    # -- evaluation ----------------------------------------------------------------------------
    def _own_version(self, source):
        return self.trainer.net_version if source == "trained" else self.version if source == "uploaded" else 0

    def test_probabilities(self, source=None):
        """Test-set probabilities of a model (computed once per version of it)."""
        source = source or self.source
        key = (source, self._own_version(source) if source != "uploaded" else self.uploaded_name)
        if key not in self._evaluations:
            if len(self._evaluations) > 8:
                self._evaluations.clear()
            self._evaluations[key] = self.net(source).predict_proba(digits().X_test, batch_size=EVAL_SLICE)
        return self._evaluations[key]

    def remember(self, source, probs):
        """An evaluation made elsewhere (the trainer's, at the end of an epoch) for the current weights."""
        self._evaluations[(source, self._own_version(source))] = probs

    def test_accuracy(self, source=None):
        if (source or self.source) == "pretrained":
            return PRETRAINED_TEST_ACCURACY
        return metrics.accuracy(self.test_probabilities(source).argmax(1), digits().y_test)

    # -- names ---------------------------------------------------------------------------------
    def label(self, source=None):
        """A Message naming a model the same way everywhere: "pretrained: 784-128-10, test 0.9545",
        "trained: 784-128-10, 3 epochs, test 0.9215" (its last epoch's test), "uploaded: my.npz
        (784-128-10), test 0.9545"."""
        source = source or self.source
        if source == "pretrained":  # named without being loaded: the page starts sooner
            return msg("model.name.pretrained", arch=PRETRAINED_ARCH, acc=f"{PRETRAINED_TEST_ACCURACY:.4f}")
        net = self.net(source)
        arch = architecture_name(net)
        if source == "uploaded":
            return msg("model.name.uploaded", name=self.uploaded_name, arch=arch,
                       acc=f"{self.test_accuracy(source):.4f}")
        t = self.trainer
        yours = t.custom_class_name()
        key = "model.name.trained" + ("_yours" if yours else "")
        if not t.history:
            return msg(key + "_untested", arch=arch, n=t.steps, yours=yours or "")
        return msg(key, arch=arch, n=t.epoch, acc=f"{t.history[-1]['test_acc']:.4f}", yours=yours or "")
