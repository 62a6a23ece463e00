"""The build package (site/builder): third-party edits apply exactly once or stop the build, the
page's files are filled in, the private APIs it relies on still exist, and .venv runs the same
patched bokeh as the page."""
import importlib
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from functools import partial
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "site"))

from builder import check, pack, page, pins, wheels  # noqa: E402
from builder.common import BuildError, replace_once  # noqa: E402
from builder.private_apis import PRIVATE_APIS  # noqa: E402


def make_wheel(path, files):
    with zipfile.ZipFile(path, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return path


@pytest.mark.parametrize("old", ["b", re.compile("b")], ids=["text", "regex"])
def test_replace_once_counts_its_matches(old):
    assert replace_once("abc", old, "X", "f") == "aXc"
    for text, found in (("ac", 0), ("abcb", 2)):
        with pytest.raises(BuildError, match=f"f: expected 'b' exactly once, found it {found} times"):
            replace_once(text, old, "X", "f")


def test_rewrite_wheel_drops_files_applies_patches_and_rewrites_record(tmp_path):
    src = make_wheel(tmp_path / "pkg-1.0-py3-none-any.whl", {
        "pkg/a.py": "x = 1\nif slow:\n    work()\n", "pkg/static/big.js": "...", "pkg/b.py": "y = 2\n",
        "pkg-1.0.dist-info/RECORD": "pkg/a.py,sha256=old,20\n"})
    out = wheels.rewrite_wheel(src, tmp_path / "out.whl", re.compile(r"^pkg/static/"),
                               [("pkg/a.py", "if slow:\n", "if False:\n")])
    with zipfile.ZipFile(out) as z:
        assert sorted(z.namelist()) == ["pkg-1.0.dist-info/RECORD", "pkg/a.py", "pkg/b.py"]
        assert z.read("pkg/a.py").decode() == "x = 1\nif False:\n    work()\n"
        record = z.read("pkg-1.0.dist-info/RECORD").decode()
    assert "sha256=old" not in record and "pkg/static" not in record
    import base64
    import hashlib
    digest = base64.urlsafe_b64encode(hashlib.sha256(b"x = 1\nif False:\n    work()\n").digest()).rstrip(b"=")
    assert f"pkg/a.py,sha256={digest.decode()},27" in record


def test_pack_hosts_a_wheel_as_one_brotli_stream_of_its_stored_files(tmp_path, monkeypatch):
    """What the page's loader decodes (site/page/wheels.js) is the same wheel, members stored, in
    the same order; smaller than the deflated wheel when its files repeat each other."""
    import brotli

    monkeypatch.setattr(pack, "CACHE", tmp_path / "cache")
    files = {f"pkg/m{i}.py": f"def f{i}(x):\n    return x + {i}  # a module much like the others\n" * 40
             for i in range(30)}
    files["pkg-1.0.dist-info/RECORD"] = "..."
    wheel = tmp_path / "pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            z.writestr(name, text)
    size = wheel.stat().st_size
    packed = pack.pack(wheel)
    assert packed.name == "pkg-1.0-py3-none-any.whl.brotli" and not wheel.exists()
    assert packed.stat().st_size < size / 2
    with zipfile.ZipFile(io.BytesIO(brotli.decompress(packed.read_bytes()))) as z:
        assert z.namelist() == list(files)
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_STORED}
        assert all(z.read(name).decode() == text for name, text in files.items())
    assert pack.pack(wheel) == packed  # the lock step run again: packed already
    assert len(list((tmp_path / "cache" / "pack").iterdir())) == 1  # kept for the next build


@pytest.mark.parametrize("patch, message", [
    (("pkg/a.py", "not there\n", "x"), "expected 'not there\\n' exactly once, found it 0 times"),
    (("pkg/a.py", "x", "y"), "found it 2 times"),
    (("pkg/missing.py", "x", "y"), "no ['pkg/missing.py'] to patch"),
])
def test_rewrite_wheel_refuses_a_patch_that_does_not_apply(tmp_path, patch, message):
    src = make_wheel(tmp_path / "pkg-1.0-py3-none-any.whl", {"pkg/a.py": "x = 1\nx = 2\n"})
    dst = tmp_path / "out.whl"
    with pytest.raises(BuildError, match=re.escape(message)):
        wheels.rewrite_wheel(src, dst, None, [patch])
    assert not dst.exists() and not list(tmp_path.glob("*.tmp"))


