"""Digits drawn the way people draw them on the lab's pad: a test set webnet makes itself.

    X, y = drawn.digits()          # (600, 784) float32 in [0, 1], labels (600,): the default set
    alpha = drawn.draw(7, "crossbar", rng)   # one (280, 280) uint8 canvas, ink in alpha

MNIST's writers wrote on paper with a pen; the pad's users draw with a mouse, a finger or a stylus:
thicker strokes, bigger or smaller, anywhere on the canvas, more slanted, and in styles MNIST has
few of (a 1 with a flag and a foot, a crossed 7, an open 4). Each digit here has several
styles (``STYLES``): strokes in the order and direction a hand draws them, as key points in a box
of height 1 (x to the right, y down), joined by straight lines or smooth curves. Each drawing picks
a size and a place on the 280 x 280 canvas, slants it by up to 15 degrees, makes it narrow or
wide, tilts it a little, and lets the hand wobble; then it is rendered like the pad (round caps and
joins, width round(280 / 12) = 23 px, antialiased, the ink in the alpha channel) and goes through
``webnet.preprocess`` exactly as the page's drawings do. Everything comes from one seed.
"""
from __future__ import annotations

import math

import numpy as np

from .preprocess import preprocess

SIZE = 280
WIDTH = round(SIZE / 12)  # the pad's line width
SEED = 20261129
PER_DIGIT = 60


def _curve(points, n=12):
    """A smooth stroke through ``points`` (Catmull-Rom, centripetal ends clamped): (k, 2)."""
    p = np.asarray(points, float)
    p = np.vstack([p[0], p, p[-1]])
    t = np.linspace(0, 1, n, endpoint=False)[:, None]
    out = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        out.append(0.5 * (2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t ** 2
                          + (3 * p1 - p0 - 3 * p2 + p3) * t ** 3))
    return np.vstack(out + [p[-2][None]])


def _arc(cx, cy, rx, ry, start, end, n=48):
    """Points on an ellipse from angle ``start`` to ``end`` (degrees; 0 is to the right, 90 down)."""
    a = np.radians(np.linspace(start, end, n))
    return np.stack([cx + rx * np.cos(a), cy + ry * np.sin(a)], axis=1)


def _line(*points):
    return np.asarray(points, float)


def _join(*pieces):
    return np.vstack(pieces)


FIVE_BELLY = [(0.08, 0.46), (0.5, 0.36), (0.92, 0.58), (0.85, 0.9), (0.45, 1.0), (0.02, 0.86)]
# digit -> {style: (aspect (width / height), [strokes])}; strokes as drawn, in a box of height 1
STYLES = {
    0: {"oval": (0.62, [_arc(0.5, 0.5, 0.5, 0.5, -80, -440)]),
        "round": (0.85, [_arc(0.5, 0.5, 0.5, 0.5, -100, -455)]),
        "from_the_right": (0.7, [_arc(0.5, 0.5, 0.5, 0.5, -20, 345)])},
    1: {"plain": (0.12, [_line((0.5, 0.0), (0.5, 1.0))]),
        "flag": (0.3, [_line((0.1, 0.26), (0.75, 0.0), (0.75, 1.0))]),
        "flag_and_foot": (0.6, [_line((0.15, 0.25), (0.55, 0.0), (0.55, 1.0)), _line((0.1, 1.0), (1.0, 1.0))])},
    2: {"curved": (0.7, [_join(_curve([(0.05, 0.28), (0.35, 0.02), (0.78, 0.05), (0.92, 0.32), (0.65, 0.62),
                                       (0.03, 1.0)]), _line((0.03, 1.0), (1.0, 0.98)))]),
        "loop": (0.7, [_curve([(0.05, 0.25), (0.4, 0.02), (0.85, 0.12), (0.82, 0.42), (0.45, 0.76), (0.1, 0.97),
                               (0.02, 0.82), (0.2, 0.76), (0.38, 0.93), (0.98, 0.97)])]),
        "straight": (0.7, [_join(_curve([(0.05, 0.22), (0.5, 0.0), (0.95, 0.22)]),
                                 _line((0.95, 0.22), (0.05, 1.0), (1.0, 1.0)))])},
    3: {"round": (0.65, [_join(_curve([(0.05, 0.12), (0.5, 0.0), (0.9, 0.14), (0.82, 0.38), (0.4, 0.48)]),
                               _curve([(0.4, 0.48), (0.88, 0.58), (0.95, 0.84), (0.5, 1.0), (0.02, 0.86)]))]),
        "flat_top": (0.65, [_join(_line((0.05, 0.0), (0.9, 0.0), (0.4, 0.42)),
                                  _curve([(0.4, 0.42), (0.88, 0.55), (0.95, 0.82), (0.5, 1.0), (0.02, 0.86)]))])},
    4: {"open": (0.72, [_line((0.18, 0.0), (0.05, 0.62), (1.0, 0.62)), _line((0.75, 0.05), (0.75, 1.0))]),
        "closed": (0.75, [_line((0.68, 0.0), (0.0, 0.66), (1.0, 0.66)), _line((0.68, 0.0), (0.68, 1.0))])},
    5: {"flag": (0.68, [_join(_line((0.14, 0.02), (0.08, 0.46)), _curve(FIVE_BELLY)),
                        _line((0.14, 0.02), (0.95, 0.02))]),
        "one_stroke": (0.68, [_join(_line((0.95, 0.0), (0.14, 0.0), (0.08, 0.46)), _curve(FIVE_BELLY))])},
    6: {"curved": (0.68, [_curve([(0.82, 0.04), (0.38, 0.16), (0.08, 0.58), (0.2, 0.92), (0.55, 1.0), (0.9, 0.78),
                                  (0.75, 0.52), (0.38, 0.5), (0.1, 0.68)])]),
        "straight": (0.62, [_join(_line((0.75, 0.0), (0.15, 0.62)),
                                  _curve([(0.15, 0.62), (0.2, 0.94), (0.6, 1.0), (0.9, 0.76), (0.6, 0.5),
                                          (0.18, 0.64)]))])},
    7: {"plain": (0.7, [_line((0.0, 0.04), (1.0, 0.04), (0.38, 1.0))]),
        "crossbar": (0.7, [_line((0.0, 0.04), (1.0, 0.04), (0.38, 1.0)), _line((0.3, 0.52), (0.92, 0.52))]),
        "curved": (0.7, [_join(_line((0.0, 0.04), (1.0, 0.04)), _curve([(1.0, 0.04), (0.62, 0.45), (0.45, 1.0)]))])},
    8: {"one_stroke": (0.62, [_curve([(0.88, 0.14), (0.5, 0.0), (0.12, 0.16), (0.3, 0.4), (0.75, 0.6), (0.88, 0.85),
                                      (0.5, 1.0), (0.12, 0.85), (0.25, 0.6), (0.7, 0.38), (0.88, 0.14)])]),
        "two_loops": (0.65, [_arc(0.5, 0.25, 0.36, 0.25, 90, -270), _arc(0.5, 0.74, 0.5, 0.26, -90, 270)])},
    9: {"straight_tail": (0.62, [_join(_arc(0.5, 0.3, 0.5, 0.3, 10, -350), _line((1.0, 0.3), (0.95, 1.0)))]),
        "curved_tail": (0.62, [_join(_arc(0.5, 0.3, 0.5, 0.3, 10, -350),
                                     _curve([(1.0, 0.3), (0.95, 0.72), (0.6, 1.0), (0.15, 0.92)]))])},
}


