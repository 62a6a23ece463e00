#!/usr/bin/env node
// Assemble webnet/kernels/matmul.wat into a side module Pyodide can load (webnet_matmul.so):
//
//   node site/builder/assemble_kernel.js --wabt WABT.tgz --wat matmul.wat --out webnet_matmul.so
//
// Called by site/builder/kernel.py (assemble_kernel), which fetches and verifies the wabt tarball
// (npm's wabt@1.0.39) first. wabt's index.js (wabt compiled to JavaScript + WebAssembly, one
// self-contained file) is read straight from the tarball: no node_modules. The output is
// deterministic: the same .wat and wabt give the same bytes.
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const vm = require("vm");
const zlib = require("zlib");

function parseArgs(argv) {
  const args = { out: null, wabt: null, wat: null };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "");
    if (!(key in args) || i + 1 >= argv.length) {
      throw new Error(`usage: assemble_kernel.js --wabt WABT.tgz --wat FILE.wat --out FILE.so; got ${argv[i]}`);
    }
    args[key] = path.resolve(argv[i + 1]);
  }
  for (const [key, value] of Object.entries(args)) if (!value) throw new Error(`--${key} is required`);
  return args;
}

// One member of a .tgz (ustar: 512-byte headers, name at 0..99, prefix at 345..499, octal size at 124).
function tarMember(tgz, wanted) {
  const tar = zlib.gunzipSync(tgz);
  const text = (at, len) => tar.toString("latin1", at, at + len).replace(/\0.*$/s, "");
  for (let at = 0; at + 512 <= tar.length && tar[at] !== 0;) {
    const prefix = text(at + 345, 155), name = (prefix ? prefix + "/" : "") + text(at, 100);
    const size = parseInt(text(at + 124, 12).trim(), 8);
    if (name === wanted) return tar.subarray(at + 512, at + 512 + size);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error(`${wanted} is not in the wabt tarball`);
}

// wabt's index.js is a CommonJS module: run it as Node would, from memory.
function loadWabt(tgz) {
  const filename = "wabt/index.js";
  const module = { exports: {} };
  const source = tarMember(tgz, "package/index.js").toString("utf8");
  vm.compileFunction(source, ["exports", "require", "module", "__filename", "__dirname"], { filename })(
    module.exports, require, module, filename, path.dirname(filename));
  return module.exports;
}

// The `dylink.0` custom section Pyodide's dynamic linker (Emscripten's loadWebAssemblyModule)
// looks for as the module's very first section. One WASM_DYLINK_MEM_INFO subsection with every
// size 0: the kernel needs no memory of its own (no data, no stack) and no table slots.
function dylinkSection() {
  const name = Buffer.from("dylink.0");
  const memInfo = Buffer.from([1, 4, 0, 0, 0, 0]);  // type 1, 4 bytes: memory size, align, table size, align
  const body = Buffer.concat([Buffer.from([name.length]), name, memInfo]);
  return Buffer.concat([Buffer.from([0, body.length]), body]);  // id 0 = custom; size < 128: one LEB byte
}

async function assemble(args) {
  const wabt = await loadWabt(fs.readFileSync(args.wabt))();
  const source = fs.readFileSync(args.wat, "utf8");
  const module = wabt.parseWat(path.basename(args.wat), source, { simd: true });
  let binary;
  try {
    module.resolveNames();
    module.validate();
    binary = Buffer.from(module.toBinary({ log: false, write_debug_names: false, canonicalize_lebs: true }).buffer);
  } finally {
    module.destroy();
  }
  // header (magic "\0asm", version 1) first, then the dylink.0 section, then wabt's sections
  const so = Buffer.concat([binary.subarray(0, 8), dylinkSection(), binary.subarray(8)]);
  if (!WebAssembly.validate(so)) throw new Error("the assembled module does not validate");
  fs.mkdirSync(path.dirname(args.out), { recursive: true });
  fs.writeFileSync(args.out, so);
  const sha256 = crypto.createHash("sha256").update(so).digest("hex");
  console.log(`${args.out}: ${so.length} bytes, sha256 ${sha256} (from ${path.basename(args.wat)})`);
  return args.out;
}

if (require.main === module) {
  assemble(parseArgs(process.argv.slice(2))).catch((err) => {
    console.error(`assemble_kernel.js: ${err.message}`);
    process.exit(1);
  });
}

module.exports = { assemble };
