// Python for the page's worker (the build puts this file into worker.js): the lab's packages, and
// the memory of a Python that has imported them, kept from one visit for the next.
//
// A first visit starts Python from scratch: Pyodide starts, the packages are unzipped into its file
// system (on a thread of their own, wheels.js) and the lab imports Panel, bokeh and numpy: about
// 2 s of the 3.3 s a visit took before anything was kept, and the same every time. Once the lab is
// shown, the page starts a second worker in "keep" mode (worker.js): it does the same start-up,
// imports every module the lab had imported by then, and keeps Pyodide's memory snapshot (an
// experimental Pyodide 0.27 feature) with the files it wrote, in the browser's Cache Storage, named
// after the build's version. Later visits of that build restore them instead of starting afresh.
//
// Pyodide's snapshot is the wasm memory; the rest a restore needs is made again, identically:
// - numpy's compiled extensions are separate wasm modules, outside that memory. The keeper loads
//   each with a handle of its own, in which Emscripten records where the library's data and its
//   functions were placed; the restore loads the same libraries, in the same order, with those
//   handles, so they land at the same places, then puts back the libraries' data as it was in
//   memory (loading re-initialises it) and the function table's later entries (dlsym's), checked
//   one by one. Any difference stops the restore.
// - the file system is JavaScript's, not wasm memory: the files are kept as one archive.
// - a JavaScript function Python made at import time (Panel's run_js converter) is kept as source.
// Anything that fails while restoring makes worker.js start afresh and forget what was kept.
"use strict";

const KEPT_PREFIX = "webnet-python-";  // + the build's version; sw.js deletes other builds' ones
const SNAPSHOT_MAGIC = 0x706e7300;  // the first word of a Pyodide 0.27 memory snapshot
const RESTORE_LIMIT_MS = 30_000;  // a restore takes about a second here; past this, start afresh

// ---- the packages ----

// the packages' files, fetched and unzipped on another thread (wheels.js), for writeWheels
function unzipWheels(packages) {
  if (typeof Worker !== "function") return unzipHere(packages);
  return new Promise((resolve, reject) => {
    const unzipper = new Worker("./wheels.js", { name: "wheels" }), received = [];
    unzipper.onmessage = ({ data }) => {
      if (data.files) return received.push(data);
      unzipper.terminate();
      data.error ? reject(new Error(data.error)) : resolve(received);
    };
    unzipper.onerror = (e) => { e.preventDefault(); reject(new Error(`wheels.js: ${e.message}`)); };
    unzipper.postMessage(packages);
  });
}

// the same on this thread, where a worker cannot start another
async function unzipHere(packages) {
  importScripts("./wheels.js");
  const received = [];
  await loadWheels(packages, (wheel) => received.push(wheel));  // wheels.js's
  return received;
}

// write the unzipped wheels into site-packages; onFile(path, data) and onLibrary(path, wheel) for
// each file and, once its wheel's files are written, each compiled extension, in the wheel's order
async function writeWheels(pyodide, wheels, { onFile = () => {}, onLibrary }) {
  const FS = pyodide.FS, root = pyodide._api.sitepackages;
  if (!root) throw new Error("this Pyodide has no _api.sitepackages (0.27 has)");
  const made = new Set();
  for (const { wheel, files } of await wheels) {
    const libs = [];
    for (const [name, data] of Object.entries(files)) {
      if (name.endsWith("/")) continue;
      const path = `${root}/${name}`;
      writeFile(FS, made, path, data);
      onFile(path, data);
      if (name.endsWith(".so")) libs.push(path);
    }
    for (const lib of libs) await onLibrary(lib, wheel);
  }
}

function writeFile(FS, made, path, data) {
  const dir = path.slice(0, path.lastIndexOf("/"));
  if (!made.has(dir)) { FS.mkdirTree(dir); made.add(dir); }
  FS.writeFile(path, data, { canOwn: true });
}

// One compiled extension, at the place `handle` (an Emscripten dso struct) says if it has been
// loaded before (restore), else where Emscripten puts it, recorded in `handle` (keep).
async function loadLibrary(Module, path, handle) {
  const FS = Module.FS, dir = path.slice(0, path.lastIndexOf("/"));
  const resolve = (name) => (name.startsWith("/") ? name : `${dir}/${name}`);
  const fs = { findObject: (name, noLink) => FS.findObject(resolve(name), noLink), readFile: (name) => FS.readFile(resolve(name)) };
  await Module.loadDynamicLibrary(path, { loadAsync: true, nodelete: true, allowUndefined: true, global: false, fs }, {}, handle);
  // as Pyodide's own loader does: known by its file name too, so that it is never loaded twice
  const name = path.slice(dir.length + 1);
  Module.LDSO.loadedLibsByName[name] ||= Module.LDSO.loadedLibsByName[path];
}

