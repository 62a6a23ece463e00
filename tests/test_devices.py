"""The built page on a phone (390x844) and a tablet (810x1080) with touch: nothing wider than the
screen, readable text, 44-pixel touch targets, a drawing pad as wide as it can be whose ink
reaches every edge, and digits drawn with a finger read correctly."""
import re

import pytest
from playwright.sync_api import expect

from browser import Session, draw, open_tab, stroke, train_one_short_epoch

DEVICES = {"phone": dict(viewport={"width": 390, "height": 844}, device_scale_factor=3, is_mobile=True, has_touch=True),
           "tablet": dict(viewport={"width": 810, "height": 1080}, device_scale_factor=2, is_mobile=True,
                          has_touch=True)}
TABS = ("Train", "Inspect", "Gradient check", "Exercises", "Draw", "Inside", "Model")

# (in a function below) visit(root) for the document and every shadow root in it (Panel's widgets
# keep theirs there)
EVERY_ROOT = """
  const everyRoot = (root, visit) => {
    visit(root);
    for (const el of root.querySelectorAll("*")) if (el.shadowRoot) everyRoot(el.shadowRoot, visit);
  };"""

# every visible text node's font size, and every visible control's box
MEASURE = """() => {""" + EVERY_ROOT + """
  const sizes = [], targets = [];
  const visible = (r) => r.width > 0 && r.height > 0;
  everyRoot(document, (root) => {
    const texts = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    while (texts.nextNode()) {
      const node = texts.currentNode, el = node.parentElement;
      if (!el || !node.nodeValue.trim() || el.closest("style, script, .sr-only")) continue;
      const range = document.createRange(); range.selectNodeContents(node);
      if (!visible(range.getBoundingClientRect())) continue;
      sizes.push([parseFloat(getComputedStyle(el).fontSize), node.nodeValue.trim().slice(0, 30)]);
    }
    // (a download button answers clicks on its link only: .bk-btn > a)
    for (let el of root.querySelectorAll("button, .bk-btn > a, select, input, [role=tab], [role=slider], canvas.webnet-pad")) {
      if (el.type === "checkbox") el = el.getRootNode().host;  // its text toggles it too (see below)
      const r = el.getBoundingClientRect();
      if (visible(r) && getComputedStyle(el).visibility !== "hidden" && !el.closest(".webnet-code"))
        targets.push([Math.round(r.width), Math.round(r.height), el.tagName + "." + el.className + (el.textContent || "").slice(0, 20)]);
    }
  });
  return { sizes, targets, scroll: [document.documentElement.scrollWidth, document.documentElement.clientWidth] };
}"""


@pytest.fixture(scope="module", params=list(DEVICES))
def device(request, browser, static_url):
    from browser import Session

    context = browser.new_context(**DEVICES[request.param], service_workers="block")
    session = Session(static_url, context.new_page())
    session.page.on("pageerror", lambda e: session.errors.append(str(e)))
    session.page.goto(static_url)
    session.wait_interactive()
    session.kind = request.param
    yield session
    context.close()


def fits_reads_and_can_be_touched(page, tabs=TABS):
    for tab in tabs:
        open_tab(page, tab)
        m = page.evaluate(MEASURE)
        assert m["sizes"] and len(m["targets"]) >= len(TABS), tab  # it sees the page (the tab headers at least)
        assert m["scroll"][0] <= m["scroll"][1], (tab, m["scroll"])  # no horizontal scrolling
        small = [s for s in m["sizes"] if s[0] < 14]
        assert not small, (tab, small[:5])
        tiny = [t for t in m["targets"] if min(t[0], t[1]) < 44]
        assert not tiny, (tab, tiny[:5])


def test_every_tab_fits_reads_and_can_be_touched(device):
    fits_reads_and_can_be_touched(device.page)


def test_results_fit_too(device):
    """The gradient check's table, a run's curves, tables and kept runs, the confusion matrix: as
    wide as the screen at most (wide tables scroll in a box of their own)."""
    page = device.page
    open_tab(page, "Gradient check")
    page.get_by_role("button", name="Check the gradients").click()
    expect(page.locator("table.gradcheck td.verdict")).not_to_have_count(0, timeout=60_000)
    open_tab(page, "Train")
    train_one_short_epoch(page)
    expect(page.locator(".runs-table tr[data-run]")).not_to_have_count(0)
    for tab, summary in (("Train", "The curves as a table"),
                         ("Inspect", "The confusion matrix and the accuracy per class as a table")):
        open_tab(page, tab)
        page.get_by_text(summary).click()
    fits_reads_and_can_be_touched(page)


