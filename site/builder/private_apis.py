"""Every private API of another project that the lab relies on, with the version it was checked
against and where it is used. tests/test_build.py checks each one the tests can reach still exists
in the pinned versions; a new Panel, bokeh or Pyodide means going through this list."""

PRIVATE_APIS = (
    # (project version, name, used in, what for)
    ("Pyodide 0.27.7", "pyodide._api.sitepackages", "site/page/worker.js",
     "where the page's package loader writes the unzipped wheels"),
    ("Pyodide 0.27.7", "pyodide._api.loadDynlib", "site/page/worker.js",
     "loads numpy's compiled extensions as pyodide.loadPackage does"),
    ("Panel 1.7.5", "panel.io.pyodide._link_docs_worker", "site/webnet_lab/worker.py",
     "sends the document's changes from the worker to the page"),
    ("Panel 1.7.5", "panel.io.pyodide._convert_json_patch", "site/webnet_lab/worker.py",
     "applies the page's changes to the Python document"),
    ("Panel 1.7.5", "panel.io.state.state._schedule_on_load", "site/webnet_lab/worker.py",
     "marks the worker's document loaded, as panel serve does"),
    ("Panel 1.7.5", "bokeh Document._template_variables['dist_url']", "site/webnet_lab/worker.py",
     "where Panel's components take their stylesheets from"),
    ("CPython 3.12", "importlib._bootstrap_external._code_to_timestamp_pyc", "site/builder/compile_archives.py",
     "writes sourceless .pyc files"),
)
