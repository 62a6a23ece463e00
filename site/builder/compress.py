"""The compress step: brotli and gzip copies of the site's text and wasm files, for the server to
send to browsers that accept them (wheels and zips are deflated already and are sent as they are)."""
from __future__ import annotations

import gzip

from .common import SITE, log

COMPRESSIBLE = {".html", ".js", ".mjs", ".css", ".json", ".wasm", ".svg", ".txt", ".webmanifest"}


def compress_site():
    import brotli

    n = 0
    for path in sorted(SITE.rglob("*")):
        if path.suffix not in COMPRESSIBLE or not path.is_file():
            continue
        data = path.read_bytes()
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(data, 9, mtime=0))
        path.with_name(path.name + ".br").write_bytes(brotli.compress(data, quality=11))
        n += 1
    log(f"precompressed {n} files (brotli, gzip)")