// where Emscripten placed a library (the fields of its dso struct that loadWebAssemblyModule sets)
function placed(Module, handle) {
  return {
    memoryBase: Module.HEAPU32[(handle + 12) >> 2], memorySize: Module.HEAP32[(handle + 16) >> 2],
    tableBase: Module.HEAPU32[(handle + 20) >> 2], tableSize: Module.HEAP32[(handle + 24) >> 2],
  };
}

// ---- what is kept ----

const keepJs = (value) => {
  const source = typeof value === "function" ? String(value) : "";
  if (!source || source.includes("[native code]")) throw new Error(`Python holds a JavaScript ${typeof value} that cannot be kept`);
  return { js: source };
};
const remakeJs = ({ js }) => (0, eval)(`(${js})`);

// null (nothing kept, or no Cache Storage here), "failed" (keeping or restoring failed for this
// build: it is not tried again), or the three kept responses {meta, memory, files}, unread
async function readKept(version) {
  if (!version || typeof caches === "undefined") return null;
  try {
    const cache = await caches.open(KEPT_PREFIX + version);
    if (await cache.match("./failed")) return "failed";
    const [meta, memory, files] = await Promise.all(["./meta", "./memory", "./files"].map((k) => cache.match(k)));
    if (!meta || !memory || !files) return null;  // (meta is written last: still being kept)
    return { meta, memory, files };
  } catch (e) {
    return null;
  }
}

// what was kept for `version` is not to be used (or made) again
async function forgetKept(version, why) {
  console.warn(`webnet: the Python kept from an earlier visit is not used: ${why}`);
  try {
    await caches.delete(KEPT_PREFIX + version);
    await (await caches.open(KEPT_PREFIX + version)).put("./failed", new Response(why));
  } catch (e) { /* nothing kept either way */ }
}

// ---- keep (the keeper worker, once the lab is shown) ----

async function keepPython({ indexURL, version, packages, modules }) {
  if (typeof caches === "undefined") throw new Error("no Cache Storage here");
  if ((await readKept(version)) !== null) return "already";
  const wheels = unzipWheels(packages);
  const pyodide = await loadPyodide({
    indexURL, _makeSnapshot: true,
    // Pyodide 0.27 wraps the globals in a proxy to record paths, and calls getters such as
    // crossOriginIsolated with that proxy as `this` (an "Illegal invocation"; fixed in 0.28)
    jsglobals: new Proxy(globalThis, { get: (target, name) => target[name] }),
  });
  pyodide.runPython("import gc; gc.disable()");
  const Module = pyodide._module, table = Module.wasmTable, tableStart = table.length;
  const libs = [], index = [], data = [];
  let size = 0;
  await writeWheels(pyodide, wheels, {
    onFile: (path, bytes) => { index.push([path, size, bytes.length]); data.push(bytes); size += bytes.length; },
    onLibrary: async (path) => {
      const handle = Module._calloc(1, 64);
      await loadLibrary(Module, path, handle);
      libs.push({ path, handle, ...placed(Module, handle) });
    },
  });
  // every module the lab had imported once it was shown (each alone: one that cannot be imported
  // here is left for the lab to import), then the garbage of the start-up. (Building the app once
  // more here, for Panel's and bokeh's caches, made no difference to a restored start: measured.)
  pyodide.globals.set("webnet_modules", pyodide.toPy(modules));
  pyodide.runPython(`
import importlib
importlib.invalidate_caches()
for _name in webnet_modules:
    try:
        importlib.import_module(_name)
    except BaseException:
        pass
del webnet_modules, _name
import gc
gc.collect()`);
  const meta = { libs, index, tableStart, tableEnd: table.length, slots: laterSlots(Module, libs, tableStart) };
  meta.handles = Object.entries(Module.LDSO.loadedLibsByHandle).map(([handle, dso]) => [Number(handle), dso.name]);
  // the snapshot is Pyodide's header, then the whole wasm memory: kept up to the heap's end only
  // (the memory grows in steps; the rest is unused, and a restore gets it back as it grows again)
  const snapshot = pyodide.makeMemorySnapshot({ serializer: keepJs });
  const heapAt = new Uint32Array(snapshot.buffer, 0, 2)[1], page = 65536;
  const memory = snapshot.subarray(0, heapAt + Math.ceil(Module._sbrk(0) / page) * page);
  const files = new Uint8Array(size);
  data.reduce((at, bytes) => (files.set(bytes, at), at + bytes.length), 0);
  meta.sizes = { memory: memory.length, files: files.length };
  const cache = await caches.open(KEPT_PREFIX + version);
  await cache.put("./memory", new Response(memory));
  await cache.put("./files", new Response(files));
  await cache.put("./meta", new Response(JSON.stringify(meta)));  // last: the mark that all is there
  return "kept";
}

