#!/usr/bin/env node
// Compiles contracts/*.sol with solcjs from node_modules (OpenZeppelin from node_modules too) and
// writes contracts/artifacts/<Name>.json = { abi, bytecode }. It also copies the Uniswap V2 and WETH9
// build artifacts from their npm packages, so the Rust code reads only committed files.
//
//   node contracts/compile.mjs           rebuild contracts/artifacts
//   node contracts/compile.mjs --check   rebuild into a temporary directory and fail (exit 1) naming
//                                        every artifact that differs from the committed one

import { createRequire } from "node:module";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..");
const nodeModules = join(root, "node_modules");
const require = createRequire(join(root, "package.json"));
const solc = require("solc");

const SOLC_VERSION = "0.8.37";
// Contracts of ours that get an artifact (interfaces and libraries do not), by source file.
const OURS = {
  DataToken: "contracts/DataToken.sol",
  TestDai: "contracts/TestDai.sol",
  DataUnion: "contracts/DataUnion.sol",
  DataUnionFactory: "contracts/DataUnionFactory.sol",
  Marketplace: "contracts/Marketplace.sol",
  UniswapAdapter: "contracts/UniswapAdapter.sol",
  // The previous version, whose unions move to the current one (migration tests).
  DataUnionV1: "contracts/v1/DataUnionV1.sol",
  DataUnionFactoryV1: "contracts/v1/DataUnionFactoryV1.sol",
  // Test only: reaches a revert path no ordinary account can.
  EtherRefusingBuyer: "contracts/test/EtherRefusingBuyer.sol",
  // Test only: a smart-contract account that signs (EIP-1271) with its owner's key.
  OwnedWallet: "contracts/test/OwnedWallet.sol",
  // Test only: an ERC-20 whose transfers call back into a target (reentrancy attempts).
  HostileToken: "contracts/test/HostileToken.sol",
};
// Third-party artifacts copied verbatim: [name, npm build file, keep bytecode?]
const THIRD_PARTY = [
  ["UniswapV2Factory", "@uniswap/v2-core/build/UniswapV2Factory.json", true],
  ["UniswapV2Pair", "@uniswap/v2-core/build/UniswapV2Pair.json", false],
  ["UniswapV2Router02", "@uniswap/v2-periphery/build/UniswapV2Router02.json", true],
  ["WETH9", "@uniswap/v2-periphery/build/WETH9.json", true],
];

function fail(message) {
  console.error(`compile: ${message}`);
  process.exit(1);
}

function compile() {
  if (!solc.version().startsWith(`${SOLC_VERSION}+`)) {
    fail(`solc ${SOLC_VERSION} expected, node_modules has ${solc.version()} (run npm ci)`);
  }
  const sources = {};
  for (const dir of [".", "test", "v1"]) {
    for (const file of readdirSync(join(here, dir)).filter((f) => f.endsWith(".sol")).sort()) {
      sources[`contracts/${dir === "." ? "" : `${dir}/`}${file}`] = { content: readFileSync(join(here, dir, file), "utf8") };
    }
  }
  const input = {
    language: "Solidity",
    sources,
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: "cancun",
      outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
    },
  };
  const findImports = (path) => {
    const file = resolve(nodeModules, path);
    if (!file.startsWith(nodeModules + sep) || !existsSync(file)) return { error: `not found: ${path}` };
    return { contents: readFileSync(file, "utf8") };
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  // Our own sources compile without warnings; OpenZeppelin's are not ours to fix.
  const problems = (output.errors ?? []).filter(
    (e) => e.severity === "error" || e.sourceLocation?.file?.startsWith("contracts/"),
  );
  for (const e of problems) console.error(e.formattedMessage);
  if (problems.length > 0) fail(`${problems.length} error(s) or warning(s)`);

  const artifacts = {};
  for (const [name, source] of Object.entries(OURS)) {
    const contract = output.contracts[source]?.[name];
    if (!contract) fail(`no contract ${name} in ${source}`);
    artifacts[name] = { abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}` };
  }
  for (const [name, file, withBytecode] of THIRD_PARTY) {
    const build = JSON.parse(readFileSync(join(nodeModules, file), "utf8"));
    const artifact = { abi: build.abi };
    if (withBytecode) artifact.bytecode = build.bytecode.startsWith("0x") ? build.bytecode : `0x${build.bytecode}`;
    artifacts[name] = artifact;
  }
  return artifacts;
}

function write(artifacts, dir) {
  mkdirSync(dir, { recursive: true });
  for (const [name, artifact] of Object.entries(artifacts)) {
    writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(artifact, null, 2)}\n`);
  }
}

const artifactsDir = join(here, "artifacts");
const artifacts = compile();

if (process.argv.includes("--check")) {
  const tmp = mkdtempSync(join(tmpdir(), "coop-artifacts-"));
  try {
    write(artifacts, tmp);
    const fresh = readdirSync(tmp).sort();
    const committed = existsSync(artifactsDir) ? readdirSync(artifactsDir).filter((f) => f.endsWith(".json")) : [];
    const differing = fresh.filter((f) => {
      const path = join(artifactsDir, f);
      return !existsSync(path) || readFileSync(path, "utf8") !== readFileSync(join(tmp, f), "utf8");
    });
    const stale = committed.filter((f) => !fresh.includes(f));
    for (const f of differing) console.error(`compile: ${relative(root, join(artifactsDir, f))} differs from a fresh build`);
    for (const f of stale) console.error(`compile: ${relative(root, join(artifactsDir, f))} is not produced by the build`);
    if (differing.length + stale.length > 0) {
      console.error("compile: run `node contracts/compile.mjs` and commit contracts/artifacts");
      process.exitCode = 1;
    } else {
      console.log(`compile: ${fresh.length} artifacts match the sources`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
} else {
  write(artifacts, artifactsDir);
  console.log(`compile: wrote ${Object.keys(artifacts).length} artifacts to ${relative(root, artifactsDir)}`);
}
