"""Turn a drawing into the 28x28 input the network expects, the way MNIST itself was made.

1. ink: grayscale in [0, 1] with ink high, whatever the input (see ``webnet.ink``: any dtype or
   image mode, dark on light or light on dark, strokes on a transparent canvas);
2. crop to the ink's bounding box;
3. scale so the longer side is 20 pixels, keeping the aspect ratio, by area averaging;
4. paste into 28x28 so the intensity-weighted centre of mass sits at the centre.

A blank or nearly blank image raises ``BlankImage``: the app asks for a drawing instead of guessing.
``read_image`` reads an image file with Pillow (an optional dependency, imported only there).
"""
from __future__ import annotations

import io
import math
import os
import warnings
from dataclasses import dataclass

import numpy as np

from .ink import MAX_PIXELS, WORK_SIDE, BlankImage, ImageError, to_ink, unit_levels

BOX, SIZE = 20, 28
INK = 0.1  # an ink pixel is at least this dark (after polarity is fixed)
MIN_INK_PIXELS = 4
CROP = 0.03  # the bounding box takes in faint anti-aliased edges down to this fraction of the darkest ink
MAX_DECODED_BYTES = 256 * 2**20  # an image whose pixels take more than this once decoded is refused

__all__ = ["BlankImage", "ImageError", "Preprocessed", "area_resize", "center_of_mass", "preprocess",
           "read_image", "to_ink"]


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


# -- image files ---------------------------------------------------------------------------------
# modes Pillow's reduce() cannot take, and what they become first (P: RGBA if it has transparency)
_BEFORE_REDUCE = {"1": "L", "P": "RGB", "PA": "RGBA", "La": "LA", "RGBa": "RGBA", "RGBX": "RGB",
                  "I;16": "I", "I;16L": "I", "I;16B": "I", "I;16N": "I"}
_READABLE = ("L", "LA", "RGB", "RGBA", "I", "F")
_BYTES_PER_PIXEL = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4, "I": 4, "F": 4, "CMYK": 4}


def _full_scale(im, original_mode):
    """The level of white for an integer ("I") image: from the mode or TIFF's bits per sample,
    else None (``unit_levels`` then goes by the values)."""
    if original_mode.startswith("I;16") or im.format == "PNG":  # PNG's only 32-bit mode holds 16-bit gray
        return 65535
    bits = getattr(im, "tag_v2", {}).get(258) if im.format == "TIFF" else None
    bits = bits[0] if isinstance(bits, tuple) and bits else bits
    return {8: 255, 16: 65535}.get(bits)


def read_image(source):
    """An image file (a path, bytes or a binary file object) -> levels in [0, 1] as float32:
    (H, W) gray, (H, W, 2) gray + alpha, (H, W, 3) RGB or (H, W, 4) RGBA, ready for ``preprocess``.

    Every mode Pillow reads is scaled by its own range (16-bit, 32-bit int, float, palette with
    transparency, CMYK ...). Images over ``MAX_PIXELS`` are refused from their header; large ones
    are shrunk while decoding (JPEG) or right after (``reduce``) to a longer side of about
    ``WORK_SIDE``. Raises ``ImageError`` with a plain message (``ImportError`` without Pillow).
    """
    from PIL import Image, UnidentifiedImageError

    name = os.fspath(source) if isinstance(source, (str, os.PathLike)) else "the image"
    if isinstance(source, (bytes, bytearray, memoryview)):
        source = io.BytesIO(bytes(source))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # MAX_PIXELS decides
            with Image.open(source) as im:
                return _decode(im, name)
    except Image.DecompressionBombError:
        raise ImageError(f"{name} is over {MAX_PIXELS:,} pixels; such images are refused") from None
    except FileNotFoundError:
        raise ImageError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise ImageError(f"{name} is a folder, not an image") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as e:
        if isinstance(e, ImageError):
            raise
        raise ImageError(f"{name}: not a readable image ({e})") from None


def _decode(im, name):
    w, h = im.size
    if w * h > MAX_PIXELS:
        raise ImageError(f"{name} is {w} x {h} pixels ({w * h / 1e6:.0f} megapixels); images over "
                         f"{MAX_PIXELS / 1e6:.0f} megapixels are refused")
    factor = math.ceil(max(w, h) / WORK_SIDE)
    if factor > 1 and im.format == "JPEG":
        im.draft(None, (math.ceil(w / factor), math.ceil(h / factor)))  # decoded at 1/2 .. 1/8 scale
        w, h = im.size
    original = im.mode
    mode = _BEFORE_REDUCE.get(original, original if original in _READABLE + ("CMYK",) else "RGBA")
    if original == "P" and ("transparency" in im.info or "A" in im.palette.mode):
        mode = "RGBA"
    if w * h * _BYTES_PER_PIXEL.get(mode, 4) > MAX_DECODED_BYTES:
        raise ImageError(f"{name} is {w} x {h} pixels in {original}: too large to decode "
                         f"(at most {MAX_DECODED_BYTES // 2**20} MB of pixels)")
    im.load()
    if mode != original:
        im = im.convert(mode)
    factor = math.ceil(max(im.size) / WORK_SIDE)
    if factor > 1:
        im = im.reduce(factor)
    if im.mode not in _READABLE:  # CMYK and the like, now small
        im = im.convert("RGB")
    a = np.asarray(im)
    if im.mode == "I":
        return unit_levels(a, _full_scale(im, original))
    return unit_levels(a) if im.mode == "F" else unit_levels(a, 255)


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
