"""The lab in a real browser: as the built static page (Pyodide in a worker) and under `panel serve`."""
import json
import re

import pytest
from playwright.sync_api import expect

from conftest import SITE


def test_app_is_interactive_and_round_trips(app):
    status = app.page.locator(".status").first
    expect(status).to_contain_text("Run 1:", timeout=30_000)
    app.page.get_by_role("button", name="Run the gradient check again").click()
    expect(status).to_contain_text("Run 2:", timeout=30_000)  # a Python callback ran and answered
    table = app.page.locator("table.gradcheck")
    expect(table.locator("tbody tr")).to_have_count(10)
    verdicts = table.locator("td.verdict").all_inner_texts()
    assert verdicts and set(verdicts) <= {"excellent", "acceptable"}


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
        wheels = [u for u in app.requests if u.endswith(".whl")]
        assert any("/pyodide/webnet-" in u for u in wheels) and any("/pyodide/panel-" in u for u in wheels)
        assert any(u.endswith("/pyodide/pyodide.asm.wasm") for u in app.requests)


def test_site_lock_covers_every_hosted_wheel():
    lock = json.loads((SITE / "pyodide" / "pyodide-lock.json").read_text())
    hosted = {p.name for p in (SITE / "pyodide").glob("*.whl")}
    assert {e["file_name"] for e in lock["packages"].values()} == hosted
    assert "webnet" in lock["packages"] and "panel" in lock["packages"]
    sums = (SITE / "SHA256SUMS").read_text().splitlines()
    assert any(line.endswith("  index.html") for line in sums) and len(sums) > 50
    for path in SITE.rglob("*"):
        if path.suffix in {".html", ".js", ".css", ".json"}:
            assert not re.search(r"cdn\.(jsdelivr|holoviz|bokeh)", path.read_text(errors="replace")), path
