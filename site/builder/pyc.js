// Run compile_archives.py inside Pyodide's own Python under Node (see pyc.py):
//   node pyc.js <pyodide core dir> <work dir> <levels as JSON>
// The work dir holds in/ (archives to compile) and receives out/; it is mounted at /work.
const fs = require("fs");
const path = require("path");
const [core, work, levels] = process.argv.slice(2);
const { loadPyodide } = require(path.resolve(core, "pyodide.js"));

(async () => {
  const py = await loadPyodide({ indexURL: path.resolve(core) + "/" });
  py.FS.mkdir("/work");
  py.FS.mount(py.FS.filesystems.NODEFS, { root: path.resolve(work) }, "/work");
  py.globals.set("LEVELS", levels);
  py.runPython(fs.readFileSync(path.join(__dirname, "compile_archives.py"), "utf8"));
  console.log(`compiled with Python ${py.runPython("import sys; sys.version.split()[0]")}`);
})().catch((e) => { console.error(e); process.exit(1); });
