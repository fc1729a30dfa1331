#!/usr/bin/env node
// Writes a gzip (.gz) and a brotli (.br) copy beside every text or wasm file of a built site, so the
// server sends them precompressed to browsers that take them (leptos_axum's static files do).
//
//   node scripts/compress-site.mjs target/site

import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const COMPRESSIBLE = /\.(js|mjs|wasm|css|svg|html|json|txt|map)$/;
const root = process.argv[2];
if (!root) {
  console.error("usage: node scripts/compress-site.mjs SITE_FOLDER");
  process.exit(2);
}

function* files(folder) {
  for (const name of readdirSync(folder)) {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (COMPRESSIBLE.test(name)) yield path;
  }
}

let original = 0;
let brotli = 0;
for (const path of files(root)) {
  const bytes = readFileSync(path);
  const br = brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } });
  writeFileSync(`${path}.gz`, gzipSync(bytes, { level: 9 }));
  writeFileSync(`${path}.br`, br);
  original += bytes.length;
  brotli += br.length;
  console.log(`${path}: ${bytes.length} bytes, ${br.length} brotli`);
}
console.log(`compressed ${original} bytes to ${brotli} (brotli)`);
