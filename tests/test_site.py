"""The lab as a page in a real browser, both as the built static site (Pyodide in a worker) and
under `panel serve`: it becomes interactive, Python answers, nothing leaves the host."""
import io
import json
import re
import shutil
import zipfile

import brotli

from playwright.sync_api import expect

from browser import open_session, serve_site, status_numbers, text, wait_text
from conftest import SITE


def test_interactive_and_a_python_round_trip(app):
    assert status_numbers(app.page) == (1, 0)  # epoch 1 of 3, no batch yet
    app.page.get_by_role("button", name="Step (one batch)").click()
    wait_text(app.page, ".train-status", "batch 1/")
    assert "Paused" in text(app.page, ".train-status")


def test_webnet_runs_where_it_should(app):
    about = app.page.locator(".about").first
    expect(about).to_contain_text("webnet 0.1.0")
    if app.kind == "static":  # imported from its wheel, inside Pyodide
        expect(about).to_contain_text(re.compile(r"on emscripten.*/site-packages/webnet"))
    else:
        expect(about).to_contain_text("on linux")


def test_no_console_errors(app):
    assert app.errors == []


def test_no_request_to_another_host(app):
    assert app.requests, "no request was recorded at all"
    assert app.foreign_requests() == []
    if app.kind == "static":  # the worker's runtime and wheels came from the site too
        wheels = [u for u in app.requests if u.endswith(".whl.brotli")]  # packed (site/builder/pack.py)
        assert any("/pyodide/webnet-" in u for u in wheels) and any("/pyodide/panel-" in u for u in wheels)
        assert any(u.endswith("/pyodide/pyodide.asm.wasm") for u in app.requests)
        # their decoder, fetched once for all of them
        assert sum(u.endswith("/brotli/brotli_dec_wasm_bg.wasm") for u in app.requests) == 1
        assert not any("/pyodide/pandas-" in u for u in app.requests)  # the stand-in, not pandas


def test_site_lock_covers_every_hosted_wheel():
    lock = json.loads((SITE / "pyodide" / "pyodide-lock.json").read_text())
    hosted = {p.name for p in (SITE / "pyodide").glob("*.whl*") if p.suffix in (".whl", ".brotli")}
    assert {e["file_name"] for e in lock["packages"].values()} == hosted
    assert "webnet" in lock["packages"] and "panel" in lock["packages"]
    # what the page's loader fetches is packed; segno, loaded later by Pyodide's loadPackage, is not
    assert lock["packages"]["numpy"]["file_name"].endswith(".whl.brotli")
    assert lock["packages"]["segno"]["file_name"].endswith(".whl")
    sums = (SITE / "SHA256SUMS").read_text().splitlines()
    assert any(line.endswith("  index.html") for line in sums) and len(sums) > 50
    for path in SITE.rglob("*"):
        if path.suffix in {".html", ".js", ".css", ".json"}:
            assert not re.search(r"cdn\.(jsdelivr|holoviz|bokeh)", path.read_text(errors="replace")), path


def test_the_page_runs_the_lab_from_its_wheel():
    """The worker asks for the lab's wheel and holds site/app.py's source, not the lab's code."""
    worker = (SITE / "worker.js").read_text()
    assert '"webnet-lab"' in worker and "class App(" not in worker
    lock = json.loads((SITE / "pyodide" / "pyodide-lock.json").read_text())
    assert {"webnet", "panel"} <= set(lock["packages"]["webnet-lab"]["depends"])
    wheel = SITE / "pyodide" / lock["packages"]["webnet-lab"]["file_name"]
    names = zipfile.ZipFile(io.BytesIO(brotli.decompress(wheel.read_bytes()))).namelist()
    # compiled like the others, with its component's JavaScript and CSS and the catalogues as files
    assert "webnet_lab/app.pyc" in names and "webnet_lab/app.py" not in names
    assert {"webnet_lab/components/drawing_pad.js", "webnet_lab/components/drawing_pad.css",
            "webnet_lab/i18n/en.json"} <= set(names)


def copy_of_the_site(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    return site


def test_without_workers_in_workers_the_page_loads_its_packages_on_one_thread(browser, tmp_path):
    """Where a worker cannot start another, the worker runs the page's package loader (wheels.js)
    itself, and the lab still starts."""
    site = copy_of_the_site(tmp_path)
    worker = site / "worker.js"
    worker.write_text("self.Worker = undefined;  // as in a browser without nested workers\n" + worker.read_text())
    for compressed in site.glob("worker.js.*"):
        compressed.unlink()
    url, server = serve_site(site)
    session = open_session(browser, url)
    try:
        session.wait_interactive()
        expect(session.page.locator(".about").first).to_contain_text(re.compile(r"/site-packages/webnet"))
        assert any(u.endswith("/pyodide/webnet-0.1.0-py3-none-any.whl.brotli") for u in session.requests)
        assert session.errors == []
    finally:
        session.page.context.close()
        server.shutdown()


def test_a_wheel_that_does_not_match_the_lock_is_refused(browser, tmp_path):
    """The page's package loader (site/page/wheels.js) has the browser check every wheel against its
    sha256 in pyodide-lock.json: a changed wheel stops the start with a message naming it."""
    site = copy_of_the_site(tmp_path)
    (wheel,) = (site / "pyodide").glob("bokeh-*.whl.brotli")
    data = bytearray(wheel.read_bytes())
    data[len(data) // 2] ^= 0xFF
    wheel.write_bytes(bytes(data))
    url, server = serve_site(site)
    session = open_session(browser, url)
    try:
        message = session.page.locator(".pn-loading-msg")
        expect(message).to_contain_text("Could not load the lab's packages", timeout=60_000)
        expect(message).to_contain_text(f"{wheel.name} could not be loaded or does not match its sha256")
        assert session.page.evaluate("document.body.classList.contains('pn-loading')")  # the app did not start
        # the loading spinner is the page's turning ring (site/page/page.css), not Panel's animated SVG mask
        spinner = session.page.evaluate("(s => [s.animationName, s.maskImage || s.webkitMaskImage])"
                                        "(getComputedStyle(document.body, '::before'))")
        assert spinner == ["webnet-spin", "none"]
    finally:
        session.page.context.close()
        server.shutdown()