def test_venv_runs_the_pages_patched_bokeh():
    """panel serve and these tests import the bokeh the page runs: every patch is applied here too."""
    import bokeh

    site_packages = Path(bokeh.__file__).parent.parent
    for path, old, new in [patch for prefix in wheels.VENV_PATCHED for patch in wheels.PATCHES[prefix]]:
        text = (site_packages / path).read_text(encoding="utf-8")
        assert new in text and old not in text, path


@pytest.fixture(scope="module")
def patched_panel(tmp_path_factory):
    """The page's patched Panel, natively: the pinned wheel with PANEL_PATCHES, unpacked."""
    (wheel,) = wheels.patched_wheels(["panel-"])
    where = tmp_path_factory.mktemp("patched-panel")
    with zipfile.ZipFile(wheel) as z:
        z.extractall(where)
    return where


def run_with(panel_dir, code):
    """``code`` in a fresh interpreter that imports Panel from ``panel_dir``; its stdout."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(panel_dir), str(ROOT / "site")]))
    return subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True, text=True).stdout


def test_panels_sanitizer_answers_as_bleach_does(patched_panel):
    """The Panel patch returns plain text as it is, without bleach: the answer must be bleach's."""
    out = run_with(patched_panel, """
import bleach, panel.util
from hypothesis import given, settings, strategies as st
assert 'webnet' in open(panel.util.__file__).read()
cleaner = bleach.sanitizer.Cleaner(strip=True)
@settings(max_examples=3000, deadline=None)
@given(st.text(max_size=30) | st.sampled_from(["wrap", "8px", "space-between", "a<b>c</b>", "&amp;", "x\\r\\ny"]))
def same(text):
    assert panel.util.HTML_SANITIZER.clean(text) == cleaner.clean(text), text
same()
print("same answers")
""")
    assert out.strip() == "same answers"


def test_panel_imports_what_it_defers_when_asked(patched_panel):
    """The Panel patch defers chat, templates and pipelines: they are not imported by `import panel`,
    and each name still gives what it gave."""
    out = run_with(patched_panel, """
import sys, panel as pn
assert 'webnet' in open(pn.__file__).read()
deferred = ['panel.chat', 'panel.template', 'panel.pipeline']
print([m for m in deferred if m in sys.modules])
from panel.template import Template
from panel.interact import interact
assert pn.Template is Template and pn.interact is interact and callable(pn.interact)
assert pn.chat.ChatInterface and pn.template.FastListTemplate and pn.pipeline.Pipeline
assert not hasattr(pn, 'no_such_name')  # (an AttributeError; anything else would be raised)
""")
    assert out.strip() == "[]"


def test_bokeh_patches_keep_overridden_defaults():
    """The second patch caches each class's merged overridden defaults: the result must equal the
    merge along the MRO that bokeh computes unpatched."""
    from bokeh.models import Button, Plot

    for cls in (Plot, Button):
        merged = {}
        for c in reversed(cls.__mro__):
            merged.update(getattr(c, "__overridden_defaults__", {}))
        assert cls._overridden_defaults() == merged


