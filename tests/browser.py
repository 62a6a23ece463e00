"""Browser test helpers: the built site or `panel serve`, Debian's chromium driven by Playwright,
and a record of console errors and of every request the page and its worker make."""
from __future__ import annotations

import socket
import subprocess
import sys
import threading
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


def serve_site(site_dir, handler_class=None):
    """A thread serving ``site_dir`` with build.py's server (or ``handler_class``, a subclass of
    its handler); returns (url, server)."""
    sys.path.insert(0, str(ROOT / "site"))
    from builder.serve import make_server

    server = make_server(0, site_dir, handler_class)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/", server


def panel_serve(app=ROOT / "site" / "app.py", timeout=120):
    """`panel serve` of the app on a free port; returns (url, process)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "panel", "serve", str(app), "--port", str(port),
                             "--address", "127.0.0.1", "--allow-websocket-origin", f"127.0.0.1:{port}"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT)
    # it says when it listens ("Bokeh app running at: ..."); its output, read on a thread, until then
    ready, said = threading.Event(), []

    def read():
        for line in proc.stdout:
            said.append(line.decode(errors="replace"))
            if "running at" in said[-1]:
                ready.set()
        ready.set()  # it exited

    threading.Thread(target=read, daemon=True).start()  # (and on, so that its output never blocks it)
    if ready.wait(timeout) and any("running at" in line for line in said):
        return f"http://127.0.0.1:{port}/app", proc
    proc.kill()
    raise RuntimeError("panel serve did not start in time: " + "".join(said)[-2000:])


@dataclass
class Session:
    """One page in a fresh browser context, with what it logged and requested."""

    url: str
    page: object
    requests: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    logs: list = field(default_factory=list)

    def foreign_requests(self):
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(self.url))
        return [u for u in self.requests if not (u.startswith(origin + "/") or u.startswith(("blob:", "data:")))]

    def watch(self, page):
        """Record what ``page`` logs and its errors here; it becomes the session's page."""
        # Python exceptions in the worker's callbacks reach the console as warnings: count them too
        page.on("console", lambda m: (self.logs.append(f"{m.type}: {m.text}"),
                                      (m.type == "error" or "Traceback" in m.text or "Unhandled exception" in m.text)
                                      and self.errors.append(m.text)))
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page = page
        return page

    def wait_interactive(self, timeout=LOAD_TIMEOUT_MS):
        """Until the app has rendered and removed its loading spinner (both runtimes); returns the
        seconds from the start of the navigation, by the page's own clock (checked every 10 ms)."""
        ms = self.page.wait_for_function(
            "() => document.querySelector('[data-root-id], #webnet-roots > div') !== null "
            "&& !document.body.classList.contains('pn-loading') "
            "&& window.Bokeh !== undefined && Bokeh.index && Object.keys(Bokeh.index).length > 0 "
            "&& performance.now()",
            timeout=timeout, polling=10).json_value()
        return ms / 1000


