"""ClassDrawings: the drawings students labelled and kept (webnet.drawings), in the browser's
storage across reloads (components/browser_store.py), exported and imported as one .npz (several
students' files merge, duplicates dropped; a bad file changes nothing), and how the model in use
reads them beside MNIST's test digits."""
from __future__ import annotations

import base64
import json

import numpy as np
import param

from webnet.drawings import MAX_DRAWINGS, Drawings, DrawingsFileError

from ..i18n import msg
from .stored import read_json

MAX_STORED = 4 * MAX_DRAWINGS * 28 * 28 // 3 + 100_000  # characters of stored JSON read at all (base64)
MAX_UPLOAD = 2 * MAX_DRAWINGS * 28 * 28  # bytes of an imported file
HELD_OUT = 0.25  # of each digit's kept drawings, never trained on (their accuracy is the honest one)
DRAWINGS_SHARE = 0.1  # the kept drawings are repeated to make up about this share of the training data
MAX_REPEAT = 50


def split_drawings(drawings, seed):
    """(trained on, held out) of ``drawings``, or None when there are none."""
    return drawings.split(HELD_OUT, seed=seed) if len(drawings) else None


def mix_in(X, y, split):
    """The training data ``X``, ``y`` with the trained-on part of ``split`` added, repeated to make
    up about DRAWINGS_SHARE of it (a few dozen drawings among 10,000 digits would hardly count)."""
    if split is None or not len(split[0]):
        return X, y
    part = split[0]
    times = int(min(MAX_REPEAT, max(1, round(DRAWINGS_SHARE * len(X) / len(part)))))
    return (np.concatenate([X, np.tile(part.X.astype(X.dtype), (times, 1))]),
            np.concatenate([y, np.tile(part.labels.astype(y.dtype), times)]))


def held_out_accuracy(net, split):
    """(accuracy of ``net`` on the held-out part of ``split``, its size), or None."""
    if split is None or not len(split[1]):
        return None
    return split[1].accuracy(net), len(split[1])


class ClassDrawings(param.Parameterized):
    drawings = param.ClassSelector(class_=Drawings, default=Drawings.empty())
    message = param.Parameter(default=None, doc="a Message about the last keep / import / read-back")
    ok = param.Boolean(default=True, doc="False when ``message`` is a refusal")

    def keep(self, image, label):
        """Keep ``image`` ((28, 28) in [0, 1], what the network saw) labelled ``label``."""
        if image is None:
            self.param.update(ok=False, message=msg("drawings.nothing_to_keep"))
            return
        if len(self.drawings) >= MAX_DRAWINGS:
            self.param.update(ok=False, message=msg("drawings.full", n=MAX_DRAWINGS))
            return
        before = len(self.drawings)
        self.drawings = self.drawings.add(image, int(label))
        key = "drawings.kept" if len(self.drawings) > before else "drawings.already_kept"
        self.param.update(ok=True, message=msg(key, label=int(label), n=len(self.drawings)))

    def remove(self, index):
        if 0 <= index < len(self.drawings):
            self.drawings = self.drawings.remove(index)
            self.param.update(ok=True, message=msg("drawings.removed", n=len(self.drawings)))

    def clear(self, event=None):
        self.param.update(drawings=Drawings.empty(), ok=True, message=msg("drawings.cleared"))

    def export(self):
        return self.drawings.to_bytes()

    def import_file(self, content, filename):
        """Merge the drawings of an exported file; a file that is not one changes nothing."""
        try:
            if len(content) > MAX_UPLOAD:
                raise DrawingsFileError(f"the file is {len(content):,} bytes, more than a set of drawings can be")
            merged, new = self.drawings.merge(Drawings.load(content))
        except DrawingsFileError as e:
            self.param.update(ok=False, message=msg("drawings.refused", name=filename, reason=str(e)))
            return
        self.param.update(drawings=merged, ok=True,
                          message=msg("drawings.imported", name=filename, n=new, total=len(merged)))

    # -- the browser's storage ---------------------------------------------------------------------
    def dumps(self):
        d = self.drawings
        return json.dumps({"images": base64.b64encode(d.images.tobytes()).decode(), "labels": d.labels.tolist()})

    def merge_stored(self, text):
        """Add the drawings the browser kept (``text``: what :meth:`dumps` wrote); damaged storage
        is said and changes nothing."""
        if not text:
            return
        try:
            data = read_json(text, MAX_STORED)
            labels = np.asarray(data["labels"])
            if labels.ndim != 1 or labels.dtype.kind not in "iu":
                raise ValueError
            raw = np.frombuffer(base64.b64decode(data["images"], validate=True), np.uint8)
            if raw.size != labels.size * 28 * 28:
                raise ValueError
            merged, _ = self.drawings.merge(Drawings.of(raw.reshape(-1, 28, 28), labels))
        except (ValueError, TypeError, KeyError):
            self.param.update(ok=False, message=msg("drawings.unreadable"))
            return
        self.drawings = merged

    # -- how the model in use reads them ------------------------------------------------------------
    def evaluation(self, net):
        """(share read right or None, indices read wrong, what each was read as)."""
        d = self.drawings
        if not len(d):
            return None, np.zeros(0, int), np.zeros(0, int)
        read = d.predictions(net).argmax(1)
        wrong = np.flatnonzero(read != d.labels)
        return float((read == d.labels).mean()), wrong, read[wrong]
