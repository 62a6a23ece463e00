"""After one visit the lab works without the network (the service worker, site/page/sw.js), and a
new build replaces the old one whole: a page never mixes two builds' files.

"Without the network" is real here: the server serving the site is shut down."""
import json
import re
import shutil
import sys

import pytest

from browser import ROOT, open_session, open_tab, serve_site, wait_text

sys.path.insert(0, str(ROOT / "site"))
from builder.check import write_service_worker  # noqa: E402

pytestmark = pytest.mark.browser
SITE = ROOT / "dist" / "site"

CONTROLLED = "() => navigator.serviceWorker.controller !== null"
CACHES = "() => caches.keys()"
# asks for a new sw.js; the state its install ends in ("none" when sw.js did not change)
UPDATE = """async () => {
  const r = await navigator.serviceWorker.getRegistration()
  await r.update()
  const w = r.installing || r.waiting
  if (!w) return "none"
  const done = () => w.state === "installed" || w.state === "redundant"
  if (!done()) await new Promise((resolve) => w.addEventListener("statechange", () => done() && resolve()))
  return w.state
}"""
MANIFEST_NAME = "() => fetch('./manifest.webmanifest').then((r) => r.json()).then((m) => m.name)"


@pytest.fixture
def site(tmp_path):
    """A copy of the built site, served; yields (folder, url, server)."""
    folder = tmp_path / "site"
    shutil.copytree(SITE, folder)
    url, server = serve_site(folder)
    yield folder, url, server
    server.shutdown()
    server.server_close()


def visit(browser, url):
    session = open_session(browser, url, service_workers="allow")
    session.wait_interactive()
    return session


def rebuild(folder, name):
    """The site as a new build would be: a different manifest and title, new SHA256SUMS and sw.js."""
    manifest = json.loads((folder / "manifest.webmanifest").read_text())
    manifest["name"] = name
    (folder / "manifest.webmanifest").write_text(json.dumps(manifest))
    index = folder / "index.html"
    index.write_text(re.sub(r"<title>[^<]*</title>", f"<title>{name}</title>", index.read_text()))
    for stale in folder.glob("*.[bg][rz]"):  # their precompressed copies would not match
        stale.unlink()
    write_service_worker(folder)


def test_after_one_visit_the_lab_works_with_the_server_gone(browser, site):
    folder, url, server = site
    session = visit(browser, url)
    page = session.page
    # the first visit is taken over once every file is kept: tabs opened later need no network
    page.wait_for_function(CONTROLLED, timeout=120_000)
    assert len(page.evaluate(CACHES)) == 1
    server.shutdown()
    server.server_close()
    open_tab(page, "Model")  # its stylesheets are fetched now, from the service worker
    wait_text(page, ".model-current", "Model in use: pretrained")
    page.reload()  # a reload without the network
    session.wait_interactive()
    open_tab(page, "Draw")
    page.get_by_role("button", name="A random test digit").click()
    wait_text(page, ".prediction", re.compile(r"\d"))
    assert session.errors == []
    page.context.close()


def test_a_half_deploy_is_refused_and_a_new_build_waits_until_the_old_one_is_closed(browser, site):
    folder, url, server = site
    session = visit(browser, url)
    page = session.page
    page.wait_for_function(CONTROLLED, timeout=120_000)
    old_name, old_title = page.evaluate(MANIFEST_NAME), page.title()
    old_manifest = (folder / "manifest.webmanifest").read_text()
    rebuild(folder, "webnet lab B")
    new_manifest = (folder / "manifest.webmanifest").read_text()

    # a deploy half done: the new sw.js and index.html, the old manifest. The new version's install
    # finds a file that is not what its list says and fails; the open page stays whole on the old one
    (folder / "manifest.webmanifest").write_text(old_manifest)
    assert page.evaluate(UPDATE) == "redundant"
    page.reload()
    session.wait_interactive()
    assert page.evaluate(MANIFEST_NAME) == old_name and page.title() == old_title

    # the deploy completed: the new version installs and waits while a tab of the old one is open
    (folder / "manifest.webmanifest").write_text(new_manifest)
    assert page.evaluate(UPDATE) == "installed"
    page.reload()
    session.wait_interactive()
    assert page.evaluate(MANIFEST_NAME) == old_name and page.title() == old_title

    # every tab of the old version closed: the next visit is the new build, whole, with its cache only
    context = page.context
    page.close()
    page = context.new_page()
    page.goto(url)
    page.wait_for_function(CONTROLLED, timeout=120_000)
    page.wait_for_function("() => caches.keys().then((k) => k.length === 1)", timeout=60_000)
    assert page.evaluate(MANIFEST_NAME) == "webnet lab B" and page.title() == "webnet lab B"
    (key,) = page.evaluate(CACHES)
    assert key.removeprefix("webnet-") in (folder / "sw.js").read_text()
    context.close()


def test_the_page_works_where_service_workers_are_unavailable(browser, site):
    folder, url, server = site
    session = open_session(browser, url, service_workers="block")
    session.wait_interactive()
    open_tab(session.page, "Model")
    wait_text(session.page, ".model-current", "Model in use: pretrained")
    assert session.page.evaluate(CONTROLLED) is False and session.errors == []
    session.page.context.close()
