"""Every private API of another project that the lab relies on, with the version it was checked
against and where it is used. tests/test_build.py checks each one the tests can reach still exists
in the pinned versions; a new Panel, bokeh or Pyodide means going through this list."""

PRIVATE_APIS = (
    # (project version, name, used in, what for)
    ("Pyodide 0.27.7", "pyodide._api.sitepackages", "site/page/python.js",
     "where the page's package loader writes the unzipped wheels"),
    # the kept Python of site/page/python.js: Pyodide's experimental memory snapshots, and the
    # Emscripten 3.1.58 dynamic linker's state they leave out (numpy's libraries, the function table)
    ("Pyodide 0.27.7", "loadPyodide._makeSnapshot", "site/page/python.js", "a Pyodide whose memory can be kept"),
    ("Pyodide 0.27.7", "pyodide.makeMemorySnapshot", "site/page/python.js", "its memory, after the lab's imports"),
    ("Pyodide 0.27.7", "loadPyodide._loadSnapshot", "site/page/python.js", "a Pyodide started from that memory"),
    ("Pyodide 0.27.7", "loadPyodide._snapshotDeserializer", "site/page/python.js",
     "the JavaScript functions Python held when it was kept"),
    ("Pyodide 0.27.7", "snapshot header.SNAPSHOT_MAGIC", "site/page/python.js",
     "checks the kept memory before Pyodide has it (its header: magic, then the memory's offset)"),
    ("Pyodide 0.27.7", "pyodide._module.loadDynamicLibrary", "site/page/python.js",
     "loads numpy's libraries with a handle of our own, at the place the handle records"),
    ("Pyodide 0.27.7", "pyodide._module.LDSO", "site/page/python.js", "the libraries loaded, by name and handle"),
    ("Pyodide 0.27.7", "pyodide._module.wasmTable", "site/page/python.js", "the function table, kept entry by entry"),
    ("Pyodide 0.27.7", "pyodide._module.setWasmTableEntry", "site/page/python.js", "puts back its later entries"),
    ("Pyodide 0.27.7", "pyodide._module.updateTableMap", "site/page/python.js", "so addFunction finds them"),
    ("Pyodide 0.27.7", "pyodide._module._calloc", "site/page/python.js", "the handles (Emscripten dso structs)"),
    ("Pyodide 0.27.7", "pyodide._module._sbrk", "site/page/python.js", "the heap's end: what is kept of the memory"),
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
    # under panel serve, every change's message queues for the socket when it is made (webnet_lab.server)
    ("Panel 1.7.5", "panel.io.document.dispatch_tornado", "site/webnet_lab/server.py",
     "Panel's own write of a change to the page: replaced by one that queues"),
    ("Panel 1.7.5", "panel.io.document.schedule_write_events", "site/webnet_lab/server.py",
     "Panel's later write when the socket is busy: replaced by the same queue"),
    ("Panel 1.7.5", "panel.io.document.write_events", "site/webnet_lab/server.py", "what replaces it"),
    ("bokeh 3.7.3", "bokeh.server.connection.ServerConnection.send_patch_document", "site/webnet_lab/server.py",
     "bokeh's write of a change to the page: replaced by one that queues"),
    ("bokeh 3.7.3", "bokeh.server.views.ws.WSHandler.write_lock", "site/webnet_lab/server.py",
     "the socket's lock that the messages queue for, in turn"),
    ("CPython 3.12", "importlib._bootstrap_external._code_to_timestamp_pyc", "site/builder/compile_archives.py",
     "writes sourceless .pyc files"),
)
