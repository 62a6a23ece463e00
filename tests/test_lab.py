"""What students do with the lab, in headless Chromium, on the built static page and under
`panel serve`: draw, upload, check gradients, train, pause, diverge. Tests run in file order on
one page per target (drawing first, while the pretrained model still classifies)."""
import re
import time
from pathlib import Path

import pytest

from browser import open_tab, slider, status_numbers, stroke, text, wait_stable, wait_text

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "dist" / "screenshots"
VERTICAL = [(0.5, 0.12), (0.5, 0.88)]


def predicted_digit(page):
    t = wait_stable(page, ".prediction", lambda t: "looks like" in t, what="a prediction")
    return int(re.search(r"looks like a (\d)", t).group(1)), t


def clear_pad(page):
    page.get_by_role("button", name="Clear").click()
    wait_text(page, ".prediction", lambda t: "draw a digit" in t.lower(), what="the cleared pad")


def test_mouse_stroke_is_a_one_for_the_pretrained_model(app):
    page = app.page
    open_tab(page, "Draw")
    clear_pad(page)
    assert "pretrained model" in text(page, ".model-source")
    stroke(page, VERTICAL)
    digit, _ = predicted_digit(page)
    assert digit == 1
    assert "<img" in page.locator(".preview").first.inner_html() or page.locator(".preview img").count() == 1


def test_touch_stroke_is_a_one_too(app):
    page = app.page
    clear_pad(page)
    stroke(page, VERTICAL, touch=True)
    digit, _ = predicted_digit(page)
    assert digit == 1


def test_blank_pad_asks_for_a_digit(app):
    clear_pad(page := app.page)
    assert "looks like" not in text(page, ".prediction")


def test_random_test_digit(app):
    page = app.page
    page.get_by_role("button", name="A random test digit").click()
    t = wait_text(page, ".prediction", lambda t: "The test digit is a" in t, what="a test digit's prediction")
    assert re.search(r"looks like a \d .* The test digit is a \d", t)


def test_corrupt_upload_is_refused_and_changes_nothing(app):
    page = app.page
    clear_pad(page)
    stroke(page, VERTICAL)
    _, before = predicted_digit(page)
    open_tab(page, "Model")
    page.locator("input[type=file]").first.set_input_files(
        files=[{"name": "broken.npz", "mimeType": "application/octet-stream", "buffer": b"PK\x03\x04 not a model"}])
    msg = wait_text(page, ".upload-message", lambda t: "broken.npz" in t, what="the upload message")
    assert "Could not use broken.npz" in msg and "unchanged" in msg
    open_tab(page, "Draw")
    time.sleep(0.5)
    assert text(page, ".prediction") == before
    assert "pretrained model" in text(page, ".model-source")


def test_gradient_check_rows_are_acceptable_or_better(app):
    page = app.page
    open_tab(page, "Gradient check")
    page.get_by_role("button", name="Check the gradients").click()
    wait_text(page, ".gradcheck-table", lambda t: "verdict" in t and "network" in t, what="the gradient table")
    verdicts = [v.strip() for v in page.locator("td.verdict").all_inner_texts()]
    assert len(verdicts) >= 10  # 8 layer rows and 2 network rows for 784-128-10
    assert set(verdicts) <= {"excellent", "acceptable"}, verdicts


def test_one_epoch_on_2000_digits_passes_80_percent(app):
    page = app.page
    open_tab(page, "Train")
    slider(page, 10000, ["Home", "ArrowRight"])  # 2,000 training digits
    slider(page, 30, ["Home"])  # 1 epoch
    wait_text(page, ".train-status", lambda t: "epoch 0/1" in t and "/63" in t, what="the new settings")
    page.get_by_role("button", name="Start").click()
    t = wait_text(page, ".test-accuracy", lambda t: re.search(r"Test accuracy: 0\.\d+", t), timeout=120,
                  what="the test accuracy")
    assert float(re.search(r"Test accuracy: (0\.\d+)", t).group(1)) > 0.8
    wait_text(page, ".train-status", lambda t: "Finished" in t, what="the end of training")
    open_tab(page, "Draw")
    assert "your trained model" in text(page, ".model-source")
    open_tab(page, "Train")


def test_pause_takes_effect_within_a_second(app):
    page = app.page
    slider(page, 30, ["End"])  # 30 epochs: training will not end by itself
    wait_text(page, ".train-status", lambda t: "/30" in t, what="30 epochs")
    page.get_by_role("button", name="Start").click()
    wait_text(page, ".train-status", lambda t: "Training" in t and (status_numbers(page) or (0, 0))[1] >= 3,
              what="training under way")
    page.get_by_role("button", name="Pause").click()
    clicked = time.perf_counter()
    time.sleep(1.0)
    at_one_second = status_numbers(page)
    time.sleep(1.0)
    assert status_numbers(page) == at_one_second, "batches still ran more than a second after Pause"
    assert "Paused" in text(page, ".train-status") and time.perf_counter() - clicked < 5


def test_divergence_is_explained_and_stops(app):
    page = app.page
    page.get_by_role("button", name="Reset").click()
    slider(page, 9, ["End"])  # learning rate 10
    wait_text(page, ".train-status", lambda t: "learning rate 10" in t, what="learning rate 10")
    page.get_by_role("button", name="Start").click()
    alert = wait_text(page, ".train-alert", lambda t: "diverged" in t, timeout=60, what="the divergence alert")
    assert "smaller learning rate" in alert and "last good values" in alert
    assert "Training" not in text(page, ".train-status")


def test_screenshots_of_every_tab(app):
    page = app.page
    SHOTS.mkdir(parents=True, exist_ok=True)
    for tab in ("Train", "Inspect", "Gradient check", "Draw", "Model"):
        open_tab(page, tab)
        time.sleep(1.5)
        path = SHOTS / f"{app.kind}-{tab.split()[0].lower()}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000


def test_no_console_errors_and_no_foreign_requests(app):
    assert app.errors == []
    assert app.foreign_requests() == []


pytestmark = pytest.mark.browser
