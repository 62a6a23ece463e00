"""From any picture of a digit to "ink": a (H, W) float image in [0, 1], 0 the paper, 1 the pen.

1. levels: every dtype to [0, 1] by its range (uint8 / 255, uint16 / 65535, other ints and floats
   by the range their values use); NaN or infinity is an error, not a guess;
2. alpha: used as the ink only when the picture really is strokes on transparency (a good share
   of it transparent, and the visible part all one colour or thinner than the transparent part);
   otherwise transparent pixels are filled with the background and the colour decides;
3. polarity: split the levels in two at the middle of their range; the background is the side
   with the thickest regions (the one that survives the most 3x3 erosions), so thick strokes that
   touch the border (a ring, a frame) never flip it; on a tie, the larger side;
4. contrast: the background's median level maps to 0 and the strong end of the ink (the 90th
   percentile of the ink side, towards the pen) to 1; less than ``MIN_CONTRAST`` between the
   darkest and lightest level is a blank image.
"""
from __future__ import annotations

import math

import numpy as np

MAX_PIXELS = 120_000_000  # larger images are refused
WORK_SIDE = 1024  # larger images are shrunk (block means) to this longer side first
POLARITY_SIDE = 128  # the polarity is decided on a copy shrunk to this longer side
MIN_CONTRAST = 0.1  # less difference between paper and pen than this is a blank image
TRANSPARENT_SHARE = 0.2  # alpha is the ink if at least this share of the image is transparent ...
FLAT_COLOUR = 0.1  # ... and the visible pixels' gray levels spread less than this (std)


class ImageError(ValueError):
    """An image webnet cannot read or use (unreadable, too large, NaN ...); a plain message."""


class BlankImage(ValueError):
    """The image has (almost) no ink."""


def unit_levels(a, full_scale=None):
    """Levels of any numeric array as float32 in [0, 1]: divided by ``full_scale`` if given, else by
    the container the values fit (1, 255, 65535), else stretched from their minimum to maximum."""
    if a.dtype == bool:
        return a.astype(np.float32)  # True is white, as Pillow's 1-bit images
    if a.dtype.kind not in "uif":
        raise ImageError(f"cannot read an image of dtype {a.dtype}")
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise ImageError("the image contains NaN or infinite values")
    if full_scale is None:
        full_scale = {np.dtype(np.uint8): 255, np.dtype(np.uint16): 65535}.get(a.dtype)
    if full_scale is None and a.dtype.itemsize > 4 and a.size and float(np.abs(a).max()) > 1e30:
        lo, hi = float(a.min()) / 2, float(a.max()) / 2  # halved: their difference cannot overflow
        return ((a / 2 - lo) / (hi - lo)).astype(np.float32) if hi > lo else np.zeros(a.shape, np.float32)
    out = a.astype(np.float32)
    if full_scale is None:
        lo, hi = (float(out.min()), float(out.max())) if out.size else (0.0, 0.0)
        if lo < 0 or hi > 65535:
            return (out - lo) / (hi - lo) if hi > lo else np.zeros_like(out)
        full_scale = next(s for s in (1, 255, 65535) if hi <= s)
    return np.clip(out / np.float32(full_scale), 0, 1)


