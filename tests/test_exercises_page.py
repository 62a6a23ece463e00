"""The Exercises tab in headless Chromium, on the built static page and under `panel serve`: a
student pastes a layer into the editor, checks it, trains with it; an endless loop is stopped;
the code survives a reload."""
import re

import pytest
from playwright.sync_api import expect

from browser import check_layer, open_tab, paste_code, train_one_short_epoch, wait_text
from webnet.exercises import BUGS, EXERCISES

RELU = EXERCISES["relu"].solution
ENDLESS = RELU.replace("return np.maximum(x, 0)", "while True:\n            pass")


def test_a_correct_relu_reads_excellent(app):
    page = app.page
    open_tab(page, "Exercises")
    expect(page.locator(".exercise-statement")).to_contain_text("Write ReLU")
    paste_code(page, RELU)
    verdicts = check_layer(page)
    assert verdicts == ["excellent", "excellent"]  # forward, grad_x
    expect(page.locator(".exercise-results")).to_contain_text("All checks pass: ReLU is ready to train with.")


def test_a_buggy_relu_reads_wrong_and_shows_where(app):
    page = app.page
    paste_code(page, BUGS["relu_threshold"].source)
    verdicts = check_layer(page)
    assert verdicts == ["excellent", "wrong"]
    results = page.locator(".exercise-results")
    expect(results).to_contain_text("does not match the numeric gradient")
    expect(results.locator("img.diff-map")).to_have_count(1)


def test_train_with_the_correct_relu(app):
    page = app.page
    paste_code(page, RELU)
    assert check_layer(page) == ["excellent", "excellent"]
    page.get_by_role("button", name="Train with my layer").click()
    expect(page.locator(".train-status")).to_be_visible()  # the lab switched to the Train tab
    assert train_one_short_epoch(page) > 0.8


def test_an_endless_loop_is_stopped_and_the_page_goes_on(app):
    page = app.page
    open_tab(page, "Exercises")
    paste_code(page, ENDLESS)
    assert check_layer(page) == []
    expect(page.locator(".exercise-results")).to_contain_text(re.compile(r"stopped after 5 s.*line \d+"))
    open_tab(page, "Train")  # the lab still answers
    page.get_by_role("button", name="Reset").click()
    page.get_by_role("button", name="Step (one batch)").click()
    wait_text(page, ".train-status", "batch 1/")


def test_the_code_survives_a_reload(app):
    page = app.page
    open_tab(page, "Exercises")
    paste_code(page, RELU + "\n# kept across a reload\n")
    page.locator(".webnet-code").blur()
    page.reload()
    app.wait_interactive()
    open_tab(page, "Exercises")
    expect(page.locator(".webnet-code[data-ready='true']")).to_contain_text("# kept across a reload")
    assert check_layer(page) == ["excellent", "excellent"]  # and Python has it too


def test_no_console_errors(app):
    assert app.errors == []
    assert app.foreign_requests() == []


pytestmark = pytest.mark.browser
