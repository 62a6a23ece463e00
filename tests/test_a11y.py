"""Keyboards and screen readers, in both runtimes: axe-core finds nothing on any tab (in English and
in Russian, with the charts drawn and a digit read); the tabs follow the ARIA tabs pattern; every
control has a name and a slider says its value; the charts have their numbers as tables; the
run's milestones reach a live region; the focus never falls off the page, never gets trapped."""
import re
import sys
import tarfile

import pytest
from playwright.sync_api import expect

from browser import ROOT, WAIT_MS, draw, open_session, open_tab, wait_text

sys.path.insert(0, str(ROOT / "site"))
from builder import pins  # noqa: E402
from builder.fetch import npm_tarball  # noqa: E402

TABS = ("Train", "Inspect", "Gradient check", "Exercises", "Draw", "Inside", "Model")
RUN_AXE = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] })
  return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                                         nodes: v.nodes.slice(0, 3).map((n) => [n.html, n.failureSummary]) }))
}"""
# the element that has the focus, through the shadow roots
FOCUSED = """() => { let e = document.activeElement; while (e && e.shadowRoot && e.shadowRoot.activeElement)
  e = e.shadowRoot.activeElement; return e ? { tag: e.tagName, text: (e.textContent || "").trim().slice(0, 40),
  disabled: !!e.disabled, role: e.getAttribute("role"), selected: e.getAttribute("aria-selected") } : null }"""


@pytest.fixture(scope="module")
def axe():
    with tarfile.open(npm_tarball("axe-core", pins.AXE_CORE_VERSION, pins.AXE_CORE_NPM_SHA512)) as tar:
        return tar.extractfile("package/axe.min.js").read().decode()


def shown(page, tab):
    """Open ``tab`` and wait until it is built (tabs are built the first time they are shown)."""
    open_tab(page, tab)
    expect(page.locator(".bk-tab.bk-active")).to_have_text(tab)
    expect(page.locator(".tab-loading:visible")).to_have_count(0, timeout=WAIT_MS)


def violations(page, axe):
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.evaluate(axe)
    return page.evaluate(RUN_AXE)


def test_axe_finds_nothing_on_any_tab(app, axe):
    page = app.page
    page.get_by_role("button", name="Step (one batch)").click()  # the curves and their table
    wait_text(page, ".train-status", "batch 1/")
    page.get_by_role("button", name="Reset").click()  # a kept run: the comparison's picker, charts, table
    expect(page.locator(".runs-table tr[data-run]")).to_have_count(1)
    shown(page, "Draw")
    draw(page, [[(0.5, 0.1), (0.5, 0.9)]])  # the probabilities and theirs
    page.get_by_label("This is a", exact=True).select_option("7")  # kept, and read wrong: the gallery and the list
    page.get_by_role("button", name="Keep as a 7").click()
    wait_text(page, ".drawings-wrong", "read as 1")
    found = {}
    for tab in TABS:
        shown(page, tab)
        found[tab] = violations(page, axe)
    assert found == {tab: [] for tab in TABS}


def test_axe_finds_nothing_in_russian(browser, target, axe):
    session = open_session(browser, target[1] + "?lang=ru")
    try:
        session.wait_interactive()
        page = session.page
        expect(page.locator("html")).to_have_attribute("lang", "ru")
        found = {}
        for tab in ("Обучение", "Упражнения", "Рисунок"):
            shown(page, tab)
            found[tab] = violations(page, axe)
        assert found == {tab: [] for tab in found}
    finally:
        session.page.context.close()


def test_tabs_follow_the_aria_tabs_pattern(app):
    page = app.page
    shown(page, "Train")
    tabs = page.get_by_role("tablist").get_by_role("tab")
    expect(tabs).to_have_count(len(TABS))
    expect(page.get_by_role("tab", name="Train")).to_have_attribute("aria-selected", "true")
    assert [t.get_attribute("tabindex") for t in tabs.all()] == ["0"] + ["-1"] * (len(TABS) - 1)  # one tab stop
    page.get_by_role("tab", name="Train").focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="Inspect")).to_have_attribute("aria-selected", "true")
    assert page.evaluate(FOCUSED)["text"] == "Inspect"
    page.keyboard.press("End")
    expect(page.get_by_role("tab", name="Model")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowRight")  # wraps around
    expect(page.get_by_role("tab", name="Train")).to_have_attribute("aria-selected", "true")
    assert page.evaluate(FOCUSED) == {"tag": "DIV", "text": "Train", "disabled": False, "role": "tab",
                                      "selected": "true"}


# the tab panel (by its name) that holds the focused element, through the shadow roots
FOCUSED_PANEL = """() => { let e = document.activeElement; while (e && e.shadowRoot && e.shadowRoot.activeElement)
  e = e.shadowRoot.activeElement
  for (; e; e = e.parentNode || e.host) if (e.getAttribute && e.getAttribute("role") === "tabpanel") return e.getAttribute("aria-label")
  return null }"""
INERT_PANEL = """(name) => { const find = (root) => { for (const el of root.querySelectorAll("*")) {
  if (el.getAttribute("role") === "tabpanel" && el.getAttribute("aria-label") === name) return el
  const inner = el.shadowRoot && find(el.shadowRoot); if (inner) return inner } return null }
  const panel = find(document); return panel !== null && panel.inert }"""


def headings_read(page):
    """The headings a screen reader can reach: the page's accessibility tree, as Chromium gives it."""
    cdp = page.context.new_cdp_session(page)
    try:
        nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        cdp.detach()
    return {n["name"]["value"] for n in nodes if n.get("role", {}).get("value") == "heading" and not n.get("ignored")}


