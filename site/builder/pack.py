"""The wheels the page's loader fetches, hosted as one brotli stream each (``<wheel>.brotli``).

A wheel's members are deflated one by one; the same wheel with its members stored, then compressed
as a whole with brotli (quality 11, a 16 MB window), is about 30% smaller: the page's 10.1 MB of
wheels are 7.2 MB on a first visit, whatever the host (the page decodes them itself,
site/page/wheels.js, so no server setting is needed). The decoded bytes are the stored wheel, a
valid wheel of its own. Brotli at quality 11 is slow (numpy: about 25 s), so each result is cached
by the wheel's content in cache/pack/.
"""
from __future__ import annotations

import io
import shutil
import zipfile

from .common import CACHE, log, sha256_file

QUALITY, WINDOW = 11, 24
SUFFIX = ".brotli"


def stored(wheel):
    """The bytes of ``wheel`` with every member stored (not deflated), names and order unchanged."""
    out = io.BytesIO()
    with zipfile.ZipFile(wheel) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info), compress_type=zipfile.ZIP_STORED)
    return out.getvalue()


def pack(wheel):
    """Replace ``wheel`` by ``<wheel>.brotli``; returns the new path."""
    import brotli

    target = wheel.with_name(wheel.name + SUFFIX)
    if not wheel.exists() and target.exists():  # packed already (the lock step run again)
        return target
    key = CACHE / "pack" / f"{sha256_file(wheel)[:16]}-q{QUALITY}w{WINDOW}-{wheel.name}{SUFFIX}"
    if not key.exists():
        key.parent.mkdir(parents=True, exist_ok=True)
        key.write_bytes(brotli.compress(stored(wheel), quality=QUALITY, lgwin=WINDOW))
    shutil.copy2(key, target)
    log(f"packed {wheel.name}: {wheel.stat().st_size / 1e6:.2f} -> {target.stat().st_size / 1e6:.2f} MB")
    wheel.unlink()
    return target
