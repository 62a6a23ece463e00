"""Compare runs on the page (the built static page and `panel serve`): two runs that differ in the
learning rate are kept, overlaid with a legend naming that difference, listed in the table, still
there after a reload (the browser's storage), and gone after Clear, across a reload too."""
import io
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from browser import choose, open_session, text, wait_text
from webnet_lab.views.runs import COLOURS

pytestmark = pytest.mark.browser
SMALL = "?n=1000&epochs=1&tab=train"  # a run of a few seconds
# the legends of the comparison's plots, as bokeh has them (the canvas holds no text to read)
LEGENDS = """() => Bokeh.documents.flatMap((doc) => [...doc.all_models])
  .filter((m) => m.type === "Legend" && m.items.some((i) => /^#\\d/.test(i.label.value || "")))
  .map((m) => m.items.filter((i) => i.visible).map((i) => i.label.value))"""
RUN_CURVES = """() => Bokeh.documents.flatMap((doc) => [...doc.all_models])
  .filter((m) => (m.name || "").startsWith("run-loss-") && m.data.y.length).map((m) => m.data.y.length)"""


def train_once(page):
    page.get_by_role("button", name="Start").click()
    wait_text(page, ".train-status", "Finished", timeout=120_000)


def saved_png(page, button, filename):
    with page.expect_download() as download:
        page.get_by_role("button", name=button).click()
    assert download.value.suggested_filename == filename
    image = Image.open(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert image.format == "PNG" and image.size[0] >= 300 and image.size[1] >= 200, image
    return image.convert("RGB")


def near(image, colour, tolerance=40):
    """Pixels of ``image`` within ``tolerance`` of ``colour`` (#rrggbb) in every channel."""
    pixels = np.asarray(image).reshape(-1, 3).astype(int)
    want = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(pixels - want).max(axis=1) <= tolerance).sum())


def rows(page):
    return page.locator(".runs-table tr[data-run]")


def test_two_runs_overlay_survive_a_reload_and_clear(browser, target):
    kind, url = target
    session = open_session(browser, url + SMALL)
    session.wait_interactive()
    page = session.page
    wait_text(page, ".compare-runs", "No runs kept yet")
    train_once(page)
    expect(rows(page)).to_have_count(1)
    page.get_by_role("button", name="Reset").click()
    choose(page, "Learning rate", "0.3")
    wait_text(page, ".train-status", "Ready")
    train_once(page)
    expect(rows(page)).to_have_count(2)
    page.wait_for_function(f"() => ({LEGENDS})().some((items) => items.length === 2)")
    legends = page.evaluate(LEGENDS)
    assert ["#1 · lr 0.1", "#2 · lr 0.3"] in legends, legends
    curves = page.evaluate(RUN_CURVES)
    assert len(curves) == 2 and all(n >= 2 for n in curves), curves
    table = text(page, ".runs-table")
    assert re.search(r"#2.*lr 0\.3.*finished\s*1\s*0\.\d{4}", table, re.S), table
    # the overlay as a PNG (bokeh's export of the canvas): both runs' colours are in it
    image = saved_png(page, "Save “Training loss of picked runs (smoothed)” as PNG", "webnet-runs-loss.png")
    for colour in COLOURS[:2]:
        assert near(image, colour) > 30, colour
    assert saved_png(page, "Save “Training loss (per batch, smoothed)” as PNG", "webnet-loss.png").size[0] >= 300  # the run's own chart
    boxes = page.get_by_role("checkbox", name=re.compile(r"^#\d · "))
    expect(boxes).to_have_count(2)
    assert all(boxes.nth(i).is_checked() for i in range(2))
    # a reload: the runs come back from the browser's storage
    page.reload()
    session.wait_interactive()
    expect(rows(page)).to_have_count(2)
    assert text(page, ".runs-table") == table
    page.wait_for_function(f"() => ({LEGENDS})().some((items) => items.length === 2)")
    # unticking one leaves the other's curve alone
    page.get_by_role("checkbox", name=re.compile(r"^#1 · ")).uncheck()
    page.wait_for_function(f"() => ({LEGENDS})().some((items) => items.length === 1)")
    legend = next(items for items in page.evaluate(LEGENDS) if len(items) == 1)
    assert legend == ["#2"], legend  # a run alone: nothing to tell it from
    page.get_by_role("button", name="Clear the kept runs").click()
    wait_text(page, ".compare-runs", "No runs kept yet")
    page.reload()
    session.wait_interactive()
    wait_text(page, ".compare-runs", "No runs kept yet")
    assert session.errors == []
    page.context.close()


def test_damaged_storage_is_said_and_the_lab_runs_on(browser, static_url):
    session = open_session(browser, static_url + SMALL)
    page = session.page
    page.add_init_script("localStorage.setItem('webnet-runs', '{\"runs\": [1, {\"id\": \"<b>\"}]}')")
    session.wait_interactive()
    wait_text(page, ".runs-note", "2 of the runs kept in this browser could not be read")
    train_once(page)
    expect(rows(page)).to_have_count(1)
    stored = page.evaluate("() => JSON.parse(localStorage.getItem('webnet-runs')).runs.length")
    assert stored == 1
    assert session.errors == []
    page.context.close()
