"""A link to an experiment, on the built page: it restores the settings and the open tab, the
address follows every change, Copy link copies it, and two pages opened from one link in two
browser contexts train bit for bit alike."""
import pytest
from playwright.sync_api import expect

from browser import choose, open_session, open_tab, wait_text

pytestmark = pytest.mark.browser
LINK = "?arch=lenet&lr=0.03&batch=32&epochs=4&n=1000&seed=5&augment=1&tab=inspect"
LOSSES = "() => Array.from(Bokeh.documents[0].get_model_by_name('train-loss').data.y)"


def open_link(browser, url):
    session = open_session(browser, url + LINK)
    session.wait_interactive()
    return session


def test_a_link_restores_the_settings_and_the_address_follows_them(browser, static_url):
    session = open_link(browser, static_url)
    page = session.page
    expect(page.get_by_role("tab", name="Inspect")).to_have_attribute("aria-selected", "true")
    open_tab(page, "Train")
    wait_text(page, ".arch-note", "LeNet: two convolutions")
    assert page.get_by_label("Learning rate", exact=True).evaluate("s => s.options[s.selectedIndex].text") == "0.03"
    assert page.get_by_label("Distort the training digits (augmentation)").is_checked()
    entries = page.evaluate("() => history.length")
    choose(page, "Learning rate", "0.1")
    page.wait_for_function("() => new URLSearchParams(location.search).get('lr') === '0.1'")
    choose(page, "Batch size", "64")
    page.wait_for_function("() => new URLSearchParams(location.search).get('batch') === '64'")
    choose(page, "Batch size", "32")
    page.wait_for_function("() => new URLSearchParams(location.search).get('batch') === '32'")
    assert page.evaluate("() => history.length") == entries  # Back leaves the lab, not a setting
    query = page.evaluate("() => Object.fromEntries(new URLSearchParams(location.search))")
    assert query == {"arch": "lenet", "lr": "0.1", "batch": "32", "epochs": "4", "n": "1000", "seed": "5",
                     "augment": "1", "exercise": query["exercise"], "tab": "train", "lang": "en"}
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy link").click()
    wait_text(page, ".copy-link-note", "copied")
    assert page.evaluate("() => navigator.clipboard.readText()") == page.url
    assert session.errors == []
    page.context.close()


def test_a_bad_link_says_what_it_could_not_use(browser, static_url):
    session = open_session(browser, static_url + "?lr=banana&epochs=7")
    session.wait_interactive()
    wait_text(session.page, ".link-problems", "lr=banana")
    open_tab(session.page, "Train")
    page = session.page
    assert page.get_by_label("Learning rate", exact=True).evaluate("s => s.options[s.selectedIndex].text") == "0.1"
    session.page.context.close()


def test_two_pages_from_one_link_train_bit_for_bit(browser, static_url):
    losses = []
    for _ in range(2):  # two browser contexts: nothing shared but the link
        session = open_link(browser, static_url)
        page = session.page
        open_tab(page, "Train")
        for n in range(1, 6):
            page.get_by_role("button", name="Step (one batch)").click()
            wait_text(page, ".train-status", f"batch {n}/")
        page.wait_for_function(f"() => ({LOSSES})().length === 5")
        losses.append(page.evaluate(LOSSES))
        page.context.close()
    assert losses[0] == losses[1] and len(set(losses[0])) == 5


def test_share_shows_the_link_as_a_qr_code_that_reads_back(browser, static_url):
    import io

    import zxingcpp
    from PIL import Image

    session = open_link(browser, static_url)
    page = session.page
    assert not any("/segno-" in u for u in session.requests)  # not loaded at start-up
    page.get_by_role("button", name="Share (QR code)").click()
    code = page.locator(".share-qr svg")
    expect(code).to_be_visible()
    shown = page.locator(".share-url").inner_text()
    assert shown.startswith(static_url + "?arch=lenet&") and "lr=0.03" in shown and "seed=5" in shown
    (found,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(code.screenshot())))
    assert found.text == shown
    assert any("/segno-" in u for u in session.requests)  # loaded when first used
    page.get_by_role("button", name="Hide the QR code").click()  # the button says what it does next
    expect(page.locator(".share-box")).to_be_hidden()
    share = page.get_by_role("button", name="Share (QR code)")
    expect(share).to_have_count(1)
    share.click()
    expect(code).to_be_visible()
    page.keyboard.press("Escape")  # hides it as the button does, which keeps the focus
    expect(page.locator(".share-box")).to_be_hidden()
    expect(share).to_be_focused()
    assert session.errors == []
    page.context.close()
