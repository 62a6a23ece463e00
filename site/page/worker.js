// The page's web worker: Python (Pyodide) runs the lab here, off the page's main thread.
//
// Python is restored from what an earlier visit kept (python.js), or started afresh: wheels.js
// fetches and unzips the lab's packages on a thread of its own while this one starts Pyodide; once
// Python is up the files are written into site-packages. Then the app (site/app.py, filled in by
// the build) is run by webnet_lab.worker, which speaks the protocol of start.js on the page.
//
// The page passes the build's version after "#" when the service worker serves it (what is kept
// belongs to a build); "#keep-<version>" starts a worker that only keeps Python for later visits.
"use strict";
importScripts("./pyodide/pyodide.js");
// python.js, put here by the build (a worker loads its scripts one by one: one request fewer
// before Pyodide can start)
/* webnet:python.js */

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

// Write the unzipped wheels into site-packages and load their compiled extensions, as Pyodide
// 0.27's own pyodide.loadPackage does (its internals named in site/builder/private_apis.py).
async function install(pyodide, wheels) {
  if (!pyodide._api.loadDynlib) throw new Error("this Pyodide has no _api.loadDynlib (0.27 has)");
  const root = pyodide._api.sitepackages;
  await writeWheels(pyodide, wheels, {
    onLibrary: (lib, wheel) => pyodide._api.loadDynlib(lib, false, [`${root}/${wheel.split("-")[0]}.libs`]),
  });
  pyodide.runPython("import importlib; importlib.invalidate_caches()");
}

function sendPatch(patch, buffers) {
  self.postMessage({ type: "patch", patch, buffers });
}

let lab = null, shown = false;  // the webnet_lab.worker module once the app runs; the page has it
const INDEX_URL = new URL("./pyodide/", self.location).href;
const HASH = decodeURIComponent(self.location.hash.slice(1));

async function start() {
  status(say("page.loading_python"));
  const version = HASH, kept = await readKept(version);
  if (kept !== null && kept !== "failed") {
    try {
      return await run(await restorePython(kept, INDEX_URL), "restored");
    } catch (e) {
      if (shown) throw e;
      await forgetKept(version, e.message || `${e}`);
    }
  }
  const wheels = unzipWheels(PACKAGES);
  wheels.catch(() => {});  // reported where it is awaited, once Pyodide is up
  const pyodide = await loadPyodide({ indexURL: INDEX_URL });
  // Python's cyclic garbage collector stays off until the document has gone to the page: the
  // start-up makes hundreds of thousands of objects (bokeh's and Panel's classes and models) and
  // little garbage; the collector's passes over them took about a tenth of the Python part.
  // (What is kept from a visit was made so and has it off too.)
  pyodide.runPython("import gc; gc.disable()");
  status(say("page.loading_packages"));
  try {
    await install(pyodide, wheels);
  } catch (e) {
    status(`${say("page.packages_failed")} ${e.message}`);
    throw e;
  }
  // nothing kept for this build yet, and a place to keep it: a keeper will be asked to (start.js)
  const keepable = kept === null && typeof caches !== "undefined";
  return run(pyodide, "fresh", keepable);
}

// run the app; `how` Python was started ("fresh" or "restored"); with `keepable`, the page is also
// sent the modules the lab has imported, for a keeper to import
async function run(pyodide, how, keepable = false) {
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
  const modules = keepable ? pyodide.runPython('import sys; ["webnet_lab.worker", *sorted(sys.modules)]').toJs() : null;
  self.postMessage({ type: "render", docs_json, render_items, root_ids, failed: say("page.show_failed"), how, modules });
  shown = true;
  // gc.freeze(): the start-up's objects stay out of every later pass (shorter pauses in training)
  pyodide.runPython("import gc; gc.freeze(); gc.enable()");
}

// the keeper: Python started as above, with `modules` imported, kept for the build `version`
async function keep(version, modules) {
  let result;
  try {
    result = await keepPython({ indexURL: INDEX_URL, version, packages: PACKAGES, modules });
  } catch (e) {
    await forgetKept(version, `keeping it failed: ${e.message || e}`);
    result = "failed";
  }
  self.postMessage({ type: "kept", result });
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

if (HASH.startsWith("keep-")) {
  self.onmessage = ({ data: msg }) => msg.type === "keep" && keep(HASH.slice(5), msg.modules);
} else {
  start();
}