def _shrink(a, side, rows=64):
    """Block means so the longer side is at most ``side``, without a full-size copy (float64 for
    8-byte input, else float32; NaN and infinity carry through); small arrays are unchanged.

    ``rows`` rows of blocks at a time: each is summed down its rows first (adds of contiguous
    memory), then across (a 10000 x 10000 RGBA array: 0.4 s, where one mean over both block axes
    took 2 s); integers of up to 4 bytes are summed exactly (int64), 8-byte values in float64."""
    f = math.ceil(max(a.shape[:2]) / side)
    if f <= 1:
        return a
    # blocks of f x f; a side shorter than f (a very thin image) is averaged whole across
    fy, fx = min(f, a.shape[0]), min(f, a.shape[1])
    h, w = a.shape[0] // fy * fy, a.shape[1] // fx * fx
    a, rest = a[:h, :w], a.shape[2:]
    out_dtype = np.float64 if a.dtype.itemsize > 4 else np.float32
    acc = np.int64 if a.dtype.kind in "biu" and a.dtype.itemsize <= 4 else np.float64 if a.dtype.itemsize > 4 \
        else out_dtype  # int64 sums of small integers are exact; 8-byte values could overflow it
    out = np.empty((h // fy, w // fx, *rest), out_dtype)
    for i in range(0, h // fy, rows):
        j = min(i + rows, h // fy)
        down = a[i * fy:j * fy].reshape(j - i, fy, w, *rest).sum(axis=1, dtype=acc)
        out[i:j] = down.reshape(j - i, w // fx, fx, *rest).sum(axis=2) / (fy * fx)
    return out


def _gray_and_alpha(a):
    """(H, W[, C]) levels in [0, 1] -> (gray (H, W), alpha (H, W) or None)."""
    if a.ndim == 2:
        return a, None
    c = a.shape[2]
    gray = a[..., 0] if c <= 2 else a[..., :3].mean(axis=2)
    alpha = a[..., c - 1] if c in (2, 4) else None
    return gray, alpha


def _is_strokes_on_transparency(gray, alpha):
    """True when the alpha channel carries the drawing: enough of the picture is transparent, and
    what is visible is either all one colour or thinner than the transparent part (strokes, not
    an opaque canvas with a transparent margin)."""
    if np.mean(alpha < 0.5) < TRANSPARENT_SHARE:
        return False  # an opaque picture (one odd alpha value does not make it a drawing)
    visible = alpha > 0.1
    if not visible.any() or float(gray[visible].std()) < FLAT_COLOUR:
        return True
    shown = _shrink(alpha, POLARITY_SIDE) >= 0.5
    return _thickness(shown) < _thickness(~shown)


def _thickness(mask):
    """How many 3x3 erosions ``mask`` survives (outside the image counts as outside the mask)."""
    steps = 0
    while mask.any():
        p = np.pad(mask, 1)
        mask = p[1:-1, 1:-1].copy()
        for dy in (0, 1, 2):
            for dx in (0, 1, 2):
                mask &= p[dy:dy + mask.shape[0], dx:dx + mask.shape[1]]
        steps += 1
    return steps


def background_is_dark(gray):
    """True if the background of ``gray`` (levels in [0, 1]) is its dark side (see the module doc)."""
    lo, hi = float(gray.min()), float(gray.max())
    small = _shrink(gray, POLARITY_SIDE)
    dark = small < (lo + hi) / 2
    thick_dark, thick_light = _thickness(dark), _thickness(~dark)
    if thick_dark != thick_light:
        return thick_dark > thick_light
    return dark.mean() > 0.5


def to_ink(img):
    """(H, W), (H, W, 1), gray + alpha (H, W, 2), RGB (H, W, 3) or RGBA (H, W, 4), of any numeric
    dtype -> (H', W') float64 ink in [0, 1], ink high (H', W' shrunk to at most ``WORK_SIDE``).
    Raises ``ImageError`` for shapes, dtypes or values it cannot read."""
    a = np.asarray(img)
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (1, 2, 3, 4)) or min(a.shape[:2]) < 1:
        raise ImageError(f"expected an image of shape (H, W), (H, W, 2), (H, W, 3) or (H, W, 4), got {a.shape}")
    if a.shape[0] * a.shape[1] > MAX_PIXELS:
        raise ImageError(f"the image has {a.shape[0] * a.shape[1]:,} pixels, at most {MAX_PIXELS:,} are read")
    full_scale = {np.dtype(bool): 1, np.dtype(np.uint8): 255, np.dtype(np.uint16): 65535}.get(a.dtype)
    a = unit_levels(_shrink(a, WORK_SIDE), full_scale)
    gray, alpha = _gray_and_alpha(a[..., 0] if a.ndim == 3 and a.shape[2] == 1 else a)
    if alpha is not None:
        if _is_strokes_on_transparency(gray, alpha):
            return alpha.astype(np.float64)
        opaque = alpha >= 0.5
        paper = float(np.median(gray[opaque])) if opaque.any() else 1.0
        gray = alpha * gray + (1 - alpha) * paper  # transparent parts become the paper
    gray = gray.astype(np.float64)
    lo, hi = float(gray.min()), float(gray.max())
    if hi - lo < MIN_CONTRAST:
        return np.zeros_like(gray)
    dark_paper = background_is_dark(gray)
    paper_side = gray < (lo + hi) / 2 if dark_paper else gray >= (lo + hi) / 2
    paper = float(np.median(gray[paper_side]))
    ink = float(np.percentile(gray[~paper_side], 90 if dark_paper else 10))  # the strong end of the pen
    return np.clip((gray - paper) / (ink - paper), 0, 1)
