from pathlib import Path

import pytest

from browser import CHROMIUM, CHROMIUM_ARGS, open_session, panel_serve, serve_site

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "dist" / "site"


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `python3 build.py test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def static_url():
    if not (SITE / "SHA256SUMS").exists():
        pytest.fail("dist/site is not built: run `python3 build.py build` (or `python3 build.py test`)")
    url, server = serve_site(SITE)
    yield url
    server.shutdown()


@pytest.fixture(scope="session")
def served_url():
    url, proc = panel_serve()
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module", params=["static", "panel_serve"])
def target(request):
    """The app's URL, once as the built static page and once under `panel serve`."""
    return request.param, request.getfixturevalue("static_url" if request.param == "static" else "served_url")


@pytest.fixture(scope="module")
def app(browser, target):
    """One loaded page of the app per target, shared by the module's tests."""
    kind, url = target
    session = open_session(browser, url, has_touch=True)
    session.kind = kind
    session.wait_interactive()
    yield session
    session.page.context.close()
