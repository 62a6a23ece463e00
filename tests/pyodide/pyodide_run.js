#!/usr/bin/env node
// Run a Python script inside Pyodide under Node, with webnet installed the way the page installs
// its wheel:
//
//   node tests/pyodide/pyodide_run.js PYODIDE_DIR KERNEL.so|- SCRIPT.py [ARGS...]
//
// PYODIDE_DIR holds pyodide.js, pyodide.asm.*, python_stdlib.zip, pyodide-lock.json and the numpy
// wheel, packed or not (e.g. dist/site/pyodide/). The repository's webnet/ package is copied into Pyodide's
// site-packages (its own webnet_matmul.so, if any, left out); KERNEL.so, unless "-", goes in as
// webnet/kernels/webnet_matmul.so and is loaded as a shared library the way the page's worker
// loads every .so of a wheel (site/page/worker.js), before Python imports anything. The script runs
// with sys.argv = ["/tmp/SCRIPT.py", the kernel's path in Pyodide or "", ARGS...]; its stdout is
// passed through (the scripts here print one JSON line last). Exit status 1 if the script raises.
"use strict";
const fs = require("fs");
const path = require("path");
const zlib = require("zlib");

const ROOT = path.resolve(__dirname, "..", "..");
const KERNEL_NAME = "webnet_matmul.so";

// webnet/**/* minus caches and a kernel left over from a build: [relative path, bytes]
function packageFiles(dir, prefix = "webnet") {
  const files = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const rel = `${prefix}/${entry.name}`;
    if (entry.name === "__pycache__" || rel === `webnet/kernels/${KERNEL_NAME}`) continue;
    if (entry.isDirectory()) files.push(...packageFiles(path.join(dir, entry.name), rel));
    else files.push([rel, fs.readFileSync(path.join(dir, entry.name))]);
  }
  return files;
}

// numpy, from the built site's packed wheel (site/builder/pack.py) the way the page's loader
// installs it: its files into site-packages, then each compiled extension loaded; a Pyodide
// distribution of its own (WEBNET_PYODIDE_DIR) has a plain wheel, loaded by loadPackage
async function installNumpy(pyodide, indexURL, sitePackages) {
  const lock = JSON.parse(fs.readFileSync(path.join(indexURL, "pyodide-lock.json"), "utf8"));
  const fileName = lock.packages.numpy.file_name;
  if (!fileName.endsWith(".brotli")) return pyodide.loadPackage("numpy", { messageCallback: () => {} });
  pyodide.FS.writeFile("/tmp/numpy.whl", zlib.brotliDecompressSync(fs.readFileSync(path.join(indexURL, fileName))));
  pyodide.globals.set("SITE_PACKAGES", sitePackages);
  const libs = pyodide.runPython(`
import zipfile
with zipfile.ZipFile("/tmp/numpy.whl") as wheel:
    wheel.extractall(SITE_PACKAGES)
    libs = [f"{SITE_PACKAGES}/{name}" for name in wheel.namelist() if name.endswith(".so")]
del SITE_PACKAGES
libs`).toJs();
  for (const lib of libs) await pyodide._api.loadDynlib(lib, false, []);
}

async function main([pyodideDir, kernel, script, ...args]) {
  if (!script) throw new Error("usage: pyodide_run.js PYODIDE_DIR KERNEL.so|- SCRIPT.py [ARGS...]");
  const indexURL = path.resolve(pyodideDir) + path.sep;
  const { loadPyodide } = require(path.join(indexURL, "pyodide.js"));
  const pyodide = await loadPyodide({ indexURL, stdout: (line) => process.stdout.write(line + "\n"),
                                      stderr: (line) => process.stderr.write(line + "\n") });
  const sitePackages = pyodide.runPython("import site; site.getsitepackages()[0]");
  await installNumpy(pyodide, indexURL, sitePackages);
  for (const [rel, bytes] of packageFiles(path.join(ROOT, "webnet"))) {
    pyodide.FS.mkdirTree(path.posix.dirname(`${sitePackages}/${rel}`));
    pyodide.FS.writeFile(`${sitePackages}/${rel}`, bytes);
  }
  let kernelPath = "";
  if (kernel !== "-") {
    kernelPath = `${sitePackages}/webnet/kernels/${KERNEL_NAME}`;
    pyodide.FS.writeFile(kernelPath, fs.readFileSync(kernel));
    await pyodide._api.loadDynlib(kernelPath, false, []);  // as site/page/worker.js does
  }
  const scriptInPyodide = "/tmp/" + path.basename(script);
  pyodide.FS.writeFile(scriptInPyodide, fs.readFileSync(script));
  pyodide.globals.set("SCRIPT_ARGV", pyodide.toPy([scriptInPyodide, kernelPath, ...args]));
  await pyodide.runPythonAsync(`
import runpy, sys
sys.dont_write_bytecode = True
sys.argv = list(SCRIPT_ARGV)
del SCRIPT_ARGV
runpy.run_path(sys.argv[0], run_name="__main__")
`);
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err && err.message ? err.message : err);
  process.exit(1);
});
