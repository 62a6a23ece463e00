"""Run kernel_pyodide.py in headless Chromium, in a web worker (the lab's setting), and print it.

    .venv/bin/python bench/wasm/kernel_browser.py PYODIDE_DIR webnet_matmul.so [REPEATS]

Serves a temporary folder on 127.0.0.1 holding the Pyodide runtime (linked), the kernel, webnet's
files, kernel_pyodide.py and kernel_worker.js; Chromium is Debian's (/usr/bin/chromium).
"""
import functools
import http.server
import shutil
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--headless", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]


class Handler(http.server.SimpleHTTPRequestHandler):
    """Cross-origin isolated (COOP + COEP), so that performance.now() ticks in 5 us, not 100 us."""

    def end_headers(self):
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        super().end_headers()

    def log_message(self, *args):
        pass


def main(pyodide_dir, kernel, repeats="30"):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "pyodide").symlink_to(Path(pyodide_dir).resolve())
        shutil.copy(kernel, folder / "webnet_matmul.so")
        for name in ("kernel_pyodide.py", "kernel_worker.js"):
            shutil.copy(HERE / name, folder / name)
        files = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "webnet").rglob("*")
                       if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".so")
        shutil.copytree(ROOT / "webnet", folder / "webnet", ignore=shutil.ignore_patterns("__pycache__"))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=tmp))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{server.server_address[1]}/")
                result = page.evaluate("""([repeats, files]) => new Promise((resolve) => {
                    const worker = new Worker("./kernel_worker.js");
                    worker.onmessage = (event) => resolve(event.data);
                    worker.postMessage({ repeats, files });
                })""", [repeats, files])
                print(f"Chromium {browser.version}, crossOriginIsolated: {page.evaluate('crossOriginIsolated')}")
                browser.close()
        finally:
            server.shutdown()
    if "error" in result:
        raise SystemExit(result["error"])
    print("\n".join(result["lines"]))


if __name__ == "__main__":
    main(*sys.argv[1:])