def test_page_is_filled_in():
    files = page.fill_page("9.9.9")
    html, worker = files["index.html"], files["worker.js"]
    assert "data-webnet-inline" not in html and html.index('new Worker("./worker.js"') < html.index("</head>")
    scripts = json.loads(re.search(r"const SCRIPTS = (\[.*?\]);", html).group(1))
    assert scripts[-1] == "./panel/dist/panel.min.js" and "./bokeh/bokeh-9.9.9.min.js" in scripts
    assert "@keyframes webnet-spin" in html  # the cheaper loading spinner
    texts = json.loads(re.search(r"const TEXTS = (\{.*?\});\n", worker).group(1))
    assert texts["ru"]["page.loading_python"] == "Загрузка Python" and texts["en"]["page.starting"] == "Starting the lab"
    assert set(texts) == {"en", "ru"} and "Loading Python" not in worker.replace(json.dumps(texts, ensure_ascii=False), "")
    packages = json.loads(re.search(r"const PACKAGES = (\[.*?\]);", worker).group(1))
    assert packages == list(pins.APP_PACKAGES) and "webnet-lab" in packages
    app = json.loads(re.search(r'const APP_SOURCE = (".*?");\n', worker, re.S).group(1))
    assert app == (ROOT / "site" / "app.py").read_text()
    # the check step sees every script the page loads
    assert {"./worker.js", *scripts} <= set(check.local_refs(html))
    assert {"./pyodide/pyodide.js", "./wheels.js"} <= set(check.local_refs(worker))
    # python.js is part of worker.js (one request fewer), once
    python = (ROOT / "site" / "page" / "python.js").read_text().replace('"use strict";\n', "", 1)
    assert worker.count(python) == 1 and "python.js" not in files and "./python.js" not in check.local_refs(worker)


def test_page_placeholders_are_there_once():
    """Each file the build fills in has its placeholder exactly once (else the build stops)."""
    page_dir = ROOT / "site" / "page"
    assert (page_dir / "start.js").read_text().count("/* webnet:scripts */ []") == 1
    assert (page_dir / "worker.js").read_text().count("/* webnet:packages */ []") == 1
    assert (page_dir / "worker.js").read_text().count('/* webnet:app */ ""') == 1
    assert (page_dir / "worker.js").read_text().count("/* webnet:python.js */\n") == 1


def defined_in(module, name):
    """True if ``module``'s source defines the function ``name`` (without importing it: some
    modules import Pyodide's ``js``)."""
    import ast

    source = Path(importlib.util.find_spec(module).origin).read_text(encoding="utf-8")
    return any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name
               for n in ast.walk(ast.parse(source)))


def schedule_on_load():
    from panel.io.state import state
    return callable(state._schedule_on_load)


def template_variables():
    from bokeh.document import Document
    return isinstance(Document()._template_variables, dict)


def code_to_timestamp_pyc():
    import importlib._bootstrap_external as ext
    return callable(ext._code_to_timestamp_pyc)


def socket_write_lock():
    from bokeh.server.views import ws
    return "self.write_lock = locks.Lock()" in Path(ws.__file__).read_text(encoding="utf-8")


CHECKS = {  # the Python ones; Pyodide's are exercised by the page itself (tests/test_site.py)
    **{f"panel.io.document.{name}": partial(defined_in, "panel.io.document", name)
       for name in ("dispatch_tornado", "schedule_write_events", "write_events")},
    "bokeh.server.connection.ServerConnection.send_patch_document":
        lambda: defined_in("bokeh.server.connection", "send_patch_document"),
    "bokeh.server.views.ws.WSHandler.write_lock": socket_write_lock,
    "panel.io.pyodide._link_docs_worker": lambda: defined_in("panel.io.pyodide", "_link_docs_worker"),
    "panel.io.pyodide._convert_json_patch": lambda: defined_in("panel.io.pyodide", "_convert_json_patch"),
    "panel.io.state.state._schedule_on_load": schedule_on_load,
    "bokeh Document._template_variables['dist_url']": template_variables,
    "importlib._bootstrap_external._code_to_timestamp_pyc": code_to_timestamp_pyc,
}


@pytest.mark.parametrize("version, name, where, why", PRIVATE_APIS, ids=[a[1] for a in PRIVATE_APIS])
def test_private_apis_exist_in_the_pinned_versions(version, name, where, why):
    import panel

    text = (ROOT / where).read_text()
    assert re.sub(r"\[.*", "", name).rsplit(".", 1)[-1] in text, f"{where} no longer uses {name}: update the list"
    if version.startswith("Panel"):
        assert panel.__version__ == version.split()[1]
    if version.startswith("bokeh"):
        import bokeh

        assert bokeh.__version__ == version.split()[1]
    if version.startswith("Pyodide"):
        assert pins.PYODIDE_VERSION == version.split()[1]
    else:
        assert CHECKS[name](), name