// the function table's entries after Pyodide's own, outside the libraries' own ranges (GOT and
// dlsym entries), as [index, library, export name]: each must be a library's export
function laterSlots(Module, libs, tableStart) {
  const exported = new Map();
  for (const [lib, dso] of Object.entries(Module.LDSO.loadedLibsByName)) {
    for (const [name, value] of Object.entries(dso.exports || {})) {
      if (typeof value === "function" && !exported.has(value)) exported.set(value, [lib, name]);
    }
  }
  const own = (i) => libs.some((lib) => i >= lib.tableBase && i < lib.tableBase + lib.tableSize);
  const slots = [], table = Module.wasmTable;
  for (let i = tableStart; i < table.length; i++) {
    if (own(i)) continue;
    const fn = table.get(i);
    if (fn !== null && !exported.has(fn)) throw new Error(`function table entry ${i} is no library's export`);
    slots.push(fn === null ? [i, null, null] : [i, ...exported.get(fn)]);
  }
  return slots;
}

// ---- restore (worker.js, when something is kept for this build) ----

async function restorePython(kept, indexURL) {
  // the two big ones are read while Pyodide starts
  const bytes = (response) => response.arrayBuffer().then((b) => new Uint8Array(b));
  let memory = bytes(kept.memory), files = bytes(kept.files);
  files.catch(() => {});  // (awaited below, unless Pyodide fails first)
  const meta = await kept.meta.json();
  // checked before Pyodide has it: Pyodide 0.27 waits forever when its wasm cannot be instantiated
  // (with too small a memory, for one), so a bound on the time as well
  memory = memory.then((bytes) => {
    const magic = bytes.length >= 8 && new Uint32Array(bytes.buffer, bytes.byteOffset, 2)[0];
    if (bytes.length !== meta.sizes.memory || magic !== SNAPSHOT_MAGIC) throw new Error("the kept memory is damaged");
    return bytes;
  });
  const pyodide = await Promise.race([
    loadPyodide({ indexURL, _loadSnapshot: memory, _snapshotDeserializer: remakeJs }),
    new Promise((resolve, reject) => setTimeout(() => reject(new Error("Pyodide did not start")), RESTORE_LIMIT_MS)),
  ]);
  const Module = pyodide._module, table = Module.wasmTable;
  memory = await memory;
  files = await files;
  if (files.length !== meta.sizes.files) throw new Error("the kept files are incomplete");
  if (table.length !== meta.tableStart) throw new Error(`the function table starts at ${table.length}, not ${meta.tableStart}`);
  const made = new Set();
  for (const [path, at, n] of meta.index) writeFile(Module.FS, made, path, files.subarray(at, at + n));
  for (const { path, handle, ...where } of meta.libs) {
    await loadLibrary(Module, path, handle);
    const now = placed(Module, handle);
    if (Object.keys(where).some((k) => where[k] !== now[k])) throw new Error(`${path} was placed elsewhere`);
  }
  // the libraries' data as they were (loading them wrote their initial data over it)
  const heap = memory.subarray(new Uint32Array(memory.buffer, memory.byteOffset, 2)[1]);
  for (const { memoryBase, memorySize } of meta.libs) {
    Module.HEAPU8.set(heap.subarray(memoryBase, memoryBase + memorySize), memoryBase);
  }
  if (table.length > meta.tableEnd) throw new Error("the function table grew more than when kept");
  table.grow(meta.tableEnd - table.length);
  for (const [i, lib, name] of meta.slots) {
    const fn = lib === null ? null : Module.LDSO.loadedLibsByName[lib]?.exports[name];
    if (fn === undefined) throw new Error(`${lib} has no ${name}`);
    const now = table.get(i);
    if (now === fn) continue;
    if (now !== null) throw new Error(`function table entry ${i} differs`);
    Module.setWasmTableEntry(i, fn);
    Module.updateTableMap(i, 1);  // addFunction finds it there
  }
  for (const [handle, name] of meta.handles) Module.LDSO.loadedLibsByHandle[handle] = Module.LDSO.loadedLibsByName[name];
  // fresh randomness: the kept generators would repeat the same numbers on every visit. (The
  // import system's caches of directories need no clearing: the files are the same, written now,
  // and a directory written since it was read is read again.)
  pyodide.runPython(`
import random, sys
random.seed()
if "numpy.random" in sys.modules:
    sys.modules["numpy.random"].seed()`);
  return pyodide;
}
