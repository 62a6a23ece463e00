"""Retake docs/screenshots/*.png from the built static page, in headless Chromium: a network
trained for three epochs, then each tab as a student would see it.

    python3 build.py build && .venv/bin/python docs/screenshots.py [--classroom]

(``--classroom``: only the comparison of runs and the class's drawings.)
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "site"))

from browser import CHROMIUM, CHROMIUM_ARGS, Session, draw, open_session, open_tab, serve_site, slider, wait_text  # noqa: E402
from builder.common import SITE  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
SEVEN = [(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]


def shoot(page, name):
    page.wait_for_function("() => !document.querySelector('.pn-loading')")
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
    print(f"docs/screenshots/{name}.png")


def classroom(browser, url):
    """Two runs compared on the Train tab, and the class's kept drawings on the Draw tab."""
    from browser import choose

    s = open_session(browser, url + "?n=2000&epochs=2")
    s.wait_interactive()
    page = s.page
    for rate in ("0.1", "0.01"):
        page.get_by_role("button", name="Reset").click()
        choose(page, "Learning rate", rate)
        wait_text(page, ".train-status", f"learning rate {rate}")
        page.get_by_role("button", name="Start").click()
        wait_text(page, ".train-status", "Finished", timeout=300_000)
    wait_text(page, ".runs-table", "lr 0.01")
    page.locator(".compare-runs").first.screenshot(path=str(OUT / "compare.png"))
    print("docs/screenshots/compare.png")
    open_tab(page, "Draw")
    for strokes, label in (([SEVEN], "7"), ([[(0.5, 0.12), (0.5, 0.88)]], "1"),
                           ([[(0.3, 0.1), (0.3, 0.55), (0.75, 0.55)], [(0.62, 0.3), (0.62, 0.9)]], "4"),
                           ([[(0.5, 0.12), (0.5, 0.88)]], "7")):
        page.get_by_role("button", name="Clear").click()
        draw(page, strokes)
        page.get_by_label("This is a", exact=True).select_option(label)
        page.get_by_role("button", name=f"Keep as a {label}").click()
        wait_text(page, ".drawings-message", f"Kept as a {label}")
    page.locator(".class-drawings").first.screenshot(path=str(OUT / "drawings.png"))
    print("docs/screenshots/drawings.png")
    if s.errors:
        raise SystemExit(f"console errors: {s.errors}")
    s.page.context.close()


def main():
    from playwright.sync_api import sync_playwright

    url, server = serve_site(SITE)
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        classroom(browser, url)
        if "--classroom" in sys.argv:  # only these two
            browser.close()
            server.shutdown()
            return
        s = open_session(browser, url)
        s.wait_interactive()
        page = s.page
        slider(page, 10000, ["Home", "ArrowRight", "ArrowRight", "ArrowRight"])  # 4,000 training digits
        wait_text(page, ".train-status", "/125")
        page.get_by_role("button", name="Start").click()
        wait_text(page, ".train-status", "Finished", timeout=300_000)
        shoot(page, "train")
        open_tab(page, "Inspect")
        wait_text(page, ".inspect-summary", "trained:")
        shoot(page, "inspect")
        open_tab(page, "Gradient check")
        page.get_by_role("button", name="Check the gradients").click()
        wait_text(page, ".gradcheck-table", "verdict")
        shoot(page, "gradient")
        open_tab(page, "Draw")
        wait_text(page, ".prediction", re.compile("draw a digit", re.I))
        t = draw(page, [SEVEN])
        print("the drawn 7 reads as", re.search(r"looks like a (\d)", t).group(1))
        shoot(page, "draw")
        open_tab(page, "Inside")
        wait_text(page, ".inside-layers", "Layer 1")
        shoot(page, "inside")
        open_tab(page, "Exercises")
        page.locator(".webnet-code[data-ready='true']").wait_for()
        shoot(page, "exercises")
        open_tab(page, "Model")
        shoot(page, "model")
        phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                    has_touch=True, service_workers="block").new_page()
        phone.goto(url + "?lang=ru&tab=draw")
        Session(url, phone).wait_interactive()
        wait_text(phone, ".prediction", re.compile("нарисуйте", re.I))
        shoot(phone, "phone-draw-ru")
        if s.errors:
            raise SystemExit(f"console errors: {s.errors}")
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
