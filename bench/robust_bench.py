"""Big input, measured (#17): 10000 x 10000 images through webnet.preprocess and the CLI's predict
(required: under 1 s and 300 MB), and build.py serve's server under 100 clients at once (required:
no request over 1 s). The tests assert what these inputs give and their memory; the times are here."""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

from webnet.preprocess import preprocess

SIDE = 10000

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
# the child process the test of the same PNG runs: its peak RSS (VmHWM) above where it started
from test_lib_images import CHILD  # noqa: E402



def _ink():
    """A 10000 x 10000 uint8 image, a thick ring of ink on white."""
    y, x = np.ogrid[:SIDE, :SIDE]
    r = np.hypot(y - SIDE / 2, (x - SIDE / 2) * 1.4)
    return np.where((r > 2500) & (r < 3300), 0, 255).astype(np.uint8)


def _array(kind, img):
    a = img if kind == "uint8" else np.dstack([img, img, img, np.full_like(img, 255)])
    tracemalloc.start()
    start = time.perf_counter()
    preprocess(a)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"seconds": seconds, "peak_mb": peak / 2 ** 20}


def images():
    from PIL import Image

    img = _ink()
    out = {"uint8 array": _array("uint8", img), "RGBA array": _array("rgba", img)}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.png"
        Image.fromarray(img).save(path)
        del img
        r = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, timeout=300)
        grew, seconds, code = r.stderr.strip().splitlines()[-1].split()
        out["PNG through `python -m webnet predict`"] = {"seconds": float(seconds), "peak_mb": float(grew),
                                                         "exit": int(code)}
    return out


if __name__ == "__main__":
    print(json.dumps(images(), indent=1))
