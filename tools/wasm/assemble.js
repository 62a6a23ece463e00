#!/usr/bin/env node
// Assemble webnet/kernels/matmul.wat into a side module Pyodide can load: <out>/webnet_matmul.so
//
//   node tools/wasm/assemble.js [--out DIR] [--wabt FILE.tgz] [--wat FILE.wat]
//
// defaults: --out dist/wasm, --wabt cache/downloads/wabt-1.0.39.tgz, --wat webnet/kernels/matmul.wat
// (paths relative to the repository root). The wabt tarball is fetched with `npm pack` when it is
// missing and is always checked against npm's sha512 below; its index.js (wabt compiled to
// JavaScript + WebAssembly, one self-contained file) is read straight from the tarball: no
// node_modules. Output is deterministic: the same .wat and wabt give the same bytes.
"use strict";
const childProcess = require("child_process");
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const vm = require("vm");
const zlib = require("zlib");

const ROOT = path.resolve(__dirname, "..", "..");
const WABT_VERSION = "1.0.39";
// npm's dist.integrity of wabt@1.0.39 (`npm view wabt@1.0.39 dist.integrity`)
const WABT_SHA512 = "ba+dRL/75VQQY7RkU/CgriGbkoWAfS8TDyUlJfJhJ8KhtXgMl5dhNvoPNUcQ9IWRhW8u41glMSuZeTvsYq2rRg==";
const OUTPUT_NAME = "webnet_matmul.so";

function parseArgs(argv) {
  const args = {
    out: path.join(ROOT, "dist", "wasm"),
    wabt: path.join(ROOT, "cache", "downloads", `wabt-${WABT_VERSION}.tgz`),
    wat: path.join(ROOT, "webnet", "kernels", "matmul.wat"),
  };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "");
    if (!(key in args) || i + 1 >= argv.length) throw new Error(`usage: assemble.js [--out DIR] [--wabt FILE.tgz] [--wat FILE]; got ${argv[i]}`);
    args[key] = path.resolve(argv[i + 1]);
  }
  return args;
}

// The wabt tarball, fetched once with npm's own client and verified every time.
function wabtTarball(file) {
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    childProcess.execFileSync("npm", ["pack", `wabt@${WABT_VERSION}`, "--pack-destination", path.dirname(file)],
                              { stdio: ["ignore", "ignore", "inherit"] });
  }
  const bytes = fs.readFileSync(file);
  const got = crypto.createHash("sha512").update(bytes).digest("base64");
  if (got !== WABT_SHA512) {
    throw new Error(`${file}: sha512 ${got}, expected ${WABT_SHA512} (wabt@${WABT_VERSION}). Delete it and run again.`);
  }
  return bytes;
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
  const wabt = await loadWabt(wabtTarball(args.wabt))();
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
  fs.mkdirSync(args.out, { recursive: true });
  const out = path.join(args.out, OUTPUT_NAME);
  fs.writeFileSync(out, so);
  const sha256 = crypto.createHash("sha256").update(so).digest("hex");
  console.log(`${out}: ${so.length} bytes, sha256 ${sha256} (wabt ${WABT_VERSION}, from ${path.relative(ROOT, args.wat)})`);
  return out;
}

if (require.main === module) {
  assemble(parseArgs(process.argv.slice(2))).catch((err) => {
    console.error(`assemble.js: ${err.message}`);
    process.exit(1);
  });
}

module.exports = { assemble, OUTPUT_NAME };
