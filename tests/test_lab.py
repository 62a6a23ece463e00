"""What students do with the lab, in headless Chromium, on the built static page and under
`panel serve`: draw, upload, check gradients, train, pause, diverge. Tests run in file order on
one page per target (drawing first, while the pretrained model still classifies)."""
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from browser import choose, draw, open_tab, slider, status_numbers, text, train_one_short_epoch, wait_text

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "dist" / "screenshots"
VERTICAL = [(0.5, 0.12), (0.5, 0.88)]


def digit_of(prediction):
    return int(re.search(r"looks like an? (\d)", prediction).group(1))


def clear_pad(page):
    page.get_by_role("button", name="Clear").click()
    wait_text(page, ".prediction", re.compile("draw a digit", re.I))


def test_mouse_stroke_is_a_one_for_the_pretrained_model(app):
    page = app.page
    open_tab(page, "Draw")
    clear_pad(page)
    assert digit_of(draw(page, [VERTICAL])) == 1
    assert "Classified by pretrained:" in text(page, ".model-source")
    expect(page.locator(".preview img")).to_have_count(1)


def test_touch_stroke_is_a_one_too(app):
    page = app.page
    clear_pad(page)
    assert digit_of(draw(page, [VERTICAL], touch=True)) == 1


def pad_strokes(digit, style):
    """webnet.drawn's strokes of ``digit`` in ``style``, upright, 60 % of the pad high, centred, as
    fractions of the pad (every point: the curves are dense, the corners sharp)."""
    from webnet.drawn import STYLES

    aspect, strokes = STYLES[digit][style]
    return [[(0.5 + (x - 0.5) * aspect * 0.6, 0.2 + 0.6 * y) for x, y in pts] for pts in strokes]


def test_digits_drawn_in_every_style_are_read_by_the_shipped_model(app):
    from webnet.drawn import STYLES

    page = app.page
    wrong = []
    for digit, styles in STYLES.items():
        for style in styles:
            clear_pad(page)
            answer = draw(page, pad_strokes(digit, style), moves=2)
            if not re.search(rf"looks like {'an' if digit == 8 else 'a'} {digit}\b", answer):
                wrong.append((digit, style, answer))
    assert wrong == [], wrong
    assert "Classified by pretrained: lenet" in text(page, ".model-source")


def test_blank_pad_asks_for_a_digit(app):
    clear_pad(page := app.page)
    assert "looks like" not in text(page, ".prediction")
    expect(page.locator(".preview img")).to_have_count(0)


def test_random_test_digit(app):
    page = app.page
    page.get_by_role("button", name="A random test digit").click()
    t = wait_text(page, ".prediction", "The test digit is a")
    assert re.search(r"(looks like an? \d|Not sure: maybe an? \d) .* The test digit is an? \d", t)


def test_corrupt_upload_is_refused_and_changes_nothing(app):
    page = app.page
    clear_pad(page)
    before = draw(page, [VERTICAL])
    open_tab(page, "Model")
    page.locator(".upload-model input[type=file]").set_input_files(
        files=[{"name": "broken.npz", "mimeType": "application/octet-stream", "buffer": b"PK\x03\x04 not a model"}])
    msg = wait_text(page, ".upload-message", "broken.npz")
    assert "Could not use broken.npz" in msg and "unchanged" in msg
    # the refusal and any change of model happen in the same Python callback as the message:
    # once the message shows, a changed answer would show too
    open_tab(page, "Draw")
    assert text(page, ".prediction") == before
    assert "Classified by pretrained:" in text(page, ".model-source")


def test_gradient_check_rows_are_acceptable_or_better(app):
    page = app.page
    open_tab(page, "Gradient check")
    page.get_by_role("button", name="Check the gradients").click()
    wait_text(page, ".gradcheck-table", "verdict")
    verdicts = page.locator("td.verdict").evaluate_all("cells => cells.map(c => c.dataset.verdict)")
    assert len(verdicts) == 18  # 16 layer rows and 2 network rows for the pretrained LeNet
    assert set(verdicts) <= {"excellent", "acceptable"}, verdicts


def network_kind(page, name):
    radio = page.get_by_role("radio", name=name)
    (radio if radio.count() else page.locator(".bk-btn-group button").filter(has_text=name)).click()


