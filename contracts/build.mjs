#!/usr/bin/env node
// Offline, pinned, deterministic compile of the symmio-harness mock contracts.
//
//   node contracts/build.mjs          compile and (re)write contracts_abi/<ContractName>.json
//   node contracts/build.mjs --check  compile in memory; exit 1 listing every artifact that
//                                     differs, is missing or is extra; exit 0 when identical
//
// Exit codes: 0 ok, 1 compile error / check mismatch / size limit, 2 toolchain missing or wrong.
// Prefer `contracts/build.sh [--check]`, which runs `npm ci` first when node_modules is missing.

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url)); // <repo>/contracts
const ROOT = path.dirname(HERE); // <repo>
const OUT_DIR = path.join(ROOT, 'contracts_abi');
const NODE_MODULES = path.join(HERE, 'node_modules');

const PINNED = { solc: '0.8.30', '@openzeppelin/contracts': '4.9.6' };

// Deployable contracts, in the order they are reported. Python loads artifacts by these names.
const DEPLOYABLE = [
  'MockERC20',
  'SymmioCore',
  'AccountLayer',
  'InstantLayer',
  'MockPartyB',
  // v0.8.6 (contracts/v086/): each inherits its v0.8.5 mock and overrides what v0.8.6 changes
  'SymmioCoreV086',
  'AccountLayerV086',
  'InstantLayerV086',
  'GaslessLayer',
];

const EIP170_LIMIT = 24576; // bytes of runtime code

// The exact settings object passed to solc; recorded verbatim in every artifact.
const SETTINGS = {
  evmVersion: 'prague',
  viaIR: true,
  optimizer: { enabled: true, runs: 200 },
  metadata: { bytecodeHash: 'none' },
  outputSelection: {
    '*': { '*': ['abi', 'metadata', 'evm.bytecode.object', 'evm.deployedBytecode.object'] },
  },
};

function die(code, msg) {
  process.stderr.write(`build.mjs: ${msg}\n`);
  process.exit(code);
}

function loadToolchain() {
  const hint = 'run `contracts/build.sh` (it runs `npm ci --prefix contracts` first) or `npm ci --prefix contracts`';
  if (!existsSync(path.join(NODE_MODULES, 'solc', 'package.json'))) {
    die(2, `contracts/node_modules/solc is missing: ${hint}`);
  }
  const ozPkg = path.join(NODE_MODULES, '@openzeppelin', 'contracts', 'package.json');
  if (!existsSync(ozPkg)) die(2, `contracts/node_modules/@openzeppelin/contracts is missing: ${hint}`);
  for (const [name, want] of Object.entries(PINNED)) {
    const have = JSON.parse(readFileSync(path.join(NODE_MODULES, ...name.split('/'), 'package.json'), 'utf8')).version;
    if (have !== want) die(2, `${name} ${have} is installed but ${want} is pinned: ${hint}`);
  }
  const require = createRequire(path.join(HERE, 'package.json'));
  return require('solc');
}

// Every .sol file under contracts/ (not node_modules), as "contracts/<relative posix path>".
function collectSources() {
  const files = [];
  const walk = (dir) => {
    for (const ent of readdirSync(dir, { withFileTypes: true })) {
      if (ent.name === 'node_modules' || ent.name.startsWith('.')) continue;
      const full = path.join(dir, ent.name);
      if (ent.isDirectory()) walk(full);
      else if (ent.isFile() && ent.name.endsWith('.sol')) files.push(full);
    }
  };
  walk(HERE);
  const sources = {};
  for (const full of files.map((f) => path.relative(ROOT, f).split(path.sep).join('/')).sort()) {
    sources[full] = { content: readFileSync(path.join(ROOT, full), 'utf8') };
  }
  return sources;
}

const loaded = {}; // unit name -> content, for every unit solc resolved (ours + OpenZeppelin)

function findImports(unit) {
  let file;
  if (unit.startsWith('@openzeppelin/contracts/')) file = path.join(NODE_MODULES, ...unit.split('/'));
  else if (unit.startsWith('contracts/')) file = path.join(ROOT, ...unit.split('/'));
  else return { error: `unsupported import "${unit}" (only @openzeppelin/contracts/ and contracts/)` };
  if (!existsSync(file)) return { error: `file not found: ${unit}` };
  const content = readFileSync(file, 'utf8');
  loaded[unit] = content;
  return { contents: content };
}

const sha256 = (s) => createHash('sha256').update(s, 'utf8').digest('hex');

