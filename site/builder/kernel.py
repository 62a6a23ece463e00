"""The WebAssembly matrix-product kernel, assembled at build time into webnet's package data.

    assemble_kernel(ROOT / "webnet/kernels/webnet_matmul.so")   # build.py's wheel step, before the wheel

webnet/kernels/matmul.wat (the source, in git) -> webnet_matmul.so (build output, gitignored):
wabt's wat2wasm from npm (fetched once into cache/downloads/, sha512-checked every time), run by
assemble_kernel.js under Node, which also puts the empty ``dylink.0`` section in front that makes
the module a side module Pyodide's dynamic linker accepts. webnet.accel loads it in Pyodide.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from .common import ROOT, BuildError, log, run, sha256_file
from .fetch import npm_tarball

WABT_VERSION = "1.0.39"
# npm's dist.integrity of wabt@1.0.39 (`npm view wabt@1.0.39 dist.integrity`)
WABT_NPM_SHA512 = "ba+dRL/75VQQY7RkU/CgriGbkoWAfS8TDyUlJfJhJ8KhtXgMl5dhNvoPNUcQ9IWRhW8u41glMSuZeTvsYq2rRg=="
SOURCE = ROOT / "webnet" / "kernels" / "matmul.wat"
ASSEMBLER = Path(__file__).resolve().parent / "assemble_kernel.js"


def assemble_kernel(out_path, source=SOURCE):
    """Assemble ``source`` (WebAssembly text) into the side module ``out_path``; returns its path.
    Deterministic: the same source and wabt give the same bytes."""
    if shutil.which("node") is None:
        raise BuildError("node is not on PATH: the kernel is assembled with Node (install Node 18 or later)")
    out_path = Path(out_path)
    wabt = npm_tarball("wabt", WABT_VERSION, WABT_NPM_SHA512)
    run(["node", ASSEMBLER, "--wabt", wabt, "--wat", source, "--out", out_path])
    if not out_path.is_file():
        raise BuildError(f"assemble_kernel.js did not write {out_path}")
    log(f"{out_path.name}: {out_path.stat().st_size:,} bytes, sha256 {sha256_file(out_path)}")
    return out_path
