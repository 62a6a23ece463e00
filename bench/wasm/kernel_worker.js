// A web worker that runs bench/wasm/kernel_pyodide.py inside Pyodide, as the lab's worker would:
// the kernel and webnet's sources are fetched from the serving folder (see kernel_browser.py) into
// Pyodide's file system, then `accel.load` opens the kernel with ctypes.CDLL.
importScripts("./pyodide/pyodide.js");

onmessage = async ({ data: { repeats, files } }) => {
  try {
    const pyodide = await loadPyodide({ indexURL: new URL("./pyodide/", location).href });
    await pyodide.loadPackage("numpy");
    const get = async (url) => new Uint8Array(await (await fetch(url)).arrayBuffer());
    for (const file of files) {  // webnet/** -> /pkg/webnet/**
      pyodide.FS.mkdirTree("/pkg/" + file.split("/").slice(0, -1).join("/"));
      pyodide.FS.writeFile("/pkg/" + file, await get("./" + file));
    }
    pyodide.FS.writeFile("/tmp/webnet_matmul.so", await get("./webnet_matmul.so"));
    pyodide.FS.writeFile("/tmp/kernel_pyodide.py", await get("./kernel_pyodide.py"));
    const lines = [];
    pyodide.setStdout({ batched: (line) => lines.push(line) });
    pyodide.globals.set("REPEATS", String(repeats));
    pyodide.runPython(`
import runpy, sys
sys.path.insert(0, "/pkg")
sys.argv = ["/tmp/kernel_pyodide.py", "/tmp/webnet_matmul.so", REPEATS]
runpy.run_path(sys.argv[0], run_name="__main__")
`);
    postMessage({ lines });
  } catch (err) {
    postMessage({ error: String(err && err.stack || err) });
  }
};