def open_session(browser, url, has_touch=False, service_workers="block"):
    """A new context and page at ``url``. Service workers are blocked unless asked for ("allow"):
    the page is then as on a first visit, and no test pays for keeping the site for offline use
    (tests/test_offline.py tests that)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, has_touch=has_touch,
                                  service_workers=service_workers)
    session = Session(url, None)
    context.on("request", lambda r: session.requests.append(r.url))
    session.watch(context.new_page())
    session.page.goto(url)
    return session


# -- acting on the lab ------------------------------------------------------------------------------
# the text of an element and of its shadow root (Panel's panes keep theirs there), without the
# stylesheets those roots also hold
TEXT = """e => {
  const read = (root) => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, { acceptNode: (n) =>
      n.parentElement && n.parentElement.closest("style") ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT })
    let text = ""
    while (walker.nextNode()) text += walker.currentNode.nodeValue
    return text
  }
  return (e.shadowRoot ? read(e.shadowRoot) : "") + read(e)
}"""
WAIT_MS = 60_000


def text(page, css):
    """The text of the first element matching ``css``, including its shadow root (Panel panes)."""
    return page.locator(css).first.evaluate(TEXT)


def wait_text(page, css, pattern, timeout=WAIT_MS):
    """Until the first element matching ``css`` contains ``pattern`` (a string or a compiled regular
    expression; Playwright retries); returns its text."""
    from playwright.sync_api import expect

    expect(page.locator(css).first).to_contain_text(pattern, timeout=timeout)
    return text(page, css)


def open_tab(page, name):
    page.locator(".bk-tab").filter(has_text=name).first.click()


def slider(page, maximum, keys):
    """Press ``keys`` on the slider handle whose maximum is ``maximum`` (noUiSlider keyboard)."""
    handle = page.locator(f".noUi-handle[aria-valuemax='{float(maximum)}']").first
    handle.focus()
    for key in keys:
        page.keyboard.press(key)
    return handle


def stroke(page, points, touch=False, moves=10):
    """Draw a stroke through ``points`` (fractions of the pad) with the mouse or with touch events,
    ``moves`` moves per segment."""
    pad = page.locator("canvas.webnet-pad")
    pad.scroll_into_view_if_needed()  # (as a user would: a click below may have scrolled it away)
    box = pad.bounding_box()
    xy = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    path = xy[:1] + [(a[0] + (b[0] - a[0]) * k / moves, a[1] + (b[1] - a[1]) * k / moves)
                     for a, b in zip(xy, xy[1:]) for k in range(1, moves + 1)]
    if not touch:
        page.mouse.move(*path[0])
        page.mouse.down()
        for x, y in path[1:]:
            page.mouse.move(x, y)
        page.mouse.up()
        return
    cdp = page.context.new_cdp_session(page)

    def touch_event(kind, x=None, y=None):
        touches = [] if x is None else [{"x": x, "y": y, "id": 1, "radiusX": 2, "radiusY": 2, "force": 1}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": touches})
    touch_event("touchStart", *path[0])
    for x, y in path[1:]:
        touch_event("touchMove", x, y)
    touch_event("touchEnd")
    cdp.detach()


def strokes_drawn(page):
    """The pad's own count of strokes (the answer to the last may still be on its way)."""
    return int(page.locator("canvas.webnet-pad").first.get_attribute("data-strokes") or 0)


def draw(page, strokes, touch=False, timeout=WAIT_MS, moves=10):
    """Draw ``strokes`` (each a list of points) and wait until the page shows the answer to the
    last one; returns the prediction's text."""
    from playwright.sync_api import expect

    first = strokes_drawn(page)
    for points in strokes:
        stroke(page, points, touch, moves)
    expect(page.locator(f".prediction [data-answer='{first + len(strokes)}']")).to_have_count(1, timeout=timeout)
    return text(page, ".prediction")


def status_numbers(page):
    """(epoch, batch) from the training status line."""
    import re

    t = text(page, ".train-status")
    m = re.search(r"epoch (\d+)/\d+ · batch (\d+)/", t)
    return (int(m.group(1)), int(m.group(2))) if m else None


PASTE = """([el, text]) => {
  el.focus()
  const range = document.createRange()
  range.selectNodeContents(el)
  const selection = el.getRootNode().getSelection ? el.getRootNode().getSelection() : window.getSelection()
  selection.removeAllRanges()
  selection.addRange(range)
  const data = new DataTransfer()
  data.setData("text/plain", text)
  el.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }))
}"""


def paste_code(page, text):
    """Replace the Exercises editor's code with ``text`` as a student pasting it would."""
    from playwright.sync_api import expect

    code = page.locator(".webnet-code[data-ready='true']")
    expect(code).to_have_count(1, timeout=WAIT_MS)
    page.evaluate(PASTE, [code.element_handle(), text])


def check_layer(page):
    """Press Check my layer and wait for the answer; returns the verdicts of the table's rows."""
    from playwright.sync_api import expect

    result = page.locator(".check-result[data-checks]").first
    before = int(result.get_attribute("data-checks"))
    page.get_by_role("button", name="Check my layer").click()
    expect(page.locator(f".check-result[data-checks='{before + 1}']")).to_have_count(1, timeout=WAIT_MS)
    return page.locator("td.verdict").evaluate_all("cells => cells.map(c => c.dataset.verdict)")


def train_one_short_epoch(page):
    """Train one epoch on 2,000 digits from the Train tab; returns the test accuracy it shows."""
    import re

    slider(page, 10000, ["Home", "ArrowRight"])  # 2,000 training digits
    slider(page, 30, ["Home"])  # 1 epoch
    wait_text(page, ".train-status", re.compile(r"epoch 1/1 · batch 0/63"))
    page.get_by_role("button", name="Start").click()
    t = wait_text(page, ".test-accuracy", re.compile(r"Test accuracy: 0\.\d+"), timeout=120_000)
    return float(re.search(r"Test accuracy: (0\.\d+)", t).group(1))


def choose(page, label, value):
    """Pick ``value`` (its text) in the select labelled ``label``."""
    page.get_by_label(label, exact=True).select_option(label=str(value))