def _wobble(points, rng, amount):
    """A hand's wobble: a slow random drift along the stroke plus a little tremor."""
    t = np.linspace(0, 1, len(points))[:, None]
    drift = sum(rng.uniform(-1, 1, 2) * np.sin(2 * math.pi * (f * t + rng.random())) for f in (0.5, 1.3))
    return points + amount * drift + rng.normal(0, amount / 6, points.shape)


def render(strokes, size=SIZE, width=WIDTH):
    """Polylines (lists of (x, y) canvas points) -> (size, size) uint8 alpha: round caps and joins,
    ``width`` pixels wide, antialiased over one pixel (the distance to the nearest segment)."""
    r = width / 2
    dist = np.full((size, size), np.inf, np.float32)
    for pts in strokes:
        pts = np.asarray(pts, np.float32)
        a, b = (pts[:-1], pts[1:]) if len(pts) > 1 else (pts, pts)
        for (ax, ay), (bx, by) in zip(a, b):
            x0, x1 = int(max(0, min(ax, bx) - r - 1)), int(min(size, max(ax, bx) + r + 2))
            y0, y1 = int(max(0, min(ay, by) - r - 1)), int(min(size, max(ay, by) + r + 2))
            if x0 >= x1 or y0 >= y1:
                continue
            px = np.arange(x0, x1, dtype=np.float32)[None, :] + 0.5 - ax  # pixel centres
            py = np.arange(y0, y1, dtype=np.float32)[:, None] + 0.5 - ay
            dx, dy = bx - ax, by - ay
            t = np.clip((px * dx + py * dy) / max(dx * dx + dy * dy, 1e-12), 0, 1)
            d = np.hypot(px - t * dx, py - t * dy)
            np.minimum(dist[y0:y1, x0:x1], d, out=dist[y0:y1, x0:x1])
    return (255 * np.clip(r + 0.5 - dist, 0, 1)).round().astype(np.uint8)


def draw(digit, style, rng, size=SIZE):
    """One drawing of ``digit`` in ``style`` with random size, place, slant, width and wobble:
    (size, size) uint8, ink in alpha, as the pad sends it."""
    aspect, strokes = STYLES[digit][style]
    height = rng.uniform(0.35, 0.85) * size
    width = height * aspect * rng.uniform(0.75, 1.3)
    slant = math.tan(math.radians(rng.uniform(-15, 15)))  # x moves right going up when positive
    tilt = math.radians(rng.uniform(-6, 6))
    c, s = math.cos(tilt), math.sin(tilt)
    placed = []
    for pts in strokes:
        x = (pts[:, 0] - 0.5) * width + slant * (0.5 - pts[:, 1]) * height
        y = (pts[:, 1] - 0.5) * height
        placed.append(np.stack([c * x - s * y, s * x + c * y], axis=1))
    lo = np.min([p.min(axis=0) for p in placed], axis=0) - WIDTH
    hi = np.max([p.max(axis=0) for p in placed], axis=0) + WIDTH
    room = np.maximum(size - (hi - lo), 0)
    offset = -lo + rng.uniform(0, 1, 2) * room
    return render([_wobble(p + offset, rng, 0.015 * height) for p in placed], size)


def digits(n_per_digit=PER_DIGIT, seed=SEED):
    """The drawn test set: (X (10 * n_per_digit, 784) float32 as the page preprocesses them, labels
    (10 * n_per_digit,) int64), the styles of each digit taken in turn, from ``seed``."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for digit in range(10):
        styles = list(STYLES[digit])
        for i in range(n_per_digit):
            images.append(preprocess(draw(digit, styles[i % len(styles)], rng)).x[0])
            labels.append(digit)
    return np.stack(images), np.array(labels, np.int64)
