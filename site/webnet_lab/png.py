"""Grayscale PNG images of arrays, as data: URIs for HTML panes.

Written here rather than taken from Pillow: the page would download 1.2 MB more and start about
0.3 s later for these few lines (tests/test_app.py reads the result back with Pillow).
"""
from __future__ import annotations

import base64
import struct
import zlib

import numpy as np


def png_bytes(gray):
    """An 8-bit grayscale PNG of a (H, W) uint8 array."""
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


def tile_grid(tiles, cols):
    """(k, h, w) tiles in [0, 1] -> one image with a 1-pixel gap (value 0) between them."""
    k, h, w = tiles.shape
    rows = -(-k // cols)
    grid = np.zeros((rows * (h + 1) + 1, cols * (w + 1) + 1))
    for i, tile in enumerate(tiles):
        r, c = divmod(i, cols)
        grid[1 + r * (h + 1):1 + r * (h + 1) + h, 1 + c * (w + 1):1 + c * (w + 1) + w] = tile
    return grid