// sha256 over "<unit name>\n<sha256(content)>\n" for every source unit the contract's metadata
// lists, sorted by unit name. Changes when any source the contract is built from changes.
function sourceHash(metadataJson, allSources) {
  const units = Object.keys(JSON.parse(metadataJson).sources).sort();
  let acc = '';
  for (const u of units) {
    const content = allSources[u] ?? loaded[u];
    if (content === undefined) die(1, `internal: no content for source unit ${u}`);
    acc += `${u}\n${sha256(content)}\n`;
  }
  return `0x${sha256(acc)}`;
}

function compile(solc) {
  const sources = collectSources();
  const input = { language: 'Solidity', sources, settings: SETTINGS };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const errors = (output.errors || []).filter((e) => e.severity === 'error');
  const warnings = (output.errors || []).filter((e) => e.severity !== 'error' && e.sourceLocation?.file?.startsWith('contracts/'));
  for (const w of warnings) process.stderr.write(`${w.formattedMessage}\n`);
  if (errors.length) {
    for (const e of errors) process.stderr.write(`${e.formattedMessage}\n`);
    die(1, `${errors.length} compile error(s)`);
  }
  const plainSources = Object.fromEntries(Object.entries(sources).map(([k, v]) => [k, v.content]));
  const artifacts = new Map();
  const sizes = [];
  for (const name of DEPLOYABLE) {
    const hits = Object.entries(output.contracts || {}).filter(
      ([unit, cs]) => unit.startsWith('contracts/') && cs[name] !== undefined,
    );
    if (hits.length !== 1) die(1, `expected exactly one contract named ${name} under contracts/, found ${hits.length}`);
    const [unit, cs] = hits[0];
    const c = cs[name];
    if (!c.evm.bytecode.object) die(1, `${name} has no creation bytecode (abstract or interface?)`);
    const artifact = {
      contractName: name,
      sourcePath: unit,
      abi: c.abi,
      bytecode: `0x${c.evm.bytecode.object}`,
      deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
      compiler: { name: 'solc-js', version: solc.version(), settings: SETTINGS },
      sourceHash: sourceHash(c.metadata, plainSources),
    };
    artifacts.set(`${name}.json`, `${JSON.stringify(artifact, null, 2)}\n`);
    sizes.push([name, c.evm.deployedBytecode.object.length / 2, c.evm.bytecode.object.length / 2]);
  }
  return { artifacts, sizes };
}

function main() {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--check');
  if (unknown.length) die(2, `unknown argument(s): ${unknown.join(' ')} (usage: build.mjs [--check])`);
  const check = args.includes('--check');

  const solc = loadToolchain();
  const t0 = Date.now();
  const { artifacts, sizes } = compile(solc);
  const secs = ((Date.now() - t0) / 1000).toFixed(1);

  let failed = false;
  process.stdout.write(`solc-js ${solc.version()}, evmVersion prague, viaIR, ${secs}s\n`);
  for (const [name, runtime, creation] of sizes) {
    const over = runtime > EIP170_LIMIT;
    failed ||= over;
    const pct = ((100 * runtime) / EIP170_LIMIT).toFixed(1);
    process.stdout.write(
      `  ${name.padEnd(14)} runtime ${String(runtime).padStart(6)} B (${pct}% of EIP-170)  creation ${String(creation).padStart(6)} B${over ? '  OVER THE EIP-170 LIMIT' : ''}\n`,
    );
  }
  if (failed) die(1, `a contract exceeds the EIP-170 limit of ${EIP170_LIMIT} bytes`);

  const onDisk = existsSync(OUT_DIR) ? readdirSync(OUT_DIR).filter((f) => f.endsWith('.json')).sort() : [];
  if (check) {
    const problems = [];
    for (const [file, content] of artifacts) {
      const p = path.join(OUT_DIR, file);
      if (!existsSync(p)) problems.push(`missing: contracts_abi/${file}`);
      else if (readFileSync(p, 'utf8') !== content) problems.push(`differs: contracts_abi/${file}`);
    }
    for (const f of onDisk) if (!artifacts.has(f)) problems.push(`extra:   contracts_abi/${f}`);
    if (problems.length) {
      process.stdout.write(`check FAILED: ${problems.length} artifact(s) out of date; run contracts/build.sh\n`);
      for (const p of problems) process.stdout.write(`  ${p}\n`);
      process.exit(1);
    }
    process.stdout.write(`check OK: ${artifacts.size} artifacts in contracts_abi/ are up to date\n`);
    return;
  }
  for (const [file, content] of artifacts) writeFileSync(path.join(OUT_DIR, file), content);
  const extra = onDisk.filter((f) => !artifacts.has(f));
  if (extra.length) process.stdout.write(`note: extra JSON files in contracts_abi/ not produced by this build: ${extra.join(', ')}\n`);
  process.stdout.write(`wrote ${artifacts.size} artifacts to contracts_abi/\n`);
}

main();
