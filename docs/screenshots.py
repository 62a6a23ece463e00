"""Retake docs/screenshots/*.png from the built static page, in headless Chromium: a network
trained for three epochs, then each tab as a student would see it.

    python3 build.py build && .venv/bin/python docs/screenshots.py
"""
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from browser import CHROMIUM, CHROMIUM_ARGS, open_session, open_tab, serve_site, slider, stroke, wait_stable, wait_text  # noqa: E402

import build  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
SEVEN = [(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]


def shoot(page, name):
    time.sleep(1.0)  # let BokehJS finish drawing
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
    print(f"docs/screenshots/{name}.png")


def main():
    from playwright.sync_api import sync_playwright

    url, server = serve_site(build.SITE)
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        s = open_session(browser, url)
        s.wait_interactive()
        page = s.page
        slider(page, 10000, ["Home", "ArrowRight", "ArrowRight", "ArrowRight"])  # 4,000 training digits
        wait_text(page, ".train-status", lambda t: "/125" in t, what="4,000 digits")
        page.get_by_role("button", name="Start").click()
        wait_text(page, ".train-status", lambda t: "Finished" in t, timeout=300, what="three epochs")
        shoot(page, "train")
        open_tab(page, "Inspect")
        wait_text(page, ".inspect-summary", lambda t: "your trained model" in t, what="the evaluation")
        shoot(page, "inspect")
        open_tab(page, "Gradient check")
        page.get_by_role("button", name="Check the gradients").click()
        wait_text(page, ".gradcheck-table", lambda t: "verdict" in t and "network" in t, what="the gradient table")
        shoot(page, "gradient")
        open_tab(page, "Draw")
        wait_text(page, ".prediction", lambda t: "draw a digit" in t.lower(), what="the empty pad")
        stroke(page, SEVEN)
        t = wait_stable(page, ".prediction", lambda t: "looks like" in t, what="a prediction")
        print("the drawn 7 reads as", re.search(r"looks like a (\d)", t).group(1))
        shoot(page, "draw")
        open_tab(page, "Model")
        shoot(page, "model")
        if s.errors:
            raise SystemExit(f"console errors: {s.errors}")
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