def test_russian_fits_too(device, browser, static_url):
    """Russian's longer words (the header's buttons, the tabs' names) on the same screens."""
    context = browser.new_context(**DEVICES[device.kind], service_workers="block")
    try:
        session = Session(static_url, context.new_page())
        session.page.goto(static_url + "?lang=ru")
        session.wait_interactive()
        fits_reads_and_can_be_touched(session.page, ("Обучение", "Анализ", "Проверка градиентов", "Упражнения",
                                                     "Рисунок", "Внутри сети", "Модель"))
    finally:
        context.close()


# every visible slider's handle and label boxes
HANDLES = """() => {""" + EVERY_ROOT + """
  const out = [];
  everyRoot(document, (root) => {
    for (const handle of root.querySelectorAll(".noUi-handle")) {
      const r = handle.getBoundingClientRect(), title = handle.getRootNode().querySelector(".bk-slider-title");
      if (r.width && title) out.push([title.textContent, r.toJSON(), title.getBoundingClientRect().toJSON()]);
    }
  });
  return out;
}"""


@pytest.mark.parametrize("kind", [*DEVICES, "desktop"])
def test_a_slider_at_its_end_covers_neither_its_label_nor_leaves_the_screen(kind, browser, static_url):
    context = browser.new_context(**DEVICES.get(kind, {"viewport": {"width": 1280, "height": 800}}),
                                  service_workers="block")
    try:
        page = Session(static_url, context.new_page()).page
        page.goto(static_url + "?epochs=1&n=10000")  # one handle at each end
        size = 24 if kind == "desktop" else 44  # WCAG 2.5.8 for a mouse, 2.5.5 for a finger
        page.wait_for_function(f"() => ({HANDLES})().some(([t, h]) => h.width === {size})")  # the lab's stylesheet is in
        handles = page.evaluate(HANDLES)
        width = page.evaluate("document.documentElement.clientWidth")
        assert {"Epochs: 1", "Training digits: 10000"} <= {title for title, _, _ in handles}
        labels = [label for _, _, label in handles]
        for title, handle, label in handles:
            assert handle["top"] >= label["bottom"], title  # below its label, not over it
            assert not any(handle["bottom"] > other["top"] and handle["top"] < other["bottom"]
                           and handle["right"] > other["left"] and handle["left"] < other["right"] for other in labels), title
            assert handle["left"] >= 0 and handle["right"] <= width, title
    finally:
        context.close()


def test_a_check_box_toggles_from_its_text(device):
    page = device.page
    open_tab(page, "Train")
    box = page.get_by_role("checkbox", name="Second hidden layer")
    before = box.is_checked()
    page.locator(".bk-Checkbox .bk-label", has_text="Second hidden layer").tap()
    expect(box).to_be_checked(checked=not before)
    page.locator(".bk-Checkbox .bk-label", has_text="Second hidden layer").tap()
    expect(box).to_be_checked(checked=before)


def test_the_pad_is_as_wide_as_the_screen_allows_and_ink_reaches_every_edge(device):
    page = device.page
    open_tab(page, "Draw")
    pad = page.locator("canvas.webnet-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    width = DEVICES[device.kind]["viewport"]["width"]
    assert box["width"] >= min(280, width) and box["width"] >= min(width - 20, 480) - 1
    page.get_by_role("button", name="Clear").click()
    # four strokes along the four edges, each starting a pixel inside the pad (a stroke that starts
    # in the top 20 pixels used never to reach it)
    edge = 0.01
    for points in ([(0.1, edge), (0.9, edge)], [(edge, 0.1), (edge, 0.9)], [(0.99, 0.1), (0.99, 0.9)],
                   [(0.1, 0.99), (0.9, 0.99)]):
        stroke(page, points, touch=True)
    ink = pad.evaluate("""c => { const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data, n = c.width;
      const alpha = (x, y) => d[4 * (y * n + x) + 3];
      return [alpha(n >> 1, 1), alpha(1, n >> 1), alpha(n - 2, n >> 1), alpha(n >> 1, n - 2)] }""")
    assert all(a > 128 for a in ink), ink


def test_digits_drawn_with_a_finger_are_read(device):
    page = device.page
    page.get_by_role("button", name="Clear").click()
    assert re.search(r"looks like a 1 ", draw(page, [[(0.5, 0.1), (0.5, 0.9)]], touch=True))
    page.get_by_role("button", name="Clear").click()
    seven = [(0.2, 0.15), (0.8, 0.15), (0.4, 0.9)]
    assert re.search(r"looks like a 7 ", draw(page, [seven], touch=True))
    assert device.errors == []


pytestmark = pytest.mark.browser
