"""Browser test helpers: the built site or `panel serve`, Debian's chromium driven by Playwright,
and a record of console errors and of every request the page and its worker make."""
from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
    # Chromium's own background calls to Google hosts fail locally instead of leaving the machine
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
LOAD_TIMEOUT_MS = 90_000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_site(site_dir):
    """A thread serving ``site_dir`` with build.py's server; returns (url, server)."""
    sys.path.insert(0, str(ROOT))
    import build

    server = build.make_server(0, site_dir)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/", server


def panel_serve(app=ROOT / "site" / "app.py", timeout=120):
    """`panel serve` of the app on a free port; returns (url, process)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "panel", "serve", str(app), "--port", str(port),
                             "--address", "127.0.0.1", "--allow-websocket-origin", f"127.0.0.1:{port}"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("panel serve exited: " + proc.stdout.read().decode(errors="replace")[-2000:])
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return f"http://127.0.0.1:{port}/app", proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("panel serve did not start in time")


@dataclass
class Session:
    """One page in a fresh browser context, with what it logged and requested."""

    url: str
    page: object
    requests: list = field(default_factory=list)
    errors: list = field(default_factory=list)

    def foreign_requests(self):
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(self.url))
        return [u for u in self.requests if not (u.startswith(origin + "/") or u.startswith(("blob:", "data:")))]

    def wait_interactive(self, timeout=LOAD_TIMEOUT_MS):
        """Until the app has rendered and removed its loading spinner (both runtimes)."""
        self.page.wait_for_function(
            "() => document.querySelector('[data-root-id]') !== null "
            "&& !document.body.classList.contains('pn-loading') "
            "&& window.Bokeh !== undefined && Bokeh.index && Object.keys(Bokeh.index).length > 0",
            timeout=timeout)


def open_session(browser, url):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    session = Session(url, None)
    context.on("request", lambda r: session.requests.append(r.url))
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and session.errors.append(m.text))
    page.on("pageerror", lambda e: session.errors.append(f"page error: {e}"))
    session.page = page
    page.goto(url)
    return session
