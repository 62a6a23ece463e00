"""build.py's rewrites of third-party files: each applies exactly, or stops the build by name."""
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import build  # noqa: E402


def make_wheel(path, files):
    with zipfile.ZipFile(path, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return path


def test_slim_drops_files_and_applies_patches(tmp_path):
    wheel = make_wheel(tmp_path / "pkg-1.0-py3-none-any.whl",
                       {"pkg/a.py": "x = 1\nif slow:\n    work()\n", "pkg/static/big.js": "...", "pkg/b.py": "y = 2\n"})
    build._slim(wheel, build.re.compile(r"^pkg/static/"), [("pkg/a.py", "if slow:\n", "if False:\n")])
    with zipfile.ZipFile(wheel) as z:
        assert sorted(z.namelist()) == ["pkg/a.py", "pkg/b.py"]
        assert z.read("pkg/a.py").decode() == "x = 1\nif False:\n    work()\n"


@pytest.mark.parametrize("patch, message", [
    (("pkg/a.py", "not there\n", "x"), "changed"),
    (("pkg/missing.py", "x", "y"), "no ['pkg/missing.py']"),
])
def test_slim_refuses_a_patch_that_does_not_apply(tmp_path, patch, message):
    wheel = make_wheel(tmp_path / "pkg-1.0-py3-none-any.whl", {"pkg/a.py": "x = 1\n"})
    before = wheel.read_bytes()
    with pytest.raises(build.BuildError, match=build.re.escape(message)):
        build._slim(wheel, build.re.compile("^$"), [patch])
    assert wheel.read_bytes() == before and not wheel.with_suffix(".tmp").exists()


def test_slim_again_on_a_compiled_wheel_is_a_no_op(tmp_path):
    """The optimize step may run twice: a wheel it already patched and compiled is left as it is."""
    wheel = make_wheel(tmp_path / "pkg-1.0-py3-none-any.whl", {"pkg/a.pyc": "compiled", "pkg/b.txt": "x"})
    build._slim(wheel, build.re.compile("(?!)"),
                [("pkg/a.py", "if slow:\n", "if False:\n")])
    with zipfile.ZipFile(wheel) as z:
        assert sorted(z.namelist()) == ["pkg/a.pyc", "pkg/b.txt"] and z.read("pkg/a.pyc") == b"compiled"


def test_bokeh_patches_fit_the_pinned_bokeh():
    """The pinned bokeh (the same in .venv and in the page) holds each patched text exactly once."""
    import bokeh

    site_packages = Path(bokeh.__file__).parent.parent
    for path, old, new in build.BOKEH_PATCHES:
        assert (site_packages / path).read_text(encoding="utf-8").count(old) == 1, path
        assert "webnet" in new


CONVERTED = """<html><head>
<script type="text/javascript" src="./bokeh/bokeh-3.7.3.min.js"></script>
<script type="text/javascript" src="./panel/dist/panel.min.js"></script>
<script type="text/javascript">
  Bokeh.set_log_level("info");
</script></head><body class="pn-loading pn-arc"><script type="text/javascript">
const pyodideWorker = new Worker("./app.js");
pyodideWorker.onmessage = async (event) => {
  if (msg.type === 'idle') {
  } else if (msg.type === 'status') {
  } else if (msg.type === 'render') {
  }
};
</script></body></html>"""


def test_page_starts_the_worker_first_and_loads_bokehjs_later():
    html = build.start_worker_first(CONVERTED)
    assert html.index('new Worker("./app.js")') < html.index("webnetLoadScripts")
    assert '<script type="text/javascript" src=' not in html  # no blocking script tag left
    assert '["./bokeh/bokeh-3.7.3.min.js", "./panel/dist/panel.min.js"]' in html
    assert "if (msg.msg === 'Executing code') window.webnetLoadScripts()" in html
    assert html.index("await window.webnetScripts") > html.index("msg.type === 'render'")
    assert html.index(build.SPINNER) < html.index("</head>")  # the cheaper loading spinner
    # the check step still sees every script the page loads
    assert {m.group(3) for m in build.LOCAL_REF.finditer(html) if m.group(3)} == {
        "./app.js", "./bokeh/bokeh-3.7.3.min.js", "./panel/dist/panel.min.js"}


@pytest.mark.parametrize("old, new", [("panel.min.js", "panel.js"),  # Panel's JS under another name
                                      (' class="pn-loading pn-arc"', "")])  # another loading spinner
def test_page_rewrite_stops_on_an_unexpected_page(old, new):
    with pytest.raises(build.BuildError, match="converted page changed"):
        build.start_worker_first(CONVERTED.replace(old, new))


def test_rewrites_fit_what_the_pinned_panel_convert_makes(tmp_path):
    """The page and worker rewrites, applied to what `panel convert` makes of a tiny app."""
    from panel.io.convert import convert_app

    app = tmp_path / "app.py"
    app.write_text("import panel as pn\n\npn.pane.HTML('<p>hi</p>').servable()\n")
    (tmp_path / "out").mkdir()
    assert convert_app(str(app), tmp_path / "out", runtime="pyodide-worker", requirements=["panel"], verbose=False,
                       prerender=False)
    html = (tmp_path / "out" / "app.html").read_text(encoding="utf-8")
    html = build.PANEL_CDN.sub("./panel/dist/", html).replace(build.BOKEH_CDN, "./bokeh/")
    page = build.start_worker_first(html)
    assert page.count('new Worker("./app.js")') == 1 and "webnetLoadScripts()" in page
    assert "@keyframes webnet-spin" in page
    worker = build.rewrite_worker((tmp_path / "out" / "app.js").read_text(encoding="utf-8"))
    assert 'importScripts("./pyodide/pyodide.js")' in worker and "micropip" not in worker
    # the packages come from site/wheels.js, started before Pyodide, and are installed once it is up
    assert 'worker.postMessage(["webnet", "panel"' in worker and "await self.pyodide.loadPackage(" not in worker
    assert 'return pyodide.loadPackage(["webnet", "panel"' in worker  # where workers cannot start workers
    assert worker.index('new Worker("./wheels.js")') < worker.index("loadPyodide(") < worker.index(
        "await webnetInstall(self.pyodide)")
    assert worker.index("state._schedule_on_load") < worker.index("_link_docs_worker(state.curdoc")
    assert "_template_variables['dist_url'] = './panel/dist/'" in worker
    # the garbage collector is off from Pyodide's start until the document has gone to the page
    assert worker.index("loadPyodide(") < worker.index("gc.disable()") < worker.index("await webnetInstall(")
    assert worker.index("type: 'render'") < worker.index("gc.freeze(); gc.enable()") < worker.index("catch(e)")
