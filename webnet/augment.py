"""Random distortions of 28x28 digits for training: the same digit slanted, rotated, squeezed,
shifted, written with a thicker or thinner pen, a little wobbly. A network trained on them reads
handwriting that MNIST's own writers did not produce (the lab's drawing pad: issue #19).

    aug = Augment()                                 # the defaults below; Augment.none() changes nothing
    x2 = aug(x, rng)                                # x (N, 784) or (N, 28, 28) in [0, 1] -> same shape
    net.fit_one_epoch(X, y, 64, 0.05, augment=aug)  # each batch distorted afresh, from the epoch's rng

Everything is vectorised over the batch, with one random draw per image from the ``rng`` given
(a ``np.random.Generator``): the same rng state gives the same images. Each output pixel is read
from the input at a moved position, by bilinear interpolation (outside the image is blank):

- affine: rotation by up to ``rotation`` degrees, slant (a horizontal shear) by up to ``slant``
  degrees, scale per axis in ``scale``, shift by up to ``shift`` pixels per axis, about the centre;
- elastic (if ``elastic`` > 0): smooth displacements of up to about ``elastic`` pixels, a random
  4x4 grid of offsets per image, interpolated over the image;
- thickness: the pen made thicker or thinner by up to ``thickness`` (1: a full grey-level dilation
  or erosion by the 3x3 cross), a random amount per image.

Values stay in the input's range (interpolation and max/min filters never leave it); the dtype is
kept.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SIDE = 28
CENTRE = (SIDE - 1) / 2
GRID = 4  # elastic: control points per side


def _interpolation_matrix(n_out, n_in):
    """(n_out, n_in) linear interpolation from n_in evenly spread control points to n_out pixels."""
    pos = np.linspace(0, n_in - 1, n_out)
    lo = np.minimum(np.floor(pos).astype(int), n_in - 2)
    w = pos - lo
    m = np.zeros((n_out, n_in))
    m[np.arange(n_out), lo] = 1 - w
    m[np.arange(n_out), lo + 1] = w
    return m


_ELASTIC = _interpolation_matrix(SIDE, GRID)


@dataclass(frozen=True)
class Augment:
    """Ranges of the random distortions (each drawn uniformly per image); zero everywhere is the
    identity. See the module doc."""

    rotation: float = 10.0  # degrees, either way
    slant: float = 15.0  # degrees of horizontal shear, either way
    scale: tuple = (0.8, 1.1)  # each axis scaled by a factor in this range
    shift: float = 2.0  # pixels, either way, per axis
    thickness: float = 0.6  # up to this fraction of a dilation (thicker) or erosion (thinner)
    elastic: float = 0.0  # pixels of smooth random displacement (0: off)

    def __post_init__(self):
        lo, hi = self.scale
        if not (0 < lo <= hi) or min(self.rotation, self.slant, self.shift, self.thickness, self.elastic) < 0:
            raise ValueError(f"impossible augmentation ranges: {self!r}")
        if self.slant >= 90 or self.thickness > 1:
            raise ValueError(f"slant must be under 90 degrees and thickness at most 1: {self!r}")

    @classmethod
    def none(cls):
        """No distortion at all (every range zero)."""
        return cls(rotation=0.0, slant=0.0, scale=(1.0, 1.0), shift=0.0, thickness=0.0, elastic=0.0)

    def __call__(self, x, rng):
        """x (N, 784) or (N, 28, 28) -> distorted copies, same shape and dtype."""
        x = np.asarray(x)
        if x.ndim not in (2, 3) or x.shape[1:] not in ((SIDE * SIDE,), (SIDE, SIDE)):
            raise ValueError(f"expected digits of shape (N, 784) or (N, 28, 28), got {x.shape}")
        dtype = x.dtype if x.dtype.kind == "f" else np.float32
        img = x.reshape(-1, SIDE, SIDE).astype(np.float32, copy=False)
        n = len(img)
        sy, sx = self._source_positions(n, rng)
        out = sample(img, sy, sx)
        if self.thickness:
            out = pen(out, rng.uniform(-self.thickness, self.thickness, n).astype(np.float32))
        return out.reshape(x.shape).astype(dtype, copy=False)

    def _source_positions(self, n, rng):
        """(sy, sx) (N, 28, 28) float32: where each output pixel reads the input."""
        rad = math.pi / 180
        angle = rng.uniform(-self.rotation, self.rotation, n) * rad
        shear = np.tan(rng.uniform(-self.slant, self.slant, n) * rad)
        ky, kx = rng.uniform(*self.scale, (2, n))
        ty, tx = rng.uniform(-self.shift, self.shift, (2, n))
        # forward map about the centre: scale, then slant (x += shear * y), then rotate
        c, s = np.cos(angle), np.sin(angle)
        a, b = c * kx, (c * shear - s) * ky  # row 1 of R @ Sh @ S (x from x, y)
        d, e = s * kx, (s * shear + c) * ky  # row 2
        det = a * e - b * d
        # its inverse takes an output pixel, less the centre and the shift, to the input pixel
        inverse = (np.stack([e, -b, -d, a]) / det).astype(np.float32)[:, :, None, None]  # (4, N, 1, 1)
        grid = np.arange(SIDE, dtype=np.float32) - np.float32(CENTRE)
        ox = grid[None, None, :] - tx.astype(np.float32)[:, None, None]  # (N, 1, 28)
        oy = grid[None, :, None] - ty.astype(np.float32)[:, None, None]  # (N, 28, 1)
        sx = inverse[0] * ox + inverse[1] * oy
        sy = inverse[2] * ox + inverse[3] * oy
        sx += np.float32(CENTRE)
        sy += np.float32(CENTRE)
        if self.elastic:
            grid = rng.uniform(-self.elastic, self.elastic, (2, n, GRID, GRID))
            field = (_ELASTIC @ grid @ _ELASTIC.T).astype(np.float32)  # (2, N, 28, 28), smooth
            sy += field[0]
            sx += field[1]
        return sy, sx


def sample(img, sy, sx):
    """Bilinear reads of img (N, H, W) at positions (sy, sx) (N, H, W); 0 outside the image."""
    n, h, w = img.shape
    pad = np.zeros((n, h + 3, w + 3), np.float32)  # blank: one row and column before, two after
    pad[:, 1:h + 1, 1:w + 1] = img
    sy, sx = np.clip(sy, -1, h), np.clip(sx, -1, w)  # positions outside read the blank border
    y0, x0 = np.floor(sy), np.floor(sx)
    wy, wx = sy - y0, sx - x0
    # flat index of (y0, x0) in the padded images: within an image in float32 (exact), then the image's start
    y0 += 1
    y0 *= w + 3
    y0 += x0
    base = y0.astype(np.intp)
    base += (np.arange(n, dtype=np.intp) * ((h + 3) * (w + 3)) + 1)[:, None, None]
    flat = pad.reshape(-1)
    top = flat[base]
    top += wx * (flat[1:][base] - top)
    bottom = flat[w + 3:][base]
    bottom += wx * (flat[w + 4:][base] - bottom)
    bottom -= top
    bottom *= wy
    top += bottom
    return top


def pen(img, amount):
    """Thicker (amount > 0) or thinner (< 0) strokes: img (N, H, W) moved towards its grey-level
    dilation or erosion by the 3x3 cross, by |amount| (N,) in [0, 1]."""
    out = img.copy()
    for grow in (True, False):
        which = np.flatnonzero(amount > 0 if grow else amount < 0)
        if len(which) == 0:
            continue
        part = img[which]
        pad = np.pad(part, ((0, 0), (1, 1), (1, 1)))
        op = np.maximum if grow else np.minimum
        moved = op(op(pad[:, :-2, 1:-1], pad[:, 2:, 1:-1]), op(pad[:, 1:-1, :-2], pad[:, 1:-1, 2:]))
        op(moved, part, out=moved)
        moved -= part
        moved *= np.abs(amount[which])[:, None, None].astype(moved.dtype)
        out[which] = part + moved
    return out
