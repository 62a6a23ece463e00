// The page's main thread (inlined into index.html by the build, at the top of <head>).
//
// Python runs in a web worker (worker.js). This script starts it before anything else, shows what
// it is doing under the loading spinner, loads BokehJS and Panel's JS when Python starts the app
// (loaded at once, they would take CPU from the worker while it starts Pyodide: the machine this
// is measured on has 2 cores), renders the document the worker sends, and from then on carries
// the changes both ways. The message protocol is the one of Panel 1.7.5's pyodide-worker page
// (panel/io/convert.py), which this replaces.
"use strict";

(() => {
  // filled in by the build: BokehJS's and Panel's scripts, in the order they must run
  const SCRIPTS = /* webnet:scripts */ [];
  // filled in by the build's check step: the version of every file of the site but index.html
  const ASSETS = /* webnet:assets */ "";
  // the worker reads the query; after "#", the build it may restore Python for (python.js), when
  // the service worker serves this page (and so every file of one build)
  const served = typeof navigator.serviceWorker !== "undefined" && navigator.serviceWorker.controller !== null;
  const worker = new Worker("./worker.js" + window.location.search + (served ? "#" + ASSETS : ""));
  let jsdoc = null, busy = false, queue = [], patching = 0, status = "";

  let scriptsLoaded = null;
  function loadScripts() {
    if (scriptsLoaded) return scriptsLoaded;
    scriptsLoaded = new Promise((resolve, reject) => {
      SCRIPTS.forEach((src, i) => {
        const script = document.createElement("script");
        script.src = src;
        script.async = false;  // in order
        script.onerror = () => reject(new Error(`${src} could not be loaded`));
        if (i === SCRIPTS.length - 1) script.onload = () => resolve();
        document.head.appendChild(script);
      });
    });
    return scriptsLoaded;
  }

  function showStatus(text) {
    status = text;
    const body = document.body;
    if (!body || !body.classList.contains("pn-loading")) return;
    let el = document.querySelector(".pn-loading-msg");
    if (!el) {
      el = document.createElement("div");
      el.className = "pn-loading-msg";
      el.setAttribute("role", "status");
      body.appendChild(el);
    }
    el.textContent = text;
  }
  document.addEventListener("DOMContentLoaded", () => status && showStatus(status));

  function sendChange(event) {
    if ((event.setter_id != null && event.setter_id === "py") || patching > 0) return;
    if (busy) {  // in order behind the pending ones (a click acts on the settings queued before it)
      const last = queue[queue.length - 1];
      if (last && event.model && event.attr && last.model === event.model && last.attr === event.attr) {
        queue[queue.length - 1] = event;  // a slider dragged: only its latest value, in the same place
      } else {
        queue.push(event);
      }
      return;
    }
    busy = true;
    worker.postMessage({ type: "patch", patch: jsdoc.create_json_patch([event]) });
  }

  async function render(msg) {
    await loadScripts();
    const docsJson = JSON.parse(msg.docs_json), renderItems = JSON.parse(msg.render_items);
    const rootIds = JSON.parse(msg.root_ids);
    const container = document.getElementById("webnet-roots");
    const roots = {};
    rootIds.forEach((id, i) => {
      const el = document.createElement("div");
      el.id = `webnet-root-${i}`;
      el.style.display = "contents";
      container.appendChild(el);
      roots[id] = el.id;
    });
    renderItems[0].roots = roots;
    renderItems[0].root_ids = rootIds;
    const [views] = await Bokeh.embed.embed_items(docsJson, renderItems);
    document.body.classList.remove("pn-loading", "pn-arc");
    document.querySelectorAll(".pn-loading-msg").forEach((el) => el.remove());
    jsdoc = [...views.roots.values()][0].model.document;
    jsdoc.on_change(sendChange, false);
    worker.postMessage({ type: "rendered" });
    worker.postMessage({ type: "location", location: JSON.stringify(window.location) });
    document.documentElement.dataset.webnetPython = msg.how;  // "fresh" or "restored", for tests
    keepForOffline(msg.modules);
  }

  // Once the lab is shown (not before: it would compete with the start), the service worker (sw.js)
  // keeps every file of the site for the next visits, with or without the network. Where there
  // are no service workers (a private window, http on another host) nothing changes.
  function keepForOffline(modules) {
    if (!("serviceWorker" in navigator)) return;
    const sw = navigator.serviceWorker;
    sw.register("./sw.js").then(async () => {
      if (!sw.controller) {  // a first visit: served by it from now on if the versions match
        const registration = await sw.ready;
        registration.active.postMessage({ type: "claim", assets: ASSETS });
      }
      if (modules) keepPython(modules);
    }).catch(() => {});
  }

  // Then, once this page is served by the service worker, a second worker keeps Python as the lab
  // has it now, for the next visits to restore (python.js). The worker says when there is nothing
  // to keep (kept already, or no Cache Storage here).
  function keepPython(modules) {
    const sw = navigator.serviceWorker;
    const begin = () => {
      const keeper = new Worker(`./worker.js#keep-${ASSETS}`);
      keeper.onmessage = ({ data }) => {
        document.documentElement.dataset.webnetKept = data.result;  // "kept", "already" or "failed"
        keeper.terminate();
      };
      keeper.postMessage({ type: "keep", modules });
    };
    if (sw.controller) begin();
    else sw.addEventListener("controllerchange", begin, { once: true });
  }

  worker.onmessage = async ({ data: msg }) => {
    if (msg.type === "status") {
      if (msg.app) loadScripts().catch(() => {});  // Python is starting the app: BokehJS is needed soon
      showStatus(msg.msg);
    } else if (msg.type === "render") {
      try {
        await render(msg);
      } catch (e) {
        showStatus(`${msg.failed} ${e.message || e}`);
        throw e;
      }
    } else if (msg.type === "idle") {
      if (queue.length) {
        const patch = jsdoc.create_json_patch(queue);
        queue = [];
        worker.postMessage({ type: "patch", patch });
      } else {
        busy = false;
      }
    } else if (msg.type === "patch") {
      try {
        patching += 1;
        jsdoc.apply_json_patch(msg.patch, msg.buffers);
      } finally {
        patching -= 1;
      }
    }
  };
})();
