// The page's web worker: Python (Pyodide) runs the lab here, off the page's main thread.
//
// It starts wheels.js first, which fetches and unzips the lab's packages on a thread of its own
// while this one starts Pyodide; once Python is up the files are written into site-packages and
// the app (site/app.py, filled in by the build) is run by webnet_lab.worker, which speaks the
// protocol of start.js on the page.
"use strict";
importScripts("./pyodide/pyodide.js");

// filled in by the build: the packages the app imports (wheels.js adds their dependencies from
// pyodide-lock.json) and the source of site/app.py
const PACKAGES = /* webnet:packages */ [];
const APP_SOURCE = /* webnet:app */ "";
// filled in by the build from the lab's catalogues: what is said before Python runs, per language
const TEXTS = /* webnet:texts */ {};

// the language as the lab picks it (webnet_lab.i18n.pick_language): ?lang=, else the browser's
function language() {
  const wanted = [new URLSearchParams(self.location.search).get("lang") || "", ...navigator.languages];
  for (const tag of wanted) {
    const lang = tag.split("-")[0].toLowerCase();
    if (lang in TEXTS) return lang;
  }
  return "en";
}
const TEXT = TEXTS[language()] || {};
const say = (key) => TEXT[key] || key;

function status(msg, app = false) {
  self.postMessage({ type: "status", msg, app });
}

// the packages, fetched and unzipped on another thread while this one starts Pyodide
const wheels = typeof Worker !== "function" ? null : new Promise((resolve, reject) => {
  const unzipper = new Worker("./wheels.js"), received = [];
  unzipper.onmessage = ({ data }) => {
    if (data.files) return received.push(data);
    unzipper.terminate();
    data.error ? reject(new Error(data.error)) : resolve(received);
  };
  unzipper.onerror = (e) => { e.preventDefault(); reject(new Error(`wheels.js: ${e.message}`)); };
  unzipper.postMessage(PACKAGES);
});
wheels?.catch(() => {});  // reported where it is awaited, once Pyodide is up

// Write the unzipped wheels into site-packages and load their compiled extensions, as Pyodide
// 0.27's own pyodide.loadPackage does (its internals named in site/builder/private_apis.py).
async function install(pyodide) {
  if (wheels === null) return pyodide.loadPackage(PACKAGES);  // a browser without workers in workers
  const api = pyodide._api, FS = pyodide.FS, root = api.sitepackages;
  if (!root || !api.loadDynlib) throw new Error("this Pyodide has no _api.sitepackages or _api.loadDynlib (0.27 has)");
  const made = new Set();
  for (const { wheel, files } of await wheels) {
    const libs = [];
    for (const [name, data] of Object.entries(files)) {
      if (name.endsWith("/")) continue;
      const path = `${root}/${name}`, dir = path.slice(0, path.lastIndexOf("/"));
      if (!made.has(dir)) { FS.mkdirTree(dir); made.add(dir); }
      FS.writeFile(path, data, { canOwn: true });
      if (name.endsWith(".so")) libs.push(path);
    }
    // the wheel's compiled extensions, in the wheel's order, as pyodide.loadPackage loads them
    for (const lib of libs) await api.loadDynlib(lib, false, [`${root}/${wheel.split("-")[0]}.libs`]);
  }
  pyodide.runPython("import importlib; importlib.invalidate_caches()");
}

function sendPatch(patch, buffers) {
  self.postMessage({ type: "patch", patch, buffers });
}

let lab = null;  // the webnet_lab.worker module, once the app runs

async function start() {
  status(say("page.loading_python"));
  const pyodide = await loadPyodide({ indexURL: new URL("./pyodide/", self.location).href });
  // Python's cyclic garbage collector stays off until the document has gone to the page: the
  // start-up makes hundreds of thousands of objects (bokeh's and Panel's classes and models) and
  // little garbage; the collector's passes over them took about a tenth of the Python part.
  pyodide.runPython("import gc; gc.disable()");
  status(say("page.loading_packages"));
  try {
    await install(pyodide);
  } catch (e) {
    status(`${say("page.packages_failed")} ${e.message}`);
    throw e;
  }
  status(say("page.starting"), true);
  let rendered;
  try {
    lab = pyodide.pyimport("webnet_lab.worker");
    // the page started this worker with its own query (?lang=ru, the experiment's settings)
    rendered = (await lab.start(APP_SOURCE, sendPatch, self.location.search, navigator.languages.join(","))).toJs();
  } catch (e) {
    const lines = `${e}`.trim().split("\n");
    status(`${say("page.start_failed")} ${lines[lines.length - 1]}`);
    throw e;
  }
  const [docs_json, render_items, root_ids] = rendered;
  self.postMessage({ type: "render", docs_json, render_items, root_ids, failed: say("page.show_failed") });
  // gc.freeze(): the start-up's objects stay out of every later pass (shorter pauses in training)
  pyodide.runPython("import gc; gc.freeze(); gc.enable()");
}

self.onmessage = ({ data: msg }) => {
  if (msg.type === "rendered") {
    lab.rendered();
  } else if (msg.type === "patch") {
    try {
      lab.apply_patch(msg.patch);
    } catch (e) {
      console.error(`webnet: a change from the page failed in Python: ${e}`);
    } finally {
      self.postMessage({ type: "idle" });  // else the page would hold every later change back
    }
  } else if (msg.type === "location") {
    lab.set_location(msg.location);
  }
};

start();
