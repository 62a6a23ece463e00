#!/usr/bin/env python3
"""Build, check, serve, test and benchmark the webnet lab: a self-hosted static site.

    python3 build.py serve           build what changed, then serve the lab and print its URL
    python3 build.py test            install what the tests need (Debian's chromium too), build, run every test
    python3 build.py bench [--quick] the side-by-side benchmarks (docs/benchmarks.md)
    python3 build.py serve --lan     the same for a classroom: every device on this network (a QR code of the URL)
    python3 build.py dist            dist/webnet-lab.zip: the built site for a USB stick or an intranet
    python3 build.py STEP [STEP ...] run steps alone: wheel fetch site optimize lock check compress
                                     (build = all of these, in this order), env, clean

Runs with the standard library alone: the env step makes a virtual environment in .venv/ with the
project's test extra (Panel, Playwright, pyodide-lock ...), the lab (site/) and the same patched
bokeh as the page, then re-runs this script inside it. Every download goes through pip or npm into
cache/ and is verified by sha256 (sha512 for npm tarballs, as npm records it); a mismatch stops
the build naming the file and both hashes. With a warm cache a rebuild makes no network call.
The output, dist/site/, works from any static host (not from file://: the page runs Python in a
web worker, which needs http). The helpers live in site/builder/, one module per concern.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "site"))

from builder import check, compress, fetch, kernel, lock, page, pins, pyc, serve, vendor, wheels  # noqa: E402
from builder.common import DIST, LAB, SITE, VENV, WHEELS, BuildError, log, run, sha256_file  # noqa: E402

WHEEL_BUDGET = 3_000_000  # bytes: webnet's wheel (code, the MNIST subset, the pretrained model)
INPUTS = ("webnet", "site", "pyproject.toml", "build.py")  # what a build is made from (see build_inputs)


# -- env ---------------------------------------------------------------------------------------
def venv_python():
    return VENV / "bin" / "python"


def in_venv():
    return Path(sys.prefix).resolve() == VENV.resolve()


def step_env():
    """Create .venv/ with webnet and its test extra, the lab (editable), the page's pure-Python
    stack at the same pins and the page's patched bokeh (skipped when nothing it installs changed)."""
    stamp = VENV / ".webnet-installed"
    pinned = repr((sorted(pins.PURE_WHEELS), sorted(pins.SDISTS), [wheels.PATCHES[p] for p in wheels.VENV_PATCHED], vendor.PACKAGES)).encode()
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + (LAB / "pyproject.toml").read_bytes()
                          + pinned).hexdigest()
    vendor.vendor_lab()  # the lab's components' JavaScript, before the lab is installed or run
    if stamp.exists() and stamp.read_text() == want:
        return
    if not venv_python().exists():
        run([sys.executable, "-m", "venv", VENV])
    pip = [venv_python(), "-m", "pip", "install", "--quiet"]
    run([*pip, "--upgrade", "pip"])
    run([*pip, "-e", f"{ROOT}[test]", "-e", LAB])
    run([*pip, *(fetch.spec_of(f) for f in (*pins.PURE_WHEELS, *pins.SDISTS))])
    # bokeh as the page runs it (site/builder/wheels.py, VENV_PATCHED): panel serve and the tests too
    run([*pip, "--no-deps", "--force-reinstall", *wheels.patched_wheels()])
    stamp.write_text(want)


# -- build steps -------------------------------------------------------------------------------
def step_wheel():
    """webnet's wheel and the lab's (py3-none-any) into dist/wheels/, reproducibly (SOURCE_DATE_EPOCH)."""
    shutil.rmtree(WHEELS, ignore_errors=True)
    vendor.vendor_lab()
    kernel.assemble_kernel(ROOT / "webnet" / "kernels" / "webnet_matmul.so")  # package data of webnet's wheel
    env = dict(os.environ, SOURCE_DATE_EPOCH="315532800")  # 1980-01-01: no date inside the wheels
    for project in (ROOT, LAB):
        run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", WHEELS,
             project], env=env)
    (wheel,) = WHEELS.glob("webnet-*-py3-none-any.whl")
    if wheel.stat().st_size > WHEEL_BUDGET:
        raise BuildError(f"{wheel.name} is {wheel.stat().st_size:,} bytes, over the {WHEEL_BUDGET:,}-byte budget")
    for built in sorted(WHEELS.glob("*.whl")):
        log(f"{built.name}: {built.stat().st_size:,} bytes, sha256 {sha256_file(built)}")


def step_fetch():
    """Download (once) and verify every artifact into cache/downloads/."""
    fetch.fetch_all()


def step_site():
    """Lay out dist/site/: Pyodide, the wheels (slimmed, bokeh patched), BokehJS, Panel's dist,
    and the page's own files (site/page/) filled in."""
    page.lay_out()


def step_optimize():
    """Compile every hosted wheel and the stdlib to .pyc with Pyodide's own Python under Node."""
    pyc.compile_site()


def step_lock():
    """Write pyodide/pyodide-lock.json covering exactly the hosted wheels."""
    lock.write_lock()


