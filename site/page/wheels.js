// The page's package loader (build.py copies this file into the site as wheels.js).
//
// The page's worker (worker.js, with python.js's unzipWheels) starts this worker first thing on a
// first visit, then starts Pyodide. Meanwhile this one, on a thread of its own, reads
// pyodide-lock.json, fetches every wheel the app needs (the browser checks each against its sha256
// in the lock) and unzips it with fflate. It posts each wheel's files as it has them; worker.js
// writes them into site-packages once Pyodide is up. This replaces pyodide.loadPackage, which
// fetches only after Pyodide has started and then unzips every wheel with Python's zipfile, one
// after another, on the thread that runs Python. (Where a worker cannot start another worker,
// worker.js runs this file itself, on its own thread.)
//
// The wheels are hosted packed (site/builder/pack.py): "<wheel>.brotli" is the wheel with its
// files stored, compressed as a whole with brotli, about 30% smaller than the wheel; brotli-dec-wasm
// decodes it here (browsers decode brotli only as an HTTP encoding, which a static host may not set).
importScripts("./fflate.js");

// the decoder, loaded once with the first packed wheel (the wheels are fetched at the same time:
// one promise, or each would fetch and instantiate its wasm)
let decoder = null;
async function unpack(bytes) {
  decoder ??= import("./brotli/brotli_dec_wasm.js").then(async (module) => {
    await module.default();  // its wasm, next to it
    return module;
  });
  return (await decoder).decompress(bytes);
}

// the lock's packages needed by `packages`, with their dependencies
function closure(lock, packages) {
  const names = new Set();
  for (const todo = [...packages]; todo.length;) {
    const name = todo.pop();
    if (names.has(name)) continue;
    if (!lock.packages[name]) throw new Error(`pyodide-lock.json has no package ${name}`);
    names.add(name);
    todo.push(...lock.packages[name].depends);
  }
  return [...names];
}

async function fetchWheel({ file_name, sha256 }) {
  const digest = String.fromCharCode(...sha256.match(/../g).map((h) => parseInt(h, 16)));
  let response;
  try {
    response = await fetch("./pyodide/" + file_name, { integrity: "sha256-" + btoa(digest) });
  } catch (e) {  // the browser names no reason when the sha256 differs
    throw new Error(`${file_name} could not be loaded or does not match its sha256 in pyodide-lock.json`);
  }
  if (!response.ok) throw new Error(`${file_name}: HTTP ${response.status}`);
  let bytes = new Uint8Array(await response.arrayBuffer());
  if (file_name.endsWith(".brotli")) bytes = await unpack(bytes);
  const files = fflate.unzipSync(bytes);
  for (const name of Object.keys(files)) {
    // pip and Pyodide put <name>.data/ elsewhere; build.py drops it from the site's wheels
    if (/^[^/]+\.data\//.test(name)) throw new Error(`${file_name}: ${name} is a data file, not installed here`);
  }
  return files;
}

// every wheel `packages` need, fetched and unzipped: onWheel({ wheel, files }) for each, as it is
// ready (wheel: the name of the wheel, files: {path: bytes}); resolves to how many there were
async function loadWheels(packages, onWheel) {
  const response = await fetch("./pyodide/pyodide-lock.json");
  if (!response.ok) throw new Error(`pyodide/pyodide-lock.json: HTTP ${response.status}`);
  const lock = await response.json();
  const names = closure(lock, packages);
  await Promise.all(names.map(async (name) => {
    const files = await fetchWheel(lock.packages[name]);
    onWheel({ wheel: lock.packages[name].file_name.replace(/\.brotli$/, ""), files });
  }));
  return names.length;
}

if (self.name === "wheels") {  // the worker python.js starts (else worker.js runs loadWheels itself)
  self.onmessage = async ({ data: packages }) => {
    try {
      const done = await loadWheels(packages, (wheel) => {
        // hand the bytes over instead of copying them (a Set: a buffer may be listed only once)
        const buffers = new Set(Object.values(wheel.files).map((data) => data.buffer));
        self.postMessage(wheel, [...buffers]);
      });
      self.postMessage({ done });
    } catch (e) {
      self.postMessage({ error: `${e.message || e}` });
    }
  };
}
