"""After one visit the lab works without the network (the service worker, site/page/sw.js), a new
build replaces the old one whole: a page never mixes two builds' files, and later visits restore
the Python the first one kept (site/page/python.js), or start afresh when that cannot be used.

"Without the network" is real here: the server serving the site is shut down."""
import json
import re
import shutil
import sys

import pytest

from browser import ROOT, draw, open_session, open_tab, serve_site, train_one_short_epoch, wait_text

sys.path.insert(0, str(ROOT / "site"))
from builder.check import write_service_worker  # noqa: E402

pytestmark = pytest.mark.browser
SITE = ROOT / "dist" / "site"

CONTROLLED = "() => navigator.serviceWorker.controller !== null"
KEPT = "() => document.documentElement.dataset.webnetKept"  # set when the keeper worker is done
PYTHON = "() => document.documentElement.dataset.webnetPython"  # how Python started: fresh, restored
KEPT_PREFIX = "webnet-python-"
CACHES = f"() => caches.keys().then((k) => k.filter((n) => !n.startsWith('{KEPT_PREFIX}')))"  # the site's
KEPT_CACHES = f"() => caches.keys().then((k) => k.filter((n) => n.startsWith('{KEPT_PREFIX}')))"
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


def kept_visit(browser, url):
    """A first visit, once it is served by the service worker and has kept its Python."""
    session = visit(browser, url)
    page = session.page
    assert page.evaluate(PYTHON) == "fresh"
    page.wait_for_function(CONTROLLED, timeout=120_000)
    page.wait_for_function(KEPT, timeout=120_000)
    assert page.evaluate(KEPT) == "kept"
    return session


def new_tab(session):
    """A new tab of the session's browser context at its URL (a visit after the first), interactive."""
    page = session.watch(session.page.context.new_page())
    page.goto(session.url)
    session.wait_interactive()
    return page


def assets(folder):
    """The build's version of its files but index.html, as the page and sw.js name it."""
    return re.search(r'const ASSETS = "([0-9a-f]+)"', (folder / "sw.js").read_text()).group(1)


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
    page.wait_for_function(KEPT, timeout=120_000)  # (the reload restores it, as a next visit would)
    server.shutdown()
    server.server_close()
    open_tab(page, "Model")  # its stylesheets are fetched now, from the service worker
    wait_text(page, ".model-current", "Model in use: pretrained")
    page.reload()  # a reload without the network
    session.wait_interactive()
    assert page.evaluate(PYTHON) == "restored"
    open_tab(page, "Draw")
    page.get_by_role("button", name="A random test digit").click()
    wait_text(page, ".prediction", re.compile(r"\d"))
    assert session.errors == []
    page.context.close()


def test_a_half_deploy_is_refused_and_a_new_build_waits_until_the_old_one_is_closed(browser, site):
    folder, url, server = site
    session = kept_visit(browser, url)
    page = session.page
    old_name, old_title = page.evaluate(MANIFEST_NAME), page.title()
    assert page.evaluate(KEPT_CACHES) == [KEPT_PREFIX + assets(folder)]
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
    assert page.evaluate(PYTHON) == "restored"  # the old build's, with the old build's files

    # the deploy completed: the new version installs and waits while a tab of the old one is open
    (folder / "manifest.webmanifest").write_text(new_manifest)
    assert page.evaluate(UPDATE) == "installed"
    page.reload()
    session.wait_interactive()
    assert page.evaluate(MANIFEST_NAME) == old_name and page.title() == old_title

    # every tab of the old version closed: the next visit is the new build, whole, with its cache
    # only; the old build's kept Python is gone with it, and the new build's is kept afresh
    context = page.context
    page.close()
    page = context.new_page()
    page.goto(url)
    page.wait_for_function(CONTROLLED, timeout=120_000)
    page.wait_for_function(f"() => ({CACHES})().then((k) => k.length === 1)", timeout=60_000)
    assert page.evaluate(MANIFEST_NAME) == "webnet lab B" and page.title() == "webnet lab B"
    (key,) = page.evaluate(CACHES)
    assert key.removeprefix("webnet-") in (folder / "sw.js").read_text()
    page.wait_for_function(PYTHON, timeout=120_000)
    assert page.evaluate(PYTHON) == "fresh"
    page.wait_for_function(KEPT, timeout=120_000)
    assert page.evaluate(KEPT_CACHES) == [KEPT_PREFIX + assets(folder)]
    context.close()


def test_the_page_works_where_service_workers_are_unavailable(browser, site):
    folder, url, server = site
    session = open_session(browser, url, service_workers="block")
    session.wait_interactive()
    open_tab(session.page, "Model")
    wait_text(session.page, ".model-current", "Model in use: pretrained")
    assert session.page.evaluate(CONTROLLED) is False and session.errors == []
    # nothing is kept either: Python starts afresh on every visit, as before
    assert session.page.evaluate(PYTHON) == "fresh" and session.page.evaluate(KEPT) is None
    assert session.page.evaluate(KEPT_CACHES) == []
    session.page.context.close()


def test_a_later_visit_restores_the_kept_python_and_every_part_of_the_lab_works(browser, site):
    folder, url, server = site
    session = kept_visit(browser, url)
    page = new_tab(session)
    assert page.evaluate(PYTHON) == "restored"
    # numpy's compiled extensions (restored in place), the WebAssembly kernel, the pretrained model
    assert train_one_short_epoch(page) > 0.8
    open_tab(page, "Draw")
    assert "looks like a 1" in draw(page, [[(0.5, 0.15), (0.5, 0.85)]])
    open_tab(page, "Gradient check")
    page.get_by_role("button", name="Check the gradients").click()
    wait_text(page, ".gradcheck-table", "verdict")
    assert session.errors == []
    page.context.close()


DAMAGE = {  # what a visit finds kept, damaged: the cache entry and what it holds instead
    "garbage memory": ("./memory", "new Uint8Array(4096).fill(7)"),
    "truncated files": ("./files", "new Uint8Array(10)"),
    "meta not JSON": ("./meta", "new TextEncoder().encode('{not json')"),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_kept_python_is_not_used_and_the_lab_starts_afresh(browser, site, damage):
    folder, url, server = site
    session = kept_visit(browser, url)
    entry, body = DAMAGE[damage]
    session.page.evaluate(f"""async () => {{
      const cache = await caches.open("{KEPT_PREFIX + assets(folder)}")
      await cache.put("{entry}", new Response({body}))
    }}""")
    page = new_tab(session)
    assert page.evaluate(PYTHON) == "fresh"
    open_tab(page, "Draw")
    assert "looks like a 1" in draw(page, [[(0.5, 0.15), (0.5, 0.85)]])
    assert any("the Python kept from an earlier visit is not used" in line for line in session.logs)
    # forgotten, and not kept again for this build: the next visit starts afresh, and keeps nothing
    cache = f"caches.open('{KEPT_PREFIX + assets(folder)}')"
    assert page.evaluate(f"() => {cache}.then((c) => c.keys()).then((k) => k.map((r) => r.url.split('/').pop()))") \
        == ["failed"]
    page = new_tab(session)
    assert page.evaluate(PYTHON) == "fresh" and page.evaluate(KEPT) is None
    assert session.errors == []
    page.context.close()