def step_check():
    """No reference to another host, no missing file, every wheel as locked; write SHA256SUMS."""
    check.check_site()


def step_compress():
    """Precompress text and wasm (brotli, gzip) for the server."""
    compress.compress_site()


BUILD = (step_wheel, step_fetch, step_site, step_optimize, step_lock, step_check, step_compress)


def build_inputs():
    """A hash of every file a build is made from (INPUTS, without caches)."""
    h = hashlib.sha256()
    for top in INPUTS:
        paths = [ROOT / top] if (ROOT / top).is_file() else sorted((ROOT / top).rglob("*"))
        for path in paths:
            if path.is_file() and "__pycache__" not in path.parts and ".egg-info" not in str(path):
                h.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def step_build():
    """All build steps in order: wheel fetch site optimize lock check compress."""
    for step in BUILD:
        step()
    (DIST / "inputs.sha256").write_text(build_inputs())


def ensure_built():
    """Build unless dist/site was built from the sources as they are."""
    stamp = DIST / "inputs.sha256"
    if not (SITE / "SHA256SUMS").exists() or not stamp.exists() or stamp.read_text() != build_inputs():
        step_build()


def step_serve(port=8000, lan=False):
    """Rebuild if any source changed since the last build, then serve dist/site until Ctrl-C; with
    --lan, to every device on this machine's networks (printing their URLs and a QR code)."""
    ensure_built()
    server = serve.make_server(port, host="0.0.0.0" if lan else "127.0.0.1")
    port = server.server_address[1]
    if lan:
        from builder import lan as lan_

        urls = [f"http://{address}:{port}/" for address in lan_.addresses()]
        print(lan_.WARNING, flush=True)
        if not urls:
            print("No network address found: is this machine on the room's network (Wi-Fi, cable, a hotspot)?")
        for url in urls:
            print(f"webnet lab: {url}")
        if urls:
            print(f"Scan to open {urls[0]}:\n{lan_.terminal_qr(urls[0])}", flush=True)
    print(f"webnet lab: http://127.0.0.1:{port}/  (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


PORTABLE = DIST / "webnet-lab.zip"
PORTABLE_README = """webnet lab: a neural-network lab that runs in the browser, in Python, offline.

This folder is the whole lab. Browsers run it only over http (not from file://), so serve it:

  - from this folder, with Python:   python3 -m http.server 8000
    then open http://127.0.0.1:8000/ (add --bind 0.0.0.0 to let the room's devices in:
    they open http://THIS-COMPUTER'S-ADDRESS:8000/)
  - or copy the folder to any static web host (a school intranet, GitHub Pages): nothing to install.

After one visit over https or from localhost, a browser keeps the lab and opens it without the
network. SHA256SUMS lists every file with its sha256 (sha256sum -c SHA256SUMS checks them).
"""


def step_dist():
    """One zip of the built site (dist/webnet-lab.zip) for a USB stick or an intranet: the files of
    SHA256SUMS, SHA256SUMS itself, sw.js and a short READ-ME.txt on serving it."""
    import zipfile

    ensure_built()
    names = [line.split("  ", 1)[1] for line in (SITE / "SHA256SUMS").read_text().splitlines()]
    with zipfile.ZipFile(PORTABLE, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name in ["READ-ME.txt", "SHA256SUMS", "sw.js", *names]:
            info = zipfile.ZipInfo(f"webnet-lab/{name}", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, PORTABLE_README.encode() if name == "READ-ME.txt" else (SITE / name).read_bytes())
    log(f"{PORTABLE}: {len(names) + 3} files, {PORTABLE.stat().st_size / 1e6:.1f} MB")


# -- test, bench, clean ------------------------------------------------------------------------
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


def step_bench(quick=False):
    """Run the side-by-side benchmarks and write docs/benchmarks.md."""
    code = subprocess.call([sys.executable, str(ROOT / "bench" / "run.py")] + (["--quick"] if quick else []),
                           cwd=ROOT)
    if code:
        raise SystemExit(code)


def step_clean():
    """Remove dist/ (the cache stays)."""
    shutil.rmtree(DIST, ignore_errors=True)


STEPS = {"env": step_env, "wheel": step_wheel, "fetch": step_fetch, "site": step_site, "optimize": step_optimize,
         "lock": step_lock, "check": step_check, "compress": step_compress, "build": step_build,
         "dist": step_dist, "serve": step_serve, "test": step_test, "bench": step_bench, "clean": step_clean}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("steps", nargs="+", choices=list(STEPS), metavar="STEP")
    p.add_argument("--port", type=int, default=8000, help="serve: the port (0 picks a free one)")
    p.add_argument("--lan", action="store_true",
                   help="serve: to this machine's networks too (a classroom's devices), not only to itself")
    p.add_argument("--quick", action="store_true", help="bench: the short version CI runs")
    args, rest = p.parse_known_args(argv)
    try:
        if not in_venv():
            step_env()
            os.execv(venv_python(), [str(venv_python()), str(Path(__file__).resolve()), *(argv or sys.argv[1:])])
        for name in args.steps:
            if name == "serve":
                step_serve(args.port, args.lan)
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