def test_inside_shows_the_layers_of_a_drawn_digit_and_follows_a_lenet_trained_in_the_page(app):
    page = app.page
    open_tab(page, "Draw")
    clear_pad(page)
    assert digit_of(draw(page, [VERTICAL])) == 1
    open_tab(page, "Inside")
    wait_text(page, ".inside-layers", "Model in use: pretrained: lenet")
    maps = page.locator(".inside-layers section[data-layer='layer-2'] img.feature-map")
    expect(maps).to_have_count(8)  # the first convolution's eight maps of the drawn 1
    expect(page.locator(".inside-layers section[data-layer='layer-5'] img.feature-map")).to_have_count(16)
    bars = page.locator(".inside-layers section[data-layer='layer-10'] g.unit")
    expect(bars).to_have_count(10)
    assert "map 1: from" in maps.first.get_attribute("title")
    one = bars.nth(1)  # the drawn 1's probability: shown where the pointer (or a finger) is
    expect(one.locator(".tip")).to_be_hidden()
    one.hover()
    expect(one.locator(".tip")).to_be_visible()
    assert re.fullmatch(r"1: 0\.\d+|1: 1", one.locator(".tip").text_content())

    open_tab(page, "Train")
    network_kind(page, "LeNet")
    wait_text(page, ".arch-note", "LeNet: two convolutions")
    for n in (1, 2, 3):
        page.get_by_role("button", name="Step (one batch)").click()
        wait_text(page, ".train-status", f"batch {n}/")
    open_tab(page, "Inside")
    wait_text(page, ".inside-layers", "Model in use: trained: lenet, 3 batches")
    expect(page.locator(".inside-layers section[data-layer='layer-2'] img.feature-map")).to_have_count(8)
    open_tab(page, "Train")
    network_kind(page, "MLP")  # back to the 784-128-10 the next tests train
    wait_text(page, ".train-status", "batch 0/")


def test_one_epoch_on_2000_digits_passes_80_percent(app):
    page = app.page
    open_tab(page, "Train")
    assert train_one_short_epoch(page) > 0.8
    wait_text(page, ".train-status", "Finished")
    with page.expect_download() as got:  # the epochs as the table shows them
        page.locator(".download-csv button").click()
    lines = Path(got.value.path()).read_text().splitlines()
    assert lines[0].startswith("epoch,train_loss,train_acc,test_acc") and len(lines) == 2
    assert f"{float(lines[1].split(',')[3]):.4f}" in text(page, ".history-table")
    open_tab(page, "Draw")
    wait_text(page, ".model-source", "Classified by trained: 784-128-10, 1 epoch")
    open_tab(page, "Train")


def test_pause_takes_effect_at_once(app):
    page = app.page
    slider(page, 30, ["End"])  # 30 epochs: training will not end by itself
    wait_text(page, ".train-status", "/30")
    page.get_by_role("button", name="Start").click()
    wait_text(page, ".train-status", re.compile(r"Training · epoch \d+/30 · batch ([3-9]|\d\d+)/"))
    page.get_by_role("button", name="Pause").click()
    wait_text(page, ".train-status", "Paused", timeout=1000)
    paused_at = status_numbers(page)
    # a round trip through Python that takes a while (the Inspect tab evaluates the model):
    # had training gone on, batches would have run meanwhile
    open_tab(page, "Inspect")
    wait_text(page, ".inspect-summary", "trained: 784-128-10")
    open_tab(page, "Train")
    assert status_numbers(page) == paused_at and "Paused" in text(page, ".train-status")


def test_divergence_is_explained_and_stops(app):
    page = app.page
    page.get_by_role("button", name="Reset").click()
    choose(page, "Learning rate", "10")
    wait_text(page, ".train-status", "learning rate 10")
    page.get_by_role("button", name="Start").click()
    alert = wait_text(page, ".train-alert", "Training stopped")
    assert "learning rate 10" in alert and "too large" in alert
    wait_text(page, ".train-alert", re.compile(r"Learning rate [\d.]+ brought the loss"), timeout=60_000)
    assert "Stopped" in text(page, ".train-status")


TAB_READY = {"Train": ".train-status", "Inspect": ".inspect-summary", "Gradient check": ".gradcheck-table",
             "Draw": ".prediction", "Model": ".upload-message"}


def test_screenshots_of_every_tab(app):
    page = app.page
    SHOTS.mkdir(parents=True, exist_ok=True)
    for tab, ready in TAB_READY.items():
        open_tab(page, tab)
        expect(page.locator(ready).first).to_be_visible()
        path = SHOTS / f"{app.kind}-{tab.split()[0].lower()}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000


def test_no_console_errors_and_no_foreign_requests(app):
    assert app.errors == []
    assert app.foreign_requests() == []


pytestmark = pytest.mark.browser