def test_only_the_tab_shown_is_read_and_reached(app):
    """A hidden tab's content is neither read out nor reached by Tab (Panel's HTML panes make their
    content visible inside bokeh's hidden panels), and Tab goes from the tab strip into the panel shown."""
    page = app.page
    shown(page, "Train")
    assert {"Network", "Training"} <= headings_read(page)
    shown(page, "Model")
    page.wait_for_function(INERT_PANEL, arg="Train")
    assert not {"Network", "Training"} & headings_read(page)
    page.get_by_role("tab", name="Model").focus()
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED_PANEL) == "Model"
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(FOCUSED)["role"] == "tab"


def test_every_control_has_a_name_and_sliders_say_their_value(app):
    page = app.page
    shown(page, "Train")
    epochs = page.get_by_role("slider", name="Epochs")
    expect(epochs).to_have_attribute("aria-valuetext", "3")
    epochs.focus()
    page.keyboard.press("ArrowRight")
    expect(epochs).to_have_attribute("aria-valuetext", "4")
    page.keyboard.press("ArrowLeft")
    expect(epochs).to_have_attribute("aria-valuetext", "3")
    # the learning rate is a select: it reads the rate itself, and the keyboard changes it
    rate = page.get_by_label("Learning rate", exact=True)
    rate.focus()
    page.keyboard.press("ArrowDown")
    expect(page.locator(".train-status")).to_contain_text(re.compile(r"learning rate 0\.3\b"))
    rate.select_option(label="0.1")
    expect(page.locator(".train-status")).to_contain_text(re.compile(r"learning rate 0\.1\b"))
    # named by their labels alone (not by the text of the stylesheets beside them)
    expect(page.get_by_role("checkbox", name="Second hidden layer", exact=True)).to_have_count(1)
    expect(page.get_by_role("checkbox", name="Distort the training digits (augmentation)", exact=True)).to_have_count(1)
    # the network's choice: a named group whose buttons say which one is pressed
    group = page.get_by_role("group", name="Network", exact=True)
    expect(group.get_by_role("button", name="MLP")).to_have_attribute("aria-pressed", "true")
    group.get_by_role("button", name="CNN").click()
    expect(group.get_by_role("button", name="CNN")).to_have_attribute("aria-pressed", "true")
    expect(group.get_by_role("button", name="MLP")).to_have_attribute("aria-pressed", "false")
    group.get_by_role("button", name="MLP").click()
    expect(group.get_by_role("button", name="MLP")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("textbox", name="Seed")).to_have_count(1)


def test_the_charts_numbers_are_tables(app):
    page = app.page
    shown(page, "Train")
    page.get_by_role("button", name="Step (one batch)").click()
    wait_text(page, ".train-status", "batch")
    expect(page.locator(".bk-events")).not_to_have_count(0)  # the charts: not tab stops (no tools here)
    expect(page.locator(".bk-events[tabindex='0']")).to_have_count(0)
    shown(page, "Draw")
    page.get_by_role("button", name="Clear").click()
    draw(page, [[(0.5, 0.1), (0.5, 0.9)]])
    table = page.locator("table.probabilities")
    page.get_by_text("The probabilities as a table").click()
    expect(table.locator("tbody tr")).to_have_count(10)
    cells = table.locator("tbody td").all_inner_texts()
    assert abs(sum(float(c) for c in cells) - 1) < 0.01
    shown(page, "Inspect")
    page.get_by_text("The confusion matrix and the accuracy per class as a table").click()
    expect(page.locator("table.confusion-table tbody tr")).to_have_count(10)


