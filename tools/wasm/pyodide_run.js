#!/usr/bin/env node
// Run a Python script inside Pyodide under Node, with webnet importable and the kernel in Pyodide's
// file system, the way the page has them:
//
//   node tools/wasm/pyodide_run.js PYODIDE_DIR KERNEL.so SCRIPT.py [ARGS...]
//
// PYODIDE_DIR holds pyodide.js, pyodide.asm.*, python_stdlib.zip, pyodide-lock.json and the numpy
// wheel (e.g. dist/site/pyodide/). The kernel is copied to /tmp/webnet_matmul.so in Pyodide's
// (in-memory) file system, as the page's start-up code will fetch it, and so is the script; the
// repository is mounted at /webnet and put first on sys.path (no bytecode is written there). The
// script runs with sys.argv = ["/tmp/SCRIPT.py", "/tmp/webnet_matmul.so", ARGS...]; its stdout is
// passed through (the scripts here print one JSON line last). Exit status 1 if the script raises.
"use strict";
const fs = require("fs");
const path = require("path");

const ROOT = path.resolve(__dirname, "..", "..");
const KERNEL_IN_PYODIDE = "/tmp/webnet_matmul.so";

async function main([pyodideDir, kernel, script, ...args]) {
  if (!script) throw new Error("usage: pyodide_run.js PYODIDE_DIR KERNEL.so SCRIPT.py [ARGS...]");
  const indexURL = path.resolve(pyodideDir) + path.sep;
  const { loadPyodide } = require(path.join(indexURL, "pyodide.js"));
  const write = (line) => process.stdout.write(line + "\n");
  const pyodide = await loadPyodide({ indexURL, stdout: write, stderr: (line) => process.stderr.write(line + "\n") });
  await pyodide.loadPackage("numpy", { messageCallback: () => {} });
  pyodide.FS.mkdirTree("/webnet");
  pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: ROOT }, "/webnet");
  pyodide.FS.writeFile(KERNEL_IN_PYODIDE, fs.readFileSync(kernel));
  const scriptInPyodide = "/tmp/" + path.basename(script);
  pyodide.FS.writeFile(scriptInPyodide, fs.readFileSync(script));
  pyodide.globals.set("SCRIPT_ARGV", pyodide.toPy([scriptInPyodide, KERNEL_IN_PYODIDE, ...args]));
  await pyodide.runPythonAsync(`
import runpy, sys
sys.dont_write_bytecode = True
sys.path.insert(0, "/webnet")
sys.argv = list(SCRIPT_ARGV)
del SCRIPT_ARGV
runpy.run_path(sys.argv[0], run_name="__main__")
`);
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err && err.message ? err.message : err);
  process.exit(1);
});
