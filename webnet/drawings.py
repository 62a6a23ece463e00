"""A class's own handwriting: labelled drawings as the network sees them (28x28, ink 0-255), kept in
one ``.npz`` file (``images`` uint8 (N, 28, 28), ``labels`` uint8 (N,)) written deterministically
and read by webnet's safe reader (nothing is unpickled; sizes are checked before anything is
allocated). Several students' files merge into one set without duplicates.

    >>> kept = Drawings.empty().add(image, 7)                # image: (28, 28) in [0, 1]
    >>> kept.save("class.npz"); Drawings.load("class.npz").accuracy(net)
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass

import numpy as np

from .npz import NpzError, read_npz, write_npz

MAX_DRAWINGS = 10_000  # per file and per set: 7.8 MB of images
SIDE = 28


class DrawingsFileError(ValueError):
    """A file that is not a set of labelled drawings; the message says why, in plain words."""


@dataclass(frozen=True)
class Drawings:
    images: np.ndarray  # (N, 28, 28) uint8, ink 0-255
    labels: np.ndarray  # (N,) uint8, 0-9

    @classmethod
    def empty(cls):
        return cls(np.zeros((0, SIDE, SIDE), np.uint8), np.zeros(0, np.uint8))

    @classmethod
    def of(cls, images, labels):
        """From images in [0, 1] ((N, 784) or (N, 28, 28)) or uint8, and labels 0-9; checked."""
        images, labels = np.asarray(images), np.asarray(labels)
        if images.dtype != np.uint8:
            images = np.clip(np.rint(np.asarray(images, np.float64) * 255), 0, 255).astype(np.uint8)
        images = images.reshape(-1, SIDE, SIDE)
        return cls._checked(images, labels)

    @staticmethod
    def _checked(images, labels):
        if images.ndim != 3 or images.shape[1:] != (SIDE, SIDE):
            raise DrawingsFileError(f"its images have the shape {images.shape}, not (N, 28, 28)")
        if labels.shape != (len(images),):
            raise DrawingsFileError(f"it has {len(images):,} images but labels of the shape {labels.shape}")
        if len(images) > MAX_DRAWINGS:
            raise DrawingsFileError(f"it holds {len(images):,} drawings, more than the {MAX_DRAWINGS:,} allowed")
        if labels.size and (labels.min() < 0 or labels.max() > 9):
            raise DrawingsFileError("its labels must be digits 0-9")
        return Drawings(np.ascontiguousarray(images, np.uint8), labels.astype(np.uint8))

    def __len__(self):
        return len(self.labels)

    def add(self, image, label):
        """A new set with one more drawing (the same set if it is already in it)."""
        return self.merge(Drawings.of(np.asarray(image)[None], [label]))[0]

    def remove(self, index):
        keep = np.arange(len(self)) != index
        return Drawings(self.images[keep], self.labels[keep])

    def merge(self, other):
        """(this set with the drawings of ``other`` it does not already hold, how many were new)."""
        seen = {(img.tobytes(), int(label)) for img, label in zip(self.images, self.labels)}
        new = []
        for i, (img, label) in enumerate(zip(other.images, other.labels)):
            key = (img.tobytes(), int(label))
            if key not in seen:
                seen.add(key)
                new.append(i)
        if len(self) + len(new) > MAX_DRAWINGS:
            raise DrawingsFileError(f"together they would be {len(self) + len(new):,} drawings, more than the "
                                    f"{MAX_DRAWINGS:,} allowed")
        merged = Drawings(np.concatenate([self.images, other.images[new]]),
                          np.concatenate([self.labels, other.labels[new]]))
        return merged, len(new)

    @property
    def X(self):
        """(N, 784) float32 in [0, 1]: the network's input."""
        return self.images.reshape(len(self), SIDE * SIDE).astype(np.float32) / 255

    # -- files ------------------------------------------------------------------------------------
    def save(self, file):
        """Write the set as ``.npz`` (a path or a binary file object): the same set, the same bytes."""
        write_npz(file, {"images": self.images, "labels": self.labels})

    def to_bytes(self):
        buf = io.BytesIO()
        self.save(buf)
        return buf.getvalue()

    @classmethod
    def load(cls, source):
        """From a path or the file's bytes; ``DrawingsFileError`` if it is not a set of drawings."""
        if isinstance(source, (str, os.PathLike)):
            try:
                with open(source, "rb") as f:
                    data = f.read(MAX_DRAWINGS * SIDE * SIDE * 2 + 1)
            except OSError as e:
                raise DrawingsFileError(f"it cannot be read ({e.strerror})") from None
        else:
            data = bytes(source)
        if not data:
            raise DrawingsFileError("the file is empty")
        if len(data) > MAX_DRAWINGS * SIDE * SIDE * 2:
            raise DrawingsFileError("the file is larger than a set of drawings can be")
        try:
            arrays = read_npz(data, (np.uint8,), max_entries=2,
                              max_bytes=MAX_DRAWINGS * (SIDE * SIDE + 1) + 1024)
        except NpzError as e:
            raise DrawingsFileError(f"it is not a webnet drawings file: {e}") from None
        if set(arrays) != {"images", "labels"}:
            raise DrawingsFileError("it is not a webnet drawings file: it should hold 'images' and 'labels', "
                                    f"not {', '.join(sorted(arrays)) or 'nothing'}")
        return cls._checked(arrays["images"], arrays["labels"])

    # -- how a network reads them --------------------------------------------------------------
    def predictions(self, net):
        """(N, 10) probabilities of ``net`` for the drawings."""
        if not len(self):
            return np.zeros((0, 10), np.float32)
        return net.predict_proba(self.X)

    def accuracy(self, net):
        """Share of the drawings ``net`` reads as labelled (None for an empty set)."""
        if not len(self):
            return None
        return float((self.predictions(net).argmax(1) == self.labels).mean())

    def split(self, held_out=0.25, seed=0):
        """(training part, held-out part): a share of each digit's drawings held out (at least one
        of a digit with two or more), chosen by ``seed``."""
        rng = np.random.default_rng(seed)
        test = np.zeros(len(self), bool)
        for digit in range(10):
            idx = np.flatnonzero(self.labels == digit)
            rng.shuffle(idx)
            k = int(round(held_out * len(idx)))
            test[idx[:max(k, 1) if len(idx) >= 2 else 0]] = True
        return Drawings(self.images[~test], self.labels[~test]), Drawings(self.images[test], self.labels[test])