def test_a_finished_epoch_reaches_the_live_region_and_is_in_the_table(app):
    page = app.page
    shown(page, "Train")
    page.get_by_role("button", name="Reset").click()
    page.locator(".noUi-handle[aria-valuemax='10000.0']").first.focus()
    page.keyboard.press("Home")  # 1,000 training digits
    epochs = page.get_by_role("slider", name="Epochs")
    epochs.focus()
    page.keyboard.press("Home")  # one epoch
    start = page.get_by_role("button", name="Start")
    wait_text(page, ".train-status", "epoch 1/1 · batch 0/32")
    start.focus()
    page.keyboard.press("Enter")
    live = page.locator(".announce [role=status]")
    expect(live).to_have_text(re.compile(r"Training finished: test accuracy 0\.\d{3}\."), timeout=120_000)
    page.get_by_text("The curves as a table").click()
    row = page.locator("table.history tbody tr")
    expect(row).to_have_count(1)
    assert row.locator("th").inner_text() == "1"


def focus_lands_on(page, text):
    """Wait until the focus rests on the enabled button saying ``text``."""
    page.wait_for_function(f"""() => {{ const f = ({FOCUSED})()
        return f && f.tag === "BUTTON" && !f.disabled && f.text === {text!r} }}""", timeout=10000)


def test_the_focus_moves_on_when_start_and_pause_disable_themselves(app):
    """Enter on Start hands the focus to Pause, Enter on Pause hands it back to Start: a keyboard
    user can start and pause a run with Enter alone, and the focus never falls on Reset (which
    would throw the run away) nor off the page."""
    page = app.page
    shown(page, "Train")
    page.get_by_role("button", name="Reset").click()
    page.get_by_role("slider", name="Epochs").focus()
    page.keyboard.press("End")  # long enough to pause
    page.locator(".noUi-handle[aria-valuemax='10000.0']").first.focus()
    page.keyboard.press("End")
    wait_text(page, ".train-status", "epoch 1/30 · batch 0/313")
    start = page.get_by_role("button", name="Start")
    start.focus()
    focus_lands_on(page, "Start")
    page.keyboard.press("Enter")
    expect(start).to_be_disabled()
    focus_lands_on(page, "Pause")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Pause")).to_be_disabled()
    focus_lands_on(page, "Start")
    expect(page.locator(".train-status [data-phase=paused]")).to_have_count(1)
    page.get_by_role("button", name="Reset").click()


def test_the_focus_stays_on_the_model_bar_when_its_button_goes(app):
    """"Use the pretrained model" hides itself once used: the focus goes to the button that takes
    its place, and a live region says which model is in use now."""
    page = app.page
    shown(page, "Train")
    page.get_by_role("button", name="Reset").click()
    page.get_by_role("button", name="Step (one batch)").click()
    wait_text(page, ".train-status", "batch 1/")
    page.get_by_role("button", name="Use the pretrained model").focus()
    page.keyboard.press("Enter")
    focus_lands_on(page, "Use the trained model")
    expect(page.locator(".model-announce [role=status]")).to_have_text(re.compile(r"^Model in use: pretrained"))
    page.keyboard.press("Enter")
    focus_lands_on(page, "Use the pretrained model")
    expect(page.locator(".model-announce [role=status]")).to_have_text(re.compile(r"^Model in use: trained"))
    page.get_by_role("button", name="Reset").click()


def test_tab_walks_the_page_and_leaves_the_code_editor(app):
    page = app.page
    shown(page, "Exercises")
    editor = page.locator(".webnet-code[data-ready='true']")
    expect(editor).to_have_count(1, timeout=WAIT_MS)
    editor.click()
    page.keyboard.press("Tab")  # indents: the editor keeps the focus
    assert page.evaluate(FOCUSED)["tag"] != "BUTTON"
    page.keyboard.press("Escape")  # (within CodeJar's 30 ms: its highlight must not take the focus back)
    page.keyboard.press("Tab")  # leaves it, forwards
    after = page.evaluate(FOCUSED)
    assert after["tag"] == "BUTTON", after
    page.keyboard.press("Shift+Tab")  # and back in
    assert page.evaluate(FOCUSED)["role"] == "textbox"
    page.keyboard.press("Escape")
    page.keyboard.press("Shift+Tab")  # leaves it, backwards
    before = page.evaluate(FOCUSED)
    assert before["role"] != "textbox", before


pytestmark = pytest.mark.browser
