"""The class's handwriting on the built page: drawings labelled and kept, still there after a
reload, downloaded as one file, imported into a fresh browser (merged without duplicates, a bad
file refused with nothing lost), and read by the model in use beside MNIST's test digits."""
import re

import pytest
from playwright.sync_api import expect

from browser import draw, open_session, text, wait_text
from webnet.drawings import Drawings

pytestmark = pytest.mark.browser
ONE = [[(0.5, 0.12), (0.5, 0.88)]]
SEVEN = [[(0.2, 0.15), (0.8, 0.15), (0.4, 0.9)]]


def kept(page):
    return page.locator(".drawings-gallery figure")


def keep(page, strokes, label):
    page.get_by_role("button", name="Clear").click()
    draw(page, strokes)
    page.get_by_label("This is a", exact=True).select_option(label)
    page.get_by_role("button", name=f"Keep as a {label}").click()
    wait_text(page, ".drawings-message", f"Kept as a {label}")


def test_drawings_are_kept_exported_imported_and_evaluated(browser, static_url, tmp_path):
    session = open_session(browser, static_url + "?tab=draw")
    session.wait_interactive()
    page = session.page
    wait_text(page, ".class-drawings", "No drawings kept yet")
    keep(page, ONE, "1")
    keep(page, SEVEN, "7")
    keep(page, ONE, "4")  # a deliberately wrong label: the model reads it as a 1
    expect(kept(page)).to_have_count(3)
    assert kept(page).evaluate_all("fs => fs.map(f => f.dataset.label)") == ["4", "7", "1"]  # the newest first
    summary = text(page, ".drawings-summary")
    assert re.search(r"reads [23] of your 3 drawings right .*2,000 test digits: 99\.\d %", summary), summary
    assert "read as 1" in text(page, ".drawings-wrong")
    page.reload()  # kept in the browser
    session.wait_interactive()
    expect(kept(page)).to_have_count(3)
    page.get_by_role("button", name="Remove #3 (4)").click()
    expect(kept(page)).to_have_count(2)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the drawings (.npz)").click()
    path = tmp_path / "anna.npz"
    download.value.save_as(path)
    assert Drawings.load(path).labels.tolist() == [1, 7]
    assert session.errors == []
    page.context.close()

    # a fresh browser: the file imported (twice: nothing doubled), a bad one refused
    session = open_session(browser, static_url + "?tab=draw&n=1000&epochs=1")
    session.wait_interactive()
    page = session.page
    wait_text(page, ".class-drawings", "No drawings kept yet")
    upload = page.locator(".upload-drawings input[type=file]")
    upload.set_input_files(str(path))
    wait_text(page, ".drawings-message", "anna.npz: 2 new drawings added (2 kept")
    expect(kept(page)).to_have_count(2)
    boris = tmp_path / "boris.npz"  # another student's file with the same drawings
    boris.write_bytes(path.read_bytes())
    upload.set_input_files(str(boris))
    wait_text(page, ".drawings-message", "boris.npz: 0 new drawings added (2 kept")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    upload.set_input_files(str(bad))
    wait_text(page, ".drawings-message", "bad.npz was not imported")
    expect(kept(page)).to_have_count(2)
    wait_text(page, ".drawings-summary", re.compile(r"reads 2 of your 2 drawings right \(100\.0 %\)"))
    # trained on MNIST + the drawings: with two of each digit, one is held out and one trained on
    keep(page, [[(0.4, 0.12), (0.42, 0.88)]], "1")
    keep(page, [[(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]], "7")
    page.get_by_role("button", name="Train on MNIST + our drawings").click()
    expect(page.get_by_role("tab", name="Train")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("checkbox", name="Also train on our kept drawings (a quarter held out)")).to_be_checked()
    page.get_by_role("button", name="Start").click()
    wait_text(page, ".train-status", "Finished", timeout=120_000)
    wait_text(page, ".runs-table", "of our drawings")
    page.get_by_role("tab", name="Draw").click()
    held = wait_text(page, ".drawings-summary", re.compile(r"on the 2 drawings held out \(never trained on\) it is right"))
    assert "This run trained on 2 of them" in held, held
    assert session.errors == []
    page.context.close()
