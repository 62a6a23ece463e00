"""Turn a drawing into the 28x28 input the network expects, the way MNIST itself was made.

1. ink: grayscale in [0, 1] with ink high, whatever the input (gray or RGB(A), dark on light or
   light on dark, or strokes on a transparent canvas);
2. crop to the ink's bounding box;
3. scale so the longer side is 20 pixels, keeping the aspect ratio, by area averaging;
4. paste into 28x28 so the intensity-weighted centre of mass sits at the centre.

A blank or nearly blank image raises ``BlankImage``: the app asks for a drawing instead of guessing.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BOX, SIZE = 20, 28
INK = 0.1  # an ink pixel is at least this dark (after polarity is fixed)
MIN_INK_PIXELS = 4
CROP = 0.03  # the bounding box takes in faint anti-aliased edges down to this fraction of the darkest ink


class BlankImage(ValueError):
    """The image has (almost) no ink."""


@dataclass
class Preprocessed:
    ink: np.ndarray  # (H, W) float in [0, 1], ink high
    cropped: np.ndarray  # the bounding box of the ink
    scaled: np.ndarray  # longer side 20
    image: np.ndarray  # (28, 28) float32 in [0, 1]: what the network sees

    @property
    def x(self):
        """The network input, (1, 784) float32."""
        return self.image.reshape(1, SIZE * SIZE)


def to_ink(img):
    """(H, W), (H, W, 3) or (H, W, 4), uint8 or float in [0, 1] -> (H, W) float64 ink in [0, 1]."""
    a = np.asarray(img)
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (1, 3, 4)) or min(a.shape[:2]) < 1:
        raise ValueError(f"expected an image of shape (H, W), (H, W, 3) or (H, W, 4), got {a.shape}")
    a = a.astype(np.float64) / (255.0 if a.dtype.kind in "ui" or a.max(initial=0) > 1 else 1.0)
    if a.ndim == 3 and a.shape[2] == 4 and a[..., 3].min() < a[..., 3].max():
        return np.clip(a[..., 3], 0, 1)  # strokes on a transparent canvas: alpha is the ink
    gray = a if a.ndim == 2 else a[..., :3].mean(axis=2) if a.shape[2] >= 3 else a[..., 0]
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return np.clip(1.0 - gray if np.median(border) > 0.5 else gray, 0, 1)


def area_resize(img, out_h, out_w):
    """Resize by area averaging: each output pixel is the mean of the input area it covers."""
    return _area_matrix(img.shape[0], out_h) @ img @ _area_matrix(img.shape[1], out_w).T


def _area_matrix(n_in, n_out):
    """(n_out, n_in) weights: overlap of output cell i with input cell j, rows summing to 1."""
    edges_in = np.arange(n_in + 1)
    edges_out = np.linspace(0, n_in, n_out + 1)
    lo = np.maximum(edges_out[:-1, None], edges_in[None, :-1])
    hi = np.minimum(edges_out[1:, None], edges_in[None, 1:])
    w = np.clip(hi - lo, 0, None)
    return w / w.sum(axis=1, keepdims=True)


def center_of_mass(img):
    ys, xs = np.indices(img.shape)
    total = img.sum()
    return (ys * img).sum() / total, (xs * img).sum() / total


def preprocess(img):
    """The MNIST pipeline on a drawing; returns ``Preprocessed`` (all stages). Raises ``BlankImage``."""
    ink = to_ink(img)
    mask = ink >= INK
    if mask.sum() < MIN_INK_PIXELS:
        raise BlankImage("the image is blank: draw a digit first")
    box = ink >= CROP * ink.max()
    rows, cols = np.flatnonzero(box.any(axis=1)), np.flatnonzero(box.any(axis=0))
    cropped = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = cropped.shape
    scale = BOX / max(h, w)
    out_h, out_w = max(1, round(h * scale)), max(1, round(w * scale))
    scaled = np.clip(area_resize(cropped, out_h, out_w), 0, 1)
    cy, cx = center_of_mass(scaled)
    # MNIST puts the centre of mass, in pixel indices, at (14, 14)
    top = int(np.clip(round(SIZE / 2 - cy), 0, SIZE - out_h))
    left = int(np.clip(round(SIZE / 2 - cx), 0, SIZE - out_w))
    image = np.zeros((SIZE, SIZE), np.float32)
    image[top:top + out_h, left:left + out_w] = scaled
    return Preprocessed(ink, cropped, scaled, image)
